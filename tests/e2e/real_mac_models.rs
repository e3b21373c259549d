//! Custom models as a real Ollama (v0.32.15) keeps them: `/api/show`'s `template` is the
//! template the server selects (`selectedModelTemplate`, `server/images.go`), which for a
//! GGUF with a richer Jinja chat template is that one, not the TEMPLATE the model stores; the
//! stored TEMPLATE is the `TEMPLATE` command of the shown Modelfile.

use crate::fleet::require_sshd;
use crate::harness::{BIN, LLAMA31_PULL, Mac};
use crate::sshd::{Keys, shim};
use macllm::host::ssh::ENV_SSH_CONFIG;

/// A custom template without `.Tools` on llama3.1, whose GGUF chat template handles tools:
/// the server stores the TEMPLATE but shows (and renders with) the Jinja template. The spec
/// is itself a minijinja template, so a Go template goes inside `{% raw %}`.
const NO_TOOLS: &str = r#"macllm: 1
ollama:
  pull: [llama3.1:8b]
  models:
    - name: plain
      from: llama3.1:8b
      template: "{% raw %}{{ range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n{% endraw %}"
"#;

const NOT_USED: &str = "ollama_model:plain: Ollama stores the template set here but renders with the chat template of the model's weights (GGUF), which can do more (tools)
hint: Ollama uses a TEMPLATE that handles tools too (`.Tools`, `.ToolCalls` and a `tool` turn such as `eq .Role \"tool\"`), and every TEMPLATE with `OLLAMA_GO_TEMPLATE: 1` under `ollama.env`
";

/// Before, the model never converged: macllm compared `show.template` (the Jinja text) with
/// the spec's template ("did not converge" on apply).
#[test]
fn a_custom_template_converges_when_the_gguf_template_is_shown() {
    let mac = Mac::new();
    mac.spec(NO_TOOLS);
    mac.on(&["apply", "--yes"])
        .stdout(NO_TOOLS_APPLY)
        .stderr(&format!(
            "ollama_pull:llama3.1:8b: Creating...\n{LLAMA31_PULL}ollama_pull:llama3.1:8b: Creation complete after [DURATION]\n{NO_TOOLS_CREATE}warning: {NOT_USED}ollama_model:plain: Creation complete after [DURATION]\n"
        ))
        .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout(&format!(
            "\nNo changes. The host matches the spec.\nWarning: {NOT_USED}"
        ))
        .run();

    // With OLLAMA_GO_TEMPLATE set the server uses every TEMPLATE, and the warning goes.
    mac.spec(&NO_TOOLS.replace("ollama:\n", "ollama:\n  env:\n    OLLAMA_GO_TEMPLATE: 1\n"));
    mac.on(&["apply", "--yes"])
        .stdout(&format!("{GO_TEMPLATE_PLAN}Warning: {NOT_USED}\nApply complete! Resources: 1 added, 0 changed, 0 destroyed.\n"))
        .stderr(
            "ollama_env:OLLAMA_GO_TEMPLATE: Creating...
ollama_env:OLLAMA_GO_TEMPLATE: Creation complete after [DURATION]
Restarting the Ollama server...
Restarted: the Ollama server, and it reports the new variables
",
        )
        .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
}

const GO_TEMPLATE_PLAN: &str = r#"
macllm will perform the following actions on sandbox:mac:

  # ollama_env:OLLAMA_GO_TEMPLATE will be created
  ~ value = <<-EOT
          + {
          +   "env_file": "1",
          +   "server": "true",
          + }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

Plan: 1 to add, 0 to change, 0 to destroy.
After the changes: restart the Ollama server.
"#;

const NO_TOOLS_APPLY: &str = r#"
macllm will perform the following actions on sandbox:mac:

  # ollama_pull:llama3.1:8b will be created
  + value = true

  # ollama_model:plain will be created
  ~ value = <<-EOT
          + FROM llama3.1:8b
          + TEMPLATE "{{ range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n"
          + 
        EOT

Plan: 2 to add, 0 to change, 0 to destroy.

Apply complete! Resources: 2 added, 0 changed, 0 destroyed.
"#;

