//! `use:`: reusable spec fragments, shipped in the binary (from `modules/`) or local files.
//! A module declares its parameters (type, default, description); `with:` is checked against
//! them before the module is rendered with `params`, `host` and the spec's `vars`.

use super::locate::Segment;
use super::yaml_value::YamlValue;
use super::{
    Declared, Gathered, Origin, SpecError, SpecErrors, SpecFile, child, expand_sections, key,
    ollama,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Every file in `modules/`, embedded so macllm works from any directory.
pub const SHIPPED: &[(&str, &str)] = &[
    ("keep-awake", include_str!("../../modules/keep-awake.yaml")),
    ("lean-ui", include_str!("../../modules/lean-ui.yaml")),
    ("no-app-nap", include_str!("../../modules/no-app-nap.yaml")),
    (
        "ollama-server",
        include_str!("../../modules/ollama-server.yaml"),
    ),
    (
        "ollama-tuning",
        include_str!("../../modules/ollama-tuning.yaml"),
    ),
    (
        "quiet-background",
        include_str!("../../modules/quiet-background.yaml"),
    ),
    (
        "spotlight-models",
        include_str!("../../modules/spotlight-models.yaml"),
    ),
];

/// A module to include.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UseEntry {
    /// A shipped module's name (`keep-awake`; `macllm modules list`), or a local file beside
    /// the spec (`./NAME.yaml`).
    module: String,
    /// Values for the module's parameters (`macllm modules show NAME` lists them).
    #[serde(default)]
    with: BTreeMap<String, YamlValue>,
}

/// A module's header: plain data, never rendered. The rest of the file is a spec's sections.
#[derive(Deserialize, schemars::JsonSchema)]
#[schemars(title = "macllm module header")]
pub(crate) struct Header {
    /// The module's name.
    #[serde(default)]
    #[allow(dead_code)]
    module: Option<String>,
    /// What the module does, in one line (`macllm modules list` shows it).
    #[serde(default)]
    description: Option<String>,
    /// The parameters `with:` may set; templates read them as `{{ params.NAME }}`.
    #[serde(default)]
    params: BTreeMap<String, Param>,
}

/// One parameter of a module.
#[derive(Deserialize, schemars::JsonSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// The type a value must have.
    #[serde(rename = "type")]
    kind: ParamType,
    /// The value when `with:` does not set it; without one the parameter is required.
    #[serde(default)]
    default: Option<YamlValue>,
    /// What the parameter means.
    #[serde(default)]
    pub description: String,
    /// The smallest value a number may take (a Dock icon is 16 to 128 points).
    #[serde(default)]
    min: Option<f64>,
    /// The largest value a number may take.
    #[serde(default)]
    max: Option<f64>,
}

/// A parameter's type.
#[derive(Deserialize, schemars::JsonSchema, Clone, Copy, PartialEq, Debug)]
#[serde(rename_all = "lowercase")]
enum ParamType {
    Bool,
    Int,
    Float,
    String,
    List,
}

impl ParamType {
    fn described(self) -> &'static str {
        match self {
            ParamType::Bool => "true or false",
            ParamType::Int => "an integer",
            ParamType::Float => "a number",
            ParamType::String => "a string",
            ParamType::List => "a list",
        }
    }
}

/// The one-line description of a shipped module, for `modules list`.
pub fn description(text: &str) -> String {
    header(text)
        .ok()
        .and_then(|(description, _)| description)
        .unwrap_or_default()
}

/// A module's header (`description`, `params`): plain data, never rendered.
fn header(text: &str) -> Result<(Option<String>, BTreeMap<String, Param>), serde_yaml::Error> {
    let header: Header = serde_yaml::from_str(text)?;
    Ok((header.description, header.params))
}

fn json_of(value: &YamlValue) -> serde_json::Value {
    match value {
        YamlValue::Bool(b) => serde_json::json!(b),
        YamlValue::Int(i) => serde_json::json!(i),
        YamlValue::Float(f) => serde_json::json!(f),
        YamlValue::Str(s) => serde_json::json!(s),
        YamlValue::Seq(items) => serde_json::Value::Array(items.iter().map(json_of).collect()),
        YamlValue::Map(map) => {
            serde_json::Value::Object(map.iter().map(|(k, v)| (k.clone(), json_of(v))).collect())
        }
    }
}

fn type_fits(kind: ParamType, value: &YamlValue) -> bool {
    matches!(
        (kind, value),
        (ParamType::Bool, YamlValue::Bool(_))
            | (ParamType::Int, YamlValue::Int(_))
            | (ParamType::Float, YamlValue::Float(_) | YamlValue::Int(_))
            | (ParamType::String, YamlValue::Str(_))
            | (ParamType::List, YamlValue::Seq(_))
    )
}

