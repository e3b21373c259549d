//! Benchmark (`cargo bench --bench ssh_latency`): plan, apply, converged plan and destroy of
//! 300 `defaults` keys over 20 domains on an emulated Mac behind a real sshd on loopback,
//! reached through a proxy that delays each chunk 0, 10 and 25 ms each way. Prints wall time
//! and SSH round trips per step (`sshd::RoundTrips`: channels of their own, and batch scripts
//! sent to a session), for this build and, side by side, for the binary named by
//! `MACLLM_BENCH_BASELINE`. The connection is set up before the steps
//! (ControlPersist), as a second command in a session finds it. Asserts nothing about time.
//! `MACLLM_BENCH_DELAYS=10` picks the delays.

#[path = "../tests/e2e/sshd.rs"]
mod sshd;
mod support;

use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_macllm");
const KEYS: usize = 300;
const DOMAINS: usize = 20;

const STEPS: &[(&str, &[&str])] = &[
    ("plan", &["plan"]),
    ("apply", &["apply", "--yes"]),
    ("plan (converged)", &["plan", "--detailed-exitcode"]),
    ("destroy", &["destroy", "--yes"]),
];

fn main() {
    if !support::sshd_available("ssh latency benchmark") {
        return;
    }
    let temp = tempfile::tempdir().expect("temp dir");
    let work = temp.path();
    let shim = sshd::shim(work, BIN);
    let keys = sshd::Keys::new(work);
    let round_trips = sshd::RoundTrips::new(work);
    let counting = &round_trips.bin;
    let delays: Vec<u64> = std::env::var("MACLLM_BENCH_DELAYS")
        .ok()
        .map(|d| d.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![0, 10, 25]);
    println!("{KEYS} defaults keys over {DOMAINS} domains, --host ssh through a delaying proxy");
    println!(
        "{:>9} {:<10} {:<18} {:>10} {:>12}",
        "one way", "binary", "step", "wall ms", "round trips"
    );
    for delay in delays {
        for (label, binary) in support::binaries(BIN) {
            let run = work.join(format!("{label}-{delay}"));
            let mac = run.join("mac");
            let tmp = run.join("tmp");
            std::fs::create_dir_all(&tmp).expect("tmp");
            let status = Command::new(BIN)
                .args(["sandbox", "init"])
                .arg(&mac)
                .output()
                .expect("sandbox init");
            assert!(status.status.success());
            std::fs::write(
                run.join("macllm.yaml"),
                support::defaults_spec(KEYS, DOMAINS),
            )
            .expect("spec");
            let server = keys.sshd(&mac, &shim);
            let port = support::delaying_proxy(server.port, Duration::from_millis(delay));
            let macllm = |args: &[&str]| {
                let started = Instant::now();
                let output = Command::new(&binary)
                    .arg("--host")
                    .arg(format!("ssh:127.0.0.1:{port}"))
                    .arg("-q")
                    .args(args)
                    .current_dir(&run)
                    .env("PATH", support::path_with(&[counting]))
                    .env("TMPDIR", &tmp)
                    .env("MACLLM_SSH_CONFIG", keys.dir.join("client_config"))
                    .output()
                    .expect("macllm");
                let elapsed = started.elapsed();
                assert!(
                    output.status.code() == Some(0),
                    "{label} {args:?} failed: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
                elapsed
            };
            // The connection comes up once (the master persists); not measured.
            let _ = Command::new(&binary)
                .arg("--host")
                .arg(format!("ssh:127.0.0.1:{port}"))
                .args(["facts"])
                .current_dir(&run)
                .env("PATH", support::path_with(&[counting]))
                .env("TMPDIR", &tmp)
                .env("MACLLM_SSH_CONFIG", keys.dir.join("client_config"))
                .output();
            round_trips.take();
            for (step, args) in STEPS {
                let elapsed = macllm(args);
                println!(
                    "{:>6} ms {label:<10} {step:<18} {:>10} {:>12}",
                    delay,
                    elapsed.as_millis(),
                    round_trips.take()
                );
            }
            support::exit_masters(&tmp.join(format!(
                "macllm-ssh-{}",
                std::env::var("USER").unwrap_or_else(|_| "user".into())
            )));
        }
    }
}
