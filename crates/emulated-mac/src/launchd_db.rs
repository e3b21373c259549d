//! launchd's state inside the emulated Mac, kept in files a person can read:
//!
//! - Job definitions are real plists where macOS keeps them: stock Apple jobs under
//!   `System/Library/LaunchDaemons/` and `System/Library/LaunchAgents/`, written when the
//!   machine is created; the user's agents under `Users/<user>/Library/LaunchAgents/`.
//! - The override ("disabled") databases live where macOS keeps them:
//!   `var/db/com.apple.xpc.launchd/disabled.plist` for `system` and `disabled.<uid>.plist`
//!   for the user's `user/<uid>` and `gui/<uid>` domains, which share one database
//!   (OleksandrKrupko/mac-os-debloat README, tested on macOS 26.5: "`system` jobs … go to
//!   `/var/db/com.apple.xpc.launchd/disabled.plist`, `gui/$UID` jobs … to
//!   `disabled.$UID.plist`"; a public debloat script for Big Sur/Monterey derived from pwnsdx's
//!   gist names "disabled.plist and disabled.501.plist"; the legacy `print-disabled user/501`
//!   capture lists gui agents such as `com.apple.Siri.agent`, so user and gui share it).
//!   Keys are labels, values booleans, `true` = disabled (fixture
//!   `launchctl-disabled-plist-defaults-read-partial.txt`). They are XML here, binary on a Mac.
//! - What launchd has loaded, which jobs run under which pid, and each domain's `setenv`
//!   environment: `var/db/launchd.json` (this emulator's own file; launchd keeps that in
//!   memory, which is why it is rebuilt by [`boot`] and `setenv` values do not survive it).
//!
//! A loaded job keeps the definition it was loaded with ([`JobSpec`]), as launchd does:
//! editing the plist afterwards changes nothing until the job is booted out and bootstrapped
//! again, or the Mac reboots.

use super::machine::Machine;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

/// This emulator's record of launchd's memory (loaded jobs, pids, domain environments).
pub const STATE_FILE: &str = "var/db/launchd.json";
/// Where macOS keeps launchd's override databases.
pub const OVERRIDES_DIR: &str = "var/db/com.apple.xpc.launchd";

/// The first pid [`boot`] hands to jobs that are not stock services with a fixed pid.
const FIRST_DYNAMIC_PID: u32 = 1021;

/// The audit session id printed for the GUI login (`domain = gui/501 [100004]`); any value in
/// launchd's 1000xx range looks like a real login (reference 2.4 quotes 100004, 100015,
/// 100041).
pub const GUI_ASID: u32 = 100004;

/// A launchd domain the emulated Mac can have (reference 2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    System,
    Gui(u32),
    User(u32),
}

impl Domain {
    /// `system`, `gui/<uid>` or `user/<uid>`; `None` for anything else.
    pub fn parse(text: &str) -> Option<Domain> {
        if text == "system" {
            return Some(Domain::System);
        }
        let (kind, uid) = text.split_once('/')?;
        let uid = uid.parse::<u32>().ok()?;
        match kind {
            "gui" => Some(Domain::Gui(uid)),
            "user" => Some(Domain::User(uid)),
            _ => None,
        }
    }

    /// The domain target as launchctl spells it, and the key in [`STATE_FILE`].
    pub fn key(&self) -> String {
        match self {
            Domain::System => "system".to_string(),
            Domain::Gui(uid) => format!("gui/{uid}"),
            Domain::User(uid) => format!("user/{uid}"),
        }
    }

    /// How launchctl's messages name the domain: `Could not find domain for user gui: 501`
    /// (fixture `launchctl-no-gui-domain.txt`), `… in domain for system` (reference 2.4),
    /// `uid: 501` for a user domain (ProcursusTeam/launchctl `xpc_helper.c`
    /// `launchctl_print_domain_str`, a re-implementation; UNCONFIRMED on a real Mac).
    pub fn described(&self) -> String {
        match self {
            Domain::System => "system".to_string(),
            Domain::Gui(uid) => format!("user gui: {uid}"),
            Domain::User(uid) => format!("uid: {uid}"),
        }
    }

    /// `system` always; `user/<uid>` for the machine's user (it exists after any login,
    /// SSH included); `gui/<uid>` only while that user has an Aqua login (reference 2.1).
    pub fn exists(&self, machine: &Machine) -> bool {
        match *self {
            Domain::System => true,
            Domain::User(uid) => uid == machine.info.user_uid,
            Domain::Gui(uid) => uid == machine.info.user_uid && machine.info.gui_session,
        }
    }

    /// The override database of this domain, relative to the machine directory.
    pub fn overrides_file(&self) -> String {
        match self {
            Domain::System => format!("{OVERRIDES_DIR}/disabled.plist"),
            Domain::Gui(uid) | Domain::User(uid) => format!("{OVERRIDES_DIR}/disabled.{uid}.plist"),
        }
    }

