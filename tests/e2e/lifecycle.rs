//! plan -> apply -> plan -> drift -> destroy, as README's walkthrough does it.

use crate::harness::{
    Mac, QUIET_ACTIVATE_SETTINGS, QUIET_APPLY_PROGRESS, QUIET_PLAN, QUIET_UI, TILESIZE_DRIFT,
};

#[test]
fn round_trip_converges_detects_drift_and_restores_byte_equal_domains() {
    let mac = Mac::new();
    mac.spec(QUIET_UI);
    let domains = ["com.apple.dock", "NSGlobalDomain", "com.apple.finder"];
    let before: Vec<String> = domains.iter().map(|d| mac.export(d)).collect();

    mac.on(&["plan"]).stdout(QUIET_PLAN).run();
    mac.on(&["plan", "--detailed-exitcode"])
        .status(2)
        .stdout(QUIET_PLAN)
        .run();

    mac.on(&["apply", "--yes"])
        .stdout(&format!(
            "{QUIET_PLAN}\nApply complete! Resources: 6 added, 4 changed, 0 destroyed.\n"
        ))
        .stderr(QUIET_APPLY_PROGRESS)
        .run();
    mac.read("com.apple.dock", "tilesize").stdout("36\n").run();
    mac.read("com.apple.dock", "autohide").stdout("1\n").run();
    // Dock, Finder and the global domain each restart once, after all writes.
    assert_eq!(
        mac.restarts(),
        "killall Dock\nkillall Finder\nactivateSettings -u (macOS 14.5: some settings wait for a logout)\n"
    );

    mac.on(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
    mac.on(&["drift"])
        .stdout("\nNo drift. sandbox:mac still matches what the last apply left (10 resources checked).\n")
        .run();

    // A change by hand is drift against what the last apply left; only managed keys count.
    mac.dock_by_hand();
    mac.on(&["drift"]).status(2).stdout(TILESIZE_DRIFT).run();
    mac.on(&["plan", "--refresh-only", "--detailed-exitcode"])
        .status(2)
        .stdout(&format!(
            "{TILESIZE_DRIFT}\nThis is a refresh-only plan, so macllm will not undo these changes.\n"
        ))
        .run();
    // Like drift, a refresh-only plan needs no spec (before: "cannot read spec").
    mac.on(&[
        "--spec",
        "missing.yaml",
        "plan",
        "--refresh-only",
        "--detailed-exitcode",
    ])
    .status(2)
    .stdout(&format!(
        "{TILESIZE_DRIFT}\nThis is a refresh-only plan, so macllm will not undo these changes.\n"
    ))
    .run();
    mac.on(&["plan"])
        .stdout(&format!(
            r#"{TILESIZE_DRIFT}
Unless you have made equivalent changes to your spec, the following plan
may include actions to undo or respond to these changes.

─────────────────────────────────────────────────────────────────────────────

macllm will perform the following actions on sandbox:mac:

  # defaults:com.apple.dock:tilesize will be updated in-place
  ~ value = 64 -> 36
    # then: killall Dock

Plan: 0 to add, 1 to change, 0 to destroy.
After the changes: killall Dock.
"#
        ))
        .run();

    mac.on(&["destroy", "--yes"])
        .stdout(QUIET_DESTROY_AFTER_DRIFT)
        .stderr(QUIET_DESTROY_PROGRESS)
        .run();
    let after: Vec<String> = domains.iter().map(|d| mac.export(d)).collect();
    assert_eq!(before, after, "destroy restores every domain byte for byte");
    assert_eq!(mac.state()["resources"], serde_json::json!({}));
    mac.on(&["destroy", "--yes"])
        .stdout("\nNo changes. Nothing macllm manages is left to restore.\n")
        .run();
}

#[test]
fn plan_leaves_the_sandbox_byte_identical() {
    let mac = Mac::new();
    mac.spec(QUIET_UI);
    mac.on(&["plan"]).stdout(QUIET_PLAN).run(); // creates nothing but may not change anything either
    let before = mac.snapshot();
    mac.on(&["plan"]).stdout(QUIET_PLAN).run();
    mac.on(&["plan", "--json"])
        .stdout_json(quiet_plan_json())
        .run();
    mac.on(&["plan", "--refresh-only"])
        .stdout("\nNo changes. sandbox:mac still matches what the last apply left.\n")
        .run();
    assert_eq!(before, mac.snapshot());
    assert!(!mac.state_path().exists(), "plan writes no state");
}

#[test]
fn a_key_removed_from_the_spec_is_restored_to_its_original() {
    let mac = Mac::new();
    mac.spec("macllm: 1\ndefaults:\n  - {domain: com.apple.dock, key: tilesize, value: 30}\n  - {domain: com.apple.dock, key: newkey, value: x}\n");
    mac.on(&["apply", "--yes"])
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # defaults:com.apple.dock:newkey will be created
  + value = "x"
    # then: killall Dock

  # defaults:com.apple.dock:tilesize will be updated in-place
  ~ value = 48 -> 30
    # then: killall Dock

Plan: 1 to add, 1 to change, 0 to destroy.
After the changes: killall Dock.

Apply complete! Resources: 1 added, 1 changed, 0 destroyed.
"#,
        )
        .stderr(
            "defaults:com.apple.dock:newkey: Creating...
defaults:com.apple.dock:newkey: Creation complete after [DURATION]
defaults:com.apple.dock:tilesize: Modifying...
defaults:com.apple.dock:tilesize: Modifications complete after [DURATION]
Restarted: killall Dock
",
        )
        .run();
    mac.spec("macllm: 1\ndefaults: []\n");
    mac.on(&["plan", "--detailed-exitcode"])
        .status(2)
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # defaults:com.apple.dock:tilesize will be restored to its original value
  ~ value = 30 -> 48
    # then: killall Dock

  # defaults:com.apple.dock:newkey will be deleted (it was absent before macllm)
  - value = "x" -> null
    # then: killall Dock

Plan: 0 to add, 0 to change, 2 to destroy.
After the changes: killall Dock.
"#,
        )
        .run();
    mac.on(&["apply", "--yes"])
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # defaults:com.apple.dock:tilesize will be restored to its original value
  ~ value = 30 -> 48
    # then: killall Dock

  # defaults:com.apple.dock:newkey will be deleted (it was absent before macllm)
  - value = "x" -> null
    # then: killall Dock

