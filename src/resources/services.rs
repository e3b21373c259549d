//! An existing launchd job kept enabled or disabled (e.g. `photoanalysisd` off). The value is
//! the job's [`JobState`]: the override in launchd's disabled database (read with `launchctl
//! print-disabled`), which persists across boots and decides whether the job loads, or none
//! (then the plist's `Disabled` key decides). Destroy restores what launchd does with the job;
//! an override that was not there before stays, because nothing but an edit of launchd's
//! private database removes one (README, "What destroy leaves behind"). Apply
//! also makes the running state match (`bootout` / `bootstrap`, judged by `launchctl print`'s
//! exit status, never its prose: reference/macos-commands.md 2.4) where macOS allows it: SIP
//! refuses to stop Apple's own agents (bootout exits 150), which then stop at the next login.

use super::{Resource, ResourceId};
use crate::host::{Host, Invocation, Output};
use crate::target::Target;
use crate::value::Value;
use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Domain {
    /// `gui/<uid>`: the logged-in user's GUI session (LaunchAgents).
    Gui,
    /// `user/<uid>`: the user's background domain, present over SSH too.
    User,
    /// `system`: LaunchDaemons; changing it needs root.
    System,
}

impl Domain {
    pub fn name(self) -> &'static str {
        match self {
            Domain::Gui => "gui",
            Domain::User => "user",
            Domain::System => "system",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub label: String,
    pub domain: Domain,
    pub enabled: bool,
}

// The launchctl reads, named once: a plan sends them ahead in one batch, and an answer from
// the batch counts only for the very same command.

/// `launchctl print DOMAIN`: whether the domain exists (no GUI domain without a GUI login),
/// and the jobs it has loaded.
pub fn print_domain(domain_target: &str) -> Invocation {
    Invocation::read(["launchctl", "print", domain_target])
}

/// `launchctl print DOMAIN/LABEL`: exit 0 when the job is loaded, 113 when not.
pub fn print_job(domain_target: &str, label: &str) -> Invocation {
    Invocation::read(["launchctl", "print", &format!("{domain_target}/{label}")])
}

/// `launchctl print-disabled DOMAIN`: the domain's overrides.
pub fn print_disabled(domain_target: &str) -> Invocation {
    Invocation::read(["launchctl", "print-disabled", domain_target])
}

/// The domain target a job of `domain` lives in on this host. Over SSH there is no GUI
/// session and `gui/<uid>` does not exist; Homebrew then uses `user/<uid>` and says so
/// (`services/service/system.rb` `domain_target`), and so does macllm.
pub fn domain_target(target: &Target, domain: Domain) -> Result<String> {
    let uid = target.facts()?.uid;
    Ok(match domain {
        Domain::System => "system".to_string(),
        Domain::User => format!("user/{uid}"),
        Domain::Gui => {
            let gui = format!("gui/{uid}");
            let probe = target.host().run(&print_domain(&gui))?;
            if probe.success() {
                gui
            } else {
                target.notice(format!(
                    "{gui} does not exist on this host (no GUI login, e.g. over SSH): using user/{uid} instead of gui/{uid}"
                ));
                format!("user/{uid}")
            }
        }
    })
}

/// Overrides in a domain: `true` = disabled. Both vocabularies are accepted whatever the
/// macOS version: `=> true/false` up to macOS 12, `=> disabled/enabled` from 13
/// (fixtures launchctl-print-disabled-user-legacy.txt, launchctl-print-disabled-modern-lines.txt;
/// MacTools PR #116 shipped a bug by matching only one).
pub fn parse_print_disabled(text: &str) -> BTreeMap<String, bool> {
    let mut overrides = BTreeMap::new();
    let mut in_services = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("disabled services = {") {
            in_services = true;
            continue;
        }
        if trimmed == "}" {
            in_services = false;
            continue;
        }
        if !in_services {
            continue;
        }
        let Some((label, state)) = trimmed.split_once(" => ") else {
            continue;
        };
        let label = label.trim_matches('"').to_string();
        match state.trim() {
            "true" | "disabled" => overrides.insert(label, true),
            "false" | "enabled" => overrides.insert(label, false),
            _ => None,
        };
    }
    overrides
}