    /// `type = …` in `launchctl print`.
    pub fn job_type(&self) -> &'static str {
        match self {
            Domain::System => "LaunchDaemon",
            Domain::Gui(_) | Domain::User(_) => "LaunchAgent",
        }
    }

    /// The session type a job gets here when its plist has no `LimitLoadToSessionType`
    /// (launchd.plist(5): agents default to Aqua; daemons run in the System session).
    pub fn session_type(&self) -> &'static str {
        match self {
            Domain::System => "System",
            Domain::Gui(_) => "Aqua",
            Domain::User(_) => "Background",
        }
    }
}

/// How a job's last instance ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

/// The parts of a job's plist launchd acts on, as loaded (launchd.plist(5), reference 5.1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobSpec {
    pub label: String,
    #[serde(default)]
    pub program: Option<String>,
    #[serde(default)]
    pub arguments: Vec<String>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    #[serde(default)]
    pub run_at_load: bool,
    /// `KeepAlive` true, or a conditions dictionary (treated as "keep it running").
    #[serde(default)]
    pub keep_alive: bool,
    #[serde(default)]
    pub process_type: Option<String>,
    /// `LimitLoadToSessionType`; empty when the plist does not say.
    #[serde(default)]
    pub session_types: Vec<String>,
    #[serde(default)]
    pub working_directory: Option<String>,
    #[serde(default)]
    pub stdout_path: Option<String>,
    #[serde(default)]
    pub stderr_path: Option<String>,
    /// The plist's own `Disabled` key: the default when the database has no override.
    #[serde(default)]
    pub disabled: bool,
}

/// Errors launchd gives for a plist it cannot load, as xpc error numbers (the table in
/// [`crate::launchctl`]'s `xpc_strerror`).
pub const E_INVALID_PLIST: i32 = 109;
pub const E_NO_LABEL: i32 = 110;
pub const E_NO_PROGRAM: i32 = 111;

impl JobSpec {
    /// Reads a launchd plist (XML or binary; launchctl rejects JSON and old-style ASCII
    /// plists: openradar 23486380). `Err` carries the xpc error number.
    pub fn from_bytes(bytes: &[u8]) -> Result<JobSpec, i32> {
        let value =
            plist::Value::from_reader(std::io::Cursor::new(bytes)).map_err(|_| E_INVALID_PLIST)?;
        let plist::Value::Dictionary(dict) = value else {
            return Err(E_INVALID_PLIST);
        };
        JobSpec::from_dict(&dict)
    }

    pub fn from_dict(dict: &plist::Dictionary) -> Result<JobSpec, i32> {
        let string = |key: &str| dict.get(key).and_then(|v| v.as_string()).map(String::from);
        let boolean = |key: &str| dict.get(key).and_then(|v| v.as_boolean()).unwrap_or(false);
        let label = string("Label")
            .filter(|l| !l.is_empty())
            .ok_or(E_NO_LABEL)?;
        let program = string("Program");
        let arguments = match dict.get("ProgramArguments") {
            None => Vec::new(),
            Some(plist::Value::Array(items)) => items
                .iter()
                .map(|item| item.as_string().map(String::from).ok_or(E_NO_PROGRAM))
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => return Err(E_NO_PROGRAM),
        };
        if program.is_none() && arguments.is_empty() {
            return Err(E_NO_PROGRAM);
        }
        let environment = match dict.get("EnvironmentVariables") {
            Some(plist::Value::Dictionary(env)) => env
                .iter()
                .filter_map(|(k, v)| v.as_string().map(|v| (k.clone(), v.to_string())))
                .collect(),
            _ => BTreeMap::new(),
        };
        let keep_alive = match dict.get("KeepAlive") {
            Some(plist::Value::Boolean(b)) => *b,
            Some(plist::Value::Dictionary(_)) => true,
            _ => false,
        };
        let session_types = match dict.get("LimitLoadToSessionType") {
            Some(plist::Value::String(s)) => vec![s.clone()],
            Some(plist::Value::Array(items)) => items
                .iter()
                .filter_map(|i| i.as_string().map(String::from))
                .collect(),
            _ => Vec::new(),
        };
        Ok(JobSpec {
            label,
            program,
            arguments,
            environment,
            run_at_load: boolean("RunAtLoad"),
            keep_alive,
            process_type: string("ProcessType"),
            session_types,
            working_directory: string("WorkingDirectory"),
            stdout_path: string("StandardOutPath"),
            stderr_path: string("StandardErrorPath"),
            disabled: boolean("Disabled"),
        })
    }

    /// `Program`, else the first of `ProgramArguments` ("inferred program").
    pub fn executable(&self) -> &str {
        self.program
            .as_deref()
            .or(self.arguments.first().map(String::as_str))
            .unwrap_or_default()
    }

