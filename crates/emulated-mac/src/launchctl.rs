//! Emulated `launchctl`: the subcommands macllm and the tools it imitates use (`bootstrap`,
//! `bootout`, `enable`, `disable`, `kickstart`, `print`, `print-disabled`, `list`, `start`,
//! `stop`, `setenv`, `getenv`, `unsetenv`, `error`, `help`), over the state in
//! [`launchd_db`](super::launchd_db).
//!
//! Evidence, in order of weight (reference/macos-commands.md, "How to read the confidence
//! marks"): the captures `fixtures/macos/launchctl-*`; public issue threads quoting real
//! output, cited by repository and number next to the code; ProcursusTeam/launchctl, an
//! open-source re-implementation whose messages copy Apple's (cited as "reimpl" with its
//! file); and Alkenso/sLaunchctl's table of launchd's error strings (`Error.swift`), which
//! agrees with reimpl's numbers. Choices without a capture are marked UNCONFIRMED.
//!
//! Exit statuses, as macllm may rely on them (launchctl exits with the error number it
//! prints, reference 2.3):
//!
//! | situation | status |
//! |---|---|
//! | success (enable, disable, bootstrap, bootout, kickstart: no output) | 0 |
//! | `print`/`kickstart`/`list LABEL` of a label that is not loaded | 113 |
//! | a `gui/<uid>` domain that does not exist (SSH-only Mac), most subcommands | 112 |
//! | `bootstrap`/`kickstart` into a missing `gui/<uid>` | 125 |
//! | `bootstrap` of a label already loaded, disabled, or a missing plist | 5 |
//! | `bootstrap` of a malformed plist (`PATH: Invalid property list`) | 133 |
//! | `bootout` of a label not loaded: service target / plist path | 3 / 5 |
//! | `bootout` of an Apple job SIP protects | 150 |
//! | modifying `system` (or another user's domain) without root | 1 |
//! | `kickstart -k` of a running Apple system daemon, macOS 14.4+ | 1 |
//! | `stop` of a job that is not running | 3 |
//! | bad arguments (usage on stderr) | 64 |
//! | unknown subcommand | 1 |

use super::getopt::getopt;
use super::launchd_db::{self, Domain, Exit, Job, LaunchdDb};
use super::machine::Machine;
use super::sw_vers::version_triple;
use crate::output::Output;
use anyhow::Result;
use std::collections::BTreeMap;
use std::fmt::Write as _;

type Step = Result<Output>;

/// Runs `launchctl ARGS` with `stdin`, which only `asuser` passes on (to its command).
pub fn run_with_stdin(machine: &Machine, args: &[String], stdin: &[u8]) -> Output {
    match args.split_first() {
        Some((subcommand, rest)) if subcommand == "asuser" => asuser(machine, rest, stdin),
        _ => run(machine, args),
    }
}

/// `asuser UID COMMAND...`: runs the command "in as similar an execution context as possible
/// to that of the target user's bootstrap ... It does not modify the process' credentials
/// (UID, GID, etc.)" (man launchctl, quoted in nix-darwin/nix-darwin#1341): the command keeps
/// root's uid, but launchd calls from it (`setenv`, `list`, ...) reach the user's domain.
/// Joining another user's audit session needs root; a user gets `Could not switch to audit
/// session ...: Operation not permitted` (notes/issue10-research.md section 5; the hop README
/// and weave-agent quote the message; the session number printed here and status 1 are
/// UNCONFIRMED). A uid with no account on the Mac has no domain to join (status 112, as
/// `print` of a missing domain; UNCONFIRMED for asuser), and a command the emulated Mac
/// lacks is reported as posix_spawn's ENOENT (UNCONFIRMED wording).
fn asuser(machine: &Machine, args: &[String], stdin: &[u8]) -> Output {
    const SUB: &str = "asuser";
    let [uid, command @ ..] = args else {
        return usage(SUB);
    };
    let Ok(uid) = uid.parse::<u32>() else {
        return usage(SUB);
    };
    if command.is_empty() {
        return usage(SUB);
    }
    if !machine.is_root() {
        return Output::failed(
            1,
            format!(
                "Could not switch to audit session {:#x}: 1: Operation not permitted\n",
                launchd_db::GUI_ASID
            ),
        );
    }
    if machine.account_name(uid).is_none() {
        return no_domain(Domain::User(uid));
    }
    let mut child = machine.running_as(machine.info.uid, machine.info.sudo_user.clone());
    child.info.asuser = Some(uid);
    crate::run(&child, command, stdin).unwrap_or_else(|_| {
        Output::failed(
            1,
            format!("launchctl: {}: No such file or directory\n", command[0]),
        )
    })
}