Plan: 0 to add, 0 to change, 2 to destroy.
After the changes: killall Dock.

Apply complete! Resources: 0 added, 0 changed, 2 destroyed.
"#,
        )
        .stderr(
            "defaults:com.apple.dock:tilesize: Restoring...
defaults:com.apple.dock:tilesize: Restore complete after [DURATION]
defaults:com.apple.dock:newkey: Restoring...
defaults:com.apple.dock:newkey: Restore complete after [DURATION]
Restarted: killall Dock
",
        )
        .run();
    mac.read("com.apple.dock", "tilesize").stdout("48\n").run();
    mac.read_missing("com.apple.dock", "newkey");
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
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
    .run();
    mac.spec("macllm: 1\ndefaults:\n  - {domain: com.example.t, key: KeyRepeat, value: 2}\n");
    mac.on(&["plan"])
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # defaults:com.example.t:KeyRepeat will be updated in-place
  ~ value = "2" (string) -> 2 (integer)

Plan: 0 to add, 1 to change, 0 to destroy.
"#,
        )
        .run();
    mac.on(&["apply", "--yes"])
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # defaults:com.example.t:KeyRepeat will be updated in-place
  ~ value = "2" (string) -> 2 (integer)

Plan: 0 to add, 1 to change, 0 to destroy.

Apply complete! Resources: 0 added, 1 changed, 0 destroyed.
"#,
        )
        .stderr(
            "defaults:com.example.t:KeyRepeat: Modifying...
defaults:com.example.t:KeyRepeat: Modifications complete after [DURATION]
",
        )
        .run();
    mac.sh(&["defaults", "read-type", "com.example.t", "KeyRepeat"])
        .stdout("Type is integer\n")
        .run();
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
    .run();
    mac.on(&["apply", "--yes"])
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # defaults:com.example.macllm:enabled will be created
  + value = true

  # defaults:com.example.macllm:greeting will be created
  + value = "it's \"quoted\"; $HOME stays literal, ünïcödé too"

  # defaults:com.example.macllm:legacyFlag will be deleted
  - value = true -> null

  # defaults:com.example.macllm:limits will be created
  ~ value = <<-EOT
          + {
          +   "ctx": 4096,
          +   "name": "small",
          +   "parallel": 1,
          + }
        EOT

  # defaults:com.example.macllm:models will be created
  ~ value = <<-EOT
          + [
          +   "llama3.2:3b",
          +   "mistral:7b",
          + ]
        EOT

  # defaults:com.example.macllm:ratio will be created
  + value = 0.75

  # defaults:com.example.macllm:retries will be created
  + value = 3

  # defaults:com.example.macllm:since will be created
  + value = date(2024-01-31T12:00:00Z)

  # defaults:com.example.macllm:token will be created
  + value = <00ff10ab>

  # defaults:currentHost:NSGlobalDomain:com.apple.mouse.tapBehavior will be created
  + value = 1
    # then: activateSettings -u

Plan: 9 to add, 0 to change, 1 to destroy.
After the changes: activateSettings -u.

