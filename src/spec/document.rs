//! A spec or module file as a parsed YAML document, rendered value by value before it is
//! typed. The YAML is parsed first, so its structure is fixed before any template runs: a
//! rendered value (a fact, a var, a secret) replaces one string in the tree and can never add a
//! resource or a key. `when:` on a resource drops it before the spec is typed.
//!
//! The rendered tree is typed through serde_yaml again (emitted, then read into the spec's
//! structs), so its errors carry a field path; that path is translated back to the file the
//! user wrote (an item after one `when:` dropped keeps its written index) and located there.

use super::child;
use super::locate::{Segment, display_path};
use super::template::{self, At, Renderer, has_template};
use super::{Origin, SpecError, SpecFile};
use serde_yaml::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Lists whose items are resources (or `use:` entries) and may carry `when:`.
const RESOURCE_LISTS: &[&[&str]] = &[
    &["defaults"],
    &["services"],
    &["agents"],
    &["spotlight"],
    &["use"],
    &["ollama", "models"],
];

/// Sections that are one mapping; `when:` there drops the whole section.
const RESOURCE_SECTIONS: &[&str] = &["power", "time_machine", "ollama"];

/// For each resource list (by path), the written index of each item the render kept.
pub type Kept = BTreeMap<Vec<Segment>, Vec<usize>>;

pub(crate) struct Prepared {
    pub parsed: SpecFile,
    pub origin: Origin,
    /// Whether any template or `when:` was rendered (so another host may give another spec).
    pub templated: bool,
    /// The document before rendering (for the spec's `vars`).
    pub document: Value,
}

/// Parses `text`, renders it if it has templates or conditions, and types it. `plain` names the
/// top-level keys that are data, never rendered (`vars`, a module's header). `context` is asked
/// for only when something is rendered.
pub(crate) fn prepare(
    file: &Path,
    text: &str,
    plain: &[&str],
    context: &dyn Fn(&Value) -> anyhow::Result<serde_json::Value>,
) -> anyhow::Result<Prepared> {
    let document = parse(file, text)?;
    let origin = Origin {
        file: file.to_path_buf(),
        text: text.to_string(),
        kept: Kept::new(),
    };
    if !needs_rendering(&document, plain) {
        let parsed = super::parse_file(file, text)?;
        return Ok(Prepared {
            parsed,
            origin,
            templated: false,
            document,
        });
    }
    let (rendered, kept) = render(file, text, document.clone(), plain, &context(&document)?)?;
    let origin = Origin { kept, ..origin };
    // Emitted by serde_yaml's emitter from the tree, so every string is quoted as it must be,
    // then read back into the typed structs, whose errors name the field.
    let emitted = serde_yaml::to_string(&rendered)?;
    let parsed = serde_yaml::from_str(&emitted).map_err(|err| {
        let (path, message) = field_and_message(&SpecError::from_yaml(file, &emitted, &err));
        // An unknown field is shown where it is written, not where its item starts.
        let unknown = message
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split_once('`'))
            .map(|(name, _)| child(&path, Segment::Key(name.to_string())));
        match unknown {
            Some(at) => SpecError {
                field: origin.error(&path, "").field,
                ..origin.error(&at, message)
            },
            None => origin.error(&path, message),
        }
    })?;
    Ok(Prepared {
        parsed,
        origin,
        templated: true,
        document,
    })
}

/// The parsed `document` of `text` with its values rendered and its `when:` applied, and the
/// written index of every kept resource.
pub fn render(
    file: &Path,
    text: &str,
    document: Value,
    plain: &[&str],
    context: &serde_json::Value,
) -> Result<(Value, Kept), SpecError> {
    let mut walk = Walk {
        file,
        text,
        plain,
        renderer: Renderer::new(context),
        kept: Kept::new(),
    };
    let rendered = walk.node(document, &mut Vec::new())?;
    Ok((rendered, walk.kept))
}