    /// Whether the job may load in `domain`'s session (`LimitLoadToSessionType`, default
    /// Aqua for agents: reference 2.1).
    pub fn loads_in(&self, domain: Domain) -> bool {
        match domain {
            Domain::System => true,
            Domain::Gui(_) => {
                self.session_types.is_empty() || self.session_types.iter().any(|s| s == "Aqua")
            }
            Domain::User(_) => self.session_types.iter().any(|s| s == "Background"),
        }
    }
}

/// One loaded job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// The plist it was loaded from, as the Mac names it.
    pub path: String,
    pub spec: JobSpec,
    #[serde(default)]
    pub pid: Option<u32>,
    #[serde(default)]
    pub runs: u32,
    #[serde(default)]
    pub last_exit: Option<Exit>,
    /// The domain's `setenv` environment when the running instance was spawned: launchd
    /// passes it to processes it starts afterwards, not to running ones (reference 2.6).
    #[serde(default)]
    pub inherited_environment: BTreeMap<String, String>,
}

impl Job {
    /// Apple's own jobs: everything under /System/Library, which SIP protects (openradar
    /// 32281471: from 10.12.4 "SIP in MacOS prevents unloading of any LaunchD item from
    /// /System").
    pub fn sip_protected(&self) -> bool {
        self.path.starts_with("/System/Library/")
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DomainState {
    /// `launchctl setenv` values.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Loaded jobs by label.
    #[serde(default)]
    pub jobs: BTreeMap<String, Job>,
}

/// [`STATE_FILE`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LaunchdDb {
    #[serde(default)]
    pub next_pid: u32,
    /// By domain key (`system`, `gui/501`, `user/501`).
    #[serde(default)]
    pub domains: BTreeMap<String, DomainState>,
}

impl LaunchdDb {
    pub fn domain(&self, domain: Domain) -> Option<&DomainState> {
        self.domains.get(&domain.key())
    }

    pub fn domain_mut(&mut self, domain: Domain) -> &mut DomainState {
        self.domains.entry(domain.key()).or_default()
    }

    pub fn job(&self, domain: Domain, label: &str) -> Option<&Job> {
        self.domain(domain)?.jobs.get(label)
    }

    pub fn job_mut(&mut self, domain: Domain, label: &str) -> Option<&mut Job> {
        self.domains.get_mut(&domain.key())?.jobs.get_mut(label)
    }

    /// Loads a job (not started).
    pub fn load(&mut self, domain: Domain, path: &str, spec: JobSpec) {
        let job = Job {
            path: path.to_string(),
            spec: spec.clone(),
            pid: None,
            runs: 0,
            last_exit: None,
            inherited_environment: BTreeMap::new(),
        };
        self.domain_mut(domain).jobs.insert(spec.label, job);
    }

    /// Spawns the job's process: a new pid (or `pid`), one more run, and the domain's
    /// environment as it is now. Returns the pid.
    pub fn start(&mut self, domain: Domain, label: &str, pid: Option<u32>) -> Option<u32> {
        let pid = match pid {
            Some(pid) => pid,
            None => {
                self.next_pid = self.next_pid.max(FIRST_DYNAMIC_PID);
                self.next_pid += 1;
                self.next_pid - 1
            }
        };
        let state = self.domains.get_mut(&domain.key())?;
        let environment = state.environment.clone();
        let job = state.jobs.get_mut(label)?;
        job.pid = Some(pid);
        job.runs += 1;
        job.inherited_environment = environment;
        Some(pid)
    }

    /// Ends the running instance, recording how.
    pub fn kill(&mut self, domain: Domain, label: &str, how: Exit) {
        if let Some(job) = self.job_mut(domain, label)
            && job.pid.take().is_some()
        {
            job.last_exit = Some(how);
            job.inherited_environment.clear();
        }
    }
}

/// The state of launchd, creating it (stock jobs, databases, a first boot) on a machine
/// made before launchd was emulated.
pub fn load(machine: &Machine) -> Result<LaunchdDb> {
    let path = machine.dir.join(STATE_FILE);
    if !path.exists() {
        install(machine)?;
    }
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
}

pub fn save(machine: &Machine, db: &LaunchdDb) -> Result<()> {
    let path = machine.dir.join(STATE_FILE);
    write_atomically(&path, (serde_json::to_string_pretty(db)? + "\n").as_bytes())?;
    // A job that launchd just spawned may be `ollama serve`: it logs its startup now.
    super::ollama::launchd_changed(machine, db);
    Ok(())
}

fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let temp = path.with_extension("tmp");
    fs::write(&temp, bytes).with_context(|| format!("writing {}", temp.display()))?;
    fs::rename(&temp, path)?;
    Ok(())
}

