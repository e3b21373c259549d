//! A sensitive resource's original (the value its secret replaced) is kept in the state file
//! encrypted under a key in the OS keyring, so destroy restores it and the file never has it
//! in clear; when it does not decrypt, destroy says the original cannot be restored and
//! writes nothing. (The key itself is not removed: the kernel keyring links entries to the
//! user's persistent keyring, which a developer's own macllm shares.) Runs inside one `keyctl session`, like `secrets.rs`; the keyring is shared with
//! the tests running beside it, so each test uses a secret name of its own.

use crate::harness::{BIN, Mac, Test};
use std::process::Command;

const SECRET: &str = "n3w-s3cr3t-\"✓";
const OLD: &str = "0ld-pl41n-v4lue";

const SCRIPT: &str = r#"
set -e
step() { name=$1; shift; status=0; "$@" > "$name.out" 2> "$name.err" || status=$?; echo "$status" > "$name.status"; }
printf '%s\n' "$2" | step set "$1" secret set original_token
step by-hand "$1" sandbox run mac -- defaults write com.example.app token -string "$3"
step apply "$1" --host sandbox:mac apply --yes
cp state/sandbox-mac.json applied-state.json
step destroy "$1" --host sandbox:mac destroy --yes
step restored "$1" sandbox run mac -- defaults read com.example.app token
step apply2 "$1" --host sandbox:mac apply --yes
"#;

/// After the ciphertext is altered.
const TAMPERED: &str = r#"
set -e
step() { name=$1; shift; status=0; "$@" > "$name.out" 2> "$name.err" || status=$?; echo "$status" > "$name.status"; }
step destroy2 "$1" --host sandbox:mac destroy --yes
step after "$1" sandbox run mac -- defaults read com.example.app token
cp state/sandbox-mac.json failed-state.json
"#;

/// Flips one bit of every `ciphertext` in the state file.
fn tamper(path: &std::path::Path) {
    fn walk(value: &mut serde_json::Value) -> usize {
        match value {
            serde_json::Value::Object(map) => {
                let mut flipped = 0;
                for (key, value) in map.iter_mut() {
                    if key == "ciphertext"
                        && let Some(serde_json::Value::String(hex)) = value.get_mut("data")
                    {
                        let last = hex.pop().unwrap().to_digit(16).unwrap() ^ 1;
                        hex.push(char::from_digit(last, 16).unwrap());
                        flipped += 1;
                    } else {
                        flipped += walk(value);
                    }
                }
                flipped
            }
            serde_json::Value::Array(items) => items.iter_mut().map(walk).sum(),
            _ => 0,
        }
    }
    let mut state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(walk(&mut state), 1, "{state:#}");
    std::fs::write(path, serde_json::to_string_pretty(&state).unwrap()).unwrap();
}

#[test]
#[cfg(target_os = "linux")]
#[ignore = "needs `keyctl` (keyutils); run with --include-ignored"]
fn a_secrets_original_is_kept_encrypted_and_restored_exactly() {
    assert!(
        Command::new("keyctl").arg("--version").output().is_ok(),
        "this test needs `keyctl` (apt-get install keyutils)"
    );
    let mac = Mac::new();
    mac.spec("macllm: 1\ndefaults:\n  - domain: com.example.app\n    key: token\n    value: \"{{ secret('original_token') }}\"\n");
    let mut command = Command::new("keyctl");
    command
        .args(["session", "-", "sh", "-c", SCRIPT, "sh", BIN, SECRET, OLD])
        .current_dir(&mac.work);
    Test::new(command, &mac.work).stderr_any().run();
    let step = |name: &str| Test::recorded(&mac.work, name);
    step("apply").stdout_any().stderr_any().run();
    let state = std::fs::read_to_string(mac.work.join("applied-state.json")).unwrap();
    for clear in [OLD, "0ld-pl41n", "n3w-s3cr3t"] {
        assert!(
            !state.contains(clear),
            "the state holds `{clear}`:\n{state}"
        );
    }
    assert!(
        state.contains("\"macllm-encrypted\": {\n            \"string\": \"chacha20poly1305\""),
        "the original is marked as encrypted:\n{state}"
    );
    step("destroy").stdout_any().stderr_any().run();
    step("restored").stdout(&format!("{OLD}\n")).run();

    // Altered: an error naming the resource, and the secret stays rather than a wrong value.
    step("apply2").stdout_any().stderr_any().run();
    tamper(&mac.work.join("state/sandbox-mac.json"));
    let mut command = Command::new("keyctl");
    command
        .args(["session", "-", "sh", "-c", TAMPERED, "sh", BIN])
        .current_dir(&mac.work);
    Test::new(command, &mac.work).stderr_any().run();
    let failed = step("destroy2").status(1).stdout_any().stderr_any().run();
    let stderr = failed.stderr;
    assert!(
        stderr.contains(
            "the original of defaults:com.example.app:token cannot be restored: it does not decrypt under the key in the keyring"
        ),
        "{stderr}"
    );
    step("after").stdout(&format!("{SECRET}\n")).run();
    let state = std::fs::read_to_string(mac.work.join("failed-state.json")).unwrap();
    assert!(
        state.contains("defaults:com.example.app:token"),
        "the record stays for a later restore:\n{state}"
    );
}