/// Runs `launchctl ARGS` (without the program name) on `machine`.
pub fn run(machine: &Machine, args: &[String]) -> Output {
    let Some((subcommand, rest)) = args.split_first() else {
        // reimpl `launchctl.c` `main()`: no arguments prints the help and exits 0.
        return Output::ok(help_text());
    };
    let launchctl = Launchctl { machine };
    let step = match subcommand.as_str() {
        "bootstrap" => launchctl.bootstrap(rest),
        "bootout" => launchctl.bootout(rest),
        "enable" => launchctl.enable(rest, false),
        "disable" => launchctl.enable(rest, true),
        "kickstart" => launchctl.kickstart(rest),
        "print" => launchctl.print(rest),
        "print-disabled" => launchctl.print_disabled(rest),
        "list" => launchctl.list(rest),
        "start" => launchctl.start(rest),
        "stop" => launchctl.stop(rest),
        "setenv" => launchctl.setenv(rest),
        "unsetenv" => launchctl.unsetenv(rest),
        "getenv" => launchctl.getenv(rest),
        "managername" => Ok(managername(machine)),
        "error" => Ok(error(rest)),
        "help" => Ok(help(rest)),
        other if NOT_EMULATED.contains(&other) => Ok(Output::failed(
            1,
            format!(
                "launchctl: `{other}` is not emulated by macllm's sandbox; it emulates {}\n",
                SUBCOMMANDS
                    .iter()
                    .map(|s| s.0)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
        // reimpl `launchctl.c` `main()`; the first lines of this message and of the help
        // that follows are quoted from a real run in kyleneideck/BackgroundMusic#169 (2018,
        // "Unrecognized subcommand: unbootstrap" / "Usage: launchctl <subcommand> ...").
        _ => Ok(Output {
            status: 1,
            stdout: help_text(),
            stderr: format!("Unrecognized subcommand: {subcommand}\n"),
        }),
    };
    step.unwrap_or_else(|err| {
        Output::failed(
            1,
            format!("launchctl: the emulated Mac's launchd state is unusable: {err:#}\n"),
        )
    })
}

/// Real subcommands this emulator does not implement; they fail with a sandbox message.
const NOT_EMULATED: &[&str] = &[
    "load",
    "unload",
    "remove",
    "uncache",
    "attach",
    "debug",
    "kill",
    "blame",
    "print-cache",
    "plist",
    "procinfo",
    "hostinfo",
    "resolveport",
    "limit",
    "runstats",
    "examine",
    "config",
    "dumpstate",
    "dumpjpcategory",
    "reboot",
    "bootshell",
    "userswitch",
    "bsexec",
    "submit",
    "managerpid",
    "manageruid",
    "variant",
    "version",
];

/// Name, description and usage of each emulated subcommand, as `launchctl help` prints
/// them (reimpl `launchctl.c` `cmds[]`).
const SUBCOMMANDS: &[(&str, &str, &str)] = &[
    (
        "bootstrap",
        "Bootstraps a domain or a service into a domain.",
        "<domain-target> [service-path, service-path2, ...]",
    ),
    (
        "bootout",
        "Tears down a domain or removes a service from a domain.",
        "<domain-target> [service-path1, service-path2, ...] | <service-target>",
    ),
    ("enable", "Enables an existing service.", "<service-target>"),
    (
        "disable",
        "Disables an existing service.",
        "<service-target>",
    ),
    (
        "kickstart",
        "Forces an existing service to start.",
        "[-k] [-p] <service-target>",
    ),
    (
        "print",
        "Prints a description of a domain or service.",
        "<domain-target> | <service-target>",
    ),
    (
        "print-disabled",
        "Prints which services are disabled.",
        "<domain-target>",
    ),
    (
        "list",
        "Lists information about services.",
        "[service-name]",
    ),
    ("start", "Starts the specified service.", "<service-name>"),
    (
        "stop",
        "Stops the specified service if it is running.",
        "<service-name>",
    ),
    (
        "setenv",
        "Sets the specified environment variables for all services within the domain.",
        "<<key> <value>, ...>",
    ),
    (
        "unsetenv",
        "Unsets the specified environment variables for all services within the domain.",
        "<key, ...>",
    ),
    (
        "getenv",
        "Gets the value of an environment variable from within launchd.",
        "<key>",
    ),
    (
        "managername",
        "Prints the name of the current launchd session.",
        "",
    ),
    (
        "asuser",
        "Execute a program in the bootstrap context of a given user.",
        "<uid> <program> [arguments...]",
    ),
    (
        "error",
        "Prints a description of an error.",
        "[posix|mach|bootstrap] <code>",
    ),
    (
        "help",
        "Prints the usage for a given subcommand.",
        "<subcommand>",
    ),
];

/// `launchctl help`, on stdout. The specifier paragraphs for system and user are quoted in
/// kyleneideck/BackgroundMusic#169 (2018); the rest follows reimpl. The subcommand list
/// holds only what this emulator implements (a real Mac lists about fifty).
fn help_text() -> String {
    let mut text = String::from(
        "Usage: launchctl <subcommand> ... | help [subcommand]
Many subcommands take a target specifier that refers to a domain or service
within that domain. The available specifier forms are:

system/[service-name]
Targets the system-wide domain or service within. Root privileges are required
to make modifications.

user/<uid>/[service-name]
Targets the user domain or service within. A process running as the target user
may make modifications. Root may modify any user's domain. User domains do not
exist on iOS.

gui/<uid>/[service-name]
Targets the GUI domain or service within. Each GUI domain is associated with a
user domain, and a process running as the owner of that user domain may make
modifications. Root may modify any GUI domain. GUI domains do not exist on iOS.

session/<asid>/[service-name]
Targets a session domain or service within. A process running within the target
security audit session may make modifications. Root may modify any session
domain.

pid/<pid>/[service-name]
Targets a process domain or service within. Only the process which owns the
domain may modify it. Even root may not do so.

When using a legacy subcommand which manipulates a domain, the target domain is
assumed to be the system domain. On iOS, there is no support for per-user
domains, even though there is a mobile user.

Subcommands:
",
    );
    for (name, description, _) in SUBCOMMANDS {
        let _ = writeln!(text, "\t{name:<16}{description}");
    }
    text
}

/// `launchctl help SUBCOMMAND` on stderr, status 0 (reimpl `help_cmd`).
fn help(args: &[String]) -> Output {
    let Some(name) = args.first() else {
        return Output::ok(help_text());
    };
    match SUBCOMMANDS.iter().find(|s| s.0 == name) {
        Some((name, _, usage)) => Output {
            status: 0,
            stdout: String::new(),
            stderr: format!("Usage: launchctl {name} {usage}\n"),
        },
        None => Output::failed(64, "Usage: launchctl help <subcommand>\n"),
    }
}

/// A malformed command line: the subcommand's usage on stderr, status 64 (reimpl
/// `launchctl.c`: `EUSAGE` prints `help <subcommand>` and returns 64).
fn usage(subcommand: &str) -> Output {
    let usage = SUBCOMMANDS
        .iter()
        .find(|s| s.0 == subcommand)
        .map(|s| s.2)
        .unwrap_or_default();
    Output::failed(64, format!("Usage: launchctl {subcommand} {usage}\n"))
}

/// A target that is not `DOMAIN` or `DOMAIN/LABEL` where one is needed (reimpl
/// `launchctl.c`, `EBADNAME`): two explanatory lines and the usage, status 64.
fn bad_target(subcommand: &str) -> Output {
    let mut output = usage(subcommand);
    output.stderr = format!(
        "Unrecognized target specifier. <service-target> takes a form of \
         <domain-target>/<service-id>.\n\
         Please refer to `man launchctl` for explanation of the <domain-target> \
         specifiers.\n{}",
        output.stderr
    );
    output
}

/// A domain that does not exist: `Could not find domain for user gui: 501` (fixture
/// `launchctl-no-gui-domain.txt`, macOS 15) with status 112 = "Could not find specified
/// domain" (reimpl `ENODOMAIN`; duh17/oppi's tests probe `launchctl print gui/<uid>` for
/// 112). lidge-jun/opencodex#1770 saw 125 from `print gui/<uid>/LABEL` on a headless
/// macOS 26.5.2 after a reboot; callers should treat 112 and 125 alike.
fn no_domain(domain: Domain) -> Output {
    Output::failed(
        112,
        format!("Could not find domain for {}\n", domain.described()),
    )
}

/// A label that is not loaded: status 113 and `Could not find service "LABEL" in domain
/// for user gui: 501` (geldata/gel-cli#312, `kickstart`; anthropics/claude-code#67308 for
/// `system`).
fn no_service(label: &str, domain: Domain) -> Output {
    Output::failed(
        113,
        format!(
            "Could not find service \"{label}\" in domain for {}\n",
            domain.described()
        ),
    )
}

/// The domain a legacy subcommand (`list`, `start`, `stop`, `setenv`, `getenv`) acts on:
/// the caller's own — `system` for root, else the user's GUI domain, or `user/<uid>` when
/// the user is only logged in over SSH (reference 2.5, 2.6).
fn caller_domain(machine: &Machine) -> Domain {
    // Under `launchctl asuser UID`, root's calls reach that user's session.
    let (uid, moved) = match machine.info.asuser {
        Some(asuser) if machine.is_root() => (asuser, true),
        _ => (machine.info.uid, false),
    };
    if uid == 0 {
        Domain::System
    } else if machine.info.gui_session && (moved || !machine.info.over_ssh) {
        Domain::Gui(uid)
    } else {
        // Over SSH the caller's session is the Background one: its setenv does not reach
        // the GUI session's jobs (ollama/ollama#3581).
        Domain::User(uid)
    }
}

/// `managername`: the caller's session type, `Aqua` at the screen, `Background` over SSH
/// (or with nobody logged in at the screen), `System` for root outside any user's session
/// (UNCONFIRMED for root: no capture).
fn managername(machine: &Machine) -> Output {
    let name = match caller_domain(machine) {
        Domain::System => "System",
        Domain::Gui(_) => "Aqua",
        Domain::User(_) => "Background",
    };
    Output::ok(format!("{name}\n"))
}

/// "Anyone may read or query the system domain, but root privileges are required to make
/// modifications"; a user may modify its own user and GUI domains, root any (man
/// launchctl, reference 2.1).
fn may_modify(machine: &Machine, domain: Domain) -> bool {
    match domain {
        Domain::System => machine.is_root(),
        Domain::Gui(uid) | Domain::User(uid) => machine.is_root() || machine.info.uid == uid,
    }
}

/// A domain or service target: `system[/LABEL]`, `gui/<uid>[/LABEL]`, `user/<uid>[/LABEL]`.
struct Target {
    domain: Domain,
    label: Option<String>,
}

fn parse_target(text: &str) -> Option<Target> {
    let (domain, label) = if let Some(rest) = text.strip_prefix("system") {
        match rest {
            "" => (Domain::System, None),
            rest => (Domain::System, Some(rest.strip_prefix('/')?)),
        }
    } else {
        let mut parts = text.splitn(3, '/');
        let kind = parts.next()?;
        let uid = parts.next()?;
        (Domain::parse(&format!("{kind}/{uid}"))?, parts.next())
    };
    Some(Target {
        domain,
        label: label.filter(|l| !l.is_empty()).map(String::from),
    })
}

/// The major macOS version: print-disabled's vocabulary changed in 13 (reference 2.2).
fn major_version(machine: &Machine) -> u32 {
    version_triple(&machine.info.product_version).0
}

struct Launchctl<'a> {
    machine: &'a Machine,
}

impl Launchctl<'_> {
    fn is_root(&self) -> bool {
        self.machine.is_root()
    }

    fn load(&self) -> Result<LaunchdDb> {
        launchd_db::load(self.machine)
    }

    fn save(&self, db: &LaunchdDb) -> Result<()> {
        launchd_db::save(self.machine, db)
    }

    /// `Bootstrap failed: 5: Input/output error`, with the hint for non-root callers
    /// (fixture `launchctl-bootstrap-eio.txt`, macOS 13.1, gui/501). Root gets the first
    /// line alone (DeterminateSystems/nix-installer#1157, LIJI32/MIP#38 on macOS 15.1, both
    /// `sudo launchctl bootstrap system …`).
    fn bootstrap_eio(&self) -> Output {
        let mut stderr = String::from("Bootstrap failed: 5: Input/output error\n");
        if !self.is_root() {
            stderr.push_str("Try re-running the command as root for richer errors.\n");
        }
        Output::failed(5, stderr)
    }

    /// `bootstrap DOMAIN PATH...`: loads each plist (a Mac path) into the domain and starts
    /// it when it has `RunAtLoad` or `KeepAlive`. Paths load in order; the first failure
    /// ends the command (real launchctl reports every path; the emulator stops early).
    fn bootstrap(&self, args: &[String]) -> Step {
        const SUB: &str = "bootstrap";
        let [target, paths @ ..] = args else {
            return Ok(usage(SUB));
        };
        if paths.is_empty() {
            // Bootstrapping a whole domain happens at boot, not from a shell.
            return Ok(usage(SUB));
        }
        let Some(Target {
            domain,
            label: None,
        }) = parse_target(target)
        else {
            return Ok(bad_target(SUB));
        };
        if !domain.exists(self.machine) {
            if let Domain::Gui(_) = domain {
                return Ok(no_session());
            }
            return Ok(no_domain(domain));
        }
        if !may_modify(self.machine, domain) {
            // launchd logs "Caller not allowed to perform action … code = 1: Operation not
            // permitted" (keybase/client#1543, nlf/dlite#75); the printed line follows the
            // `Bootstrap failed: N: …` shape (reimpl `bootstrap.c`). UNCONFIRMED wording.
            return Ok(Output::failed(
                1,
                "Bootstrap failed: 1: Operation not permitted\n",
            ));
        }
        let mut db = self.load()?;
        let mut outcome = Output::ok("");
        for path in paths {
            if let Some(failure) = self.bootstrap_one(&mut db, domain, path)? {
                outcome = failure;
                break;
            }
        }
        self.save(&db)?;
        Ok(outcome)
    }

    /// Loads one plist; `Some` output when launchd refuses it.
    fn bootstrap_one(
        &self,
        db: &mut LaunchdDb,
        domain: Domain,
        path: &str,
    ) -> Result<Option<Output>> {
        // A missing plist: EIO like every other refusal (NousResearch/hermes-agent#31212,
        // 2026: bootstrap of a plist that "was never written" printed
        // `Bootstrap failed: 5: Input/output error`). Relative paths resolve against a
        // working directory the emulated Mac does not have, so they are missing too.
        let Some(bytes) = self
            .machine
            .host_path(path)
            .filter(|p| p.is_file())
            .and_then(|p| std::fs::read(p).ok())
        else {
            return Ok(Some(self.bootstrap_eio()));
        };
        let spec = match launchd_db::JobSpec::from_bytes(&bytes) {
            Ok(spec) => spec,
            // Fixture `launchctl-bootstrap-invalid-plist.txt` (2017, as root): the path and
            // the reason, status 133. 133 is not old numbering: it is "Multiple errors were
            // returned; see stderr" in launchd's current table (sLaunchctl `Error.swift`;
            // reimpl `EMANY = 133`, which `enable.c` returns after printing per-name errors;
            // simctl's launchd_sim returns the same 133 in 2026 captures). Whether macOS
            // 13+ prints it for non-root callers or folds it into EIO is UNCONFIRMED.
            Err(code) => {
                return Ok(Some(Output::failed(
                    133,
                    format!("{path}: {}\n", xpc_strerror(code)),
                )));
            }
        };
        if !spec.loads_in(domain) {
            return Ok(Some(no_session()));
        }
        // A disabled label: EIO (openclaw/openclaw#849 and drpedapati/sciclaw#69: bootstrap
        // of a label left disabled fails with `Bootstrap failed: 5: Input/output error`
        // until `launchctl enable`). Root gets the same 5 (nix-installer#1157).
        if launchd_db::is_disabled(self.machine, domain, &spec)? {
            return Ok(Some(self.bootstrap_eio()));
        }
        // Already loaded: EIO, as in the fixture (Homebrew/homebrew-services#528, 13.1) and
        // openclaw/openclaw#48476 ("If the service is already registered (e.g., user runs
        // install twice), bootstrap returns exit code 5"). 37 "Operation already in
        // progress" is what a bootstrap loses to a concurrent one still in flight
        // (openclaw/openclaw#84722); the emulator's operations are instantaneous, so it
        // never happens here.
        if db.job(domain, &spec.label).is_some() {
            return Ok(Some(self.bootstrap_eio()));
        }
        let label = spec.label.clone();
        let runs = spec.run_at_load || spec.keep_alive;
        db.load(domain, path, spec);
        if runs {
            db.start(domain, &label, None);
        }
        Ok(None)
    }

    /// `bootout SERVICE-TARGET` or `bootout DOMAIN PATH...`.
    fn bootout(&self, args: &[String]) -> Step {
        const SUB: &str = "bootout";
        let [target, paths @ ..] = args else {
            return Ok(usage(SUB));
        };
        let Some(Target { domain, label }) = parse_target(target) else {
            return Ok(bad_target(SUB));
        };
        if !domain.exists(self.machine) {
            // Wamphyre/macOS_Silverback-Debloater#2 (Sequoia): a debloat script's
            // `bootout`/`disable` of gui/501 from a context without the GUI domain.
            return Ok(no_domain(domain));
        }
        if !may_modify(self.machine, domain) {
            // `Boot-out failed: 1: Operation not permitted` (Alkenso/sLaunchctl#1, 2024,
            // booting out a daemon without sudo).
            return Ok(Output::failed(
                1,
                "Boot-out failed: 1: Operation not permitted\n",
            ));
        }
        let mut db = self.load()?;
        // Service target: the label; path form: the labels inside the plists.
        let by_path = label.is_none();
        let labels: Vec<Option<String>> = match label {
            Some(label) => vec![Some(label)],
            None if paths.is_empty() => {
                return Ok(Output::failed(
                    1,
                    "launchctl: tearing down a whole domain is not emulated by macllm's \
                     sandbox; name a service or plist paths\n",
                ));
            }
            None => paths
                .iter()
                .map(|path| {
                    self.machine
                        .host_path(path)
                        .and_then(|p| std::fs::read(p).ok())
                        .and_then(|bytes| launchd_db::JobSpec::from_bytes(&bytes).ok())
                        .map(|spec| spec.label)
                })
                .collect(),
        };
        let mut outcome = Output::ok("");
        for label in labels {
            let job = label.as_deref().and_then(|l| db.job(domain, l));
            let Some(job) = job else {
                outcome = if by_path {
                    // jdx/mise PR #10965 (Darwin 27) and quantonganh.com (2025-09-26,
                    // `sudo launchctl bootout system /Library/LaunchDaemons/….plist` of a
                    // job that never loaded): the path form answers EIO.
                    Output::failed(5, "Boot-out failed: 5: Input/output error\n")
                } else {
                    // Fixture `launchctl-bootout-not-loaded.txt`.
                    Output::failed(3, "Boot-out failed: 3: No such process\n")
                };
                break;
            };
            let label = job.spec.label.clone();
            if job.sip_protected() && !launchd_db::SIP_REMOVABLE.contains(&label.as_str()) {
                // `Boot-out failed: 150: Operation not permitted while System Integrity
                // Protection is engaged`: OleksandrKrupko/mac-os-debloat PR #4 (2026, e.g.
                // com.apple.followupd), and a public 2026 project log where
                // `launchctl bootout gui/501/com.apple.mediaanalysisd` and
                // `…/com.apple.photoanalysisd` both ended "rc=150" with this message while
                // the agents kept running (file found through the code index, repository
                // not identified). So the many debloat scripts that run
                // `launchctl bootout gui/501/com.apple.photoanalysisd 2>/dev/null` do not
                // stop it on current releases; their `disable` is what lasts. From 10.12.4
                // "SIP … prevents unloading of any LaunchD item from /System" (openradar
                // 32281471); the Sonoma fixture `launchctl-unload-eio-sonoma.txt` is the
                // legacy `unload` form of the same refusal.
                outcome = Output::failed(
                    150,
                    "Boot-out failed: 150: Operation not permitted while System Integrity \
                     Protection is engaged\n",
                );
                break;
            }
            if let Some(state) = db.domains.get_mut(&domain.key()) {
                state.jobs.remove(&label);
            }
        }
        self.save(&db)?;
        Ok(outcome)
    }

    /// `enable|disable SERVICE-TARGET`: records an override, silently (reference 2.3). It
    /// does not load, unload, start or stop anything, and SIP does not refuse it (openradar
    /// 32281471: `disable` of an Apple job "does not give any error message").
    fn enable(&self, args: &[String], disable: bool) -> Step {
        let sub = if disable { "disable" } else { "enable" };
        let Some(target) = args.first() else {
            return Ok(usage(sub));
        };
        let Some(Target {
            domain,
            label: Some(label),
        }) = parse_target(target)
        else {
            return Ok(bad_target(sub));
        };
        if !domain.exists(self.machine) {
            return Ok(no_domain(domain));
        }
        if !may_modify(self.machine, domain) {
            // reimpl `enable.c`: `Could not %s service: %d: %s`. UNCONFIRMED on a real Mac.
            return Ok(Output::failed(
                1,
                format!("Could not {sub} service: 1: Operation not permitted\n"),
            ));
        }
        launchd_db::set_override(self.machine, domain, &label, disable)?;
        Ok(Output::ok(""))
    }

    /// `kickstart [-k] [-p] SERVICE-TARGET`: starts a loaded job; `-k` kills a running
    /// instance first; `-p` prints the pid (bare, as when stdout is not a terminal: reimpl
    /// `kickstart.c`).
    fn kickstart(&self, args: &[String]) -> Step {
        const SUB: &str = "kickstart";
        let parsed = match getopt("launchctl", args, "kps") {
            Ok(parsed) => parsed,
            Err(message) => {
                let mut output = usage(SUB);
                output.stderr = message + &output.stderr;
                return Ok(output);
            }
        };
        let kill = parsed.options.iter().any(|(o, _)| *o == 'k');
        let print_pid = parsed.options.iter().any(|(o, _)| *o == 'p');
        let Some(target) = parsed.operands.first() else {
            return Ok(usage(SUB));
        };
        let Some(Target {
            domain,
            label: Some(label),
        }) = parse_target(target)
        else {
            return Ok(bad_target(SUB));
        };
        if !domain.exists(self.machine) {
            if let Domain::Gui(_) = domain {
                // NousResearch/hermes-agent#30352 (macOS 26, SSH-only user):
                // `Could not kickstart service "ai.hermes.gateway": 125: Domain does not
                // support specified action`.
                return Ok(Output::failed(
                    125,
                    format!(
                        "Could not kickstart service \"{label}\": 125: {}\n",
                        xpc_strerror(125)
                    ),
                ));
            }
            return Ok(no_domain(domain));
        }
        if !may_modify(self.machine, domain) {
            // reimpl `kickstart.c` message shape; UNCONFIRMED wording.
            return Ok(Output::failed(
                1,
                format!("Could not kickstart service \"{label}\": 1: Operation not permitted\n"),
            ));
        }
        let mut db = self.load()?;
        let Some(job) = db.job(domain, &label) else {
            // geldata/gel-cli#312 and NousResearch/hermes-agent#31212: one line, status 113.
            return Ok(no_service(&label, domain));
        };
        let pid = match job.pid {
            // Already running and no -k: nothing to do. UNCONFIRMED (reimpl passes
            // launchd's EALREADY through silently as status 37; a real Mac is believed to
            // exit 0 here).
            Some(pid) if !kill => pid,
            running => {
                if running.is_some()
                    && domain == Domain::System
                    && job.sip_protected()
                    && version_triple(&self.machine.info.product_version) >= (14, 4, 0)
                {
                    // gavv/libASPL#8: from macOS 14.4 `sudo launchctl kickstart -k
                    // system/com.apple.audio.coreaudiod` fails "with operation not
                    // permitted". The exact text is UNCONFIRMED.
                    return Ok(Output::failed(
                        1,
                        format!(
                            "Could not kickstart service \"{label}\": 1: Operation not permitted\n"
                        ),
                    ));
                }
                // -k: launchd kills the running instance (SIGKILL; UNCONFIRMED which
                // signal) and spawns a new one.
                db.kill(domain, &label, Exit::Signal(9));
                let pid = db.start(domain, &label, None).unwrap_or_default();
                self.save(&db)?;
                pid
            }
        };
        Ok(Output::ok(if print_pid {
            format!("{pid}\n")
        } else {
            String::new()
        }))
    }

    /// `print SERVICE-TARGET` or `print DOMAIN`. Apple: "This output is NOT API in any
    /// sense at all" — macllm should rely on the exit status (reference 2.4).
    fn print(&self, args: &[String]) -> Step {
        const SUB: &str = "print";
        let Some(target) = args.first() else {
            return Ok(usage(SUB));
        };
        let Some(Target { domain, label }) = parse_target(target) else {
            return Ok(bad_target(SUB));
        };
        if !domain.exists(self.machine) {
            return Ok(no_domain(domain));
        }
        let db = self.load()?;
        let Some(label) = label else {
            return Ok(Output::ok(print_domain(&db, domain)));
        };
        match db.job(domain, &label) {
            Some(job) => Ok(Output::ok(print_service(domain, job))),
            // Reference 2.4: `Bad request.` then the service line, status 113 (seen in
            // several public shell gates for gui/ and system/; UNCONFIRMED attribution and
            // whether `system` prints the first line too).
            None => {
                let mut output = no_service(&label, domain);
                output.stderr = format!("Bad request.\n{}", output.stderr);
                Ok(output)
            }
        }
    }

    /// `print-disabled DOMAIN`: every override of the domain, in database order, in the
    /// vocabulary of the emulated release: `=> true|false` up to macOS 12, `=> disabled|
    /// enabled` from 13 (reference 2.2; fixtures `launchctl-print-disabled-user-legacy.txt`
    /// and `…-modern-lines.txt`). The legacy capture's `login item associations` block is
    /// not emitted (the emulated Mac has no login items).
    fn print_disabled(&self, args: &[String]) -> Step {
        const SUB: &str = "print-disabled";
        let Some(target) = args.first() else {
            return Ok(usage(SUB));
        };
        let Some(Target {
            domain,
            label: None,
        }) = parse_target(target)
        else {
            return Ok(bad_target(SUB));
        };
        if !domain.exists(self.machine) {
            return Ok(no_domain(domain));
        }
        let modern = major_version(self.machine) >= 13;
        let mut text = String::from("disabled services = {\n");
        for (label, value) in launchd_db::overrides(self.machine, domain)?.iter() {
            let disabled = value.as_boolean().unwrap_or(false);
            let word = match (modern, disabled) {
                (true, true) => "disabled",
                (true, false) => "enabled",
                (false, true) => "true",
                (false, false) => "false",
            };
            let _ = writeln!(text, "\t\"{label}\" => {word}");
        }
        text.push_str("}\n");
        Ok(Output::ok(text))
    }

    /// `list`: the caller's domain as `PID\tStatus\tLabel` (fixture
    /// `launchctl-list-elcapitan-partial.txt`), `-` for jobs not running, Status the last
    /// exit status or minus the terminating signal (`launchctl-list-grep-homebrew.txt`).
    /// Rows are sorted by label (launchd's order is its hash table's).
    /// `list LABEL`: the job as an old-style dictionary (fixture `launchctl-list-label.txt`;
    /// `"PID"` only while running: `launchctl-list-label-not-running.txt`); an unknown
    /// label, including a `gui/501/LABEL` target, which `list` does not take (Homebrew/brew
    /// PR #19602), is `Could not find service "LABEL" in domain for port`, status 113
    /// (fixture `launchctl-list-label-not-found.txt`).
    fn list(&self, args: &[String]) -> Step {
        let domain = caller_domain(self.machine);
        let db = self.load()?;
        let jobs = db.domain(domain).map(|d| &d.jobs);
        let Some(label) = args.first() else {
            let mut text = String::from("PID\tStatus\tLabel\n");
            for job in jobs.into_iter().flat_map(|jobs| jobs.values()) {
                let pid = job.pid.map_or("-".to_string(), |p| p.to_string());
                let _ = writeln!(text, "{pid}\t{}\t{}", list_status(job), job.spec.label);
            }
            return Ok(Output::ok(text));
        };
        match jobs.and_then(|jobs| jobs.get(label)) {
            Some(job) => Ok(Output::ok(list_dict(domain, job))),
            None => Ok(Output::failed(
                113,
                format!("Could not find service \"{label}\" in domain for port\n"),
            )),
        }
    }

    /// The job a legacy `start`/`stop` names: a label in the caller's domain, or a service
    /// target (nix-installer runs `launchctl stop system/org.nixos.nix-daemon`).
    fn legacy_target(&self, name: &str) -> (Domain, String) {
        match parse_target(name) {
            Some(Target {
                domain,
                label: Some(label),
            }) => (domain, label),
            _ => (caller_domain(self.machine), name.to_string()),
        }
    }

    /// `start NAME`: starts a loaded job that is not running; running already is success
    /// (reimpl `start_stop.c` maps EALREADY to 0).
    fn start(&self, args: &[String]) -> Step {
        let Some(name) = args.first() else {
            return Ok(usage("start"));
        };
        let (domain, label) = self.legacy_target(name);
        if !domain.exists(self.machine) {
            return Ok(no_domain(domain));
        }
        if !may_modify(self.machine, domain) {
            // reimpl `start_stop.c`.
            return Ok(Output::failed(1, "Not privileged to start service.\n"));
        }
        let mut db = self.load()?;
        match db.job(domain, &label) {
            None => Ok(Output::failed(
                113,
                format!("Could not find service \"{label}\" in domain for port\n"),
            )),
            Some(job) if job.pid.is_some() => Ok(Output::ok("")),
            Some(_) => {
                db.start(domain, &label, None);
                self.save(&db)?;
                Ok(Output::ok(""))
            }
        }
    }

    /// `stop NAME`: SIGTERM to the running instance (launchd starts a KeepAlive job again
    /// at once). A job that is not running — or not loaded — is status 3, silently
    /// (nix-installer `kickstart_launchctl_service.rs`: "a status code of `3` was reported
    /// if the service was stopped while not running"; the not-loaded case is UNCONFIRMED).
    fn stop(&self, args: &[String]) -> Step {
        let Some(name) = args.first() else {
            return Ok(usage("stop"));
        };
        let (domain, label) = self.legacy_target(name);
        if !domain.exists(self.machine) {
            return Ok(no_domain(domain));
        }
        if !may_modify(self.machine, domain) {
            // reimpl `start_stop.c`.
            return Ok(Output::failed(1, "Not privileged to stop service.\n"));
        }
        let mut db = self.load()?;
        let Some(job) = db.job(domain, &label).filter(|job| job.pid.is_some()) else {
            return Ok(Output::failed(3, ""));
        };
        let keep_alive = job.spec.keep_alive;
        db.kill(domain, &label, Exit::Signal(15));
        if keep_alive {
            db.start(domain, &label, None);
        }
        self.save(&db)?;
        Ok(Output::ok(""))
    }

    /// `setenv KEY VALUE [KEY VALUE...]`: for processes the caller's domain starts from now
    /// on; running ones keep their environment (reference 2.6). Lost at reboot.
    fn setenv(&self, args: &[String]) -> Step {
        if args.is_empty() || !args.len().is_multiple_of(2) {
            return Ok(usage("setenv"));
        }
        let domain = caller_domain(self.machine);
        let mut db = self.load()?;
        let environment = &mut db.domain_mut(domain).environment;
        for pair in args.chunks(2) {
            environment.insert(pair[0].clone(), pair[1].clone());
        }
        self.save(&db)?;
        Ok(Output::ok(""))
    }

    fn unsetenv(&self, args: &[String]) -> Step {
        if args.is_empty() {
            return Ok(usage("unsetenv"));
        }
        let domain = caller_domain(self.machine);
        let mut db = self.load()?;
        let environment = &mut db.domain_mut(domain).environment;
        for key in args {
            environment.remove(key);
        }
        self.save(&db)?;
        Ok(Output::ok(""))
    }

    /// `getenv KEY`: the value and a newline; nothing and status 0 when unset (reimpl
    /// `env.c` returns 0 either way; Ollama treats empty output as unset, reference 2.6).
    fn getenv(&self, args: &[String]) -> Step {
        let Some(key) = args.first() else {
            return Ok(usage("getenv"));
        };
        let db = self.load()?;
        let value = db
            .domain(caller_domain(self.machine))
            .and_then(|d| d.environment.get(key));
        Ok(Output::ok(
            value.map_or(String::new(), |v| format!("{v}\n")),
        ))
    }
}

/// Bootstrap into a GUI domain that does not exist, or of a job whose
/// `LimitLoadToSessionType` excludes the domain's session: fixture
/// `launchctl-bootstrap-125-no-gui-domain.txt` (duh17/oppi#31, over SSH on a headless Mac),
/// status 125 (Homebrew `LAUNCHCTL_DOMAIN_ACTION_NOT_SUPPORTED = 125`). That an Aqua-only
/// agent bootstrapped into `user/<uid>` gets the same answer is UNCONFIRMED (Mic92/sops-nix
/// PR #966 and duh17/oppi#31 fix both by adding `Background`).
fn no_session() -> Output {
    Output::failed(
        125,
        "Bootstrap failed: 125: Domain does not support specified action\n\
         Service cannot load in requested session\n",
    )
}

/// `list`'s Status column.
fn list_status(job: &Job) -> String {
    match job.last_exit {
        None => "0".to_string(),
        Some(Exit::Code(code)) => code.to_string(),
        Some(Exit::Signal(signal)) => format!("-{signal}"),
    }
}

/// An old-style plist string as `list LABEL` prints it: always quoted.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `list LABEL`. Key order follows fixture `launchctl-list-label.txt` (launchd's XPC
/// dictionary order, stable in practice); `"LastExitStatus"` is the raw wait(2) status, so
/// an exit code shows shifted left by 8 (exit 78 prints 19968) and a signal as its number.
fn list_dict(domain: Domain, job: &Job) -> String {
    let spec = &job.spec;
    let mut text = String::from("{\n");
    let mut line = |key: &str, value: String| {
        let _ = writeln!(text, "\t\"{key}\" = {value};");
    };
    let array = |items: &[String]| {
        let mut block = String::from("(\n");
        for item in items {
            let _ = writeln!(block, "\t\t{};", quoted(item));
        }
        block.push('\t');
        block.push(')');
        block
    };
    if let Some(path) = &spec.stdout_path {
        line("StandardOutPath", quoted(path));
    }
    match spec.session_types.as_slice() {
        [] => line("LimitLoadToSessionType", quoted(domain.session_type())),
        [one] => line("LimitLoadToSessionType", quoted(one)),
        many => line("LimitLoadToSessionType", array(many)),
    }
    if let Some(path) = &spec.stderr_path {
        line("StandardErrorPath", quoted(path));
    }
    line("Label", quoted(&spec.label));
    line("OnDemand", (!spec.keep_alive).to_string());
    let status = match job.last_exit {
        None => 0,
        Some(Exit::Code(code)) => (code & 0xff) << 8,
        Some(Exit::Signal(signal)) => signal,
    };
    line("LastExitStatus", status.to_string());
    if let Some(pid) = job.pid {
        line("PID", pid.to_string());
    }
    line("Program", quoted(spec.executable()));
    if !spec.arguments.is_empty() {
        line("ProgramArguments", array(&spec.arguments));
    }
    text.push_str("};\n");
    text
}

/// `print DOMAIN`, minimal: the domain's type, its `setenv` environment and its services
/// as `PID EXIT-STATUS LABEL` rows (the row layout, pid right-aligned in 8 columns, status
/// in 6 with `-` before any exit, then a space and a TAB, is from a 2017 `launchctl print
/// system` line in Homebrew/homebrew-services#111; a pid of 0 for jobs not running and the
/// header lines are UNCONFIRMED).
fn print_domain(db: &LaunchdDb, domain: Domain) -> String {
    let empty = launchd_db::DomainState::default();
    let state = db.domain(domain).unwrap_or(&empty);
    let (kind, handle) = match domain {
        Domain::System => ("system", 0),
        Domain::Gui(uid) => ("login", uid),
        Domain::User(uid) => ("user", uid),
    };
    let running = state.jobs.values().filter(|j| j.pid.is_some()).count();
    let mut text = format!("{} = {{\n", domain.key());
    let _ = writeln!(text, "\ttype = {kind}");
    let _ = writeln!(text, "\thandle = {handle}");
    let _ = writeln!(text, "\tactive count = {running}");
    let _ = writeln!(text, "\tservice count = {}", state.jobs.len());
    text.push('\n');
    if !state.environment.is_empty() {
        environment_block(&mut text, "environment", &state.environment);
    }
    text.push_str("\tservices = {\n");
    for job in state.jobs.values() {
        let status = match job.last_exit {
            None => "-".to_string(),
            Some(Exit::Code(code)) => code.to_string(),
            Some(Exit::Signal(signal)) => format!("-{signal}"),
        };
        let _ = writeln!(
            text,
            "\t\t{:>8} {status:>6} \t{}",
            job.pid.unwrap_or(0),
            job.spec.label
        );
    }
    text.push_str("\t}\n}\n");
    text
}

fn environment_block(text: &mut String, name: &str, environment: &BTreeMap<String, String>) {
    let _ = writeln!(text, "\t{name} = {{");
    for (key, value) in environment {
        let _ = writeln!(text, "\t\t{key} => {value}");
    }
    text.push_str("\t}\n\n");
}

/// `print SERVICE-TARGET` in the modern shape (reference 2.4; the 10.10 capture
/// `launchctl-print-system-service-yosemite-partial.txt` for grouping and `KEY => value`
/// environment lines; `arguments` and `last exit code = 78: EX_CONFIG` from
/// `launchctl-print-fragment-ex-config.txt`). Lines tests may rely on: `state = running |
/// not running`, `pid = N` (only while running), `last exit code = …`. The `inherited
/// environment` block (the domain's `setenv` values the running instance was started
/// with), `default environment`, the `domain` line for `user`/`system`, and `spawn type`
/// (Interactive → `interactive (4)`, Adaptive → `adaptive (6)`, anything else `daemon (3)`)
/// are UNCONFIRMED.
fn print_service(domain: Domain, job: &Job) -> String {
    let spec = &job.spec;
    let running = job.pid.is_some();
    let mut text = format!("{}/{} = {{\n", domain.key(), spec.label);
    let _ = writeln!(text, "\tactive count = {}", u8::from(running));
    let _ = writeln!(text, "\tpath = {}", job.path);
    let _ = writeln!(text, "\ttype = {}", domain.job_type());
    let _ = writeln!(
        text,
        "\tstate = {}",
        if running { "running" } else { "not running" }
    );
    text.push('\n');
    let _ = writeln!(text, "\tprogram = {}", spec.executable());
    text.push_str("\targuments = {\n");
    let arguments = if spec.arguments.is_empty() {
        vec![spec.executable().to_string()]
    } else {
        spec.arguments.clone()
    };
    for argument in arguments {
        let _ = writeln!(text, "\t\t{argument}");
    }
    text.push_str("\t}\n\n");
    if let Some(directory) = &spec.working_directory {
        let _ = writeln!(text, "\tworking directory = {directory}\n");
    }
    if spec.stdout_path.is_some() || spec.stderr_path.is_some() {
        if let Some(path) = &spec.stdout_path {
            let _ = writeln!(text, "\tstdout path = {path}");
        }
        if let Some(path) = &spec.stderr_path {
            let _ = writeln!(text, "\tstderr path = {path}");
        }
        text.push('\n');
    }
    if running && !job.inherited_environment.is_empty() {
        environment_block(
            &mut text,
            "inherited environment",
            &job.inherited_environment,
        );
    }
    let default: BTreeMap<String, String> = [(
        "PATH".to_string(),
        "/usr/bin:/bin:/usr/sbin:/sbin".to_string(),
    )]
    .into();
    environment_block(&mut text, "default environment", &default);
    let mut environment = spec.environment.clone();
    environment.insert("XPC_SERVICE_NAME".to_string(), spec.label.clone());
    environment_block(&mut text, "environment", &environment);
    let domain_line = match domain {
        Domain::Gui(uid) => format!("gui/{uid} [{}]", launchd_db::GUI_ASID),
        other => other.key(),
    };
    let _ = writeln!(text, "\tdomain = {domain_line}");
    if let Domain::Gui(_) = domain {
        let _ = writeln!(text, "\tasid = {}", launchd_db::GUI_ASID);
    }
    text.push_str("\tminimum runtime = 10\n\texit timeout = 5\n");
    let _ = writeln!(text, "\truns = {}", job.runs);
    if let Some(pid) = job.pid {
        let _ = writeln!(text, "\tpid = {pid}");
    }
    match job.last_exit {
        None => text.push_str("\tlast exit code = (never exited)\n"),
        Some(Exit::Code(code)) => match sysexits_name(code) {
            Some(name) => {
                let _ = writeln!(text, "\tlast exit code = {code}: {name}");
            }
            None => {
                let _ = writeln!(text, "\tlast exit code = {code}");
            }
        },
        // kxn/codex-remote-feishu#914 and reference 2.4: `last terminating signal =
        // Terminated: 15`.
        Some(Exit::Signal(signal)) => {
            let _ = writeln!(
                text,
                "\tlast terminating signal = {}: {signal}",
                signal_name(signal)
            );
        }
    }
    text.push('\n');
    let spawn_type = match spec.process_type.as_deref() {
        Some("Interactive") => "interactive (4)",
        Some("Adaptive") => "adaptive (6)",
        _ => "daemon (3)",
    };
    let _ = writeln!(text, "\tspawn type = {spawn_type}");
    let mut properties = Vec::new();
    if spec.keep_alive {
        properties.push("keepalive");
    }
    if spec.run_at_load {
        properties.push("runatload");
    }
    if spec.program.is_none() {
        properties.push("inferred program");
    }
    if !properties.is_empty() {
        let _ = writeln!(text, "\tproperties = {}", properties.join(" | "));
    }
    text.push_str("}\n");
    text
}

/// sysexits(3) names, which `print` appends to exit codes 64–78.
fn sysexits_name(code: i32) -> Option<&'static str> {
    const NAMES: [&str; 15] = [
        "EX_USAGE",
        "EX_DATAERR",
        "EX_NOINPUT",
        "EX_NOUSER",
        "EX_NOHOST",
        "EX_UNAVAILABLE",
        "EX_SOFTWARE",
        "EX_OSERR",
        "EX_OSFILE",
        "EX_CANTCREAT",
        "EX_IOERR",
        "EX_TEMPFAIL",
        "EX_PROTOCOL",
        "EX_NOPERM",
        "EX_CONFIG",
    ];
    usize::try_from(code - 64)
        .ok()
        .and_then(|i| NAMES.get(i).copied())
}

