//! A sandbox Mac in a temporary folder, a spec beside it, and the real binary to drive through
//! [`Test`], a builder in the style of casey/just's: each run states its exit status, stdout and
//! stderr exactly, unmentioned output must be empty, and a mismatch shows every difference at
//! once before it fails.
//!
//! Text that differs from machine to machine is redacted before comparing: the working folder
//! becomes `[WORK]`, pids `[PID]`, timestamps `[TIME]` (NSLog's prefix too), apply's durations
//! `[DURATION]` and state lineages `[LINEAGE]`; a test adds its own (ports) with
//! [`Test::redact`]. `E2E_RECORD=FILE` collects mismatches instead of failing (see `record`).
//!
//! This file is the only one of the suite that names the emulator crate (`emulated_mac`);
//! `sshd.rs` keeps one use because `benches/fleet.rs` includes it by path, without this
//! harness.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_macllm");

pub use emulated_mac::presets::PRESETS;
pub use emulated_mac::{ENV_DELAY_MS, ENV_FAIL};
pub use emulated_mac::{ENV_SANDBOX, ENV_TRACE, FAIL_FILE, PROGRAMS};

pub const QUIET_UI: &str = include_str!("../../examples/quiet-ui.yaml");

/// What pulling llama3.1:8b from the emulated registry reports, from manifest to success.
/// How a drift report starts, up to its rows (`drift`, and a plan that found drift).
pub const DRIFT_HEAD: &str = "
Note: Objects have changed outside of macllm

macllm detected the following changes made outside of macllm since the
last \"macllm apply\":

";

/// What `drift` prints once the Dock's tile size, which QUIET_UI and many specs here set to
/// 36, was set to 64 by hand ([`Mac::dock_by_hand`]).
pub const TILESIZE_DRIFT: &str = r#"
Note: Objects have changed outside of macllm

macllm detected the following changes made outside of macllm since the
last "macllm apply":

  # defaults:com.apple.dock:tilesize has changed
  ~ value = 36 -> 64
"#;

/// What stands between a plan's drift report and the plan itself.
pub const DRIFT_THEN_PLAN: &str = "
Unless you have made equivalent changes to your spec, the following plan
may include actions to undo or respond to these changes.

─────────────────────────────────────────────────────────────────────────────

";

pub const LLAMA31_PULL: &str = "llama3.1:8b: pulling manifest
llama3.1:8b: pulling c4c6b623ed66 0%
llama3.1:8b: pulling c4c6b623ed66 36%
llama3.1:8b: pulling c4c6b623ed66 60%
llama3.1:8b: pulling c4c6b623ed66 85%
llama3.1:8b: pulling c4c6b623ed66 100%
llama3.1:8b: pulling 303354fa37c3 0%
llama3.1:8b: pulling 303354fa37c3 100%
llama3.1:8b: pulling 094a3f8c4d9f 0%
llama3.1:8b: pulling 094a3f8c4d9f 100%
llama3.1:8b: pulling 56bb8bd477a5 100%
llama3.1:8b: pulling 6d03a7af78e0 0%
llama3.1:8b: pulling 6d03a7af78e0 100%
llama3.1:8b: verifying sha256 digest
llama3.1:8b: writing manifest
llama3.1:8b: success
";

/// What `bench llama3.2:3b --runs RUNS` reports on an emulated 8 GB M1 (a cold first load).
pub fn llama32_bench_on_m1(runs: u32) -> String {
    format!(
        "
llama3.2:3b (1.88 GiB) on Apple M1, {runs} run(s)

  load (first run, cold)    0.96 s
  prompt processing        272.4 tokens/s
  generation                20.3 tokens/s
  bandwidth bound           33.8 tokens/s (68.25 GB/s = 63.6 GiB/s, / 1.88 GiB)
  share of the bound          60 %

Every generated token reads the whole model, so no Apple M1 can generate this model faster than 33.8 tokens/s.
"
    )
}

