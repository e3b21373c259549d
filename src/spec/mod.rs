//! YAML text in, declared resources out. Parsing validates and never touches a host; every
//! error is a [`SpecError`] naming the file, line, column and field.

// A spec error is built at most once per run, on the way out; boxing it would only add noise.
#![allow(clippy::result_large_err)]

pub mod checks;
pub mod document;
pub mod error;
#[cfg(test)]
mod fuzz;
pub mod locate;
pub mod modules;
pub mod ollama;
pub mod schema;
pub mod suggest;
mod system;
pub mod template;
mod whole;
pub mod yaml_value;

use crate::graph::Graph;
use crate::resources::defaults::{self, DefaultsKey};
use crate::resources::ollama_server::ServerChoice;
use crate::resources::{AnyResource, ResourceId};
use crate::value::{Value, hex_decode};
pub use error::{SpecError, SpecErrors};
use locate::Segment;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use yaml_value::YamlValue;

/// The spec format this macllm reads (the `macllm:` key).
pub const SPEC_VERSION: u32 = 1;

/// A macllm spec: the state one Mac (or every Mac of a fleet) should be in. Every value may
/// also be a `{{ ... }}` template, rendered per host; every resource may carry `when:`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "macllm spec")]
pub(crate) struct SpecFile {
    /// The spec format version: `macllm: 1`. Required in a spec; absent in a module.
    #[serde(default)]
    #[schemars(range(min = 1, max = 1))]
    macllm: Option<u32>,
    /// A module's header: its name, what it does, the parameters `with:` may set.
    #[serde(default)]
    #[schemars(skip)]
    module: Option<String>,
    // Read from the raw text by `modules::header`; declared so a module parses as a spec.
    #[serde(default)]
    #[allow(dead_code)]
    #[schemars(skip)]
    description: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    #[schemars(skip)]
    params: Option<serde_yaml::Value>,
    /// Values for templates (`{{ vars.NAME }}`): plain data, never rendered. An inventory
    /// host's own `vars` go over them.
    #[serde(default)]
    #[allow(dead_code)]
    #[schemars(with = "Option<BTreeMap<String, serde_json::Value>>")]
    vars: Option<serde_yaml::Value>,
    /// Modules to include: shipped ones by name (`macllm modules list`), local ones as
    /// `./NAME.yaml` beside the spec.
    #[serde(default, rename = "use")]
    modules: Vec<modules::UseEntry>,
    /// Preference keys, written with `defaults write` (id `defaults:DOMAIN:KEY`).
    #[serde(default)]
    defaults: Vec<DefaultsEntry>,
    /// launchd services to enable or disable (`launchctl enable`/`disable`).
    #[serde(default)]
    services: Vec<system::ServiceEntry>,
    /// LaunchAgents: a plist in `~/Library/LaunchAgents`, loaded with launchctl.
    #[serde(default)]
    agents: Vec<system::AgentEntry>,
    /// Spotlight indexing of a folder (`.noindex`) or a whole volume (`mdutil -i`).
    #[serde(default)]
    spotlight: Vec<system::SpotlightEntry>,
    /// Energy settings, written with `pmset`.
    #[serde(default)]
    power: Option<system::PowerEntry>,
    /// Time Machine's automatic backups (`tmutil enable`/`disable`).
    #[serde(default)]
    time_machine: Option<system::TimeMachineEntry>,
    /// The Ollama server: how it runs, its variables, the models to pull and to build.
    #[serde(default)]
    ollama: Option<ollama::OllamaEntry>,
}

/// One preference key.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct DefaultsEntry {
    /// The preference domain: `com.apple.dock`, `NSGlobalDomain` (or `-g`), or a system
    /// domain under `/Library/Preferences/` (needs root).
    domain: String,
    /// The key inside the domain.
    key: String,
    /// The value; without `type:` its YAML type decides (`true` a boolean, `36` an integer,
    /// `0.5` a float, a list an array, a mapping a dict). Required unless `absent: true`.
    #[serde(default)]
    value: Option<YamlValue>,
    /// The plist type to write, when the YAML type is not the one wanted (`type: float` with
    /// `value: 0`; dates as `2024-01-31T12:00:00Z`; data as hex).
    #[serde(default, rename = "type")]
    value_type: Option<ValueType>,
    /// A ByHost preference (`defaults -currentHost`).
    #[serde(default)]
    current_host: bool,
    /// Make sure the key is not set (instead of `value`).
    #[serde(default)]
    absent: bool,
    /// Ids of resources to apply first (`defaults:com.apple.dock:autohide`; `macllm graph`
    /// lists them).
    #[serde(default)]
    depends_on: Vec<String>,
}

