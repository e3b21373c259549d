//! The emulated Mac: a directory that answers `defaults`, `launchctl`, `mdutil`, `pmset`,
//! `tmutil`, `plutil`, `sysctl`, `sw_vers`, `id`, `hostname`, `killall` and the BSD file tools
//! the way macOS does, with the output formats, exit codes and error
//! texts captured in ../shared/reference/. macllm reaches it in-process (`--host sandbox:DIR`,
//! through its `sandbox.rs` bridge) and, through the multi-call shim, as real processes on
//! PATH (so its local and SSH hosts are tested end to end). One file per emulated program;
//! each cites the capture or source it follows. It depends on nothing of macllm: a test
//! double and a user-facing sandbox, apart from the product.

pub mod activate_settings;
pub mod brew;
mod crash;
pub mod curl;
pub mod defaults;
pub mod files;
pub mod getopt;
pub mod hostname;
pub mod http;
pub mod id;
pub mod ioreg;
pub mod killall;
pub mod launchctl;
pub mod launchd_db;
pub mod libc;
pub mod machine;
pub mod mdutil;
pub mod nslog;
pub mod ollama;
pub mod ollama_app;
pub mod output;
pub mod owners;
pub mod plutil;
pub mod pmset;
pub mod presets;
pub mod printenv;
pub mod sudo;
pub mod sw_vers;
pub mod sysctl;
pub mod system_profiler;
#[cfg(test)]
mod testing;
pub mod tmutil;

use anyhow::{Result, bail};
pub use http::{HttpRequest, HttpResponse, Unreachable};
use machine::Machine;
pub use output::Output;
use std::path::Path;

/// Programs the sandbox emulates, by the name a Mac has them under.
pub const PROGRAMS: &[&str] = &[
    "defaults",
    "sysctl",
    "sw_vers",
    "id",
    "hostname",
    "killall",
    "activateSettings",
    "launchctl",
    "mdutil",
    "pmset",
    "tmutil",
    "cat",
    "tee",
    "mkdir",
    "rm",
    "mv",
    "ln",
    "readlink",
    "test",
    "chmod",
    "chown",
    "stat",
    "sudo",
    "brew",
    "printenv",
    "open",
    "osascript",
    "plutil",
    "system_profiler",
    "curl",
    "ioreg",
];

/// Set in the environment of shim processes: the emulated Mac they act on.
pub const ENV_SANDBOX: &str = "MACLLM_SANDBOX";
/// Test hook: a file that every emulated invocation appends its argv to (counts processes).
pub const ENV_TRACE: &str = "MACLLM_SANDBOX_TRACE";
/// Test hook: emulated invocations whose argv (joined by spaces) starts with this text fail
/// with exit 1 and a message on stderr, before changing anything.
pub const ENV_FAIL: &str = "MACLLM_SANDBOX_FAIL";
/// Test hook, like [`ENV_FAIL`] but a file in the emulated Mac holding the prefix: reaches
/// emulated programs however they are started (e.g. through sshd, which passes no quoted
/// environment values).
pub const FAIL_FILE: &str = "var/macllm-fail";
/// Test hook: milliseconds every emulated *write* sleeps first, so a test can kill an apply
/// in the middle.
pub const ENV_DELAY_MS: &str = "MACLLM_SANDBOX_DELAY_MS";
/// Test hook: a file in the emulated Mac naming a kill point, `N before` or `N after`. While
/// it exists, every emulated command (each [`run`] from outside, wrappers such as `sudo`
/// counting once with what they run) and every Ollama HTTP request ([`http`]) is one step,
/// appended to [`CRASH_STEPS_FILE`]; at step N, before it runs or after it ran, the process
/// running macllm dies as if SIGKILLed: no destructors, no flush. Counting in the file
/// spans processes (shim children), and counting here, where every command passes, keeps
/// the kill points the same however macllm groups its commands. Not covered: HTTP that a
/// local host sends over TCP to `macllm sandbox serve` (that server cannot name macllm's
/// process), and over SSH a shim's parent is the session's shell, so the kill ends the
/// session and macllm sees the connection drop instead of dying.
pub const CRASH_FILE: &str = "var/macllm-crash";
/// With [`CRASH_FILE`] present: one line per step so far, the command it was; the step's
/// number is its line's.
pub const CRASH_STEPS_FILE: &str = "var/macllm-crash-steps";

