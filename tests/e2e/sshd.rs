//! Real `sshd` instances on loopback ports, each serving one emulated Mac through the
//! multi-call shim (`SetEnv` in its config). Shared by the fleet tests and the fleet benchmark.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// One sshd serving one emulated Mac; stopped when dropped.
pub struct Sshd {
    child: Child,
    pub port: u16,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
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
pub struct Keys {
    pub dir: PathBuf,
}

impl Keys {
    pub fn new(dir: &Path) -> Keys {
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

    /// An sshd on a free loopback port whose sessions run the shim for the emulated Mac in
    /// `mac_dir`.
    pub fn sshd(&self, mac_dir: &Path, bin: &Path) -> Sshd {
        let port = free_port();
        let config = self.dir.join(format!("sshd_{port}"));
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {0}/host_key\nPidFile {0}/sshd_{port}.pid\nAuthorizedKeysFile {0}/authorized_keys\nPermitRootLogin prohibit-password\nPubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nSetEnv PATH={1}:/usr/bin:/bin MACLLM_SANDBOX={2}\n",
                self.dir.display(),
                bin.display(),
                mac_dir.display()
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

/// A folder of symlinks to the macllm binary under the emulated programs' names.
pub fn shim(dir: &Path, binary: &str) -> PathBuf {
    let bin = dir.join("shim");
    std::fs::create_dir_all(&bin).unwrap();
    for program in emulated_mac::PROGRAMS {
        std::os::unix::fs::symlink(binary, bin.join(program)).unwrap();
    }
    bin
}