/// A plist type.
#[derive(Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq)]
#[serde(rename_all = "lowercase")]
enum ValueType {
    Bool,
    Int,
    Float,
    String,
    Date,
    Data,
    Array,
    Dict,
}

/// A resource as the spec declares it: what it is, what it waits for, where it was written.
#[derive(Clone, Debug)]
pub struct Declared {
    pub resource: AnyResource,
    pub depends_on: Vec<ResourceId>,
    pub path: Vec<Segment>,
    /// The file it was declared in (the spec or a module) and that file's text, so errors
    /// found later (duplicates, cycles) point at the right place.
    pub origin: Arc<Origin>,
    /// Holds a value from `secret()`: plans show `(sensitive)`, state keeps a digest.
    pub sensitive: bool,
}

#[derive(Debug, Default)]
pub struct Origin {
    pub file: PathBuf,
    pub text: String,
    /// Which written items each resource list kept after `when:`, so a path into the rendered
    /// spec is shown and located as the user wrote it.
    pub kept: document::Kept,
}

impl Origin {
    pub fn error(&self, path: &[Segment], message: impl Into<String>) -> SpecError {
        SpecError::at(
            &self.file,
            &self.text,
            &document::written(&self.kept, path),
            message,
        )
    }
}

pub struct Spec {
    pub file: PathBuf,
    pub text: String,
    pub resources: Vec<Declared>,
    pub graph: Graph,
    /// Allowed but probably wrong (an unknown variable kept by `--allow-unknown-env`).
    pub warnings: Vec<String>,
    /// The host facts the templates were rendered with, if they needed any.
    pub facts: Option<crate::facts::Facts>,
    /// Whether a template or a `when:` (in the spec or a module) was rendered, so another
    /// host may give another spec.
    pub templated: bool,
}

impl Spec {
    /// Reads, renders (with `facts` when the text has templates) and parses a spec.
    pub fn load(
        file: &Path,
        options: ollama::Options,
        facts: &dyn Fn() -> anyhow::Result<crate::facts::Facts>,
        host_vars: &serde_json::Value,
    ) -> anyhow::Result<Spec> {
        let text = std::fs::read_to_string(file).map_err(|err| {
            let hint = if err.kind() == std::io::ErrorKind::NotFound {
                "\nhint: pass the spec with `--spec FILE` (the default is ./macllm.yaml)"
            } else {
                ""
            };
            anyhow::anyhow!("cannot read spec {}: {err}{hint}", file.display())
        })?;
        // Facts are read at most once, whether the spec, its modules or both need them, and
        // kept on the spec so the plan does not read them again.
        let read: std::cell::RefCell<Option<crate::facts::Facts>> = Default::default();
        let facts = || -> anyhow::Result<crate::facts::Facts> {
            if let Some(facts) = read.borrow().as_ref() {
                return Ok(facts.clone());
            }
            let fresh = facts()?;
            *read.borrow_mut() = Some(fresh.clone());
            Ok(fresh)
        };
        let mut spec = Spec::build(file, text, options, &facts, host_vars)?;
        spec.facts = read.into_inner();
        Ok(spec)
    }

    /// Parses a spec that uses no templates and no modules (no host facts at hand).
    pub fn parse(file: &Path, text: String, options: ollama::Options) -> Result<Spec, SpecError> {
        Spec::build(
            file,
            text.clone(),
            options,
            &|| anyhow::bail!("no host facts while parsing"),
            &serde_json::Value::Null,
        )
        .map_err(|err| match err.downcast::<SpecError>() {
            Ok(spec_error) => spec_error,
            Err(other) => SpecError::new(file, &text, 1, 1, String::new(), other.to_string()),
        })
    }