Apply complete! Resources: 9 added, 0 changed, 1 destroyed.
"#,
        )
        .stderr(
            "defaults:com.example.macllm:enabled: Creating...
defaults:com.example.macllm:enabled: Creation complete after [DURATION]
defaults:com.example.macllm:greeting: Creating...
defaults:com.example.macllm:greeting: Creation complete after [DURATION]
defaults:com.example.macllm:legacyFlag: Deleting...
defaults:com.example.macllm:legacyFlag: Deletion complete after [DURATION]
defaults:com.example.macllm:limits: Creating...
defaults:com.example.macllm:limits: Creation complete after [DURATION]
defaults:com.example.macllm:models: Creating...
defaults:com.example.macllm:models: Creation complete after [DURATION]
defaults:com.example.macllm:ratio: Creating...
defaults:com.example.macllm:ratio: Creation complete after [DURATION]
defaults:com.example.macllm:retries: Creating...
defaults:com.example.macllm:retries: Creation complete after [DURATION]
defaults:com.example.macllm:since: Creating...
defaults:com.example.macllm:since: Creation complete after [DURATION]
defaults:com.example.macllm:token: Creating...
defaults:com.example.macllm:token: Creation complete after [DURATION]
defaults:currentHost:NSGlobalDomain:com.apple.mouse.tapBehavior: Creating...
defaults:currentHost:NSGlobalDomain:com.apple.mouse.tapBehavior: Creation complete after [DURATION]
warning: ran `activateSettings -u`, but on macOS 14.5 it does not apply every setting: log out and back in for defaults:currentHost:NSGlobalDomain:com.apple.mouse.tapBehavior to take effect
",
        )
        .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
    for (key, kind) in [
        ("enabled", "boolean"),
        ("retries", "integer"),
        ("ratio", "float"),
        ("greeting", "string"),
        ("since", "date"),
        ("token", "data"),
        ("models", "array"),
        ("limits", "dictionary"),
    ] {
        mac.sh(&["defaults", "read-type", "com.example.macllm", key])
            .stdout(&format!("Type is {kind}\n"))
            .run();
    }
    mac.sh(&[
        "defaults",
        "-currentHost",
        "read",
        "-g",
        "com.apple.mouse.tapBehavior",
    ])
    .stdout("1\n")
    .run();
    mac.read_missing("com.example.macllm", "legacyFlag");
    mac.on(&["destroy", "--yes"])
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # defaults:currentHost:NSGlobalDomain:com.apple.mouse.tapBehavior will be deleted (it was absent before macllm)
  - value = 1 -> null
    # then: activateSettings -u

  # defaults:com.example.macllm:token will be deleted (it was absent before macllm)
  - value = <00ff10ab> -> null

  # defaults:com.example.macllm:since will be deleted (it was absent before macllm)
  - value = date(2024-01-31T12:00:00Z) -> null

  # defaults:com.example.macllm:retries will be deleted (it was absent before macllm)
  - value = 3 -> null

  # defaults:com.example.macllm:ratio will be deleted (it was absent before macllm)
  - value = 0.75 -> null

  # defaults:com.example.macllm:models will be deleted (it was absent before macllm)
  ~ value = <<-EOT
          - [
          -   "llama3.2:3b",
          -   "mistral:7b",
          - ]
        EOT

  # defaults:com.example.macllm:limits will be deleted (it was absent before macllm)
  ~ value = <<-EOT
          - {
          -   "ctx": 4096,
          -   "name": "small",
          -   "parallel": 1,
          - }
        EOT

  # defaults:com.example.macllm:legacyFlag will be restored to its original value
  + value = true

  # defaults:com.example.macllm:greeting will be deleted (it was absent before macllm)
  - value = "it's \"quoted\"; $HOME stays literal, ünïcödé too" -> null

  # defaults:com.example.macllm:enabled will be deleted (it was absent before macllm)
  - value = true -> null

Plan: 0 to add, 0 to change, 10 to destroy.
After the changes: activateSettings -u.

Destroy complete! Resources: 10 destroyed.
"#,
        )
        .stderr(
            "defaults:currentHost:NSGlobalDomain:com.apple.mouse.tapBehavior: Restoring...
defaults:currentHost:NSGlobalDomain:com.apple.mouse.tapBehavior: Restore complete after [DURATION]
defaults:com.example.macllm:token: Restoring...
defaults:com.example.macllm:token: Restore complete after [DURATION]
defaults:com.example.macllm:since: Restoring...
defaults:com.example.macllm:since: Restore complete after [DURATION]
defaults:com.example.macllm:retries: Restoring...
defaults:com.example.macllm:retries: Restore complete after [DURATION]
defaults:com.example.macllm:ratio: Restoring...
defaults:com.example.macllm:ratio: Restore complete after [DURATION]
defaults:com.example.macllm:models: Restoring...
defaults:com.example.macllm:models: Restore complete after [DURATION]
defaults:com.example.macllm:limits: Restoring...
defaults:com.example.macllm:limits: Restore complete after [DURATION]
defaults:com.example.macllm:legacyFlag: Restoring...
defaults:com.example.macllm:legacyFlag: Restore complete after [DURATION]
defaults:com.example.macllm:greeting: Restoring...
defaults:com.example.macllm:greeting: Restore complete after [DURATION]
defaults:com.example.macllm:enabled: Restoring...
defaults:com.example.macllm:enabled: Restore complete after [DURATION]
warning: ran `activateSettings -u`, but on macOS 14.5 it does not apply every setting: log out and back in for the removed keys to take effect
",
        )
        .run();
    mac.read("com.example.macllm", "legacyFlag")
        .stdout("1\n")
        .run();
    mac.read_missing("com.example.macllm", "retries");
}