const AGENT_SCRIPT: &str = r#"
set -e
step() { name=$1; shift; status=0; "$@" > "$name.out" 2> "$name.err" || status=$?; echo "$status" > "$name.status"; }
printf '%s\n' "$2" | step set "$1" secret set agent_token
step apply "$1" --host sandbox:mac apply --yes
"#;

/// An agent whose plist holds a secret is the user's alone (0600); one without stays 0644.
#[test]
#[cfg(target_os = "linux")]
#[ignore = "needs `keyctl` (keyutils); run with --include-ignored"]
fn an_agent_holding_a_secret_is_written_0600() {
    use std::os::unix::fs::PermissionsExt;
    assert!(
        Command::new("keyctl").arg("--version").output().is_ok(),
        "this test needs `keyctl` (apt-get install keyutils)"
    );
    let mac = Mac::new();
    mac.spec("macllm: 1\nagents:\n  - label: com.example.secret\n    program_arguments: [/bin/x]\n    environment:\n      TOKEN: \"{{ secret('agent_token') }}\"\n  - label: com.example.plain\n    program_arguments: [/bin/y]\n");
    let mut command = Command::new("keyctl");
    command
        .args(["session", "-", "sh", "-c", AGENT_SCRIPT, "sh", BIN, SECRET])
        .current_dir(&mac.work);
    Test::new(command, &mac.work).stderr_any().run();
    Test::recorded(&mac.work, "apply")
        .stdout_any()
        .stderr_any()
        .run();
    let agents = mac.dir.join("Users/admin/Library/LaunchAgents");
    let mode = |name: &str| {
        std::fs::metadata(agents.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("com.example.secret.plist"), 0o600);
    assert_eq!(mode("com.example.plain.plist"), 0o644);
    let text = std::fs::read_to_string(agents.join("com.example.secret.plist")).unwrap();
    assert!(
        text.contains("n3w-s3cr3t"),
        "the agent has its secret: {text}"
    );
}

/// (Issue 11, with the secrets' bullets.) A template whose nested loops would run for hours is
/// stopped by minijinja's fuel within seconds, with an error at the template's line.
#[test]
fn nested_template_loops_are_bounded() {
    let mac = Mac::new();
    mac.spec("macllm: 1\ndefaults:\n  - domain: com.example.app\n    key: k\n    value: \"{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}\"\n");
    let started = std::time::Instant::now();
    mac.on(&["plan"])
        .status(1)
        .stderr(
            "error: defaults[0].value: template error: the templates ran more than 20000000 steps in all and were stopped (loops nested too deep?)
 --> macllm.yaml:5:13
  |
5 |     value: \"{% for i in range(100000) %}{% for j in range(100000) %}x{% e…
  |             ^
hint: templates see `host` (the Mac's facts: `macllm facts` lists them) and `vars`
",
        )
        .run();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(120),
        "{:?}",
        started.elapsed()
    );
}
