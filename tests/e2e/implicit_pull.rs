//! A custom model whose base `pull:` does not list (issue 13). Ollama's create pulls a missing
//! `from` unasked (ollama/ollama `server/model.go` `parseFromModel` -> `PullModel`;
//! reference/ollama.md 1.5), so before, apply downloaded gigabytes the plan never showed and
//! destroy left them behind. The pull is now planned, applied first and recorded, and destroy
//! removes it, but only when the base was not on the Mac before.

use crate::harness::{LLAMA31_PULL, Mac};

/// `llama3.1:8b` is in the emulated registry, not on the preset Mac; `terser` is built on
/// the custom model `terse`.
const SPEC: &str = "macllm: 1
ollama:
  models:
    - name: terse
      from: llama3.1:8b
      parameters: {num_ctx: 4096}
    - name: terser
      from: terse
      system: Answer in one word.
";

/// The plan of SPEC on a Mac that has none of it.
const PLAN: &str = r#"
macllm will perform the following actions on sandbox:mac:

  # ollama_pull:llama3.1:8b will be created
  + value = true
    # not in `pull:`; pulled because ollama_model:terse is built from it

  # ollama_model:terse will be created
  ~ value = <<-EOT
          + FROM llama3.1:8b
          + PARAMETER num_ctx 4096
          + 
        EOT

  # ollama_model:terser will be created
  ~ value = <<-EOT
          + FROM terse:latest
          + SYSTEM "Answer in one word."
          + 
        EOT

Plan: 3 to add, 0 to change, 0 to destroy.
"#;