/// A domain's override database (label → disabled), empty when it has no file.
pub fn overrides(machine: &Machine, domain: Domain) -> Result<plist::Dictionary> {
    let path = machine.dir.join(domain.overrides_file());
    if !path.exists() {
        return Ok(plist::Dictionary::new());
    }
    match plist::Value::from_file(&path).with_context(|| format!("reading {}", path.display()))? {
        plist::Value::Dictionary(dict) => Ok(dict),
        _ => bail!("{} does not hold a dictionary", path.display()),
    }
}

/// `Some(true)` when the label is disabled in `domain`, `Some(false)` when explicitly
/// enabled, `None` without an override.
pub fn override_of(machine: &Machine, domain: Domain, label: &str) -> Result<Option<bool>> {
    Ok(overrides(machine, domain)?
        .get(label)
        .and_then(|value| value.as_boolean()))
}

/// Records an override; it persists across reboots and whether or not the job exists
/// (man launchctl, quoted in reference 2.2).
pub fn set_override(machine: &Machine, domain: Domain, label: &str, disabled: bool) -> Result<()> {
    let mut dict = overrides(machine, domain)?;
    dict.insert(label.to_string(), plist::Value::Boolean(disabled));
    let mut bytes = Vec::new();
    plist::Value::Dictionary(dict).to_writer_xml(&mut bytes)?;
    bytes.push(b'\n');
    write_atomically(&machine.dir.join(domain.overrides_file()), &bytes)
}

/// Whether launchd refuses to load `spec` in `domain`: the override, else the plist's own
/// `Disabled` key.
pub fn is_disabled(machine: &Machine, domain: Domain, spec: &JobSpec) -> Result<bool> {
    Ok(override_of(machine, domain, &spec.label)?.unwrap_or(spec.disabled))
}

/// Labels SIP lets even Apple's jobs be removed: `RemovableServices` in
/// `/System/Library/Sandbox/com.apple.xpc.launchd.rootless.plist`, of which
/// mac-os-debloat's README (macOS 26.5 VM tests) names `com.apple.ReportCrash`,
/// `com.apple.DiagnosticsReporter` and `com.apple.Siri.agent`. That the list is the same on
/// macOS 12–15 is UNCONFIRMED.
pub const SIP_REMOVABLE: &[&str] = &[
    "com.apple.ReportCrash",
    "com.apple.DiagnosticsReporter",
    "com.apple.Siri.agent",
];

/// A job a fresh Mac has. `pid` is set for those running right after login (launched at
/// load or on demand by the system); they get the same pid at every emulated boot, and the
/// GUI ones match the processes `killall` emulates.
struct Stock {
    label: &'static str,
    daemon: bool,
    program: Option<&'static str>,
    arguments: &'static [&'static str],
    pid: Option<u32>,
    keep_alive: bool,
    run_at_load: bool,
    process_type: Option<&'static str>,
    session_types: &'static [&'static str],
}

const fn agent(label: &'static str, arguments: &'static [&'static str], pid: Option<u32>) -> Stock {
    Stock {
        label,
        daemon: false,
        program: None,
        arguments,
        pid,
        keep_alive: false,
        run_at_load: false,
        process_type: None,
        session_types: &[],
    }
}

const fn daemon(
    label: &'static str,
    arguments: &'static [&'static str],
    pid: Option<u32>,
) -> Stock {
    Stock {
        daemon: true,
        ..agent(label, arguments, pid)
    }
}

impl Stock {
    const fn keep_alive(self) -> Stock {
        Stock {
            keep_alive: true,
            ..self
        }
    }

    const fn process_type(self, kind: &'static str) -> Stock {
        Stock {
            process_type: Some(kind),
            ..self
        }
    }

    const fn program(self, program: &'static str) -> Stock {
        Stock {
            program: Some(program),
            ..self
        }
    }

    const fn sessions(self, session_types: &'static [&'static str]) -> Stock {
        Stock {
            session_types,
            ..self
        }
    }

    const fn run_at_load(self) -> Stock {
        Stock {
            run_at_load: true,
            ..self
        }
    }

    fn plist(&self) -> plist::Dictionary {
        use plist::Value as V;
        let mut dict = plist::Dictionary::new();
        dict.insert("Label".into(), V::String(self.label.into()));
        if let Some(program) = self.program {
            dict.insert("Program".into(), V::String(program.into()));
        }
        dict.insert(
            "ProgramArguments".into(),
            V::Array(
                self.arguments
                    .iter()
                    .map(|a| V::String(a.to_string()))
                    .collect(),
            ),
        );
        if self.keep_alive {
            dict.insert("KeepAlive".into(), V::Boolean(true));
        }
        if self.run_at_load {
            dict.insert("RunAtLoad".into(), V::Boolean(true));
        }
        if let Some(kind) = self.process_type {
            dict.insert("ProcessType".into(), V::String(kind.into()));
        }
        if !self.session_types.is_empty() {
            dict.insert(
                "LimitLoadToSessionType".into(),
                V::Array(
                    self.session_types
                        .iter()
                        .map(|s| V::String(s.to_string()))
                        .collect(),
                ),
            );
        }
        dict
    }

    fn mac_path(&self) -> String {
        let dir = if self.daemon {
            "LaunchDaemons"
        } else {
            "LaunchAgents"
        };
        format!("/System/Library/{dir}/{}.plist", self.label)
    }
}

