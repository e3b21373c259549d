//! Several emulated Macs behind real `sshd` instances on loopback ports: each sshd runs the
//! multi-call shim for its own emulated Mac (`SetEnv` in its config), so `--host ssh:...`
//! goes through the system ssh client, a remote shell and the quoting function.

use crate::harness::{BIN, Mac, run};
use crate::robustness::{HOSTILE, hostile_spec};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// One sshd serving one emulated Mac; stopped when dropped.
struct Sshd {
    child: Child,
    port: u16,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Keys and the client configuration shared by every sshd of a test.
struct Keys {
    dir: PathBuf,
}

impl Keys {
    fn new(dir: &Path) -> Keys {
        let dir = dir.join("ssh");
        std::fs::create_dir_all(&dir).unwrap();
        keygen(&dir.join("host_key"));
        keygen(&dir.join("client_key"));
        std::fs::copy(dir.join("client_key.pub"), dir.join("authorized_keys")).unwrap();
        std::fs::write(
            dir.join("client_config"),
            format!(
                "Host 127.0.0.1\n  User root\n  IdentityFile {0}/client_key\n  IdentitiesOnly yes\n  StrictHostKeyChecking accept-new\n  UserKnownHostsFile {0}/known_hosts\n",
                dir.display()
            ),
        )
        .unwrap();
        Keys { dir }
    }

    fn sshd(&self, mac: &Mac, bin: &Path) -> Sshd {
        let port = free_port();
        let config = self.dir.join(format!("sshd_{port}"));
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {0}/host_key\nPidFile {0}/sshd_{port}.pid\nAuthorizedKeysFile {0}/authorized_keys\nPermitRootLogin prohibit-password\nPubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nSetEnv PATH={1}:/usr/bin:/bin MACLLM_SANDBOX={2}\n",
                self.dir.display(),
                bin.display(),
                mac.dir.display()
            ),
        )
        .unwrap();
        std::fs::create_dir_all("/run/sshd").unwrap();
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed().as_secs() < 20,
                "sshd on {port} did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Sshd { child, port }
    }
}

fn shim(dir: &Path) -> PathBuf {
    let bin = dir.join("shim");
    std::fs::create_dir_all(&bin).unwrap();
    for program in macllm::sandbox::PROGRAMS {
        std::os::unix::fs::symlink(BIN, bin.join(program)).unwrap();
    }
    bin
}

/// sshd needs root here (PermitRootLogin, /run/sshd) and OpenSSH's server; CI has both.
fn sshd_available() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n");
    let ok = root && Path::new("/usr/sbin/sshd").exists();
    if !ok && std::env::var_os("CI").is_none() {
        eprintln!("skipped: needs root and /usr/sbin/sshd (openssh-server; .ci/run installs it)");
    }
    ok || std::env::var_os("CI").is_some()
}