/// What `apply` of QUIET_UI reports on stderr as it goes.
pub const QUIET_APPLY_PROGRESS: &str =
    "defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled: Creating...
defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled: Creation complete after [DURATION]
defaults:NSGlobalDomain:NSWindowResizeTime: Creating...
defaults:NSGlobalDomain:NSWindowResizeTime: Creation complete after [DURATION]
defaults:com.apple.dock:autohide: Modifying...
defaults:com.apple.dock:autohide: Modifications complete after [DURATION]
defaults:com.apple.dock:autohide-delay: Creating...
defaults:com.apple.dock:autohide-delay: Creation complete after [DURATION]
defaults:com.apple.dock:autohide-time-modifier: Creating...
defaults:com.apple.dock:autohide-time-modifier: Creation complete after [DURATION]
defaults:com.apple.dock:launchanim: Creating...
defaults:com.apple.dock:launchanim: Creation complete after [DURATION]
defaults:com.apple.dock:mineffect: Modifying...
defaults:com.apple.dock:mineffect: Modifications complete after [DURATION]
defaults:com.apple.dock:show-recents: Modifying...
defaults:com.apple.dock:show-recents: Modifications complete after [DURATION]
defaults:com.apple.dock:tilesize: Modifying...
defaults:com.apple.dock:tilesize: Modifications complete after [DURATION]
Restarted: killall Dock
defaults:com.apple.finder:DisableAllAnimations: Creating...
defaults:com.apple.finder:DisableAllAnimations: Creation complete after [DURATION]
Restarted: killall Finder
warning: ran `activateSettings -u`, but on macOS 14.5 it does not apply every setting: log out and back in for defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled, defaults:NSGlobalDomain:NSWindowResizeTime to take effect
";

/// The last line of QUIET_APPLY_PROGRESS: on macOS 14.5 `activateSettings -u` runs but
/// leaves the global changes for the next login. Before macOS 14 the line is
/// `Restarted: activateSettings -u`.
pub const QUIET_ACTIVATE_SETTINGS: &str = "warning: ran `activateSettings -u`, but on macOS 14.5 it does not apply every setting: log out and back in for defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled, defaults:NSGlobalDomain:NSWindowResizeTime to take effect\n";

/// What `plan` prints for QUIET_UI on a fresh m2-16gb-sonoma.
pub const QUIET_PLAN: &str = r#"
macllm will perform the following actions on sandbox:mac:

  # defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled will be created
  + value = false
    # then: activateSettings -u

  # defaults:NSGlobalDomain:NSWindowResizeTime will be created
  + value = 0.001
    # then: activateSettings -u

  # defaults:com.apple.dock:autohide will be updated in-place
  ~ value = false -> true
    # then: killall Dock

  # defaults:com.apple.dock:autohide-delay will be created
  + value = 0.0
    # then: killall Dock

  # defaults:com.apple.dock:autohide-time-modifier will be created
  + value = 0.15
    # then: killall Dock

  # defaults:com.apple.dock:launchanim will be created
  + value = false
    # then: killall Dock

  # defaults:com.apple.dock:mineffect will be updated in-place
  ~ value = "genie" -> "scale"
    # then: killall Dock

  # defaults:com.apple.dock:show-recents will be updated in-place
  ~ value = true -> false
    # then: killall Dock

  # defaults:com.apple.dock:tilesize will be updated in-place
  ~ value = 48 -> 36
    # then: killall Dock

  # defaults:com.apple.finder:DisableAllAnimations will be created
  + value = true
    # then: killall Finder

Plan: 6 to add, 4 to change, 0 to destroy.
After the changes: killall Dock, killall Finder, activateSettings -u.
"#;

pub struct Mac {
    _temp: tempfile::TempDir,
    /// The working folder: spec in `macllm.yaml`, state in `state/`.
    pub work: PathBuf,
    /// The emulated Mac, `work/mac`.
    pub dir: PathBuf,
}

