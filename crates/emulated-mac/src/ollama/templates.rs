//! Which template a model runs with and shows, after ollama/ollama v0.32.15
//! `server/images.go` (`chatTemplateCapabilities` 187-200, `chatTemplateHasToolRoundTrip`
//! 206-221, `chatTemplateHasThinkingSupport` 223-234, `goTemplateCapabilities` 236-261,
//! `goTemplateHasToolRoundTrip` 263-277, `shouldPreferChatTemplate` 295-307,
//! `goTemplateEnvSet` 309-311, `GetModel` 790-795) and `server/routes.go`
//! (`selectedModelTemplate` 1623-1630, `chatModeForModel` 2357-2363, `usesOllamaRenderedChat`
//! 2372-2374, `shouldUseGoTemplate` 2376-2385; research note issue10 section 2.3).
//!
//! A model has a Go `TEMPLATE` layer and/or a GGUF `tokenizer.chat_template` (Jinja). With
//! `OLLAMA_GO_TEMPLATE` unset, the Jinja template wins over the Go one when it can do more
//! (more capabilities, or the same tool capability with a tool round trip the Go one lacks);
//! set to anything, the variable decides alone. A model that does not use Ollama's own
//! rendering runs "native" (llama-server applies the Jinja template), and `/api/show` then
//! returns the Jinja text as `template`.
//!
//! Go templates are not parsed here: `vars` and `infer_thinking_tags` read the action text
//! the way `template.Vars()` and `thinking.InferTags` read the parse tree, which agrees for
//! the templates Ollama ships and the ones its tests use.

use super::store::Model;

/// `chatTemplateHasToolSupport`.
pub fn jinja_has_tools(t: &str) -> bool {
    t.contains("tools") || t.contains("tool_call")
}

/// `chatTemplateHasThinkingSupport`.
pub fn jinja_has_thinking(t: &str) -> bool {
    if t.contains("<think>") && t.contains("</think>") {
        return true;
    }
    (t.contains("content.split('</think>')") || t.contains("content.split(\"</think>\")"))
        && !t.contains("reasoning_content")
        && !t.contains("<SPECIAL_12>")
}

/// `chatTemplateCapabilities` of an empty list.
pub fn jinja_capabilities(t: &str) -> Vec<&'static str> {
    let mut caps = Vec::new();
    if t.is_empty() {
        return caps;
    }
    if jinja_has_tools(t) {
        caps.push("tools");
    }
    if jinja_has_thinking(t) {
        caps.push("thinking");
    }
    caps
}

/// `chatTemplateHasToolRoundTrip`.
pub fn jinja_round_trip(t: &str) -> bool {
    if !jinja_has_tools(t) {
        return false;
    }
    let calls = t.contains("tool_calls") || t.contains("assistant_tool_call");
    calls
        && [
            "tool_response",
            "tool_results",
            "role'] == 'tool'",
            "role'] == \"tool\"",
            "role\"] == 'tool'",
            "role\"] == \"tool\"",
            "message.role == 'tool'",
            "message.role == \"tool\"",
            "ipython",
        ]
        .iter()
        .any(|needle| t.contains(needle))
}

/// The `{{ … }}` actions of a Go template, trim markers removed.
fn actions(t: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = t;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            break;
        };
        out.push(after[..close].trim_matches(|c: char| c == '-' || c.is_whitespace()));
        rest = &after[close + 2..];
    }
    out
}