/// Runs a launchctl action; exit statuses in `tolerated` count as success.
pub fn launchctl(host: &dyn Host, argv: &[&str], tolerated: &[i32]) -> Result<Output> {
    let invocation = Invocation::write(std::iter::once("launchctl").chain(argv.iter().copied()));
    let output = host.run(&invocation)?;
    if output.success() || tolerated.contains(&output.status) {
        return Ok(output);
    }
    Err(anyhow::anyhow!(
        "`{}` exited with status {}: {}",
        invocation.display(),
        output.status,
        output.stderr.trim()
    ))
}

/// Whether `launchctl print DOMAIN/LABEL` finds the job (exit 0; 113 when it does not).
pub fn is_loaded(host: &dyn Host, domain_target: &str, label: &str) -> Result<bool> {
    Ok(host.run(&print_job(domain_target, label))?.success())
}

/// Where macOS keeps the plists of jobs in `domain`, in the order launchd searches them.
fn plist_dirs(target: &Target, domain: Domain) -> Result<Vec<String>> {
    Ok(match domain {
        Domain::System => vec![
            "/System/Library/LaunchDaemons".to_string(),
            "/Library/LaunchDaemons".to_string(),
        ],
        Domain::Gui | Domain::User => vec![
            "/System/Library/LaunchAgents".to_string(),
            "/Library/LaunchAgents".to_string(),
            format!("{}/Library/LaunchAgents", target.facts()?.home),
        ],
    })
}

/// The labels of the jobs loaded in a domain, from `launchctl print DOMAIN`'s `services = {`
/// block: one job a line, PID, last exit status, label (reference macos-commands.md 2.1).
pub fn loaded_labels(text: &str) -> Vec<String> {
    let mut labels = Vec::new();
    let mut in_services = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed == "services = {" {
            in_services = true;
        } else if in_services && trimmed == "}" {
            in_services = false;
        } else if in_services && let Some(label) = trimmed.split_whitespace().nth(2) {
            labels.push(label.to_string());
        }
    }
    labels
}

impl Service {
    fn plist_paths(&self, target: &Target) -> Result<Vec<String>> {
        Ok(plist_dirs(target, self.domain)?
            .into_iter()
            .map(|dir| format!("{dir}/{}.plist", self.label))
            .collect())
    }

    fn find_plist(&self, target: &Target) -> Result<Option<String>> {
        for path in self.plist_paths(target)? {
            if target
                .host()
                .run(&Invocation::read(["test", "-f", &path]))?
                .success()
            {
                return Ok(Some(path));
            }
        }
        Ok(None)
    }

    /// The domain target as [`domain_target`] names it when the GUI session exists, without
    /// running anything: the reads sent ahead assume it (over SSH they then miss and run).
    fn likely_domain(&self, target: &Target) -> Result<String> {
        let uid = target.facts()?.uid;
        Ok(match self.domain {
            Domain::System => "system".to_string(),
            Domain::User => format!("user/{uid}"),
            Domain::Gui => format!("gui/{uid}"),
        })
    }
}

/// A job as launchd sees it: the override in the domain's database, if any (`Some(true)` =
/// disabled), and whether launchd lets it load (the override, else the plist's own
/// `Disabled` key: launchd.plist(5)). No `launchctl` subcommand removes an override once
/// written: `enable` records an explicit `=> enabled` (reference 2.2; MacTools PR #116's
/// macOS 26.5.1 capture lists `"com.docker.helper" => enabled`; MaccaTech/PostgresPrefs#7
/// shows `disabled.501.plist` keeping `<false/>` entries after a checkbox was turned back
/// on), so the value keeps both, and the state's original says which there was.
/// An enabled job is also loaded or not (a user may have booted it out, an Aqua-only agent
/// cannot load without a GUI login): recorded so that destroy leaves it as it found it. A
/// disabled job is never loaded again, so that is all it says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobState {
    pub overridden: Option<bool>,
    pub enabled: bool,
    /// Meaningful only when enabled.
    pub loaded: bool,
}

/// How an enabled job that is not loaded is marked.
const NOT_LOADED: &str = "; not loaded";

impl JobState {
    pub fn to_value(self) -> Value {
        let base = match (self.overridden.is_some(), self.enabled) {
            (true, true) => "enabled",
            (true, false) => "disabled",
            (false, true) => "enabled (no override)",
            (false, false) => "disabled (no override)",
        };
        let suffix = if self.enabled && !self.loaded {
            NOT_LOADED
        } else {
            ""
        };
        Value::String(format!("{base}{suffix}"))
    }