const NO_TOOLS_CREATE: &str = "ollama_model:plain: Creating...
plain: using existing layer sha256:c4c6b623ed660ffc8d8824cd56312ba7770bd01e5ad06692f542e103ebcedd82
plain: using existing layer sha256:094a3f8c4d9fb6901c47ebf3c70584bfaa64f2082bfba4bc1c9f3e7221286558
plain: creating new layer sha256:5ce0e9835bc46ea1daccec80ad5f355412e82d8c0ffd77930a23fd071d06219a
plain: using existing layer sha256:56bb8bd477a519ffa694fc449c2413c6f0e1d3b1c88fa7e3c9d88d3ae49d4dcb
plain: writing manifest
plain: success
";

/// A spec that moves the server to another port: after the restart it listens there
/// (ollama/ollama `envconfig.Host()`), and the models that follow are created there.
#[test]
fn models_follow_the_server_to_the_port_of_ollama_host() {
    let mac = Mac::new();
    mac.spec(PORT_SPEC);
    mac.on(&["apply", "--yes"])
        .stdout(PORT_APPLY)
        .stderr(PORT_APPLY_PROGRESS)
        .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();

    // Moved again: planned where the last apply left it, applied where the spec moves it.
    mac.spec(
        &std::fs::read_to_string(mac.work.join("macllm.yaml"))
            .unwrap()
            .replace("11500", "11600"),
    );
    mac.on(&["apply", "--yes"])
        .stdout(PORT_MOVED)
        .stderr(
            "ollama_env:OLLAMA_HOST: Modifying...
ollama_env:OLLAMA_HOST: Modifications complete after [DURATION]
Restarting the Ollama server...
Restarted: the Ollama server, and it reports the new variables
",
        )
        .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
    let version = |port: &str| {
        mac.sh(&[
            "curl",
            "-sS",
            "-w",
            "\\n%{http_code}",
            &format!("http://127.0.0.1:{port}/api/version"),
        ])
    };
    version("11600")
        .stdout("{\"version\":\"0.32.15\"}\n200")
        .run();
    version("11434")
        .status(7)
        .stderr("curl: (7) Failed to connect to 127.0.0.1 port 11434 after 0 ms: Couldn't connect to server\n")
        .run();

    // Destroy, without the spec: the model goes, then the server back to 11434.
    std::fs::remove_file(mac.work.join("macllm.yaml")).unwrap();
    mac.on(&["destroy", "--yes"])
        .stdout(PORT_DESTROY)
        .stderr(
            "ollama_model:fit: Restoring...
ollama_model:fit: Restore complete after [DURATION]
ollama_env:OLLAMA_HOST: Restoring...
ollama_env:OLLAMA_HOST: Restore complete after [DURATION]
Restarting the Ollama server...
Restarted: the Ollama server
",
        )
        .run();
    version("11434")
        .stdout("{\"version\":\"0.32.15\"}\n200")
        .run();
}

