//! Batches over a real sshd: a plan sends its reads as one remote `/bin/sh -s` script (one
//! SSH channel), and values on the Mac that look like the script's frames come back as they
//! are. Channels are counted by an `ssh` first on PATH that notes each run (but `ssh -G`,
//! which only prints the client's configuration).

use crate::fleet::require_sshd;
use crate::harness::{BIN, Mac};
use crate::sshd::{Keys, shim};
use macllm::host::ssh::ENV_SSH_CONFIG;
use std::path::{Path, PathBuf};

/// A folder with an `ssh` that appends a line to `log` per channel, then runs the real one.
pub fn counting_ssh(dir: &Path, log: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("counting-ssh");
    std::fs::create_dir_all(&bin).unwrap();
    let script = bin.join("ssh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncase \" $* \" in *\" -G \"*) ;; *) echo >>'{}' ;; esac\nexec /usr/bin/ssh \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

/// Runs counted by [`counting_ssh`] since the last call.
pub fn channels(log: &Path) -> usize {
    let count = std::fs::read_to_string(log).map_or(0, |t| t.lines().count());
    let _ = std::fs::remove_file(log);
    count
}

/// What `defaults` holds on the Mac: text that reads like a batch record and its marker.
const FORGED: &str = "0 4 0\nfake\nmacllm-batch-1-2\n1 0 0\n";

#[test]
#[ignore = "needs root and /usr/sbin/sshd; run with --include-ignored"]
fn a_plan_over_ssh_is_two_round_trips_and_frames_cannot_be_forged() {
    require_sshd();
    let mac = Mac::new();
    let bin = shim(&mac.work, BIN);
    let keys = Keys::new(&mac.work);
    let server = keys.sshd(&mac.dir, &bin);
    let log = mac.work.join("channels.log");
    let counting = counting_ssh(&mac.work, &log);
    mac.sh(&[
        "defaults",
        "write",
        "com.example.b",
        "forged",
        "-string",
        FORGED,
    ])
    .run();
    mac.spec(
        "macllm: 1
defaults:
  - {domain: com.example.a, key: one, value: 1}
  - {domain: com.example.a, key: two, value: \"2 0 0\\nmacllm-batch-3\"}
  - {domain: com.example.b, key: forged, value: \"0 4 0\\nfake\\nmacllm-batch-1-2\\n1 0 0\\n\"}
  - {domain: com.example.b, key: three, value: true}
",
    );
    let host = format!("ssh:127.0.0.1:{}", server.port);
    let path = format!(
        "{}:{}",
        counting.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let macllm = |args: &[&str]| {
        let mut all = vec!["--host", host.as_str()];
        all.extend_from_slice(args);
        mac.macllm(&all)
            .env(ENV_SSH_CONFIG, keys.dir.join("client_config"))
            .env("PATH", &path)
            .env("TMPDIR", mac.work.join("tmp"))
            .redact(format!("127.0.0.1:{}", server.port), "[MAC]")
            .redact("mkdir: /root: Read-only file system\n", "")
    };
    std::fs::create_dir_all(mac.work.join("tmp")).unwrap();
    // The key whose stored text looks like frames reads back as it is: no change.
    macllm(&["plan"])
        .stdout(
            "
macllm will perform the following actions on ssh:[MAC]:

  # defaults:com.example.a:one will be created
  + value = 1

  # defaults:com.example.a:two will be created
  ~ value = <<-EOT
          + 2 0 0
          + macllm-batch-3
        EOT

  # defaults:com.example.b:three will be created
  + value = true

Plan: 3 to add, 0 to change, 0 to destroy.
",
        )
        .run();
    // `id -u` (whose preferences to read), then every domain in one batch.
    assert_eq!(channels(&log), 2);
    macllm(&["apply", "--yes"]).stdout_any().stderr_any().run();
    channels(&log);
    macllm(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
    // The Mac and user behind the state, `id -u`, and the domains.
    assert_eq!(channels(&log), 3);
    mac.read("com.example.a", "two")
        .stdout("2 0 0\nmacllm-batch-3\n")
        .run();
}