/// What one run printed, unredacted.
#[derive(Debug)]
pub struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Mac {
    pub fn new() -> Mac {
        Mac::with_preset("m2-16gb-sonoma")
    }

    pub fn with_preset(preset: &str) -> Mac {
        let temp = tempfile::tempdir().unwrap();
        let work = temp.path().to_path_buf();
        let mac = Mac {
            dir: work.join("mac"),
            work,
            _temp: temp,
        };
        mac.init("mac", preset);
        mac
    }

    /// `macllm sandbox init DIR --preset PRESET`, which names what it made.
    pub fn init(&self, dir: &str, preset: &str) {
        let summary = PRESETS
            .iter()
            .find(|p| p.name == preset)
            .unwrap_or_else(|| panic!("no preset {preset}"))
            .summary;
        self.macllm(&["sandbox", "init", dir, "--preset", preset])
            .stdout(&format!(
                "Created an emulated Mac in {dir}: {summary}\nUse it with `--host sandbox:{dir}`.\n"
            ))
            .run();
    }

    pub fn spec(&self, text: &str) -> &Mac {
        std::fs::write(self.work.join("macllm.yaml"), text).unwrap();
        self
    }

    /// The binary with ARGS in the working folder, with none of the emulator's test switches
    /// inherited.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .current_dir(&self.work)
            .args(args)
            .env_remove("NO_COLOR")
            .env_remove(ENV_FAIL)
            .env_remove(ENV_DELAY_MS);
        command
    }

    /// `macllm ARGS` in the working folder, not against any host.
    pub fn macllm(&self, args: &[&str]) -> Test {
        Test::new(self.command(args), &self.work)
    }

    /// `macllm --host sandbox:mac ARGS`.
    pub fn on(&self, args: &[&str]) -> Test {
        let mut all = vec!["--host", "sandbox:mac"];
        all.extend_from_slice(args);
        self.macllm(&all)
    }

    /// `macllm --host sandbox:mac ARGS` started in the background with ENV, its output piped:
    /// state what it must print, then [`Test::run`] waits for it. [`Test::pid`] names it.
    pub fn spawn_on(&self, args: &[&str], env: &[(&str, &str)]) -> Test {
        let mut all = vec!["--host", "sandbox:mac"];
        all.extend_from_slice(args);
        let mut command = self.command(&all);
        command
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = command.spawn().unwrap();
        let mut test = Test::new(command, &self.work);
        test.child = Some(child);
        test
    }

    /// One emulated command, as a user would type it.
    pub fn sh(&self, argv: &[&str]) -> Test {
        let mut all = vec!["sandbox", "run", "mac", "--"];
        all.extend_from_slice(argv);
        self.macllm(&all)
    }

    /// A change by hand: the Dock's tile size set to 64 (see [`TILESIZE_DRIFT`]).
    pub fn dock_by_hand(&self) {
        self.sh(&[
            "defaults",
            "write",
            "com.apple.dock",
            "tilesize",
            "-int",
            "64",
        ])
        .run();
    }

    /// A domain as `defaults export DOMAIN -` prints it: for comparing before and after.
    pub fn export(&self, domain: &str) -> String {
        self.sh(&["defaults", "export", domain, "-"]).stdout_of()
    }

    /// `defaults read DOMAIN KEY`: add `.stdout("…\n")` for a value, or the error of a
    /// missing key with [`Mac::read_missing`].
    pub fn read(&self, domain: &str, key: &str) -> Test {
        self.sh(&["defaults", "read", domain, key])
    }

    /// `defaults read DOMAIN KEY` for a key that is not there, with the real error text.
    pub fn read_missing(&self, domain: &str, key: &str) {
        self.read(domain, key)
            .status(1)
            .stderr(&format!(
                "[TIME] defaults[[PID]] \nThe domain/default pair of ({domain}, {key}) does not exist\n"
            ))
            .run();
    }

    pub fn state_path(&self) -> PathBuf {
        self.work.join("state/sandbox-mac.json")
    }

    pub fn state(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.state_path()).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// Every file of the emulated Mac with its bytes.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut files = BTreeMap::new();
        collect(&self.dir, &self.dir, &mut files);
        files
    }

    pub fn restarts(&self) -> String {
        std::fs::read_to_string(self.dir.join("var/log/restarts.log")).unwrap_or_default()
    }

    /// Sets one field of the emulated Mac's machine.json (its hardware, Homebrew, test hooks).
    pub fn set_machine(&self, field: &str, value: serde_json::Value) {
        let path = self.dir.join("machine.json");
        let mut machine: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        machine[field] = value;
        std::fs::write(&path, serde_json::to_string_pretty(&machine).unwrap()).unwrap();
    }

    /// Makes the emulated user root as `sudo` would: uid 0 in machine.json, and the user who
    /// ran sudo in `SUDO_USER`.
    pub fn become_root(&self) {
        self.set_machine("uid", 0.into());
        self.set_machine("sudo_user", self.user().into());
    }

    /// The emulated Mac's user (`admin`).
    pub fn user(&self) -> String {
        let text = std::fs::read_to_string(self.dir.join("machine.json")).unwrap();
        let machine: serde_json::Value = serde_json::from_str(&text).unwrap();
        machine["user"].as_str().unwrap().to_string()
    }
}