/// The YAML document; a syntax error is reported where the syntax breaks, except when the file
/// has template blocks around its lines (a spec written for the old text-level templates),
/// whose `{%` lines are the real cause.
pub fn parse(file: &Path, text: &str) -> Result<Value, SpecError> {
    serde_yaml::from_str::<Value>(text).or_else(|err| {
        if let Some((line, column)) = structural_block(text, &err) {
            return Err(SpecError::new(
                file,
                text,
                line,
                column,
                String::new(),
                "a template block `{% ... %}` stands between YAML lines; templates render only inside values now, so a block cannot add or remove YAML",
            )
            .with_hint(
                "to declare a resource only on some Macs, give it `when: EXPRESSION` (like `when: host.memory_gb >= 32`) and drop the `{% if %}` / `{% endif %}` lines",
            ));
        }
        // The typed reading's error, as it was reported before templates were parsed first.
        super::parse_file(file, text)?;
        Err(SpecError::from_yaml(file, text, &err))
    })
}

/// Where the first `{% %}` line is, when such lines are what breaks the YAML: the error is on
/// one, or the file parses without them. (A block inside a `|` value, with an unrelated error
/// elsewhere, is not blamed.)
fn structural_block(text: &str, err: &serde_yaml::Error) -> Option<(usize, usize)> {
    let blocks: Vec<(usize, usize)> = text
        .lines()
        .enumerate()
        .filter_map(|(index, line)| block_column(line).map(|column| (index + 1, column)))
        .collect();
    let first = *blocks.first()?;
    let error_line = err.location().map(|l| l.line());
    if blocks.iter().any(|(line, _)| Some(*line) == error_line) {
        return Some(first);
    }
    let without: String = text
        .lines()
        .map(|line| match block_column(line) {
            Some(_) => "\n".to_string(),
            None => format!("{line}\n"),
        })
        .collect();
    serde_yaml::from_str::<Value>(&without)
        .is_ok()
        .then_some(first)
}

/// The column of a `{%` that starts a line (after indentation, or a list's `- `).
fn block_column(line: &str) -> Option<usize> {
    let body = line.trim_start();
    let body = body.strip_prefix("- ").map_or(body, str::trim_start);
    body.starts_with("{%").then(|| line.len() - body.len() + 1)
}

fn needs_rendering(document: &Value, plain: &[&str]) -> bool {
    // A mapping used as a key is what YAML makes of an unquoted `{{ x }}`: the walk explains it.
    fn templated(value: &Value) -> bool {
        match value {
            Value::String(s) => has_template(s),
            Value::Sequence(items) => items.iter().any(templated),
            Value::Mapping(map) => map
                .iter()
                .any(|(k, v)| k.is_mapping() || templated(k) || templated(v)),
            Value::Tagged(tagged) => templated(&tagged.value),
            _ => false,
        }
    }
    fn conditional(value: Option<&Value>) -> bool {
        value
            .and_then(Value::as_mapping)
            .is_some_and(|m| m.contains_key("when"))
    }
    let Some(top) = document.as_mapping() else {
        return false;
    };
    top.iter().any(|(k, v)| {
        !k.as_str().is_some_and(|k| plain.contains(&k))
            && (k.is_mapping() || templated(k) || templated(v))
    }) || RESOURCE_SECTIONS
        .iter()
        .any(|section| conditional(top.get(*section)))
        || RESOURCE_LISTS.iter().any(|list| {
            list_at(document, list)
                .is_some_and(|items| items.iter().any(|item| conditional(Some(item))))
        })
}

fn list_at<'a>(document: &'a Value, path: &[&str]) -> Option<&'a Vec<Value>> {
    path.iter()
        .try_fold(document, |node, key| node.get(*key))?
        .as_sequence()
}

fn is_resource_list(path: &[Segment]) -> bool {
    RESOURCE_LISTS.iter().any(|list| {
        list.len() == path.len()
            && list
                .iter()
                .zip(path)
                .all(|(k, s)| *s == Segment::Key(k.to_string()))
    })
}

struct Walk<'a> {
    file: &'a Path,
    text: &'a str,
    plain: &'a [&'a str],
    renderer: Renderer,
    kept: Kept,
}