/// The stock launchd jobs of every preset (macOS 12–15 ship all of them). Program paths are
/// where these binaries live on those releases; plist file names follow the label (a few of
/// Apple's differ, e.g. `com.apple.Dock.plist` for `com.apple.Dock.agent`, which nothing
/// here depends on). `com.apple.ftpd` has only its database entry: ftpd left macOS in 10.13
/// but fresh Macs still list it as disabled (fixture
/// `launchctl-disabled-plist-defaults-read-partial.txt`, 2023).
const STOCK: &[Stock] = &[
    // GUI agents that run right after login.
    agent("com.apple.cfprefsd.xpc.agent", &["/usr/sbin/cfprefsd", "agent"], Some(512))
        .keep_alive()
        .sessions(&["Aqua", "Background", "LoginWindow", "StandardIO"]),
    agent(
        "com.apple.Dock.agent",
        &["/System/Library/CoreServices/Dock.app/Contents/MacOS/Dock"],
        Some(571),
    )
    .keep_alive()
    .process_type("Interactive"),
    agent(
        "com.apple.SystemUIServer.agent",
        &["/System/Library/CoreServices/SystemUIServer.app/Contents/MacOS/SystemUIServer"],
        Some(574),
    )
    .keep_alive()
    .process_type("Interactive"),
    agent(
        "com.apple.Finder",
        &["/System/Library/CoreServices/Finder.app/Contents/MacOS/Finder"],
        Some(576),
    )
    .keep_alive()
    .process_type("Interactive"),
    agent(
        "com.apple.controlcenter",
        &["/System/Library/CoreServices/ControlCenter.app/Contents/MacOS/ControlCenter"],
        Some(579),
    )
    .keep_alive()
    .process_type("Interactive"),
    agent(
        "com.apple.Siri.agent",
        &["/System/Library/CoreServices/Siri.app/Contents/MacOS/Siri", "launchd"],
        Some(598),
    )
    .process_type("Interactive"),
    agent(
        "com.apple.suggestd",
        &["/System/Library/PrivateFrameworks/CoreSuggestions.framework/Versions/A/Support/suggestd"],
        Some(603),
    )
    .process_type("Background"),
    agent(
        "com.apple.photoanalysisd",
        &["/System/Library/PrivateFrameworks/PhotoAnalysis.framework/Versions/A/Support/photoanalysisd"],
        Some(611),
    )
    .process_type("Background"),
    agent(
        "com.apple.mediaanalysisd",
        &["/System/Library/PrivateFrameworks/MediaAnalysis.framework/Versions/A/mediaanalysisd"],
        Some(614),
    )
    .process_type("Background"),
    // GUI agents loaded but launched only on demand.
    agent(
        "com.apple.cloudphotod",
        &["/System/Library/PrivateFrameworks/CloudPhotoLibrary.framework/Versions/A/Support/cloudphotod"],
        None,
    )
    .process_type("Background"),
    agent(
        "com.apple.ReportCrash",
        &["/System/Library/CoreServices/ReportCrash", "agent"],
        None,
    )
    .program("/System/Library/CoreServices/ReportCrash"),
    agent("com.apple.gamed", &["/usr/libexec/gamed"], None).process_type("Adaptive"),
    // The MDM enrollment agent: off on a fresh Mac through the user's override database
    // below, so not loaded, but its plist is there as on every Mac (public scripts that
    // stop the enrollment nag move /System/Library/LaunchAgents/
    // com.apple.ManagedClientAgent.enrollagent.plist away, macOS 10.13 to 11; the program
    // path is from a public copy of that plist, UNCONFIRMED).
    agent(
        "com.apple.ManagedClientAgent.enrollagent",
        &["/System/Library/CoreServices/ManagedClient.app/Contents/Resources/ManagedClientAgent"],
        None,
    ),
    // System daemons.
    daemon("com.apple.cfprefsd.xpc.daemon", &["/usr/sbin/cfprefsd", "daemon"], Some(164))
        .keep_alive(),
    daemon(
        "com.apple.metadata.mds",
        &["/System/Library/Frameworks/CoreServices.framework/Frameworks/Metadata.framework/Support/mds"],
        Some(305),
    )
    .keep_alive()
    .process_type("Adaptive"),
    daemon("com.apple.mDNSResponder", &["/usr/sbin/mDNSResponder"], Some(318))
        .keep_alive()
        .run_at_load(),
    // Remote Login: launched per connection (inetd-style), so loaded but not running.
    daemon(
        "com.openssh.sshd",
        &["/usr/libexec/sshd-keygen-wrapper"],
        None,
    )
    .program("/usr/libexec/sshd-keygen-wrapper"),
    // Off on a fresh Mac through the override database below, so not loaded.
    daemon(
        "com.apple.screensharing",
        &["/System/Library/CoreServices/RemoteManagement/screensharingd.bundle/Contents/MacOS/screensharingd"],
        None,
    ),
    daemon("com.apple.nfsd", &["/sbin/nfsd"], None),
    daemon("com.apple.bootpd", &["/usr/libexec/bootpd"], None),
];