#[test]
fn a_base_not_in_pull_is_planned_recorded_and_destroyed() {
    let mac = Mac::new();
    mac.spec(SPEC);
    mac.on(&["plan", "--detailed-exitcode"])
        .status(2)
        .stdout(PLAN)
        .run();
    mac.on(&["--json", "graph"])
        .stdout(
            r#"{
  "edges": [
    {
      "from": "ollama_model:terse",
      "to": "ollama_model:terser"
    },
    {
      "from": "ollama_pull:llama3.1:8b",
      "to": "ollama_model:terse"
    }
  ],
  "format_version": "1.0",
  "resources": [
    "ollama_pull:llama3.1:8b",
    "ollama_model:terse",
    "ollama_model:terser"
  ]
}
"#,
        )
        .run();
    mac.on(&["apply", "--yes"])
        .stdout(&format!(
            "{PLAN}\nApply complete! Resources: 3 added, 0 changed, 0 destroyed.\n"
        ))
        .stderr(&format!(
            r#"ollama_pull:llama3.1:8b: Creating...
{LLAMA31_PULL}ollama_pull:llama3.1:8b: Creation complete after [DURATION]
ollama_model:terse: Creating...
terse: using existing layer sha256:c4c6b623ed660ffc8d8824cd56312ba7770bd01e5ad06692f542e103ebcedd82
terse: using existing layer sha256:303354fa37c392a69101d7cb59c3659ff0d043079734619bf9af422ef8104dde
terse: using existing layer sha256:094a3f8c4d9fb6901c47ebf3c70584bfaa64f2082bfba4bc1c9f3e7221286558
terse: creating new layer sha256:2ddc2012d468e62e6ca237f0db4b9496906340ec431b28c27edc069ad00e1993
terse: writing manifest
terse: success
ollama_model:terse: Creation complete after [DURATION]
ollama_model:terser: Creating...
terser: using existing layer sha256:c4c6b623ed660ffc8d8824cd56312ba7770bd01e5ad06692f542e103ebcedd82
terser: using existing layer sha256:303354fa37c392a69101d7cb59c3659ff0d043079734619bf9af422ef8104dde
terser: using existing layer sha256:094a3f8c4d9fb6901c47ebf3c70584bfaa64f2082bfba4bc1c9f3e7221286558
terser: creating new layer sha256:bc08b15e1d666817a85deb76df71182f5b17ee4ea314f8635a98fe14b17b4ad3
terser: using existing layer sha256:2ddc2012d468e62e6ca237f0db4b9496906340ec431b28c27edc069ad00e1993
terser: writing manifest
terser: success
ollama_model:terser: Creation complete after [DURATION]
"#
        ))
        .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout(
            r#"
No changes. The host matches the spec.
"#,
        )
        .run();
    mac.on(&["state", "list"])
        .stdout(
            r#"ollama_model:terse
ollama_model:terser
ollama_pull:llama3.1:8b
"#,
        )
        .run();
    mac.on(&["destroy", "--yes"]).stdout(r#"
macllm will perform the following actions on sandbox:mac:

  # ollama_model:terser will be deleted (it was absent before macllm)
  ~ value = <<-EOT
          - FROM terse:latest
          - SYSTEM "Answer in one word."
          - TEMPLATE "<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n\n{{ if .System }}{{ .System }}\n{{- end }}\n{{- if .Tools }}When you receive a tool call response, use the output to format an answer to the orginal user question.\n\nYou are a helpful assistant with tool calling capabilities.\n{{- end }}<|eot_id|>\n{{- range $i, $_ := .Messages }}\n{{- $last := eq (len (slice $.Messages $i)) 1 }}\n{{- if eq .Role \"user\" }}<|start_header_id|>user<|end_header_id|>\n{{- if and $.Tools $last }}\n\nGiven the following functions, please respond with a JSON for a function call with its proper arguments that best answers the given prompt.\n\nRespond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}. Do not use variables.\n\n{{ range $.Tools }}\n{{- . }}\n{{ end }}\n{{ .Content }}<|eot_id|>\n{{- else }}\n\n{{ .Content }}<|eot_id|>\n{{- end }}{{ if $last }}<|start_header_id|>assistant<|end_header_id|>\n\n{{ end }}\n{{- else if eq .Role \"assistant\" }}<|start_header_id|>assistant<|end_header_id|>\n{{- if .ToolCalls }}\n{{ range .ToolCalls }}\n{\"name\": \"{{ .Function.Name }}\", \"parameters\": {{ .Function.Arguments }}}{{ end }}\n{{- else }}\n\n{{ .Content }}\n{{- end }}{{ if not $last }}<|eot_id|>{{ end }}\n{{- else if eq .Role \"tool\" }}<|start_header_id|>ipython<|end_header_id|>\n\n{{ .Content }}<|eot_id|>{{ if $last }}<|start_header_id|>assistant<|end_header_id|>\n\n{{ end }}\n{{- end }}\n{{- end }}\n"
          - PARAMETER num_ctx 4096
          - PARAMETER stop "<|end_header_id|>"
          - PARAMETER stop "<|eot_id|>"
          - PARAMETER stop "<|start_header_id|>"
          - LICENSE "LLAMA 3.1 COMMUNITY LICENSE AGREEMENT\nLlama 3.1 Version Release Date: July 23, 2024\n\n(The emulated registry keeps only the first lines of this license.)"
          - 
        EOT

  # ollama_model:terse will be deleted (it was absent before macllm)
  ~ value = <<-EOT
          - FROM llama3.1:8b
          - TEMPLATE "<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n\n{{ if .System }}{{ .System }}\n{{- end }}\n{{- if .Tools }}When you receive a tool call response, use the output to format an answer to the orginal user question.\n\nYou are a helpful assistant with tool calling capabilities.\n{{- end }}<|eot_id|>\n{{- range $i, $_ := .Messages }}\n{{- $last := eq (len (slice $.Messages $i)) 1 }}\n{{- if eq .Role \"user\" }}<|start_header_id|>user<|end_header_id|>\n{{- if and $.Tools $last }}\n\nGiven the following functions, please respond with a JSON for a function call with its proper arguments that best answers the given prompt.\n\nRespond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}. Do not use variables.\n\n{{ range $.Tools }}\n{{- . }}\n{{ end }}\n{{ .Content }}<|eot_id|>\n{{- else }}\n\n{{ .Content }}<|eot_id|>\n{{- end }}{{ if $last }}<|start_header_id|>assistant<|end_header_id|>\n\n{{ end }}\n{{- else if eq .Role \"assistant\" }}<|start_header_id|>assistant<|end_header_id|>\n{{- if .ToolCalls }}\n{{ range .ToolCalls }}\n{\"name\": \"{{ .Function.Name }}\", \"parameters\": {{ .Function.Arguments }}}{{ end }}\n{{- else }}\n\n{{ .Content }}\n{{- end }}{{ if not $last }}<|eot_id|>{{ end }}\n{{- else if eq .Role \"tool\" }}<|start_header_id|>ipython<|end_header_id|>\n\n{{ .Content }}<|eot_id|>{{ if $last }}<|start_header_id|>assistant<|end_header_id|>\n\n{{ end }}\n{{- end }}\n{{- end }}\n"
          - PARAMETER num_ctx 4096
          - PARAMETER stop "<|end_header_id|>"
          - PARAMETER stop "<|eot_id|>"
          - PARAMETER stop "<|start_header_id|>"
          - LICENSE "LLAMA 3.1 COMMUNITY LICENSE AGREEMENT\nLlama 3.1 Version Release Date: July 23, 2024\n\n(The emulated registry keeps only the first lines of this license.)"
          - 
        EOT

  # ollama_pull:llama3.1:8b will be deleted (it was absent before macllm)
  - value = true -> null
    # not in `pull:`; pulled because ollama_model:terse is built from it

Plan: 0 to add, 0 to change, 3 to destroy.

Destroy complete! Resources: 3 destroyed.
"#).stderr(r#"ollama_model:terser: Restoring...
ollama_model:terser: Restore complete after [DURATION]
ollama_model:terse: Restoring...
ollama_model:terse: Restore complete after [DURATION]
ollama_pull:llama3.1:8b: Restoring...
ollama_pull:llama3.1:8b: Restore complete after [DURATION]
"#).run();
    // Gone: a plan pulls it again.
    mac.on(&["plan"]).stdout(PLAN).run();
}