/// Runs one emulated program. `argv[0]` may be a path (`/usr/bin/defaults`); its file name
/// picks the program.
pub fn run(machine: &Machine, argv: &[String], stdin: &[u8]) -> Result<Output> {
    // `sudo` and `launchctl asuser` run what they wrap through here again: one step in all.
    let outermost = DEPTH.with(|depth| depth.replace(depth.get() + 1)) == 0;
    let step = outermost
        .then(|| crash::begin(machine, &argv.join(" ")))
        .flatten();
    let output = run_program(machine, argv, stdin);
    DEPTH.with(|depth| depth.set(depth.get() - 1));
    if let Some(step) = step {
        crash::end(step);
    }
    output
}

/// One HTTP request to the emulated Mac's Ollama, as a client on the Mac sends it: a step of
/// the [`CRASH_FILE`] hook, like a command (over SSH it is one: `curl`, through [`run`]).
pub fn http(
    machine: &Machine,
    address: &str,
    request: &HttpRequest,
) -> std::result::Result<HttpResponse, Unreachable> {
    let step = crash::begin(
        machine,
        &format!("http {} {} {}", request.method, address, request.path),
    );
    let response = ollama::handle_at(machine, address, request);
    if let Some(step) = step {
        crash::end(step);
    }
    response
}