    fn build(
        file: &Path,
        text: String,
        options: ollama::Options,
        facts: &dyn Fn() -> anyhow::Result<crate::facts::Facts>,
        host_vars: &serde_json::Value,
    ) -> anyhow::Result<Spec> {
        let prepared = document::prepare(file, &text, &["vars"], &|document| {
            let vars = merged_vars(vars_of(file, &text, document)?, host_vars);
            Ok(serde_json::json!({"host": facts()?, "vars": vars}))
        })?;
        let parsed = prepared.parsed;
        let origin = Arc::new(prepared.origin);
        let mut errors = prepared.errors;
        let at = |path: &[Segment], message: String| origin.error(path, message);
        if parsed.module.is_some() {
            return Err(at(
                &[key("module")],
                "this file is a module: use it from a spec with `use: [{module: PATH}]`"
                    .to_string(),
            )
            .into());
        }
        match parsed.macllm {
            Some(SPEC_VERSION) => {}
            Some(other) => {
                return Err(at(
                    &[key("macllm")],
                    format!(
                        "unsupported spec version {other}; this macllm reads version {SPEC_VERSION}"
                    ),
                )
                .with_code("spec_version")
                .into());
            }
            // A `macllm:` that could not be typed is reported as such already.
            None if errors.iter().any(|err| err.field == "macllm") => {}
            None => errors.push(
                SpecError::new(
                    file,
                    &text,
                    1,
                    1,
                    String::new(),
                    "missing field `macllm` (the spec format version, `macllm: 1`)",
                )
                .with_code("missing_field"),
            ),
        }
        let mut gathered = Gathered::default();
        let mut resources = Vec::new();
        let vars = merged_vars(vars_of(file, &text, &prepared.document)?, host_vars);
        let mut templated = prepared.templated;
        for (index, entry) in parsed.modules.iter().enumerate() {
            match modules::expand_use(entry, index, &origin, options, &mut gathered, facts, &vars) {
                Ok((declared, module_templated)) => {
                    resources.extend(declared);
                    templated |= module_templated;
                }
                Err(err) => SpecErrors::gather(err, &mut errors)?,
            }
        }
        resources.extend(expand_sections(
            parsed,
            &origin,
            options,
            &mut gathered,
            &mut errors,
        ));
        let (graph, warnings) = whole::check(&mut resources, gathered, &at, &mut errors);
        let Some(graph) = graph.filter(|_| errors.is_empty()) else {
            return Err(SpecErrors::into_error(errors));
        };
        Ok(Spec {
            file: file.to_path_buf(),
            text,
            resources,
            graph,
            warnings,
            facts: None,
            templated,
        })
    }
}

/// What expanding a spec and its modules gathers beside resources.
#[derive(Default)]
pub struct Gathered {
    pub warnings: Vec<String>,
    /// The one `ollama.server` of the spec and its modules.
    pub server: ServerChoice,
}

/// The resource sections of a spec or module, expanded and stamped with their origin. A
/// resource with an error is left out, its error added to `errors`, and the rest expanded on.
pub(crate) fn expand_sections(
    parsed: SpecFile,
    origin: &Arc<Origin>,
    options: ollama::Options,
    gathered: &mut Gathered,
    errors: &mut Vec<SpecError>,
) -> Vec<Declared> {
    let Gathered { warnings, server } = gathered;
    let at = |path: &[Segment], message: String| origin.error(path, message);
    // One `ollama.server` for the whole spec: a module (ollama-server) may set it too.
    if let Some(entry) = &parsed.ollama
        && !entry.server.is_auto()
    {
        if !server.is_auto() && *server != entry.server {
            errors.push(at(
                &[key("ollama"), key("server")],
                "`ollama.server` is set differently in the spec and one of its modules".to_string(),
            ));
        }
        *server = entry.server;
    }
    let mut found = Vec::new();
    let item = |section: &str, index: usize| vec![key(section), Segment::Index(index)];
    for (index, entry) in parsed.defaults.into_iter().enumerate() {
        found.push(expand_defaults(entry, item("defaults", index), &at));
    }
    for (index, entry) in parsed.services.into_iter().enumerate() {
        found.push(system::expand_service(entry, item("services", index), &at));
    }
    for (index, entry) in parsed.agents.into_iter().enumerate() {
        found.push(system::expand_agent(
            entry,
            item("agents", index),
            &at,
            options,
            warnings,
        ));
    }
    for (index, entry) in parsed.spotlight.into_iter().enumerate() {
        found.push(system::expand_spotlight(
            entry,
            item("spotlight", index),
            &at,
        ));
    }
    if let Some(power) = parsed.power {
        found.extend(system::expand_power(power, &at));
    }
    if let Some(time_machine) = parsed.time_machine {
        found.push(Ok(system::expand_time_machine(time_machine)));
    }
    if let Some(entry) = parsed.ollama {
        found.extend(ollama::expand(entry, &at, options, warnings));
    }
    let mut resources = Vec::new();
    for result in found {
        let checked = result.and_then(|declared| match checks::resource(&declared.resource) {
            Ok(()) => Ok(declared),
            Err(problem) => Err(located(&declared.path, problem, &at)),
        });
        match checked {
            Ok(mut declared) => {
                declared.origin = origin.clone();
                declared.sensitive = crate::mask::contains_secret(
                    &serde_json::to_string(&declared.resource).unwrap_or_default(),
                );
                resources.push(declared);
            }
            Err(err) => errors.push(err),
        }
    }
    resources
}

