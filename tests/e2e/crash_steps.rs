//! A crash between the two steps of the Spotlight folder change (the rename to `X.noindex`,
//! then the symlink at `X`): the next apply finishes it, and destroy puts the folder back or
//! fails naming it, never reporting a restore it did not do.

use crate::harness::*;
use std::collections::BTreeMap;
use std::path::PathBuf;

const SPEC: &str = "macllm: 1\nspotlight:\n  - path: ~/.ollama/models\n    indexed: false\n";
const MODELS: &str = "/Users/admin/.ollama/models";
const HIDDEN: &str = "/Users/admin/.ollama/models.noindex";

const WARNING: &str = "Warning: spotlight:~/.ollama/models: quit programs that use ~/.ollama/models (Ollama) before apply: the folder is moved
";
const METHOD: &str = "    # method: noindex (the folder becomes ~/.ollama/models.noindex with a symlink in its place; no root needed)
";

/// The files under `~/.ollama` with their bytes.
fn ollama_files(mac: &Mac) -> BTreeMap<PathBuf, Vec<u8>> {
    mac.snapshot()
        .into_iter()
        .filter(|(path, _)| path.starts_with("Users/admin/.ollama"))
        .collect()
}

/// A Mac with a model folder holding one blob, whose apply stopped after the rename: the
/// symlink step (`ln -s`) fails. Returns it with its `~/.ollama` files from before.
fn stranded() -> (Mac, BTreeMap<PathBuf, Vec<u8>>) {
    let mac = Mac::new();
    mac.spec(SPEC);
    mac.sh(&["mkdir", "-p", &format!("{MODELS}/blobs")]).run();
    std::fs::write(
        mac.dir.join("Users/admin/.ollama/models/blobs/sha256-x"),
        b"weights\x00\x01",
    )
    .unwrap();
    let before = ollama_files(&mac);
    assert!(!before.is_empty());
    std::fs::write(mac.dir.join(FAIL_FILE), "ln -s").unwrap();
    mac.on(&["apply", "--yes"])
        .status(1)
        .stdout(&[
            "
macllm will perform the following actions on sandbox:mac:

  # spotlight:~/.ollama/models will be updated in-place
  ~ value = true -> false
", METHOD, "
Plan: 0 to add, 1 to change, 0 to destroy.
", WARNING,
        ].concat())
        .stderr("spotlight:~/.ollama/models: Modifying...
error: applying spotlight:~/.ollama/models: `ln -s /Users/admin/.ollama/models.noindex /Users/admin/.ollama/models` exited with status 1: ln: injected failure (sandbox test hook MACLLM_SANDBOX_FAIL)
")
        .run();
    std::fs::remove_file(mac.dir.join(FAIL_FILE)).unwrap();
    // The stranded state: the folder moved, nothing in its place.
    mac.sh(&["test", "-e", MODELS]).status(1).run();
    mac.sh(&["test", "-L", MODELS]).status(1).run();
    mac.sh(&["test", "-f", &format!("{HIDDEN}/blobs/sha256-x")])
        .run();
    (mac, before)
}

/// The plan of an apply that would finish a half-done move.
fn finish_plan() -> String {
    [
        "
macllm will perform the following actions on sandbox:mac:

  # spotlight:~/.ollama/models will be updated in-place
  ~ value = \"half-moved: renamed to .noindex, no symlink\" (string) -> false (boolean)
",
        METHOD,
        "
Plan: 0 to add, 1 to change, 0 to destroy.
",
        WARNING,
    ]
    .concat()
}

#[test]
fn the_next_apply_finishes_a_half_moved_folder() {
    let (mac, _) = stranded();
    mac.on(&["apply", "--yes"])
        .stdout(
            &[
                &finish_plan(),
                "
Apply complete! Resources: 0 added, 1 changed, 0 destroyed.
",
            ]
            .concat(),
        )
        .stderr(
            "spotlight:~/.ollama/models: Modifying...
spotlight:~/.ollama/models: Modifications complete after [DURATION]
",
        )
        .run();
    mac.sh(&["readlink", MODELS])
        .stdout(&format!("{HIDDEN}\n"))
        .run();
    mac.sh(&["test", "-f", &format!("{MODELS}/blobs/sha256-x")])
        .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout(
            "
No changes. The host matches the spec.
",
        )
        .run();
}

#[test]
fn destroy_moves_a_half_moved_folder_back() {
    let (mac, before) = stranded();
    mac.on(&["destroy", "--yes"])
        .stdout(
            &[
                "
macllm will perform the following actions on sandbox:mac:

  # spotlight:~/.ollama/models will be restored to its original value
  ~ value = \"half-moved: renamed to .noindex, no symlink\" (string) -> true (boolean)
",
                METHOD,
                "
Plan: 0 to add, 0 to change, 1 to destroy.

Destroy complete! Resources: 1 destroyed.
",
            ]
            .concat(),
        )
        .stderr(
            "spotlight:~/.ollama/models: Restoring...
spotlight:~/.ollama/models: Restore complete after [DURATION]
",
        )
        .run();
    mac.sh(&["test", "-L", MODELS]).status(1).run();
    mac.sh(&["test", "-d", MODELS]).run();
    mac.sh(&["test", "-e", HIDDEN]).status(1).run();
    assert_eq!(ollama_files(&mac), before);
    assert_eq!(mac.state()["resources"], serde_json::json!({}));
}

#[test]
fn destroy_that_cannot_move_the_folder_back_fails_and_keeps_the_record() {
    let (mac, _) = stranded();
    // Something made a new, empty folder under the old name.
    mac.sh(&["mkdir", "-p", MODELS]).run();
    let failed = || {
        mac.on(&["destroy", "--yes"])
            .status(1)
            .stdout(&[
                "
macllm will perform the following actions on sandbox:mac:

  # spotlight:~/.ollama/models will be restored to its original value
  ~ value = \"both the folder and its .noindex exist\" (string) -> true (boolean)
", METHOD, "
Plan: 0 to add, 0 to change, 1 to destroy.
",
            ].concat())
            .stderr("spotlight:~/.ollama/models: Restoring...
error: applying spotlight:~/.ollama/models: cannot restore /Users/admin/.ollama/models: both /Users/admin/.ollama/models and /Users/admin/.ollama/models.noindex exist, so /Users/admin/.ollama/models.noindex cannot be moved back
hint: merge them by hand into /Users/admin/.ollama/models and remove /Users/admin/.ollama/models.noindex
")
            .run();
    };
    failed();
    mac.sh(&["test", "-f", &format!("{HIDDEN}/blobs/sha256-x")])
        .run();
    assert!(
        mac.state()["resources"]
            .get("spotlight:~/.ollama/models")
            .is_some()
    );
    // Still refused, not forgotten, on a second try.
    failed();
}

#[test]
fn a_destroy_stopped_between_its_two_steps_is_finished_by_the_next() {
    let (mac, before) = stranded();
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    // The restore removes the symlink, then fails to move the folder back.
    std::fs::write(mac.dir.join(FAIL_FILE), "mv").unwrap();
    mac.on(&["destroy", "--yes"])
        .status(1)
        .stdout(&[
            "
macllm will perform the following actions on sandbox:mac:

  # spotlight:~/.ollama/models will be restored to its original value
  ~ value = false -> true
", METHOD, "
Plan: 0 to add, 0 to change, 1 to destroy.
",
        ].concat())
        .stderr("spotlight:~/.ollama/models: Restoring...
error: applying spotlight:~/.ollama/models: `mv /Users/admin/.ollama/models.noindex /Users/admin/.ollama/models` exited with status 1: mv: injected failure (sandbox test hook MACLLM_SANDBOX_FAIL)
")
        .run();
    std::fs::remove_file(mac.dir.join(FAIL_FILE)).unwrap();
    mac.sh(&["test", "-e", MODELS]).status(1).run();
    mac.on(&["destroy", "--yes"])
        .stdout(
            &[
                "
Note: Objects have changed outside of macllm

macllm detected the following changes made outside of macllm since the
last \"macllm apply\":

  # spotlight:~/.ollama/models has changed
  ~ value = false (boolean) -> \"half-moved: renamed to .noindex, no symlink\" (string)

Unless you have made equivalent changes to your spec, the following plan
may include actions to undo or respond to these changes.

─────────────────────────────────────────────────────────────────────────────

macllm will perform the following actions on sandbox:mac:

  # spotlight:~/.ollama/models will be restored to its original value
  ~ value = \"half-moved: renamed to .noindex, no symlink\" (string) -> true (boolean)
",
                METHOD,
                "
Plan: 0 to add, 0 to change, 1 to destroy.

Destroy complete! Resources: 1 destroyed.
",
            ]
            .concat(),
        )
        .stderr(
            "spotlight:~/.ollama/models: Restoring...
spotlight:~/.ollama/models: Restore complete after [DURATION]
",
        )
        .run();
    assert_eq!(ollama_files(&mac), before);
    assert_eq!(mac.state()["resources"], serde_json::json!({}));
}

#[test]
fn destroy_fails_when_the_moved_folder_is_gone() {
    let (mac, _) = stranded();
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    mac.sh(&["rm", "-rf", HIDDEN]).run();
    mac.on(&["destroy", "--yes"])
        .status(1)
        .stdout(&[
            "
macllm will perform the following actions on sandbox:mac:

  # spotlight:~/.ollama/models will be restored to its original value
  ~ value = false -> true
", METHOD, "
Plan: 0 to add, 0 to change, 1 to destroy.
",
        ].concat())
        .stderr("spotlight:~/.ollama/models: Restoring...
error: applying spotlight:~/.ollama/models: cannot restore /Users/admin/.ollama/models: it is a symlink but /Users/admin/.ollama/models.noindex is not a folder to move back
hint: put the folder back at /Users/admin/.ollama/models by hand
")
        .run();
    mac.sh(&["test", "-L", MODELS]).run();
    assert!(
        mac.state()["resources"]
            .get("spotlight:~/.ollama/models")
            .is_some()
    );
}

#[test]
fn a_noindex_folder_that_macllm_did_not_move_is_refused_not_linked() {
    let mac = Mac::new();
    mac.spec(SPEC);
    // Someone renamed the folder before macllm ever ran: it looks like a half-done move.
    mac.sh(&["mkdir", "-p", &format!("{MODELS}/blobs")]).run();
    mac.sh(&["mv", MODELS, HIDDEN]).run();
    let before = ollama_files(&mac);
    mac.on(&["apply", "--yes"])
        .status(1)
        .stdout(&finish_plan())
        .stderr("error: applying spotlight:~/.ollama/models: /Users/admin/.ollama/models.noindex exists and /Users/admin/.ollama/models does not, but macllm did not move it there (the state has no record of spotlight:~/.ollama/models): it will not link a folder it did not move
hint: if the folder belongs at /Users/admin/.ollama/models, move it back by hand (`mv /Users/admin/.ollama/models.noindex /Users/admin/.ollama/models`) and apply again
")
        .run();
    mac.sh(&["test", "-e", MODELS]).status(1).run();
    assert_eq!(ollama_files(&mac), before);
    assert!(!mac.state_path().exists(), "nothing recorded");
}
