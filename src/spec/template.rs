//! The spec is a minijinja template rendered before it is parsed, with the host's facts
//! (`host.memory_gb`, `host.performance_cores`, ...) and the spec's own `vars`. Undefined
//! names are errors (strict mode) reported at the template's line.
//!
//! A quoted scalar that is one expression and nothing else (`num_ctx: "{{ 2048 if
//! host.memory_gb <= 8 else 4096 }}"`) keeps the type of its result: it is rendered as a
//! YAML scalar, so an integer lands in an integer field. Expressions inside longer strings
//! render as text.

use super::SpecError;
use minijinja::{Environment, UndefinedBehavior, Value as Jinja};
use std::path::Path;

/// The most instructions one render may run: a spec runs a few hundred, so this is far beyond
/// any real one, yet it stops a template whose nested loops would run for hours within seconds.
pub const FUEL: u64 = 20_000_000;

/// Renders `text`; `context` is a JSON object (`host`, `vars`, and in modules `params`).
pub fn render(file: &Path, text: &str, context: &serde_json::Value) -> Result<String, SpecError> {
    if !text.contains("{{") && !text.contains("{%") {
        return Ok(text.to_string());
    }
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    env.add_filter("yaml_scalar", yaml_scalar);
    // `secret("name")`: from the OS keyring; the value is remembered so every output masks
    // it, and the resources it lands in are marked sensitive.
    env.add_function("secret", |name: String| {
        crate::secret::get(&name).map_err(|err| {
            minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, err.to_string())
        })
    });
    let source = typed_expressions(text);
    env.render_str(&source, Jinja::from(minijinja::value::Serde(context)))
        .map_err(|err| {
            let line = err.line().unwrap_or(1);
            let column = text
                .lines()
                .nth(line.saturating_sub(1))
                .and_then(|l| l.find("{{").or_else(|| l.find("{%")))
                .map_or(1, |c| c + 1);
            let detail = if err.kind() == minijinja::ErrorKind::OutOfFuel {
                format!(
                    "the template ran more than {FUEL} steps and was stopped (loops nested too deep?)"
                )
            } else {
                err.detail()
                    .map(str::to_string)
                    .unwrap_or_else(|| err.kind().to_string())
            };
            SpecError::new(
                file,
                text,
                line,
                column,
                String::new(),
                format!("template error: {detail}"),
            )
            .with_hint(
                "templates see `host` (the Mac's facts: `macllm facts` lists them) and `vars`",
            )
        })
}

/// `"{{ expr }}"` / `'{{ expr }}'` as a whole scalar -> `{{ (expr) | yaml_scalar }}`.
fn typed_expressions(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let quote = rest[..start].chars().last();
        let Some(end) = rest[start..].find("}}").map(|e| start + e + 2) else {
            break;
        };
        let closes = quote.is_some_and(|q| (q == '"' || q == '\'') && rest[end..].starts_with(q));
        if closes {
            let expression = rest[start + 2..end - 2].trim();
            out.push_str(&rest[..start - 1]);
            out.push_str(&format!("{{{{ ({expression}) | yaml_scalar }}}}"));
            rest = &rest[end + 1..];
        } else {
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

/// A value as a YAML flow scalar: numbers and booleans bare, text JSON-quoted (valid YAML),
/// lists and maps as JSON flow collections.
/// Undefined stays an error here too (strict mode would otherwise let a filter see it).
fn yaml_scalar(value: Jinja) -> Result<String, minijinja::Error> {
    if value.is_undefined() {
        return Err(minijinja::Error::new(
            minijinja::ErrorKind::UndefinedError,
            "undefined value",
        ));
    }
    let json = serde_json::to_value(&value).unwrap_or(serde_json::Value::Null);
    Ok(match json {
        serde_json::Value::String(s) => serde_json::to_string(&s).unwrap_or_default(),
        other => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context() -> serde_json::Value {
        json!({"host": {"memory_gb": 8, "chip": "Apple M1"}, "vars": {"ctx": 4096, "name": "a \"b\""}})
    }

    #[test]
    fn whole_scalar_expressions_keep_their_type() {
        let text = "num_ctx: \"{{ 2048 if host.memory_gb <= 8 else 4096 }}\"\nname: '{{ vars.name }}'\nlabel: \"model-{{ vars.ctx }}\"\n";
        let rendered = render(Path::new("s.yaml"), text, &context()).unwrap();
        assert_eq!(
            rendered,
            "num_ctx: 2048\nname: \"a \\\"b\\\"\"\nlabel: \"model-4096\"\n"
        );
    }

    #[test]
    fn nested_loops_run_out_of_fuel_at_their_line() {
        let text = "a: 1\nb: |\n  {% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}\n";
        let started = std::time::Instant::now();
        let err = render(Path::new("s.yaml"), text, &context()).unwrap_err();
        assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
        assert_eq!(err.line, 3, "{}", err.message);
        assert!(
            err.message
                .contains("the template ran more than 20000000 steps"),
            "{}",
            err.message
        );
    }

    #[test]
    fn undefined_names_are_errors_at_their_line() {
        let text = "a: 1\nb: \"{{ host.memroy_gb }}\"\n";
        let err = render(Path::new("s.yaml"), text, &context()).unwrap_err();
        assert_eq!((err.line, err.column), (2, 5));
        assert!(err.message.starts_with("template error"), "{}", err.message);
    }
}
