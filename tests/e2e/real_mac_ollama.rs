//! Ollama as it behaves on a real Mac (issue 10): what the server logs is compared with what
//! was set as the server parses it (ollama/ollama `envconfig/config.go`), so `-1`, `*` and
//! `1` are recognised in their logged forms and a variable the server never logs is said to
//! be unverifiable; a model's base is compared as Ollama records it (`DisplayShortest`).

use crate::harness::Mac;

const SPEC: &str = "macllm: 1\nollama:\n  env:\n    OLLAMA_KEEP_ALIVE: -1\n    OLLAMA_ORIGINS: \"*\"\n    OLLAMA_DEBUG: 1\n    OLLAMA_AUTH: true\n";

#[test]
fn variables_are_verified_in_the_form_the_server_logs_them() {
    let mac = Mac::new();
    mac.spec(SPEC);
    mac.on(&["apply", "--yes"])
        .stdout(APPLY_STDOUT)
        .stderr(APPLY_STDERR)
        .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
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
ollama_env:OLLAMA_AUTH: Creation complete after [DURATION]
ollama_env:OLLAMA_DEBUG: Creating...
ollama_env:OLLAMA_DEBUG: Creation complete after [DURATION]
ollama_env:OLLAMA_KEEP_ALIVE: Creating...
ollama_env:OLLAMA_KEEP_ALIVE: Creation complete after [DURATION]
ollama_env:OLLAMA_ORIGINS: Creating...
ollama_env:OLLAMA_ORIGINS: Creation complete after [DURATION]
Restarting the Ollama server...
warning: OLLAMA_AUTH cannot be verified after the restart: Ollama reads it but does not log it
Restarted: the Ollama server, and it reports the new variables
"#;

#[test]
fn a_base_given_by_its_full_registry_name_converges() {
    let mac = Mac::new();
    mac.spec(
        "macllm: 1\nollama:\n  models:\n    - name: fit\n      from: registry.ollama.ai/library/llama3.2:3b\n      parameters: { num_ctx: 4096 }\n",
    );
    mac.on(&["apply", "--yes"])
        .stdout(FULL_NAME_STDOUT)
        .stderr(FULL_NAME_STDERR)
        .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
}

const FULL_NAME_STDOUT: &str = r#"
macllm will perform the following actions on sandbox:mac:

  # ollama_model:fit will be created
  ~ value = <<-EOT
          + FROM llama3.2:3b
          + TEMPLATE "{{- if or .System .Tools }}<|start_header_id|>system<|end_header_id|>\n\n{{ if .System }}{{ .System }}{{ end }}\n{{- if .Tools }}\n\nYou can call these functions; answer with a JSON object {\"name\": ..., \"parameters\": ...}:\n{{ range .Tools }}{{ . }}\n{{ end }}{{ end }}<|eot_id|>{{ end }}{{ if .Prompt }}<|start_header_id|>user<|end_header_id|>\n\n{{ .Prompt }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n{{ .Response }}<|eot_id|>"
          + PARAMETER num_ctx 4096
          + PARAMETER stop "<|end_header_id|>"
          + PARAMETER stop "<|eot_id|>"
          + PARAMETER stop "<|start_header_id|>"
          + LICENSE "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\nLlama 3.2 Version Release Date: September 25, 2024\n\n(The emulated registry keeps only the first lines of this license.)\n**Llama 3.2** **Acceptable Use Policy**\n\n(The emulated registry keeps only the first lines of this policy.)"
          + 
        EOT

Plan: 1 to add, 0 to change, 0 to destroy.

Apply complete! Resources: 1 added, 0 changed, 0 destroyed.
"#;

const FULL_NAME_STDERR: &str = r#"ollama_model:fit: Creating...
fit: using existing layer sha256:52dd90d6e8c6b743ce155f94dc0c05e350186d111594d0a7ecd37d64370d513b
fit: using existing layer sha256:86d3115c9700fc6bfe75e7bd5a3c744d7108a0ea384c82115788ea3935a041ba
fit: using existing layer sha256:c5153b289c8c323211ecc4dc89c742b723083a4c012944bfa47888835548bcc2
fit: using existing layer sha256:dd56c7962561a828a0007b3c3708d096e4e6ea71cc749d5447d2bc030a58849f
fit: creating new layer sha256:2ddc2012d468e62e6ca237f0db4b9496906340ec431b28c27edc069ad00e1993
fit: writing manifest
fit: success
ollama_model:fit: Creation complete after [DURATION]
"#;
