//! Several emulated Macs behind real `sshd` instances on loopback ports: each sshd runs the
//! multi-call shim for its own emulated Mac (`SetEnv` in its config), so `--host ssh:...`
//! goes through the system ssh client, a remote shell and the quoting function.

use crate::harness::{BIN, FAIL_FILE, LLAMA31_PULL, Mac};
use crate::robustness::{HOSTILE, HOSTILE_CREATED, hostile_spec};
use crate::sshd::{Keys, Sshd, free_port, shim};
use macllm::host::ssh::ENV_SSH_CONFIG;
use std::path::Path;
use std::process::Command;

/// sshd needs root here (PermitRootLogin, /run/sshd) and OpenSSH's server: without them the
/// test fails rather than passing unrun.
pub fn require_sshd() {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n");
    assert!(
        root && Path::new("/usr/sbin/sshd").exists(),
        "this test needs root and /usr/sbin/sshd (apt-get install openssh-server)"
    );
}

#[test]
#[ignore = "needs root and /usr/sbin/sshd; run with --include-ignored"]
fn one_spec_on_three_macs_over_ssh_with_one_host_down() {
    require_sshd();
    let work = Mac::new();
    let bin = shim(&work.work, BIN);
    let keys = Keys::new(&work.work);
    let macs: Vec<Mac> = ["m1-8gb-monterey", "m2-16gb-sonoma", "m4max-64gb-sequoia"]
        .into_iter()
        .map(Mac::with_preset)
        .collect();
    let servers: Vec<Sshd> = macs.iter().map(|mac| keys.sshd(&mac.dir, &bin)).collect();
    // A fourth Mac whose apply fails half way: the sixth hostile key is refused.
    let failing = Mac::with_preset("m2-16gb-sonoma");
    std::fs::write(
        failing.dir.join(FAIL_FILE),
        "defaults write com.example.hostile key 5",
    )
    .unwrap();
    let broken = keys.sshd(&failing.dir, &bin);
    let down = free_port();
    work.spec(&format!(
        "{}  - domain: com.apple.dock\n    key: tilesize\n    value: \"{{{{ 30 if host.memory_gb <= 8 else 48 }}}}\"\nollama:\n  env:\n    OLLAMA_KEEP_ALIVE: 10m\n  pull: [llama3.1:8b]\n",
        hostile_spec()
    ));
    let mut args: Vec<String> = servers
        .iter()
        .chain([&broken])
        .flat_map(|s| ["--host".to_string(), format!("ssh:127.0.0.1:{}", s.port)])
        .collect();
    args.extend(["--host".to_string(), format!("ssh:127.0.0.1:{down}")]);
    // Ports are the machine's choice: [MAC1]..[MAC3], [FAILING] and [DOWN] in what is printed.
    let ports: Vec<(u16, &str)> = servers
        .iter()
        .map(|s| s.port)
        .zip(["[MAC1]", "[MAC2]", "[MAC3]"])
        .chain([(broken.port, "[FAILING]"), (down, "[DOWN]")])
        .collect();
    let fleet = |extra: &[&str]| {
        let args: Vec<&str> = args
            .iter()
            .map(String::as_str)
            .chain(extra.iter().copied())
            .collect();
        let mut test = work
            .macllm(&args)
            .env(ENV_SSH_CONFIG, keys.dir.join("client_config"));
        for (port, name) in &ports {
            test = test
                .redact(format!("127.0.0.1:{port}"), name)
                .redact(format!("127.0.0.1-{port}"), name)
                .redact(format!("port {port}"), &format!("port {name}"));
        }
        // root's shell startup files on this machine run `mkdir`, which the shim first on
        // the remote PATH answers: noise of the machine, not of macllm.
        test.redact("mkdir: /root: Read-only file system\n", "")
    };
    // Hosts run in parallel; each host's output is one block, in the order given, then a
    // summary.
    let key = |i: usize| format!("defaults:com.example.hostile:key {i} $;\"");
    let applied = |i: usize| {
        format!(
            "{0}: Creating...\n{0}: Creation complete after [DURATION]\n",
            key(i)
        )
    };
    let all_keys: String = (0..10).map(applied).collect::<String>()
        + "ollama_env:OLLAMA_KEEP_ALIVE: Creating...\nollama_env:OLLAMA_KEEP_ALIVE: Creation complete after [DURATION]\n";
    let five_keys: String = (0..5).map(applied).collect();
    let key_5 = key(5);
    let refused = "cannot reach ssh:[DOWN] over SSH: ssh: connect to host 127.0.0.1 port [DOWN]: Connection refused";
    let down_block = format!(
        "=== ssh:[DOWN] ===\nerror: {refused}\nhint: check that `ssh 127.0.0.1` works without a password prompt (BatchMode)\n"
    );
    // The Ollama server's restart and the pull, as a host's block reports them.
    let pulled = format!(
        "Restarting the Ollama server...\nRestarted: the Ollama server, and it reports the new variables\nollama_pull:llama3.1:8b: Creating...\n{LLAMA31_PULL}ollama_pull:llama3.1:8b: Creation complete after [DURATION]\n"
    );
    fleet(&["apply", "--yes"])
        .status(1)
        .stdout(&format!(
            "
=== ssh:[MAC1] ===

macllm will perform the following actions on ssh:[MAC1]:

  # defaults:com.apple.dock:tilesize will be updated in-place
  ~ value = 48 -> 30
    # then: killall Dock

{HOSTILE_CREATED}{OLLAMA_CREATED}Plan: 12 to add, 1 to change, 0 to destroy.
After the changes: killall Dock, restart the Ollama server.
Warning: ollama_pull:llama3.1:8b needs about 5.8 GiB (weights 4.6 GiB + KV cache 0.5 GiB for num_ctx 4096 x 1 parallel at f16 + 0.8 GiB overhead) but this Mac lets the GPU use about 5.3 GiB of its 8.0 GiB; the model does not fit at any context (llama3.1:8b is not on the Mac yet: its size is from macllm's catalogue)
defaults:com.apple.dock:tilesize: Modifying...
defaults:com.apple.dock:tilesize: Modifications complete after [DURATION]
{all_keys}{pulled}Restarted: killall Dock

Apply complete! Resources: 12 added, 1 changed, 0 destroyed.

=== ssh:[MAC2] ===

macllm will perform the following actions on ssh:[MAC2]:

{HOSTILE_CREATED}{OLLAMA_CREATED}Plan: 12 to add, 0 to change, 0 to destroy.
After the changes: restart the Ollama server.
{all_keys}{pulled}
Apply complete! Resources: 12 added, 0 changed, 0 destroyed.

=== ssh:[MAC3] ===

macllm will perform the following actions on ssh:[MAC3]:

{HOSTILE_CREATED}{OLLAMA_CREATED}Plan: 12 to add, 0 to change, 0 to destroy.
After the changes: restart the Ollama server.
{all_keys}{pulled}
Apply complete! Resources: 12 added, 0 changed, 0 destroyed.

=== ssh:[FAILING] ===

macllm will perform the following actions on ssh:[FAILING]:

{HOSTILE_CREATED}{OLLAMA_CREATED}Plan: 12 to add, 0 to change, 0 to destroy.
After the changes: restart the Ollama server.
{five_keys}{key_5}: Creating...
error: applying {key_5}: `defaults write com.example.hostile 'key 5 $;\"' -string '  leading and trailing spaces  '` exited with status 1: defaults: injected failure (sandbox test hook MACLLM_SANDBOX_FAIL)

{down_block}
=== summary ===
  ssh:[MAC1]: ok, 12 added, 1 changed
  ssh:[MAC2]: ok, 12 added
  ssh:[MAC3]: ok, 12 added
  ssh:[FAILING]: failed: applying {key_5}
  ssh:[DOWN]: failed: {refused}
5 hosts: 3 ok, 2 failed.
"
        ))
        .run();
    for (mac, server) in macs.iter().zip(&servers) {
        for (i, value) in HOSTILE.iter().enumerate() {
            let key = format!("key {i} $;\"");
            mac.read("com.example.hostile", &key)
                .stdout(&format!("{value}\n"))
                .run();
        }
        assert!(
            work.work
                .join(format!("state/ssh-127.0.0.1-{}.json", server.port))
                .exists()
        );
    }
    // The failing Mac stopped at that key, kept what it had applied before it, and recorded
    // the key as in flight.
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            work.work
                .join(format!("state/ssh-127.0.0.1-{}.json", broken.port)),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(state["resources"]["defaults:com.example.hostile:key 5 $;\""]["applied"].is_null());
    assert!(!state["resources"]["defaults:com.example.hostile:key 0 $;\""]["applied"].is_null());
    // The remote Ollama, reached with the remote's own curl over the same connection: the
    // variable is set, the server restarted with it (reported in each host's block above),
    // the model pulled.
    for mac in &macs {
        mac.sh(&["cat", "/Users/admin/.homebrew/services/ollama.env"])
            .stdout("OLLAMA_KEEP_ALIVE=10m\n")
            .run();
    }
    // Facts are per host: the 8 GB Mac got the small Dock.
    macs[0]
        .read("com.apple.dock", "tilesize")
        .stdout("30\n")
        .run();
    macs[2]
        .read("com.apple.dock", "tilesize")
        .stdout("48\n")
        .run();
    fleet(&["--parallelism", "1", "plan", "--detailed-exitcode"])
        .status(1)
        .stdout(&format!(
            "
=== ssh:[MAC1] ===

No changes. The host matches the spec.
Warning: ollama_pull:llama3.1:8b needs about 5.8 GiB (weights 4.6 GiB + KV cache 0.5 GiB for num_ctx 4096 x 1 parallel at f16 + 0.8 GiB overhead) but this Mac lets the GPU use about 5.3 GiB of its 8.0 GiB; the model does not fit at any context

=== ssh:[MAC2] ===

No changes. The host matches the spec.

=== ssh:[MAC3] ===

No changes. The host matches the spec.

=== ssh:[FAILING] ===

macllm will perform the following actions on ssh:[FAILING]:

{}{OLLAMA_CREATED}Plan: 7 to add, 0 to change, 0 to destroy.
After the changes: restart the Ollama server.

{down_block}
=== summary ===
  ssh:[MAC1]: ok, no changes
  ssh:[MAC2]: ok, no changes
  ssh:[MAC3]: ok, no changes
  ssh:[FAILING]: ok, 7 to add (2)
  ssh:[DOWN]: failed: {refused}
5 hosts: 4 ok, 1 failed, 1 with changes or drift.
",
            rows(HOSTILE_CREATED, 5..=9)
        ))
        .run();
    // With several hosts at once there is no prompt to answer; the down host has no state,
    // so it has nothing to destroy.
    let no_prompt = "several hosts run at once, so there is no prompt: pass --yes";
    let no_prompt_line = format!("error: {no_prompt}\n");
    fleet(&["destroy"])
        .status(1)
        .stdout(&format!(
            "
=== ssh:[MAC1] ===

macllm will perform the following actions on ssh:[MAC1]:

{OLLAMA_DELETED}{HOSTILE_DELETED}  # defaults:com.apple.dock:tilesize will be restored to its original value
  ~ value = 30 -> 48
    # then: killall Dock

Plan: 0 to add, 0 to change, 13 to destroy.
After the changes: killall Dock, restart the Ollama server.
{no_prompt_line}
=== ssh:[MAC2] ===

macllm will perform the following actions on ssh:[MAC2]:

{OLLAMA_DELETED}{HOSTILE_DELETED}Plan: 0 to add, 0 to change, 12 to destroy.
After the changes: restart the Ollama server.
{no_prompt_line}
=== ssh:[MAC3] ===

macllm will perform the following actions on ssh:[MAC3]:

{OLLAMA_DELETED}{HOSTILE_DELETED}Plan: 0 to add, 0 to change, 12 to destroy.
After the changes: restart the Ollama server.
{no_prompt_line}
=== ssh:[FAILING] ===

macllm will perform the following actions on ssh:[FAILING]:

  # {key_5} will be deleted (it was absent before macllm)

{}Plan: 0 to add, 0 to change, 6 to destroy.
{no_prompt_line}
=== ssh:[DOWN] ===

No changes. ssh:[DOWN] has no state at state/ssh-[DOWN].json: macllm manages nothing there.

=== summary ===
  ssh:[MAC1]: failed: {no_prompt}
  ssh:[MAC2]: failed: {no_prompt}
  ssh:[MAC3]: failed: {no_prompt}
  ssh:[FAILING]: failed: {no_prompt}
  ssh:[DOWN]: ok, no changes
5 hosts: 1 ok, 4 failed.
",
            rows(HOSTILE_DELETED, 0..=4)
        ))
        .run();
    macs[0]
        .read("com.apple.dock", "tilesize")
        .stdout("30\n")
        .run();
    assert!(!Path::new("/tmp/macllm-pwned").exists());
}

const HOSTILE_DELETED: &str =
    "  # defaults:com.example.hostile:key 9 $;\" will be deleted (it was absent before macllm)
  - value = \"back\\\\slash \\\\n not a newline\" -> null

  # defaults:com.example.hostile:key 8 $;\" will be deleted (it was absent before macllm)
  - value = \"(not, an, array)\" -> null

  # defaults:com.example.hostile:key 7 $;\" will be deleted (it was absent before macllm)
  - value = \"<dict><key>not</key><string>xml</string></dict>\" -> null

  # defaults:com.example.hostile:key 6 $;\" will be deleted (it was absent before macllm)
  - value = \"-string\" -> null

  # defaults:com.example.hostile:key 5 $;\" will be deleted (it was absent before macllm)
  - value = \"  leading and trailing spaces  \" -> null

  # defaults:com.example.hostile:key 4 $;\" will be deleted (it was absent before macllm)
  - value = \"ünïcødé ✓ 日本語 🦙\" -> null

  # defaults:com.example.hostile:key 3 $;\" will be deleted (it was absent before macllm)
  ~ value = <<-EOT
          - line one
          - line two
          - \ttabbed
        EOT

  # defaults:com.example.hostile:key 2 $;\" will be deleted (it was absent before macllm)
  - value = \"a; rm -rf / && echo done | cat > x\" -> null

  # defaults:com.example.hostile:key 1 $;\" will be deleted (it was absent before macllm)
  - value = \"$(touch /tmp/macllm-pwned) `id` $HOME ${PATH}\" -> null

  # defaults:com.example.hostile:key 0 $;\" will be deleted (it was absent before macllm)
  - value = \"it's \\\"quoted\\\" and 'single'\" -> null

";

const OLLAMA_CREATED: &str = r#"  # ollama_env:OLLAMA_KEEP_ALIVE will be created
  ~ value = <<-EOT
          + {
          +   "env_file": "10m",
          +   "server": "10m0s",
          + }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

  # ollama_pull:llama3.1:8b will be created
  + value = true

"#;

const OLLAMA_DELETED: &str = r#"  # ollama_pull:llama3.1:8b will be deleted (it was absent before macllm)
  - value = true -> null

  # ollama_env:OLLAMA_KEEP_ALIVE will be deleted (it was absent before macllm)
  ~ value = <<-EOT
          - {
          -   "env_file": "10m",
          -   "server": "10m0s",
          - }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

"#;

/// The rows of `plan` about hostile keys `keys`.
fn rows(plan: &str, keys: std::ops::RangeInclusive<usize>) -> String {
    plan.split_inclusive("\n\n")
        .filter(|row| keys.clone().any(|i| row.contains(&format!("key {i} $;"))))
        .collect()
}

#[test]
fn an_inventory_gives_hosts_vars_and_groups_and_limit_picks_some() {
    let work = Mac::new();
    for dir in ["lab1", "lab2", "studio"] {
        work.init(dir, "m2-16gb-sonoma");
    }
    std::fs::write(
        work.work.join("fleet.yaml"),
        "hosts:\n  lab-1:\n    host: sandbox:lab1\n    vars: { tile: 30 }\n    groups: [lab]\n  lab-2:\n    host: sandbox:lab2\n    groups: [lab]\n  studio:\n    host: sandbox:studio\n    vars: { tile: 60 }\n",
    )
    .unwrap();
    work.spec("macllm: 1\nvars: { tile: 40 }\ndefaults:\n  - domain: com.apple.dock\n    key: tilesize\n    value: \"{{ vars.tile }}\"\n");
    work.macllm(&[
        "--inventory",
        "fleet.yaml",
        "--limit",
        "lab",
        "apply",
        "--yes",
    ])
    .stdout(
        "
=== lab-1 ===

macllm will perform the following actions on sandbox:lab1:

  # defaults:com.apple.dock:tilesize will be updated in-place
  ~ value = 48 -> 30
    # then: killall Dock

Plan: 0 to add, 1 to change, 0 to destroy.
After the changes: killall Dock.
defaults:com.apple.dock:tilesize: Modifying...
defaults:com.apple.dock:tilesize: Modifications complete after [DURATION]
Restarted: killall Dock

Apply complete! Resources: 0 added, 1 changed, 0 destroyed.

=== lab-2 ===

macllm will perform the following actions on sandbox:lab2:

  # defaults:com.apple.dock:tilesize will be updated in-place
  ~ value = 48 -> 40
    # then: killall Dock

Plan: 0 to add, 1 to change, 0 to destroy.
After the changes: killall Dock.
defaults:com.apple.dock:tilesize: Modifying...
defaults:com.apple.dock:tilesize: Modifications complete after [DURATION]
Restarted: killall Dock

Apply complete! Resources: 0 added, 1 changed, 0 destroyed.

=== summary ===
  lab-1: ok, 1 changed
  lab-2: ok, 1 changed
2 hosts: 2 ok, 0 failed.
",
    )
    .run();
    let tile = |dir: &str, value: &str| {
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
        .stdout(value)
        .run();
    };
    tile("lab1", "30\n"); // the host's own vars win
    tile("lab2", "40\n"); // the spec's vars otherwise
    tile("studio", "48\n"); // not in --limit: untouched
    work.macllm(&["--inventory", "fleet.yaml", "plan", "--detailed-exitcode"])
        .status(2)
        .stdout(
            "
=== lab-1 ===

No changes. The host matches the spec.

=== lab-2 ===

No changes. The host matches the spec.

=== studio ===

macllm will perform the following actions on sandbox:studio:

  # defaults:com.apple.dock:tilesize will be updated in-place
  ~ value = 48 -> 60
    # then: killall Dock

Plan: 0 to add, 1 to change, 0 to destroy.
After the changes: killall Dock.

=== summary ===
  lab-1: ok, no changes
  lab-2: ok, no changes
  studio: ok, 1 to change (2)
3 hosts: 3 ok, 0 failed, 1 with changes or drift.
",
        )
        .run();
    work.macllm(&["--inventory", "fleet.yaml", "plan", "--json"])
        .stdout(
            r#"{
  "format_version": "1.0",
  "hosts": [
    {
      "counts": {
        "add": 0,
        "change": 0,
        "destroy": 0
      },
      "error": null,
      "exit_code": 0,
      "host": "sandbox:lab1",
      "name": "lab-1",
      "result": {
        "changes": [],
        "drift": [],
        "format_version": "1.0",
        "host": "sandbox:lab1",
        "mode": "normal",
        "over_budget": [],
        "state": {
          "lineage": "[LINEAGE]",
          "serial": 2
        },
        "summary": {
          "add": 0,
          "change": 0,
          "destroy": 0
        },
        "warnings": []
      }
    },
    {
      "counts": {
        "add": 0,
        "change": 0,
        "destroy": 0
      },
      "error": null,
      "exit_code": 0,
      "host": "sandbox:lab2",
      "name": "lab-2",
      "result": {
        "changes": [],
        "drift": [],
        "format_version": "1.0",
        "host": "sandbox:lab2",
        "mode": "normal",
        "over_budget": [],
        "state": {
          "lineage": "[LINEAGE]",
          "serial": 2
        },
        "summary": {
          "add": 0,
          "change": 0,
          "destroy": 0
        },
        "warnings": []
      }
    },
    {
      "counts": {
        "add": 0,
        "change": 1,
        "destroy": 0
      },
      "error": null,
      "exit_code": 0,
      "host": "sandbox:studio",
      "name": "studio",
      "result": {
        "changes": [
          {
            "action": "update",
            "after": {
              "integer": 60
            },
            "before": {
              "integer": 48
            },
            "depends_on": [],
            "id": "defaults:com.apple.dock:tilesize",
            "needs_root": false,
            "notes": [],
            "resource": {
              "current_host": false,
              "domain": "com.apple.dock",
              "key": "tilesize",
              "kind": "defaults",
              "value": {
                "integer": 60
              }
            },
            "restart": {
              "kill": "Dock"
            },
            "sensitive": false
          }
        ],
        "drift": [],
        "format_version": "1.0",
        "host": "sandbox:studio",
        "mode": "normal",
        "over_budget": [],
        "state": null,
        "summary": {
          "add": 0,
          "change": 1,
          "destroy": 0
        },
        "warnings": []
      }
    }
  ]
}
"#,
        )
        .run();
    work.macllm(&["--inventory", "fleet.yaml", "--limit", "nope", "plan"])
        .status(1)
        .stderr(
            "error: --limit nope matches no host or group in fleet.yaml
",
        )
        .run();
}