/// strsignal(3) for the signals launchd sends.
fn signal_name(signal: i32) -> String {
    match signal {
        1 => "Hangup".to_string(),
        2 => "Interrupt".to_string(),
        6 => "Abort trap".to_string(),
        9 => "Killed".to_string(),
        15 => "Terminated".to_string(),
        other => format!("Signal {other}"),
    }
}

/// macOS strerror(3) for the POSIX errors launchctl reports.
fn posix_strerror(code: i32) -> String {
    let text = match code {
        0 => "Undefined error: 0",
        1 => "Operation not permitted",
        2 => "No such file or directory",
        3 => "No such process",
        4 => "Interrupted system call",
        5 => "Input/output error",
        9 => "Bad file descriptor",
        12 => "Cannot allocate memory",
        13 => "Permission denied",
        16 => "Resource busy",
        17 => "File exists",
        22 => "Invalid argument",
        35 => "Resource temporarily unavailable",
        36 => "Operation now in progress",
        37 => "Operation already in progress",
        45 => "Operation not supported",
        60 => "Operation timed out",
        77 => "No locks available",
        78 => "Function not implemented",
        _ => return format!("Unknown error: {code}"),
    };
    text.to_string()
}

/// launchd's error strings, 107 and up (Alkenso/sLaunchctl `Error.swift`; reimpl
/// `xpc_private.h` agrees on 112, 113, 116, 117, 118, 126, 133, 140, 142, 153), else
/// strerror(3).
pub fn xpc_strerror(code: i32) -> String {
    const XPC: [&str; 53] = [
        "Malformed bundle",
        "Invalid path",
        "Invalid property list",
        "Invalid or missing service identifier",
        "Invalid or missing Program/ProgramArguments",
        "Could not find specified domain",
        "Could not find specified service",
        "The specified username does not exist",
        "The specified group does not exist",
        "Routine not yet implemented",
        "(n/a)",
        "Bad response from server",
        "Service is disabled",
        "Bad subsystem destination for request",
        "Path not searched for services",
        "Path had bad ownership/permissions",
        "Path is whitelisted for domain",
        "Domain is tearing down",
        "Domain does not support specified action",
        "Request type is no longer supported",
        "The specified service did not ship with the operating system",
        "The specified path is not a bundle",
        "The service was superseded by a later version",
        "The system encountered a condition where behavior was undefined",
        "Out of order requests",
        "Request for stale data",
        "Multiple errors were returned; see stderr",
        "Service cannot load in requested session",
        "Process is not managed",
        "Action not allowed on singleton service",
        "Service does not support the specified action",
        "Service cannot be loaded on this hardware",
        "Service cannot presently execute",
        "Service name is reserved or invalid",
        "Reentrancy avoided",
        "Operation only supported on development",
        "Requested entry was cached",
        "Requestor lacks required entitlement",
        "Endpoint is hidden",
        "Domain is in on-demand-only mode",
        "The specified service did not ship in the requestor",
        "The specified service path was not in the service cache",
        "Could not find a bundle of the given identifier through LaunchServices",
        "Operation not permitted while System Integrity Protection is engaged",
        "A complete hack",
        "Service cannot load in current boot environment",
        "Completely unexpected error",
        "Requestor is not a platform binary",
        "Refusing to execute/trust quarantined program/file",
        "Domain creation with that UID is not allowed anymore",
        "System service is not in system service whitelist",
        "Service cannot be loaded on current os variant",
        "Unknown error",
    ];
    match usize::try_from(code - 107).ok().and_then(|i| XPC.get(i)) {
        Some(text) => text.to_string(),
        None => posix_strerror(code),
    }
}