/// A base the user had before apply is never removed: it is not even recorded.
#[test]
fn a_base_that_was_on_the_mac_stays() {
    let mac = Mac::new();
    mac.spec(&SPEC.replace("llama3.1:8b", "llama3.2:3b"));
    // Only the models: the base is there.
    let models_only = r#"
macllm will perform the following actions on sandbox:mac:

  # ollama_model:terse will be created
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

  # ollama_model:terser will be created
  ~ value = <<-EOT
          + FROM terse:latest
          + SYSTEM "Answer in one word."
          + 
        EOT

Plan: 2 to add, 0 to change, 0 to destroy.
"#;
    mac.on(&["plan"]).stdout(models_only).run();
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    mac.on(&["state", "list"])
        .stdout(
            r#"ollama_model:terse
ollama_model:terser
"#,
        )
        .run();
    mac.on(&["destroy", "--yes"])
        .stdout_any()
        .stderr_any()
        .run();
    // Still there: a plan builds the models again and pulls nothing.
    mac.on(&["plan"]).stdout(models_only).run();
}

/// Two models on one base not in `pull:` share one pull, which names both; a base listed in
/// `pull:` is pulled as listed, with no note.
#[test]
fn one_pull_for_a_base_two_models_share() {
    let mac = Mac::new();
    mac.spec(
        "macllm: 1
ollama:
  pull: [qwen2.5:7b]
  models:
    - {name: a, from: llama3.1:8b}
    - {name: b, from: llama3.1:8b}
    - {name: c, from: qwen2.5:7b}
",
    );
    mac.on(&["--json", "graph"])
        .stdout(
            r#"{
  "edges": [
    {
      "from": "ollama_pull:llama3.1:8b",
      "to": "ollama_model:a"
    },
    {
      "from": "ollama_pull:llama3.1:8b",
      "to": "ollama_model:b"
    },
    {
      "from": "ollama_pull:qwen2.5:7b",
      "to": "ollama_model:c"
    }
  ],
  "format_version": "1.0",
  "resources": [
    "ollama_pull:llama3.1:8b",
    "ollama_model:a",
    "ollama_model:b",
    "ollama_pull:qwen2.5:7b",
    "ollama_model:c"
  ]
}
"#,
        )
        .run();
    mac.on(&["plan"])
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # ollama_pull:llama3.1:8b will be created
  + value = true
    # not in `pull:`; pulled because ollama_model:a and ollama_model:b are built from it

  # ollama_model:a will be created
  ~ value = <<-EOT
          + FROM llama3.1:8b
          + 
        EOT

  # ollama_model:b will be created
  ~ value = <<-EOT
          + FROM llama3.1:8b
          + 
        EOT

  # ollama_pull:qwen2.5:7b will be created
  + value = true

  # ollama_model:c will be created
  ~ value = <<-EOT
          + FROM qwen2.5:7b
          + 
        EOT

Plan: 5 to add, 0 to change, 0 to destroy.
"#,
        )
        .run();
}