impl Walk<'_> {
    fn at<'p>(&self, path: &'p [Segment]) -> At<'p>
    where
        Self: 'p,
    {
        At {
            file: self.file,
            text: self.text,
            path,
        }
    }

    fn error(&self, path: &[Segment], message: String) -> SpecError {
        template::error(&self.at(path), None, message)
    }

    fn node(&mut self, value: Value, path: &mut Vec<Segment>) -> Result<Value, SpecError> {
        Ok(match value {
            Value::String(s) if has_template(&s) => {
                let at = At {
                    file: self.file,
                    text: self.text,
                    path,
                };
                self.renderer.value(&s, &at)?
            }
            Value::Sequence(items) => Value::Sequence(self.sequence(items, path)?),
            Value::Mapping(map) => Value::Mapping(self.mapping(map, path)?),
            Value::Tagged(mut tagged) => {
                tagged.value = self.node(tagged.value, path)?;
                Value::Tagged(tagged)
            }
            other => other,
        })
    }

    fn sequence(
        &mut self,
        items: Vec<Value>,
        path: &mut Vec<Segment>,
    ) -> Result<Vec<Value>, SpecError> {
        let resources = is_resource_list(path);
        let mut kept = Vec::new();
        let mut out = Vec::new();
        for (index, item) in items.into_iter().enumerate() {
            path.push(Segment::Index(index));
            let item = if resources {
                self.condition(item, path)?
            } else {
                Some(item)
            };
            if let Some(item) = item {
                out.push(self.node(item, path)?);
                kept.push(index);
            }
            path.pop();
        }
        if resources {
            self.kept.insert(path.clone(), kept);
        }
        Ok(out)
    }

    fn mapping(
        &mut self,
        map: serde_yaml::Mapping,
        path: &mut Vec<Segment>,
    ) -> Result<serde_yaml::Mapping, SpecError> {
        let mut out = serde_yaml::Mapping::new();
        for (key, value) in map {
            let name = match &key {
                Value::String(name) => name.clone(),
                Value::Mapping(_) | Value::Sequence(_) => {
                    return Err(self
                        .error(
                            path,
                            "an unquoted `{{ ... }}` is a mapping to YAML, not a template"
                                .to_string(),
                        )
                        .with_hint("quote the whole value: `value: \"{{ host.memory_gb }}\"`"));
                }
                // A number or boolean key: the typed reading says whether it belongs there.
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => String::new(),
            };
            if has_template(&name) {
                // Pointed at the key itself, found from its mapping's position.
                let mut err = template::error(
                    &self.at(path),
                    Some(&name),
                    format!(
                        "the key `{name}` holds a template: keys are not templated, only values"
                    ),
                );
                err.field = display_path(&child(path, Segment::Key(name)));
                return Err(err);
            }
            let top = path.is_empty();
            path.push(Segment::Key(name.clone()));
            if top && self.plain.contains(&name.as_str()) {
                out.insert(key, value);
            } else {
                let value = if top && RESOURCE_SECTIONS.contains(&name.as_str()) {
                    self.condition(value, path)?
                } else {
                    Some(value)
                };
                if let Some(value) = value {
                    out.insert(key, self.node(value, path)?);
                }
            }
            path.pop();
        }
        Ok(out)
    }

    /// A resource without its `when:`, or `None` when the condition is false on this host.
    fn condition(
        &mut self,
        item: Value,
        path: &mut Vec<Segment>,
    ) -> Result<Option<Value>, SpecError> {
        let Value::Mapping(mut map) = item else {
            return Ok(Some(item));
        };
        let Some(condition) = map.remove("when") else {
            return Ok(Some(Value::Mapping(map)));
        };
        path.push(Segment::Key("when".to_string()));
        let at = At {
            file: self.file,
            text: self.text,
            path,
        };
        let keep = self.renderer.condition(&condition, &at)?;
        path.pop();
        Ok(keep.then_some(Value::Mapping(map)))
    }
}

/// A typed error's field path (`defaults[0].value`) as segments, and its message.
fn field_and_message(err: &SpecError) -> (Vec<Segment>, String) {
    let mut path = Vec::new();
    for part in err.field.split('.').filter(|p| !p.is_empty()) {
        let (name, indices) = part
            .split_once('[')
            .map_or((part, ""), |(n, rest)| (n, rest));
        if !name.is_empty() {
            path.push(Segment::Key(name.to_string()));
        }
        for index in indices.split('[') {
            if let Ok(i) = index.trim_end_matches(']').parse() {
                path.push(Segment::Index(i));
            }
        }
    }
    (path, err.message.clone())
}

