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

/// An `ssh` first on PATH that notes what macllm sends, then runs the real client, to count
/// round trips from outside macllm. A run is a session when its remote command is
/// `/bin/sh -s` (macllm's one remote shell per host, fed batch after batch); every batch
/// script sent to it is one round trip, and so is every other run (a channel of its own).
/// `ssh -G` only prints the client's configuration and is no round trip.
pub struct RoundTrips {
    /// The folder to put first on PATH.
    pub bin: PathBuf,
    runs: PathBuf,
    scripts: PathBuf,
}

/// The first line of every batch script (`batch_script` in src/host/ssh.rs).
const SCRIPT_START: &str = "d=$(/usr/bin/mktemp -d ";

impl RoundTrips {
    pub fn new(dir: &Path) -> RoundTrips {
        use std::os::unix::fs::PermissionsExt;
        let bin = dir.join("counting-ssh");
        std::fs::create_dir_all(&bin).unwrap();
        let runs = dir.join("ssh-runs.log");
        let scripts = dir.join("ssh-scripts.log");
        let real = ["/usr/bin/ssh", "/bin/ssh"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("OpenSSH client");
        // A session's input goes through `tee` in a process substitution, so that ssh itself
        // is what macllm waits for, as without the wrapper.
        let script = format!(
            "#!/bin/bash\ncase \" $* \" in\n*\" -G \"*) exec {real} \"$@\" ;;\n*\" /bin/sh -s \") echo session >>'{runs}'; exec {real} \"$@\" < <(exec tee -a '{scripts}') ;;\n*) echo channel >>'{runs}'; exec {real} \"$@\" ;;\nesac\n",
            runs = runs.display(),
            scripts = scripts.display(),
        );
        let path = bin.join("ssh");
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        RoundTrips { bin, runs, scripts }
    }

    /// Round trips since the last call: channels of their own plus batch scripts sent to
    /// sessions.
    pub fn take(&self) -> usize {
        self.take_with_clients().0
    }

    /// Round trips and `ssh` clients started (sessions and channels) since the last call.
    pub fn take_with_clients(&self) -> (usize, usize) {
        let runs = std::fs::read_to_string(&self.runs).unwrap_or_default();
        let scripts = std::fs::read_to_string(&self.scripts).unwrap_or_default();
        let _ = std::fs::remove_file(&self.runs);
        let _ = std::fs::remove_file(&self.scripts);
        let round_trips = runs.lines().filter(|line| *line == "channel").count()
            + scripts
                .lines()
                .filter(|line| line.starts_with(SCRIPT_START))
                .count();
        (round_trips, runs.lines().count())
    }
}