/// A spec or module's text as its sections. YAML syntax is checked on the whole text first, so
/// a syntax error is reported where the syntax breaks, not as a field missing above it.
pub(crate) fn parse_file(file: &Path, text: &str) -> Result<SpecFile, SpecError> {
    serde_yaml::from_str::<serde::de::IgnoredAny>(text)
        .map_err(|err| SpecError::from_yaml(file, text, &err))?;
    serde_yaml::from_str(text).map_err(|err| SpecError::from_yaml(file, text, &err))
}

/// The spec's `vars`, as written (they are data: never rendered).
fn vars_of(
    file: &Path,
    text: &str,
    document: &serde_yaml::Value,
) -> Result<serde_json::Value, SpecError> {
    let vars = document
        .get("vars")
        .cloned()
        .unwrap_or(serde_yaml::Value::Mapping(Default::default()));
    serde_json::to_value(&vars).map_err(|err| {
        SpecError::at(
            file,
            text,
            &[key("vars")],
            format!("vars cannot be used in templates: {err}"),
        )
    })
}

/// The spec's vars with an inventory host's own vars over them.
fn merged_vars(mut vars: serde_json::Value, host_vars: &serde_json::Value) -> serde_json::Value {
    if let (Some(vars), Some(host)) = (vars.as_object_mut(), host_vars.as_object()) {
        for (key, value) in host {
            vars.insert(key.clone(), value.clone());
        }
    }
    vars
}

fn key(name: &str) -> Segment {
    Segment::Key(name.to_string())
}

fn child(path: &[Segment], segment: Segment) -> Vec<Segment> {
    let mut path = path.to_vec();
    path.push(segment);
    path
}

type At<'a> = dyn Fn(&[Segment], String) -> SpecError + 'a;

/// A [`checks::Problem`] found in the entry at `path`, as a located error.
fn located(path: &[Segment], problem: checks::Problem, at: &At) -> SpecError {
    let mut field = path.to_vec();
    field.extend(problem.field);
    let err = at(&field, problem.message);
    match problem.hint {
        Some(hint) => err.with_hint(hint),
        None => err,
    }
}

fn expand_defaults(
    entry: DefaultsEntry,
    path: Vec<Segment>,
    at: &At,
) -> Result<Declared, SpecError> {
    let domain = defaults::canonical_domain(&entry.domain);
    check_name(&domain, "domain", &child(&path, key("domain")), at)?;
    check_name(&entry.key, "key", &child(&path, key("key")), at)?;
    checks::domain(&domain).map_err(|problem| located(&path, problem, at))?;
    if domain.ends_with(".plist") {
        return Err(at(
            &child(&path, key("domain")),
            format!("domain `{domain}` ends in `.plist`; `defaults` wants the name without it"),
        ));
    }
    let value = match (entry.value, entry.absent) {
        (Some(_), true) => {
            return Err(at(
                &child(&path, key("absent")),
                "`absent: true` and `value` contradict each other; keep one".to_string(),
            ));
        }
        (None, false) => {
            return Err(at(
                &path,
                "missing field `value` (or `absent: true` to make sure the key is not set)"
                    .to_string(),
            )
            .with_code("missing_field"));
        }
        (None, true) => None,
        (Some(raw), false) => Some(typed_value(
            &raw,
            entry.value_type,
            &child(&path, key("value")),
            at,
        )?),
    };
    let depends_on = dependencies(entry.depends_on, &path, at)?;
    Ok(Declared {
        origin: Default::default(),
        sensitive: false,
        resource: AnyResource::Defaults(DefaultsKey {
            domain,
            key: entry.key,
            current_host: entry.current_host,
            value,
        }),
        depends_on,
        path,
    })
}