/// The system database of a fresh Mac: the entries of the captured one (fixture
/// `launchctl-disabled-plist-defaults-read-partial.txt`) plus `com.openssh.sshd` enabled,
/// because macllm reaches its Macs over SSH (Remote Login on; NIST mSCP rules grep for
/// `"com.openssh.sshd" => disabled|enabled`).
const STOCK_SYSTEM_OVERRIDES: &[(&str, bool)] = &[
    ("com.apple.CSCSupportd", true),
    ("com.apple.bootpd", true),
    ("com.apple.dhcp6d", true),
    ("com.apple.ftp-proxy", false),
    ("com.apple.ftpd", true),
    ("com.apple.mdmclient.daemon.runatboot", false),
    ("com.apple.nfsd", true),
    ("com.apple.screensharing", true),
    ("com.openssh.sshd", false),
];

/// The user's database: the Apple entry both public `print-disabled` user captures show
/// (fixtures `launchctl-print-disabled-user-legacy.txt`, `…-modern-lines.txt`).
const STOCK_USER_OVERRIDES: &[(&str, bool)] = &[("com.apple.ManagedClientAgent.enrollagent", true)];

/// Stock pid of a label, if it is a stock job that runs after boot.
fn stock_pid(label: &str) -> Option<u32> {
    STOCK.iter().find(|s| s.label == label).and_then(|s| s.pid)
}

/// Writes the stock jobs and databases that are missing, then boots (first boot of a new
/// machine, or of one made before launchd was emulated).
pub fn install(machine: &Machine) -> Result<()> {
    for stock in STOCK {
        let Some(path) = machine.host_path(&stock.mac_path()) else {
            continue;
        };
        if path.exists() {
            continue;
        }
        let mut bytes = Vec::new();
        plist::Value::Dictionary(stock.plist()).to_writer_xml(&mut bytes)?;
        bytes.push(b'\n');
        write_atomically(&path, &bytes)?;
    }
    let user = Domain::User(machine.info.user_uid);
    for (domain, entries) in [
        (Domain::System, STOCK_SYSTEM_OVERRIDES),
        (user, STOCK_USER_OVERRIDES),
    ] {
        if machine.dir.join(domain.overrides_file()).exists() {
            continue;
        }
        for (label, disabled) in entries {
            set_override(machine, domain, label, *disabled)?;
        }
    }
    // Software the preset ships (Homebrew's Ollama and its LaunchAgent) is on disk before
    // the first boot loads the agents.
    super::ollama::install_preset(machine)?;
    let mut db = LaunchdDb::default();
    boot(machine, &mut db)?;
    save(machine, &db)
}

/// The directories launchd loads at boot and login, and whether they hold daemons.
fn standard_dirs(machine: &Machine) -> Vec<(String, bool)> {
    vec![
        ("/System/Library/LaunchDaemons".to_string(), true),
        ("/Library/LaunchDaemons".to_string(), true),
        ("/System/Library/LaunchAgents".to_string(), false),
        ("/Library/LaunchAgents".to_string(), false),
        (
            format!("{}/Library/LaunchAgents", machine.mac_home()),
            false,
        ),
    ]
}

