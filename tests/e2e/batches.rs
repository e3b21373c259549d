//! Batches over a real sshd: a plan sends its reads as one script to the remote `/bin/sh -s`
//! (one round trip), and values on the Mac that look like the script's frames come back as
//! they are. Round trips are counted by an `ssh` first on PATH ([`RoundTrips`]).

use crate::fleet::require_sshd;
use crate::harness::{BIN, Mac};
use crate::sshd::{Keys, RoundTrips, shim};
use macllm::host::ssh::ENV_SSH_CONFIG;

/// What `defaults` holds on the Mac: text that reads like a batch record and its marker.
const FORGED: &str = "0 4 0\nfake\nmacllm-batch-1-2\n1 0 0\n";

/// An emulated Mac behind a real sshd, reached by macllm through the counting `ssh`.
struct OverSsh {
    mac: Mac,
    keys: Keys,
    server: crate::sshd::Sshd,
    round_trips: RoundTrips,
    path: String,
}

impl OverSsh {
    fn new() -> OverSsh {
        require_sshd();
        let mac = Mac::new();
        let bin = shim(&mac.work, BIN);
        let keys = Keys::new(&mac.work);
        let server = keys.sshd(&mac.dir, &bin);
        let round_trips = RoundTrips::new(&mac.work);
        let path = format!(
            "{}:{}",
            round_trips.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        std::fs::create_dir_all(mac.work.join("tmp")).unwrap();
        OverSsh {
            mac,
            keys,
            server,
            round_trips,
            path,
        }
    }

    fn macllm(&self, args: &[&str]) -> crate::harness::Test {
        let host = format!("ssh:127.0.0.1:{}", self.server.port);
        let mut all = vec!["--host", host.as_str()];
        all.extend_from_slice(args);
        self.mac
            .macllm(&all)
            .env(ENV_SSH_CONFIG, self.keys.dir.join("client_config"))
            .env("PATH", &self.path)
            .env("TMPDIR", self.mac.work.join("tmp"))
            .redact(format!("127.0.0.1:{}", self.server.port), "[MAC]")
            .redact("mkdir: /root: Read-only file system\n", "")
    }

    /// SSH round trips since the last call.
    fn round_trips(&self) -> usize {
        self.round_trips.take()
    }
}

#[test]
#[ignore = "needs root and /usr/sbin/sshd; run with --include-ignored"]
fn a_plan_over_ssh_is_two_round_trips_and_frames_cannot_be_forged() {
    let ssh = OverSsh::new();
    let mac = &ssh.mac;
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
    let macllm = |args: &[&str]| ssh.macllm(args);
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
    assert_eq!(ssh.round_trips(), 2);
    macllm(&["apply", "--yes"]).stdout_any().stderr_any().run();
    ssh.round_trips();
    macllm(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
    // The Mac and user behind the state (and `id -u`, asked with them), then the domains.
    assert_eq!(ssh.round_trips(), 2);
    mac.read("com.example.a", "two")
        .stdout("2 0 0\nmacllm-batch-3\n")
        .run();
}

#[test]
#[ignore = "needs root and /usr/sbin/sshd; run with --include-ignored"]
fn an_apply_over_ssh_is_one_round_trip_per_wave_and_one_for_the_restarts_at_the_end() {
    let ssh = OverSsh::new();
    // Finder's key waits for the Dock's, and for the Dock to restart: two waves, an early
    // restart between them, and two restarts at the end.
    ssh.mac.spec(
        "macllm: 1
defaults:
  - {domain: com.apple.dock, key: autohide, value: true}
  - {domain: NSGlobalDomain, key: AppleShowAllExtensions, value: true}
  - domain: com.apple.finder
    key: DisableAllAnimations
    value: true
    depends_on: [\"defaults:com.apple.dock:autohide\"]
",
    );
    ssh.macllm(&["apply", "--yes"]).stdout(r#"
macllm will perform the following actions on ssh:[MAC]:

  # defaults:NSGlobalDomain:AppleShowAllExtensions will be created
  + value = true
    # then: activateSettings -u

  # defaults:com.apple.dock:autohide will be updated in-place
  ~ value = false -> true
    # then: killall Dock

  # defaults:com.apple.finder:DisableAllAnimations will be created
  + value = true
    # then: killall Finder

Plan: 2 to add, 1 to change, 0 to destroy.
After the changes: killall Dock, killall Finder, activateSettings -u.

Apply complete! Resources: 2 added, 1 changed, 0 destroyed.
"#).stderr(r#"defaults:NSGlobalDomain:AppleShowAllExtensions: Creating...
defaults:NSGlobalDomain:AppleShowAllExtensions: Creation complete after [DURATION]
defaults:com.apple.dock:autohide: Modifying...
defaults:com.apple.dock:autohide: Modifications complete after [DURATION]
Restarted: killall Dock
defaults:com.apple.finder:DisableAllAnimations: Creating...
defaults:com.apple.finder:DisableAllAnimations: Creation complete after [DURATION]
Restarted: killall Finder
warning: `/System/Library/PrivateFrameworks/SystemAdministration.framework/Resources/activateSettings -u` exited with status 127: env: '/System/Library/PrivateFrameworks/SystemAdministration.framework/Resources/activateSettings': No such file or directory
"#).run();
    // The Mac and user behind the new state, with `id -u`; the three domains. Then the
    // first wave's writes with their read-backs; `killall Dock`; the second wave; and
    // `killall Finder` with `activateSettings -u` in one batch (the emulated Mac behind sshd
    // has no /System folder, so the latter fails there, as a warning). All through one `ssh`
    // client and one remote shell.
    assert_eq!(ssh.round_trips.take_with_clients(), (6, 1));
    ssh.macllm(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
}

/// A Mac that cannot be reached is the plan's one error, after one try: every read after the
/// first would only wait for ssh again (up to ConnectTimeout each, for a Mac that is off).
#[test]
#[ignore = "needs root and /usr/sbin/sshd; run with --include-ignored"]
fn an_unreachable_mac_is_tried_once_and_named_as_the_error() {
    let ssh = OverSsh::new();
    ssh.mac.spec(
        "macllm: 1\ndefaults:\n  - {domain: com.apple.dock, key: autohide, value: true}\n  - {domain: com.apple.finder, key: AppleShowAllFiles, value: true}\npower:\n  all: {sleep: 0}\n",
    );
    let down = crate::sshd::free_port();
    let host = format!("ssh:127.0.0.1:{down}");
    ssh.mac
        .macllm(&["--host", host.as_str(), "plan"])
        .env(ENV_SSH_CONFIG, ssh.keys.dir.join("client_config"))
        .env("PATH", &ssh.path)
        .env("TMPDIR", ssh.mac.work.join("tmp"))
        .redact(down.to_string(), "[DOWN]")
        .status(1)
        .stderr("error: cannot reach ssh:127.0.0.1:[DOWN] over SSH: ssh: connect to host 127.0.0.1 port [DOWN]: Connection refused\nhint: check that `ssh 127.0.0.1` works without a password prompt (BatchMode)\n")
        .run();
    assert_eq!(ssh.round_trips.take_with_clients(), (1, 1));
}

#[test]
#[ignore = "needs root and /usr/sbin/sshd; run with --include-ignored"]
fn pull_progress_over_ssh_arrives_while_the_pull_runs() {
    use std::io::BufRead;
    let ssh = OverSsh::new();
    let mac = &ssh.mac;
    // The Mac's `curl` sends a pull's first progress line, then holds the rest back until
    // the test has seen that line on macllm's stderr (or 20 s have passed): progress that
    // waited for the request to end could never be seen in time.
    let shim = mac.work.join("shim");
    let real = shim.join("real");
    std::fs::create_dir_all(&real).unwrap();
    std::fs::rename(shim.join("curl"), real.join("curl")).unwrap();
    let seen = mac.work.join("seen");
    let script = shim.join("curl");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncase \" $* \" in *\"/api/pull \"*)\n  echo '{{\"status\":\"waiting for the client\"}}'\n  i=0\n  while [ ! -e '{seen}' ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done\n  [ -e '{seen}' ] || echo '{{\"status\":\"nobody saw the first line\"}}'\n;; esac\nexec '{real}/curl' \"$@\"\n",
            seen = seen.display(),
            real = real.display()
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    mac.spec("macllm: 1\nollama:\n  pull: [llama3.2:1b]\n");
    let host = format!("ssh:127.0.0.1:{}", ssh.server.port);
    let mut child = mac
        .command(&["--host", &host, "apply", "--yes"])
        .env(ENV_SSH_CONFIG, ssh.keys.dir.join("client_config"))
        .env("TMPDIR", mac.work.join("tmp"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stdout = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap());
    let mut stderr = String::new();
    for line in std::io::BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.contains("waiting for the client") {
            std::fs::write(&seen, "").unwrap();
        }
        stderr.push_str(&line);
        stderr.push('\n');
    }
    assert!(child.wait().unwrap().success());
    let extra = [
        (
            format!("127.0.0.1:{}", ssh.server.port),
            "[MAC]".to_string(),
        ),
        (
            "mkdir: /root: Read-only file system\n".to_string(),
            String::new(),
        ),
    ];
    let stderr = crate::harness::redact(&stderr, &mac.work, &extra);
    assert_eq!(
        stderr,
        "ollama_pull:llama3.2:1b: Creating...
llama3.2:1b: waiting for the client
llama3.2:1b: pulling manifest
llama3.2:1b: pulling 8dc5a64d566b 0%
llama3.2:1b: pulling 8dc5a64d566b 36%
llama3.2:1b: pulling 8dc5a64d566b 60%
llama3.2:1b: pulling 8dc5a64d566b 85%
llama3.2:1b: pulling 8dc5a64d566b 100%
llama3.2:1b: pulling 86d3115c9700 100%
llama3.2:1b: pulling c5153b289c8c 100%
llama3.2:1b: pulling dd56c7962561 100%
llama3.2:1b: pulling 56bb8bd477a5 100%
llama3.2:1b: pulling 3bee8d3f60ff 0%
llama3.2:1b: pulling 3bee8d3f60ff 100%
llama3.2:1b: verifying sha256 digest
llama3.2:1b: writing manifest
llama3.2:1b: success
ollama_pull:llama3.2:1b: Creation complete after [DURATION]
"
    );
    let stdout = crate::harness::redact(&stdout.join().unwrap(), &mac.work, &extra);
    assert_eq!(
        stdout,
        "
macllm will perform the following actions on ssh:[MAC]:

  # ollama_pull:llama3.2:1b will be created
  + value = true

Plan: 1 to add, 0 to change, 0 to destroy.

Apply complete! Resources: 1 added, 0 changed, 0 destroyed.
"
    );
}

#[test]
#[ignore = "needs root and /usr/sbin/sshd; run with --include-ignored"]
fn a_destroy_that_empties_domains_reads_them_all_back_in_its_one_batch() {
    let ssh = OverSsh::new();
    ssh.mac.spec(
        "macllm: 1
defaults:
  - {domain: com.example.one, key: a, value: 1}
  - {domain: com.example.two, key: b, value: 2}
  - {domain: com.example.three, key: c, value: 3}
",
    );
    ssh.macllm(&["apply", "--yes"])
        .stdout_any()
        .stderr_any()
        .run();
    ssh.round_trips();
    // Each delete empties its domain, whose read-back then fails ("does not exist"): a
    // failed read must not end the batch, or the other domains are read one by one after it.
    ssh.macllm(&["destroy", "--yes"])
        .stdout(
            r#"
macllm will perform the following actions on ssh:[MAC]:

  # defaults:com.example.two:b will be deleted (it was absent before macllm)
  - value = 2 -> null

  # defaults:com.example.three:c will be deleted (it was absent before macllm)
  - value = 3 -> null

  # defaults:com.example.one:a will be deleted (it was absent before macllm)
  - value = 1 -> null

Plan: 0 to add, 0 to change, 3 to destroy.

Destroy complete! Resources: 3 destroyed.
"#,
        )
        .stderr(
            r#"defaults:com.example.two:b: Restoring...
defaults:com.example.two:b: Restore complete after [DURATION]
defaults:com.example.three:c: Restoring...
defaults:com.example.three:c: Restore complete after [DURATION]
defaults:com.example.one:a: Restoring...
defaults:com.example.one:a: Restore complete after [DURATION]
"#,
        )
        .run();
    // The Mac and user behind the state with `id -u`, the plan's reads, and the one wave.
    assert_eq!(ssh.round_trips(), 3);
}

#[test]
#[ignore = "needs root and /usr/sbin/sshd; run with --include-ignored"]
fn ollama_over_ssh_plans_in_two_round_trips_and_applies_a_variable_in_three_batches() {
    let ssh = OverSsh::new();
    ssh.mac.spec(
        "macllm: 1
ollama:
  env:
    OLLAMA_NUM_PARALLEL: 1
    OLLAMA_KEEP_ALIVE: 30m
  pull: [llama3.2:1b]
  models:
    - name: small
      from: llama3.2:1b
      parameters: {num_ctx: 4096}
",
    );
    ssh.macllm(&["plan"]).stdout(r#"
macllm will perform the following actions on ssh:[MAC]:

  # ollama_env:OLLAMA_KEEP_ALIVE will be created
  ~ value = <<-EOT
          + {
          +   "env_file": "30m",
          +   "server": "30m0s",
          + }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

  # ollama_env:OLLAMA_NUM_PARALLEL will be created
  ~ value = <<-EOT
          + {
          +   "env_file": "1",
          +   "server": "1",
          + }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

  # ollama_pull:llama3.2:1b will be created
  + value = true

  # ollama_model:small will be created
  ~ value = <<-EOT
          + FROM llama3.2:1b
          + PARAMETER num_ctx 4096
          + 
        EOT

Plan: 4 to add, 0 to change, 0 to destroy.
After the changes: restart the Ollama server.
"#).run();
    // The facts (with `id -u` and the Mac behind the state); then how Ollama runs (Homebrew's
    // service and the app probed, `brew` asked, its env file and plist read), the variables,
    // and the server's answers through the Mac's `curl`, all in one batch.
    assert_eq!(ssh.round_trips(), 2);
    ssh.macllm(&["apply", "--yes"])
        .stdout_any()
        .stderr_any()
        .run();
    // The plan's 2 (apply reuses its facts); the Mac and user behind the new state; per
    // variable a batch of reads, one of writes (folder, file, mode: one for all three, not
    // one each) and one of reads back (not asking the server, which only the restart
    // changes); the restart, the wait for the server, its plist and log in one batch; then
    // the pull and the custom model, each request on its own, with the reads around them in
    // batches.
    // Before the Ollama reads and file writes went in batches: 13 for the plan, 48 here.
    assert_eq!(ssh.round_trips(), 19);
    ssh.macllm(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
    // The Mac and user behind the state, the facts, every read in one batch, and the
    // server's log (its path is in the plist read in that batch). It was 20.
    assert_eq!(ssh.round_trips(), 4);
}

#[test]
#[ignore = "needs root and /usr/sbin/sshd; run with --include-ignored"]
fn every_example_plans_over_ssh_in_two_round_trips_as_it_does_on_the_mac_itself() {
    for example in [
        "always-on",
        "m4-max-64gb",
        "mac-mini-16gb",
        "macbook-air-8gb",
        "serve-models",
        "ollama",
        "all-types",
        "quiet-ui",
    ] {
        let ssh = OverSsh::new();
        let path = format!("{}/examples/{example}.yaml", env!("CARGO_MANIFEST_DIR"));
        ssh.mac.spec(&std::fs::read_to_string(path).unwrap());
        // The same plan, whole, as the emulated Mac's own host gives it.
        let here = ssh.mac.on(&["plan"]).stdout_any().stderr_any().run();
        let over_ssh = |text: &str| text.replace("sandbox:mac", "ssh:[MAC]");
        ssh.macllm(&["plan"])
            .stdout(&over_ssh(&here.stdout))
            .stderr(&over_ssh(&here.stderr))
            .run();
        // The facts (with `id -u`), then every read of every resource: the variables'
        // server, the models' answers through the Mac's `curl`, agents, Spotlight folders
        // and volumes, power settings and Time Machine.
        assert_eq!(ssh.round_trips(), 2, "{example}");
    }
}