fn collect(root: &Path, dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            let bytes = std::fs::read(&path).unwrap();
            files.insert(path.strip_prefix(root).unwrap().to_path_buf(), bytes);
        }
    }
}

/// One run of a program and all it must print. Built with what is expected (status 0 and
/// empty output unless stated), then [`Test::run`].
#[must_use = "a Test does nothing until `.run()`"]
pub struct Test {
    command: Command,
    /// Started already (see [`Mac::spawn_on`]): `run` waits for it instead.
    child: Option<Child>,
    /// Run elsewhere and saved (see [`Test::recorded`]): `run` only compares.
    recorded: Option<(String, Output)>,
    work: PathBuf,
    status: i32,
    stdout: Expected,
    stderr: Expected,
    redactions: Vec<(String, String)>,
}

enum Expected {
    Text(String),
    Json(serde_json::Value),
    /// The caller looks at it (a domain's bytes before and after, a sweep's long plans).
    Returned,
}

impl Test {
    /// A test of any command (the emulated programs through the shim, say).
    pub fn new(command: Command, work: &Path) -> Test {
        Test {
            command,
            child: None,
            recorded: None,
            work: work.to_path_buf(),
            status: 0,
            stdout: Expected::Text(String::new()),
            stderr: Expected::Text(String::new()),
            redactions: Vec::new(),
        }
    }

    /// A run that a script made in `work`, saved as NAME.status, NAME.out and NAME.err:
    /// state what it must have printed, then [`Test::run`] compares.
    pub fn recorded(work: &Path, name: &str) -> Test {
        let read = |ext: &str| {
            std::fs::read_to_string(work.join(format!("{name}.{ext}")))
                .unwrap_or_else(|err| panic!("{name}.{ext}: {err}"))
        };
        let output = Output {
            status: read("status").trim().parse().unwrap(),
            stdout: read("out"),
            stderr: read("err"),
        };
        let mut test = Test::new(Command::new("true"), work);
        test.recorded = Some((format!("the script's step `{name}`"), output));
        test
    }

    pub fn status(mut self, status: i32) -> Test {
        self.status = status;
        self
    }

    pub fn stdout(mut self, text: &str) -> Test {
        self.stdout = Expected::Text(text.to_string());
        self
    }

    /// Stdout is one JSON document equal to `value` (compared pretty-printed, so a
    /// difference shows as the lines that differ).
    pub fn stdout_json(mut self, value: serde_json::Value) -> Test {
        self.stdout = Expected::Json(value);
        self
    }

    pub fn stderr(mut self, text: &str) -> Test {
        self.stderr = Expected::Text(text.to_string());
        self
    }

    /// Leaves stdout to the caller, who must look at what [`Test::run`] returns.
    pub fn stdout_any(mut self) -> Test {
        self.stdout = Expected::Returned;
        self
    }