#[test]
fn one_spec_on_three_macs_over_ssh_with_one_host_down() {
    if !sshd_available() {
        return;
    }
    let work = Mac::new();
    let bin = shim(&work.work);
    let keys = Keys::new(&work.work);
    let macs: Vec<Mac> = ["m1-8gb-monterey", "m2-16gb-sonoma", "m4max-64gb-sequoia"]
        .into_iter()
        .map(Mac::with_preset)
        .collect();
    let servers: Vec<Sshd> = macs.iter().map(|mac| keys.sshd(mac, &bin)).collect();
    let down = free_port();
    work.spec(&format!(
        "{}  - domain: com.apple.dock\n    key: tilesize\n    value: \"{{{{ 30 if host.memory_gb <= 8 else 48 }}}}\"\n",
        hostile_spec()
    ));
    let mut args: Vec<String> = servers
        .iter()
        .flat_map(|s| ["--host".to_string(), format!("ssh:127.0.0.1:{}", s.port)])
        .collect();
    args.extend(["--host".to_string(), format!("ssh:127.0.0.1:{down}")]);
    let fleet = |extra: &[&str]| {
        let mut command = work.command(&[]);
        command.args(&args).args(extra).env(
            macllm::host::ssh::ENV_SSH_CONFIG,
            keys.dir.join("client_config"),
        );
        run(command)
    };
    let apply = fleet(&["apply", "--yes"]).expect(1);
    // Hosts run in parallel; each host's output is one block, then a summary.
    let block =
        format!("=== ssh:127.0.0.1:{down} ===\nerror: cannot reach ssh:127.0.0.1:{down} over SSH");
    assert!(apply.stdout.contains(&block), "{}", apply.stdout);
    assert!(
        apply.stdout.contains("4 hosts: 3 ok, 1 failed."),
        "{}",
        apply.stdout
    );
    assert_eq!(
        apply.stdout.matches("Apply complete!").count(),
        3,
        "{}",
        apply.stdout
    );
    for (mac, server) in macs.iter().zip(&servers) {
        for (i, value) in HOSTILE.iter().enumerate() {
            let key = format!("key {i} $;\"");
            assert_eq!(
                mac.read("com.example.hostile", &key).expect(0).stdout,
                format!("{value}\n")
            );
        }
        assert!(
            work.work
                .join(format!("state/ssh-127.0.0.1-{}.json", server.port))
                .exists()
        );
    }
    // Facts are per host: the 8 GB Mac got the small Dock.
    assert_eq!(
        macs[0].read("com.apple.dock", "tilesize").expect(0).stdout,
        "30\n"
    );
    assert_eq!(
        macs[2].read("com.apple.dock", "tilesize").expect(0).stdout,
        "48\n"
    );
    let plan = fleet(&["--parallelism", "1", "plan", "--detailed-exitcode"]).expect(1);
    assert_eq!(
        plan.stdout.matches("No changes.").count(),
        3,
        "{}",
        plan.stdout
    );
    // With several hosts at once there is no prompt to answer.
    let prompt = fleet(&["destroy"]).expect(1);
    assert!(
        prompt
            .stdout
            .contains("several hosts run at once, so there is no prompt: pass --yes"),
        "{}",
        prompt.stdout
    );
    // The down host has no state, so it has nothing to destroy.
    assert!(
        prompt.stdout.contains("4 hosts: 1 ok, 3 failed."),
        "{}",
        prompt.stdout
    );
    assert_eq!(
        macs[0].read("com.apple.dock", "tilesize").expect(0).stdout,
        "30\n"
    );
    assert!(!Path::new("/tmp/macllm-pwned").exists());
}

#[test]
fn an_inventory_gives_hosts_vars_and_groups_and_limit_picks_some() {
    let work = Mac::new();
    for dir in ["lab1", "lab2", "studio"] {
        work.macllm(&["sandbox", "init", dir]).expect(0);
    }
    std::fs::write(
        work.work.join("fleet.yaml"),
        "hosts:\n  lab-1:\n    host: sandbox:lab1\n    vars: { tile: 30 }\n    groups: [lab]\n  lab-2:\n    host: sandbox:lab2\n    groups: [lab]\n  studio:\n    host: sandbox:studio\n    vars: { tile: 60 }\n",
    )
    .unwrap();
    work.spec("macllm: 1\nvars: { tile: 40 }\ndefaults:\n  - domain: com.apple.dock\n    key: tilesize\n    value: \"{{ vars.tile }}\"\n");
    let apply = work
        .macllm(&[
            "--inventory",
            "fleet.yaml",
            "--limit",
            "lab",
            "apply",
            "--yes",
        ])
        .expect(0);
    assert!(
        apply.stdout.contains("2 hosts: 2 ok, 0 failed."),
        "{}",
        apply.stdout
    );
    let tile = |dir: &str| {
        work.macllm(&[
            "sandbox",
            "run",
            dir,
            "--",
            "defaults",
            "read",
            "com.apple.dock",
            "tilesize",
        ])
        .expect(0)
        .stdout
    };
    assert_eq!(tile("lab1"), "30\n", "the host's own vars win");
    assert_eq!(tile("lab2"), "40\n", "the spec's vars otherwise");
    assert_eq!(tile("studio"), "48\n", "not in --limit: untouched");
    let plan = work
        .macllm(&["--inventory", "fleet.yaml", "plan", "--detailed-exitcode"])
        .expect(2);
    assert!(
        plan.stdout.contains(
            "=== sandbox:studio ===\n\nmacllm will perform the following actions on sandbox:studio"
        ),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("~ value = 48 -> 60"),
        "{}",
        plan.stdout
    );
    let bad = work
        .macllm(&["--inventory", "fleet.yaml", "--limit", "nope", "plan"])
        .expect(1);
    assert!(
        bad.stderr.contains("--limit nope matches no host or group"),
        "{}",
        bad.stderr
    );
}
