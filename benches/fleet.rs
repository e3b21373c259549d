//! Benchmark (`cargo bench --bench fleet`): apply and destroy of examples/quiet-ui.yaml on
//! 30 emulated Macs, each behind its own real sshd on a loopback port reached through a
//! proxy that delays each chunk 10 ms each way, with `--parallelism` 1, 10 and 30. Prints
//! wall time and the CPU seconds per host that macllm and its ssh clients (the multiplexing
//! masters included) used, for this build and, side by side, the binary named by
//! `MACLLM_BENCH_BASELINE`: the emulated Macs and their sshd share the machine's cores, so
//! wall time alone does not show the tool's cost. Asserts nothing about time.
//! `MACLLM_BENCH_PARALLELISM=10,30` picks the parallelisms. The multiplexing masters' own
//! share is printed apart. The key exchange is not in it: the first `ssh` of a host makes
//! the connection before it forks the master, so it counts among the clients. A bare
//! `ssh HOST true` costs 0.13-0.18 s of CPU here with OpenSSH 9.x's default
//! `sntrup761x25519-sha512`, against 0.016 s with `curve25519-sha256`: the floor of any
//! binary's figure, paid once per host. `MACLLM_BENCH_KEX=NAME`
//! sets the client's `KexAlgorithms`, to see the tool's own cost under a cheap exchange
//! (OpenSSH 10 defaults to `mlkem768x25519-sha256` instead; not measured here, whose client
//! is OpenSSH 9.2).

// Without `RoundTrips`: its wrapper's processes would count as the tool's CPU here.
#[allow(dead_code)]
#[path = "../tests/e2e/sshd.rs"]
mod sshd;
mod support;

use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_macllm");
const HOSTS: usize = 30;
const DELAY_MS: u64 = 10;

fn main() {
    if !support::sshd_available("fleet benchmark") {
        return;
    }
    let temp = tempfile::tempdir().expect("temp dir");
    let work = temp.path();
    let shim = sshd::shim(work, BIN);
    let keys = sshd::Keys::new(work);
    if let Ok(kex) = std::env::var("MACLLM_BENCH_KEX") {
        let config = keys.dir.join("client_config");
        let text = std::fs::read_to_string(&config).expect("client config");
        std::fs::write(&config, format!("{text}  KexAlgorithms {kex}\n")).expect("client config");
        println!("key exchange: {kex}");
    }
    let user = std::env::var("USER").unwrap_or_else(|_| "user".into());
    println!("examples/quiet-ui.yaml on {HOSTS} emulated Macs over ssh, {DELAY_MS} ms each way");
    println!(
        "{:<10} {:>11} {:<8} {:>9} {:>13} {:>17}",
        "binary", "parallelism", "step", "wall ms", "cpu s / host", "of it ssh master"
    );
    let servers: Vec<(sshd::Sshd, u16)> = (0..HOSTS)
        .map(|i| {
            let dir = work.join(format!("mac{i}"));
            let status = Command::new(BIN)
                .args(["sandbox", "init"])
                .arg(&dir)
                .output()
                .expect("sandbox init");
            assert!(status.status.success());
            let server = keys.sshd(&dir, &shim);
            let port = support::delaying_proxy(server.port, Duration::from_millis(DELAY_MS));
            (server, port)
        })
        .collect();
    let parallelisms: Vec<usize> = std::env::var("MACLLM_BENCH_PARALLELISM")
        .ok()
        .map(|d| d.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 10, 30]);
    // ssh's control sockets live under TMPDIR, and a Unix socket path has at most 104 bytes:
    // a short folder of their own.
    let sockets = tempfile::Builder::new()
        .prefix("mf")
        .tempdir_in("/tmp")
        .expect("socket dir");
    let mut round = 0;
    for (label, binary) in support::binaries(BIN) {
        for &parallelism in &parallelisms {
            let run = work.join(format!("{label}-{parallelism}"));
            std::fs::create_dir_all(&run).expect("run dir");
            std::fs::copy(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quiet-ui.yaml"),
                run.join("macllm.yaml"),
            )
            .expect("spec");
            for step in ["apply", "destroy"] {
                // A fresh control folder per step: its masters' CPU is counted, then they stop.
                round += 1;
                let tmp = sockets.path().join(round.to_string());
                std::fs::create_dir_all(&tmp).expect("tmp");
                let mut command = Command::new(&binary);
                command.current_dir(&run);
                for (_, port) in &servers {
                    command.arg("--host").arg(format!("ssh:127.0.0.1:{port}"));
                }
                command
                    .args([
                        "--parallelism",
                        &parallelism.to_string(),
                        "-q",
                        step,
                        "--yes",
                    ])
                    .env("TMPDIR", &tmp)
                    .env("MACLLM_SSH_CONFIG", keys.dir.join("client_config"));
                let control_dir = tmp.join(format!("macllm-ssh-{user}"));
                let watch = support::MasterWatch::start(&control_dir);
                let cpu_before = support::children_cpu();
                let started = Instant::now();
                let output = command.output().expect("macllm");
                let elapsed = started.elapsed();
                let masters = watch.stop();
                let cpu = support::children_cpu() - cpu_before + masters;
                support::exit_masters(&control_dir);
                assert!(
                    output.status.success(),
                    "{label} {step}: {}{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                );
                println!(
                    "{label:<10} {parallelism:>11} {step:<8} {:>9} {:>13.3} {:>17.3}",
                    elapsed.as_millis(),
                    cpu / HOSTS as f64,
                    masters / HOSTS as f64
                );
            }
        }
    }
}