#[test]
fn saved_plans_apply_exactly_and_are_refused_when_stale() {
    let mac = Mac::new();
    mac.spec(QUIET_UI);
    mac.on(&["plan", "--out", "quiet.plan"])
        .stdout(&format!(
            "{QUIET_PLAN}\nSaved the plan to: quiet.plan\n\nTo perform exactly these actions, run the following command to apply:\n    macllm --host sandbox:mac apply quiet.plan\n"
        ))
        .run();
    mac.sh(&[
        "defaults",
        "write",
        "com.apple.dock",
        "tilesize",
        "-int",
        "50",
    ])
    .run();
    mac.on(&["apply", "quiet.plan"])
        .status(1)
        .stderr(
            "error: Saved plan is stale: defaults:com.apple.dock:tilesize changed on the host since the plan was made
hint: run `macllm plan --out` again
",
        )
        .run();
    assert!(!mac.state_path().exists());

    mac.on(&["plan", "--out", "quiet.plan"])
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled will be created
  + value = false
    # then: activateSettings -u

  # defaults:NSGlobalDomain:NSWindowResizeTime will be created
  + value = 0.001
    # then: activateSettings -u

  # defaults:com.apple.dock:autohide will be updated in-place
  ~ value = false -> true
    # then: killall Dock

  # defaults:com.apple.dock:autohide-delay will be created
  + value = 0.0
    # then: killall Dock

  # defaults:com.apple.dock:autohide-time-modifier will be created
  + value = 0.15
    # then: killall Dock

  # defaults:com.apple.dock:launchanim will be created
  + value = false
    # then: killall Dock

  # defaults:com.apple.dock:mineffect will be updated in-place
  ~ value = "genie" -> "scale"
    # then: killall Dock

  # defaults:com.apple.dock:show-recents will be updated in-place
  ~ value = true -> false
    # then: killall Dock

  # defaults:com.apple.dock:tilesize will be updated in-place
  ~ value = 50 -> 36
    # then: killall Dock

  # defaults:com.apple.finder:DisableAllAnimations will be created
  + value = true
    # then: killall Finder

Plan: 6 to add, 4 to change, 0 to destroy.
After the changes: killall Dock, killall Finder, activateSettings -u.

Saved the plan to: quiet.plan

To perform exactly these actions, run the following command to apply:
    macllm --host sandbox:mac apply quiet.plan
"#,
        )
        .run();
    mac.on(&["apply", "quiet.plan"])
        .stdout("\nApply complete! Resources: 6 added, 4 changed, 0 destroyed.\n")
        .stderr(QUIET_APPLY_PROGRESS)
        .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
    // The state moved on (serial bumped), so the same saved plan is refused now.
    mac.on(&["apply", "quiet.plan"])
        .status(1)
        .stderr(
            "error: Saved plan is stale: the state changed since the plan was made (plan: no state, now: lineage [LINEAGE] serial 4)
hint: run `macllm plan --out` again
",
        )
        .run();
    // A saved plan applies to the Mac it was made for; it never makes a new one.
    mac.macllm(&["--host", "sandbox:elsewhere", "apply", "quiet.plan"])
        .status(1)
        .stderr(
            "error: elsewhere is not an emulated Mac (it has no machine.json)
hint: create one with `macllm sandbox init elsewhere`, or let `macllm --host sandbox:elsewhere apply` create it
",
        )
        .run();
    assert!(!mac.work.join("elsewhere").exists());
    mac.init("elsewhere", "m2-16gb-sonoma");
    mac.macllm(&["--host", "sandbox:elsewhere", "apply", "quiet.plan"])
        .status(1)
        .stderr(
            "error: the saved plan is for `sandbox:mac`, not `sandbox:elsewhere`
hint: pass `--host sandbox:mac`
",
        )
        .run();
}

#[test]
fn system_domains_need_root_before_anything_changes() {
    let mac = Mac::new();
    mac.spec("macllm: 1\ndefaults:\n  - {domain: com.apple.dock, key: autohide, value: true}\n  - {domain: /Library/Preferences/com.apple.TimeMachine, key: DoNotOfferNewDisksForBackup, value: true}\n");
    mac.on(&["plan"])
        .stdout(
            "
macllm will perform the following actions on sandbox:mac:

  # defaults:/Library/Preferences/com.apple.TimeMachine:DoNotOfferNewDisksForBackup will be created
  + value = true
    # needs root (sudo)

  # defaults:com.apple.dock:autohide will be updated in-place
  ~ value = false -> true
    # then: killall Dock

Plan: 1 to add, 1 to change, 0 to destroy.
After the changes: killall Dock.
Warning: some changes need root: apply will stop before changing anything unless run with sudo
",
        )
        .run();
    let before = mac.snapshot();
    mac.on(&["apply", "--yes"])
        .status(1)
        .stdout(
            "
macllm will perform the following actions on sandbox:mac:

  # defaults:/Library/Preferences/com.apple.TimeMachine:DoNotOfferNewDisksForBackup will be created
  + value = true
    # needs root (sudo)

  # defaults:com.apple.dock:autohide will be updated in-place
  ~ value = false -> true
    # then: killall Dock

Plan: 1 to add, 1 to change, 0 to destroy.
After the changes: killall Dock.
Warning: some changes need root: apply will stop before changing anything unless run with sudo
",
        )
        .stderr(
            "error: these changes need root and nothing was changed:
  defaults:/Library/Preferences/com.apple.TimeMachine:DoNotOfferNewDisksForBackup
hint: run the same command with sudo
",
        )
        .run();
    assert_eq!(before, mac.snapshot());
    mac.become_root();
    mac.on(&["apply", "--yes"])
        .stdout(
            "
macllm will perform the following actions on sandbox:mac:

  # defaults:/Library/Preferences/com.apple.TimeMachine:DoNotOfferNewDisksForBackup will be created
  + value = true
    # needs root (sudo)

  # defaults:com.apple.dock:autohide will be updated in-place
  ~ value = false -> true
    # then: killall Dock

Plan: 1 to add, 1 to change, 0 to destroy.
After the changes: killall Dock.

Apply complete! Resources: 1 added, 1 changed, 0 destroyed.
",
        )
        .stderr(
            "defaults:/Library/Preferences/com.apple.TimeMachine:DoNotOfferNewDisksForBackup: Creating...
defaults:/Library/Preferences/com.apple.TimeMachine:DoNotOfferNewDisksForBackup: Creation complete after [DURATION]
defaults:com.apple.dock:autohide: Modifying...
defaults:com.apple.dock:autohide: Modifications complete after [DURATION]
Restarted: killall Dock
",
        )
        .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
}

