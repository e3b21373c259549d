//! Benchmark (run with `cargo bench --bench plan_apply`): apply of 500, 2,000 and 10,000
//! `defaults` keys over 20 domains with `--host local` against the emulated Mac as real
//! processes on PATH (the multi-call shim), printing wall time, milliseconds per key and the
//! processes the apply spawned, for this build and, side by side, the binary named by
//! `MACLLM_BENCH_BASELINE`. `MACLLM_BENCH_KEYS=500,2000` picks the sizes. Not a test: it
//! asserts nothing about time, only prints figures.

mod support;

use std::process::Command;
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_macllm");
const DOMAINS: usize = 20;

fn main() {
    let temp = tempfile::tempdir().expect("temp dir");
    let work = temp.path();
    let bin = work.join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    for program in emulated_mac::PROGRAMS {
        std::os::unix::fs::symlink(BIN, bin.join(program)).expect("symlink");
    }
    let sizes: Vec<usize> = std::env::var("MACLLM_BENCH_KEYS")
        .ok()
        .map(|d| d.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![500, 2_000, 10_000]);
    println!("apply of N defaults keys over {DOMAINS} domains, --host local through the shim");
    println!(
        "{:>7} {:<10} {:>10} {:>9} {:>10} {:>10}",
        "keys", "binary", "wall ms", "ms/key", "processes", "defaults"
    );
    for keys in sizes {
        for (label, binary) in support::binaries(BIN) {
            let run = work.join(format!("{label}-{keys}"));
            std::fs::create_dir_all(&run).expect("run dir");
            let status = Command::new(BIN)
                .args(["sandbox", "init", "mac"])
                .current_dir(&run)
                .output()
                .expect("sandbox init");
            assert!(status.status.success());
            std::fs::write(
                run.join("macllm.yaml"),
                support::defaults_spec(keys, DOMAINS),
            )
            .expect("spec");
            let trace = run.join("trace.log");
            let start = Instant::now();
            let output = Command::new(&binary)
                .args(["--host", "local", "-q", "apply", "--yes"])
                .current_dir(&run)
                .env("PATH", support::path_with(&[&bin]))
                .env(emulated_mac::ENV_SANDBOX, run.join("mac"))
                .env(emulated_mac::ENV_TRACE, &trace)
                .output()
                .expect("macllm");
            let elapsed = start.elapsed();
            assert!(
                output.status.code() == Some(0),
                "{label} apply of {keys} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let spawned = std::fs::read_to_string(&trace).unwrap_or_default();
            let defaults = spawned
                .lines()
                .filter(|l| l.starts_with("defaults"))
                .count();
            println!(
                "{keys:>7} {label:<10} {:>10} {:>9.2} {:>10} {:>10}",
                elapsed.as_millis(),
                elapsed.as_secs_f64() * 1000.0 / keys as f64,
                spawned.lines().count(),
                defaults
            );
            let _ = std::fs::remove_dir_all(&run);
        }
    }
}
