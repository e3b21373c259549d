//! Spec text built from values read on a Mac. Every value goes through serde_yaml, so no
//! text read from the Mac can become YAML syntax; and every string that holds template
//! syntax (`{{`, `{%`, `{#`) is written as one minijinja string literal, `{{ "..." }}`, whose
//! rendering is the string itself: the loader renders each string value on its own
//! (src/spec/template.rs), so a value written as it is would be run as a template.

use serde_yaml::Value as Yaml;

/// Whether the loader would take `text` for a template (or may, for `{#` comments).
pub fn holds_template_syntax(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

/// `text` as a spec value that comes out of the loader exactly as `text`.
///
/// Text without `endraw` goes inside one `{% raw %}` block, which minijinja copies through
/// untouched up to the first `endraw` tag: it stays readable (an Ollama template keeps its
/// lines). Any other text becomes one string literal, [`literal`].
pub fn verbatim(text: &str) -> Yaml {
    if !holds_template_syntax(text) {
        return Yaml::String(text.to_string());
    }
    if !text.contains("endraw") {
        return Yaml::String(format!("{{% raw %}}{text}{{% endraw %}}"));
    }
    literal(text)
}

/// `text` as one whole-value expression, `{{ "..." }}`, that gives `text`. The literal
/// escapes `\`, `"`, the braces, `%`, `#` and every control character as `\uXXXX`
/// (minijinja's `unescape` reads `\"`, `\\` and `\uXXXX`), so it holds no `{{`, `}}`, `{%`
/// or `%}` of its own and the loader sees one expression.
fn literal(text: &str) -> Yaml {
    let mut literal = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\\' => literal.push_str("\\\\"),
            '"' => literal.push_str("\\\""),
            '{' | '}' | '%' | '#' => literal.push_str(&format!("\\u{:04x}", c as u32)),
            c if c.is_control() => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    literal.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => literal.push(c),
        }
    }
    Yaml::String(format!("{{{{ \"{literal}\" }}}}"))
}

/// `value` with every string made [`verbatim`]; `None` when a mapping key holds template
/// syntax (the loader refuses templated keys, and a key cannot be a literal).
pub fn protect(value: Yaml) -> Option<Yaml> {
    Some(match value {
        Yaml::String(text) => verbatim(&text),
        Yaml::Sequence(items) => {
            Yaml::Sequence(items.into_iter().map(protect).collect::<Option<Vec<_>>>()?)
        }
        Yaml::Mapping(map) => {
            let mut out = serde_yaml::Mapping::new();
            for (key, value) in map {
                if key.as_str().is_some_and(holds_template_syntax) {
                    return None;
                }
                out.insert(key, protect(value)?);
            }
            Yaml::Mapping(out)
        }
        other => other,
    })
}

/// A comment line's text: one line, whatever it quotes.
pub fn comment(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `value` serialised and indented by `indent` spaces (uniform indentation keeps block
/// scalars valid: their indentation is relative to their parent's).
pub fn indented(value: &Yaml, indent: usize) -> String {
    let text = serde_yaml::to_string(value).unwrap_or_default();
    let pad = " ".repeat(indent);
    let mut out = String::new();
    for line in text.lines() {
        if line.is_empty() {
            out.push('\n');
        } else {
            out.push_str(&pad);
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A mapping built in the order fields are given.
pub fn map<const N: usize>(fields: [(&str, Yaml); N]) -> Yaml {
    let mut out = serde_yaml::Mapping::new();
    for (key, value) in fields {
        out.insert(Yaml::String(key.to_string()), value);
    }
    Yaml::Mapping(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::template::{At, Renderer};
    use std::path::Path;

    /// What the spec loader makes of `value` written as a spec value: YAML parse, then the
    /// template renderer for one value.
    fn loaded(value: &Yaml) -> Yaml {
        let text = indented(&map([("value", value.clone())]), 0);
        let parsed: Yaml = serde_yaml::from_str(&text).unwrap();
        let written = parsed["value"].clone();
        let Yaml::String(source) = &written else {
            return written;
        };
        if !crate::spec::template::has_template(source) {
            return written;
        }
        let mut renderer = Renderer::new(&serde_json::json!({"host": {}, "vars": {}}));
        renderer
            .value(
                source,
                &At {
                    file: Path::new("t.yaml"),
                    text: &text,
                    path: &[],
                },
            )
            .unwrap_or_else(|err| panic!("{text}: {err}"))
    }

    const HOSTILE: &[&str] = &[
        "{{ host.hostname }}",
        "{% raw %}x{% endraw %}",
        "{% endraw %}{{ 7 * 7 }}",
        "{# comment #}",
        "a }} b {{ c",
        "\"quoted\" and 'single' \\ back",
        "line one\nline two\n",
        "trailing newlines\n\n",
        "  leading spaces",
        "key: value # not a comment",
        "- not a list",
        "&anchor *alias !tag",
        "true",
        "0x1F",
        "~",
        "",
        "tab\there \u{7} bell \u{1b}[0m",
        "{{ \"\\u0041\" }}",
        "%{{%}}%#",
        "emoji 🦙 {{ and }} ünïcode",
        "\r\n{{}}",
        "{% raw %}nested {% raw %} start",
        "{%- endraw %} {%+endraw%}",
        "endraw {{ x }}",
        "multi\nline {{ .Prompt }}\n\n",
        "{{ ends with {",
        "{{ ends with {%",
        "{{ ends with {%-",
        "{{ ends with {%- ",
        "{# unclosed",
        "  {% if x %}\n  indented\n  {% endif %}\n",
    ];

    #[test]
    fn hostile_strings_load_verbatim() {
        for text in HOSTILE {
            let value = verbatim(text);
            assert_eq!(loaded(&value), Yaml::String(text.to_string()), "{text:?}");
            assert_eq!(
                loaded(&literal(text)),
                Yaml::String(text.to_string()),
                "{text:?} as a literal"
            );
        }
    }

    #[test]
    fn plain_strings_stay_plain() {
        assert_eq!(verbatim("5m"), Yaml::String("5m".into()));
        assert_eq!(verbatim("a { b } c"), Yaml::String("a { b } c".into()));
    }

    #[test]
    fn templated_keys_cannot_be_protected() {
        let value = map([("{{ x }}", Yaml::Bool(true))]);
        assert_eq!(protect(value), None);
        let nested = map([("ok", Yaml::Sequence(vec![verbatim("{{ y }}")]))]);
        assert!(protect(nested).is_some());
    }

    #[test]
    fn comments_are_one_line() {
        assert_eq!(comment("a\nb\rc"), "a b c");
    }
}