/// QUIET_UI's changes on a fresh m2-16gb-sonoma as `--json` gives them.
fn quiet_changes() -> serde_json::Value {
    use serde_json::{Value, json};
    let dock = json!({"kill": "Dock"});
    let rows: [(&str, &str, &str, Value, Value, Value); 10] = [
        (
            "NSGlobalDomain",
            "NSAutomaticWindowAnimationsEnabled",
            "create",
            Value::Null,
            json!({"bool": false}),
            json!("activate_settings"),
        ),
        (
            "NSGlobalDomain",
            "NSWindowResizeTime",
            "create",
            Value::Null,
            json!({"float": 0.001}),
            json!("activate_settings"),
        ),
        (
            "com.apple.dock",
            "autohide",
            "update",
            json!({"bool": false}),
            json!({"bool": true}),
            dock.clone(),
        ),
        (
            "com.apple.dock",
            "autohide-delay",
            "create",
            Value::Null,
            json!({"float": 0.0}),
            dock.clone(),
        ),
        (
            "com.apple.dock",
            "autohide-time-modifier",
            "create",
            Value::Null,
            json!({"float": 0.15}),
            dock.clone(),
        ),
        (
            "com.apple.dock",
            "launchanim",
            "create",
            Value::Null,
            json!({"bool": false}),
            dock.clone(),
        ),
        (
            "com.apple.dock",
            "mineffect",
            "update",
            json!({"string": "genie"}),
            json!({"string": "scale"}),
            dock.clone(),
        ),
        (
            "com.apple.dock",
            "show-recents",
            "update",
            json!({"bool": true}),
            json!({"bool": false}),
            dock.clone(),
        ),
        (
            "com.apple.dock",
            "tilesize",
            "update",
            json!({"integer": 48}),
            json!({"integer": 36}),
            dock,
        ),
        (
            "com.apple.finder",
            "DisableAllAnimations",
            "create",
            Value::Null,
            json!({"bool": true}),
            json!({"kill": "Finder"}),
        ),
    ];
    rows.into_iter()
        .map(|(domain, key, action, before, after, restart)| {
            let depends_on = if key == "DisableAllAnimations" {
                json!(["defaults:com.apple.dock:autohide"])
            } else {
                json!([])
            };
            json!({
                "action": action,
                "after": after,
                "before": before,
                "depends_on": depends_on,
                "id": format!("defaults:{domain}:{key}"),
                "needs_root": false,
                "notes": [],
                "resource": {
                    "current_host": false,
                    "domain": domain,
                    "key": key,
                    "kind": "defaults",
                    "value": after,
                },
                "restart": restart,
                "sensitive": false,
            })
        })
        .collect()
}

fn quiet_plan_json() -> serde_json::Value {
    serde_json::json!({
        "changes": quiet_changes(),
        "drift": [],
        "format_version": "1.0",
        "host": "sandbox:mac",
        "mode": "normal",
        "over_budget": [],
        "state": null,
        "summary": {"add": 6, "change": 4, "destroy": 0},
        "warnings": [],
    })
}

#[test]
fn json_output_is_one_document_with_a_format_version() {
    use serde_json::json;
    let mac = Mac::new();
    mac.spec(QUIET_UI);
    mac.on(&["plan", "--json"])
        .stdout_json(quiet_plan_json())
        .run();
    mac.on(&["apply", "--yes", "--json"])
        .stdout_json(json!({
            "added": 6,
            "changed": 4,
            "destroyed": 0,
            "format_version": "1.0",
            "host": "sandbox:mac",
            "imported": 0,
            "plan": {
                "changes": quiet_changes(),
                "drift": [],
                "format_version": "1.0",
                "host": "sandbox:mac",
                "mode": "normal",
                "over_budget": [],
                "state": {"lineage": "[LINEAGE]", "serial": 0},
                "warnings": [],
            },
        }))
        .stderr(QUIET_APPLY_PROGRESS)
        .run();
    mac.on(&["facts", "--json"])
        .stdout_json(json!({
            "chip": "Apple M2",
            "cpu_cores": 8,
            "efficiency_cores": 4,
            "format_version": "1.0",
            "gpu_cores": 10,
            "gpu_wired_limit_mb": 0,
            "home": "/Users/admin",
            "host": "sandbox:mac",
            "hostname": "mini-m2.local",
            "macos_build": "23F79",
            "macos_version": "14.5",
            "memory_bandwidth_gbps": 100.0,
            "memory_bytes": 17179869184_u64,
            "memory_gb": 16,
            "performance_cores": 4,
            "root": false,
            "uid": 501,
            "user": "admin",
        }))
        .run();
    mac.on(&["state", "list", "--json"])
        .stdout_json(json!({
            "format_version": "1.0",
            "host": "sandbox:mac",
            "lineage": "[LINEAGE]",
            "resources": quiet_changes()
                .as_array()
                .unwrap()
                .iter()
                .map(|change| change["id"].clone())
                .collect::<Vec<_>>(),
            "serial": 4,
        }))
        .run();
}

