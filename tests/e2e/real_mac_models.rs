//! Custom models as a real Ollama (v0.32.15) keeps them: `/api/show`'s `template` is the
//! template the server selects (`selectedModelTemplate`, `server/images.go`), which for a
//! GGUF with a richer Jinja chat template is that one, not the TEMPLATE the model stores; the
//! stored TEMPLATE is the `TEMPLATE` command of the shown Modelfile.

use crate::harness::{LLAMA31_PULL, Mac};

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
