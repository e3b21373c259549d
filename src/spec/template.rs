//! Templates inside the parsed spec: each string value that holds `{{` or `{%` is rendered on
//! its own with minijinja, with the host's facts (`host.memory_gb`, ...), the spec's `vars`
//! (and a module's `params`) and `secret("name")`. A rendered value is a value: whatever text a
//! fact or a secret holds, it cannot become YAML syntax, because the YAML was parsed before.
//!
//! A value that is one expression and nothing else (`num_ctx: "{{ 2048 if host.memory_gb <= 8
//! else 4096 }}"`) keeps the type of its result (an integer lands in an integer field; a list or
//! a mapping is a list or a mapping). Anything else renders as text. `when:` conditions are
//! expressions evaluated the same way. Undefined names are errors (strict mode) at the value's
//! line and, where it can be found there, the column of the failing expression.

use super::SpecError;
use super::locate::{Segment, locate};
use minijinja::{Environment, ErrorKind, UndefinedBehavior, Value as Jinja};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The most instructions the templates of one file may run in all: a spec runs a few hundred,
/// so this is far beyond any real one, yet it stops a template whose nested loops would run for
/// hours within seconds.
pub const FUEL: u64 = 20_000_000;

const HINT: &str = "templates see `host` (the Mac's facts: `macllm facts` lists them) and `vars`";

/// Where the value being rendered sits in the file; errors point there.
pub struct At<'a> {
    pub file: &'a Path,
    pub text: &'a str,
    pub path: &'a [Segment],
}

/// Renders the values of one file, sharing one fuel budget.
pub struct Renderer {
    env: Environment<'static>,
    context: Jinja,
    /// The same context as data, to find which name a render found undefined.
    data: serde_json::Value,
    fuel_left: u64,
    /// The budget ran out: no value of the file is rendered any more.
    pub out_of_fuel: bool,
    /// What the helper functions below report from inside a render.
    seen: Arc<Mutex<Seen>>,
}

#[derive(Default)]
struct Seen {
    /// Fuel used by the last render, read at its end.
    fuel_used: u64,
    /// The result of a whole-value expression.
    kept: Option<Jinja>,
}

/// Called at the end of every render, to charge its fuel to the file's budget.
const FUEL_PROBE: &str = "{{ __macllm_fuel() }}";

impl Renderer {
    /// `context` is a JSON object (`host`, `vars`, and in modules `params`).
    pub fn new(context: &serde_json::Value) -> Renderer {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()
        {
            env.set_syntax(syntax);
        }
        // `secret("name")`: from the OS keyring; the value is remembered so every output masks
        // it, and the resources it lands in are marked sensitive.
        env.add_function("secret", |name: String| {
            crate::secret::get(&name)
                .map_err(|err| minijinja::Error::new(ErrorKind::InvalidOperation, err.to_string()))
        });
        let seen: Arc<Mutex<Seen>> = Default::default();
        let probe = seen.clone();
        env.add_function("__macllm_fuel", move |state: &minijinja::State| {
            let used = state.fuel_levels().map_or(0, |(used, _)| used);
            probe.lock().map(|mut seen| seen.fuel_used = used).ok();
            String::new()
        });
        let keeper = seen.clone();
        env.add_function("__macllm_keep", move |value: Jinja| {
            // Strict mode would otherwise let a function see an undefined value.
            if value.is_undefined() {
                return Err(minijinja::Error::new(
                    ErrorKind::UndefinedError,
                    "undefined value",
                ));
            }
            keeper.lock().map(|mut seen| seen.kept = Some(value)).ok();
            Ok(String::new())
        });
        Renderer {
            env,
            context: Jinja::from(minijinja::value::Serde(context)),
            data: context.clone(),
            fuel_left: FUEL,
            out_of_fuel: false,
            seen,
        }
    }

    /// One string value, rendered: a whole-value expression as its typed result, anything else
    /// as text.
    pub fn value(&mut self, source: &str, at: &At) -> Result<serde_yaml::Value, SpecError> {
        match whole_expression(source) {
            Some(expression) => self.expression(expression, at),
            None => {
                let rendered = self.run(&format!("{source}{FUEL_PROBE}"), at)?;
                Ok(serde_yaml::Value::String(rendered))
            }
        }
    }

