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
pub(crate) const RESOURCE_LISTS: &[&[&str]] = &[
    &["defaults"],
    &["services"],
    &["agents"],
    &["spotlight"],
    &["use"],
    &["ollama", "models"],
];

/// Sections that are one mapping; `when:` there drops the whole section.
pub(crate) const RESOURCE_SECTIONS: &[&str] = &["power", "time_machine", "ollama"];

/// For each resource list (by path), the written index of each item the render kept.
pub type Kept = BTreeMap<Vec<Segment>, Vec<usize>>;

pub(crate) struct Prepared {
    /// The sections that could be typed; an item with an error is left out of them.
    pub parsed: SpecFile,
    pub origin: Origin,
    /// Whether any template or `when:` was rendered (so another host may give another spec).
    pub templated: bool,
    /// The document before rendering (for the spec's `vars`).
    pub document: Value,
    /// An error for each item (or field) that could not be typed, where it is written.
    pub errors: Vec<SpecError>,
}

/// How many typing errors one file may report before macllm stops looking for more.
const MOST_ERRORS: usize = 100;

/// Parses `text`, renders it if it has templates or conditions, and types it. `plain` names the
/// top-level keys that are data, never rendered (`vars`, a module's header). `context` is asked
/// for only when something is rendered. A YAML or template error stops at once; a typing error
/// leaves its item out and the rest is typed on, so one run reports them all.
pub(crate) fn prepare(
    file: &Path,
    text: &str,
    plain: &[&str],
    context: &dyn Fn(&Value) -> anyhow::Result<serde_json::Value>,
) -> anyhow::Result<Prepared> {
    let document = parse(file, text)?;
    let mut origin = Origin {
        file: file.to_path_buf(),
        text: text.to_string(),
        kept: Kept::new(),
    };
    let templated = needs_rendering(&document, plain);
    let mut errors = Vec::new();
    let (tree, first) = if templated {
        let (rendered, kept, failed) =
            render_all(file, text, document.clone(), plain, &context(&document)?)?;
        origin.kept = kept;
        errors = failed;
        (rendered, None)
    } else {
        // Typed from the text itself, so the first error is placed exactly where serde_yaml
        // saw it; later ones are found on the tree with that item left out.
        match serde_yaml::from_str::<SpecFile>(text) {
            Ok(parsed) => {
                return Ok(Prepared {
                    parsed,
                    origin,
                    templated,
                    document,
                    errors: Vec::new(),
                });
            }
            Err(err) => (
                document.clone(),
                Some(SpecError::from_yaml(file, text, &err)),
            ),
        }
    };
    match typed(tree, &mut origin, first, &mut errors)? {
        Some(parsed) => Ok(Prepared {
            parsed,
            origin,
            templated,
            document,
            errors,
        }),
        None => Err(super::error::SpecErrors::into_error(errors)),
    }
}

/// Types `tree`, leaving out whatever cannot be typed (with an error for it) until the rest
/// can; `None` when nothing is left to leave out. The tree is emitted by serde_yaml's emitter,
/// so every string is quoted as it must be, then read into the typed structs, whose errors
/// name the field; that path is located in the file as written. An item with an unknown field
/// is typed on without it (to find its other errors), then left out too, so that no error
/// follows from the slip (a `value` missing because it was written `valeu`).
fn typed(
    mut tree: Value,
    origin: &mut Origin,
    mut first: Option<SpecError>,
    errors: &mut Vec<SpecError>,
) -> anyhow::Result<Option<SpecFile>> {
    let mut flawed: Vec<Item> = Vec::new();
    // Fields (mapping path, name) taken out, or guessed by "did you mean" to be meant.
    let mut gone: Vec<(Vec<Segment>, String)> = Vec::new();
    for _ in 0..MOST_ERRORS {
        let emitted = serde_yaml::to_string(&tree)?;
        let err = match serde_yaml::from_str::<SpecFile>(&emitted) {
            Ok(parsed) if flawed.is_empty() => return Ok(Some(parsed)),
            Ok(_) => {
                while let Some(item) = flawed.pop() {
                    remove_item(&mut tree, &mut origin.kept, &item, &mut flawed);
                }
                continue;
            }
            Err(err) => err,
        };
        let (path, message) =
            field_and_message(&SpecError::from_yaml(&origin.file, &emitted, &err));
        let error = first
            .take()
            .unwrap_or_else(|| written_error(origin, &path, &message))
            .with_suggestion();
        let item = item_of(&path);
        // `enabled` is missing because it was written `enabld`, or was left out for its bad
        // value: said once, by the first error.
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split_once('`'))
            .map(|(name, _)| (path.clone(), name.to_string()));
        let follows = missing.as_ref().is_some_and(|field| gone.contains(field));
        if let Some(hint) = &error.hint
            && let Some(name) = suggested_name(hint)
        {
            gone.push((path.clone(), name.to_string()));
        }
        if !follows {
            errors.push(error);
        }
        if let Some(name) = unknown_field(&message) {
            let removed = node_mut(&mut tree, &path)
                .and_then(Value::as_mapping_mut)
                .is_some_and(|map| map.remove(name).is_some());
            if !removed {
                return Ok(None);
            }
            if let Some(item) = item
                && !flawed.contains(&item)
            {
                flawed.push(item);
            }
        } else if let Some(item) = item {
            if !remove_item(&mut tree, &mut origin.kept, &item, &mut flawed) {
                return Ok(None);
            }
        } else if let Some((Segment::Key(name), parent)) = path.split_last()
            && remove_field(&mut tree, &path)
        {
            gone.push((parent.to_vec(), name.clone()));
        } else {
            return Ok(None);
        }
    }
    Ok(None)
}