/// Boots the emulated Mac and logs its user in: launchd forgets everything it held
/// (loaded jobs, pids, `setenv` values), then loads every valid plist in the standard
/// directories that is not disabled — daemons into `system`, agents into `gui/<uid>` when
/// the user has a GUI login and the job allows Aqua, else into `user/<uid>` when it allows
/// Background — and starts those with `RunAtLoad` or `KeepAlive`, plus the stock services
/// the system launches on demand right after login. Jobs bootstrapped from other paths are
/// gone. Override databases are files and persist (reference 2.2).
///
/// UNCONFIRMED for macOS 12–15: mac-os-debloat's README reports that on macOS 26.5 with SIP
/// on, launchd ignores overrides of most /System jobs at boot ("Ignoring enabled state due
/// to rootless restrictions"); this emulator honours every override, as man launchctl says.
pub fn boot(machine: &Machine, db: &mut LaunchdDb) -> Result<()> {
    *db = LaunchdDb {
        next_pid: FIRST_DYNAMIC_PID,
        domains: BTreeMap::new(),
    };
    let uid = machine.info.user_uid;
    db.domain_mut(Domain::System);
    db.domain_mut(Domain::User(uid));
    if machine.info.gui_session {
        db.domain_mut(Domain::Gui(uid));
    }
    let mut to_start = Vec::new();
    for (dir, daemons) in standard_dirs(machine) {
        let Some(host_dir) = machine.host_path(&dir) else {
            continue;
        };
        let Ok(entries) = fs::read_dir(&host_dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|ext| ext == "plist"))
            .collect();
        files.sort();
        for file in files {
            let Ok(bytes) = fs::read(&file) else {
                continue;
            };
            let Ok(spec) = JobSpec::from_bytes(&bytes) else {
                continue;
            };
            let domain = if daemons {
                Domain::System
            } else if machine.info.gui_session && spec.loads_in(Domain::Gui(uid)) {
                Domain::Gui(uid)
            } else if spec.loads_in(Domain::User(uid)) {
                Domain::User(uid)
            } else {
                continue;
            };
            if is_disabled(machine, domain, &spec)? || db.job(domain, &spec.label).is_some() {
                continue;
            }
            let name = file.file_name().unwrap_or_default().to_string_lossy();
            let mac_path = format!("{dir}/{name}");
            let label = spec.label.clone();
            let pid = stock_pid(&label).filter(|_| mac_path.starts_with("/System/Library/"));
            let runs = pid.is_some() || spec.run_at_load || spec.keep_alive;
            db.load(domain, &mac_path, spec);
            if runs {
                to_start.push((domain, label, pid));
            }
        }
    }
    // Fixed pids first, so that dynamic ones never collide with them. launchd documents no
    // order between jobs that run at load, and on real Macs a login agent that only runs
    // `launchctl setenv` loses the race with a RunAtLoad server (Homebrew's
    // `homebrew.mxcl.ollama`, Ollama.app): the server starts with the domain's environment
    // as it was, and keeps it until restarted (ollama/ollama#12916; Ollama's FAQ, "Setting
    // environment variables on Mac"). The emulator loses that race deterministically,
    // unless machine.json says `setenv_agents_win_boot_race` (to test the other order).
    let agents_first = machine.info.setenv_agents_win_boot_race;
    to_start.sort_by_key(|(domain, label, pid)| {
        let setenv = db
            .job(*domain, label)
            .is_some_and(|job| setenv_pairs(&job.spec).is_some());
        (pid.is_none(), setenv != agents_first)
    });
    for (domain, label, pid) in to_start {
        db.start(domain, &label, pid);
        run_setenv_agent(db, domain, &label);
    }
    Ok(())
}

/// The `NAME VALUE` pairs of an agent whose whole job is `/bin/launchctl setenv NAME VALUE
/// ...` (the durable form of `launchctl setenv` that Ollama's FAQ and guides suggest).
fn setenv_pairs(spec: &JobSpec) -> Option<Vec<(String, String)>> {
    let program = spec.executable();
    let (verb, rest) = spec.arguments.get(1..)?.split_first()?;
    if !program.ends_with("/launchctl") || verb != "setenv" || rest.len() % 2 != 0 {
        return None;
    }
    Some(
        rest.chunks(2)
            .map(|pair| (pair[0].clone(), pair[1].clone()))
            .collect(),
    )
}

