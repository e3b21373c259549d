//! What macllm says and how much (issue 13): `-q` keeps the one closing line and the warnings
//! that ask for something; a notice (SIP, a folder that is moved) shows only in a plan that
//! changes what it is about; on a terminal an apply keeps `[N/M] ID` in a status line that
//! never reaches a pipe; a fleet is shown by inventory names with per-host counts.

use crate::harness::{
    BIN, Mac, QUIET_ACTIVATE_SETTINGS, QUIET_PLAN, QUIET_UI, TILESIZE_DRIFT, Test,
};
use std::process::{Command, Stdio};

#[test]
fn quiet_says_the_closing_line_and_the_warnings() {
    let mac = Mac::new();
    mac.spec(QUIET_UI);
    mac.on(&["-q", "plan"])
        .stdout("Plan: 6 to add, 4 to change, 0 to destroy.\n")
        .run();
    // Asked to approve, the user sees what they approve, `-q` or not.
    mac.on(&["-q", "apply"])
        .status(1)
        .stdout(&format!(
            "{QUIET_PLAN}\nDo you want to perform these actions?\n  macllm will perform the actions described above.\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: \n"
        ))
        .stderr("error: Apply cancelled.\n")
        .run();
    mac.on(&["-q", "apply", "--yes"])
        .stdout("Apply complete! Resources: 6 added, 4 changed, 0 destroyed.\n")
        .stderr(QUIET_ACTIVATE_SETTINGS)
        .run();
    mac.on(&["-q", "plan", "--detailed-exitcode"])
        .stdout("No changes. The host matches the spec.\n")
        .run();
    mac.on(&["-q", "apply", "--yes"])
        .stdout("No changes. The host matches the spec.\n")
        .run();
    mac.dock_by_hand();
    let drifted = "Drift: 1 resource changed outside of macllm since the last apply.\n";
    mac.on(&["-q", "drift"]).status(2).stdout(drifted).run();
    mac.on(&["-q", "plan", "--refresh-only", "--detailed-exitcode"])
        .status(2)
        .stdout(drifted)
        .run();
    // `--json` is the same document with `-q`.
    let json = mac.on(&["--json", "plan"]).stdout_of();
    mac.on(&["-q", "--json", "plan"])
        .stdout(&crate::harness::redact(&json, &mac.work, &[]))
        .run();
    mac.on(&["-q", "destroy", "--yes"])
        .stdout("Destroy complete! Resources: 10 destroyed.\n")
        .stderr("warning: ran `activateSettings -u`, but on macOS 14.5 it does not apply every setting: log out and back in for the removed keys to take effect\n")
        .run();
    mac.on(&["-q", "destroy", "--yes"])
        .stdout("No changes. Nothing macllm manages is left to restore.\n")
        .run();
}

/// A model that will not fit is a warning that asks for something: `-q` keeps it, and so
/// does a plan with nothing to do.
#[test]
fn quiet_keeps_a_model_that_does_not_fit() {
    let mac = Mac::with_preset("m1-8gb-monterey");
    mac.spec("macllm: 1\nollama:\n  pull: [llama3.1:8b]\n");
    let warning = "Warning: ollama_pull:llama3.1:8b needs about 5.8 GiB (weights 4.6 GiB + KV cache 0.5 GiB for num_ctx 4096 x 1 parallel at f16 + 0.8 GiB overhead) but this Mac lets the GPU use about 5.3 GiB of its 8.0 GiB; the model does not fit at any context";
    mac.on(&["-q", "plan"])
        .stdout(&format!(
            "Plan: 1 to add, 0 to change, 0 to destroy.\n{warning} (llama3.1:8b is not on the Mac yet: its size is from macllm's catalogue)\n"
        ))
        .run();
    // The pull's progress is not shown; the warning is.
    mac.on(&["-q", "apply", "--yes"])
        .stdout(&format!(
            "{warning} (llama3.1:8b is not on the Mac yet: its size is from macllm's catalogue)\nApply complete! Resources: 1 added, 0 changed, 0 destroyed.\n"
        ))
        .run();
    mac.on(&["-q", "plan"])
        .stdout(&format!(
            "No changes. The host matches the spec.\n{warning}\n"
        ))
        .run();
}