#[test]
fn defaults_export_as_a_configuration_profile() {
    let work = Mac::new();
    work.spec("macllm: 1\ndefaults:\n  - {domain: com.apple.dock, key: autohide, value: true}\n  - {domain: com.apple.dock, key: tilesize, value: 36}\n  - {domain: -g, key: NSWindowResizeTime, type: float, value: 0.001}\n  - {domain: com.example.x, key: gone, absent: true}\nservices:\n  - {label: com.apple.photoanalysisd, enabled: false}\n");
    work.macllm(&[
        "export",
        "mobileconfig",
        "--organization",
        "Lab",
        "--out",
        "quiet.mobileconfig",
    ])
    .stderr(&format!("{SKIPPED}Wrote quiet.mobileconfig\n"))
    .run();
    let saved = std::fs::read_to_string(work.work.join("quiet.mobileconfig")).unwrap();
    // Stable UUIDs: the same profile every time, to a file or to stdout.
    work.macllm(&["export", "mobileconfig", "--organization", "Lab"])
        .stdout(&saved)
        .stderr(SKIPPED)
        .run();
    let profile = plist::Value::from_reader_xml(saved.as_bytes()).unwrap();
    let top = profile.as_dictionary().unwrap();
    assert_eq!(top["PayloadType"].as_string(), Some("Configuration"));
    assert_eq!(top["PayloadOrganization"].as_string(), Some("Lab"));
    let payloads = top["PayloadContent"].as_array().unwrap();
    assert_eq!(payloads.len(), 2);
    let dock = payloads[0].as_dictionary().unwrap();
    assert_eq!(
        dock["PayloadType"].as_string(),
        Some("com.apple.ManagedClient.preferences")
    );
    let settings = dock["PayloadContent"].as_dictionary().unwrap()["com.apple.dock"]
        .as_dictionary()
        .unwrap()["Forced"]
        .as_array()
        .unwrap()[0]
        .as_dictionary()
        .unwrap()["mcx_preference_settings"]
        .as_dictionary()
        .unwrap();
    assert_eq!(settings["autohide"].as_boolean(), Some(true));
    assert_eq!(settings["tilesize"].as_signed_integer(), Some(36));
    let global = payloads[1].as_dictionary().unwrap()["PayloadContent"]
        .as_dictionary()
        .unwrap();
    assert!(global.contains_key(".GlobalPreferences"), "{global:?}");
}