    /// A `when:` condition: `true`/`false`, or an expression (bare, as Ansible writes it, or
    /// as one `{{ ... }}`) that gives a boolean.
    pub fn condition(&mut self, condition: &serde_yaml::Value, at: &At) -> Result<bool, SpecError> {
        let result = match condition {
            serde_yaml::Value::Bool(b) => return Ok(*b),
            serde_yaml::Value::String(s) => {
                let expression = match whole_expression(s) {
                    Some(expression) => expression,
                    None if has_template(s) => {
                        return Err(error(at, None, "`when` is one expression, not a text with `{{ }}` or `{% %}` inside: write it bare, as `when: host.memory_gb >= 32`".to_string()).with_code("condition"));
                    }
                    None => s.as_str(),
                };
                self.expression(expression, at)?
            }
            other => {
                return Err(error(
                    at,
                    None,
                    format!(
                        "`when` is an expression (like `host.memory_gb >= 32`) or true/false, not {}",
                        describe(other)
                    ),
                )
                .with_code("condition"));
            }
        };
        match result {
            serde_yaml::Value::Bool(b) => Ok(b),
            other => Err(error(
                at,
                None,
                format!(
                    "`when` must give true or false, and this gives {}",
                    describe(&other)
                ),
            )
            .with_code("condition")
            .with_hint(
                "compare it, as in `when: params.model != \"\"` or `when: host.memory_gb >= 32`",
            )),
        }
    }

    fn expression(&mut self, expression: &str, at: &At) -> Result<serde_yaml::Value, SpecError> {
        self.run(
            &format!("{{{{ __macllm_keep({expression}) }}}}{FUEL_PROBE}"),
            at,
        )?;
        let kept = self
            .seen
            .lock()
            .ok()
            .and_then(|mut seen| seen.kept.take())
            .unwrap_or_default();
        if kept.is_none() {
            return Err(error(
                at,
                None,
                format!("template error: `{expression}` gives none, not a value"),
            )
            .with_code("template"));
        }
        serde_yaml::to_value(&kept).map_err(|err| {
            error(
                at,
                None,
                format!("template error: `{expression}` gives a value that is not data: {err}"),
            )
            .with_code("template")
        })
    }

    fn run(&mut self, template: &str, at: &At) -> Result<String, SpecError> {
        self.env.set_fuel(Some(self.fuel_left));
        let rendered = self
            .env
            .render_str(template, self.context.clone())
            .map_err(|err| {
                self.out_of_fuel |= err.kind() == ErrorKind::OutOfFuel;
                template_error(at, template, &err, &self.data)
            })?;
        let used = self.seen.lock().map_or(0, |seen| seen.fuel_used);
        self.fuel_left = self.fuel_left.saturating_sub(used).max(1);
        Ok(rendered)
    }
}

/// Whether a string holds template syntax.
pub fn has_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%")
}

/// `{{ expr }}` as the whole value (whitespace control marks allowed) -> `expr`.
fn whole_expression(source: &str) -> Option<&str> {
    let inner = source.strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.strip_prefix(['-', '+']).unwrap_or(inner);
    let inner = inner.strip_suffix(['-', '+']).unwrap_or(inner);
    (!inner.contains("}}") && !inner.contains("{{") && !inner.trim().is_empty())
        .then_some(inner.trim())
}

fn describe(value: &serde_yaml::Value) -> &'static str {
    match value {
        serde_yaml::Value::Null => "null",
        serde_yaml::Value::Bool(_) => "a boolean",
        serde_yaml::Value::Number(_) => "a number",
        serde_yaml::Value::String(_) => "a string",
        serde_yaml::Value::Sequence(_) => "a list",
        serde_yaml::Value::Mapping(_) => "a mapping",
        serde_yaml::Value::Tagged(_) => "a tagged value",
    }
}

/// An error at the value `at` names; `fragment` (a name, an expression) is looked for on the
/// value's lines so the caret can point at it.
pub fn error(at: &At, fragment: Option<&str>, message: String) -> SpecError {
    let (line, column) = locate(at.text, at.path).unwrap_or((1, 1));
    let (line, column) = fragment
        .and_then(|fragment| find_in_lines(at.text, line, column, fragment))
        .unwrap_or((line, column));
    SpecError::new(
        at.file,
        at.text,
        line,
        column,
        super::locate::display_path(at.path),
        message,
    )
}

