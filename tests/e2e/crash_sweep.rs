//! The crash sweep: an apply that touches every resource kind is killed before and after
//! each of its steps (every emulated command and Ollama HTTP request, counted by the
//! emulator's `CRASH_FILE` hook where every one passes, so grouping commands later cannot
//! shrink the coverage). After each kill the next apply must converge from the state alone,
//! and destroy, after that apply or straight after the crash, must put the Mac back: files
//! byte-identical, launchd, power, Spotlight and Ollama in the same effective state.

use crate::harness::{BIN, ENV_DELAY_MS, ENV_FAIL, Mac};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Every resource kind of `AnyResource`: defaults of several types, a system service, an
/// agent, power, Time Machine, a Spotlight folder and volume, Ollama variables (which
/// restart the server), a pull of a small model and a custom model made from it.
const SPEC: &str = "macllm: 1
defaults:
  - domain: com.apple.dock
    key: autohide
    value: true
  - domain: com.apple.dock
    key: tilesize
    value: 36
  - domain: NSGlobalDomain
    key: NSWindowResizeTime
    value: 0.001
  - domain: com.example.macllm
    key: greeting
    value: hello
  - domain: com.example.macllm
    key: models
    value: [llama3.2:1b]
  - domain: com.example.macllm
    key: limits
    value: { ctx: 4096 }
services:
  - label: com.apple.photoanalysisd
    enabled: false
agents:
  - label: com.example.keep-awake
    program_arguments: [/usr/bin/caffeinate, -i, -s]
    run_at_load: true
power:
  all:
    sleep: 0
    powernap: false
time_machine:
  automatic_backups: false
spotlight:
  - path: ~/.ollama/models
    indexed: false
  - volume: /System/Volumes/Data
    indexed: false
ollama:
  env:
    OLLAMA_NUM_PARALLEL: 1
    OLLAMA_KEEP_ALIVE: 30m
  pull:
    - llama3.2:1b
  models:
    - name: tiny-8k
      from: llama3.2:1b
      parameters:
        num_ctx: 8192
      system: You answer briefly.
";

const CRASH_FILE: &str = "var/macllm-crash";
const CRASH_STEPS_FILE: &str = "var/macllm-crash-steps";

/// Paths (in the emulated Mac) left out of the byte comparison, and why:
/// - the hook's own files;
/// - logs (`var/log`, Ollama's server log): they only grow, and the issue excludes them;
/// - the emulator's stand-ins for running processes and kernel state, which a real Mac keeps
///   in no file: launchd's job table with its pids (`var/db/launchd.json`), the running
///   Ollama server's pid (`var/run/ollama.json`), the power settings (`var/db/pmset.json`)
///   and Spotlight's index switches (`var/db/spotlight.json`), all created on first use. These
///   are compared through the commands that report them instead ([`effective`]);
/// - launchd's override files (`disabled*.plist`): an `enabled` entry left where there was
///   none is the same effective state (no `launchctl` subcommand removes one, reference
///   macos-commands.md 2.2), so they are compared as `launchctl print-disabled` reports them.
const EXCLUDED: &[&str] = &[
    CRASH_FILE,
    CRASH_STEPS_FILE,
    "private/var/log",
    "opt/homebrew/var/log",
    "private/var/db/launchd.json",
    "private/var/run/ollama.json",
    "private/var/db/pmset.json",
    "private/var/db/spotlight.json",
    "private/var/db/com.apple.xpc.launchd",
];

