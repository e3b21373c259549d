//! `defaults` in a test domain, plain and `-currentHost`: plan, apply, read back, drift,
//! destroy, and the domain as `defaults export` showed it before.

use crate::mac::{Export, Mac};

const RESTORE: &str = "com.macllm.ci-test.restore";
const BYHOST: &str = "com.macllm.ci-test.byhost";

const RESTORE_SPEC: &str = r#"macllm: 1
defaults:
  - domain: com.macllm.ci-test.restore
    key: keep
    value: changed
  - domain: com.macllm.ci-test.restore
    key: added
    value: 3
  - domain: com.macllm.ci-test.restore
    key: ratio
    value: 0.5
  - domain: com.macllm.ci-test.restore
    key: list
    value: [a, "b c"]
  - domain: com.macllm.ci-test.restore
    key: flag
    value: true
"#;

const RESTORE_PLAN: &str = r#"
macllm will perform the following actions on local:

  # defaults:com.macllm.ci-test.restore:added will be created
  + value = 3

  # defaults:com.macllm.ci-test.restore:flag will be created
  + value = true

  # defaults:com.macllm.ci-test.restore:keep will be updated in-place
  ~ value = "kept" -> "changed"

  # defaults:com.macllm.ci-test.restore:list will be created
  ~ value = <<-EOT
          + [
          +   "a",
          +   "b c",
          + ]
        EOT

  # defaults:com.macllm.ci-test.restore:ratio will be created
  + value = 0.5

Plan: 4 to add, 1 to change, 0 to destroy.
"#;

const RESTORE_DRIFT: &str = r#"
Note: Objects have changed outside of macllm

macllm detected the following changes made outside of macllm since the
last "macllm apply":

  # defaults:com.macllm.ci-test.restore:flag has changed
  - value = true -> null

  # defaults:com.macllm.ci-test.restore:ratio has changed
  ~ value = 0.5 -> 0.75
"#;

const NO_CHANGES: &str = "\nNo changes. The host matches the spec.\n";

fn exported_dict(mac: &Mac, domain: &str, current_host: bool) -> plist::Dictionary {
    let Export::Plist(xml) = mac.export(domain, current_host) else {
        panic!("{domain} (current_host: {current_host}) is absent");
    };
    plist::Value::from_reader_xml(xml.as_bytes())
        .unwrap()
        .into_dictionary()
        .unwrap()
}

#[test]
fn defaults_plan_apply_drift_destroy_and_the_domain_is_byte_identical_again() {
    let mac = Mac::new();
    mac.assert_untouched(&[RESTORE], &[], &[]);
    let _guard = mac.guard(&[RESTORE], &[], &[]);
    // Keys that were there before macllm: one it changes, one it never manages.
    mac.tool(&["defaults", "write", RESTORE, "keep", "-string", "kept"])
        .expect(0);
    mac.tool(&["defaults", "write", RESTORE, "untouched", "-int", "7"])
        .expect(0);
    let before = mac.export(RESTORE, false);
    assert!(matches!(before, Export::Plist(_)), "{before:?}");
    mac.spec(RESTORE_SPEC);

    let plan = mac.macllm(&["plan", "--detailed-exitcode"]).expect(2);
    assert_eq!(plan.stdout, RESTORE_PLAN);
    // The plan changed nothing.
    assert_eq!(mac.export(RESTORE, false), before);

    let apply = mac.macllm(&["apply", "--yes"]).expect(0);
    assert_eq!(
        apply.stdout,
        format!("{RESTORE_PLAN}\nApply complete! Resources: 4 added, 1 changed, 0 destroyed.\n")
    );
    for (key, shown) in [("keep", "changed\n"), ("added", "3\n"), ("flag", "1\n")] {
        let read = mac.tool(&["defaults", "read", RESTORE, key]).expect(0);
        assert_eq!(read.stdout, shown, "{key}");
    }
    let types = [
        ("keep", "string"),
        ("added", "integer"),
        ("ratio", "float"),
        ("list", "array"),
        ("flag", "boolean"),
        ("untouched", "integer"),
    ];
    for (key, kind) in types {
        let read = mac.tool(&["defaults", "read-type", RESTORE, key]).expect(0);
        assert_eq!(read.stdout, format!("Type is {kind}\n"), "{key}");
    }
    let applied = exported_dict(&mac, RESTORE, false);
    assert_eq!(applied.get("ratio"), Some(&plist::Value::Real(0.5)));
    assert_eq!(
        applied.get("list"),
        Some(&plist::Value::Array(vec!["a".into(), "b c".into()]))
    );
    assert_eq!(
        applied.get("untouched"),
        Some(&plist::Value::Integer(7.into()))
    );
    assert_eq!(applied.len(), 6, "{applied:?}");

    let again = mac.macllm(&["plan", "--detailed-exitcode"]).expect(0);
    assert_eq!(again.stdout, NO_CHANGES);
    mac.macllm(&["drift"]).expect(0);

    // Changes by hand: drift reports exactly the managed keys that moved.
    mac.tool(&["defaults", "write", RESTORE, "ratio", "-float", "0.75"])
        .expect(0);
    mac.tool(&["defaults", "delete", RESTORE, "flag"]).expect(0);
    mac.tool(&["defaults", "write", RESTORE, "untouched", "-int", "8"])
        .expect(0);
    let drift = mac.macllm(&["drift"]).expect(2);
    assert_eq!(drift.stdout, RESTORE_DRIFT);
    mac.tool(&["defaults", "write", RESTORE, "untouched", "-int", "7"])
        .expect(0);

    let destroy = mac.macllm(&["destroy", "--yes"]).expect(0);
    assert!(
        destroy
            .stdout
            .ends_with("\nPlan: 0 to add, 0 to change, 5 to destroy.\n\nDestroy complete! Resources: 5 destroyed.\n"),
        "{}",
        destroy.stdout
    );
    assert_eq!(mac.export(RESTORE, false), before);
    assert_eq!(mac.export(RESTORE, true), Export::Absent);
}

