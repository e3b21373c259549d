//! (Issue 11.) A secret that would travel on a command line, where every user of the Mac can
//! read it in `ps`, is named in the plan as a warning (without the value).

use crate::harness::{BIN, ENV_TRACE, Mac, Test};
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

const SECRET: &str = "argv-s3cr3t";

const SCRIPT: &str = r#"
set -e
step() { name=$1; shift; status=0; "$@" > "$name.out" 2> "$name.err" || status=$?; echo "$status" > "$name.status"; }
printf '%s\n' "$2" | step set "$1" secret set job_token
step plan "$1" --host sandbox:mac plan
"#;

/// launchd starts an agent with its `ProgramArguments` as argv: a secret there is warned
/// about, and `environment:` suggested.
#[test]
#[cfg(target_os = "linux")]
#[ignore = "needs `keyctl` (keyutils); run with --include-ignored"]
fn a_secret_in_an_agents_arguments_is_warned_about() {
    assert!(
        Command::new("keyctl").arg("--version").output().is_ok(),
        "this test needs `keyctl` (apt-get install keyutils)"
    );
    let mac = Mac::new();
    mac.spec("macllm: 1\nagents:\n  - label: com.example.job\n    program_arguments: [/bin/job, \"--token={{ secret('job_token') }}\"]\n");
    let trace = mac.work.join("argv.trace");
    let mut command = Command::new("keyctl");
    command
        .args(["session", "-", "sh", "-c", SCRIPT, "sh", BIN, SECRET])
        .env(ENV_TRACE, &trace)
        .current_dir(&mac.work);
    Test::new(command, &mac.work).stderr_any().run();
    Test::recorded(&mac.work, "plan")
        .stdout(
            "
macllm will perform the following actions on sandbox:mac:

  # agent:com.example.job will be created
  ~ value = (sensitive)
    # file: ~/Library/LaunchAgents/com.example.job.plist

Plan: 1 to add, 0 to change, 0 to destroy.
Warning: agent:com.example.job: a secret is in program_arguments: launchd puts it on the job's command line, where other users of the Mac can see it in `ps`
hint: pass it in `environment:` instead
",
        )
        .run();
    let argv = std::fs::read_to_string(&trace).unwrap_or_default();
    assert!(!argv.contains(SECRET), "{argv}");
}

const ENV_SCRIPT: &str = r#"
set -e
step() { name=$1; shift; status=0; "$@" > "$name.out" 2> "$name.err" || status=$?; echo "$status" > "$name.status"; }
printf '%s\n' "$2" | step set "$1" secret set origins
step plan "$1" --host sandbox:mac plan
step apply "$1" --host sandbox:mac apply --yes
"#;

/// `launchctl setenv` has no stdin form (reference 2.6): an Ollama variable holding a secret,
/// on a server that takes its variables that way (Homebrew older than 6.0.15), is warned about.
#[test]
#[cfg(target_os = "linux")]
#[ignore = "needs `keyctl` (keyutils); run with --include-ignored"]
fn a_secret_for_launchctl_setenv_is_warned_about() {
    let mac = Mac::new();
    mac.set_machine("homebrew_version", serde_json::json!("6.0.14"));
    mac.spec("macllm: 1\nollama:\n  env:\n    OLLAMA_ORIGINS: \"{{ secret('origins') }}\"\n");
    let mut command = Command::new("keyctl");
    command
        .args(["session", "-", "sh", "-c", ENV_SCRIPT, "sh", BIN, SECRET])
        .current_dir(&mac.work);
    Test::new(command, &mac.work).stderr_any().run();
    Test::recorded(&mac.work, "plan")
        .stdout(
            "
macllm will perform the following actions on sandbox:mac:

  # ollama_env:OLLAMA_ORIGINS will be created
  ~ value = (sensitive)
    # then: restart the Ollama server
    # launchctl setenv now, and at every login by the agent com.macllm.ollama-env.OLLAMA_ORIGINS (Homebrew older than 6.0.15 or the app: at boot the server may start before the agent runs)

Plan: 1 to add, 0 to change, 0 to destroy.
After the changes: restart the Ollama server.
Warning: ollama_env:OLLAMA_ORIGINS: the secret travels on the command line of `launchctl setenv OLLAMA_ORIGINS` (now, and from the login agent at every login), where other users of the Mac can see it in `ps`
",
        )
        .run();
    Test::recorded(&mac.work, "apply")
        .stdout_any()
        .stderr_any()
        .run();
    // The login agent holds the secret in its arguments: the user's alone.
    let agent = mac
        .dir
        .join("Users/admin/Library/LaunchAgents/com.macllm.ollama-env.OLLAMA_ORIGINS.plist");
    let text = std::fs::read_to_string(&agent).unwrap();
    assert!(text.contains(SECRET), "{text}");
    assert_eq!(
        std::fs::metadata(&agent).unwrap().permissions().mode() & 0o777,
        0o600
    );
}