#[test]
fn facts_graph_validate_and_state_commands() {
    let mac = Mac::with_preset("m1-8gb-monterey");
    mac.spec(QUIET_UI);
    mac.on(&["facts"])
        .stdout(
            "host:     sandbox:mac
hostname: air-m1.local
chip:     Apple M1
memory:   8 GB (8589934592 bytes), 68.25 GB/s
cores:    8 (4 performance + 4 efficiency)
GPU:      7 cores
macOS:    12.7.6 (21H1320)
uid:      501
",
        )
        .run();
    mac.macllm(&["graph"])
        .stdout(
            r#"digraph macllm {
  rankdir = LR;
  "defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled";
  "defaults:NSGlobalDomain:NSWindowResizeTime";
  "defaults:com.apple.dock:autohide";
  "defaults:com.apple.dock:autohide-delay";
  "defaults:com.apple.dock:autohide-time-modifier";
  "defaults:com.apple.dock:launchanim";
  "defaults:com.apple.dock:mineffect";
  "defaults:com.apple.dock:show-recents";
  "defaults:com.apple.dock:tilesize";
  "defaults:com.apple.finder:DisableAllAnimations";
  "defaults:com.apple.dock:autohide" -> "defaults:com.apple.finder:DisableAllAnimations";
}
"#,
        )
        .run();
    mac.macllm(&["validate"])
        .stdout("Success! macllm.yaml is valid: 10 resources.\n")
        .run();
    // Before macOS 14 `activateSettings -u` applies the global changes.
    mac.on(&["apply", "--yes"])
        .stdout(&format!(
            "{QUIET_PLAN}\nApply complete! Resources: 6 added, 4 changed, 0 destroyed.\n"
        ))
        .stderr(
            &QUIET_APPLY_PROGRESS
                .replace(QUIET_ACTIVATE_SETTINGS, "Restarted: activateSettings -u\n"),
        )
        .run();
    mac.on(&["state", "list"])
        .stdout(
            "defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled
defaults:NSGlobalDomain:NSWindowResizeTime
defaults:com.apple.dock:autohide
defaults:com.apple.dock:autohide-delay
defaults:com.apple.dock:autohide-time-modifier
defaults:com.apple.dock:launchanim
defaults:com.apple.dock:mineffect
defaults:com.apple.dock:show-recents
defaults:com.apple.dock:tilesize
defaults:com.apple.finder:DisableAllAnimations
",
        )
        .run();
    mac.on(&["state", "show", "defaults:com.apple.dock:tilesize"])
        .stdout(
            r#"{
  "resource": {
    "kind": "defaults",
    "domain": "com.apple.dock",
    "key": "tilesize",
    "current_host": false,
    "value": {
      "integer": 36
    }
  },
  "depends_on": [],
  "original": {
    "integer": 48
  },
  "applied": {
    "value": {
      "integer": 36
    }
  },
  "sensitive": false
}
"#,
        )
        .run();
    mac.on(&["state", "rm", "defaults:com.apple.dock:tilesize"])
        .stdout(
            "Removed defaults:com.apple.dock:tilesize from the state; the host was not changed.\n",
        )
        .run();
    mac.on(&["state", "show", "defaults:com.apple.dock:tilesize"])
        .status(1)
        .stderr(
            "error: `defaults:com.apple.dock:tilesize` is not in the state of sandbox:mac
hint: `macllm state list` shows what is
",
        )
        .run();
    // No longer managed: destroy leaves it as it is.
    mac.on(&["destroy", "--yes"])
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # defaults:com.apple.finder:DisableAllAnimations will be deleted (it was absent before macllm)
  - value = true -> null
    # then: killall Finder

  # defaults:com.apple.dock:show-recents will be restored to its original value
  ~ value = false -> true
    # then: killall Dock

  # defaults:com.apple.dock:mineffect will be restored to its original value
  ~ value = "scale" -> "genie"
    # then: killall Dock

  # defaults:com.apple.dock:launchanim will be deleted (it was absent before macllm)
  - value = false -> null
    # then: killall Dock

  # defaults:com.apple.dock:autohide-time-modifier will be deleted (it was absent before macllm)
  - value = 0.15 -> null
    # then: killall Dock

  # defaults:com.apple.dock:autohide-delay will be deleted (it was absent before macllm)
  - value = 0.0 -> null
    # then: killall Dock

  # defaults:com.apple.dock:autohide will be restored to its original value
  ~ value = true -> false
    # then: killall Dock

  # defaults:NSGlobalDomain:NSWindowResizeTime will be deleted (it was absent before macllm)
  - value = 0.001 -> null
    # then: activateSettings -u

  # defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled will be deleted (it was absent before macllm)
  - value = false -> null
    # then: activateSettings -u

Plan: 0 to add, 0 to change, 9 to destroy.
After the changes: killall Dock, killall Finder, activateSettings -u.