/// `error [posix] CODE`: `CODE: meaning` on stdout (reimpl `error.c`; the newbetuts.com
/// answer quotes `launchctl error 77` → `77: No locks available`). Mach and bootstrap
/// error spaces are not emulated.
fn error(args: &[String]) -> Output {
    let code = match args {
        [space, code, ..] if space == "posix" => code,
        [space, ..] if space == "mach" || space == "bootstrap" => {
            return Output::failed(
                1,
                format!("launchctl: `error {space}` is not emulated by macllm's sandbox\n"),
            );
        }
        [code, ..] => code,
        [] => return usage("error"),
    };
    let parsed = match code.strip_prefix("0x") {
        Some(hex) => i64::from_str_radix(hex, 16).ok(),
        None => code.parse::<i64>().ok(),
    };
    // strtoul(3): a word that is not a number reads as 0.
    let code = parsed.and_then(|c| i32::try_from(c).ok()).unwrap_or(0);
    Output::ok(format!("{code}: {}\n", xpc_strerror(code)))
}

/// Parses a domain target for the public API; `None` for anything but `system`,
/// `gui/<uid>`, `user/<uid>`.
fn api_domain(domain: &str) -> Option<Domain> {
    Domain::parse(domain)
}

/// Whether `label` is loaded in `domain` (`system`, `gui/501`, `user/501`).
pub fn is_loaded(machine: &Machine, domain: &str, label: &str) -> bool {
    let Some(domain) = api_domain(domain) else {
        return false;
    };
    launchd_db::load(machine)
        .map(|db| db.job(domain, label).is_some())
        .unwrap_or(false)
}