/// The first place at or after (`line`, `column`) where `fragment` is written, within the few
/// lines a value can span.
fn find_in_lines(text: &str, line: usize, column: usize, fragment: &str) -> Option<(usize, usize)> {
    if fragment.is_empty() {
        return None;
    }
    text.lines()
        .enumerate()
        .skip(line.saturating_sub(1))
        .take(200)
        .find_map(|(index, source)| {
            let skip = if index + 1 == line {
                source
                    .char_indices()
                    .nth(column.saturating_sub(1))
                    .map_or(source.len(), |(i, _)| i)
            } else {
                0
            };
            source[skip..]
                .find(fragment)
                .map(|found| (index + 1, source[..skip + found].chars().count() + 1))
        })
}

fn template_error(
    at: &At,
    template: &str,
    err: &minijinja::Error,
    data: &serde_json::Value,
) -> SpecError {
    let mut detail = err
        .detail()
        .map(str::to_string)
        .unwrap_or_else(|| err.kind().to_string());
    // minijinja names an undefined variable, but not an undefined attribute (`vars.smal`):
    // the first name the context does not hold is the one.
    if err.kind() == ErrorKind::UndefinedError
        && !detail.starts_with('`')
        && let Some(name) = first_undefined(template, data)
    {
        detail = format!("`{name}` is undefined");
    }
    if err.kind() == ErrorKind::OutOfFuel {
        let message = format!(
            "template error: the templates ran more than {FUEL} steps in all and were stopped (loops nested too deep?)"
        );
        return error(at, Some("{"), message)
            .with_code("template")
            .with_hint(HINT);
    }
    if err.kind() == ErrorKind::SyntaxError && spans_structure(&detail) {
        return error(at, Some("{%"), format!("template error: {detail}"))
            .with_code("template")
            .with_hint(
            "templates render inside each value, so a `{% if %}` or `{% for %}` block cannot add or remove YAML \
             around it; to declare a resource only on some Macs, give it `when: EXPRESSION`",
        );
    }
    // The name strict mode could not find (`host.memroy_gb` is undefined), else the failing
    // expression's source.
    let named = detail
        .strip_prefix('`')
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name.to_string());
    let fragment = named.or_else(|| {
        err.range()
            .and_then(|range| template.get(range))
            .map(str::to_string)
    });
    let fragment = fragment
        .filter(|f| !f.contains("__macllm"))
        .unwrap_or_else(|| "{".to_string());
    error(at, Some(&fragment), format!("template error: {detail}"))
        .with_code("template")
        .with_hint(HINT)
}

/// The first dotted name in `template` (outside string literals) whose root the context has
/// but whose path it does not (`vars.smal` when `vars` has no `smal`). Names the context does
/// not start with (filters, loop variables, keywords) and method calls are not judged.
fn first_undefined(template: &str, data: &serde_json::Value) -> Option<String> {
    let chars: Vec<char> = template.chars().collect();
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut names = Vec::new();
    let mut quote = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some(open) = quote {
            if c == open {
                quote = None;
            }
            i += 1;
            continue;
        }
        if c == '"' || c == '\'' {
            quote = Some(c);
            i += 1;
            continue;
        }
        if !(c.is_alphabetic() || c == '_') {
            i += 1;
            continue;
        }
        let after_access = i > 0 && matches!(chars[i - 1], '.' | ')' | ']');
        let start = i;
        while i < chars.len()
            && (word(chars[i])
                || (chars[i] == '.'
                    && chars
                        .get(i + 1)
                        .is_some_and(|&n| n.is_alphabetic() || n == '_')))
        {
            i += 1;
        }
        let mut name: String = chars[start..i].iter().collect();
        // `vars.name.upper()`: the method is not data.
        if chars.get(i) == Some(&'(') {
            match name.rsplit_once('.') {
                Some((object, _)) => name = object.to_string(),
                None => continue,
            }
        }
        if !after_access {
            names.push(name);
        }
    }
    names.into_iter().find(|name| {
        let mut parts = name.split('.');
        let Some(mut node) = parts.next().and_then(|root| data.get(root)) else {
            return false;
        };
        for part in parts {
            match node.get(part) {
                Some(inner) => node = inner,
                None => return true,
            }
        }
        false
    })
}

