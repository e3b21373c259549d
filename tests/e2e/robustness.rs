//! Crashes, failures, concurrent writers, corrupt state and hostile values.

use crate::harness::{ENV_DELAY_MS, ENV_FAIL, Mac, QUIET_APPLY_PROGRESS, QUIET_PLAN, QUIET_UI};
use std::time::{Duration, Instant};

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Resources the state records, applied or in flight (their originals saved first).
fn recorded_count(mac: &Mac) -> usize {
    std::fs::read_to_string(mac.state_path())
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|state| state["resources"].as_object().map(|r| r.len()))
        .unwrap_or(0)
}

#[test]
fn a_killed_apply_leaves_a_valid_state_and_the_next_apply_converges() {
    let mac = Mac::new();
    mac.spec(QUIET_UI);
    let before_dock = mac.export("com.apple.dock");
    let child = mac.spawn_on(&["apply", "--yes"], &[(ENV_DELAY_MS, "150")]);
    // The first wave (the nine keys Finder's waits for) records its originals, then writes
    // them slowly: the kill lands among its writes.
    wait_for("the first wave's originals", || recorded_count(&mac) >= 9);
    child.kill();

    // The state on disk is whole and readable, with the originals of what was touched.
    let state = mac.state();
    let resources = state["resources"].as_object().unwrap();
    assert!(
        resources.len() < 10,
        "killed before the end: {}",
        resources.len()
    );
    assert!(state["serial"].as_u64().unwrap() >= 1);
    // Where the kill landed varies, so what is left to list and to plan does too.
    let list = mac.on(&["state", "list"]).stdout_of();
    let ids: Vec<&str> = resources.keys().map(String::as_str).collect();
    assert_eq!(
        list,
        ids.iter().map(|id| format!("{id}\n")).collect::<String>()
    );
    let plan = mac
        .on(&["plan", "--detailed-exitcode"])
        .status(2)
        .stdout_of();
    assert!(
        !plan.contains("has changed"),
        "an interrupted apply is not drift: {plan}"
    );
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
    // Originals recorded before the kill survive: destroy puts the Dock back exactly.
    mac.on(&["destroy", "--yes"])
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # defaults:com.apple.finder:DisableAllAnimations will be deleted (it was absent before macllm)
  - value = true -> null
    # then: killall Finder

  # defaults:com.apple.dock:tilesize will be restored to its original value
  ~ value = 36 -> 48
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
"#).stderr("defaults:com.apple.finder:DisableAllAnimations: Restoring...
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
",
        )
        .run();
    assert_eq!(before_dock, mac.export("com.apple.dock"));
}

#[test]
fn a_second_apply_is_refused_by_the_lock() {
    let mac = Mac::new();
    mac.spec(QUIET_UI);
    let first = mac.spawn_on(&["apply", "--yes"], &[(ENV_DELAY_MS, "200")]);
    wait_for("the first apply to start writing", || {
        recorded_count(&mac) >= 1
    });
    mac.on(&["apply", "--yes"])
        .redact(format!("pid {}", first.pid()), "pid [FIRST]")
        .status(1)
        .stderr(
            "error: the state state/sandbox-mac.json is locked by pid [FIRST], `macllm apply`, since [TIME]
hint: wait for that command to finish; the lock goes away with its process
",
        )
        .run();
    first
        .stdout(&format!(
            "{QUIET_PLAN}\nApply complete! Resources: 6 added, 4 changed, 0 destroyed.\n"
        ))
        .stderr(QUIET_APPLY_PROGRESS)
        .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
}

