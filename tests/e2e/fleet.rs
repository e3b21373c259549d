//! Several emulated Macs behind real `sshd` instances on loopback ports: each sshd runs the
//! multi-call shim for its own emulated Mac (`SetEnv` in its config), so `--host ssh:...`
//! goes through the system ssh client, a remote shell and the quoting function.

use crate::harness::{BIN, Mac, run};
use crate::robustness::{HOSTILE, hostile_spec};
use crate::sshd::{Keys, Sshd, free_port, shim};
use std::path::Path;
use std::process::Command;

/// sshd needs root here (PermitRootLogin, /run/sshd) and OpenSSH's server: without them the
/// test fails rather than passing unrun.
fn require_sshd() {
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
        failing.dir.join(macllm::sandbox::FAIL_FILE),
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
        apply.stdout.contains("5 hosts: 3 ok, 2 failed."),
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
    // The failing Mac stopped at that key, kept what it had applied before it, and recorded
    // the key as in flight.
    let block = apply
        .stdout
        .split(&format!("=== ssh:127.0.0.1:{} ===", broken.port))
        .nth(1)
        .unwrap_or_default();
    assert!(
        block.contains("applying defaults:com.example.hostile:key 5"),
        "{block}"
    );
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
    // variable is set, the server restarted with it, the model pulled.
    for mac in &macs {
        assert_eq!(
            mac.sh(&["launchctl", "getenv", "OLLAMA_KEEP_ALIVE"])
                .expect(0)
                .stdout,
            "10m\n"
        );
    }
    assert_eq!(
        apply.stdout.matches("it reports the new variables").count(),
        3,
        "each host's server restarted once and reported the variable: {}",
        apply.stdout
    );
    assert_eq!(
        apply.stdout.matches("llama3.1:8b: success").count(),
        3,
        "{}",
        apply.stdout
    );
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
        prompt.stdout.contains("5 hosts: 1 ok, 4 failed."),
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
    let json: serde_json::Value = serde_json::from_str(
        &work
            .macllm(&["--inventory", "fleet.yaml", "plan", "--json"])
            .expect(0)
            .stdout,
    )
    .unwrap();
    assert_eq!(json["hosts"].as_array().unwrap().len(), 3, "{json}");
    assert_eq!(json["hosts"][2]["host"], "sandbox:studio");
    assert_eq!(json["hosts"][2]["result"]["summary"]["change"], 1, "{json}");
    let bad = work
        .macllm(&["--inventory", "fleet.yaml", "--limit", "nope", "plan"])
        .expect(1);
    assert!(
        bad.stderr.contains("--limit nope matches no host or group"),
        "{}",
        bad.stderr
    );
}

#[test]
fn defaults_export_as_a_configuration_profile() {
    let work = Mac::new();
    work.spec("macllm: 1\ndefaults:\n  - {domain: com.apple.dock, key: autohide, value: true}\n  - {domain: com.apple.dock, key: tilesize, value: 36}\n  - {domain: -g, key: NSWindowResizeTime, type: float, value: 0.001}\n  - {domain: com.example.x, key: gone, absent: true}\nservices:\n  - {label: com.apple.photoanalysisd, enabled: false}\n");
    let export = work
        .macllm(&[
            "export",
            "mobileconfig",
            "--organization",
            "Lab",
            "--out",
            "quiet.mobileconfig",
        ])
        .expect(0);
    assert!(
        export
            .stderr
            .contains("skipped defaults:com.example.x:gone"),
        "{}",
        export.stderr
    );
    assert!(
        export
            .stderr
            .contains("skipped service:gui/com.apple.photoanalysisd"),
        "{}",
        export.stderr
    );
    let profile = plist::Value::from_file(work.work.join("quiet.mobileconfig")).unwrap();
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
    let again = work
        .macllm(&["export", "mobileconfig", "--organization", "Lab"])
        .expect(0)
        .stdout;
    let saved = std::fs::read_to_string(work.work.join("quiet.mobileconfig")).unwrap();
    assert_eq!(again, saved, "stable UUIDs: the same profile every time");
}

#[test]
fn a_saved_plan_is_for_one_host() {
    let work = Mac::new();
    work.spec("macllm: 1\n");
    let run = work
        .macllm(&[
            "--host",
            "sandbox:mac",
            "--host",
            "sandbox:other",
            "plan",
            "--out",
            "p.json",
        ])
        .expect(1);
    assert!(
        run.stderr.contains("a saved plan is for one host"),
        "{}",
        run.stderr
    );
    assert!(!work.work.join("p.json").exists());
}