/// Finds, checks, renders and expands one `use:` entry; says whether it rendered templates.
pub fn expand_use(
    entry: &UseEntry,
    index: usize,
    spec: &Arc<Origin>,
    options: ollama::Options,
    gathered: &mut Gathered,
    facts: &dyn Fn() -> anyhow::Result<crate::facts::Facts>,
    vars: &serde_json::Value,
) -> anyhow::Result<(Vec<Declared>, bool)> {
    let here = vec![key("use"), Segment::Index(index)];
    let (file, text) = source(&entry.module, spec, &here)?;
    // The whole file's YAML first, so a syntax error (or old-style `{% if %}` lines) is
    // reported as such, not as a header that cannot be read.
    super::document::parse(&file, &text)?;
    let (_, declared) = header(&text).map_err(|err| SpecError::from_yaml(&file, &text, &err))?;
    let mut params = serde_json::Map::new();
    for (name, value) in &entry.with {
        let at = child(&child(&here, key("with")), key(name));
        let Some(param) = declared.get(name) else {
            let known: Vec<&str> = declared.keys().map(String::as_str).collect();
            return Err(spec
                .error(
                    &at,
                    format!("module `{}` has no parameter `{name}`", entry.module),
                )
                .with_code("unknown_module_parameter")
                .with_hint(
                    match (
                        known.is_empty(),
                        super::suggest::did_you_mean(name, known.clone()),
                    ) {
                        (true, _) => "it takes no parameters".to_string(),
                        (false, Some(close)) => {
                            format!("{close} its parameters are {}", known.join(", "))
                        }
                        (false, None) => format!("its parameters are {}", known.join(", ")),
                    },
                )
                .into());
        };
        if !type_fits(param.kind, value) {
            return Err(spec
                .error(
                    &at,
                    format!(
                        "`{name}` must be {}, not {}",
                        param.kind.described(),
                        value.describe()
                    ),
                )
                .into());
        }
        let number = match value {
            YamlValue::Int(i) => Some(*i as f64),
            YamlValue::Float(f) => Some(*f),
            _ => None,
        };
        if let Some(number) = number
            && (param.min.is_some_and(|min| number < min)
                || param.max.is_some_and(|max| number > max))
        {
            let bound = |b: Option<f64>| b.map(|b| b.to_string()).unwrap_or("any".to_string());
            let shown = match value {
                YamlValue::Int(i) => i.to_string(),
                _ => number.to_string(),
            };
            return Err(spec
                .error(
                    &at,
                    format!(
                        "`{name}` must be from {} to {} ({}), not {shown}",
                        bound(param.min),
                        bound(param.max),
                        param.description,
                    ),
                )
                .into());
        }
        params.insert(name.clone(), json_of(value));
    }
    for (name, param) in &declared {
        if params.contains_key(name) {
            continue;
        }
        match &param.default {
            Some(default) => {
                params.insert(name.clone(), json_of(default));
            }
            None => {
                return Err(spec
                    .error(
                        &here,
                        format!(
                            "module `{}` needs `with: {{{name}: ...}}` ({})",
                            entry.module, param.description
                        ),
                    )
                    .into());
            }
        }
    }
    let prepared =
        super::document::prepare(&file, &text, &["module", "description", "params"], &|_| {
            Ok(serde_json::json!({
                "host": facts()?,
                "params": params,
                "vars": vars,
            }))
        })?;
    let parsed: SpecFile = prepared.parsed;
    let origin = Arc::new(prepared.origin);
    let mut errors = prepared.errors;
    if parsed.macllm.is_some() || !parsed.modules.is_empty() || parsed.vars.is_some() {
        return Err(origin
            .error(
                &[],
                "a module may not contain `macllm`, `use` or `vars`: those belong to the spec",
            )
            .into());
    }
    let declared = expand_sections(parsed, &origin, options, gathered, &mut errors);
    if !errors.is_empty() {
        return Err(SpecErrors::into_error(errors));
    }
    Ok((declared, prepared.templated))
}

/// A shipped module by name, or a local file (`./x.yaml`, relative to the spec).
fn source(name: &str, spec: &Origin, here: &[Segment]) -> Result<(PathBuf, String), SpecError> {
    let at = child(here, key("module"));
    if name.starts_with("./") || name.starts_with("../") || name.starts_with('/') {
        let base = spec.file.parent().unwrap_or(Path::new("."));
        let path = base.join(name);
        local_module_allowed(name, base, &path).map_err(|message| {
            spec.error(&at, message).with_hint(
                "a local module is a .yaml file beside the spec or in a folder below it: `./NAME.yaml`",
            )
        })?;
        return std::fs::read_to_string(&path)
            .map(|text| (path.clone(), text))
            .map_err(|err| {
                spec.error(&at, format!("cannot read module {}: {err}", path.display()))
            });
    }
    match SHIPPED.iter().find(|(shipped, _)| *shipped == name) {
        Some((shipped, text)) => Ok((
            PathBuf::from(format!("modules/{shipped}.yaml")),
            text.to_string(),
        )),
        None => Err(spec
            .error(&at, format!("unknown module `{name}`"))
            .with_code("unknown_module")
            .with_hint(format!(
                "shipped modules: {}; a local one starts with ./",
                SHIPPED
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
    }
}

/// A local module stays in the spec's folder: a relative `.yaml` path without `..`, that
/// does not lead out through a symlink. Whatever is refused here is never read, so an error
/// can never quote another file's contents.
fn local_module_allowed(name: &str, base: &Path, path: &Path) -> Result<(), String> {
    if name.starts_with('/') {
        return Err(format!(
            "module `{name}` is an absolute path; macllm reads local modules only from the spec's folder"
        ));
    }
    if name.contains('\0') {
        return Err("the module path contains a NUL byte".to_string());
    }
    if name.split('/').any(|part| part == "..") {
        return Err(format!(
            "module `{name}` leads outside the spec's folder (`..`); macllm reads local modules only from there"
        ));
    }
    if !(name.ends_with(".yaml") || name.ends_with(".yml")) {
        return Err(format!("module `{name}` is not a .yaml file"));
    }
    // A symlink inside the folder may still point out of it.
    let base = if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base
    };
    if let (Ok(real), Ok(root)) = (path.canonicalize(), base.canonicalize())
        && !real.starts_with(&root)
    {
        return Err(format!(
            "module `{name}` is a link that leads outside the spec's folder; macllm reads local modules only from there"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_modules_is_shipped_with_a_description() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("modules");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                name.strip_suffix(".yaml").map(str::to_string)
            })
            .collect();
        files.sort();
        let shipped: Vec<String> = SHIPPED.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(files, shipped);
        for (name, text) in SHIPPED {
            assert!(!description(text).is_empty(), "{name} has no description");
        }
    }
}