/// A `depends_on` list as resource ids; the graph checks that they exist.
fn dependencies(ids: Vec<String>, path: &[Segment], at: &At) -> Result<Vec<ResourceId>, SpecError> {
    let mut depends_on = Vec::new();
    for (index, dependency) in ids.into_iter().enumerate() {
        if dependency.trim().is_empty() {
            return Err(at(
                &child(&child(path, key("depends_on")), Segment::Index(index)),
                "empty resource id".to_string(),
            ));
        }
        depends_on.push(ResourceId(dependency));
    }
    Ok(depends_on)
}

fn check_name(name: &str, what: &str, path: &[Segment], at: &At) -> Result<(), SpecError> {
    if name.is_empty() {
        return Err(at(path, format!("the {what} is empty")));
    }
    if name.chars().any(char::is_control) {
        return Err(at(
            path,
            format!("the {what} contains a control character (newline, tab or NUL)"),
        ));
    }
    Ok(())
}

/// Applies the declared `type:` (or infers one) to a YAML value.
fn typed_value(
    raw: &YamlValue,
    declared: Option<ValueType>,
    path: &[Segment],
    at: &At,
) -> Result<Value, SpecError> {
    let mismatch = |wanted: &str| {
        at(path, format!("expected {wanted}, found {}", raw.describe())).with_code("wrong_type")
    };
    if let YamlValue::Float(f) = raw
        && !f.is_finite()
    {
        return Err(at(path, yaml_value::non_finite(*f)));
    }
    if let YamlValue::Str(s) = raw
        && overflows(s)
        && matches!(declared, None | Some(ValueType::Int | ValueType::Float))
    {
        let err = at(
            path,
            format!("`{s}` is out of range: a float holds at most about 1.8e308"),
        );
        // Unquoted, YAML keeps a number it cannot hold as a string; quoted, it is one.
        let quoted = err
            .source_line
            .chars()
            .nth(err.column.saturating_sub(1))
            .is_some_and(|c| c == '"' || c == '\'');
        if declared.is_some() || !quoted {
            return Err(err.with_hint("quote it and write `type: string` to keep it as text"));
        }
    }
    Ok(match (declared, raw) {
        (None | Some(ValueType::Bool), YamlValue::Bool(b)) => Value::Bool(*b),
        (None | Some(ValueType::Int), YamlValue::Int(i)) => Value::Integer(*i),
        (None | Some(ValueType::Float), YamlValue::Float(f)) => Value::Float(*f),
        (Some(ValueType::Float), YamlValue::Int(i)) => Value::Float(*i as f64),
        (None | Some(ValueType::String), YamlValue::Str(s)) => Value::String(s.clone()),
        (Some(ValueType::Date), YamlValue::Str(s)) => {
            Value::Date(parse_date(s).ok_or_else(|| {
                at(
                    path,
                    format!("`{s}` is not a date; write it as `2024-01-31T12:00:00Z` (UTC)"),
                )
            })?)
        }
        (Some(ValueType::Data), YamlValue::Str(s)) => {
            let bytes = hex_decode(s).map_err(|err| {
                at(
                    path,
                    format!("data must be hex digits (like `0a1b2c`): {err}"),
                )
            })?;
            Value::Data(crate::value::hex_encode(&bytes))
        }
        (None | Some(ValueType::Array), YamlValue::Seq(items)) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| typed_value(item, None, &child(path, Segment::Index(i)), at))
                .collect::<Result<_, _>>()?,
        ),
        (None | Some(ValueType::Dict), YamlValue::Map(entries)) => Value::Dict(
            entries
                .iter()
                .map(|(k, v)| Ok((k.clone(), typed_value(v, None, &child(path, key(k)), at)?)))
                .collect::<Result<BTreeMap<_, _>, SpecError>>()?,
        ),
        (Some(ValueType::String), YamlValue::Int(_) | YamlValue::Float(_) | YamlValue::Bool(_)) => {
            return Err(mismatch("a string").with_hint("quote the value to make it a string"));
        }
        (Some(ValueType::Bool), _) => return Err(mismatch("a boolean (true or false)")),
        (Some(ValueType::Int), _) => return Err(mismatch("an integer")),
        (Some(ValueType::Float), _) => return Err(mismatch("a number")),
        (Some(ValueType::String), _) => return Err(mismatch("a string")),
        (Some(ValueType::Date), _) => return Err(mismatch("a date string")),
        (Some(ValueType::Data), _) => return Err(mismatch("a hex string")),
        (Some(ValueType::Array), _) => return Err(mismatch("a list")),
        (Some(ValueType::Dict), _) => return Err(mismatch("a mapping")),
    })
}

