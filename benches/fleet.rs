//! Benchmark (`cargo bench --bench fleet`): `plan` of examples/quiet-ui.yaml on 10 and 30
//! emulated Macs, each behind its own real sshd on a loopback port, with `--parallelism` 1, 5
//! and 10. Prints wall times; asserts nothing about them. Needs root and openssh-server
//! (.ci/run installs it); without them it says so and stops.

#[path = "../tests/e2e/sshd.rs"]
mod sshd;

use std::process::Command;
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_macllm");

fn main() {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n");
    if !root || !std::path::Path::new("/usr/sbin/sshd").exists() {
        println!("fleet benchmark skipped: needs root and /usr/sbin/sshd");
        return;
    }
    let temp = tempfile::tempdir().expect("temp dir");
    let work = temp.path();
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quiet-ui.yaml"),
        work.join("macllm.yaml"),
    )
    .expect("spec");
    let bin = sshd::shim(work, BIN);
    let keys = sshd::Keys::new(work);
    println!("{:<8} {:>12} {:>10}", "hosts", "parallelism", "wall ms");
    for hosts in [10, 30] {
        let servers: Vec<sshd::Sshd> = (0..hosts)
            .map(|i| {
                let dir = work.join(format!("mac{hosts}-{i}"));
                let status = Command::new(BIN)
                    .args(["sandbox", "init"])
                    .arg(&dir)
                    .output()
                    .expect("sandbox init");
                assert!(status.status.success());
                keys.sshd(&dir, &bin)
            })
            .collect();
        for parallelism in [1, 5, 10] {
            let mut command = Command::new(BIN);
            command.current_dir(work);
            for server in &servers {
                command
                    .arg("--host")
                    .arg(format!("ssh:127.0.0.1:{}", server.port));
            }
            command
                .args(["--parallelism", &parallelism.to_string(), "plan"])
                .env("MACLLM_SSH_CONFIG", keys.dir.join("client_config"));
            let started = Instant::now();
            let output = command.output().expect("macllm");
            let elapsed = started.elapsed();
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stdout)
            );
            println!("{hosts:<8} {parallelism:>12} {:>10}", elapsed.as_millis());
        }
    }
}
