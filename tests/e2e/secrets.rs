//! `secret()` through the OS keyring (the kernel keyring on Linux, inside a `keyctl session`
//! so the test's processes share one session keyring): values reach the host, never an output
//! or the state file.

use crate::harness::{BIN, DRIFT_HEAD, DRIFT_THEN_PLAN, ENV_TRACE, Mac, Test};
use std::process::Command;

const SECRET: &str = "s3cr3t-$(id);'\"-✓";

/// Every step inside one `keyctl session`, each saving NAME.status, NAME.out and NAME.err for
/// the test to compare (see `Test::recorded`).
const SCRIPT: &str = r#"
set -e
step() { name=$1; shift; status=0; "$@" > "$name.out" 2> "$name.err" || status=$?; echo "$status" > "$name.status"; }
printf '%s\n' "$2" | step set "$1" secret set api_token
step plan "$1" --host sandbox:mac plan
step plan-json "$1" --host sandbox:mac plan --json
step apply "$1" --host sandbox:mac -v apply --yes
cp state/sandbox-mac.json applied-state.json
step again "$1" --host sandbox:mac plan --detailed-exitcode
step host "$1" sandbox run mac -- defaults read com.example.app token
step by-hand "$1" sandbox run mac -- defaults write com.example.app token -string by-hand
step drift "$1" --host sandbox:mac drift
step out "$1" --host sandbox:mac plan --out saved.plan
step destroy "$1" --host sandbox:mac destroy --yes
step rm "$1" secret rm api_token
step missing "$1" --host sandbox:mac plan
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
    let trace = mac.work.join("argv.trace");
    command
        .args(["session", "-", "sh", "-c", SCRIPT, "sh", BIN, SECRET])
        .env(ENV_TRACE, &trace)
        .current_dir(&mac.work);
    // keyctl names the keyring it made on stderr; that is keyctl's business.
    Test::new(command, &mac.work).stderr_any().run();
    let step = |name: &str| Test::recorded(&mac.work, name);
    step("set")
        .stdout("Stored the secret `api_token` in the keyring.\n")
        .run();
    step("plan")
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # defaults:com.example.app:plain will be created
  + value = "visible"

  # defaults:com.example.app:token will be created
  ~ value = (sensitive)

Plan: 2 to add, 0 to change, 0 to destroy.
"#,
        )
        .run();
    step("plan-json")
        .stdout(
            r#"{
  "changes": [
    {
      "action": "create",
      "after": {
        "string": "visible"
      },
      "before": null,
      "depends_on": [],
      "id": "defaults:com.example.app:plain",
      "needs_root": false,
      "notes": [],
      "resource": {
        "current_host": false,
        "domain": "com.example.app",
        "key": "plain",
        "kind": "defaults",
        "value": {
          "string": "visible"
        }
      },
      "restart": null,
      "sensitive": false
    },
    {
      "action": "create",
      "after": {
        "string": "(sensitive)"
      },
      "before": null,
      "depends_on": [],
      "id": "defaults:com.example.app:token",
      "needs_root": false,
      "notes": [],
      "resource": {
        "current_host": false,
        "domain": "com.example.app",
        "key": "token",
        "kind": "defaults",
        "value": {
          "string": "(sensitive)"
        }
      },
      "restart": null,
      "sensitive": true
    }
  ],
  "drift": [],
  "format_version": "1.0",
  "host": "sandbox:mac",
  "mode": "normal",
  "over_budget": [],
  "state": null,
  "summary": {
    "add": 2,
    "change": 0,
    "destroy": 0
  },
  "warnings": []
}
"#,
        )
        .run();
    step("apply")
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # defaults:com.example.app:plain will be created
  + value = "visible"

  # defaults:com.example.app:token will be created
  ~ value = (sensitive)

Plan: 2 to add, 0 to change, 0 to destroy.

Apply complete! Resources: 2 added, 0 changed, 0 destroyed.
"#).stderr("+ sysctl -i hw.memsize hw.ncpu machdep.cpu.brand_string hw.perflevel0.physicalcpu hw.perflevel1.physicalcpu kern.hostname iogpu.wired_limit_mb debug.iogpu.wired_limit
+ sw_vers
+ id -u
+ id -un
+ system_profiler SPDisplaysDataType -json
+ defaults export com.example.app -
+ defaults write com.example.app plain -string visible
+ defaults export com.example.app -
defaults:com.example.app:plain: Creating...
defaults:com.example.app:plain: Creation complete after [DURATION]
defaults:com.example.app:token: Creating...
+ defaults import com.example.app -
+ defaults export com.example.app -
defaults:com.example.app:token: Creation complete after [DURATION]
",
        )
        .run();
    step("again")
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
    // The host got the value.
    step("host").stdout(&format!("{SECRET}\n")).run();
    step("by-hand").run();
    step("drift")
        .status(2)
        .stdout(
            &[
                DRIFT_HEAD,
                r#"  # defaults:com.example.app:token has changed
  ~ value = (sensitive)
"#,
            ]
            .concat(),
        )
        .run();
    step("out")
        .status(1)
        .stdout(&[DRIFT_HEAD, r#"  # defaults:com.example.app:token has changed
  ~ value = (sensitive)
"#, DRIFT_THEN_PLAN, r#"macllm will perform the following actions on sandbox:mac:

  # defaults:com.example.app:token will be updated in-place
  ~ value = (sensitive)

Plan: 0 to add, 1 to change, 0 to destroy.
"#].concat()).stderr("error: this plan holds values from secret(), which a plan file would keep in clear; apply from the spec instead
",
        )
        .run();
    step("destroy")
        .stdout(
            &[
                DRIFT_HEAD,
                r#"  # defaults:com.example.app:token has changed
  ~ value = (sensitive)
"#,
                DRIFT_THEN_PLAN,
                r#"macllm will perform the following actions on sandbox:mac:

  # defaults:com.example.app:token will be deleted (it was absent before macllm)
  ~ value = (sensitive)

  # defaults:com.example.app:plain will be deleted (it was absent before macllm)
  - value = "visible" -> null

Plan: 0 to add, 0 to change, 2 to destroy.

Destroy complete! Resources: 2 destroyed.
"#,
            ]
            .concat(),
        )
        .stderr(
            "defaults:com.example.app:token: Restoring...
defaults:com.example.app:token: Restore complete after [DURATION]
defaults:com.example.app:plain: Restoring...
defaults:com.example.app:plain: Restore complete after [DURATION]
",
        )
        .run();
    step("rm")
        .stdout("Removed the secret `api_token` from the keyring.\n")
        .run();
    step("missing")
        .status(1)
        .stderr(
            r#"error: defaults[0].value: template error: there is no secret `api_token` in the keyring
hint: store it with `macllm secret set api_token`
 --> macllm.yaml:5:16
  |
5 |     value: "{{ secret('api_token') }}"
  |                ^
hint: templates see `host` (the Mac's facts: `macllm facts` lists them) and `vars`
"#,
        )
        .run();
    // No command line of the emulated Mac carried the value (`ps` shows argv to every user);
    // `defaults import` took it on stdin, for the write and for the restore.
    let argv = std::fs::read_to_string(&trace).unwrap();
    assert!(!argv.contains("s3cr3t"), "{argv}");
    assert_eq!(
        argv.lines()
            .filter(|l| *l == "defaults import com.example.app -")
            .count(),
        1,
        "{argv}"
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
    assert!(checked >= 38, "checked {checked} files");
    let state = std::fs::read_to_string(mac.work.join("applied-state.json")).unwrap();
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