/// `template.Vars()`: the lower-cased field names the actions use (`.Tools`, `$.Tools`,
/// `.Function.Name` → `tools`, `function`).
pub fn vars(t: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for action in actions(t) {
        let bytes = action.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            if *b != b'.' {
                continue;
            }
            let prev = if i == 0 { b' ' } else { bytes[i - 1] };
            if prev.is_ascii_alphanumeric() || prev == b'_' || prev == b')' {
                continue;
            }
            let name: String = action[i + 1..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let name = name.to_lowercase();
            if !name.is_empty() && !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}

/// `thinking.InferTags`: a `{{ .Thinking }}` inside a `range` over `.Messages`, between a
/// text that opens its block and a text that closes it (`<think>{{ .Thinking }}</think>`).
pub fn infer_thinking_tags(t: &str) -> Option<(String, String)> {
    let range = t.find("range").filter(|r| t[*r..].contains(".Messages"))?;
    let mut search = range;
    while let Some(found) = t[search..].find(".Thinking") {
        let at = search + found;
        search = at + 1;
        let open = t[..at].rfind("{{")?;
        let Some(close) = t[at..].find("}}").map(|c| at + c + 2) else {
            break;
        };
        let action = t[open + 2..close - 2].trim_matches(|c: char| c == '-' || c.is_whitespace());
        if action != ".Thinking" {
            continue;
        }
        let before_end = open;
        let before_start = t[..before_end].rfind("}}").map_or(0, |p| p + 2);
        let after_end = t[close..].find("{{").map_or(t.len(), |p| close + p);
        let opening = t[before_start..before_end].trim();
        let closing = t[close..after_end].trim();
        if !opening.is_empty() && !closing.is_empty() {
            return Some((opening.to_string(), closing.to_string()));
        }
    }
    None
}

/// `goTemplateCapabilities`.
pub fn go_capabilities(t: &str) -> Vec<&'static str> {
    let v = vars(t);
    let mut caps = Vec::new();
    if v.iter().any(|n| n == "tools") {
        caps.push("tools");
    }
    if v.iter().any(|n| n == "suffix") {
        caps.push("insert");
    }
    if infer_thinking_tags(t).is_some() {
        caps.push("thinking");
    }
    caps
}

/// `goTemplateHasToolRoundTrip`.
pub fn go_round_trip(t: &str) -> bool {
    let v = vars(t);
    v.iter().any(|n| n == "tools")
        && v.iter().any(|n| n == "toolcalls")
        && (t.contains("eq .Role \"tool\"")
            || t.contains("tool_response")
            || t.contains("TOOL_RESULTS"))
}

/// `shouldPreferChatTemplate` (v0.30.11 and later, commit 16739dee6).
pub fn should_prefer_chat_template(jinja: &str, go: &str) -> bool {
    let jinja_caps = jinja_capabilities(jinja);
    let go_caps = go_capabilities(go);
    if jinja_caps.len() > go_caps.len() {
        return !go_round_trip(go) || jinja_round_trip(jinja);
    }
    let same = jinja_caps.len() == go_caps.len() && jinja_caps.iter().all(|c| go_caps.contains(c));
    if !same || !jinja_caps.contains(&"tools") || !go_caps.contains(&"tools") {
        return false;
    }
    jinja_round_trip(jinja) && !go_round_trip(go)
}

/// `shouldUseHarmony`.
pub fn uses_harmony(model: &Model) -> bool {
    let family = model.config_str("model_family");
    (family == "gptoss" || family == "gpt-oss")
        && model.template.contains("<|start|>")
        && model.template.contains("<|end|>")
}

/// `Model.PreferChatTemplate` as `GetModel` sets it.
pub fn prefer_chat_template(model: &Model) -> bool {
    model.go_template_env.is_none()
        && model.has_go_template
        && !model.chat_template.is_empty()
        && model.config_str("renderer").is_empty()
        && model.config_str("parser").is_empty()
        && !uses_harmony(model)
        && should_prefer_chat_template(&model.chat_template, &model.template)
}

/// `shouldUseGoTemplate`: never without a TEMPLATE layer; `OLLAMA_GO_TEMPLATE`'s value when
/// it is set (to anything: `goTemplateEnvSet`); else unless the Jinja template is preferred.
pub fn uses_go_template(model: &Model) -> bool {
    if !model.has_go_template {
        return false;
    }
    match model.go_template_env {
        Some(value) => value,
        None => !prefer_chat_template(model),
    }
}

/// `usesOllamaRenderedChat`.
pub fn rendered_by_ollama(model: &Model) -> bool {
    !model.config_str("renderer").is_empty()
        || !model.config_str("parser").is_empty()
        || uses_harmony(model)
        || uses_go_template(model)
}

/// `chatModeForModel(m) == chatExecutionModeNative`.
pub fn native(model: &Model) -> bool {
    model.config_str("model_format") != "safetensors" && !rendered_by_ollama(model)
}

/// `selectedModelTemplate`: what `/api/show` returns as `template`.
pub fn selected_template(model: &Model) -> String {
    if !model.chat_template.is_empty() && native(model) {
        model.chat_template.clone()
    } else {
        model.template.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The GGUF and TEMPLATE of `TestShowTemplateUsesSelectedRuntimeTemplate`
    /// (server/routes_test.go 807-833) and the cases of `server/images_test.go` 90-260.
    const TEST_JINJA: &str =
        "{% if tools %}{{ tools }}{% endif %}{% set content = (content.split('</think>')|last) %}";
    const TEST_GO: &str = "{{ range .Messages }}{{ if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}{{ .Content }}{{ end }}";

    #[test]
    fn capabilities_of_the_upstream_test_templates() {
        assert_eq!(jinja_capabilities(TEST_JINJA), ["tools", "thinking"]);
        assert_eq!(go_capabilities(TEST_GO), ["thinking"]);
        assert_eq!(
            infer_thinking_tags(TEST_GO),
            Some(("<think>".into(), "</think>".into()))
        );
        assert!(should_prefer_chat_template(TEST_JINJA, TEST_GO));
        // "prefers chat template when Go TEMPLATE has fewer capabilities"
        assert!(should_prefer_chat_template(
            "{% if tools %}{{ tools }}{% endif %}{{ messages[0]['content'] }}",
            "{{ .Prompt }}"
        ));
        // "prefers chat template with stronger tool round trip"
        let jinja = "{% if tools %}{{ tools }}{% endif %}\n{% for message in messages %}\n{% if message.tool_calls %}\n{% for tool_call in message.tool_calls %}{{ tool_call.function.name }}{% endfor %}\n{% endif %}\n{% if message.role == 'tool' %}tool_response {{ message.content }}{% endif %}\n{% endfor %}";
        let go = "{{ if .Tools }}tools{{ end }}\n{{ range .Messages }}\n{{ range .ToolCalls }}{{ .Function.Name }}{{ end }}\n{{ end }}";
        assert!(should_prefer_chat_template(jinja, go));
        // "keeps Go TEMPLATE when chat template has weaker tool support" (Granite style)
        let jinja = "{%- if tools and not available_tools -%}\n{{- set available_tools = tools -}}\n{%- endif -%}\n{%- if available_tools -%}\n{{ '<|start_of_role|>available_tools<|end_of_role|>' }}{{ available_tools | tojson }}{{ '<|end_of_text|>' }}\n{%- endif -%}\n{%- if thinking -%}<think></think><response></response>{%- endif -%}\n{%- for message in messages -%}\n{{ '<|start_of_role|>' + message['role'] + '<|end_of_role|>' + message['content'] + '<|end_of_text|>' }}\n{%- endfor -%}";
        let go = "{{ if .Tools }}tools{{ end }}\n{{ range .Messages }}\n{{ if eq .Role \"tool\" }}tool_response{{ else }}{{ .Role }}{{ end }}\n{{ if .ToolCalls }}<|tool_call|>{{ range .ToolCalls }}{{ .Function.Name }}{{ end }}{{ else }}{{ .Content }}{{ end }}\n{{ end }}";
        assert!(go_round_trip(go));
        assert!(!should_prefer_chat_template(jinja, go));
    }

    #[test]
    fn vars_are_lower_cased_field_names() {
        assert_eq!(
            vars("{{ range $.Tools }}{{ .Function.Name }}{{ end }}{{ if .ToolCalls }}x{{ end }}"),
            ["tools", "function", "toolcalls"]
        );
        assert!(vars("{{ .Prompt }}").contains(&"prompt".to_string()));
    }
}