    /// The inverse of [`JobState::to_value`]. A bare boolean is the value states written
    /// before overrides were recorded: the effective state, with no override known (so a
    /// restore writes one only if the effective state differs).
    pub fn from_value(value: &Value) -> Result<JobState> {
        let (text, loaded) = match value {
            Value::Bool(enabled) => {
                return Ok(JobState {
                    overridden: None,
                    enabled: *enabled,
                    loaded: true,
                });
            }
            Value::String(text) => match text.strip_suffix(NOT_LOADED) {
                Some(base) => (base, false),
                None => (text.as_str(), true),
            },
            _ => bail!("internal error: a launchd service state is a string"),
        };
        let (overridden, enabled) = match text {
            "enabled" => (Some(false), true),
            "disabled" => (Some(true), false),
            "enabled (no override)" => (None, true),
            "disabled (no override)" => (None, false),
            _ => bail!("internal error: {text:?} is not a launchd service state"),
        };
        Ok(JobState {
            overridden,
            enabled,
            loaded: loaded || !enabled,
        })
    }
}

/// The override of `label` in a domain's database (`launchctl print-disabled`): `Some(true)`
/// disabled, `Some(false)` explicitly enabled, `None` none.
pub fn override_of(host: &dyn Host, domain_target: &str, label: &str) -> Result<Option<bool>> {
    let listing = host.run(&print_disabled(domain_target))?;
    if !listing.success() {
        bail!(
            "`launchctl print-disabled {domain_target}` exited with status {}: {}",
            listing.status,
            listing.stderr.trim()
        );
    }
    Ok(parse_print_disabled(&listing.stdout).get(label).copied())
}

/// The plist's own `Disabled` key (launchd.plist(5)), false when absent. `plutil -extract
/// KEY raw` prints `true`/`false` and exits 1 for a missing key (reference: the emulated
/// plutil's header, after Apple's swift-foundation `plutil`); `raw` exists from macOS 12
/// (Installomator PR #913), the oldest release macllm's presets emulate.
fn plist_disables(target: &Target, path: &str) -> Result<bool> {
    let output = target.host().run(&plist_disabled_read(path))?;
    Ok(output.success() && output.stdout.trim() == "true")
}

fn plist_disabled_read(path: &str) -> Invocation {
    Invocation::read(["plutil", "-extract", "Disabled", "raw", "-o", "-", path])
}

impl Service {
    fn state(&self, target: &Target, domain: &str, plist: Option<&str>) -> Result<JobState> {
        let overridden = override_of(target.host(), domain, &self.label)?;
        let disabled = match (overridden, plist) {
            (Some(disabled), _) => disabled,
            (None, Some(path)) => plist_disables(target, path)?,
            (None, None) => false,
        };
        Ok(JobState {
            overridden,
            enabled: !disabled,
            loaded: disabled || is_loaded(target.host(), domain, &self.label)?,
        })
    }
}

impl Resource for Service {
    fn id(&self) -> ResourceId {
        ResourceId(format!("service:{}/{}", self.domain.name(), self.label))
    }

