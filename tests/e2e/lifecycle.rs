//! plan -> apply -> plan -> drift -> destroy, as README's walkthrough does it.

use crate::harness::{Mac, QUIET_UI};

#[test]
fn round_trip_converges_detects_drift_and_restores_byte_equal_domains() {
    let mac = Mac::new();
    mac.spec(QUIET_UI);
    let domains = ["com.apple.dock", "NSGlobalDomain", "com.apple.finder"];
    let before: Vec<String> = domains.iter().map(|d| mac.export(d)).collect();

    let plan = mac.on(&["plan"]).expect(0);
    assert!(
        plan.stdout.contains(
            "# defaults:com.apple.dock:tilesize will be updated in-place\n  ~ value = 48 -> 36\n"
        ),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("# defaults:com.apple.dock:launchanim will be created\n  + value = false\n")
    );
    assert!(
        plan.stdout
            .contains("Plan: 6 to add, 4 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    mac.on(&["plan", "--detailed-exitcode"]).expect(2);

    let apply = mac.on(&["apply", "--yes"]).expect(0);
    assert!(
        apply
            .stdout
            .contains("Apply complete! Resources: 6 added, 4 changed, 0 destroyed."),
        "{}",
        apply.stdout
    );
    assert_eq!(
        mac.read("com.apple.dock", "tilesize").expect(0).stdout,
        "36\n"
    );
    assert_eq!(
        mac.read("com.apple.dock", "autohide").expect(0).stdout,
        "1\n"
    );
    // Dock, Finder and the global domain each restart once, after all writes.
    let restarts = mac.restarts();
    assert_eq!(restarts.matches("killall Dock").count(), 1, "{restarts}");
    assert_eq!(restarts.matches("killall Finder").count(), 1, "{restarts}");
    assert_eq!(
        restarts.matches("activateSettings -u").count(),
        1,
        "{restarts}"
    );

    let again = mac.on(&["plan", "--detailed-exitcode"]).expect(0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
    mac.on(&["drift"]).expect(0);

    // A change by hand is drift against what the last apply left.
    mac.sh(&[
        "defaults",
        "write",
        "com.apple.dock",
        "tilesize",
        "-int",
        "64",
    ])
    .expect(0);
    let drift = mac.on(&["drift"]).expect(2);
    assert!(
        drift
            .stdout
            .contains("# defaults:com.apple.dock:tilesize has changed\n  ~ value = 36 -> 64\n"),
        "{}",
        drift.stdout
    );
    assert_eq!(
        drift.stdout.matches("has changed").count(),
        1,
        "only managed keys: {}",
        drift.stdout
    );
    mac.on(&["plan", "--refresh-only", "--detailed-exitcode"])
        .expect(2);
    let plan = mac.on(&["plan"]).expect(0);
    assert!(
        plan.stdout
            .contains("Note: Objects have changed outside of macllm")
    );
    assert!(
        plan.stdout.contains("~ value = 64 -> 36"),
        "{}",
        plan.stdout
    );

    let destroy = mac.on(&["destroy", "--yes"]).expect(0);
    assert!(
        destroy
            .stdout
            .contains("Destroy complete! Resources: 10 destroyed."),
        "{}",
        destroy.stdout
    );
    let after: Vec<String> = domains.iter().map(|d| mac.export(d)).collect();
    assert_eq!(before, after, "destroy restores every domain byte for byte");
    assert_eq!(mac.state()["resources"], serde_json::json!({}));
    mac.on(&["destroy", "--yes"]).expect(0);
}

#[test]
fn plan_leaves_the_sandbox_byte_identical() {
    let mac = Mac::new();
    mac.spec(QUIET_UI);
    mac.on(&["plan"]).expect(0); // creates nothing but may not change anything either
    let before = mac.snapshot();
    mac.on(&["plan"]).expect(0);
    mac.on(&["plan", "--json"]).expect(0);
    mac.on(&["plan", "--refresh-only"]).expect(0);
    assert_eq!(before, mac.snapshot());
    assert!(!mac.state_path().exists(), "plan writes no state");
}

#[test]
fn a_key_removed_from_the_spec_is_restored_to_its_original() {
    let mac = Mac::new();
    mac.spec("macllm: 1\ndefaults:\n  - {domain: com.apple.dock, key: tilesize, value: 30}\n  - {domain: com.apple.dock, key: newkey, value: x}\n");
    mac.on(&["apply", "--yes"]).expect(0);
    mac.spec("macllm: 1\ndefaults: []\n");
    let plan = mac.on(&["plan", "--detailed-exitcode"]).expect(2);
    assert!(plan.stdout.contains("# defaults:com.apple.dock:tilesize will be restored to its original value\n  ~ value = 30 -> 48\n"), "{}", plan.stdout);
    assert!(plan.stdout.contains("# defaults:com.apple.dock:newkey will be deleted (it was absent before macllm)\n  - value = \"x\" -> null\n"), "{}", plan.stdout);
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 0 to change, 2 to destroy.")
    );
    mac.on(&["apply", "--yes"]).expect(0);
    assert_eq!(
        mac.read("com.apple.dock", "tilesize").expect(0).stdout,
        "48\n"
    );
    mac.read("com.apple.dock", "newkey").expect(1);
    mac.on(&["plan", "--detailed-exitcode"]).expect(0);
}

#[test]
fn type_changes_are_shown_and_applied() {
    let mac = Mac::new();
    mac.sh(&[
        "defaults",
        "write",
        "com.example.t",
        "KeyRepeat",
        "-string",
        "2",
    ])
    .expect(0);
    mac.spec("macllm: 1\ndefaults:\n  - {domain: com.example.t, key: KeyRepeat, value: 2}\n");
    let plan = mac.on(&["plan"]).expect(0);
    assert!(
        plan.stdout
            .contains("~ value = \"2\" (string) -> 2 (integer)"),
        "{}",
        plan.stdout
    );
    mac.on(&["apply", "--yes"]).expect(0);
    assert_eq!(
        mac.sh(&["defaults", "read-type", "com.example.t", "KeyRepeat"])
            .expect(0)
            .stdout,
        "Type is integer\n"
    );
}

#[test]
fn every_value_type_round_trips_and_destroys_cleanly() {
    let mac = Mac::new();
    mac.spec(include_str!("../../examples/all-types.yaml"));
    mac.sh(&[
        "defaults",
        "write",
        "com.example.macllm",
        "legacyFlag",
        "-bool",
        "true",
    ])
    .expect(0);
    mac.on(&["apply", "--yes"]).expect(0);
    mac.on(&["plan", "--detailed-exitcode"]).expect(0);
    let types: Vec<String> = [
        "enabled", "retries", "ratio", "greeting", "since", "token", "models", "limits",
    ]
    .iter()
    .map(|key| {
        mac.sh(&["defaults", "read-type", "com.example.macllm", key])
            .expect(0)
            .stdout
    })
    .collect();
    assert_eq!(
        types.concat(),
        "Type is boolean\nType is integer\nType is float\nType is string\nType is date\nType is data\nType is array\nType is dictionary\n"
    );
    assert_eq!(
        mac.sh(&[
            "defaults",
            "-currentHost",
            "read",
            "-g",
            "com.apple.mouse.tapBehavior"
        ])
        .expect(0)
        .stdout,
        "1\n"
    );
    mac.read("com.example.macllm", "legacyFlag").expect(1);
    mac.on(&["destroy", "--yes"]).expect(0);
    assert_eq!(
        mac.read("com.example.macllm", "legacyFlag")
            .expect(0)
            .stdout,
        "1\n"
    );
    mac.read("com.example.macllm", "retries").expect(1);
}

#[test]
fn saved_plans_apply_exactly_and_are_refused_when_stale() {
    let mac = Mac::new();
    mac.spec(QUIET_UI);
    mac.on(&["plan", "--out", "quiet.plan"]).expect(0);
    mac.sh(&[
        "defaults",
        "write",
        "com.apple.dock",
        "tilesize",
        "-int",
        "50",
    ])
    .expect(0);
    let stale = mac.on(&["apply", "quiet.plan"]).expect(1);
    assert!(
        stale
            .stderr
            .contains("Saved plan is stale: defaults:com.apple.dock:tilesize changed"),
        "{}",
        stale.stderr
    );
    assert!(!mac.state_path().exists());

    mac.on(&["plan", "--out", "quiet.plan"]).expect(0);
    mac.on(&["apply", "quiet.plan"]).expect(0);
    mac.on(&["plan", "--detailed-exitcode"]).expect(0);
    // The state moved on (serial bumped), so the same saved plan is refused now.
    let stale = mac.on(&["apply", "quiet.plan"]).expect(1);
    assert!(
        stale
            .stderr
            .contains("the state changed since the plan was made"),
        "{}",
        stale.stderr
    );
    let other = mac
        .macllm(&["--host", "sandbox:elsewhere", "apply", "quiet.plan"])
        .expect(1);
    assert!(
        other.stderr.contains("the saved plan is for `sandbox:mac`"),
        "{}",
        other.stderr
    );
}

#[test]
fn system_domains_need_root_before_anything_changes() {
    let mac = Mac::new();
    mac.spec("macllm: 1\ndefaults:\n  - {domain: com.apple.dock, key: autohide, value: true}\n  - {domain: /Library/Preferences/com.apple.TimeMachine, key: DoNotOfferNewDisksForBackup, value: true}\n");
    let plan = mac.on(&["plan"]).expect(0);
    assert!(plan.stdout.contains("need root"), "{}", plan.stdout);
    let before = mac.snapshot();
    let apply = mac.on(&["apply", "--yes"]).expect(1);
    assert!(
        apply.stderr.contains("need root and nothing was changed"),
        "{}",
        apply.stderr
    );
    assert!(apply.stderr.contains(
        "defaults:/Library/Preferences/com.apple.TimeMachine:DoNotOfferNewDisksForBackup"
    ));
    assert_eq!(before, mac.snapshot());
    // uid 0 in machine.json emulates sudo.
    let machine = mac.dir.join("machine.json");
    let text = std::fs::read_to_string(&machine)
        .unwrap()
        .replace("\"uid\": 501", "\"uid\": 0");
    std::fs::write(&machine, text).unwrap();
    mac.on(&["apply", "--yes"]).expect(0);
    mac.on(&["plan", "--detailed-exitcode"]).expect(0);
}

#[test]
fn json_output_is_one_document_with_a_format_version() {
    let mac = Mac::new();
    mac.spec(QUIET_UI);
    let plan: serde_json::Value =
        serde_json::from_str(&mac.on(&["plan", "--json"]).expect(0).stdout).unwrap();
    assert_eq!(plan["format_version"], "1.0");
    assert_eq!(plan["summary"]["add"], 6);
    assert_eq!(
        plan["changes"][0]["id"],
        "defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled"
    );
    let apply: serde_json::Value =
        serde_json::from_str(&mac.on(&["apply", "--yes", "--json"]).expect(0).stdout).unwrap();
    assert_eq!(apply["changed"], 4);
    let facts: serde_json::Value =
        serde_json::from_str(&mac.on(&["facts", "--json"]).expect(0).stdout).unwrap();
    assert_eq!(facts["memory_gb"], 16);
    assert_eq!(facts["chip"], "Apple M2");
    assert_eq!(facts["gpu_cores"], 10);
    let state: serde_json::Value =
        serde_json::from_str(&mac.on(&["state", "list", "--json"]).expect(0).stdout).unwrap();
    assert_eq!(state["resources"].as_array().unwrap().len(), 10);
}

#[test]
fn facts_graph_validate_and_state_commands() {
    let mac = Mac::with_preset("m1-8gb-monterey");
    mac.spec(QUIET_UI);
    let facts = mac.on(&["facts"]).expect(0);
    assert!(facts.stdout.contains("chip:     Apple M1\nmemory:   8 GB (8589934592 bytes), 68.25 GB/s\ncores:    8 (4 performance + 4 efficiency)\nGPU:      7 cores\nmacOS:    12.7.6 (21H1320)\n"), "{}", facts.stdout);
    let graph = mac.macllm(&["graph"]).expect(0);
    assert!(graph.stdout.starts_with("digraph macllm {\n"));
    assert!(graph.stdout.contains("\"defaults:com.apple.dock:autohide\" -> \"defaults:com.apple.finder:DisableAllAnimations\";"));
    let validate = mac.macllm(&["validate"]).expect(0);
    assert!(
        validate.stdout.contains("is valid: 10 resources"),
        "{}",
        validate.stdout
    );
    mac.on(&["apply", "--yes"]).expect(0);
    let list = mac.on(&["state", "list"]).expect(0);
    assert_eq!(list.stdout.lines().count(), 10);
    let show = mac
        .on(&["state", "show", "defaults:com.apple.dock:tilesize"])
        .expect(0);
    let record: serde_json::Value = serde_json::from_str(&show.stdout).unwrap();
    assert_eq!(record["original"], serde_json::json!({"integer": 48}));
    assert_eq!(
        record["applied"]["value"],
        serde_json::json!({"integer": 36})
    );
    mac.on(&["state", "rm", "defaults:com.apple.dock:tilesize"])
        .expect(0);
    mac.on(&["state", "show", "defaults:com.apple.dock:tilesize"])
        .expect(1);
    // No longer managed: destroy leaves it as it is.
    mac.on(&["destroy", "--yes"]).expect(0);
    assert_eq!(
        mac.read("com.apple.dock", "tilesize").expect(0).stdout,
        "36\n"
    );
}

#[test]
fn apply_asks_and_only_yes_goes_ahead() {
    let mac = Mac::new();
    mac.spec(QUIET_UI);
    let mut child = mac.spawn_on(&["apply"], &[]);
    drop(child.stdin.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("Only 'yes' will be accepted to approve."),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("Apply cancelled."));
    assert_eq!(
        mac.read("com.apple.dock", "tilesize").expect(0).stdout,
        "48\n"
    );
}

/// The walkthrough of README.md and the core issue, command for command: state lives in the
/// working directory, so `drift` and `destroy` find it without `--spec`.
#[test]
fn readme_walkthrough_word_for_word() {
    let mac = Mac::new();
    std::fs::create_dir_all(mac.work.join("examples")).unwrap();
    std::fs::write(mac.work.join("examples/quiet-ui.yaml"), QUIET_UI).unwrap();
    let demo = |args: &[&str]| {
        let mut all = vec!["--host", "sandbox:demo-mac"];
        all.extend_from_slice(args);
        mac.macllm(&all)
    };
    let first = demo(&["plan", "--spec", "examples/quiet-ui.yaml"]).expect(0);
    assert!(
        first.stderr.contains("Created an emulated Mac"),
        "{}",
        first.stderr
    );
    demo(&["apply", "--yes", "--spec", "examples/quiet-ui.yaml"]).expect(0);
    demo(&[
        "plan",
        "--detailed-exitcode",
        "--spec",
        "examples/quiet-ui.yaml",
    ])
    .expect(0);
    mac.macllm(&[
        "sandbox",
        "run",
        "demo-mac",
        "--",
        "defaults",
        "write",
        "com.apple.dock",
        "tilesize",
        "-int",
        "64",
    ])
    .expect(0);
    let drift = demo(&["drift"]).expect(2);
    assert!(
        drift.stdout.contains("~ value = 36 -> 64"),
        "{}",
        drift.stdout
    );
    demo(&["destroy", "--yes"]).expect(0);
    let tilesize = mac.macllm(&[
        "sandbox",
        "run",
        "demo-mac",
        "--",
        "defaults",
        "read",
        "com.apple.dock",
        "tilesize",
    ]);
    assert_eq!(tilesize.expect(0).stdout, "48\n");
    assert!(mac.work.join("state/sandbox-demo-mac.json").exists());
}

#[test]
fn verbose_shows_every_command_and_quiet_hides_progress() {
    let mac = Mac::new();
    mac.spec(QUIET_UI);
    let plan = mac.on(&["-v", "plan"]).expect(0);
    assert_eq!(
        plan.stderr,
        "+ defaults export NSGlobalDomain -\n+ defaults export com.apple.dock -\n+ defaults export com.apple.finder -\n"
    );
    let apply = mac.on(&["-q", "apply", "--yes"]).expect(0);
    assert_eq!(apply.stderr, "");
    let apply = mac.on(&["--no-color", "plan"]).expect(0);
    assert!(!apply.stdout.contains('\x1b'));
}

const TEMPLATED: &str = "macllm: 1
vars: { small: 30 }
defaults:
  - domain: com.apple.dock
    key: tilesize
    value: \"{{ vars.small if host.memory_gb <= 8 else 40 }}\"
  - domain: com.example.macllm
    key: chip
    value: \"running on {{ host.chip }} with {{ host.performance_cores }} P cores\"
";

#[test]
fn templates_see_host_facts_and_vars_and_keep_types() {
    let small = Mac::with_preset("m1-8gb-monterey");
    small.spec(TEMPLATED);
    let plan = small.on(&["plan"]).expect(0);
    assert!(
        plan.stdout.contains(
            "# defaults:com.apple.dock:tilesize will be updated in-place\n  ~ value = 48 -> 30\n"
        ),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("+ value = \"running on Apple M1 with 4 P cores\""),
        "{}",
        plan.stdout
    );
    let large = Mac::with_preset("m4max-64gb-sequoia");
    large.spec(TEMPLATED);
    large.on(&["apply", "--yes"]).expect(0);
    assert_eq!(
        large
            .sh(&["defaults", "read-type", "com.apple.dock", "tilesize"])
            .expect(0)
            .stdout,
        "Type is integer\n"
    );
    assert_eq!(
        large.read("com.apple.dock", "tilesize").expect(0).stdout,
        "40\n"
    );
    let validate = large.macllm(&["validate"]).expect(0);
    assert!(
        validate
            .stdout
            .contains("rendered for each of the 5 emulated Macs"),
        "{}",
        validate.stdout
    );

    large.spec(&TEMPLATED.replace("host.memory_gb", "host.memroy_gb"));
    let typo = large.on(&["plan"]).expect(1);
    assert!(typo.stderr.contains("template error"), "{}", typo.stderr);
    assert!(
        typo.stderr.contains("--> macllm.yaml:6:13"),
        "{}",
        typo.stderr
    );
}
