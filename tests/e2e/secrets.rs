//! `secret()` through the OS keyring (the kernel keyring on Linux, inside a `keyctl session`
//! so the test's processes share one session keyring): values reach the host, never an output
//! or the state file.

use crate::harness::{BIN, Mac, run};
use std::process::Command;

const SECRET: &str = "s3cr3t-$(id);'\"-✓";

const SCRIPT: &str = r#"
set -e
printf '%s\n' "$2" | "$1" secret set api_token > set.out 2>&1
"$1" --host sandbox:mac plan > plan.out 2> plan.err
"$1" --host sandbox:mac plan --json > plan.json 2>&1
"$1" --host sandbox:mac -v apply --yes > apply.out 2> apply.err
cp state/sandbox-mac.json applied-state.json
"$1" --host sandbox:mac plan --detailed-exitcode > again.out 2>&1
"$1" sandbox run mac -- defaults read com.example.app token > host.out
"$1" sandbox run mac -- defaults write com.example.app token -string by-hand
status=0; "$1" --host sandbox:mac drift > drift.out 2>&1 || status=$?
test "$status" = 2
status=0; "$1" --host sandbox:mac plan --out saved.plan > out.out 2>&1 || status=$?
test "$status" = 1
"$1" --host sandbox:mac destroy --yes > destroy.out 2>&1
"$1" secret rm api_token > rm.out 2>&1
status=0; "$1" --host sandbox:mac plan > missing.out 2>&1 || status=$?
test "$status" = 1
"#;

#[test]
#[cfg(target_os = "linux")]
#[ignore = "needs `keyctl` (keyutils); run with --include-ignored"]
fn secrets_reach_the_host_and_nothing_else() {
    // Without keyctl the test fails rather than passing unrun.
    assert!(
        Command::new("keyctl").arg("--version").output().is_ok(),
        "this test needs `keyctl` (apt-get install keyutils)"
    );
    let mac = Mac::new();
    mac.spec("macllm: 1\ndefaults:\n  - domain: com.example.app\n    key: token\n    value: \"{{ secret('api_token') }}\"\n  - domain: com.example.app\n    key: plain\n    value: visible\n");
    let mut command = Command::new("keyctl");
    command
        .args(["session", "-", "sh", "-c", SCRIPT, "sh", BIN, SECRET])
        .current_dir(&mac.work);
    let script = run(command);
    assert_eq!(
        script.status, 0,
        "the script failed (is `keyctl` from keyutils installed? .ci/run installs it)\n{}\n{}",
        script.stdout, script.stderr
    );
    let read = |name: &str| std::fs::read_to_string(mac.work.join(name)).unwrap();
    assert_eq!(
        read("host.out"),
        format!("{SECRET}\n"),
        "the host got the value"
    );
    assert!(
        read("plan.out").contains(
            "# defaults:com.example.app:token will be created\n  ~ value = (sensitive)\n"
        ),
        "{}",
        read("plan.out")
    );
    assert!(
        read("plan.out").contains("+ value = \"visible\""),
        "{}",
        read("plan.out")
    );
    assert!(
        read("again.out").contains("No changes."),
        "{}",
        read("again.out")
    );
    assert!(
        read("drift.out")
            .contains("# defaults:com.example.app:token has changed\n  ~ value = (sensitive)\n"),
        "{}",
        read("drift.out")
    );
    assert!(
        read("out.out").contains("a plan file would keep in clear"),
        "{}",
        read("out.out")
    );
    assert!(
        read("missing.out").contains("there is no secret `api_token` in the keyring"),
        "{}",
        read("missing.out")
    );
    assert!(
        read("apply.err").contains("+ defaults write com.example.app token -string '(sensitive)'"),
        "{}",
        read("apply.err")
    );
    // Every output and every state file, the backup included, is free of the value.
    let mut checked = 0;
    for entry in std::fs::read_dir(&mac.work)
        .unwrap()
        .chain(std::fs::read_dir(mac.work.join("state")).unwrap())
    {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name == "host.out" || path.is_dir() || name == "macllm.yaml" {
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        assert!(
            !text.contains("s3cr3t"),
            "{} holds the secret:\n{text}",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 14, "checked {checked} files");
    let state = read("applied-state.json");
    assert!(
        state
            .contains("\"applied\": {\n        \"value\": {\n          \"string\": \"hmac-sha256:"),
        "{state}"
    );
    assert!(
        state.contains("\"string\": \"(sensitive)\""),
        "the resource's own value is masked: {state}"
    );
}
