//! Issue 13, a new user's first hour: a misspelt `--host sandbox:DIR`, `--json` for every
//! command that prints data, `export mobileconfig --host`, `bench`'s first load, and sizing a
//! model that is not on the Mac yet.

use crate::harness::{Mac, QUIET_UI};

const NOT_A_MAC: &str = "error: mca is not an emulated Mac (it has no machine.json)
hint: create one with `macllm sandbox init mca`, or let `macllm --host sandbox:mca apply` create it
";

/// Failed before: every one of these made a fresh Mac in `mca` and reported on it (a plan of
/// a stock Mac, "no state", the preset's facts) as if it were the Mac the user meant.
#[test]
fn a_misspelt_sandbox_is_not_created_by_a_command_that_only_reads() {
    let mac = Mac::new();
    mac.spec(QUIET_UI);
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    mac.on(&["plan", "--out", "saved.plan"]).stdout_any().run();
    let commands: [&[&str]; 9] = [
        &["plan"],
        &["plan", "--refresh-only"],
        &["drift"],
        &["facts"],
        &["state", "list"],
        &["recommend"],
        &["bench", "llama3.2:3b"],
        &["destroy", "--yes"],
        &["apply", "saved.plan"],
    ];
    for command in commands {
        let mut args = vec!["--host", "sandbox:mca"];
        args.extend_from_slice(command);
        mac.macllm(&args).status(1).stderr(NOT_A_MAC).run();
        assert!(!mac.work.join("mca").exists(), "{command:?} made a Mac");
        assert!(!mac.work.join("state/sandbox-mca.json").exists());
    }
    // In a fleet the misspelt host fails on its own; the others still run.
    mac.macllm(&["--host", "sandbox:mac", "--host", "sandbox:mca", "drift"])
        .status(1)
        .stdout(
            "
=== sandbox:mac ===

No drift. sandbox:mac still matches what the last apply left (10 resources checked).

=== sandbox:mca ===
error: mca is not an emulated Mac (it has no machine.json)
hint: create one with `macllm sandbox init mca`, or let `macllm --host sandbox:mca apply` create it

=== summary ===
  sandbox:mac: ok
  sandbox:mca: failed: mca is not an emulated Mac (it has no machine.json)
2 hosts: 1 ok, 1 failed.
",
        )
        .run();
    assert!(!mac.work.join("mca").exists());
}

/// `apply` of a spec still makes a Mac on first use (README's set-up), but only in a folder
/// that does not exist or is empty: a typo for a folder that holds other files is refused.
#[test]
fn apply_makes_a_sandbox_only_in_a_new_or_empty_folder() {
    let mac = Mac::new();
    mac.spec("macllm: 1\ndefaults:\n  - {domain: com.apple.dock, key: tilesize, value: 36}\n");
    std::fs::create_dir(mac.work.join("notes")).unwrap();
    std::fs::write(mac.work.join("notes/todo.txt"), "buy milk\n").unwrap();
    mac.macllm(&["--host", "sandbox:notes", "apply", "--yes"])
        .status(1)
        .stderr("error: notes is not an emulated Mac (it has no machine.json) and is not empty, so macllm will not make one there
hint: name a folder that holds an emulated Mac, or one that does not exist yet
")
        .run();
    let names: Vec<_> = std::fs::read_dir(mac.work.join("notes"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["todo.txt"]);
    std::fs::create_dir(mac.work.join("empty")).unwrap();
    mac.macllm(&["--host", "sandbox:empty", "apply", "--yes"])
        .stdout(
            "
macllm will perform the following actions on sandbox:empty:

  # defaults:com.apple.dock:tilesize will be updated in-place
  ~ value = 48 -> 36
    # then: killall Dock

Plan: 0 to add, 1 to change, 0 to destroy.
After the changes: killall Dock.

Apply complete! Resources: 0 added, 1 changed, 0 destroyed.
",
        )
        .stderr("Created an emulated Mac (Mac mini, Apple M2, 16 GB, 4P+4E cores, 10-core GPU, macOS 14.5) in empty
defaults:com.apple.dock:tilesize: Modifying...
defaults:com.apple.dock:tilesize: Modifications complete after [DURATION]
Restarted: killall Dock
")
        .run();
    mac.macllm(&["--host", "sandbox:empty", "plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
}
