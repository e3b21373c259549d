//! The `ollama:` section: server variables checked against the variables Ollama really
//! reads, base models to pull, and custom models whose parameters are checked against
//! Ollama's own table. Adds the implicit edges: pulls and models after the variables (and the
//! restart they need), a model after the pull of its base.

use super::locate::Segment;
use super::yaml_value::YamlValue;
use super::{At, Declared, SpecError, child, dependencies, key};
use crate::ollama::env;
use crate::ollama::parameters::{self, Kind};
use crate::resources::ollama_env::OllamaEnv;
use crate::resources::ollama_models::{OllamaModel, OllamaPull, full_name};
use crate::resources::ollama_server::{HOMEBREW_LABEL, ServerChoice};
use crate::resources::services::{Domain, Service};
use crate::resources::{AnyResource, Resource, ResourceId};
use crate::value::Value;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The Ollama server: how it runs, its variables, the models to pull and to build.
#[derive(Deserialize, schemars::JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct OllamaEntry {
    /// How Ollama is run: `auto` (what the Mac has), `homebrew`, `own` or `app`.
    #[serde(default)]
    pub server: ServerChoice,
    /// Server variables (`OLLAMA_*`), checked against the ones Ollama really reads.
    #[serde(default)]
    #[schemars(schema_with = "server_variables")]
    env: BTreeMap<String, YamlValue>,
    /// Models to pull (`llama3.2:3b`); quote tags that look like numbers.
    #[serde(default)]
    pull: Vec<String>,
    /// Custom models built from a base model (as a Modelfile would).
    #[serde(default)]
    models: Vec<ModelEntry>,
}

/// The variables Ollama reads, from the same table that checks them.
fn server_variables(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    super::schema::known_keys(
        env::VARIABLES.iter().map(|variable| {
            let schema = match variable.kind {
                env::Kind::Bool => serde_json::json!({"enum": [true, false, 1, 0, "true", "false", "1", "0"]}),
                env::Kind::Uint => serde_json::json!({"type": ["integer", "string"], "minimum": 0, "pattern": "^[0-9]+$"}),
                env::Kind::Choice(words) => serde_json::json!({"enum": choices(words)}),
                env::Kind::Duration => serde_json::json!({"type": ["string", "integer"]}),
                env::Kind::HostPort => serde_json::json!({"type": "string"}),
                env::Kind::Text => serde_json::json!({"type": ["string", "number", "boolean"]}),
            };
            let mut schema = schema;
            schema["description"] = variable.meaning.into();
            (variable.name, schema)
        }),
    )
}

/// A variable's words, and the YAML numbers and booleans that read as them.
fn choices(words: &[&str]) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for word in words {
        out.push(serde_json::json!(word));
        if let Ok(number) = word.parse::<i64>() {
            out.push(serde_json::json!(number));
        }
        if let Ok(switch) = word.parse::<bool>() {
            out.push(serde_json::json!(switch));
        }
    }
    out
}

/// Modelfile parameters, from the same table that checks them.
fn model_parameters(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    super::schema::known_keys(parameters::PARAMETERS.iter().map(|(name, kind)| {
        let schema = match kind {
            Kind::Int => serde_json::json!({"type": "integer"}),
            Kind::Float => serde_json::json!({"type": "number"}),
            Kind::Bool => serde_json::json!({"type": "boolean"}),
            Kind::Strings => serde_json::json!({"type": "array", "items": {"type": "string"}}),
        };
        (*name, schema)
    }))
}

/// A custom model: a base model with parameters, a system prompt or a template of its own.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ModelEntry {
    /// The new model's name (`llama-fit`, or `name:tag`).
    name: String,
    /// The base model (`llama3.2:3b`), pulled first when `pull:` lists it.
    from: String,
    /// Modelfile parameters (`num_ctx`, `temperature`, `stop`, ...).
    #[serde(default)]
    #[schemars(schema_with = "model_parameters")]
    parameters: BTreeMap<String, YamlValue>,
    /// The prompt template, in Go's template syntax: wrap it in `{% raw %}...{% endraw %}`.
    #[serde(default)]
    template: Option<String>,
    /// The system prompt.
    #[serde(default)]
    system: Option<String>,
    /// A conversation the model starts from.
    #[serde(default)]
    messages: Vec<MessageEntry>,
    /// The model's license text.
    #[serde(default)]
    license: Option<String>,
    /// A LoRA adapter to apply.
    #[serde(default)]
    adapter: Option<String>,
    /// Ids of resources to apply first.
    #[serde(default)]
    depends_on: Vec<String>,
}