/// The pid of `label`'s running instance in `domain`, if it runs.
pub fn pid_of(machine: &Machine, domain: &str, label: &str) -> Option<u32> {
    let domain = api_domain(domain)?;
    launchd_db::load(machine)
        .ok()?
        .job(domain, label)
        .and_then(|job| job.pid)
}

/// The override database's entry for `label` in `domain`: `Some(true)` disabled,
/// `Some(false)` explicitly enabled, `None` no override.
pub fn override_of(machine: &Machine, domain: &str, label: &str) -> Option<bool> {
    launchd_db::override_of(machine, api_domain(domain)?, label)
        .ok()
        .flatten()
}

/// The `launchctl setenv` values of `domain`.
pub fn domain_environment(machine: &Machine, domain: &str) -> BTreeMap<String, String> {
    api_domain(domain)
        .and_then(|domain| {
            launchd_db::load(machine)
                .ok()?
                .domain(domain)
                .map(|d| d.environment.clone())
        })
        .unwrap_or_default()
}

/// The environment `label`'s running instance got: the domain's `setenv` values when it
/// was spawned, overridden by the plist's `EnvironmentVariables` (precedence UNCONFIRMED,
/// reference 5.2 assumes the plist wins), plus `XPC_SERVICE_NAME`. `None` when not running.
pub fn process_environment(
    machine: &Machine,
    domain: &str,
    label: &str,
) -> Option<BTreeMap<String, String>> {
    let domain = api_domain(domain)?;
    let db = launchd_db::load(machine).ok()?;
    let job = db.job(domain, label).filter(|job| job.pid.is_some())?;
    let mut environment = job.inherited_environment.clone();
    environment.extend(job.spec.environment.clone());
    environment.insert("XPC_SERVICE_NAME".to_string(), label.to_string());
    Some(environment)
}