/// `X` of a "did you mean `X`?" hint.
fn suggested_name(hint: &str) -> Option<&str> {
    hint.strip_prefix("did you mean `")?
        .split_once('`')
        .map(|(name, _)| name)
}

/// A resource item: the path of its list and its index there (in the typed tree).
type Item = (Vec<Segment>, usize);

/// The innermost resource item `path` is in.
fn item_of(path: &[Segment]) -> Option<Item> {
    (1..=path.len()).rev().find_map(|end| match path[end - 1] {
        Segment::Index(index) if is_resource_list(&path[..end - 1]) => {
            Some((path[..end - 1].to_vec(), index))
        }
        _ => None,
    })
}

/// Takes `item` out of `tree`, keeps `kept` saying where the others were written, and moves
/// the items after it in `flawed` up by one.
fn remove_item(tree: &mut Value, kept: &mut Kept, item: &Item, flawed: &mut Vec<Item>) -> bool {
    let (list, index) = item;
    let Some(items) = node_mut(tree, list).and_then(Value::as_sequence_mut) else {
        return false;
    };
    if *index >= items.len() {
        return false;
    }
    let count = items.len();
    items.remove(*index);
    let written = kept
        .entry(list.clone())
        .or_insert_with(|| (0..count).collect());
    if *index < written.len() {
        written.remove(*index);
    }
    flawed.retain(|other| other != item);
    for (other_list, other) in flawed.iter_mut() {
        if other_list == list && *other > *index {
            *other -= 1;
        }
    }
    true
}

/// Takes the field at `path` out of `tree` (a bad `ollama.server`; a section missing a field).
fn remove_field(tree: &mut Value, path: &[Segment]) -> bool {
    match path.split_last() {
        Some((Segment::Key(name), parent)) => node_mut(tree, parent)
            .and_then(Value::as_mapping_mut)
            .is_some_and(|map| map.remove(name.as_str()).is_some()),
        _ => false,
    }
}

/// A typing error at `path` of the typed tree, where the user wrote it. An unknown field is
/// shown where its name is written, not where its item starts.
fn written_error(origin: &Origin, path: &[Segment], message: &str) -> SpecError {
    let code = super::error::serde_code(message);
    let error = match unknown_field(message) {
        Some(name) => {
            let parent = written(&origin.kept, path);
            let at = At {
                file: &origin.file,
                text: &origin.text,
                path: &parent,
            };
            template::error(&at, Some(name), message.to_string())
        }
        None => origin.error(path, message),
    };
    error.with_code(code)
}

fn unknown_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name)
}

fn node_mut<'a>(tree: &'a mut Value, path: &[Segment]) -> Option<&'a mut Value> {
    path.iter().try_fold(tree, |node, segment| match segment {
        Segment::Key(name) => node.get_mut(name.as_str()),
        Segment::Index(index) => node.get_mut(*index),
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
    let (rendered, kept, mut errors) = render_all(file, text, document, plain, context)?;
    match errors.is_empty() {
        true => Ok((rendered, kept)),
        false => Err(errors.remove(0)),
    }
}

/// [`render`], leaving out each resource whose templates fail, with an error for each.
fn render_all(
    file: &Path,
    text: &str,
    document: Value,
    plain: &[&str],
    context: &serde_json::Value,
) -> Result<(Value, Kept, Vec<SpecError>), SpecError> {
    let mut walk = Walk {
        file,
        text,
        plain,
        renderer: Renderer::new(context),
        kept: Kept::new(),
        errors: Vec::new(),
    };
    let rendered = walk.node(document, &mut Vec::new())?;
    Ok((rendered, walk.kept, walk.errors))
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
            .with_code("template")
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
    /// Errors of the resources left out so far.
    errors: Vec<SpecError>,
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
            let rendered = match resources {
                true => self.resource(item, path),
                false => self.node(item, path).map(Some),
            };
            path.pop();
            if let Some(item) = rendered? {
                out.push(item);
                kept.push(index);
            }
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
                let rendered = match top && RESOURCE_SECTIONS.contains(&name.as_str()) {
                    true => self.resource(value, path),
                    false => self.node(value, path).map(Some),
                };
                let rendered = rendered.inspect_err(|_| {
                    path.pop();
                })?;
                if let Some(value) = rendered {
                    out.insert(key, value);
                }
            }
            path.pop();
        }
        Ok(out)
    }

    /// A resource rendered, or `None` when its `when:` is false on this host or one of its
    /// templates fails (the error is kept, and the other resources are rendered on).
    fn resource(
        &mut self,
        item: Value,
        path: &mut Vec<Segment>,
    ) -> Result<Option<Value>, SpecError> {
        let rendered = self
            .condition(item, path)
            .and_then(|kept| kept.map(|item| self.node(item, path)).transpose());
        match rendered {
            Err(err) if !self.renderer.out_of_fuel => {
                self.errors.push(err);
                Ok(None)
            }
            other => other,
        }
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
        let keep = self.renderer.condition(&condition, &at);
        path.pop();
        Ok(keep?.then_some(Value::Mapping(map)))
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
        let prepared = prepare_with(text, host("h")).unwrap();
        assert!(prepared.parsed.defaults.is_empty());
        let [err] = &prepared.errors[..] else {
            panic!("{:?}", prepared.errors)
        };
        assert_eq!(err.field, "defaults[1]");
        assert_eq!((err.line, err.column), (9, 5), "{err}");
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
        let prepared = prepare_with(text, host("h")).unwrap();
        assert!(prepared.parsed.ollama.is_none());
        let [err] = &prepared.errors[..] else {
            panic!("{:?}", prepared.errors)
        };
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
