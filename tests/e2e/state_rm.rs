//! `state rm` of a resource the spec still declares (issue 13): macllm no longer manages it,
//! so the next plan imports it again, as Terraform plans a removed resource anew. Before, the
//! plan said "No changes" (the value already matched), and hand edits went unseen by drift.

use crate::harness::{DRIFT_THEN_PLAN, Mac, TILESIZE_DRIFT};

const SPEC: &str = "macllm: 1
defaults:
  - {domain: com.apple.dock, key: tilesize, value: 36}
";

/// A hand edit of the key after macllm recorded it: drift must report it.
fn hand_edit_is_drift(mac: &Mac) {
    mac.dock_by_hand();
    mac.on(&["drift"]).status(2).stdout(TILESIZE_DRIFT).run();
}

#[test]
fn a_removed_resource_is_imported_again_and_watched_again() {
    let mac = Mac::new();
    mac.spec(SPEC);
    mac.on(&["apply", "--yes"])
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # defaults:com.apple.dock:tilesize will be updated in-place
  ~ value = 48 -> 36
    # then: killall Dock

Plan: 0 to add, 1 to change, 0 to destroy.
After the changes: killall Dock.

Apply complete! Resources: 0 added, 1 changed, 0 destroyed.
"#,
        )
        .stderr(
            r#"defaults:com.apple.dock:tilesize: Modifying...
defaults:com.apple.dock:tilesize: Modifications complete after [DURATION]
Restarted: killall Dock
"#,
        )
        .run();
    mac.on(&["state", "rm", "defaults:com.apple.dock:tilesize"])
        .stdout(
            r#"Removed defaults:com.apple.dock:tilesize from the state; the host was not changed.
"#,
        )
        .run();
    mac.on(&["plan", "--detailed-exitcode"]).status(2).stdout(r#"
macllm will perform the following actions on sandbox:mac:

  # defaults:com.apple.dock:tilesize will be imported
    # already as the spec asks; `macllm state rm` took it out of the state, and apply records it again

Plan: 1 to import, 0 to add, 0 to change, 0 to destroy.
"#).run();
    mac.on(&["--json", "plan"]).stdout(r#"{
  "changes": [
    {
      "action": "import",
      "after": {
        "integer": 36
      },
      "before": {
        "integer": 36
      },
      "depends_on": [],
      "id": "defaults:com.apple.dock:tilesize",
      "needs_root": false,
      "notes": [
        "already as the spec asks; `macllm state rm` took it out of the state, and apply records it again"
      ],
      "resource": {
        "current_host": false,
        "domain": "com.apple.dock",
        "key": "tilesize",
        "kind": "defaults",
        "value": {
          "integer": 36
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
  "host": "sandbox:mac",
  "mode": "normal",
  "over_budget": [],
  "state": {
    "lineage": "[LINEAGE]",
    "serial": 3
  },
  "summary": {
    "add": 0,
    "change": 0,
    "destroy": 0,
    "import": 1
  },
  "warnings": []
}
"#).run();
    mac.on(&["apply", "--yes"]).stdout(r#"
macllm will perform the following actions on sandbox:mac:

  # defaults:com.apple.dock:tilesize will be imported
    # already as the spec asks; `macllm state rm` took it out of the state, and apply records it again

Plan: 1 to import, 0 to add, 0 to change, 0 to destroy.

Apply complete! Resources: 1 imported, 0 added, 0 changed, 0 destroyed.
"#).stderr(r#"defaults:com.apple.dock:tilesize: Import complete after [DURATION]
"#).run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout(
            r#"
No changes. The host matches the spec.
"#,
        )
        .run();
    hand_edit_is_drift(&mac);
    // The original is what was there when it was imported: the value before the first
    // apply is forgotten with the record, as in Terraform.
    mac.on(&["destroy", "--yes"])
        .stdout(
            &[
                TILESIZE_DRIFT,
                DRIFT_THEN_PLAN,
                r#"macllm will perform the following actions on sandbox:mac:

  # defaults:com.apple.dock:tilesize will be restored to its original value
  ~ value = 64 -> 36
    # then: killall Dock

Plan: 0 to add, 0 to change, 1 to destroy.
After the changes: killall Dock.

Destroy complete! Resources: 1 destroyed.
"#,
            ]
            .concat(),
        )
        .stderr(
            r#"defaults:com.apple.dock:tilesize: Restoring...
defaults:com.apple.dock:tilesize: Restore complete after [DURATION]
Restarted: killall Dock
"#,
        )
        .run();
    mac.read("com.apple.dock", "tilesize").stdout("36\n").run();
}

/// Taken out of the spec as well, a removed resource is simply forgotten: nothing to plan.
#[test]
fn a_removed_resource_that_left_the_spec_plans_nothing() {
    let mac = Mac::new();
    mac.spec(SPEC);
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    mac.on(&["state", "rm", "defaults:com.apple.dock:tilesize"])
        .stdout_any()
        .run();
    mac.spec("macllm: 1\n");
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout(
            r#"
No changes. The host matches the spec.
"#,
        )
        .run();
}

/// An apply that stopped after saving a resource's original but before the value it read
/// back (the state then has no `applied`) left the Mac as asked. The next plan must record
/// that value: before, it said "No changes", and drift, which compares against it, never
/// looked at the resource again.
#[test]
fn a_record_an_apply_left_unfinished_is_recorded_and_watched_again() {
    let mac = Mac::new();
    mac.spec(SPEC);
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    let path = mac.state_path();
    let mut state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let record = &mut state["resources"]["defaults:com.apple.dock:tilesize"];
    assert_eq!(
        record["applied"],
        serde_json::json!({"value": {"integer": 36}})
    );
    record.as_object_mut().unwrap().remove("applied");
    std::fs::write(&path, serde_json::to_string_pretty(&state).unwrap()).unwrap();
    let planned = r#"
macllm will perform the following actions on sandbox:mac:

  # defaults:com.apple.dock:tilesize will be imported
    # already as the spec asks; an earlier apply stopped before recording it, and apply records it again

Plan: 1 to import, 0 to add, 0 to change, 0 to destroy.
"#;
    mac.on(&["plan", "--detailed-exitcode"])
        .status(2)
        .stdout(planned)
        .run();
    mac.on(&["apply", "--yes"])
        .stdout(&format!(
            "{planned}\nApply complete! Resources: 1 imported, 0 added, 0 changed, 0 destroyed.\n"
        ))
        .stderr("defaults:com.apple.dock:tilesize: Import complete after [DURATION]\n")
        .run();
    hand_edit_is_drift(&mac);
    // The original is still the one from before the first apply.
    mac.on(&["destroy", "--yes"])
        .stdout_any()
        .stderr_any()
        .run();
    mac.read("com.apple.dock", "tilesize").stdout("48\n").run();
}
