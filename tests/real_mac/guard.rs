//! The guard itself: a test that fails after apply still leaves the Mac as it found it,
//! with and without a state for `destroy` to work from.

use crate::mac::{Export, Mac};
use std::panic::AssertUnwindSafe;

const DOMAIN: &str = "com.macllm.ci-test.guard";
const LABEL: &str = "com.macllm.ci-test.guard-agent";
const TOP: &str = "/tmp/macllm-ci-test.guard";

const SPEC: &str = r#"macllm: 1
defaults:
  - domain: com.macllm.ci-test.guard
    key: one
    value: 1
  - domain: com.macllm.ci-test.guard
    key: two
    current_host: true
    value: 2
agents:
  - label: com.macllm.ci-test.guard-agent
    program_arguments: [/usr/bin/true]
    keep_alive: false
spotlight:
  - path: /tmp/macllm-ci-test.guard/models
    indexed: false
"#;

/// Applies [`SPEC`] under a guard, loses the state when asked, then fails.
fn failing_test(mac: &Mac, lose_state: bool) {
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let _guard = mac.guard(&[DOMAIN], &[LABEL], &[TOP]);
        mac.tool(&["mkdir", "-p", "/tmp/macllm-ci-test.guard/models"])
            .expect(0);
        mac.spec(SPEC);
        let plan = mac.macllm(&["plan", "--detailed-exitcode"]).expect(2);
        assert!(
            plan.stdout
                .contains("\nPlan: 3 to add, 1 to change, 0 to destroy.\n"),
            "{}",
            plan.stdout
        );
        mac.macllm(&["apply", "--yes"]).expect(0);
        if lose_state {
            std::fs::remove_file(mac.state_file()).unwrap();
        }
        panic!(
            "a deliberate failure after apply: the guard must clean up (lose_state: {lose_state})"
        );
    }));
    assert!(outcome.is_err());
}

#[test]
fn the_guard_puts_the_mac_back_when_a_test_fails() {
    let mac = Mac::new();
    let service = format!("{}/{LABEL}", mac.launchd_domain());
    for lose_state in [false, true] {
        mac.assert_untouched(&[DOMAIN], &[LABEL], &[TOP]);
        failing_test(&mac, lose_state);
        assert_eq!(mac.export(DOMAIN, false), Export::Absent);
        assert_eq!(mac.export(DOMAIN, true), Export::Absent);
        assert!(!mac.exists(&mac.agent_plist(LABEL)));
        assert!(!mac.exists(TOP));
        assert!(
            mac.launchd_has(&service, false),
            "{service} is still loaded"
        );
    }
}
