//! Benchmark (run with `cargo bench`): plan and apply a 300-key spec over 20 domains with
//! `--host local` against the emulated Mac as real processes on PATH (the multi-call shim),
//! reporting wall time and the processes each step spawned. Not a test: it asserts nothing
//! about time, only prints figures.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_macllm");
const DOMAINS: usize = 20;
const KEYS_PER_DOMAIN: usize = 15;

fn main() {
    let temp = tempfile::tempdir().expect("temp dir");
    let work = temp.path();
    let status = Command::new(BIN)
        .args(["sandbox", "init", "mac"])
        .current_dir(work)
        .output()
        .expect("sandbox init");
    assert!(status.status.success());
    let bin = work.join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    for program in emulated_mac::PROGRAMS {
        std::os::unix::fs::symlink(BIN, bin.join(program)).expect("symlink");
    }
    std::fs::write(work.join("macllm.yaml"), spec()).expect("spec");

    println!(
        "{} keys over {DOMAINS} domains, --host local through the shim",
        DOMAINS * KEYS_PER_DOMAIN
    );
    println!(
        "{:<28} {:>10} {:>10} {:>10}",
        "step", "wall ms", "processes", "defaults"
    );
    for (step, args) in [
        ("plan (nothing applied)", &["plan"][..]),
        ("apply --yes", &["apply", "--yes"]),
        ("plan (converged)", &["plan", "--detailed-exitcode"]),
        ("drift", &["drift"]),
        ("destroy --yes", &["destroy", "--yes"]),
    ] {
        let trace = work.join("trace.log");
        let _ = std::fs::remove_file(&trace);
        let start = Instant::now();
        let output = Command::new(BIN)
            .args(["--host", "local", "-q"])
            .args(args)
            .current_dir(work)
            .env("PATH", path_with(&bin))
            .env(emulated_mac::ENV_SANDBOX, work.join("mac"))
            .env(emulated_mac::ENV_TRACE, &trace)
            .output()
            .expect("macllm");
        let elapsed = start.elapsed();
        assert!(
            output.status.code() == Some(0),
            "{step} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let spawned = std::fs::read_to_string(&trace).unwrap_or_default();
        let defaults = spawned
            .lines()
            .filter(|l| l.starts_with("defaults"))
            .count();
        println!(
            "{step:<28} {:>10} {:>10} {:>10}",
            elapsed.as_millis(),
            spawned.lines().count(),
            defaults
        );
    }
}

fn path_with(bin: &Path) -> String {
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn spec() -> String {
    let mut spec = String::from("macllm: 1\ndefaults:\n");
    for d in 0..DOMAINS {
        for k in 0..KEYS_PER_DOMAIN {
            let value = match k % 4 {
                0 => "true".to_string(),
                1 => format!("{}", d * 100 + k),
                2 => format!("{}.5", k),
                _ => format!("\"value {d}-{k}\""),
            };
            spec.push_str(&format!(
                "  - {{domain: com.example.bench{d:02}, key: key{k:02}, value: {value}}}\n"
            ));
        }
    }
    spec
}