#[test]
fn a_failing_write_stops_the_walk_and_the_rerun_converges() {
    let mac = Mac::new();
    mac.spec(QUIET_UI);
    mac.on(&["apply", "--yes"])
        .env(ENV_FAIL, "defaults write com.apple.dock mineffect")
        .status(1)
        .stdout(QUIET_PLAN)
        .stderr(
            "defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled: Creating...
defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled: Creation complete after [DURATION]
defaults:NSGlobalDomain:NSWindowResizeTime: Creating...
defaults:NSGlobalDomain:NSWindowResizeTime: Creation complete after [DURATION]
defaults:com.apple.dock:autohide: Modifying...
defaults:com.apple.dock:autohide: Modifications complete after [DURATION]
defaults:com.apple.dock:autohide-delay: Creating...
defaults:com.apple.dock:autohide-delay: Creation complete after [DURATION]
defaults:com.apple.dock:autohide-time-modifier: Creating...
defaults:com.apple.dock:autohide-time-modifier: Creation complete after [DURATION]
defaults:com.apple.dock:launchanim: Creating...
defaults:com.apple.dock:launchanim: Creation complete after [DURATION]
defaults:com.apple.dock:mineffect: Modifying...
Restarted: killall Dock
warning: ran `activateSettings -u`, but on macOS 14.5 it does not apply every setting: log out and back in for defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled, defaults:NSGlobalDomain:NSWindowResizeTime to take effect
error: applying defaults:com.apple.dock:mineffect: `defaults write com.apple.dock mineffect -string scale` exited with status 1: defaults: injected failure (sandbox test hook MACLLM_SANDBOX_FAIL)
",
        )
        .run();
    let state = mac.state();
    let record = &state["resources"]["defaults:com.apple.dock:mineffect"];
    assert_eq!(record["original"], serde_json::json!({"string": "genie"}));
    assert!(record["applied"].is_null(), "in flight: {record}");
    // Writes that completed before the failure still get their restart.
    assert_eq!(
        mac.restarts(),
        "killall Dock\nactivateSettings -u (macOS 14.5: some settings wait for a logout)\n"
    );
    assert!(
        !state["resources"]
            .as_object()
            .unwrap()
            .contains_key("defaults:com.apple.dock:tilesize")
    );
    mac.on(&["apply", "--yes"])
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # defaults:com.apple.dock:mineffect will be updated in-place
  ~ value = "genie" -> "scale"
    # then: killall Dock

  # defaults:com.apple.dock:show-recents will be updated in-place
  ~ value = true -> false
    # then: killall Dock

  # defaults:com.apple.dock:tilesize will be updated in-place
  ~ value = 48 -> 36
    # then: killall Dock

  # defaults:com.apple.finder:DisableAllAnimations will be created
  + value = true
    # then: killall Finder

Plan: 1 to add, 3 to change, 0 to destroy.
After the changes: killall Dock, killall Finder.

Apply complete! Resources: 1 added, 3 changed, 0 destroyed.
"#,
        )
        .stderr(
            "defaults:com.apple.dock:mineffect: Modifying...
defaults:com.apple.dock:mineffect: Modifications complete after [DURATION]
defaults:com.apple.dock:show-recents: Modifying...
defaults:com.apple.dock:show-recents: Modifications complete after [DURATION]
defaults:com.apple.dock:tilesize: Modifying...
defaults:com.apple.dock:tilesize: Modifications complete after [DURATION]
defaults:com.apple.finder:DisableAllAnimations: Creating...
defaults:com.apple.finder:DisableAllAnimations: Creation complete after [DURATION]
Restarted: killall Dock
Restarted: killall Finder
",
        )
        .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
}

#[test]
fn a_corrupt_state_is_refused_and_left_alone() {
    let mac = Mac::new();
    mac.spec(QUIET_UI);
    std::fs::create_dir_all(mac.state_path().parent().unwrap()).unwrap();
    std::fs::write(mac.state_path(), "{\"format_version\": 1, \"serial\": ").unwrap();
    mac.on(&["plan"])
        .status(1)
        .stderr(
            "error: state file state/sandbox-mac.json is corrupt (EOF while parsing a value at line 1 column 32); macllm will not overwrite it
hint: restore it from state/sandbox-mac.json.backup or move it away
",
        )
        .run();
    mac.on(&["apply", "--yes"])
        .status(1)
        .stderr(
            "error: state file state/sandbox-mac.json is corrupt (EOF while parsing a value at line 1 column 32); macllm will not overwrite it
hint: restore it from state/sandbox-mac.json.backup or move it away
",
        )
        .run();
    mac.on(&["destroy", "--yes"])
        .status(1)
        .stderr(
            "error: state file state/sandbox-mac.json is corrupt (EOF while parsing a value at line 1 column 32); macllm will not overwrite it
hint: restore it from state/sandbox-mac.json.backup or move it away
",
        )
        .run();
    mac.on(&["drift"])
        .status(1)
        .stderr(
            "error: state file state/sandbox-mac.json is corrupt (EOF while parsing a value at line 1 column 32); macllm will not overwrite it
hint: restore it from state/sandbox-mac.json.backup or move it away
",
        )
        .run();
    assert_eq!(
        std::fs::read_to_string(mac.state_path()).unwrap(),
        "{\"format_version\": 1, \"serial\": "
    );
    std::fs::write(mac.state_path(), "{\"format_version\": 7}").unwrap();
    mac.on(&["apply", "--yes"])
        .status(1)
        .stderr(
            "error: state file state/sandbox-mac.json has format version 7, newer than this macllm understands (1); refusing to touch it
hint: upgrade macllm
",
        )
        .run();
}