    fn noun(&self) -> &'static str {
        "a launchd service"
    }

    /// The override apply writes when the job is not already in the state asked for.
    fn desired(&self) -> Option<Value> {
        Some(
            JobState {
                overridden: Some(!self.enabled),
                enabled: self.enabled,
                loaded: true,
            }
            .to_value(),
        )
    }

    /// A job already enabled (or disabled) as asked, with or without an override, is left as
    /// it is: writing an override it does not need would leave one behind for good.
    fn desired_on(&self, target: &Target) -> Result<Option<Value>> {
        match self.read(target)? {
            Some(current) if JobState::from_value(&current)?.enabled == self.enabled => {
                Ok(Some(current))
            }
            _ => Ok(self.desired()),
        }
    }

    /// What launchd does with the job is what a write must make true; whether an override
    /// says so cannot always be chosen (see [`JobState`]).
    fn before_restart(&self, value: Option<Value>) -> Option<Value> {
        value.map(|value| match JobState::from_value(&value) {
            Ok(state) => Value::Bool(state.enabled),
            Err(_) => value,
        })
    }

    fn read(&self, target: &Target) -> Result<Option<Value>> {
        let host = target.host();
        let domain = domain_target(target, self.domain)?;
        let plist = self.find_plist(target)?;
        let protected = plist.as_deref().is_some_and(|p| p.starts_with("/System/"));
        if self.domain == Domain::System && !self.enabled && protected {
            // SIP refuses to stop Apple's system daemons and silently ignores disabling some
            // (reference 2.3: lionheart/openradar-mirror#17418; fixtures
            // launchctl-unload-sip.txt, launchctl-unload-eio-sonoma.txt). Say so before
            // anything changes rather than fail half way through an apply.
            bail!(
                "{} is protected by System Integrity Protection ({}): macOS will not let it be stopped or disabled\nhint: remove it from the spec; only jobs outside /System/Library can be managed",
                self.label,
                plist.unwrap_or_default()
            );
        }
        let state = self.state(target, &domain, plist.as_deref())?;
        if !self.enabled && protected && is_loaded(host, &domain, &self.label)? {
            target.notice(format!(
                "{}: {} is protected by SIP and keeps running until the next login; the override stops it from loading after that",
                self.id(),
                self.label
            ));
        }
        Ok(Some(state.to_value()))
    }

    fn write(&self, target: &Target, value: Option<&Value>) -> Result<()> {
        let host = target.host();
        let Some(value) = value else {
            bail!("internal error: a service is enabled or disabled");
        };
        let wanted = JobState::from_value(value)?;
        let enabled = wanted.enabled;
        let domain = domain_target(target, self.domain)?;
        let service = format!("{domain}/{}", self.label);
        let plist = self.find_plist(target)?;
        let current = self.state(target, &domain, plist.as_deref())?;
        // The override first: disabling keeps the job from loading again, enabling allows the
        // bootstrap below (Homebrew enables before it bootstraps, services/cli.rb). None is
        // written when launchd already does what is wanted and no override is asked for.
        let verb = if enabled { "enable" } else { "disable" };
        let needs_override = match wanted.overridden {
            Some(disabled) => current.overridden != Some(disabled),
            None => current.enabled != enabled,
        };
        if needs_override {
            launchctl(host, &[verb, &service], &[])?;
        }
        if wanted.overridden.is_none() && (needs_override || current.overridden.is_some()) {
            target.warn(format!(
                "{}: launchd keeps an explicit `{}` override for {} that it did not have before: no launchctl subcommand removes one, and macllm does not edit launchd's database; {} behaves as before",
                self.id(),
                if enabled { "enabled" } else { "disabled" },
                self.label,
                self.label
            ));
        }
        let loaded = is_loaded(host, &domain, &self.label)?;
        if loaded && !enabled {
            // 3: it went away meanwhile (fixture launchctl-bootout-not-loaded.txt);
            // 150: SIP keeps Apple's agents running (reference 2.3), the override still holds.
            let output = launchctl(host, &["bootout", &service], &[3, 150])?;
            if output.status == 150 {
                target.warn(format!(
                    "{}: SIP refused to stop {} now; it is disabled from the next login on",
                    self.id(),
                    self.label
                ));
            } else {
                wait_until_unloaded(host, &domain, &self.label)?;
            }
        } else if loaded && !wanted.loaded {
            // Back to enabled but not loaded, as it was before macllm.
            launchctl(host, &["bootout", &service], &[3])?;
            wait_until_unloaded(host, &domain, &self.label)?;
        } else if !loaded && enabled && wanted.loaded {
            let Some(path) = plist else {
                // Nothing to load: the override alone is what "enabled" means for a job
                // without a plist on this Mac.
                return Ok(());
            };
            // 125: an Aqua-only agent cannot load without a GUI login (fixture
            // launchctl-bootstrap-125-no-gui-domain.txt); enabled, it loads at the next one.
            let output = launchctl(host, &["bootstrap", &domain, &path], &[125])?;
            if output.status == 125 {
                target.warn(format!(
                    "{}: {} cannot load in {domain} without a GUI login; it is enabled and loads at the next one",
                    self.id(),
                    self.label
                ));
            }
        }
        Ok(())
    }

    fn needs_root(&self) -> bool {
        self.domain == Domain::System
    }

    /// Everything [`Resource::read`] and [`Resource::unknown_on`] run, with the plist's own
    /// `Disabled` key at every place the plist may be (read is the first that exists, and
    /// only when there is no override: a few more processes in one batch cost less than one
    /// more round trip).
    fn reads(&self, target: &Target) -> Result<Vec<Invocation>> {
        let domain = self.likely_domain(target)?;
        let mut reads = vec![print_domain(&domain)];
        for path in self.plist_paths(target)? {
            reads.push(Invocation::read(["test", "-f", &path]));
            reads.push(plist_disabled_read(&path));
        }
        reads.push(print_disabled(&domain));
        reads.push(print_job(&domain, &self.label));
        Ok(reads)
    }

    /// `launchctl enable`/`disable` take any label, silently (reference macos-commands.md
    /// 2.3: no output, exit 0), so a misspelt one is "applied" and changes nothing. A label
    /// is known when a plist of that name is where launchd looks for the domain's jobs, or
    /// when the domain has the job loaded (an app's own agent lives inside the app). The
    /// labels the domain has loaded or overridden are the candidates for a did-you-mean.
    fn unknown_on(&self, target: &Target) -> Result<Option<super::Unknown>> {
        let domain = domain_target(target, self.domain)?;
        if self.find_plist(target)?.is_some() || is_loaded(target.host(), &domain, &self.label)? {
            return Ok(None);
        }
        let listing = target.host().run(&print_domain(&domain))?;
        let mut known = loaded_labels(&listing.stdout);
        let disabled = target.host().run(&print_disabled(&domain))?;
        known.extend(parse_print_disabled(&disabled.stdout).into_keys());
        let home = &target.facts()?.home;
        let places: Vec<String> = plist_dirs(target, self.domain)?
            .into_iter()
            .map(|dir| dir.replacen(home.as_str(), "~", 1))
            .collect();
        Ok(Some(super::Unknown {
            field: "label",
            name: self.label.clone(),
            message: format!(
                "no launchd job is labelled `{}` on this Mac (no such plist in {}, none loaded in {domain}): launchctl takes the override, but it changes nothing",
                self.label,
                places.join(", ")
            ),
            known,
        }))
    }
}