/// Reboots the emulated Mac as far as launchd is concerned (and logs the user back in,
/// into a GUI session when `gui_session`): `setenv` values are gone, jobs bootstrapped from
/// outside the standard directories are gone, plists in the standard directories load
/// unless disabled, and `RunAtLoad`/`KeepAlive` jobs run. The override databases persist
/// (reference 2.2). See [`launchd_db::boot`]. Values set with `sysctl` are gone too
/// ([`crate::sysctl::boot`]).
pub fn reboot(machine: &Machine) -> Result<()> {
    crate::sysctl::boot(machine)?;
    let mut db = launchd_db::load(machine)?;
    launchd_db::boot(machine, &mut db)?;
    launchd_db::save(machine, &db)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{args, mac};

    fn lc(machine: &Machine, list: &[&str]) -> Output {
        run(machine, &args(list))
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(machine: &Machine, list: &[&str]) -> String {
        let out = lc(machine, list);
        assert_eq!(out.status, 0, "{list:?} failed: {}", out.stderr);
        assert_eq!(out.stderr, "", "{list:?}");
        out.stdout
    }

    fn failed(machine: &Machine, list: &[&str], status: i32, stderr: &str) {
        let out = lc(machine, list);
        assert_eq!(
            (out.status, out.stderr.as_str(), out.stdout.as_str()),
            (status, stderr, ""),
            "{list:?}"
        );
    }

    /// A LaunchAgent plist in the style of Homebrew's `ollama` service (reference 5.2).
    fn agent_xml(label: &str, extra: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>{label}</string>
	<key>ProgramArguments</key>
	<array>
		<string>/opt/homebrew/opt/ollama/bin/ollama</string>
		<string>serve</string>
	</array>
{extra}
</dict>
</plist>
"#
        )
    }

    const RUN_AT_LOAD: &str = "\t<key>RunAtLoad</key>\n\t<true/>";

    /// Writes `xml` at the Mac path `path`; returns the path.
    fn write_plist(machine: &Machine, path: &str, xml: &str) -> String {
        let host = machine.host_path(path).unwrap();
        std::fs::create_dir_all(host.parent().unwrap()).unwrap();
        std::fs::write(host, xml).unwrap();
        path.to_string()
    }

    fn user_agent(machine: &Machine, label: &str, extra: &str) -> String {
        let path = format!("/Users/admin/Library/LaunchAgents/{label}.plist");
        write_plist(machine, &path, &agent_xml(label, extra))
    }

    fn line_of<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
        text.lines().map(str::trim).find(|l| l.starts_with(prefix))
    }

    /// Fixture `launchctl-print-disabled-modern-lines.txt` (13+): `=> disabled|enabled`,
    /// one TAB-indented quoted label per line inside `disabled services = {` … `}`.
    #[test]
    fn print_disabled_uses_disabled_enabled_from_ventura() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        ok(&machine, &["disable", "gui/501/com.docker.helper"]);
        ok(&machine, &["enable", "gui/501/com.docker.helper"]);
        ok(&machine, &["disable", "gui/501/com.apple.photoanalysisd"]);
        assert_eq!(
            ok(&machine, &["print-disabled", "gui/501"]),
            "disabled services = {\n\
             \t\"com.apple.ManagedClientAgent.enrollagent\" => disabled\n\
             \t\"com.docker.helper\" => enabled\n\
             \t\"com.apple.photoanalysisd\" => disabled\n\
             }\n"
        );
        let system = ok(&machine, &["print-disabled", "system"]);
        assert!(system.contains("\t\"com.apple.screensharing\" => disabled\n"));
        assert!(system.contains("\t\"com.openssh.sshd\" => enabled\n"));
    }

    /// Nothing removes an override once written (reference 2.2): `enable` leaves an explicit
    /// `=> enabled` (MacTools PR #116's macOS 26.5.1 capture lists `"com.docker.helper" =>
    /// enabled`; MaccaTech/PostgresPrefs#7 shows `disabled.501.plist` keeping `<false/>`
    /// entries after an override was turned back off), and neither bootout, deleting the
    /// plist nor a reboot drops it ("This state persists across boots", man launchctl).
    #[test]
    fn overrides_outlive_their_job_and_enable_does_not_remove_them() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        let path = user_agent(&machine, "com.example.gone", RUN_AT_LOAD);
        ok(&machine, &["bootstrap", "gui/501", &path]);
        ok(&machine, &["disable", "gui/501/com.example.gone"]);
        ok(&machine, &["enable", "gui/501/com.example.gone"]);
        ok(&machine, &["bootout", "gui/501/com.example.gone"]);
        std::fs::remove_file(machine.host_path(&path).unwrap()).unwrap();
        reboot(&machine).unwrap();
        assert_eq!(
            ok(&machine, &["print-disabled", "gui/501"]),
            "disabled services = {\n\
             \t\"com.apple.ManagedClientAgent.enrollagent\" => disabled\n\
             \t\"com.example.gone\" => enabled\n\
             }\n"
        );
    }

    /// Fixture `launchctl-print-disabled-user-legacy.txt` (Monterey and earlier): `=> true`
    /// means disabled, `=> false` enabled.
    #[test]
    fn print_disabled_uses_true_false_up_to_monterey() {
        let (_dir, machine) = mac("m1-8gb-monterey");
        ok(&machine, &["enable", "gui/501/com.docker.helper"]);
        ok(&machine, &["disable", "gui/501/com.apple.Siri.agent"]);
        assert_eq!(
            ok(&machine, &["print-disabled", "user/501"]),
            "disabled services = {\n\
             \t\"com.apple.ManagedClientAgent.enrollagent\" => true\n\
             \t\"com.docker.helper\" => false\n\
             \t\"com.apple.Siri.agent\" => true\n\
             }\n"
        );
    }

    /// Reference 2.2/2.3: enable and disable print nothing, exit 0, and write the override
    /// database (user and gui share `disabled.<uid>.plist`), which survives a reboot.
    #[test]
    fn enable_and_disable_persist_in_the_override_database() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        assert_eq!(override_of(&machine, "gui/501", "com.example.x"), None);
        ok(&machine, &["disable", "gui/501/com.example.x"]);
        assert_eq!(
            override_of(&machine, "gui/501", "com.example.x"),
            Some(true)
        );
        assert_eq!(
            override_of(&machine, "user/501", "com.example.x"),
            Some(true)
        );
        let file = machine
            .dir
            .join("var/db/com.apple.xpc.launchd/disabled.501.plist");
        let dict = plist::Value::from_file(&file).unwrap();
        let entry = dict.as_dictionary().unwrap().get("com.example.x").cloned();
        assert_eq!(entry, Some(plist::Value::Boolean(true)));
        // Disabling again is just as silent (no "already disabled" error).
        ok(&machine, &["disable", "gui/501/com.example.x"]);
        reboot(&machine).unwrap();
        assert_eq!(
            override_of(&machine, "gui/501", "com.example.x"),
            Some(true)
        );
        ok(&machine, &["enable", "gui/501/com.example.x"]);
        assert_eq!(
            override_of(&machine, "gui/501", "com.example.x"),
            Some(false)
        );
    }

    /// Reference 2.3: "Disabling only affects future loads; it does not stop a running job".
    /// After a reboot the disabled job is not loaded.
    #[test]
    fn disable_leaves_a_running_job_running_until_reboot() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        ok(&machine, &["disable", "gui/501/com.apple.photoanalysisd"]);
        assert_eq!(
            pid_of(&machine, "gui/501", "com.apple.photoanalysisd"),
            Some(611)
        );
        reboot(&machine).unwrap();
        assert!(!is_loaded(&machine, "gui/501", "com.apple.photoanalysisd"));
        assert!(is_loaded(&machine, "gui/501", "com.apple.mediaanalysisd"));
    }

    /// Reference 2.3: bootstrap prints nothing and exits 0; a RunAtLoad/KeepAlive job runs
    /// at once with the plist's environment.
    #[test]
    fn bootstrap_loads_and_starts_a_run_at_load_agent() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        // Presets run Homebrew's Ollama already (`brew services start ollama`); stop it
        // first, as `brew services stop ollama` would.
        ok(&machine, &["bootout", "gui/501/homebrew.mxcl.ollama"]);
        let extra = format!(
            "{RUN_AT_LOAD}\n\t<key>KeepAlive</key>\n\t<true/>\n\
             \t<key>ProcessType</key>\n\t<string>Interactive</string>\n\
             \t<key>EnvironmentVariables</key>\n\t<dict>\n\
             \t\t<key>OLLAMA_FLASH_ATTENTION</key>\n\t\t<string>1</string>\n\t</dict>"
        );
        let path = user_agent(&machine, "homebrew.mxcl.ollama", &extra);
        assert_eq!(ok(&machine, &["bootstrap", "gui/501", &path]), "");
        assert!(is_loaded(&machine, "gui/501", "homebrew.mxcl.ollama"));
        let pid = pid_of(&machine, "gui/501", "homebrew.mxcl.ollama").unwrap();
        let printed = ok(&machine, &["print", "gui/501/homebrew.mxcl.ollama"]);
        assert!(printed.starts_with("gui/501/homebrew.mxcl.ollama = {\n"));
        assert_eq!(line_of(&printed, "state ="), Some("state = running"));
        assert_eq!(
            line_of(&printed, "pid ="),
            Some(format!("pid = {pid}").as_str())
        );
        assert!(
            printed.contains(
                "\tpath = /Users/admin/Library/LaunchAgents/homebrew.mxcl.ollama.plist\n"
            )
        );
        assert!(printed.contains("\ttype = LaunchAgent\n"));
        assert!(printed.contains("\t\tOLLAMA_FLASH_ATTENTION => 1\n"));
        assert!(printed.contains("\tspawn type = interactive (4)\n"));
        assert!(printed.contains("\tdomain = gui/501 [100004]\n"));
        assert!(printed.contains("\tproperties = keepalive | runatload | inferred program\n"));
        assert!(printed.contains(
            "\targuments = {\n\t\t/opt/homebrew/opt/ollama/bin/ollama\n\t\tserve\n\t}\n"
        ));
    }

    /// A job without RunAtLoad loads but does not run (`state = not running`, no pid line,
    /// `last exit code = (never exited)`: reference 2.4) until `kickstart` starts it;
    /// `kickstart -k` kills and respawns it; `-p` prints the pid.
    #[test]
    fn kickstart_starts_and_k_restarts() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        let path = user_agent(&machine, "com.example.job", "");
        ok(&machine, &["bootstrap", "gui/501", &path]);
        let printed = ok(&machine, &["print", "gui/501/com.example.job"]);
        assert_eq!(line_of(&printed, "state ="), Some("state = not running"));
        assert_eq!(line_of(&printed, "pid ="), None);
        assert!(printed.contains("\tlast exit code = (never exited)\n"));
        assert!(printed.contains("\tspawn type = daemon (3)\n"));
        assert_eq!(ok(&machine, &["kickstart", "gui/501/com.example.job"]), "");
        let first = pid_of(&machine, "gui/501", "com.example.job").unwrap();
        // Running, no -k: nothing happens.
        assert_eq!(
            ok(&machine, &["kickstart", "-p", "gui/501/com.example.job"]),
            format!("{first}\n")
        );
        let second: u32 = ok(
            &machine,
            &["kickstart", "-k", "-p", "gui/501/com.example.job"],
        )
        .trim()
        .parse()
        .unwrap();
        assert_ne!(first, second);
        let printed = ok(&machine, &["print", "gui/501/com.example.job"]);
        assert!(printed.contains("\truns = 2\n"));
        assert!(printed.contains("\tlast terminating signal = Killed: 9\n"));
    }

    /// Fixture `launchctl-bootstrap-eio.txt` (13.1): a label already loaded is EIO with
    /// the root hint, status 5; under sudo only the first line (nix-installer#1157).
    #[test]
    fn bootstrap_of_a_loaded_label_is_eio() {
        let (_dir, mut machine) = mac("m2-16gb-sonoma");
        let path = user_agent(&machine, "com.example.job", RUN_AT_LOAD);
        ok(&machine, &["bootstrap", "gui/501", &path]);
        failed(
            &machine,
            &["bootstrap", "gui/501", &path],
            5,
            "Bootstrap failed: 5: Input/output error\n\
             Try re-running the command as root for richer errors.\n",
        );
        machine.info.uid = 0;
        failed(
            &machine,
            &["bootstrap", "gui/501", &path],
            5,
            "Bootstrap failed: 5: Input/output error\n",
        );
    }

    /// openclaw/openclaw#849, drpedapati/sciclaw#69: a disabled label cannot be
    /// bootstrapped (EIO) until it is enabled again.
    #[test]
    fn bootstrap_of_a_disabled_label_is_eio_until_enabled() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        let path = user_agent(&machine, "com.example.job", "");
        ok(&machine, &["disable", "gui/501/com.example.job"]);
        failed(
            &machine,
            &["bootstrap", "gui/501", &path],
            5,
            "Bootstrap failed: 5: Input/output error\n\
             Try re-running the command as root for richer errors.\n",
        );
        assert!(!is_loaded(&machine, "gui/501", "com.example.job"));
        ok(&machine, &["enable", "gui/501/com.example.job"]);
        ok(&machine, &["bootstrap", "gui/501", &path]);
        assert!(is_loaded(&machine, "gui/501", "com.example.job"));
    }

    /// Fixture `launchctl-bootstrap-invalid-plist.txt`: `PATH: Invalid property list`,
    /// status 133 ("Multiple errors were returned; see stderr"); plists without a label or
    /// program get launchd's other messages the same way.
    #[test]
    fn bootstrap_of_a_malformed_plist_names_the_path() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        let path = "/Users/admin/Library/LaunchAgents/broken.plist";
        write_plist(&machine, path, "<plist><dict><key>Label</key>");
        failed(
            &machine,
            &["bootstrap", "gui/501", path],
            133,
            &format!("{path}: Invalid property list\n"),
        );
        let nameless = "/Users/admin/Library/LaunchAgents/nameless.plist";
        write_plist(
            &machine,
            nameless,
            r#"<plist version="1.0"><dict><key>Program</key><string>/x</string></dict></plist>"#,
        );
        failed(
            &machine,
            &["bootstrap", "gui/501", nameless],
            133,
            &format!("{nameless}: Invalid or missing service identifier\n"),
        );
    }

    /// NousResearch/hermes-agent#31212: bootstrap of a plist that does not exist is EIO.
    #[test]
    fn bootstrap_of_a_missing_plist_is_eio() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        failed(
            &machine,
            &[
                "bootstrap",
                "gui/501",
                "/Users/admin/Library/LaunchAgents/none.plist",
            ],
            5,
            "Bootstrap failed: 5: Input/output error\n\
             Try re-running the command as root for richer errors.\n",
        );
    }

    /// Fixture `launchctl-bootstrap-125-no-gui-domain.txt`: over SSH with no Aqua login,
    /// bootstrap into gui/<uid> is 125; the user domain takes agents that allow Background
    /// (Homebrew's `LimitLoadToSessionType` list), not Aqua-only ones.
    #[test]
    fn ssh_only_bootstrap_needs_the_user_domain_and_background() {
        let (_dir, machine) = mac("m2-16gb-sonoma-ssh");
        // Presets run Homebrew's Ollama already (`brew services start ollama`); stop it
        // first, as `brew services stop ollama` would.
        ok(&machine, &["bootout", "user/501/homebrew.mxcl.ollama"]);
        let aqua_only = user_agent(&machine, "com.example.aqua", RUN_AT_LOAD);
        let no_session = "Bootstrap failed: 125: Domain does not support specified action\n\
                          Service cannot load in requested session\n";
        failed(
            &machine,
            &["bootstrap", "gui/501", &aqua_only],
            125,
            no_session,
        );
        failed(
            &machine,
            &["bootstrap", "user/501", &aqua_only],
            125,
            no_session,
        );
        let sessions = "\t<key>LimitLoadToSessionType</key>\n\t<array>\n\
                        \t\t<string>Aqua</string>\n\t\t<string>Background</string>\n\
                        \t\t<string>LoginWindow</string>\n\t\t<string>StandardIO</string>\n\
                        \t\t<string>System</string>\n\t</array>";
        let background = user_agent(
            &machine,
            "homebrew.mxcl.ollama",
            &format!("{RUN_AT_LOAD}\n{sessions}"),
        );
        ok(&machine, &["bootstrap", "user/501", &background]);
        assert!(pid_of(&machine, "user/501", "homebrew.mxcl.ollama").is_some());
        // `list` over SSH lists the user domain.
        assert!(ok(&machine, &["list"]).contains("\thomebrew.mxcl.ollama\n"));
    }

    /// Fixture `launchctl-no-gui-domain.txt`: without a GUI login every gui/<uid> target
    /// fails with `Could not find domain for user gui: 501`, status 112 — `print gui/<uid>`
    /// is how macllm detects an SSH-only session; kickstart says 125
    /// (NousResearch/hermes-agent#30352).
    #[test]
    fn ssh_only_session_has_no_gui_domain() {
        let (_dir, machine) = mac("m2-16gb-sonoma-ssh");
        let missing = "Could not find domain for user gui: 501\n";
        failed(&machine, &["print", "gui/501"], 112, missing);
        failed(
            &machine,
            &["print", "gui/501/com.apple.Finder"],
            112,
            missing,
        );
        failed(&machine, &["print-disabled", "gui/501"], 112, missing);
        failed(
            &machine,
            &["disable", "gui/501/com.apple.gamed"],
            112,
            missing,
        );
        failed(
            &machine,
            &["enable", "gui/501/com.apple.gamed"],
            112,
            missing,
        );
        failed(
            &machine,
            &["bootout", "gui/501/com.apple.gamed"],
            112,
            missing,
        );
        failed(
            &machine,
            &["kickstart", "-k", "gui/501/homebrew.mxcl.ollama"],
            125,
            "Could not kickstart service \"homebrew.mxcl.ollama\": 125: \
             Domain does not support specified action\n",
        );
        assert!(ok(&machine, &["print", "user/501"]).starts_with("user/501 = {\n"));
        assert!(
            ok(&machine, &["print-disabled", "user/501"]).starts_with("disabled services = {\n")
        );
        // With a GUI login the same probe succeeds.
        let (_dir, gui) = mac("m2-16gb-sonoma");
        assert!(ok(&gui, &["print", "gui/501"]).starts_with("gui/501 = {\n"));
    }

    /// Fixture `launchctl-bootout-not-loaded.txt`: a service target that is not loaded is
    /// `Boot-out failed: 3: No such process`, status 3; the plist-path form answers EIO
    /// (jdx/mise PR #10965, quantonganh.com 2025). Loaded jobs go away silently.
    #[test]
    fn bootout_unloads_and_reports_what_was_not_loaded() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        let path = user_agent(&machine, "com.example.job", RUN_AT_LOAD);
        ok(&machine, &["bootstrap", "gui/501", &path]);
        assert_eq!(ok(&machine, &["bootout", "gui/501/com.example.job"]), "");
        assert!(!is_loaded(&machine, "gui/501", "com.example.job"));
        failed(
            &machine,
            &["bootout", "gui/501/com.example.job"],
            3,
            "Boot-out failed: 3: No such process\n",
        );
        failed(
            &machine,
            &["bootout", "gui/501", &path],
            5,
            "Boot-out failed: 5: Input/output error\n",
        );
        ok(&machine, &["bootstrap", "gui/501", &path]);
        assert_eq!(ok(&machine, &["bootout", "gui/501", &path]), "");
        assert!(!is_loaded(&machine, "gui/501", "com.example.job"));
    }

    /// SIP: Apple's jobs cannot be booted out, in gui/501 (photoanalysisd: a 2026 public
    /// log, rc=150) or system (mac-os-debloat PR #4); they keep running. The
    /// `RemovableServices` exceptions (ReportCrash, Siri.agent) can be.
    #[test]
    fn bootout_of_sip_protected_jobs_is_refused() {
        let (_dir, mut machine) = mac("m4max-64gb-sequoia");
        let sip = "Boot-out failed: 150: Operation not permitted while System Integrity \
                   Protection is engaged\n";
        failed(
            &machine,
            &["bootout", "gui/501/com.apple.photoanalysisd"],
            150,
            sip,
        );
        assert_eq!(
            pid_of(&machine, "gui/501", "com.apple.photoanalysisd"),
            Some(611)
        );
        // The usual debloat sequence: the bootout fails, the disable lands.
        ok(&machine, &["disable", "gui/501/com.apple.photoanalysisd"]);
        ok(&machine, &["bootout", "gui/501/com.apple.Siri.agent"]);
        assert!(!is_loaded(&machine, "gui/501", "com.apple.Siri.agent"));
        machine.info.uid = 0;
        failed(
            &machine,
            &["bootout", "system/com.apple.metadata.mds"],
            150,
            sip,
        );
        assert!(is_loaded(&machine, "system", "com.apple.metadata.mds"));
    }

    /// Man launchctl: modifying `system` needs root; reading it does not.
    #[test]
    fn system_domain_modifications_need_root() {
        let (_dir, mut machine) = mac("m2-16gb-sonoma");
        let path = write_plist(
            &machine,
            "/Library/LaunchDaemons/com.example.daemon.plist",
            &agent_xml("com.example.daemon", RUN_AT_LOAD),
        );
        failed(
            &machine,
            &["bootstrap", "system", &path],
            1,
            "Bootstrap failed: 1: Operation not permitted\n",
        );
        failed(
            &machine,
            &["disable", "system/com.openssh.sshd"],
            1,
            "Could not disable service: 1: Operation not permitted\n",
        );
        failed(
            &machine,
            &["bootout", "system/com.openssh.sshd"],
            1,
            "Boot-out failed: 1: Operation not permitted\n",
        );
        failed(
            &machine,
            &["kickstart", "system/com.openssh.sshd"],
            1,
            "Could not kickstart service \"com.openssh.sshd\": 1: Operation not permitted\n",
        );
        assert!(
            ok(&machine, &["print", "system/com.openssh.sshd"]).contains("\ttype = LaunchDaemon\n")
        );
        machine.info.uid = 0;
        ok(&machine, &["bootstrap", "system", &path]);
        assert!(pid_of(&machine, "system", "com.example.daemon").is_some());
        ok(&machine, &["disable", "system/com.openssh.sshd"]);
        assert_eq!(
            override_of(&machine, "system", "com.openssh.sshd"),
            Some(true)
        );
        // launchctl list as root lists the system domain.
        assert!(ok(&machine, &["list"]).contains("\tcom.example.daemon\n"));
    }

    /// geldata/gel-cli#312: kickstart of a label that is not loaded prints one line
    /// (no `Bad request.`) and exits 113; `system` reads `in domain for system`
    /// (anthropics/claude-code#67308).
    #[test]
    fn kickstart_of_an_unloaded_label_is_113() {
        let (_dir, mut machine) = mac("m2-16gb-sonoma");
        failed(
            &machine,
            &["kickstart", "-k", "gui/501/edgedb-server-authub"],
            113,
            "Could not find service \"edgedb-server-authub\" in domain for user gui: 501\n",
        );
        machine.info.uid = 0;
        failed(
            &machine,
            &["kickstart", "-k", "system/com.openclaw.novnc"],
            113,
            "Could not find service \"com.openclaw.novnc\" in domain for system\n",
        );
    }

    /// gavv/libASPL#8: from macOS 14.4 `kickstart -k` of a running Apple system daemon is
    /// refused even for root.
    #[test]
    fn kickstart_k_of_an_apple_daemon_is_refused_from_14_4() {
        let (_dir, mut machine) = mac("m2-16gb-sonoma");
        machine.info.uid = 0;
        failed(
            &machine,
            &["kickstart", "-k", "system/com.apple.metadata.mds"],
            1,
            "Could not kickstart service \"com.apple.metadata.mds\": 1: Operation not permitted\n",
        );
        let (_dir, mut monterey) = mac("m1-8gb-monterey");
        monterey.info.uid = 0;
        ok(
            &monterey,
            &["kickstart", "-k", "system/com.apple.metadata.mds"],
        );
    }

    /// Reference 2.4: a label that is not loaded is `Bad request.` plus the service line,
    /// status 113, for gui and system targets.
    #[test]
    fn print_of_an_unloaded_label_is_113() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        // Presets run Homebrew's Ollama already (`brew services start ollama`); stop it
        // first, as `brew services stop ollama` would.
        ok(&machine, &["bootout", "gui/501/homebrew.mxcl.ollama"]);
        failed(
            &machine,
            &["print", "gui/501/homebrew.mxcl.ollama"],
            113,
            "Bad request.\nCould not find service \"homebrew.mxcl.ollama\" in domain for user gui: 501\n",
        );
        // Disabled on a fresh Mac, so not loaded.
        failed(
            &machine,
            &["print", "system/com.apple.screensharing"],
            113,
            "Bad request.\nCould not find service \"com.apple.screensharing\" in domain for system\n",
        );
    }

    /// `print DOMAIN` lists services as `PID STATUS \tLABEL` rows (Homebrew/
    /// homebrew-services#111 row layout).
    #[test]
    fn print_domain_lists_services() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        let printed = ok(&machine, &["print", "gui/501"]);
        assert!(printed.contains("\t\t     611      - \tcom.apple.photoanalysisd\n"));
        assert!(printed.contains("\t\t       0      - \tcom.apple.gamed\n"));
        assert!(printed.ends_with("\t}\n}\n"));
    }

    /// Fixtures `launchctl-list-elcapitan-partial.txt` and `-grep-homebrew.txt`: header,
    /// TAB-separated rows, `-` when not running, minus the signal after a kill.
    #[test]
    fn list_prints_pid_status_label() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        let listed = ok(&machine, &["list"]);
        assert!(listed.starts_with("PID\tStatus\tLabel\n"));
        assert!(listed.contains("611\t0\tcom.apple.photoanalysisd\n"));
        assert!(listed.contains("-\t0\tcom.apple.gamed\n"));
        // Only the caller's domain: no system daemons.
        assert!(!listed.contains("com.apple.metadata.mds"));
        let path = user_agent(&machine, "com.example.job", RUN_AT_LOAD);
        ok(&machine, &["bootstrap", "gui/501", &path]);
        ok(&machine, &["stop", "com.example.job"]);
        assert!(ok(&machine, &["list"]).contains("-\t-15\tcom.example.job\n"));
    }

    /// Fixtures `launchctl-list-label.txt` (running: `"PID"`) and `-not-running.txt` (no
    /// `"PID"`), old-style dictionary with TAB indentation.
    #[test]
    fn list_label_prints_an_old_style_dictionary() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        // Presets run Homebrew's Ollama already (`brew services start ollama`); stop it
        // first, as `brew services stop ollama` would.
        ok(&machine, &["bootout", "gui/501/homebrew.mxcl.ollama"]);
        let extra = format!(
            "{RUN_AT_LOAD}\n\t<key>StandardOutPath</key>\n\t<string>/opt/homebrew/var/log/ollama.log</string>\n\
             \t<key>StandardErrorPath</key>\n\t<string>/opt/homebrew/var/log/ollama.err.log</string>"
        );
        let path = user_agent(&machine, "homebrew.mxcl.ollama", &extra);
        ok(&machine, &["bootstrap", "gui/501", &path]);
        let pid = pid_of(&machine, "gui/501", "homebrew.mxcl.ollama").unwrap();
        assert_eq!(
            ok(&machine, &["list", "homebrew.mxcl.ollama"]),
            format!(
                "{{\n\
                 \t\"StandardOutPath\" = \"/opt/homebrew/var/log/ollama.log\";\n\
                 \t\"LimitLoadToSessionType\" = \"Aqua\";\n\
                 \t\"StandardErrorPath\" = \"/opt/homebrew/var/log/ollama.err.log\";\n\
                 \t\"Label\" = \"homebrew.mxcl.ollama\";\n\
                 \t\"OnDemand\" = true;\n\
                 \t\"LastExitStatus\" = 0;\n\
                 \t\"PID\" = {pid};\n\
                 \t\"Program\" = \"/opt/homebrew/opt/ollama/bin/ollama\";\n\
                 \t\"ProgramArguments\" = (\n\
                 \t\t\"/opt/homebrew/opt/ollama/bin/ollama\";\n\
                 \t\t\"serve\";\n\
                 \t);\n\
                 }};\n"
            )
        );
        let idle = ok(&machine, &["list", "com.apple.gamed"]);
        assert!(!idle.contains("\"PID\""));
        assert!(idle.contains("\t\"OnDemand\" = true;\n"));
    }

    /// Fixture `launchctl-list-label-not-found.txt`: status 113, `in domain for port`;
    /// `list` does not take service targets (Homebrew/brew PR #19602).
    #[test]
    fn list_of_an_unknown_label_is_113() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        failed(
            &machine,
            &["list", "com.iamkroot.trakt-scrobbler"],
            113,
            "Could not find service \"com.iamkroot.trakt-scrobbler\" in domain for port\n",
        );
        failed(
            &machine,
            &["list", "gui/501/com.apple.gamed"],
            113,
            "Could not find service \"gui/501/com.apple.gamed\" in domain for port\n",
        );
    }

    /// Reference 2.6: setenv/getenv/unsetenv act on the caller's domain; getenv of an unset
    /// key prints nothing and exits 0; root's values live in `system`.
    /// Over SSH the caller is in the Background session: its setenv reaches user/501, not the
    /// GUI's jobs, until `launchctl asuser` (root only) moves it (ollama/ollama#3581).
    #[test]
    fn over_ssh_the_session_is_background_and_setenv_misses_the_gui() {
        let (_dir, mut machine) = mac("m2-16gb-sonoma");
        assert_eq!(ok(&machine, &["managername"]), "Aqua\n");
        machine.info.over_ssh = true;
        assert_eq!(ok(&machine, &["managername"]), "Background\n");
        ok(&machine, &["setenv", "OLLAMA_NUM_PARALLEL", "4"]);
        assert!(!domain_environment(&machine, "gui/501").contains_key("OLLAMA_NUM_PARALLEL"));
        assert_eq!(
            domain_environment(&machine, "user/501")["OLLAMA_NUM_PARALLEL"],
            "4"
        );
    }

    #[test]
    fn setenv_getenv_unsetenv_per_caller_domain() {
        let (_dir, mut machine) = mac("m2-16gb-sonoma");
        assert_eq!(ok(&machine, &["setenv", "OLLAMA_HOST", "0.0.0.0"]), "");
        assert_eq!(ok(&machine, &["getenv", "OLLAMA_HOST"]), "0.0.0.0\n");
        assert_eq!(ok(&machine, &["getenv", "OLLAMA_MODELS"]), "");
        assert_eq!(
            domain_environment(&machine, "gui/501")
                .get("OLLAMA_HOST")
                .map(String::as_str),
            Some("0.0.0.0")
        );
        machine.info.uid = 0;
        assert_eq!(ok(&machine, &["getenv", "OLLAMA_HOST"]), "");
        ok(&machine, &["setenv", "A", "1", "B", "2"]);
        assert_eq!(domain_environment(&machine, "system").len(), 2);
        machine.info.uid = 501;
        assert_eq!(ok(&machine, &["unsetenv", "OLLAMA_HOST"]), "");
        assert_eq!(ok(&machine, &["getenv", "OLLAMA_HOST"]), "");
        assert_eq!(lc(&machine, &["setenv", "ODD"]).status, 64);
    }

    /// Reference 2.6 and 5.3: `setenv` reaches processes launchd starts afterwards, not the
    /// running ones; the plist's EnvironmentVariables win (reference 5.2, UNCONFIRMED).
    #[test]
    fn setenv_reaches_jobs_started_afterwards() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        let extra = format!(
            "{RUN_AT_LOAD}\n\t<key>EnvironmentVariables</key>\n\t<dict>\n\
             \t\t<key>OLLAMA_KEEP_ALIVE</key>\n\t\t<string>5m</string>\n\t</dict>"
        );
        let path = user_agent(&machine, "com.example.ollama", &extra);
        ok(&machine, &["bootstrap", "gui/501", &path]);
        ok(&machine, &["setenv", "OLLAMA_NUM_PARALLEL", "4"]);
        ok(&machine, &["setenv", "OLLAMA_KEEP_ALIVE", "1h"]);
        let before = process_environment(&machine, "gui/501", "com.example.ollama").unwrap();
        assert_eq!(before.get("OLLAMA_NUM_PARALLEL"), None);
        ok(&machine, &["kickstart", "-k", "gui/501/com.example.ollama"]);
        let after = process_environment(&machine, "gui/501", "com.example.ollama").unwrap();
        assert_eq!(
            after.get("OLLAMA_NUM_PARALLEL").map(String::as_str),
            Some("4")
        );
        assert_eq!(
            after.get("OLLAMA_KEEP_ALIVE").map(String::as_str),
            Some("5m")
        );
        let printed = ok(&machine, &["print", "gui/501/com.example.ollama"]);
        assert!(printed.contains("\tinherited environment = {\n\t\tOLLAMA_KEEP_ALIVE => 1h\n"));
    }

    /// Reference 2.2 and 2.6: a reboot forgets `setenv` values and jobs bootstrapped from
    /// elsewhere, loads the standard directories (not the disabled), runs RunAtLoad and
    /// KeepAlive jobs; the override database persists.
    #[test]
    fn reboot_clears_environment_and_reloads_standard_directories() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        ok(&machine, &["setenv", "OLLAMA_HOST", "0.0.0.0"]);
        let elsewhere = write_plist(
            &machine,
            "/tmp/com.example.temp.plist",
            &agent_xml("com.example.temp", RUN_AT_LOAD),
        );
        ok(&machine, &["bootstrap", "gui/501", &elsewhere]);
        user_agent(&machine, "com.example.atload", RUN_AT_LOAD);
        user_agent(&machine, "com.example.ondemand", "");
        user_agent(&machine, "com.example.off", RUN_AT_LOAD);
        ok(&machine, &["disable", "gui/501/com.example.off"]);
        reboot(&machine).unwrap();
        assert_eq!(ok(&machine, &["getenv", "OLLAMA_HOST"]), "");
        assert!(!is_loaded(&machine, "gui/501", "com.example.temp"));
        assert!(pid_of(&machine, "gui/501", "com.example.atload").is_some());
        assert!(is_loaded(&machine, "gui/501", "com.example.ondemand"));
        assert_eq!(pid_of(&machine, "gui/501", "com.example.ondemand"), None);
        assert!(!is_loaded(&machine, "gui/501", "com.example.off"));
        assert_eq!(
            override_of(&machine, "gui/501", "com.example.off"),
            Some(true)
        );
        // Stock services come back with the pids `killall` knows.
        assert_eq!(
            pid_of(&machine, "gui/501", "com.apple.Dock.agent"),
            Some(571)
        );
    }

    /// launchd keeps the definition it loaded: editing the plist changes nothing until the
    /// job is booted out and bootstrapped again.
    #[test]
    fn a_loaded_job_keeps_its_definition() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        let path = user_agent(&machine, "com.example.job", RUN_AT_LOAD);
        ok(&machine, &["bootstrap", "gui/501", &path]);
        write_plist(
            &machine,
            &path,
            &agent_xml("com.example.job", RUN_AT_LOAD).replace("serve", "run"),
        );
        let printed = ok(&machine, &["print", "gui/501/com.example.job"]);
        assert!(printed.contains("\t\tserve\n"));
        ok(&machine, &["bootout", "gui/501/com.example.job"]);
        ok(&machine, &["bootstrap", "gui/501", &path]);
        assert!(ok(&machine, &["print", "gui/501/com.example.job"]).contains("\t\trun\n"));
    }

    /// nix-installer: `stop` of a job that is not running exits 3; stopping a KeepAlive
    /// job makes launchd start it again under a new pid.
    #[test]
    fn stop_reports_3_when_not_running() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        failed(&machine, &["stop", "com.apple.gamed"], 3, "");
        failed(&machine, &["stop", "com.example.absent"], 3, "");
        let keep = format!("{RUN_AT_LOAD}\n\t<key>KeepAlive</key>\n\t<true/>");
        let path = user_agent(&machine, "com.example.keep", &keep);
        ok(&machine, &["bootstrap", "gui/501", &path]);
        let before = pid_of(&machine, "gui/501", "com.example.keep").unwrap();
        ok(&machine, &["stop", "gui/501/com.example.keep"]);
        let after = pid_of(&machine, "gui/501", "com.example.keep").unwrap();
        assert_ne!(before, after);
        ok(&machine, &["start", "com.apple.gamed"]);
        assert!(pid_of(&machine, "gui/501", "com.apple.gamed").is_some());
    }

    /// `launchctl error N` prints the meaning of every code this emulator returns
    /// (sLaunchctl `Error.swift`, strerror(3)).
    #[test]
    fn error_prints_the_meaning_of_each_code_used() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        for (code, meaning) in [
            ("1", "Operation not permitted"),
            ("3", "No such process"),
            ("5", "Input/output error"),
            ("37", "Operation already in progress"),
            ("64", "Unknown error: 64"),
            ("109", "Invalid property list"),
            ("112", "Could not find specified domain"),
            ("113", "Could not find specified service"),
            ("119", "Service is disabled"),
            ("125", "Domain does not support specified action"),
            ("133", "Multiple errors were returned; see stderr"),
            ("134", "Service cannot load in requested session"),
            (
                "150",
                "Operation not permitted while System Integrity Protection is engaged",
            ),
        ] {
            assert_eq!(
                ok(&machine, &["error", code]),
                format!("{code}: {meaning}\n")
            );
        }
        assert_eq!(
            ok(&machine, &["error", "posix", "2"]),
            "2: No such file or directory\n"
        );
    }

    /// kyleneideck/BackgroundMusic#169: an unknown subcommand is named on stderr and the
    /// help follows; reimpl exits 1.
    #[test]
    fn unknown_subcommand_prints_usage() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        let out = lc(&machine, &["unbootstrap", "gui/501"]);
        assert_eq!(out.status, 1);
        assert_eq!(out.stderr, "Unrecognized subcommand: unbootstrap\n");
        assert!(out.stdout.starts_with(
            "Usage: launchctl <subcommand> ... | help [subcommand]\n\
             Many subcommands take a target specifier that refers to a domain or service\n\
             within that domain. The available specifier forms are:\n\nsystem/[service-name]\n"
        ));
        assert!(
            out.stdout
                .contains("\tbootstrap       Bootstraps a domain or a service into a domain.\n")
        );
        let out = lc(&machine, &["load", "/x.plist"]);
        assert_eq!(out.status, 1);
        assert!(out.stderr.contains("not emulated"));
    }

    /// reimpl `launchctl.c`: missing arguments print the subcommand's usage, status 64; a
    /// domain where a service target is needed adds the specifier explanation.
    #[test]
    fn malformed_command_lines_are_usage_64() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        failed(
            &machine,
            &["bootstrap"],
            64,
            "Usage: launchctl bootstrap <domain-target> [service-path, service-path2, ...]\n",
        );
        let out = lc(&machine, &["disable", "gui/501"]);
        assert_eq!(out.status, 64);
        assert!(out.stderr.starts_with("Unrecognized target specifier."));
        assert!(
            out.stderr
                .ends_with("Usage: launchctl disable <service-target>\n")
        );
        assert_eq!(lc(&machine, &["print", "login/5"]).status, 64);
        assert_eq!(lc(&machine, &["kickstart", "-x", "gui/501/a"]).status, 64);
    }

    /// machine.json files written before `gui_session` existed still load, with a GUI login.
    #[test]
    fn old_machine_files_default_to_a_gui_session() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        let path = machine.dir.join(crate::machine::MACHINE_FILE);
        let text = std::fs::read_to_string(&path).unwrap();
        let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
        json.as_object_mut().unwrap().remove("gui_session");
        std::fs::write(&path, json.to_string()).unwrap();
        let reopened = Machine::open(&machine.dir).unwrap();
        assert!(reopened.info.gui_session);
        assert!(ok(&reopened, &["print", "gui/501"]).starts_with("gui/501 = {\n"));
    }
}