/// Text that is a number in YAML's syntax but too large for a double (`1e400`, which YAML
/// resolves to a string because it cannot hold it).
pub(crate) fn overflows(text: &str) -> bool {
    let text = text.trim();
    text.chars().any(|c| c.is_ascii_digit())
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || "+-.eE_".contains(c))
        && text
            .replace('_', "")
            .parse::<f64>()
            .is_ok_and(|f| f.is_infinite())
}

/// Accepts `2024-01-31T12:00:00Z` and the `2024-01-31 12:00:00 +0000` form `defaults read`
/// prints; returns the XML plist form.
fn parse_date(text: &str) -> Option<String> {
    let iso = match text.strip_suffix(" +0000") {
        Some(rest) => format!("{}Z", rest.replacen(' ', "T", 1)),
        None => text.to_string(),
    };
    plist::Date::from_xml_format(&iso)
        .ok()
        .map(|d| d.to_xml_format())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Spec, SpecError> {
        Spec::parse(
            Path::new("t.yaml"),
            text.to_string(),
            ollama::Options::default(),
        )
    }

    #[test]
    fn infers_and_applies_types() {
        let spec = parse(
            "macllm: 1\ndefaults:\n  - {domain: -g, key: a, value: true}\n  - {domain: d, key: f, value: 1, type: float}\n  - {domain: d, key: t, value: '2024-01-31 12:00:00 +0000', type: date}\n",
        )
        .unwrap();
        let values: Vec<_> = spec
            .resources
            .iter()
            .map(|d| d.resource.as_resource().desired())
            .collect();
        assert_eq!(values[0], Some(Value::Bool(true)));
        assert_eq!(values[1], Some(Value::Float(1.0)));
        assert_eq!(values[2], Some(Value::Date("2024-01-31T12:00:00Z".into())));
        assert_eq!(
            spec.resources[0].resource.as_resource().id().0,
            "defaults:NSGlobalDomain:a"
        );
    }

    #[test]
    fn type_mismatch_points_at_the_value() {
        let err = parse(
            "macllm: 1\ndefaults:\n  - domain: d\n    key: k\n    type: bool\n    value: 3\n",
        )
        .err()
        .unwrap();
        assert_eq!(
            (err.line, err.column, err.field.as_str()),
            (6, 12, "defaults[0].value")
        );
    }

    #[test]
    fn duplicate_ids_name_both_places() {
        let err = parse("macllm: 1\ndefaults:\n  - {domain: -g, key: a, value: 1}\n  - {domain: NSGlobalDomain, key: a, value: 2}\n")
            .err()
            .unwrap();
        assert_eq!(err.line, 4);
        assert!(err.message.contains("t.yaml:3"), "{}", err.message);
    }

    #[test]
    fn cycles_and_unknown_dependencies_are_named() {
        let err = parse("macllm: 1\ndefaults:\n  - {domain: d, key: a, value: 1, depends_on: ['defaults:d:b']}\n  - {domain: d, key: b, value: 1, depends_on: ['defaults:d:a']}\n")
            .err()
            .unwrap();
        assert!(err.message.contains("dependency cycle"), "{}", err.message);
        assert!(err.message.contains("defaults:d:a") && err.message.contains("defaults:d:b"));
        let err =
            parse("macllm: 1\ndefaults:\n  - {domain: d, key: a, value: 1, depends_on: [nope]}\n")
                .err()
                .unwrap();
        assert_eq!(
            (err.line, err.field.as_str()),
            (3, "defaults[0].depends_on[0]")
        );
    }
}