/// `bootout` is asynchronous: the job may linger for seconds (reference 2.3: Opendray PR #211,
/// d-inference#1102), and bootstrapping again meanwhile fails. Poll `print` until it is gone.
pub fn wait_until_unloaded(host: &dyn Host, domain_target: &str, label: &str) -> Result<()> {
    for _ in 0..50 {
        if !is_loaded(host, domain_target, label)? {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    bail!("{label} was still loaded in {domain_target} 5 s after `launchctl bootout`")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every state reads back as itself; a bare boolean (a state file from before overrides
    /// were recorded) is an effective state with no override known.
    #[test]
    fn job_states_round_trip_through_values() {
        for overridden in [None, Some(true), Some(false)] {
            for loaded in [true, false] {
                let enabled = overridden != Some(true);
                let state = JobState {
                    overridden,
                    enabled,
                    loaded: loaded || !enabled,
                };
                assert_eq!(JobState::from_value(&state.to_value()).unwrap(), state);
            }
        }
        let plist_disabled = JobState {
            overridden: None,
            enabled: false,
            loaded: true,
        };
        assert_eq!(
            JobState::from_value(&plist_disabled.to_value()).unwrap(),
            plist_disabled
        );
        assert_eq!(
            JobState::from_value(&Value::Bool(true)).unwrap(),
            JobState {
                overridden: None,
                enabled: true,
                loaded: true
            }
        );
        assert_eq!(
            JobState::from_value(&Value::String("enabled; not loaded".into())).unwrap(),
            JobState {
                overridden: Some(false),
                enabled: true,
                loaded: false
            }
        );
        assert!(JobState::from_value(&Value::String("on".into())).is_err());
    }

    #[test]
    fn print_disabled_both_vocabularies() {
        let legacy = "disabled services = {\n\t\"com.docker.helper\" => false\n\t\"com.apple.Siri.agent\" => true\n}\nlogin item associations = {\n\t\"com.docker.helper\" => \"com.docker.docker\"\n}\n";
        let parsed = parse_print_disabled(legacy);
        assert_eq!(parsed.get("com.apple.Siri.agent"), Some(&true));
        assert_eq!(parsed.get("com.docker.helper"), Some(&false));
        assert_eq!(parsed.len(), 2, "login items are not overrides");
        let modern = "disabled services = {\n\t\"com.apple.ManagedClientAgent.enrollagent\" => disabled\n\t\"com.docker.helper\" => enabled\n}\n";
        let parsed = parse_print_disabled(modern);
        assert_eq!(
            parsed.get("com.apple.ManagedClientAgent.enrollagent"),
            Some(&true)
        );
        assert_eq!(parsed.get("com.docker.helper"), Some(&false));
    }
}