/// One message of a model's starting conversation.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct MessageEntry {
    /// Who says it.
    #[schemars(schema_with = "roles")]
    role: String,
    /// The message's text.
    content: String,
}

/// The roles a message may have.
const ROLES: [&str; 3] = ["system", "user", "assistant"];

fn roles(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"type": "string", "enum": ROLES})
}

/// Options that relax checks, from the command line.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// `--allow-unknown-env`: an `OLLAMA_*` name Ollama does not read is a warning.
    pub allow_unknown_env: bool,
}

fn scalar_text(value: &YamlValue) -> Option<String> {
    match value {
        YamlValue::Str(s) => Some(s.clone()),
        YamlValue::Int(i) => Some(i.to_string()),
        YamlValue::Float(f) => Some(f.to_string()),
        YamlValue::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Checks one server variable; `Ok(None)` when it is unknown but allowed (with a warning).
pub fn check_variable(
    name: &str,
    raw: &YamlValue,
    path: &[Segment],
    at: &At,
    options: Options,
    warnings: &mut Vec<String>,
) -> Result<Option<String>, SpecError> {
    let Some(text) = scalar_text(raw) else {
        return Err(at(
            path,
            format!(
                "a variable's value is text or a number, not {}",
                raw.describe()
            ),
        ));
    };
    let Some(variable) = env::find(name) else {
        let (message, mut hint) = env::unknown(name);
        // A slip of the keyboard first; a name popular guides invent already has its hint.
        if !env::INVENTED.iter().any(|(invented, _)| *invented == name)
            && let Some(close) =
                super::suggest::did_you_mean(name, env::VARIABLES.iter().map(|v| v.name))
        {
            hint = close;
        }
        if options.allow_unknown_env {
            warnings.push(format!(
                "{message} (kept because of --allow-unknown-env; {hint})"
            ));
            return Ok(Some(text));
        }
        let or = if hint.ends_with('?') { " Or" } else { "; or" };
        return Err(at(path, message)
            .with_code("unknown_ollama_variable")
            .with_hint(format!(
                "{hint}{or} pass --allow-unknown-env to keep it anyway"
            )));
    };
    env::check(variable, &text)
        .map(Some)
        .map_err(|message| at(path, format!("{name}: {message}")))
}

/// One result per variable, pull and model, so every bad one is reported.
pub fn expand(
    entry: OllamaEntry,
    at: &At,
    options: Options,
    warnings: &mut Vec<String>,
) -> Vec<Result<Declared, SpecError>> {
    let mut declared = Vec::new();
    let mut variables: BTreeMap<String, String> = BTreeMap::new();
    for (name, raw) in &entry.env {
        let path = vec![key("ollama"), key("env"), key(name)];
        match check_variable(name, raw, &path, at, options, warnings) {
            Ok(Some(value)) => {
                variables.insert(name.clone(), value);
            }
            Ok(None) => {}
            Err(err) => declared.push(Err(err)),
        }
    }
    // OLLAMA_KV_CACHE_TYPE only takes effect with flash attention (reference/ollama.md 3.1).
    if let Some(kv) = variables.get("OLLAMA_KV_CACHE_TYPE")
        && kv != "f16"
        && variables.get("OLLAMA_FLASH_ATTENTION").map(String::as_str) == Some("0")
    {
        declared.push(Err(at(
            &[key("ollama"), key("env"), key("OLLAMA_KV_CACHE_TYPE")],
            format!(
                "OLLAMA_KV_CACHE_TYPE={kv} needs flash attention, but OLLAMA_FLASH_ATTENTION is false"
            ),
        )));
    }
    let env_ids: Vec<ResourceId> = variables
        .keys()
        .map(|name| ResourceId(format!("ollama_env:{name}")))
        .collect();
    for (name, value) in variables {
        declared.push(Ok(Declared {
            origin: Default::default(),
            sensitive: false,
            resource: AnyResource::OllamaEnv(OllamaEnv {
                name: name.clone(),
                value,
                server: entry.server,
            }),
            depends_on: Vec::new(),
            path: vec![key("ollama"), key("env"), key(&name)],
        }));
    }
    for (index, model) in entry.pull.iter().enumerate() {
        let path = vec![key("ollama"), key("pull"), Segment::Index(index)];
        if let Err(err) = check_model_name(model, &path, at) {
            declared.push(Err(err));
            continue;
        }
        let resource = OllamaPull {
            model: model.clone(),
            base_of: Vec::new(),
        };
        declared.push(Ok(Declared {
            origin: Default::default(),
            sensitive: false,
            resource: AnyResource::OllamaPull(resource),
            depends_on: env_ids.clone(),
            path,
        }));
    }
    for (index, model) in entry.models.into_iter().enumerate() {
        let path = vec![key("ollama"), key("models"), Segment::Index(index)];
        declared.push(expand_model(model, path, at, &env_ids));
    }
    declared
}

/// Every custom model waits for what it is built from, declared anywhere in the spec or its
/// modules: the custom model of that name, or the pull of it. A base neither listed in
/// `pull:` nor built here gets a pull of its own, declared where the model's `from:` is:
/// Ollama's create pulls a missing `from` unasked (ollama/ollama `server/model.go`
/// `parseFromModel` calls `PullModel` when the manifest does not exist; reference/ollama.md
/// 1.5), so the plan shows that pull, apply makes it first, and the state records it, so
/// that destroy removes a base that was not on the Mac before (and only such a base).
pub fn add_bases(resources: &mut Vec<Declared>) {
    let built: BTreeMap<String, ResourceId> = resources
        .iter()
        .filter_map(|d| match &d.resource {
            AnyResource::OllamaModel(model) => {
                Some((full_name(&model.name), d.resource.as_resource().id()))
            }
            _ => None,
        })
        .collect();
    let env_ids: Vec<ResourceId> = resources
        .iter()
        .filter(|d| matches!(d.resource, AnyResource::OllamaEnv(_)))
        .map(|d| d.resource.as_resource().id())
        .collect();
    let mut implied: Vec<Declared> = Vec::new();
    for index in 0..resources.len() {
        let AnyResource::OllamaModel(model) = &resources[index].resource else {
            continue;
        };
        let (name, from) = (model.name.clone(), model.from.clone());
        let base = match built.get(&full_name(&from)) {
            // Built from itself (a model rebuilt over its own name) waits for nothing.
            Some(id) if *id == resources[index].resource.as_resource().id() => continue,
            Some(id) => id.clone(),
            None => {
                let pull = OllamaPull {
                    model: from.clone(),
                    base_of: Vec::new(),
                };
                let id = pull.id();
                let listed = resources
                    .iter()
                    .any(|d| d.resource.as_resource().id() == id);
                if !listed {
                    match implied
                        .iter_mut()
                        .find(|d| d.resource.as_resource().id() == id)
                    {
                        Some(Declared {
                            resource: AnyResource::OllamaPull(pull),
                            ..
                        }) => pull.base_of.push(name),
                        _ => {
                            let declared = &resources[index];
                            implied.push(Declared {
                                resource: AnyResource::OllamaPull(OllamaPull {
                                    base_of: vec![name],
                                    ..pull
                                }),
                                depends_on: env_ids.clone(),
                                path: child(&declared.path, key("from")),
                                origin: declared.origin.clone(),
                                sensitive: false,
                            });
                        }
                    }
                }
                id
            }
        };
        let depends_on = &mut resources[index].depends_on;
        if !depends_on.contains(&base) {
            depends_on.push(base);
        }
    }
    resources.extend(implied);
}

/// `ollama.server: own`: the spec's agent that runs `ollama serve` is the server. Its plist's
/// `EnvironmentVariables` get the `ollama.env` variables (launchd hands a job its own
/// environment at every start, boot included, so nothing races it), Homebrew's service is
/// disabled before the agent loads (both want port 11434), and whatever waited for the
/// variables waits for the agent. Without `own`, such an agent beside Homebrew's service or
/// the app is two servers on one port: a warning.
pub fn serve_from_own_agent(
    resources: &mut Vec<Declared>,
    choice: ServerChoice,
    at: &At,
    warnings: &mut Vec<String>,
) -> Result<(), SpecError> {
    let agents: Vec<(usize, String)> = resources
        .iter()
        .enumerate()
        .filter_map(|(i, d)| match &d.resource {
            AnyResource::Agent(agent) if agent.serves_ollama() => Some((i, agent.label.clone())),
            _ => None,
        })
        .collect();
    let server_path = [key("ollama"), key("server")];
    if choice != ServerChoice::Own {
        for (_, label) in &agents {
            warnings.push(format!(
                "the agent {label} runs `ollama serve`, and so does Homebrew's service or the app that `ollama.server: {}` uses: two servers want one port; set `ollama: {{ server: own }}` to disable Homebrew's service",
                serde_json::to_value(choice)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            ));
        }
        return Ok(());
    }
    let (agent_index, label) = match agents.as_slice() {
        [one] => one.clone(),
        [] => {
            return Err(at(
                &server_path,
                "`server: own` needs an agent that runs `ollama serve`".to_string(),
            )
            .with_hint("add `use: [{module: ollama-server}]`, or an `agents:` entry with `program_arguments: [/opt/homebrew/bin/ollama, serve]`"));
        }
        several => {
            let labels: Vec<&str> = several.iter().map(|(_, l)| l.as_str()).collect();
            return Err(at(
                &server_path,
                format!(
                    "`server: own` needs one agent that runs `ollama serve`, not {}: {}",
                    labels.len(),
                    labels.join(", ")
                ),
            ));
        }
    };
    let agent_id = resources[agent_index].resource.as_resource().id();
    let mut moved = Vec::new();
    let mut kept = Vec::new();
    for declared in resources.drain(..) {
        match &declared.resource {
            AnyResource::OllamaEnv(variable) => moved.push((variable.clone(), declared)),
            _ => kept.push(declared),
        }
    }
    *resources = kept;
    let agent_index = resources
        .iter()
        .position(|d| d.resource.as_resource().id() == agent_id)
        .expect("the agent was kept");
    let env_ids: Vec<ResourceId> = moved
        .iter()
        .map(|(v, _)| ResourceId(format!("ollama_env:{}", v.name)))
        .collect();
    if let AnyResource::Agent(agent) = &mut resources[agent_index].resource
        && let Value::Dict(plist) = &mut agent.plist
    {
        let environment = plist
            .entry("EnvironmentVariables".to_string())
            .or_insert_with(|| Value::Dict(BTreeMap::new()));
        if let Value::Dict(environment) = environment {
            for (variable, declared) in &moved {
                match environment.get(&variable.name) {
                    Some(Value::String(set)) if *set != variable.value => {
                        return Err(declared.origin.error(
                            &declared.path,
                            format!(
                                "{} is {} here but {set} in the environment of the agent {label}",
                                variable.name, variable.value
                            ),
                        ));
                    }
                    _ => {
                        environment
                            .insert(variable.name.clone(), Value::String(variable.value.clone()));
                    }
                }
            }
        }
    }
    let homebrew = Service {
        label: HOMEBREW_LABEL.to_string(),
        domain: Domain::Gui,
        enabled: false,
    };
    let homebrew_id = homebrew.id();
    if !resources
        .iter()
        .any(|d| d.resource.as_resource().id() == homebrew_id)
    {
        resources.push(Declared {
            origin: resources[agent_index].origin.clone(),
            sensitive: false,
            resource: AnyResource::Service(homebrew),
            depends_on: Vec::new(),
            path: server_path.to_vec(),
        });
    }
    for declared in resources.iter_mut() {
        let id = declared.resource.as_resource().id();
        if id == agent_id {
            if !declared.depends_on.contains(&homebrew_id) {
                declared.depends_on.push(homebrew_id.clone());
            }
            continue;
        }
        let waited = declared.depends_on.len();
        declared.depends_on.retain(|dep| !env_ids.contains(dep));
        let ollama = matches!(
            declared.resource,
            AnyResource::OllamaPull(_) | AnyResource::OllamaModel(_)
        );
        if (declared.depends_on.len() < waited || ollama)
            && !declared.depends_on.contains(&agent_id)
        {
            declared.depends_on.push(agent_id.clone());
        }
    }
    Ok(())
}

/// `[host/][namespace/]model[:tag]` with Ollama's character rules (reference/ollama.md 1.0).
fn check_model_name(name: &str, path: &[Segment], at: &At) -> Result<(), SpecError> {
    let last = name.rsplit('/').next().unwrap_or_default();
    let (model, tag) = last.split_once(':').unwrap_or((last, "latest"));
    let part_ok = |part: &str| {
        !part.is_empty()
            && part.len() <= 80
            && part
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    };
    if part_ok(model) && part_ok(tag) {
        return Ok(());
    }
    Err(at(
        path,
        format!("`{name}` is not a model name Ollama accepts (like `llama3.2:3b`)"),
    ))
}

fn expand_model(
    entry: ModelEntry,
    path: Vec<Segment>,
    at: &At,
    env_ids: &[ResourceId],
) -> Result<Declared, SpecError> {
    check_model_name(&entry.name, &child(&path, key("name")), at)?;
    check_model_name(&entry.from, &child(&path, key("from")), at)?;
    if entry.adapter.is_some() {
        return Err(at(
            &child(&path, key("adapter")),
            "adapters are uploaded as blobs before `/api/create`; macllm does not support them yet"
                .to_string(),
        ));
    }
    let mut typed = BTreeMap::new();
    for (name, raw) in &entry.parameters {
        let here = child(&child(&path, key("parameters")), key(name));
        typed.insert(name.clone(), check_parameter(name, raw, &here, at)?);
    }
    for (index, message) in entry.messages.iter().enumerate() {
        if !ROLES.contains(&message.role.as_str()) {
            return Err(at(
                &child(
                    &child(&child(&path, key("messages")), Segment::Index(index)),
                    key("role"),
                ),
                format!(
                    "message role must be one of \"system\", \"user\", or \"assistant\", not `{}`",
                    message.role
                ),
            ));
        }
    }
    let mut depends_on = dependencies(entry.depends_on, &path, at)?;
    depends_on.extend(env_ids.iter().cloned());
    Ok(Declared {
        origin: Default::default(),
        sensitive: false,
        resource: AnyResource::OllamaModel(OllamaModel {
            name: entry.name,
            from: entry.from,
            parameters: typed,
            template: entry.template,
            system: entry.system,
            messages: entry
                .messages
                .into_iter()
                .map(|m| (m.role, m.content))
                .collect(),
            license: entry.license,
        }),
        depends_on,
        path,
    })
}

/// A parameter's value with the JSON type Ollama's runtime demands (it fails the model load
/// otherwise: `option "num_ctx" must be of type integer`, reference/ollama.md 2.2).
fn check_parameter(
    name: &str,
    raw: &YamlValue,
    path: &[Segment],
    at: &At,
) -> Result<Value, SpecError> {
    let Some(kind) = parameters::kind(name) else {
        let message = match parameters::RETIRED.iter().find(|(n, _)| *n == name) {
            Some((_, why)) => format!("parameter `{name}` is {why}"),
            None => format!("unknown parameter `{name}`"),
        };
        let hint = match name {
            "num_threads" | "threads" => "the parameter is `num_thread`".to_string(),
            "context" | "context_length" | "ctx" => "the parameter is `num_ctx`".to_string(),
            _ => format!(
                "Ollama's parameters are {}",
                parameters::PARAMETERS
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        return Err(at(path, message).with_hint(hint));
    };
    let wrong = |wanted: &str| {
        at(
            path,
            format!("`{name}` must be {wanted}, not {}", raw.describe()),
        )
    };
    Ok(match (kind, raw) {
        (Kind::Int, YamlValue::Int(i)) => Value::Integer(*i),
        (Kind::Int, _) => return Err(wrong("an integer")),
        (Kind::Float, YamlValue::Float(f)) => Value::Float(*f),
        (Kind::Float, YamlValue::Int(i)) => Value::Float(*i as f64),
        (Kind::Float, _) => return Err(wrong("a number")),
        (Kind::Bool, YamlValue::Bool(b)) => Value::Bool(*b),
        (Kind::Bool, _) => return Err(wrong("true or false")),
        (Kind::Strings, YamlValue::Str(s)) => Value::Array(vec![Value::String(s.clone())]),
        (Kind::Strings, YamlValue::Seq(items)) => Value::Array(
            items
                .iter()
                .map(|item| match item {
                    YamlValue::Str(s) => Ok(Value::String(s.clone())),
                    other => Err(wrong(&format!(
                        "a list of strings (found {})",
                        other.describe()
                    ))),
                })
                .collect::<Result<_, _>>()?,
        ),
        (Kind::Strings, _) => return Err(wrong("a string or a list of strings")),
    })
}
