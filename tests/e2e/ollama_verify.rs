//! Issue 10: after a restart, what the Ollama server logs is compared with what was set as
//! the server parses it (ollama/ollama `envconfig/config.go`), so `-1`, `*` and `1` are
//! recognised in their logged forms, and a variable the server never logs is said to be
//! unverifiable instead of failing.

use crate::harness::Mac;

const SPEC: &str = "macllm: 1\nollama:\n  env:\n    OLLAMA_KEEP_ALIVE: -1\n    OLLAMA_ORIGINS: \"*\"\n    OLLAMA_DEBUG: 1\n    OLLAMA_AUTH: true\n";

#[test]
fn variables_are_verified_in_the_form_the_server_logs_them() {
    let mac = Mac::new();
    mac.spec(SPEC);
    let apply = mac.on(&["apply", "--yes"]);
    assert_eq!(
        (apply.status, apply.stdout.as_str(), apply.stderr.as_str()),
        (0, APPLY_STDOUT, APPLY_STDERR)
    );
    let again = mac.on(&["plan", "--detailed-exitcode"]);
    assert_eq!(
        (again.status, again.stdout.as_str(), again.stderr.as_str()),
        (0, "\nNo changes. The host matches the spec.\n", "")
    );
}

const APPLY_STDOUT: &str = r#"
macllm will perform the following actions on sandbox:mac:

  # ollama_env:OLLAMA_AUTH will be created
  ~ value = <<-EOT
          + {
          +   "at_login": "1",
          +   "live": "1",
          + }
        EOT
    # then: restart the Ollama server
    # launchctl setenv now, and at every login by the agent com.macllm.ollama-env.OLLAMA_AUTH

  # ollama_env:OLLAMA_DEBUG will be created
  ~ value = <<-EOT
          + {
          +   "at_login": "1",
          +   "live": "1",
          + }
        EOT
    # then: restart the Ollama server
    # launchctl setenv now, and at every login by the agent com.macllm.ollama-env.OLLAMA_DEBUG

  # ollama_env:OLLAMA_KEEP_ALIVE will be created
  ~ value = <<-EOT
          + {
          +   "at_login": "-1",
          +   "live": "-1",
          + }
        EOT
    # then: restart the Ollama server
    # launchctl setenv now, and at every login by the agent com.macllm.ollama-env.OLLAMA_KEEP_ALIVE

  # ollama_env:OLLAMA_ORIGINS will be created
  ~ value = <<-EOT
          + {
          +   "at_login": "*",
          +   "live": "*",
          + }
        EOT
    # then: restart the Ollama server
    # launchctl setenv now, and at every login by the agent com.macllm.ollama-env.OLLAMA_ORIGINS

Plan: 4 to add, 0 to change, 0 to destroy.
After the changes: restart the Ollama server.

Apply complete! Resources: 4 added, 0 changed, 0 destroyed.
"#;

const APPLY_STDERR: &str = r#"ollama_env:OLLAMA_AUTH: Creating...
ollama_env:OLLAMA_AUTH: Creation complete after 0s
ollama_env:OLLAMA_DEBUG: Creating...
ollama_env:OLLAMA_DEBUG: Creation complete after 0s
ollama_env:OLLAMA_KEEP_ALIVE: Creating...
ollama_env:OLLAMA_KEEP_ALIVE: Creation complete after 0s
ollama_env:OLLAMA_ORIGINS: Creating...
ollama_env:OLLAMA_ORIGINS: Creation complete after 0s
Restarting the Ollama server...
warning: OLLAMA_AUTH cannot be verified after the restart: Ollama reads it but does not log it
Restarted: the Ollama server, and it reports the new variables
"#;