thread_local! {
    /// How many [`run`]s this thread is inside: wrapped commands are not steps of their own.
    static DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

fn run_program(machine: &Machine, argv: &[String], stdin: &[u8]) -> Result<Output> {
    let Some((program, args)) = argv.split_first() else {
        bail!("internal error: empty argv");
    };
    let name = Path::new(program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    trace(argv);
    let prefix = std::env::var(ENV_FAIL)
        .ok()
        .or_else(|| std::fs::read_to_string(machine.dir.join(FAIL_FILE)).ok())
        .map(|p| p.trim_end_matches('\n').to_string());
    if let Some(prefix) = prefix
        && !prefix.is_empty()
        && argv.join(" ").starts_with(&prefix)
    {
        return Ok(Output::failed(
            1,
            format!("{name}: injected failure (sandbox test hook {ENV_FAIL})\n"),
        ));
    }
    let output = match name.as_str() {
        "defaults" => defaults::run(machine, args, stdin),
        "sysctl" => sysctl::run(machine, args),
        "sw_vers" => sw_vers::run(machine, args),
        "id" => id::run(machine, args),
        "hostname" => hostname::run(machine, args),
        "killall" => killall::run(machine, args),
        "activateSettings" => activate_settings::run(machine, args),
        "launchctl" => launchctl::run_with_stdin(machine, args, stdin),
        "mdutil" => mdutil::run(machine, args),
        "pmset" => pmset::run_as(machine, program, args),
        "tmutil" => tmutil::run(machine, args),
        "brew" => brew::run(machine, args),
        "sudo" => sudo::run(machine, args, stdin),
        "stat" => owners::stat(machine, args),
        "chown" => owners::chown(machine, args),
        "printenv" => printenv::run(machine, args),
        "open" => ollama_app::open(machine, args),
        "osascript" => ollama_app::osascript(machine, args),
        "cat" | "tee" | "mkdir" | "rm" | "mv" | "ln" | "readlink" | "test" | "chmod" => {
            files::run(machine, &name, args, stdin)
        }
        "plutil" => plutil::run_with_stdin(machine, args, stdin),
        "system_profiler" => system_profiler::run(machine, args),
        "curl" => curl::run(machine, args, stdin),
        "ioreg" => ioreg::run(machine, args),
        _ => bail!(
            "cannot run `{program}`: the emulated Mac has no such program (it emulates {})",
            PROGRAMS.join(", ")
        ),
    };
    Ok(output)
}

fn trace(argv: &[String]) {
    let Ok(path) = std::env::var(ENV_TRACE) else {
        return;
    };
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        use std::io::Write;
        // One line per invocation, whatever the arguments hold (XML values span lines).
        let line: Vec<String> = argv.iter().map(|a| a.replace('\n', "\\n")).collect();
        let _ = writeln!(file, "{}", line.join(" "));
    }
}

pub fn delay_write() {
    if let Some(ms) = std::env::var(ENV_DELAY_MS)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

/// Whether an emulated command reads its standard input: `tee` always, the others only when
/// told to (`-`, curl's `@-`). Nothing else is given stdin, so no emulated program waits on
/// a terminal.
pub fn reads_stdin(argv: &[String]) -> bool {
    let argv = innermost(argv);
    let name = argv
        .first()
        .and_then(|p| Path::new(p).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name == "tee"
        || (["defaults", "plutil"].contains(&name.as_str()) && argv.iter().any(|a| a == "-"))
        || (name == "curl" && argv.iter().any(|a| a == "@-"))
}

/// The command a wrapper runs: `launchctl asuser UID COMMAND...` and `sudo [OPTIONS] [--]
/// COMMAND...` peeled off (any number of times), as the emulated wrappers hand it on.
pub fn innermost(argv: &[String]) -> &[String] {
    let name = |word: &String| {
        Path::new(word)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    match argv {
        [launchctl, asuser, _uid, rest @ ..]
            if name(launchctl) == "launchctl" && asuser == "asuser" =>
        {
            innermost(rest)
        }
        [sudo, rest @ ..] if name(sudo) == "sudo" => {
            let mut rest = rest;
            while let Some((word, tail)) = rest.split_first() {
                if word == "--" {
                    return innermost(tail);
                }
                if !word.starts_with('-') {
                    break;
                }
                rest = if word == "-u" || word == "--user" {
                    tail.get(1..).unwrap_or_default()
                } else {
                    tail
                };
            }
            innermost(rest)
        }
        _ => argv,
    }
}

/// The multi-call shim: when macllm's binary is invoked under an emulated program's name
/// (a symlink `defaults -> macllm` on PATH) with `MACLLM_SANDBOX` set, it behaves as that
/// program. Returns `None` when this process is plain `macllm`.
pub fn shim_main() -> Option<i32> {
    let argv: Vec<String> = std::env::args().collect();
    let name = Path::new(argv.first()?).file_name()?.to_string_lossy();
    if !PROGRAMS.contains(&name.as_ref()) {
        return None;
    }
    let Ok(dir) = std::env::var(ENV_SANDBOX) else {
        eprintln!("{name}: this is macllm's emulated-Mac shim; set {ENV_SANDBOX}=DIR to use it");
        return Some(127);
    };
    let mut stdin = Vec::new();
    if reads_stdin(&argv) {
        use std::io::Read;
        let _ = std::io::stdin().read_to_end(&mut stdin);
    }
    // Emulated writes are slowed here too, so tests can interrupt an apply that runs through
    // the shim; only `defaults` argv shapes are known to be writes.
    let inner = innermost(&argv);
    if inner
        .first()
        .is_some_and(|p| Path::new(p).ends_with("defaults"))
        && inner
            .get(1..)
            .into_iter()
            .flatten()
            .any(|a| ["write", "delete", "import", "rename"].contains(&a.as_str()))
    {
        delay_write();
    }
    crash::IN_SHIM.store(true, std::sync::atomic::Ordering::Relaxed);
    let result = Machine::open(Path::new(&dir)).and_then(|mut machine| {
        // sshd sets SSH_CONNECTION in a session's environment (sshd(8), ENVIRONMENT).
        machine.info.over_ssh = std::env::var_os("SSH_CONNECTION").is_some();
        run(&machine, &argv, &stdin)
    });
    match result {
        Ok(output) => {
            use std::io::Write;
            let _ = std::io::stdout().write_all(output.stdout.as_bytes());
            let _ = std::io::stderr().write_all(output.stderr.as_bytes());
            Some(output.status)
        }
        Err(err) => {
            eprintln!("{name}: {err:#}");
            Some(127)
        }
    }
}