/// Values a shell would mangle arrive byte for byte: argv, never a shell string.
pub const HOSTILE: &[&str] = &[
    "it's \"quoted\" and 'single'",
    "$(touch /tmp/macllm-pwned) `id` $HOME ${PATH}",
    "a; rm -rf / && echo done | cat > x",
    "line one\nline two\n\ttabbed",
    "ünïcødé ✓ 日本語 🦙",
    "  leading and trailing spaces  ",
    "-string",
    "<dict><key>not</key><string>xml</string></dict>",
    "(not, an, array)",
    "back\\slash \\n not a newline",
];

/// The plan's rows for the hostile keys, each followed by a blank line.
pub const HOSTILE_CREATED: &str = "  # defaults:com.example.hostile:key 0 $;\" will be created
  + value = \"it's \\\"quoted\\\" and 'single'\"

  # defaults:com.example.hostile:key 1 $;\" will be created
  + value = \"$(touch /tmp/macllm-pwned) `id` $HOME ${PATH}\"

  # defaults:com.example.hostile:key 2 $;\" will be created
  + value = \"a; rm -rf / && echo done | cat > x\"

  # defaults:com.example.hostile:key 3 $;\" will be created
  ~ value = <<-EOT
          + line one
          + line two
          + \ttabbed
        EOT

  # defaults:com.example.hostile:key 4 $;\" will be created
  + value = \"ünïcødé ✓ 日本語 🦙\"

  # defaults:com.example.hostile:key 5 $;\" will be created
  + value = \"  leading and trailing spaces  \"

  # defaults:com.example.hostile:key 6 $;\" will be created
  + value = \"-string\"

  # defaults:com.example.hostile:key 7 $;\" will be created
  + value = \"<dict><key>not</key><string>xml</string></dict>\"

  # defaults:com.example.hostile:key 8 $;\" will be created
  + value = \"(not, an, array)\"

  # defaults:com.example.hostile:key 9 $;\" will be created
  + value = \"back\\\\slash \\\\n not a newline\"

";

pub fn hostile_spec() -> String {
    let mut spec = String::from("macllm: 1\ndefaults:\n");
    for (i, value) in HOSTILE.iter().enumerate() {
        spec.push_str(&format!(
            "  - domain: com.example.hostile\n    key: \"key {i} $;\\\"\"\n    value: {}\n",
            serde_json::to_string(value).unwrap()
        ));
    }
    spec
}

#[test]
fn hostile_values_survive_unchanged() {
    let mac = Mac::new();
    mac.spec(&hostile_spec());
    mac.on(&["apply", "--yes"])
        .stdout(&format!(
            "
macllm will perform the following actions on sandbox:mac:

{HOSTILE_CREATED}Plan: 10 to add, 0 to change, 0 to destroy.

Apply complete! Resources: 10 added, 0 changed, 0 destroyed.
"
        ))
        .stderr(
            r#"defaults:com.example.hostile:key 0 $;": Creating...
defaults:com.example.hostile:key 0 $;": Creation complete after [DURATION]
defaults:com.example.hostile:key 1 $;": Creating...
defaults:com.example.hostile:key 1 $;": Creation complete after [DURATION]
defaults:com.example.hostile:key 2 $;": Creating...
defaults:com.example.hostile:key 2 $;": Creation complete after [DURATION]
defaults:com.example.hostile:key 3 $;": Creating...
defaults:com.example.hostile:key 3 $;": Creation complete after [DURATION]
defaults:com.example.hostile:key 4 $;": Creating...
defaults:com.example.hostile:key 4 $;": Creation complete after [DURATION]
defaults:com.example.hostile:key 5 $;": Creating...
defaults:com.example.hostile:key 5 $;": Creation complete after [DURATION]
defaults:com.example.hostile:key 6 $;": Creating...
defaults:com.example.hostile:key 6 $;": Creation complete after [DURATION]
defaults:com.example.hostile:key 7 $;": Creating...
defaults:com.example.hostile:key 7 $;": Creation complete after [DURATION]
defaults:com.example.hostile:key 8 $;": Creating...
defaults:com.example.hostile:key 8 $;": Creation complete after [DURATION]
defaults:com.example.hostile:key 9 $;": Creating...
defaults:com.example.hostile:key 9 $;": Creation complete after [DURATION]
"#,
        )
        .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
    let exported = mac.export("com.example.hostile");
    let parsed = plist::Value::from_reader_xml(exported.as_bytes()).unwrap();
    let dict = parsed.as_dictionary().unwrap();
    for (i, value) in HOSTILE.iter().enumerate() {
        let key = format!("key {i} $;\"");
        assert_eq!(
            dict.get(&key).and_then(|v| v.as_string()),
            Some(*value),
            "{key}"
        );
    }
    assert!(!std::path::Path::new("/tmp/macllm-pwned").exists());
}