/// A block that opens in one value and would close in another (or closes one never opened).
fn spans_structure(detail: &str) -> bool {
    detail.contains("end of input") || detail.contains("unknown statement")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context() -> serde_json::Value {
        json!({"host": {"memory_gb": 8, "chip": "Apple M1"}, "vars": {"ctx": 4096, "name": "a \"b\"", "list": [1, 2]}})
    }

    fn at<'a>(text: &'a str, path: &'a [Segment]) -> At<'a> {
        At {
            file: Path::new("s.yaml"),
            text,
            path,
        }
    }

    fn render(text: &str, path: &[Segment], source: &str) -> Result<serde_yaml::Value, SpecError> {
        Renderer::new(&context()).value(source, &at(text, path))
    }

    fn key(k: &str) -> Segment {
        Segment::Key(k.into())
    }

    #[test]
    fn whole_value_expressions_keep_their_type() {
        let text = "a: x\n";
        let path = [key("a")];
        let value = |source: &str| render(text, &path, source).unwrap();
        assert_eq!(
            value("{{ 2048 if host.memory_gb <= 8 else 4096 }}"),
            serde_yaml::Value::from(2048)
        );
        assert_eq!(value("{{ vars.name }}"), serde_yaml::Value::from("a \"b\""));
        assert_eq!(
            value("model-{{ vars.ctx }}"),
            serde_yaml::Value::from("model-4096")
        );
        assert_eq!(
            value("{{ host.memory_gb > 4 }}"),
            serde_yaml::Value::from(true)
        );
        assert_eq!(
            value("{{ vars.list }}"),
            serde_yaml::to_value(vec![1, 2]).unwrap()
        );
        assert_eq!(value("{{ 1 }} {{ 2 }}"), serde_yaml::Value::from("1 2"));
    }

    #[test]
    fn nested_loops_run_out_of_fuel_at_their_line() {
        let text = "a: 1\nb: |\n  {% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}\n";
        let source =
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}\n";
        let started = std::time::Instant::now();
        let err = render(text, &[key("b")], source).unwrap_err();
        assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
        assert_eq!((err.line, err.column), (3, 3), "{}", err.message);
        assert!(
            err.message
                .contains("the templates ran more than 20000000 steps"),
            "{}",
            err.message
        );
    }

    #[test]
    fn the_fuel_is_shared_by_every_value_of_a_file() {
        let text = "a: x\n";
        let path = [key("a")];
        let at = at(text, &path);
        let mut renderer = Renderer::new(&context());
        // Each render fits the budget alone; together they exceed it.
        let source = "{% for i in range(2000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}";
        let err = (0..100)
            .map(|_| renderer.value(source, &at))
            .find_map(Result::err)
            .expect("the shared budget runs out");
        assert!(err.message.contains("in all"), "{}", err.message);
    }

    #[test]
    fn undefined_names_are_errors_at_their_column() {
        let text = "a: 1\nb: \"{{ 2 if host.memroy_gb else 1 }}\"\n";
        let err = render(text, &[key("b")], "{{ 2 if host.memroy_gb else 1 }}").unwrap_err();
        assert_eq!((err.line, err.column), (2, 13), "{}", err.message);
        assert_eq!(err.message, "template error: `host.memroy_gb` is undefined");
    }

    #[test]
    fn a_block_left_open_says_to_use_when() {
        let text = "a: \"{% if host.memory_gb > 8 %}\"\n";
        let err = render(text, &[key("a")], "{% if host.memory_gb > 8 %}").unwrap_err();
        assert!(err.hint.as_deref().unwrap().contains("when:"), "{err}");
        assert_eq!((err.line, err.column), (1, 5));
    }

    #[test]
    fn conditions_are_expressions_or_booleans() {
        let text = "when: x\n";
        let path = [key("when")];
        let at = at(text, &path);
        let mut renderer = Renderer::new(&context());
        let mut when = |v: serde_yaml::Value| renderer.condition(&v, &at);
        assert_eq!(when("host.memory_gb >= 8".into()), Ok(true));
        assert_eq!(when("{{ host.memory_gb > 8 }}".into()), Ok(false));
        assert_eq!(when(false.into()), Ok(false));
        let err = when("host.chip".into()).unwrap_err();
        assert!(err.message.contains("must give true or false"), "{err}");
        let err = when("host.memory_gb > {{ 8 }}".into()).unwrap_err();
        assert!(err.message.contains("write it bare"), "{err}");
    }
}