    /// Leaves stderr to the caller, who must look at what [`Test::run`] returns.
    pub fn stderr_any(mut self) -> Test {
        self.stderr = Expected::Returned;
        self
    }

    pub fn env(mut self, name: impl Into<OsString>, value: impl Into<OsString>) -> Test {
        self.command.env(name.into(), value.into());
        self
    }

    /// Replaces `text` with `placeholder` in what the run printed, before comparing.
    pub fn redact(mut self, text: impl Into<String>, placeholder: &str) -> Test {
        self.redactions.push((text.into(), placeholder.to_string()));
        self
    }

    /// The process id of a test started with [`Mac::spawn_on`].
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("a spawned test").id()
    }

    /// Stops a test started with [`Mac::spawn_on`] at once, as a user's kill -9 would.
    pub fn kill(mut self) {
        let mut child = self.child.take().expect("a spawned test");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Runs it, checks status and stderr, and returns stdout for the caller to compare.
    #[track_caller]
    pub fn stdout_of(self) -> String {
        self.stdout_any().run().stdout
    }

    fn execute(&mut self) -> Output {
        let output = match self.child.take() {
            Some(child) => child.wait_with_output().unwrap(),
            None => self.command.stdin(Stdio::null()).output().unwrap(),
        };
        Output {
            status: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs it and compares status, stdout and stderr with what was stated; on any mismatch
    /// shows all of them, then panics.
    #[track_caller]
    pub fn run(mut self) -> Output {
        let (shown, output) = match self.recorded.take() {
            Some(recorded) => recorded,
            None => (describe(&self.command, &self.work), self.execute()),
        };
        let redact = |text: &str| redact(text, &self.work, &self.redactions);
        let mut report = String::new();
        if output.status != self.status {
            let _ = writeln!(
                report,
                "status: expected {}, got {}",
                self.status, output.status
            );
        }
        for (name, expected, got) in [
            ("stdout", &self.stdout, &output.stdout),
            ("stderr", &self.stderr, &output.stderr),
        ] {
            let got = redact(got);
            match expected {
                Expected::Text(want) => compare(&mut report, name, want, &got),
                Expected::Json(want) => {
                    let want = serde_json::to_string_pretty(want).unwrap() + "\n";
                    let got = serde_json::from_str::<serde_json::Value>(&got)
                        .map(|v| serde_json::to_string_pretty(&v).unwrap() + "\n")
                        .unwrap_or(got);
                    compare(&mut report, &format!("{name} (JSON)"), &want, &got);
                }
                Expected::Returned => {}
            }
        }
        if !report.is_empty() {
            let stdout = stdout_for_show(&self.stdout, &redact(&output.stdout));
            let stderr = redact(&output.stderr);
            if let Some(file) = std::env::var_os("E2E_RECORD") {
                record(&file, output.status, &stdout, &stderr);
                return output;
            }
            panic!("`{shown}` did not print what it should:\n{report}");
        }
        output
    }
}

/// `E2E_RECORD=FILE`: a mismatch is appended to FILE (one JSON line with the caller's line)
/// instead of failing, so that writing a new test takes one run. What it records is what the
/// binary did, not what it should do: read it before it becomes an expectation.
#[track_caller]
fn record(file: &std::ffi::OsStr, status: i32, stdout: &str, stderr: &str) {
    use std::io::Write as _;
    let at = std::panic::Location::caller();
    let line = serde_json::json!({
        "file": at.file(), "line": at.line(),
        "status": status, "stdout": stdout, "stderr": stderr,
    });
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .unwrap();
    writeln!(out, "{line}").unwrap();
}

fn stdout_for_show(expected: &Expected, stdout: &str) -> String {
    match expected {
        Expected::Json(_) => serde_json::from_str::<serde_json::Value>(stdout)
            .map(|v| serde_json::to_string_pretty(&v).unwrap())
            .unwrap_or(stdout.to_string()),
        _ => stdout.to_string(),
    }
}

fn describe(command: &Command, work: &Path) -> String {
    let program = command.get_program().to_string_lossy();
    let program = if program == BIN {
        "macllm".into()
    } else {
        redact(&program, work, &[])
    };
    let args: Vec<String> = command
        .get_args()
        .map(|a| redact(&a.to_string_lossy(), work, &[]))
        .collect();
    format!("{program} {}", args.join(" "))
}

fn compare(report: &mut String, what: &str, want: &str, got: &str) {
    if want == got {
        return;
    }
    let diff = similar::TextDiff::from_lines(want, got)
        .unified_diff()
        .context_radius(3)
        .to_string();
    let _ = write!(report, "{what} differs (-expected +actual):\n{diff}");
    if !diff.ends_with('\n') {
        report.push('\n');
    }
}

/// Machine-specific text to stable placeholders: the test's own redactions first, then the
/// working folder, then pids, timestamps, durations and lineages by their shapes.
pub fn redact(text: &str, work: &Path, extra: &[(String, String)]) -> String {
    let mut text = text.to_string();
    for (from, to) in extra {
        text = text.replace(from.as_str(), to);
    }
    // The folder as given and as the kernel resolves it (/tmp may be a link).
    if let Ok(real) = work.canonicalize() {
        text = text.replace(&*real.to_string_lossy(), "[WORK]");
    }
    text = text.replace(&*work.to_string_lossy(), "[WORK]");
    let digit = |c: char| c.is_ascii_digit();
    text = after(&text, "pid ", digit, digit, "[PID]");
    text = after(&text, "since ", digit, is_timestamp_char, "[TIME]");
    let hex = |c: char| c.is_ascii_hexdigit();
    let uuid = |c: char| c.is_ascii_hexdigit() || c == '-';
    text = after(&text, "lineage ", hex, uuid, "[LINEAGE]");
    for json in ["\"lineage\": \"", "\"lineage\":\""] {
        text = after(&text, json, hex, uuid, "[LINEAGE]");
    }
    // Apply's progress: `... complete after 0s`; the unit goes with the number.
    text = after(&text, " complete after ", digit, digit, "[DURATION]");
    text = text.replace(" complete after [DURATION]s", " complete after [DURATION]");
    text.split_inclusive('\n').map(nslog).collect()
}

fn is_timestamp_char(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '-' | ':' | 'T' | 'Z' | '.' | '+')
}

/// Replaces the run of `class` characters after each `prefix` with `placeholder`, when that
/// run starts with a `start` character (so words after the prefix stay: "since the plan").
fn after(
    text: &str,
    prefix: &str,
    start: fn(char) -> bool,
    class: fn(char) -> bool,
    placeholder: &str,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let (head, tail) = rest.split_at(at + prefix.len());
        out.push_str(head);
        if tail.starts_with(start) {
            let end = tail.find(|c: char| !class(c)).unwrap_or(tail.len());
            out.push_str(placeholder);
            rest = &tail[end..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// NSLog's prefix, `2024-05-01 10:00:00.123 defaults[123:4567] `, to
/// `[TIME] defaults[[PID]] `.
fn nslog(line: &str) -> String {
    let shaped = |part: &str, len: usize, punct: &[char]| {
        part.len() == len
            && part
                .chars()
                .all(|c| c.is_ascii_digit() || punct.contains(&c))
    };
    let mut parts = line.splitn(3, ' ');
    let (Some(date), Some(time), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return line.to_string();
    };
    if !shaped(date, 10, &['-']) || !shaped(time, 12, &[':', '.']) {
        return line.to_string();
    }
    let Some((program, after)) = rest.split_once('[') else {
        return line.to_string();
    };
    let Some((ids, tail)) = after.split_once(']') else {
        return line.to_string();
    };
    if !shaped(ids, ids.len(), &[':']) {
        return line.to_string();
    }
    format!("[TIME] {program}[[PID]]{tail}")
}