/// What a profile cannot say, named on stderr.
const SKIPPED: &str = "warning: skipped defaults:com.example.x:gone: `absent: true`: a profile can force a key's value but cannot remove the key
warning: skipped service:gui/com.apple.photoanalysisd: not expressible as a preference profile (a launchd service)
";

#[test]
fn a_saved_plan_is_for_one_host() {
    let work = Mac::new();
    work.spec("macllm: 1\n");
    work.macllm(&[
        "--host",
        "sandbox:mac",
        "--host",
        "sandbox:other",
        "plan",
        "--out",
        "p.json",
    ])
    .status(1)
    .stderr("error: a saved plan is for one host: run `plan --out` with a single --host\n")
    .run();
    assert!(!work.work.join("p.json").exists());
}

/// A misspelt inventory field gets the same did-you-mean as a misspelt spec field.
#[test]
fn a_misspelt_inventory_field_says_what_was_meant() {
    let work = Mac::new();
    work.spec("macllm: 1\n");
    std::fs::write(
        work.work.join("fleet.yaml"),
        "hosts:\n  studio:\n    host: sandbox:mac\n    gruops: [lab]\n",
    )
    .unwrap();
    work.macllm(&["--inventory", "fleet.yaml", "plan"])
        .status(1)
        .stderr(
            "error: hosts.studio: unknown field `gruops`, expected one of `host`, `vars`, `groups`, `user`
 --> fleet.yaml:4:5
  |
4 |     gruops: [lab]
  |     ^
hint: did you mean `groups`?
",
        )
        .run();
}
