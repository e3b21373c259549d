//! Crashes, failures, concurrent writers, corrupt state and hostile values.

use crate::harness::{Mac, QUIET_PLAN, QUIET_UI};
use macllm::sandbox::{ENV_DELAY_MS, ENV_FAIL};
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

fn applied_count(mac: &Mac) -> usize {
    std::fs::read_to_string(mac.state_path())
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .map(|state| {
            state["resources"]
                .as_object()
                .map(|r| r.values().filter(|v| !v["applied"].is_null()).count())
                .unwrap_or(0)
        })
        .unwrap_or(0)
}

#[test]
fn a_killed_apply_leaves_a_valid_state_and_the_next_apply_converges() {
    let mac = Mac::new();
    mac.spec(QUIET_UI);
    let before_dock = mac.export("com.apple.dock");
    let mut child = mac.spawn_on(&["apply", "--yes"], &[(ENV_DELAY_MS, "150")]);
    wait_for("three applied resources", || applied_count(&mac) >= 3);
    child.kill().unwrap();
    child.wait().unwrap();

    // The state on disk is whole and readable, with the originals of what was touched.
    let state = mac.state();
    let resources = state["resources"].as_object().unwrap();
    assert!(
        resources.len() < 10,
        "killed before the end: {}",
        resources.len()
    );
    assert!(state["serial"].as_u64().unwrap() >= 3);
    mac.on(&["state", "list"]).expect(0);

    let plan = mac.on(&["plan", "--detailed-exitcode"]).expect(2);
    assert!(
        !plan.stdout.contains("has changed"),
        "an interrupted apply is not drift: {}",
        plan.stdout
    );
    mac.on(&["apply", "--yes"]).expect(0);
    mac.on(&["plan", "--detailed-exitcode"]).expect(0);
    // Originals recorded before the kill survive: destroy puts the Dock back exactly.
    mac.on(&["destroy", "--yes"]).expect(0);
    assert_eq!(before_dock, mac.export("com.apple.dock"));
}

#[test]
fn a_second_apply_is_refused_by_the_lock() {
    let mac = Mac::new();
    mac.spec(QUIET_UI);
    let first = mac.spawn_on(&["apply", "--yes"], &[(ENV_DELAY_MS, "200")]);
    wait_for("the first apply to start writing", || {
        applied_count(&mac) >= 1
    });
    let second = mac.on(&["apply", "--yes"]).expect(1);
    assert!(
        second.stderr.contains(&format!(
            "is locked by pid {}, `macllm apply`, since ",
            first.id()
        )),
        "{}",
        second.stderr
    );
    let first = first.wait_with_output().unwrap();
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    mac.on(&["plan", "--detailed-exitcode"]).expect(0);
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
Restarted: activateSettings -u
error: applying defaults:com.apple.dock:mineffect: `defaults write com.apple.dock mineffect -string scale` exited with status 1: defaults: injected failure (sandbox test hook MACLLM_SANDBOX_FAIL)
",
        )
        .run();
    let state = mac.state();
    let record = &state["resources"]["defaults:com.apple.dock:mineffect"];
    assert_eq!(record["original"], serde_json::json!({"string": "genie"}));
    assert!(record["applied"].is_null(), "in flight: {record}");
    // Writes that completed before the failure still get their restart.
    assert_eq!(mac.restarts(), "killall Dock\nactivateSettings -u\n");
    assert!(
        !state["resources"]
            .as_object()
            .unwrap()
            .contains_key("defaults:com.apple.dock:tilesize")
    );
    mac.on(&["apply", "--yes"]).expect(0);
    mac.on(&["plan", "--detailed-exitcode"]).expect(0);
}

#[test]
fn a_corrupt_state_is_refused_and_left_alone() {
    let mac = Mac::new();
    mac.spec(QUIET_UI);
    std::fs::create_dir_all(mac.state_path().parent().unwrap()).unwrap();
    std::fs::write(mac.state_path(), "{\"format_version\": 1, \"serial\": ").unwrap();
    for args in [
        &["plan"][..],
        &["apply", "--yes"],
        &["destroy", "--yes"],
        &["drift"],
    ] {
        let run = mac.on(args).expect(1);
        assert!(run.stderr.contains("is corrupt"), "{}", run.stderr);
    }
    assert_eq!(
        std::fs::read_to_string(mac.state_path()).unwrap(),
        "{\"format_version\": 1, \"serial\": "
    );
    std::fs::write(mac.state_path(), "{\"format_version\": 7}").unwrap();
    let run = mac.on(&["apply", "--yes"]).expect(1);
    assert!(
        run.stderr
            .contains("format version 7, newer than this macllm understands"),
        "{}",
        run.stderr
    );
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
    mac.on(&["apply", "--yes"]).expect(0);
    mac.on(&["plan", "--detailed-exitcode"]).expect(0);
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