/// What destroy leaves behind after every kill point and after a clean apply too, not yet
/// fixed (see the report of issue 11): tolerated only where the path was absent before and
/// holds exactly this after, so anything else there still fails.
/// - `tmutil enable` writes `AutoBackup = true` where the key was absent (absent means
///   enabled, NIST mSCP; reference 4.2): the same effective state, but the Time Machine
///   resource reads an absent key as `true`, so its original cannot say "absent".
/// - `mkdir -p` made the folders of Homebrew's service environment file; destroy removes the
///   file but the state does not record which folders apply made.
fn known_leftovers() -> [(&'static str, Entry); 3] {
    const AUTO_BACKUP: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>AutoBackup</key>
	<true/>
</dict>
</plist>
"#;
    [
        (
            "Library/Preferences/com.apple.TimeMachine.plist",
            Entry::File {
                mode: 0o644,
                bytes: AUTO_BACKUP.as_bytes().to_vec(),
            },
        ),
        ("Users/admin/.homebrew", Entry::Dir { mode: 0o755 }),
        ("Users/admin/.homebrew/services", Entry::Dir { mode: 0o755 }),
    ]
}

#[derive(Debug, PartialEq, Clone)]
enum Entry {
    File { mode: u32, bytes: Vec<u8> },
    Link(PathBuf),
    Dir { mode: u32 },
}

/// Every file, symlink and folder of the emulated Mac but [`EXCLUDED`], without following
/// symlinks.
fn tree(mac: &Path) -> BTreeMap<PathBuf, Entry> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Entry>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(root).unwrap().to_path_buf();
            if EXCLUDED.iter().any(|x| relative.starts_with(x)) {
                continue;
            }
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let mode = meta.permissions().mode() & 0o7777;
            if meta.file_type().is_symlink() {
                out.insert(relative, Entry::Link(std::fs::read_link(&path).unwrap()));
            } else if meta.is_dir() {
                out.insert(relative, Entry::Dir { mode });
                walk(root, &path, out);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                out.insert(relative, Entry::File { mode, bytes });
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(mac, mac, &mut out);
    out
}

fn show(entry: Option<&Entry>) -> String {
    match entry {
        None => "(absent)".to_string(),
        Some(Entry::File { mode, bytes }) => {
            format!("file {mode:o} {:?}", String::from_utf8_lossy(bytes))
        }
        Some(Entry::Link(target)) => format!("symlink -> {}", target.display()),
        Some(Entry::Dir { mode }) => format!("folder {mode:o}"),
    }
}

/// Whether `after` at `path`, absent before, is one of the [`known_leftovers`].
fn known_leftover(path: &Path, after: Option<&Entry>) -> bool {
    known_leftovers()
        .iter()
        .any(|(known, entry)| path == Path::new(known) && after == Some(entry))
}

/// The differences between two trees, one line each (a file's bytes shown as text), but the
/// [`known_leftovers`] when `allow_leftovers`.
fn diff(
    before: &BTreeMap<PathBuf, Entry>,
    after: &BTreeMap<PathBuf, Entry>,
    allow_leftovers: bool,
) -> String {
    let mut out = String::new();
    for path in before
        .keys()
        .chain(after.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let (b, a) = (before.get(path), after.get(path));
        if allow_leftovers && b.is_none() && known_leftover(path, a) {
            continue;
        }
        if b != a {
            out += &format!(
                "    {}: before {}\n      after {}\n",
                path.display(),
                show(b),
                show(a)
            );
        }
    }
    out
}

/// `macllm ARGS` in `work` against `sandbox:mac`, with none of the test switches inherited.
fn macllm(work: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .current_dir(work)
        .args(["--host", "sandbox:mac"])
        .args(args)
        .env_remove(ENV_FAIL)
        .env_remove(ENV_DELAY_MS)
        .output()
        .unwrap()
}

/// One emulated command's stdout and status.
fn emulated(work: &Path, argv: &[&str]) -> String {
    let output = Command::new(BIN)
        .current_dir(work)
        .args(["sandbox", "run", "mac", "--"])
        .args(argv)
        .output()
        .unwrap();
    format!(
        "$ {} (status {})\n{}",
        argv.join(" "),
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout)
    )
}

/// What the Mac reports of the state that lives in no file: launchd's overrides as they take
/// effect (an `enabled` override is the default; only `disabled` ones count) and its loaded
/// jobs (running or not, pids dropped), the power settings, Spotlight's switch for the
/// volume, and Ollama's server.
fn effective(work: &Path) -> String {
    let mut out = String::new();
    for domain in ["system", "gui/501"] {
        let disabled = emulated(work, &["launchctl", "print-disabled", domain]);
        out += &disabled
            .lines()
            .filter(|line| !line.contains("=> enabled"))
            .map(|line| format!("{line}\n"))
            .collect::<String>();
        let jobs = emulated(work, &["launchctl", "print", domain]);
        out += &jobs
            .lines()
            .map(|line| {
                let words: Vec<&str> = line.split_whitespace().collect();
                match words.as_slice() {
                    [pid, status, label] if pid.parse::<u64>().is_ok() => {
                        let running = if *pid == "0" { "stopped" } else { "running" };
                        format!("  {label} {running} {status}\n")
                    }
                    _ => format!("{line}\n"),
                }
            })
            .collect::<String>();
    }
    out += &emulated(work, &["pmset", "-g", "custom"]);
    out += &emulated(work, &["mdutil", "-s", "/System/Volumes/Data"]);
    out += &emulated(work, &["curl", "-s", "http://127.0.0.1:11434/api/tags"]);
    out
}