Destroy complete! Resources: 9 destroyed.
"#,
        )
        .stderr(
            "defaults:com.apple.finder:DisableAllAnimations: Restoring...
defaults:com.apple.finder:DisableAllAnimations: Restore complete after [DURATION]
defaults:com.apple.dock:show-recents: Restoring...
defaults:com.apple.dock:show-recents: Restore complete after [DURATION]
defaults:com.apple.dock:mineffect: Restoring...
defaults:com.apple.dock:mineffect: Restore complete after [DURATION]
defaults:com.apple.dock:launchanim: Restoring...
defaults:com.apple.dock:launchanim: Restore complete after [DURATION]
defaults:com.apple.dock:autohide-time-modifier: Restoring...
defaults:com.apple.dock:autohide-time-modifier: Restore complete after [DURATION]
defaults:com.apple.dock:autohide-delay: Restoring...
defaults:com.apple.dock:autohide-delay: Restore complete after [DURATION]
defaults:com.apple.dock:autohide: Restoring...
defaults:com.apple.dock:autohide: Restore complete after [DURATION]
defaults:NSGlobalDomain:NSWindowResizeTime: Restoring...
defaults:NSGlobalDomain:NSWindowResizeTime: Restore complete after [DURATION]
defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled: Restoring...
defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled: Restore complete after [DURATION]
Restarted: killall Dock
Restarted: killall Finder
Restarted: activateSettings -u
",
        )
        .run();
    mac.read("com.apple.dock", "tilesize").stdout("36\n").run();
}