/// `path` as written in the file: an index in a resource list becomes the item's written index.
pub fn written(kept: &Kept, path: &[Segment]) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    for segment in path {
        let segment = match (segment, kept.get(&out)) {
            (Segment::Index(i), Some(indices)) => {
                Segment::Index(indices.get(*i).copied().unwrap_or(*i))
            }
            _ => segment.clone(),
        };
        out.push(segment);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepare_with(text: &str, context: serde_json::Value) -> anyhow::Result<Prepared> {
        prepare(Path::new("s.yaml"), text, &["vars"], &|_| {
            Ok(context.clone())
        })
    }

    fn host(hostname: &str) -> serde_json::Value {
        serde_json::json!({"host": {"hostname": hostname, "memory_gb": 8}, "vars": {}})
    }

    #[test]
    fn a_hostile_fact_lands_verbatim_in_one_value() {
        let text =
            "macllm: 1\ndefaults:\n  - domain: d\n    key: k\n    value: \"{{ host.hostname }}\"\n";
        for hostname in [
            "a\", value: 1}\n  - domain: x\n    key: y\n    value: 2",
            "x\n- kind: evil\n",
            "&anchor *alias {{ host.memory_gb }}",
            "}}{% endif %}",
        ] {
            let prepared = prepare_with(text, host(hostname)).unwrap();
            assert_eq!(prepared.parsed.defaults.len(), 1);
            assert_eq!(
                prepared.parsed.defaults[0].value,
                Some(super::super::yaml_value::YamlValue::Str(
                    hostname.to_string()
                ))
            );
        }
    }

    #[test]
    fn when_drops_items_and_errors_keep_written_positions() {
        let text = "macllm: 1\ndefaults:\n  - domain: d\n    key: a\n    value: 1\n    when: host.memory_gb > 8\n  - domain: d\n    key: b\n    valeu: \"{{ 2 }}\"\n";
        let err = prepare_with(text, host("h")).err().unwrap();
        let err = err.downcast::<SpecError>().unwrap();
        assert_eq!(err.field, "defaults[1]");
        assert_eq!((err.line, err.column), (9, 12), "{err}");
        assert!(err.message.contains("unknown field `valeu`"), "{err}");
    }

    #[test]
    fn values_under_number_keys_are_rendered_and_kept() {
        let text = "macllm: 1\nollama:\n  env:\n    1: \"{{ host.memory_gb }}\"\n";
        let document = parse(Path::new("s.yaml"), text).unwrap();
        let (rendered, _) = render(Path::new("s.yaml"), text, document, &[], &host("h")).unwrap();
        assert_eq!(rendered["ollama"]["env"][1], Value::from(8));
    }

    #[test]
    fn keys_are_not_templated() {
        let text = "macllm: 1\nollama:\n  env:\n    \"{{ host.hostname }}\": 1\n";
        let err = prepare_with(text, host("h")).err().unwrap();
        assert!(err.to_string().contains("keys are not templated"), "{err}");
    }

    #[test]
    fn a_block_inside_a_literal_value_is_not_blamed_for_another_error() {
        let text = "macllm: 1\ndefaults:\n  - domain: d\n    key: k\n    value: |\n      {% for i in [1] %}{{ i }}{% endfor %}\n  - domain: \"unclosed\n";
        let err = prepare_with(text, host("h")).err().unwrap();
        let err = err.downcast::<SpecError>().unwrap();
        assert!(err.message.contains("quoted scalar"), "{err}");
    }

    #[test]
    fn template_blocks_between_lines_say_to_use_when() {
        let text = "macllm: 1\ndefaults:\n{% if host.memory_gb > 8 %}\n  - {domain: d, key: k, value: 1}\n{% endif %}\n";
        let err = prepare_with(text, host("h")).err().unwrap();
        let err = err.downcast::<SpecError>().unwrap();
        assert_eq!((err.line, err.column), (3, 1), "{err}");
        assert!(err.hint.unwrap().contains("when:"));
    }
}