/// The same over SSH, where requests go through the remote Mac's `curl` to its loopback:
/// to the port the spec moves the server to, after the restart.
#[test]
#[ignore = "needs root and /usr/sbin/sshd; run with --include-ignored"]
fn over_ssh_models_follow_the_server_to_the_port_of_ollama_host() {
    require_sshd();
    let mac = Mac::new();
    let keys = Keys::new(&mac.work);
    let sshd = keys.sshd(&mac.dir, &shim(&mac.work, BIN));
    mac.spec(PORT_SPEC);
    let host = format!("ssh:127.0.0.1:{}", sshd.port);
    let on = |args: &[&str]| {
        let mut all = vec!["--host", &host];
        all.extend_from_slice(args);
        mac.macllm(&all)
            .env(ENV_SSH_CONFIG, keys.dir.join("client_config"))
            .redact(format!("127.0.0.1:{}", sshd.port), "[MAC]")
            // root's shell startup files run `mkdir`, which the shim on the remote PATH
            // answers: noise of this machine, not of macllm.
            .redact("mkdir: /root: Read-only file system\n", "")
    };
    on(&["apply", "--yes"])
        .stdout(
            // Over SSH too the variable goes to Homebrew's service env file (brew is found
            // on PATH when neither prefix has it).
            &PORT_APPLY.replace("sandbox:mac", "ssh:[MAC]"),
        )
        .stderr(PORT_APPLY_PROGRESS)
        .run();
    on(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
}

const PORT_SPEC: &str = "macllm: 1\nollama:\n  env:\n    OLLAMA_HOST: 127.0.0.1:11500\n  models:\n    - name: fit\n      from: llama3.2:3b\n      parameters: { num_ctx: 4096 }\n";

const PORT_APPLY: &str = r#"
macllm will perform the following actions on sandbox:mac:

  # ollama_env:OLLAMA_HOST will be created
  ~ value = <<-EOT
          + {
          +   "env_file": "127.0.0.1:11500",
          +   "server": "http://127.0.0.1:11500",
          + }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

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

Plan: 2 to add, 0 to change, 0 to destroy.
After the changes: restart the Ollama server.

Apply complete! Resources: 2 added, 0 changed, 0 destroyed.
"#;

const PORT_APPLY_PROGRESS: &str = r#"ollama_env:OLLAMA_HOST: Creating...
ollama_env:OLLAMA_HOST: Creation complete after [DURATION]
Restarting the Ollama server...
Restarted: the Ollama server, and it reports the new variables
ollama_model:fit: Creating...
fit: using existing layer sha256:52dd90d6e8c6b743ce155f94dc0c05e350186d111594d0a7ecd37d64370d513b
fit: using existing layer sha256:86d3115c9700fc6bfe75e7bd5a3c744d7108a0ea384c82115788ea3935a041ba
fit: using existing layer sha256:c5153b289c8c323211ecc4dc89c742b723083a4c012944bfa47888835548bcc2
fit: using existing layer sha256:dd56c7962561a828a0007b3c3708d096e4e6ea71cc749d5447d2bc030a58849f
fit: creating new layer sha256:2ddc2012d468e62e6ca237f0db4b9496906340ec431b28c27edc069ad00e1993
fit: writing manifest
fit: success
ollama_model:fit: Creation complete after [DURATION]
"#;

const PORT_MOVED: &str = r#"
macllm will perform the following actions on sandbox:mac:

  # ollama_env:OLLAMA_HOST will be updated in-place
  ~ value = <<-EOT
            {
          -   "env_file": "127.0.0.1:11500",
          -   "server": "http://127.0.0.1:11500",
          +   "env_file": "127.0.0.1:11600",
          +   "server": "http://127.0.0.1:11600",
            }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

Plan: 0 to add, 1 to change, 0 to destroy.
After the changes: restart the Ollama server.

Apply complete! Resources: 0 added, 1 changed, 0 destroyed.
"#;

const PORT_DESTROY: &str = r#"
macllm will perform the following actions on sandbox:mac:

  # ollama_model:fit will be deleted (it was absent before macllm)
  ~ value = <<-EOT
          - FROM llama3.2:3b
          - TEMPLATE "{{- if or .System .Tools }}<|start_header_id|>system<|end_header_id|>\n\n{{ if .System }}{{ .System }}{{ end }}\n{{- if .Tools }}\n\nYou can call these functions; answer with a JSON object {\"name\": ..., \"parameters\": ...}:\n{{ range .Tools }}{{ . }}\n{{ end }}{{ end }}<|eot_id|>{{ end }}{{ if .Prompt }}<|start_header_id|>user<|end_header_id|>\n\n{{ .Prompt }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n{{ .Response }}<|eot_id|>"
          - PARAMETER num_ctx 4096
          - PARAMETER stop "<|end_header_id|>"
          - PARAMETER stop "<|eot_id|>"
          - PARAMETER stop "<|start_header_id|>"
          - LICENSE "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\nLlama 3.2 Version Release Date: September 25, 2024\n\n(The emulated registry keeps only the first lines of this license.)\n**Llama 3.2** **Acceptable Use Policy**\n\n(The emulated registry keeps only the first lines of this policy.)"
          - 
        EOT

  # ollama_env:OLLAMA_HOST will be deleted (it was absent before macllm)
  ~ value = <<-EOT
          - {
          -   "env_file": "127.0.0.1:11600",
          -   "server": "http://127.0.0.1:11600",
          - }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

Plan: 0 to add, 0 to change, 2 to destroy.
After the changes: restart the Ollama server.

Destroy complete! Resources: 2 destroyed.
"#;
