//! The Mac under test: this machine (`MACLLM_REAL_MAC=1`) or an emulated Mac behind the
//! multi-call shim, reached the same way in both cases: programs found on `PATH`, and
//! `macllm --host local`.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

pub const BIN: &str = env!("CARGO_BIN_EXE_macllm");

/// Set to `1` to run the suite against this Mac instead of the emulated one.
pub const ENV_REAL_MAC: &str = "MACLLM_REAL_MAC";

/// Whether the suite drives this machine. Any value other than `1`, `0` or empty is refused,
/// so a typo cannot quietly test the emulator instead.
pub fn real_mac() -> bool {
    match std::env::var(ENV_REAL_MAC) {
        Err(_) => false,
        Ok(value) => match value.as_str() {
            "1" => true,
            "" | "0" => false,
            other => panic!("{ENV_REAL_MAC}={other}: use 1 (this Mac) or 0 (the emulated Mac)"),
        },
    }
}

#[derive(Debug)]
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn expect(self, status: i32) -> Run {
        assert_eq!(
            self.status, status,
            "exit status\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn success(&self) -> bool {
        self.status == 0
    }
}

fn run(mut command: Command) -> Run {
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("cannot run {command:?}: {err}"));
    Run {
        status: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// What `defaults [-currentHost] export DOMAIN -` says about a domain.
#[derive(Debug, PartialEq)]
pub enum Export {
    /// No such domain, or a domain without keys: what real macOS exports for an absent domain
    /// is UNCONFIRMED (reference/macos-commands.md 1.8: an error, or perhaps an empty
    /// `<dict/>`), and a domain whose last key was deleted holds nothing either, so both count
    /// as absent.
    Absent,
    /// The XML plist, byte for byte.
    Plist(String),
}

pub struct Mac {
    _temp: tempfile::TempDir,
    /// The working folder: `macllm.yaml` and `state/`.
    pub work: PathBuf,
    /// `PATH` and `MACLLM_SANDBOX` for the emulated Mac; nothing for a real one.
    env: Vec<(&'static str, OsString)>,
    /// `id -u` and `id -un` on the Mac under test.
    pub uid: u32,
    pub user: String,
}

impl Mac {
    pub fn new() -> Mac {
        let real = real_mac();
        assert!(
            !real || cfg!(target_os = "macos"),
            "{ENV_REAL_MAC}=1 runs the suite against this machine, which must be a Mac"
        );
        let temp = tempfile::tempdir().unwrap();
        let work = temp.path().join("work");
        std::fs::create_dir(&work).unwrap();
        let mut env = Vec::new();
        if !real {
            let sandbox = temp.path().join("mac");
            let mut init = Command::new(BIN);
            init.args(["sandbox", "init"]).arg(&sandbox);
            run(init).expect(0);
            let bin = temp.path().join("bin");
            std::fs::create_dir(&bin).unwrap();
            for program in emulated_mac::PROGRAMS {
                std::os::unix::fs::symlink(BIN, bin.join(program)).unwrap();
            }
            let mut path = OsString::from(&bin);
            if let Some(outer) = std::env::var_os("PATH") {
                path.push(":");
                path.push(outer);
            }
            env.push(("PATH", path));
            env.push((emulated_mac::ENV_SANDBOX, sandbox.into_os_string()));
        }
        let mut mac = Mac {
            _temp: temp,
            work,
            env,
            uid: 0,
            user: String::new(),
        };
        mac.uid = mac
            .tool(&["id", "-u"])
            .expect(0)
            .stdout
            .trim()
            .parse()
            .unwrap();
        mac.user = mac.tool(&["id", "-un"]).expect(0).stdout.trim().to_string();
        mac
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(&self.work)
            .env_remove("NO_COLOR")
            .env_remove(emulated_mac::ENV_SANDBOX)
            .env_remove(emulated_mac::ENV_FAIL)
            .env_remove(emulated_mac::ENV_DELAY_MS)
            .env_remove(emulated_mac::ENV_TRACE)
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    /// A program of the Mac, found on `PATH` as a user's shell would find it (the shim on the
    /// emulated Mac), with argv only.
    pub fn tool(&self, argv: &[&str]) -> Run {
        let mut command = self.command(argv[0]);
        command.args(&argv[1..]);
        run(command)
    }

    /// `bash -c SCRIPT bash ARGS...` with the Mac's environment. Beware of bash's builtins
    /// (`test`, `echo`, `printf`): they do not go through `PATH`.
    pub fn bash(&self, script: &str, args: &[&str]) -> Run {
        let mut command = self.command("bash");
        command.args(["-c", script, "bash"]).args(args);
        run(command)
    }

    /// `macllm --host local ARGS` in the working folder.
    pub fn macllm(&self, args: &[&str]) -> Run {
        let mut command = self.command(BIN);
        command.args(["--host", "local"]).args(args);
        run(command)
    }

    pub fn spec(&self, text: &str) {
        std::fs::write(self.work.join("macllm.yaml"), text).unwrap();
    }

    pub fn state_file(&self) -> PathBuf {
        self.work.join("state/local.json")
    }

    /// The home folder macOS gives the user (macllm's own rule, `src/facts.rs`).
    pub fn home(&self) -> String {
        if self.uid == 0 {
            "/var/root".to_string()
        } else {
            format!("/Users/{}", self.user)
        }
    }

    /// `gui/<uid>` when the user has a GUI login, else `user/<uid>`, as macllm chooses.
    pub fn launchd_domain(&self) -> String {
        let gui = format!("gui/{}", self.uid);
        if self.tool(&["launchctl", "print", &gui]).success() {
            gui
        } else {
            format!("user/{}", self.uid)
        }
    }

    /// Whether `launchctl print SERVICE` comes to succeed (`wanted`) or fail, within ten
    /// seconds: launchd acts asynchronously on a real Mac.
    pub fn launchd_has(&self, service: &str, wanted: bool) -> bool {
        for _ in 0..50 {
            if self.tool(&["launchctl", "print", service]).success() == wanted {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        false
    }

    /// Whether `test -e PATH` holds on the Mac (the program, not bash's builtin).
    pub fn exists(&self, path: &str) -> bool {
        self.tool(&["test", "-e", path]).success()
    }

    pub fn export(&self, domain: &str, current_host: bool) -> Export {
        let mut argv = vec!["defaults"];
        if current_host {
            argv.push("-currentHost");
        }
        argv.extend(["export", domain, "-"]);
        let out = self.tool(&argv);
        // The emulator says `The domain DOMAIN does not exist` with status 1; what real macOS
        // prints is not pinned down, so only "no plist at all" is relied on here.
        if out.stdout.trim().is_empty() {
            return Export::Absent;
        }
        assert!(out.success(), "{argv:?}: {out:?}");
        match plist::Value::from_reader_xml(out.stdout.as_bytes()) {
            Ok(plist::Value::Dictionary(dict)) if dict.is_empty() => Export::Absent,
            Ok(plist::Value::Dictionary(_)) => Export::Plist(out.stdout),
            other => panic!(
                "{argv:?} is not a dictionary plist: {other:?}\n{}",
                out.stdout
            ),
        }
    }

    /// Refuses to start when something the test would create is already there: on a real
    /// Mac that is a leftover of a killed run (or someone's own), not the test's to take.
    #[track_caller]
    pub fn assert_untouched(&self, domains: &[&str], agents: &[&str], paths: &[&str]) {
        for domain in domains {
            for current_host in [false, true] {
                assert_eq!(
                    self.export(domain, current_host),
                    Export::Absent,
                    "the test domain {domain} (current_host: {current_host}) exists already; \
                     remove it with `defaults{} delete {domain}`",
                    if current_host { " -currentHost" } else { "" }
                );
            }
        }
        for label in agents {
            let plist = self.agent_plist(label);
            assert!(
                !self.exists(&plist),
                "{plist} exists already; boot it out and remove it"
            );
        }
        for path in paths {
            assert!(!self.exists(path), "{path} exists already; remove it");
        }
    }

    pub fn agent_plist(&self, label: &str) -> String {
        format!("{}/Library/LaunchAgents/{label}.plist", self.home())
    }

    /// Arms the clean-up of what a test may leave behind (see [`Guard`]).
    pub fn guard<'a>(&'a self, domains: &[&str], agents: &[&str], paths: &[&str]) -> Guard<'a> {
        Guard {
            mac: self,
            domains: domains.iter().map(|s| s.to_string()).collect(),
            agents: agents.iter().map(|s| s.to_string()).collect(),
            paths: paths.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// Puts the Mac back when a test ends, passed or failed: `macllm destroy --yes` when there is
/// a state, then removes the test's domains (plain and `-currentHost`), boots out and removes
/// its agents, and removes its folders. Each step runs whatever the others did; failures are
/// reported on stderr, never as a second panic.
pub struct Guard<'a> {
    mac: &'a Mac,
    domains: Vec<String>,
    agents: Vec<String>,
    paths: Vec<String>,
}

/// The clean-up as one bash script over positional arguments (no quoting of values): each
/// command may fail (the thing may be gone already) without stopping the rest.
const CLEANUP: &str = r#"
uid=$1 home=$2; shift 2
while [ $# -gt 0 ]; do
  kind=$1 name=$2; shift 2
  case $kind in
    domain)
      defaults delete "$name" 2>/dev/null
      defaults -currentHost delete "$name" 2>/dev/null ;;
    agent)
      launchctl bootout "gui/$uid/$name" 2>/dev/null
      launchctl bootout "user/$uid/$name" 2>/dev/null
      rm -f "$home/Library/LaunchAgents/$name.plist" ;;
    path)
      rm -rf "$name" ;;
  esac
done
exit 0
"#;

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        let mac = self.mac;
        if mac.state_file().exists() {
            let destroy = mac.macllm(&["destroy", "--yes"]);
            if !destroy.success() {
                eprintln!("clean-up: macllm destroy failed: {destroy:?}");
            }
        }
        let uid = mac.uid.to_string();
        let home = mac.home();
        let mut args = vec![uid.as_str(), home.as_str()];
        for domain in &self.domains {
            args.extend(["domain", domain]);
        }
        for label in &self.agents {
            args.extend(["agent", label]);
        }
        for path in &self.paths {
            args.extend(["path", path]);
        }
        let cleanup = mac.bash(CLEANUP, &args);
        if !cleanup.success() {
            eprintln!("clean-up failed: {cleanup:?}");
        }
        for domain in &self.domains {
            for current_host in [false, true] {
                if mac.export(domain, current_host) != Export::Absent {
                    eprintln!("clean-up: {domain} (current_host: {current_host}) is still there");
                }
            }
        }
        for path in self.paths.iter().chain(
            self.agents
                .iter()
                .map(|label| mac.agent_plist(label))
                .collect::<Vec<_>>()
                .iter(),
        ) {
            if mac.exists(path) {
                eprintln!("clean-up: {path} is still there");
            }
        }
    }
}

/// The plan text without the lines a Mac without a GUI login adds (macllm then falls back
/// from `gui/<uid>` to `user/<uid>` and warns, reference: README "Services, agents"); whether
/// a GitHub runner has a GUI login is not documented (issue10-research.md, open points).
pub fn without_session_warnings(mac: &Mac, text: &str) -> String {
    if mac.launchd_domain().starts_with("gui/") {
        return text.to_string();
    }
    let warning = format!("Warning: gui/{} does not exist on this host", mac.uid);
    text.lines()
        .filter(|line| !line.starts_with(&warning))
        .map(|line| format!("{line}\n"))
        .collect()
}