/// A started `launchctl setenv` agent sets the domain's variables and exits at once.
fn run_setenv_agent(db: &mut LaunchdDb, domain: Domain, label: &str) {
    let Some(pairs) = db
        .job(domain, label)
        .and_then(|job| setenv_pairs(&job.spec))
    else {
        return;
    };
    db.domain_mut(domain).environment.extend(pairs);
    db.kill(domain, label, Exit::Code(0));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::mac;

    /// A `launchctl setenv` login agent and Homebrew's RunAtLoad `ollama serve` race at
    /// boot; the server loses by default and wins only with the test hook.
    #[test]
    fn setenv_agents_lose_the_boot_race_to_the_server_unless_told() {
        for (agents_first, inherited) in [(false, None), (true, Some("3"))] {
            let (_dir, mut machine) = mac("m2-16gb-sonoma");
            machine.info.setenv_agents_win_boot_race = agents_first;
            let agent = format!(
                "{}/Library/LaunchAgents/com.example.setenv.plist",
                machine.mac_home()
            );
            let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict>
<key>Label</key><string>com.example.setenv</string>
<key>ProgramArguments</key><array><string>/bin/launchctl</string><string>setenv</string><string>OLLAMA_NUM_PARALLEL</string><string>3</string></array>
<key>RunAtLoad</key><true/>
</dict></plist>
"#;
            std::fs::write(machine.host_path(&agent).unwrap(), xml).unwrap();
            let mut db = load(&machine).unwrap();
            boot(&machine, &mut db).unwrap();
            let gui = Domain::Gui(501);
            let server = db.job(gui, "homebrew.mxcl.ollama").unwrap();
            assert_eq!(
                server
                    .inherited_environment
                    .get("OLLAMA_NUM_PARALLEL")
                    .map(String::as_str),
                inherited,
                "agents first: {agents_first}"
            );
            // Either way the agent ran once, exited, and left the domain's variable set.
            let setenv = db.job(gui, "com.example.setenv").unwrap();
            assert_eq!((setenv.pid, setenv.runs), (None, 1));
            assert_eq!(
                db.domain(gui).unwrap().environment["OLLAMA_NUM_PARALLEL"],
                "3"
            );
        }
    }

    /// A new machine has the stock plists on disk, both override databases, and a booted
    /// launchd with the GUI agents running under the pids `killall` knows.
    #[test]
    fn create_installs_stock_jobs_and_boots() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        assert!(
            machine
                .dir
                .join("System/Library/LaunchAgents/com.apple.photoanalysisd.plist")
                .exists()
        );
        assert!(
            machine
                .dir
                .join("var/db/com.apple.xpc.launchd/disabled.plist")
                .exists()
        );
        assert!(
            machine
                .dir
                .join("var/db/com.apple.xpc.launchd/disabled.501.plist")
                .exists()
        );
        let db = load(&machine).unwrap();
        let gui = Domain::Gui(501);
        assert_eq!(db.job(gui, "com.apple.Dock.agent").unwrap().pid, Some(571));
        assert_eq!(
            db.job(gui, "com.apple.photoanalysisd").unwrap().pid,
            Some(611)
        );
        assert_eq!(db.job(gui, "com.apple.gamed").unwrap().pid, None);
        assert!(db.job(Domain::System, "com.openssh.sshd").is_some());
        // Disabled in the stock database, so never loaded.
        assert!(db.job(Domain::System, "com.apple.screensharing").is_none());
        assert_eq!(
            override_of(&machine, Domain::System, "com.apple.screensharing").unwrap(),
            Some(true)
        );
    }

    /// Without a GUI login only Background-capable agents load, into `user/<uid>`.
    #[test]
    fn ssh_only_machine_has_no_gui_domain() {
        let (_dir, machine) = mac("m2-16gb-sonoma-ssh");
        let db = load(&machine).unwrap();
        assert!(db.domain(Domain::Gui(501)).is_none());
        assert!(!Domain::Gui(501).exists(&machine));
        assert!(Domain::User(501).exists(&machine));
        let user = Domain::User(501);
        assert_eq!(
            db.job(user, "com.apple.cfprefsd.xpc.agent").unwrap().pid,
            Some(512)
        );
        assert!(db.job(user, "com.apple.photoanalysisd").is_none());
    }

    /// A machine directory from before launchd was emulated gets its stock state on first use.
    #[test]
    fn missing_state_is_installed_lazily() {
        let (_dir, machine) = mac("m1-8gb-monterey");
        fs::remove_file(machine.dir.join(STATE_FILE)).unwrap();
        let db = load(&machine).unwrap();
        assert!(db.job(Domain::Gui(501), "com.apple.Finder").is_some());
    }

    /// launchd.plist(5) keys: program inference, session types, KeepAlive dictionaries and
    /// the errors for plists launchd refuses.
    #[test]
    fn job_spec_reads_plist_keys() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict>
<key>Label</key><string>x.y</string>
<key>ProgramArguments</key><array><string>/bin/x</string><string>serve</string></array>
<key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>
<key>LimitLoadToSessionType</key><string>Background</string>
<key>EnvironmentVariables</key><dict><key>A</key><string>1</string></dict>
</dict></plist>"#;
        let spec = JobSpec::from_bytes(xml).unwrap();
        assert_eq!(spec.executable(), "/bin/x");
        assert!(spec.keep_alive);
        assert!(spec.loads_in(Domain::User(501)));
        assert!(!spec.loads_in(Domain::Gui(501)));
        assert_eq!(spec.environment.get("A").map(String::as_str), Some("1"));
        assert_eq!(JobSpec::from_bytes(b"not a plist"), Err(E_INVALID_PLIST));
        let no_label =
            br#"<plist version="1.0"><dict><key>Program</key><string>/x</string></dict></plist>"#;
        assert_eq!(JobSpec::from_bytes(no_label), Err(E_NO_LABEL));
        let no_program =
            br#"<plist version="1.0"><dict><key>Label</key><string>x</string></dict></plist>"#;
        assert_eq!(JobSpec::from_bytes(no_program), Err(E_NO_PROGRAM));
    }
}