/// Notices are about a change: the SIP notice shows when the service changes, the folder's
/// when the folder does, and neither when only the Dock changes or nothing does.
#[test]
fn notices_show_when_what_they_are_about_changes() {
    let mac = Mac::new();
    mac.spec("macllm: 1\ndefaults:\n  - { domain: com.apple.dock, key: tilesize, value: 36 }\nservices:\n  - label: com.apple.photoanalysisd\n    enabled: false\nspotlight:\n  - path: ~/.ollama/models\n    indexed: false\n");
    mac.on(&["plan"])
        .stdout(&format!(
            r#"
macllm will perform the following actions on sandbox:mac:

{DOCK_CHANGE}
  # service:gui/com.apple.photoanalysisd will be updated in-place
  ~ value = "enabled (no override)" -> "disabled"

  # spotlight:~/.ollama/models will be updated in-place
  ~ value = true -> false
    # method: noindex (the folder becomes ~/.ollama/models.noindex with a symlink in its place; no root needed)

Plan: 0 to add, 3 to change, 0 to destroy.
After the changes: killall Dock.
{FOLDER_NOTICE}{SIP_NOTICE}"#
        ))
        .run();
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    mac.on(&["plan"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
    // Only the Dock changes: no notice is about it.
    mac.dock_by_hand();
    mac.on(&["plan"])
        .stdout(&format!(
            "{TILESIZE_DRIFT}{UNDO}
macllm will perform the following actions on sandbox:mac:

{DOCK_UNDO}
Plan: 0 to add, 1 to change, 0 to destroy.
After the changes: killall Dock.
"
        ))
        .run();
    // The service changes too: its notice is back, the folder's is not.
    mac.sh(&["launchctl", "enable", "gui/501/com.apple.photoanalysisd"])
        .run();
    mac.on(&["plan"])
        .stdout(&format!(
            r#"{TILESIZE_DRIFT}
  # service:gui/com.apple.photoanalysisd has changed
  ~ value = "disabled" -> "enabled"
{UNDO}
macllm will perform the following actions on sandbox:mac:

{DOCK_UNDO}
  # service:gui/com.apple.photoanalysisd will be updated in-place
  ~ value = "enabled" -> "disabled"

Plan: 0 to add, 2 to change, 0 to destroy.
After the changes: killall Dock.
{SIP_NOTICE}"#
        ))
        .run();
    // `-q` keeps the notice of what changes, and only the closing line of the plan.
    mac.on(&["-q", "plan"])
        .stdout(&format!(
            "Plan: 0 to add, 2 to change, 0 to destroy.\n{SIP_NOTICE}"
        ))
        .run();
}

const FOLDER_NOTICE: &str = "Warning: spotlight:~/.ollama/models: quit programs that use ~/.ollama/models (Ollama) before apply: the folder is moved\n";
const SIP_NOTICE: &str = "Warning: service:gui/com.apple.photoanalysisd: com.apple.photoanalysisd is protected by SIP and keeps running until the next login; the override stops it from loading after that\n";
const DOCK_CHANGE: &str = "  # defaults:com.apple.dock:tilesize will be updated in-place
  ~ value = 48 -> 36
    # then: killall Dock
";
const DOCK_UNDO: &str = "  # defaults:com.apple.dock:tilesize will be updated in-place
  ~ value = 64 -> 36
    # then: killall Dock
";
const UNDO: &str = "
Unless you have made equivalent changes to your spec, the following plan
may include actions to undo or respond to these changes.

─────────────────────────────────────────────────────────────────────────────
";

/// `script` (util-linux) runs macllm on a pseudo-terminal, whose output it copies: what a
/// user's terminal receives, with the terminal's `\r\n` for each newline.
fn on_a_terminal(mac: &Mac, args: &str) -> Test {
    // The command line is this test's own text; the binary's path reaches the shell as an
    // environment variable, not as part of the line.
    let mut command = Command::new("script");
    command
        .current_dir(&mac.work)
        .args(["-qec", &format!("exec \"$MACLLM_BIN\" {args}"), "/dev/null"])
        .env("MACLLM_BIN", BIN)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    Test::new(command, &mac.work)
}

/// What a terminal was sent, with the status line's controls made visible: `<CR>` for a
/// carriage return that is not part of a newline, `<EL>` for "erase in line".
fn visible(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "<CR>")
        .replace("\x1b[K", "<EL>")
}

#[test]
fn a_terminal_sees_which_change_of_how_many_runs() {
    let mac = Mac::new();
    mac.spec(QUIET_UI);
    let output = on_a_terminal(&mac, "--host sandbox:mac --no-color apply --yes")
        .stdout_any()
        .run();
    let shown = crate::harness::redact(&visible(&output.stdout), &mac.work, &[]);
    // The plan as a pipe gets it, then each change numbered in the status line while it
    // runs (a wave of nine writes at once, then its read-backs one by one); each line of
    // progress erases the status and draws it again below; the status is erased before the
    // closing line.
    assert_eq!(shown, format!("{QUIET_PLAN}{TERMINAL_APPLY}"));
}

/// A pull's bar runs in the status line beside the step's number, and each layer's bar that
/// completes stays as a line of its own.
#[test]
fn a_terminal_sees_a_pull_in_the_status_line() {
    let mac = Mac::new();
    mac.spec("macllm: 1\nollama:\n  pull: [llama3.1:8b]\n");
    let output = on_a_terminal(&mac, "--host sandbox:mac --no-color apply --yes")
        .stdout_any()
        .run();
    let shown = crate::harness::redact(&visible(&output.stdout), &mac.work, &[]);
    assert_eq!(shown, TERMINAL_PULL);
}

const TERMINAL_PULL: &str = r#"
macllm will perform the following actions on sandbox:mac:

  # ollama_pull:llama3.1:8b will be created
  + value = true

Plan: 1 to add, 0 to change, 0 to destroy.
<CR><EL>[1/1] ollama_pull:llama3.1:8b<CR><EL>ollama_pull:llama3.1:8b: Creating...
<CR><EL>[1/1] ollama_pull:llama3.1:8b<CR><EL>llama3.1:8b: pulling manifest
<CR><EL>[1/1] ollama_pull:llama3.1:8b<CR><EL>[1/1] llama3.1:8b: pulling c4c6b623ed66 [                    ]   0% of 4.9 GB<CR><EL>[1/1] llama3.1:8b: pulling c4c6b623ed66 [##                  ]  11% of 4.9 GB<CR><EL>[1/1] llama3.1:8b: pulling c4c6b623ed66 [#######             ]  36% of 4.9 GB<CR><EL>[1/1] llama3.1:8b: pulling c4c6b623ed66 [############        ]  60% of 4.9 GB<CR><EL>[1/1] llama3.1:8b: pulling c4c6b623ed66 [#################   ]  85% of 4.9 GB<CR><EL>llama3.1:8b: pulling c4c6b623ed66 [####################] 100% of 4.9 GB
<CR><EL>[1/1] ollama_pull:llama3.1:8b<CR><EL>[1/1] llama3.1:8b: pulling 303354fa37c3 [                    ]   0% of 0.0 GB<CR><EL>llama3.1:8b: pulling 303354fa37c3 [####################] 100% of 0.0 GB
<CR><EL>[1/1] ollama_pull:llama3.1:8b<CR><EL>[1/1] llama3.1:8b: pulling 094a3f8c4d9f [                    ]   0% of 0.0 GB<CR><EL>llama3.1:8b: pulling 094a3f8c4d9f [####################] 100% of 0.0 GB
<CR><EL>[1/1] ollama_pull:llama3.1:8b<CR><EL>llama3.1:8b: pulling 56bb8bd477a5 [####################] 100% of 0.0 GB
<CR><EL>[1/1] ollama_pull:llama3.1:8b<CR><EL>[1/1] llama3.1:8b: pulling 6d03a7af78e0 [                    ]   0% of 0.0 GB<CR><EL>llama3.1:8b: pulling 6d03a7af78e0 [####################] 100% of 0.0 GB
<CR><EL>[1/1] ollama_pull:llama3.1:8b<CR><EL>llama3.1:8b: verifying sha256 digest
<CR><EL>[1/1] ollama_pull:llama3.1:8b<CR><EL>llama3.1:8b: writing manifest
<CR><EL>[1/1] ollama_pull:llama3.1:8b<CR><EL>llama3.1:8b: success
<CR><EL>[1/1] ollama_pull:llama3.1:8b<CR><EL>ollama_pull:llama3.1:8b: Creation complete after [DURATION]
<CR><EL>[1/1] ollama_pull:llama3.1:8b<CR><EL>
Apply complete! Resources: 1 added, 0 changed, 0 destroyed.
"#;

const TERMINAL_APPLY: &str = r#"<CR><EL>[1/10] defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled and 8 more<CR><EL>[1/10] defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled<CR><EL>defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled: Creating...
<CR><EL>[1/10] defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled<CR><EL>defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled: Creation complete after [DURATION]
<CR><EL>[1/10] defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled<CR><EL>[2/10] defaults:NSGlobalDomain:NSWindowResizeTime<CR><EL>defaults:NSGlobalDomain:NSWindowResizeTime: Creating...
<CR><EL>[2/10] defaults:NSGlobalDomain:NSWindowResizeTime<CR><EL>defaults:NSGlobalDomain:NSWindowResizeTime: Creation complete after [DURATION]
<CR><EL>[2/10] defaults:NSGlobalDomain:NSWindowResizeTime<CR><EL>[3/10] defaults:com.apple.dock:autohide<CR><EL>defaults:com.apple.dock:autohide: Modifying...
<CR><EL>[3/10] defaults:com.apple.dock:autohide<CR><EL>defaults:com.apple.dock:autohide: Modifications complete after [DURATION]
<CR><EL>[3/10] defaults:com.apple.dock:autohide<CR><EL>[4/10] defaults:com.apple.dock:autohide-delay<CR><EL>defaults:com.apple.dock:autohide-delay: Creating...
<CR><EL>[4/10] defaults:com.apple.dock:autohide-delay<CR><EL>defaults:com.apple.dock:autohide-delay: Creation complete after [DURATION]
<CR><EL>[4/10] defaults:com.apple.dock:autohide-delay<CR><EL>[5/10] defaults:com.apple.dock:autohide-time-modifier<CR><EL>defaults:com.apple.dock:autohide-time-modifier: Creating...
<CR><EL>[5/10] defaults:com.apple.dock:autohide-time-modifier<CR><EL>defaults:com.apple.dock:autohide-time-modifier: Creation complete after [DURATION]
<CR><EL>[5/10] defaults:com.apple.dock:autohide-time-modifier<CR><EL>[6/10] defaults:com.apple.dock:launchanim<CR><EL>defaults:com.apple.dock:launchanim: Creating...
<CR><EL>[6/10] defaults:com.apple.dock:launchanim<CR><EL>defaults:com.apple.dock:launchanim: Creation complete after [DURATION]
<CR><EL>[6/10] defaults:com.apple.dock:launchanim<CR><EL>[7/10] defaults:com.apple.dock:mineffect<CR><EL>defaults:com.apple.dock:mineffect: Modifying...
<CR><EL>[7/10] defaults:com.apple.dock:mineffect<CR><EL>defaults:com.apple.dock:mineffect: Modifications complete after [DURATION]
<CR><EL>[7/10] defaults:com.apple.dock:mineffect<CR><EL>[8/10] defaults:com.apple.dock:show-recents<CR><EL>defaults:com.apple.dock:show-recents: Modifying...
<CR><EL>[8/10] defaults:com.apple.dock:show-recents<CR><EL>defaults:com.apple.dock:show-recents: Modifications complete after [DURATION]
<CR><EL>[8/10] defaults:com.apple.dock:show-recents<CR><EL>[9/10] defaults:com.apple.dock:tilesize<CR><EL>defaults:com.apple.dock:tilesize: Modifying...
<CR><EL>[9/10] defaults:com.apple.dock:tilesize<CR><EL>defaults:com.apple.dock:tilesize: Modifications complete after [DURATION]
<CR><EL>[9/10] defaults:com.apple.dock:tilesize<CR><EL>Restarted: killall Dock
<CR><EL>[9/10] defaults:com.apple.dock:tilesize<CR><EL>[10/10] defaults:com.apple.finder:DisableAllAnimations<CR><EL>defaults:com.apple.finder:DisableAllAnimations: Creating...
<CR><EL>[10/10] defaults:com.apple.finder:DisableAllAnimations<CR><EL>defaults:com.apple.finder:DisableAllAnimations: Creation complete after [DURATION]
<CR><EL>[10/10] defaults:com.apple.finder:DisableAllAnimations<CR><EL>Restarted: killall Finder
<CR><EL>[10/10] defaults:com.apple.finder:DisableAllAnimations<CR><EL>warning: ran `activateSettings -u`, but on macOS 14.5 it does not apply every setting: log out and back in for defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled, defaults:NSGlobalDomain:NSWindowResizeTime to take effect
<CR><EL>[10/10] defaults:com.apple.finder:DisableAllAnimations<CR><EL>
Apply complete! Resources: 6 added, 4 changed, 0 destroyed.
"#;

#[test]
fn a_fleet_is_shown_by_inventory_name_with_counts() {
    let mac = Mac::new();
    mac.init("mac2", "m1-8gb-monterey");
    std::fs::write(
        mac.work.join("fleet.yaml"),
        "hosts:\n  mini-1:\n    host: sandbox:mac\n  air-2:\n    host: sandbox:mac2\n",
    )
    .unwrap();
    mac.spec(QUIET_UI);
    let fleet = |args: &[&str]| {
        let mut all = vec!["--inventory", "fleet.yaml"];
        all.extend_from_slice(args);
        mac.macllm(&all)
    };
    // The fleet benchmark's command: each host's closing line under its name.
    fleet(&["-q", "apply", "--yes"])
        .stdout(&format!(
            "
=== air-2 ===
Apply complete! Resources: 6 added, 4 changed, 0 destroyed.

=== mini-1 ===
{QUIET_ACTIVATE_SETTINGS}Apply complete! Resources: 6 added, 4 changed, 0 destroyed.

=== summary ===
  air-2: ok, 6 added, 4 changed
  mini-1: ok, 6 added, 4 changed
2 hosts: 2 ok, 0 failed.
"
        ))
        .run();
    mac.dock_by_hand();
    fleet(&["drift"])
        .status(2)
        .stdout(
            r#"
=== air-2 ===

No drift. sandbox:mac2 still matches what the last apply left (10 resources checked).

=== mini-1 ===

Note: Objects have changed outside of macllm

macllm detected the following changes made outside of macllm since the
last "macllm apply":

  # defaults:com.apple.dock:tilesize has changed
  ~ value = 36 -> 64

=== summary ===
  air-2: ok, no drift
  mini-1: ok, 1 drifted (2)
2 hosts: 2 ok, 0 failed, 1 with changes or drift.
"#,
        )
        .run();
    fleet(&["-q", "plan"])
        .stdout(
            "
=== air-2 ===
No changes. The host matches the spec.

=== mini-1 ===
Plan: 0 to add, 1 to change, 0 to destroy.

=== summary ===
  air-2: ok, no changes
  mini-1: ok, 1 to change
2 hosts: 2 ok, 0 failed.
",
        )
        .run();
    // `--json`: each host's counts beside its name, address and document.
    let json = fleet(&["--json", "plan"]).stdout_of();
    let document: serde_json::Value = serde_json::from_str(&json).unwrap();
    let summary: Vec<serde_json::Value> = document["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| serde_json::json!([h["name"], h["host"], h["exit_code"], h["counts"]]))
        .collect();
    assert_eq!(
        serde_json::Value::Array(summary),
        serde_json::json!([
            ["air-2", "sandbox:mac2", 0, {"add": 0, "change": 0, "destroy": 0}],
            ["mini-1", "sandbox:mac", 0, {"add": 0, "change": 1, "destroy": 0}],
        ])
    );
    fleet(&["-q", "destroy", "--yes"])
        .stdout(
            "
=== air-2 ===
Destroy complete! Resources: 10 destroyed.

=== mini-1 ===
warning: ran `activateSettings -u`, but on macOS 14.5 it does not apply every setting: log out and back in for the removed keys to take effect
Destroy complete! Resources: 10 destroyed.

=== summary ===
  air-2: ok, 10 destroyed
  mini-1: ok, 10 destroyed
2 hosts: 2 ok, 0 failed.
",
        )
        .run();
}
