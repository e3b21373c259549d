//! Spotlight kept off a folder under `/tmp` by the `.noindex` method: the folder moved to
//! `NAME.noindex` with a symlink in its place, its content reachable through the link, and
//! back as a plain folder after destroy.

use crate::mac::Mac;

const TOP: &str = "/tmp/macllm-ci-test.spotlight";
const FOLDER: &str = "/tmp/macllm-ci-test.spotlight/models";
const HIDDEN: &str = "/tmp/macllm-ci-test.spotlight/models.noindex";
const FILE: &str = "/tmp/macllm-ci-test.spotlight/models/weights.bin";

const SPEC: &str = r#"macllm: 1
spotlight:
  - path: /tmp/macllm-ci-test.spotlight/models
    indexed: false
"#;

const PLAN: &str = r#"
macllm will perform the following actions on local:

  # spotlight:/tmp/macllm-ci-test.spotlight/models will be updated in-place
  ~ value = true -> false
    # method: noindex (the folder becomes /tmp/macllm-ci-test.spotlight/models.noindex with a symlink in its place; no root needed)

Plan: 0 to add, 1 to change, 0 to destroy.
Warning: spotlight:/tmp/macllm-ci-test.spotlight/models: quit programs that use /tmp/macllm-ci-test.spotlight/models (Ollama) before apply: the folder is moved
"#;

#[test]
fn a_folder_leaves_spotlight_by_its_noindex_name_and_comes_back() {
    let mac = Mac::new();
    mac.assert_untouched(&[], &[], &[TOP]);
    let _guard = mac.guard(&[], &[], &[TOP]);
    mac.tool(&["mkdir", "-p", FOLDER]).expect(0);
    let mut tee = mac.bash("printf 'weights\\n' | tee \"$1\"", &[FILE]);
    tee = tee.expect(0);
    assert_eq!(tee.stdout, "weights\n");
    mac.spec(SPEC);

    let plan = mac.macllm(&["plan", "--detailed-exitcode"]).expect(2);
    assert_eq!(plan.stdout, PLAN);
    assert!(mac.tool(&["test", "-d", FOLDER]).success());
    assert!(!mac.tool(&["test", "-L", FOLDER]).success());

    let apply = mac.macllm(&["apply", "--yes"]).expect(0);
    assert!(
        apply
            .stdout
            .ends_with("\nApply complete! Resources: 0 added, 1 changed, 0 destroyed.\n"),
        "{}",
        apply.stdout
    );
    assert_eq!(
        mac.tool(&["readlink", FOLDER]).expect(0).stdout,
        format!("{HIDDEN}\n")
    );
    assert!(mac.tool(&["test", "-d", HIDDEN]).success());
    assert_eq!(mac.tool(&["cat", FILE]).expect(0).stdout, "weights\n");
    let again = mac.macllm(&["plan", "--detailed-exitcode"]).expect(0);
    assert!(
        again
            .stdout
            .starts_with("\nNo changes. The host matches the spec.\n"),
        "{}",
        again.stdout
    );

    mac.macllm(&["destroy", "--yes"]).expect(0);
    assert!(!mac.tool(&["test", "-L", FOLDER]).success());
    assert!(mac.tool(&["test", "-d", FOLDER]).success());
    assert!(!mac.exists(HIDDEN));
    assert_eq!(mac.tool(&["cat", FILE]).expect(0).stdout, "weights\n");
}