#[test]
fn apply_asks_and_only_yes_goes_ahead() {
    let mac = Mac::new();
    mac.spec(QUIET_UI);
    // No terminal and nothing on stdin: no answer, so no.
    mac.on(&["apply"])
        .status(1)
        .stdout(&format!(
            "{QUIET_PLAN}\nDo you want to perform these actions?\n  macllm will perform the actions described above.\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: \n"
        ))
        .stderr("error: Apply cancelled.\n")
        .run();
    mac.read("com.apple.dock", "tilesize").stdout("48\n").run();
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
    let demo_sh = |argv: &[&str]| {
        let mut all = vec!["sandbox", "run", "demo-mac", "--"];
        all.extend_from_slice(argv);
        mac.macllm(&all)
    };
    // Set-up, step 1: apply makes the emulated Mac on first use.
    demo(&["apply", "--yes", "--spec", "examples/quiet-ui.yaml"])
        .stdout(&format!(
            "{}\nApply complete! Resources: 6 added, 4 changed, 0 destroyed.\n",
            QUIET_PLAN.replace("sandbox:mac", "sandbox:demo-mac")
        ))
        .stderr(&format!(
            "Created an emulated Mac (Mac mini, Apple M2, 16 GB, 4P+4E cores, 10-core GPU, macOS 14.5) in demo-mac\n{QUIET_APPLY_PROGRESS}"
        ))
        .run();
    // The walkthrough, on the Mac set-up made: nothing left to change.
    demo(&["plan", "--spec", "examples/quiet-ui.yaml"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
    demo(&["apply", "--yes", "--spec", "examples/quiet-ui.yaml"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
    demo(&[
        "plan",
        "--detailed-exitcode",
        "--spec",
        "examples/quiet-ui.yaml",
    ])
    .stdout("\nNo changes. The host matches the spec.\n")
    .run();
    demo_sh(&[
        "defaults",
        "write",
        "com.apple.dock",
        "tilesize",
        "-int",
        "64",
    ])
    .run();
    demo(&["drift"]).status(2).stdout(TILESIZE_DRIFT).run();
    demo(&["destroy", "--yes"])
        .stdout(&QUIET_DESTROY_AFTER_DRIFT.replace("sandbox:mac", "sandbox:demo-mac"))
        .stderr(QUIET_DESTROY_PROGRESS)
        .run();
    demo_sh(&["defaults", "read", "com.apple.dock", "tilesize"])
        .stdout("48\n")
        .run();
    assert!(mac.work.join("state/sandbox-demo-mac.json").exists());
}

#[test]
fn verbose_shows_every_command_and_quiet_hides_progress() {
    let mac = Mac::new();
    mac.spec(QUIET_UI);
    mac.on(&["-v", "plan"])
        .stdout(QUIET_PLAN)
        // `id -u`: whether macllm runs as root, so under sudo the user's preferences are read.
        .stderr("+ id -u\n+ defaults export NSGlobalDomain -\n+ defaults export com.apple.dock -\n+ defaults export com.apple.finder -\n")
        .run();
    // Quiet hides the plan and the progress, not warnings: on macOS 14.5 the global changes
    // need a logout. What is left is the closing line.
    mac.on(&["-q", "apply", "--yes"])
        .stdout("Apply complete! Resources: 6 added, 4 changed, 0 destroyed.\n")
        .stderr(QUIET_ACTIVATE_SETTINGS)
        .run();
    // No colour off a terminal, asked or not.
    mac.on(&["--no-color", "plan"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
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
    small
        .on(&["plan"])
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # defaults:com.apple.dock:tilesize will be updated in-place
  ~ value = 48 -> 30
    # then: killall Dock

  # defaults:com.example.macllm:chip will be created
  + value = "running on Apple M1 with 4 P cores"

Plan: 1 to add, 1 to change, 0 to destroy.
After the changes: killall Dock.
"#,
        )
        .run();
    let large = Mac::with_preset("m4max-64gb-sequoia");
    large.spec(TEMPLATED);
    large
        .on(&["apply", "--yes"])
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # defaults:com.apple.dock:tilesize will be updated in-place
  ~ value = 48 -> 40
    # then: killall Dock

  # defaults:com.example.macllm:chip will be created
  + value = "running on Apple M4 Max with 12 P cores"

Plan: 1 to add, 1 to change, 0 to destroy.
After the changes: killall Dock.

Apply complete! Resources: 1 added, 1 changed, 0 destroyed.
"#,
        )
        .stderr(
            "defaults:com.apple.dock:tilesize: Modifying...
defaults:com.apple.dock:tilesize: Modifications complete after [DURATION]
defaults:com.example.macllm:chip: Creating...
defaults:com.example.macllm:chip: Creation complete after [DURATION]
Restarted: killall Dock
",
        )
        .run();
    large
        .sh(&["defaults", "read-type", "com.apple.dock", "tilesize"])
        .stdout("Type is integer\n")
        .run();
    large
        .read("com.apple.dock", "tilesize")
        .stdout("40\n")
        .run();
    large
        .macllm(&["validate"])
        .stdout("Success! macllm.yaml is valid: 2 resources (rendered for each of the 5 emulated Macs).\n")
        .run();

    large.spec(&TEMPLATED.replace("host.memory_gb", "host.memroy_gb"));
    large
        .on(&["plan"])
        .status(1)
        .stderr(
            r#"error: defaults[0].value: template error: `host.memroy_gb` is undefined
 --> macllm.yaml:6:30
  |
6 |     value: "{{ vars.small if host.memroy_gb <= 8 else 40 }}"
  |                              ^
hint: templates see `host` (the Mac's facts: `macllm facts` lists them) and `vars`
"#,
        )
        .run();
}

/// What `destroy` prints after QUIET_UI was applied and the Dock's tilesize set to 64 by hand.
const QUIET_DESTROY_AFTER_DRIFT: &str = r#"
Note: Objects have changed outside of macllm

macllm detected the following changes made outside of macllm since the
last "macllm apply":

  # defaults:com.apple.dock:tilesize has changed
  ~ value = 36 -> 64

Unless you have made equivalent changes to your spec, the following plan
may include actions to undo or respond to these changes.

─────────────────────────────────────────────────────────────────────────────

macllm will perform the following actions on sandbox:mac:

  # defaults:com.apple.finder:DisableAllAnimations will be deleted (it was absent before macllm)
  - value = true -> null
    # then: killall Finder

  # defaults:com.apple.dock:tilesize will be restored to its original value
  ~ value = 64 -> 48
    # then: killall Dock

  # defaults:com.apple.dock:show-recents will be restored to its original value
  ~ value = false -> true
    # then: killall Dock

  # defaults:com.apple.dock:mineffect will be restored to its original value
  ~ value = "scale" -> "genie"
    # then: killall Dock

  # defaults:com.apple.dock:launchanim will be deleted (it was absent before macllm)
  - value = false -> null
    # then: killall Dock

  # defaults:com.apple.dock:autohide-time-modifier will be deleted (it was absent before macllm)
  - value = 0.15 -> null
    # then: killall Dock

  # defaults:com.apple.dock:autohide-delay will be deleted (it was absent before macllm)
  - value = 0.0 -> null
    # then: killall Dock

  # defaults:com.apple.dock:autohide will be restored to its original value
  ~ value = true -> false
    # then: killall Dock

  # defaults:NSGlobalDomain:NSWindowResizeTime will be deleted (it was absent before macllm)
  - value = 0.001 -> null
    # then: activateSettings -u

  # defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled will be deleted (it was absent before macllm)
  - value = false -> null
    # then: activateSettings -u

Plan: 0 to add, 0 to change, 10 to destroy.
After the changes: killall Dock, killall Finder, activateSettings -u.

Destroy complete! Resources: 10 destroyed.
"#;

/// What `destroy` of QUIET_UI reports on stderr as it goes.
const QUIET_DESTROY_PROGRESS: &str = "defaults:com.apple.finder:DisableAllAnimations: Restoring...
defaults:com.apple.finder:DisableAllAnimations: Restore complete after [DURATION]
defaults:com.apple.dock:tilesize: Restoring...
defaults:com.apple.dock:tilesize: Restore complete after [DURATION]
defaults:com.apple.dock:show-recents: Restoring...
defaults:com.apple.dock:show-recents: Restore complete after [DURATION]
defaults:com.apple.dock:mineffect: Restoring...
defaults:com.apple.dock:mineffect: Restore complete after [DURATION]
defaults:com.apple.dock:launchanim: Restoring...
defaults:com.apple.dock:launchanim: Restore complete after [DURATION]
defaults:com.apple.dock:autohide-time-modifier: Restoring...
defaults:com.apple.dock:autohide-time-modifier: Restore complete after [DURATION]
defaults:com.apple.dock:autohide-delay: Restoring...
defaults:com.apple.dock:autohide-delay: Restore complete after [DURATION]
defaults:com.apple.dock:autohide: Restoring...
defaults:com.apple.dock:autohide: Restore complete after [DURATION]
defaults:NSGlobalDomain:NSWindowResizeTime: Restoring...
defaults:NSGlobalDomain:NSWindowResizeTime: Restore complete after [DURATION]
defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled: Restoring...
defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled: Restore complete after [DURATION]
Restarted: killall Dock
Restarted: killall Finder
warning: ran `activateSettings -u`, but on macOS 14.5 it does not apply every setting: log out and back in for the removed keys to take effect
";