const BYHOST_SPEC: &str = r#"macllm: 1
defaults:
  - domain: com.macllm.ci-test.byhost
    key: mode
    current_host: true
    value: 2
  - domain: com.macllm.ci-test.byhost
    key: mode
    value: plain
"#;

const BYHOST_PLAN: &str = r#"
macllm will perform the following actions on local:

  # defaults:com.macllm.ci-test.byhost:mode will be created
  + value = "plain"

  # defaults:currentHost:com.macllm.ci-test.byhost:mode will be created
  + value = 2

Plan: 2 to add, 0 to change, 0 to destroy.
"#;

#[test]
fn current_host_defaults_are_their_own_domain_and_leave_nothing_behind() {
    let mac = Mac::new();
    mac.assert_untouched(&[BYHOST], &[], &[]);
    let _guard = mac.guard(&[BYHOST], &[], &[]);
    // What `defaults export` prints for an absent domain is UNCONFIRMED for real macOS
    // (reference/macos-commands.md 1.8); the workflow runs with --nocapture to record it.
    let absent = mac.tool(&["defaults", "export", BYHOST, "-"]);
    eprintln!("`defaults export {BYHOST} -` of an absent domain: {absent:?}");
    mac.spec(BYHOST_SPEC);

    let plan = mac.macllm(&["plan", "--detailed-exitcode"]).expect(2);
    assert_eq!(plan.stdout, BYHOST_PLAN);
    mac.macllm(&["apply", "--yes"]).expect(0);

    let by_host = mac
        .tool(&["defaults", "-currentHost", "read", BYHOST, "mode"])
        .expect(0);
    assert_eq!(by_host.stdout, "2\n");
    let plain = mac.tool(&["defaults", "read", BYHOST, "mode"]).expect(0);
    assert_eq!(plain.stdout, "plain\n");
    assert_eq!(exported_dict(&mac, BYHOST, true).len(), 1);
    assert_eq!(exported_dict(&mac, BYHOST, false).len(), 1);
    mac.macllm(&["plan", "--detailed-exitcode"]).expect(0);

    mac.tool(&[
        "defaults",
        "-currentHost",
        "write",
        BYHOST,
        "mode",
        "-int",
        "5",
    ])
    .expect(0);
    let drift = mac.macllm(&["drift"]).expect(2);
    assert!(
        drift.stdout.ends_with(
            "  # defaults:currentHost:com.macllm.ci-test.byhost:mode has changed\n  ~ value = 2 -> 5\n"
        ),
        "{}",
        drift.stdout
    );

    mac.macllm(&["destroy", "--yes"]).expect(0);
    assert_eq!(mac.export(BYHOST, true), Export::Absent);
    assert_eq!(mac.export(BYHOST, false), Export::Absent);
    // Nothing left to compare against: drift without applied resources is quiet.
    mac.macllm(&["drift"]).expect(0);
}