/// A Mac where every kind applies (root, as `sudo macllm` would run), with the spec.
fn prepared() -> Mac {
    let mac = Mac::new();
    mac.become_root();
    mac.spec(SPEC);
    mac
}

/// Copies the prepared working folder (spec, Mac, no state yet) to a fresh one, in memory
/// where there is a tmpfs: macllm syncs its state file at every step, and a kill (unlike a
/// power cut) loses nothing the kernel holds, so disk latency would only slow the sweep.
fn copy_of(prepared: &Path) -> tempfile::TempDir {
    let temp = tempfile::tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .unwrap();
    let status = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", prepared.display()))
        .arg(temp.path())
        .status()
        .unwrap();
    assert!(status.success());
    temp
}

/// The steps of a clean apply, from the hook with a kill point it never reaches.
fn steps_of_clean_apply(prepared: &Path) -> Vec<String> {
    let temp = copy_of(prepared);
    let work = temp.path();
    std::fs::write(work.join("mac").join(CRASH_FILE), "999999999 before").unwrap();
    let output = macllm(work, &["apply", "--yes"]);
    assert!(output.status.success(), "clean apply: {output:?}");
    std::fs::read_to_string(work.join("mac").join(CRASH_STEPS_FILE))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

struct Failure {
    step: usize,
    when: &'static str,
    command: String,
    phase: &'static str,
    detail: String,
}

#[derive(Default)]
struct Tally {
    tried: AtomicUsize,
    converged: AtomicUsize,
    /// Restored: files byte-identical but the known leftovers, effective state the same.
    restored: AtomicUsize,
    /// Restored with no leftover at all.
    identical: AtomicUsize,
    /// Restored (as `restored`) by a destroy run straight after the crash.
    destroyed_after_crash: AtomicUsize,
}

fn text(output: &std::process::Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}stderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// How destroy left the Mac in `work`, or what failed: destroy itself (`phases.0`) or the
/// comparison with the original (`phases.1`). `Ok(true)` when not even a known leftover is
/// there.
fn destroy_and_compare(
    work: &Path,
    original: &(BTreeMap<PathBuf, Entry>, String),
    phases: (&'static str, &'static str),
) -> Result<bool, (&'static str, String)> {
    let destroy = macllm(work, &["destroy", "--yes"]);
    if !destroy.status.success() {
        return Err((phases.0, text(&destroy)));
    }
    let after = tree(&work.join("mac"));
    let files = diff(&original.0, &after, true);
    let state = effective(work);
    if !files.is_empty() || state != original.1 {
        let mut detail = String::new();
        if !files.is_empty() {
            detail += &format!("  files:\n{files}");
        }
        if state != original.1 {
            detail += &format!(
                "  effective state before:\n{}\n  after:\n{state}",
                original.1
            );
        }
        return Err((phases.1, detail));
    }
    Ok(diff(&original.0, &after, false).is_empty())
}

/// One kill point: the crashed apply; then on one copy the next apply, its plan, destroy and
/// the comparison; on another, destroy straight after the crash and the comparison. Returns
/// the phases that failed.
fn sweep_point(
    prepared: &Path,
    original: &(BTreeMap<PathBuf, Entry>, String),
    step: usize,
    when: &str,
    tally: &Tally,
) -> Vec<(&'static str, String)> {
    let temp = copy_of(prepared);
    let work = temp.path();
    let mac = work.join("mac");
    std::fs::write(mac.join(CRASH_FILE), format!("{step} {when}")).unwrap();
    let crashed = macllm(work, &["apply", "--yes"]);
    tally.tried.fetch_add(1, Ordering::Relaxed);
    if crashed.status.signal().is_none() {
        return vec![("crashed apply (it did not die)", text(&crashed))];
    }
    std::fs::remove_file(mac.join(CRASH_FILE)).unwrap();
    std::fs::remove_file(mac.join(CRASH_STEPS_FILE)).unwrap();
    let mut failures = Vec::new();
    let crashed_copy = copy_of(work);
    match destroy_and_compare(
        crashed_copy.path(),
        original,
        (
            "destroy straight after the crash",
            "compare after destroy straight after the crash",
        ),
    ) {
        Ok(_) => {
            tally.destroyed_after_crash.fetch_add(1, Ordering::Relaxed);
        }
        Err(failure) => failures.push(failure),
    }
    let next = macllm(work, &["apply", "--yes"]);
    if !next.status.success() {
        failures.push(("next apply", text(&next)));
        return failures;
    }
    let plan = macllm(work, &["plan", "--detailed-exitcode"]);
    if !plan.status.success() {
        failures.push(("converged plan", text(&plan)));
        return failures;
    }
    tally.converged.fetch_add(1, Ordering::Relaxed);
    match destroy_and_compare(work, original, ("destroy", "compare")) {
        Ok(identical) => {
            tally.restored.fetch_add(1, Ordering::Relaxed);
            if identical {
                tally.identical.fetch_add(1, Ordering::Relaxed);
            }
        }
        Err(failure) => failures.push(failure),
    }
    failures
}

/// Threads: the runs mostly wait (Ollama restarts, launchd polls), so more than the cores.
const THREADS: usize = 6;

#[test]
fn every_kill_point_of_a_full_apply_converges_and_destroy_restores_the_mac() {
    let started = Instant::now();
    let prepared = prepared();
    let original = (tree(&prepared.dir), effective(&prepared.work));
    let steps = steps_of_clean_apply(&prepared.work);
    let points: Vec<(usize, &'static str)> = (1..=steps.len())
        .flat_map(|step| [(step, "before"), (step, "after")])
        .collect();
    let next = AtomicUsize::new(0);
    let tally = Tally::default();
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                while let Some(&(step, when)) = points.get(next.fetch_add(1, Ordering::Relaxed)) {
                    for (phase, detail) in
                        sweep_point(&prepared.work, &original, step, when, &tally)
                    {
                        failures.lock().unwrap().push(Failure {
                            step,
                            when,
                            command: steps[step - 1].clone(),
                            phase,
                            detail,
                        });
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort_by_key(|f| (f.step, f.when));
    println!(
        "crash sweep: N = {} steps; kill points tried {}, converged {}, restored \
         byte-identical {} but for the known leftovers ({} paths; {} with none); destroy \
         straight after the crash restored {}; {:.1} s",
        steps.len(),
        tally.tried.load(Ordering::Relaxed),
        tally.converged.load(Ordering::Relaxed),
        tally.restored.load(Ordering::Relaxed),
        known_leftovers().len(),
        tally.identical.load(Ordering::Relaxed),
        tally.destroyed_after_crash.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    let report: String = failures
        .iter()
        .map(|f| {
            format!(
                "point {} {} (`{}`): {} failed\n{}\n",
                f.step,
                f.when,
                f.command.chars().take(160).collect::<String>(),
                f.phase,
                f.detail
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} kill points failed:\n{report}",
        failures.len(),
        points.len()
    );
}

/// The number of steps the hook counted, and its last.
fn counted(mac: &Mac) -> (usize, String) {
    let text = std::fs::read_to_string(mac.dir.join(CRASH_STEPS_FILE)).unwrap();
    (
        text.lines().count(),
        text.lines().last().unwrap().to_string(),
    )
}

/// A kill point kills the process running macllm: in the sandbox host macllm itself aborts;
/// reached in a shim child (`--host local`, the emulated programs as real processes), the
/// child kills macllm, its parent, with SIGKILL. Nothing after the point runs.
#[test]
fn a_kill_point_kills_macllm_in_the_sandbox_host_and_through_the_shim() {
    let mac = Mac::new();
    mac.spec(crate::harness::QUIET_UI);
    std::fs::write(mac.dir.join(CRASH_FILE), "3 after").unwrap();
    let output = macllm(&mac.work, &["apply", "--yes"]);
    assert_eq!(
        output.status.signal(),
        Some(libc_sigabrt()),
        "{}",
        text(&output)
    );
    assert_eq!(counted(&mac), (3, "id -u".to_string()));
    assert!(!mac.state_path().exists() || mac.state()["resources"] == serde_json::json!({}));

    std::fs::remove_file(mac.dir.join(CRASH_STEPS_FILE)).unwrap();
    let shim = crate::shim::Shim::install(&mac);
    let output = shim
        .command(&mac, "macllm", &["--host", "local", "apply", "--yes"])
        .output()
        .unwrap();
    assert_eq!(output.status.signal(), Some(9), "{}", text(&output));
    assert_eq!(counted(&mac).0, 3);
}

/// SIGABRT, which `std::process::abort` raises (6 on Linux and macOS).
fn libc_sigabrt() -> i32 {
    6
}
