//! What a Mac has, as import candidates. Values are read through the resources' readers; the
//! listings (disabled jobs, loaded agents, pulled models) are read-only commands and API
//! calls. Nothing here writes.

use super::yaml::{map, protect, verbatim};
use super::{Found, Item, Section};
use crate::facts::Facts;
use crate::host::cached::Cached;
use crate::host::{Host, Invocation, ReadOnly};
use crate::ollama::client::Client;
use crate::ollama::{env, modelfile, parameters};
use crate::resources::agents::Agent;
use crate::resources::defaults::DefaultsKey;
use crate::resources::ollama_env::env_file_entry;
use crate::resources::ollama_models::full_name;
use crate::resources::ollama_server::{HOMEBREW_LABEL, Server, ServerChoice};
use crate::resources::services::{
    Domain, domain_target, loaded_labels, parse_print_disabled, print_disabled, print_domain,
};
use crate::resources::spotlight::SpotlightFolder;
use crate::resources::{AnyResource, Resource};
use crate::spec::Spec;
use crate::target::Target;
use crate::value::Value;
use anyhow::{Context, Result};
use serde_json::Value as Json;
use serde_yaml::Value as Yaml;
use std::collections::BTreeMap;

/// The folder Ollama keeps models in unless `OLLAMA_MODELS` says otherwise.
const MODELS_FOLDER: &str = "~/.ollama/models";

/// The keys launchd.plist(5) has that an `agents:` entry can say, with the entry's field.
const AGENT_KEYS: &[(&str, &str)] = &[
    ("Label", "label"),
    ("ProgramArguments", "program_arguments"),
    ("EnvironmentVariables", "environment"),
    ("KeepAlive", "keep_alive"),
    ("RunAtLoad", "run_at_load"),
    ("ProcessType", "process_type"),
    ("Nice", "nice"),
    ("WorkingDirectory", "working_directory"),
    ("StandardOutPath", "standard_out_path"),
    ("StandardErrorPath", "standard_error_path"),
    ("LimitLoadToSessionType", "limit_load_to_session_type"),
];

pub(super) fn everything(host: &dyn Host) -> Result<Found> {
    let cached = Cached::new(host);
    let reader = ReadOnly(&cached);
    let target = Target::new(&reader);
    let facts = target.facts()?.clone();
    let mut items = Vec::new();
    let shipped = shipped_resources(&facts)?;
    items.extend(defaults(&target, &shipped)?);
    items.extend(services(&target, &shipped)?);
    let agents = agents(&target)?;
    let serving = agents
        .iter()
        .find(|(agent, item)| agent.serves_ollama() && item.left_out.is_none())
        .map(|(agent, _)| agent.clone());
    items.extend(agents.into_iter().map(|(_, item)| item));
    let server = server(&target, serving.as_ref())?;
    let (env_items, models_folder) = ollama_env(&target, server.as_ref().map(|(s, _)| s))?;
    let models_folder = models_folder.or_else(|| {
        serving
            .as_ref()
            .and_then(|agent| agent_env(agent).get("OLLAMA_MODELS").cloned())
    });
    items.extend(spotlight(&target, &shipped, models_folder)?);
    // Ollama listens where `OLLAMA_HOST` moved it, as `plan` looks for it there.
    let listens = match &serving {
        Some(agent) => agent_env(agent).get("OLLAMA_HOST").cloned(),
        None => env_items
            .iter()
            .find(|item| item.name.as_deref() == Some("OLLAMA_HOST"))
            .and_then(|item| item.body.as_str().map(str::to_string)),
    };
    let ollama = Target::new(&reader)
        .with_facts(Some(facts.clone()))
        .ollama_at(
            listens
                .iter()
                .map(|value| crate::host::local::ollama_base_url(Some(value)))
                .collect(),
        );
    items.extend(env_items);
    let running = Client::new(ollama.host()).is_running();
    if running {
        items.extend(models(&ollama)?);
    }
    let server = server.map(|(server, why)| super::ServerSetting {
        name: server.name(),
        why: if running {
            why
        } else {
            format!("{why}; it is not running, so its models could not be listed")
        },
        left_out: None,
    });
    let mut warnings = target.take_warnings();
    warnings.extend(ollama.take_warnings());
    Ok(Found {
        facts,
        server,
        items,
        warnings,
    })
}

/// How Ollama runs here, as `ollama.server` says it.
#[derive(Clone, Debug)]
enum Running {
    Homebrew(Server),
    App,
    Own,
}

impl Running {
    fn name(&self) -> &'static str {
        match self {
            Running::Homebrew(_) => "homebrew",
            Running::App => "app",
            Running::Own => "own",
        }
    }
}

/// The resources each shipped module declares on this Mac (with its defaults for `with:`).
fn shipped_resources(facts: &Facts) -> Result<Vec<(&'static str, AnyResource)>> {
    let mut found = Vec::new();
    for (name, _) in crate::spec::modules::SHIPPED {
        let file = tempfile::Builder::new()
            .prefix("macllm-import-")
            .suffix(".yaml")
            .tempfile()?;
        std::fs::write(
            file.path(),
            format!("macllm: 1\nuse:\n  - module: {name}\n"),
        )?;
        let spec = Spec::load(
            file.path(),
            Default::default(),
            &|| Ok(facts.clone()),
            &serde_json::Value::Null,
        )
        .with_context(|| format!("reading the shipped module {name}"))?;
        found.extend(spec.resources.into_iter().map(|d| (*name, d.resource)));
    }
    Ok(found)
}

fn defaults(target: &Target, shipped: &[(&str, AnyResource)]) -> Result<Vec<Item>> {
    let mut items = Vec::new();
    for (module, resource) in shipped {
        let AnyResource::Defaults(key) = resource else {
            continue;
        };
        let unset = DefaultsKey {
            value: None,
            ..key.clone()
        };
        let Some(value) = unset.read(target)? else {
            continue;
        };
        let id = unset.id().0;
        let comment = format!("`use: [{{module: {module}}}]` manages it");
        let mut fields = vec![
            ("domain", Yaml::String(key.domain.clone())),
            ("key", Yaml::String(key.key.clone())),
        ];
        if key.current_host {
            fields.push(("current_host", Yaml::Bool(true)));
        }
        let item = match typed(&value) {
            Some((yaml, declared)) => {
                fields.push(("value", yaml));
                if let Some(declared) = declared {
                    fields.push(("type", Yaml::String(declared.to_string())));
                }
                Item::new(Section::Defaults, id, mapping(fields))
            }
            None => Item::new(Section::Defaults, id, Yaml::Null).left_out(format!(
                "its value ({}) holds a date, data or a key that a spec value cannot say exactly",
                value.type_name()
            )),
        };
        items.push(item.with_comment(comment));
    }
    Ok(items)
}

/// A value as the spec writes it, and the `type:` it needs (dates and data are strings in
/// YAML). `None` when a date or data sits inside a collection, where `type:` cannot reach, or
/// a key holds template syntax.
fn typed(value: &Value) -> Option<(Yaml, Option<&'static str>)> {
    Some(match value {
        Value::Date(date) => (Yaml::String(date.clone()), Some("date")),
        Value::Data(hex) => (Yaml::String(hex.clone()), Some("data")),
        Value::Float(_) => (plain(value)?, Some("float")),
        other => (plain(other)?, None),
    })
}

/// A value without dates and data, every string made verbatim.
fn plain(value: &Value) -> Option<Yaml> {
    protect(unprotected(value)?)
}

fn unprotected(value: &Value) -> Option<Yaml> {
    Some(match value {
        Value::Bool(b) => Yaml::Bool(*b),
        Value::Integer(i) => Yaml::Number((*i).into()),
        Value::Float(f) if f.is_finite() => Yaml::Number((*f).into()),
        Value::String(s) => Yaml::String(s.clone()),
        Value::Array(items) => {
            Yaml::Sequence(items.iter().map(unprotected).collect::<Option<_>>()?)
        }
        Value::Dict(fields) => {
            let mut out = serde_yaml::Mapping::new();
            for (key, value) in fields {
                out.insert(Yaml::String(key.clone()), unprotected(value)?);
            }
            Yaml::Mapping(out)
        }
        Value::Float(_) | Value::Date(_) | Value::Data(_) => return None,
    })
}

fn mapping(fields: Vec<(&str, Yaml)>) -> Yaml {
    let mut out = serde_yaml::Mapping::new();
    for (key, value) in fields {
        out.insert(Yaml::String(key.to_string()), value);
    }
    Yaml::Mapping(out)
}

/// Jobs the user's domain has disabled (`launchctl print-disabled`).
fn services(target: &Target, shipped: &[(&str, AnyResource)]) -> Result<Vec<Item>> {
    let domain = domain_target(target, Domain::Gui)?;
    let listing = target.run_as_user(print_disabled(&domain))?;
    let mut items = Vec::new();
    for (label, disabled) in parse_print_disabled(&listing.stdout) {
        if !disabled {
            continue;
        }
        let module = shipped
            .iter()
            .find_map(|(module, resource)| match resource {
                AnyResource::Service(service) if service.label == label => Some(*module),
                _ => None,
            });
        let mut item = Item::new(
            Section::Services,
            format!("service:gui/{label}"),
            map([("label", verbatim(&label)), ("enabled", Yaml::Bool(false))]),
        );
        if let Some(module) = module {
            item = item.with_comment(format!("`use: [{{module: {module}}}]` manages it"));
        }
        items.push(item);
    }
    Ok(items)
}

/// The labels of the user's domain: loaded jobs (`launchctl print`) and disabled ones.
fn user_labels(target: &Target) -> Result<Vec<String>> {
    let domain = domain_target(target, Domain::Gui)?;
    let printed = target.run_as_user(print_domain(&domain))?;
    let mut labels = loaded_labels(&printed.stdout);
    let disabled = target.run_as_user(print_disabled(&domain))?;
    labels.extend(parse_print_disabled(&disabled.stdout).into_keys());
    labels.sort();
    labels.dedup();
    Ok(labels)
}

/// LaunchAgents of the user's that run `ollama` (Homebrew's own and macllm's variable agents
/// are how Ollama is run, not agents of the user's).
fn agents(target: &Target) -> Result<Vec<(Agent, Item)>> {
    let home = target.facts()?.home.clone();
    let mut found = Vec::new();
    for label in user_labels(target)? {
        if label.starts_with("com.apple.")
            || label == HOMEBREW_LABEL
            || label.starts_with("com.macllm.ollama-env.")
        {
            continue;
        }
        let path = format!("{home}/Library/LaunchAgents/{label}.plist");
        let file = target.run_as_user(Invocation::read(["cat", &path]))?;
        if !file.success() {
            continue;
        }
        let Ok(parsed) = plist::Value::from_reader(std::io::Cursor::new(file.stdout.as_bytes()))
        else {
            continue;
        };
        let Ok(value) = Value::from_plist(&parsed) else {
            continue;
        };
        let agent = Agent {
            label: label.clone(),
            path: crate::resources::agents::default_path(&label),
            plist: value,
        };
        if !runs_ollama(&agent) {
            continue;
        }
        let id = agent.id().0;
        let item = match agent_entry(&agent) {
            Ok(body) => Item::new(Section::Agents, id, body),
            Err(why) => Item::new(Section::Agents, id, Yaml::Null).left_out(why),
        };
        found.push((agent, item));
    }
    Ok(found)
}

fn runs_ollama(agent: &Agent) -> bool {
    let Value::Dict(plist) = &agent.plist else {
        return false;
    };
    matches!(
        plist.get("ProgramArguments"),
        Some(Value::Array(arguments))
            if matches!(arguments.first(), Some(Value::String(program))
                if program.rsplit('/').next() == Some("ollama"))
    )
}

fn agent_env(agent: &Agent) -> BTreeMap<String, String> {
    match &agent.plist {
        Value::Dict(plist) => match plist.get("EnvironmentVariables") {
            Some(Value::Dict(environment)) => environment
                .iter()
                .filter_map(|(k, v)| match v {
                    Value::String(s) => Some((k.clone(), s.clone())),
                    _ => None,
                })
                .collect(),
            _ => BTreeMap::new(),
        },
        _ => BTreeMap::new(),
    }
}

/// The `agents:` entry for an agent's plist, or why there is none.
fn agent_entry(agent: &Agent) -> Result<Yaml, String> {
    let Value::Dict(plist) = &agent.plist else {
        return Err("its file is not a dictionary".to_string());
    };
    let unknown: Vec<&str> = plist
        .keys()
        .filter(|key| !AGENT_KEYS.iter().any(|(k, _)| k == key))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "its plist has keys macllm does not model ({}), which a spec would drop",
            unknown.join(", ")
        ));
    }
    if !plist.contains_key("LimitLoadToSessionType") {
        return Err(
            "its plist has no LimitLoadToSessionType, and macllm always writes one (every session type unless told)"
                .to_string(),
        );
    }
    let mut fields = vec![("label", verbatim(&agent.label))];
    for (plist_key, field) in AGENT_KEYS.iter().skip(1) {
        let Some(value) = plist.get(*plist_key) else {
            // launchd reads a missing KeepAlive or RunAtLoad as false; the spec's default
            // for both is true.
            if matches!(*plist_key, "KeepAlive" | "RunAtLoad") {
                fields.push((field, Yaml::Bool(false)));
            }
            continue;
        };
        let yaml = plain(value)
            .ok_or_else(|| format!("its {plist_key} holds a value a spec cannot say exactly"))?;
        fields.push((field, yaml));
    }
    Ok(mapping(fields))
}

/// `ollama.server`: Homebrew's service, the app, or an agent of the user's, with why.
fn server(target: &Target, serving: Option<&Agent>) -> Result<Option<(Running, String)>> {
    match Server::detect_as(target, ServerChoice::Auto) {
        Ok(server @ Server::HomebrewEnvFile { .. }) => {
            let Server::HomebrewEnvFile { env_file, .. } = &server else {
                unreachable!()
            };
            let why = format!(
                "Ollama runs as Homebrew's service ({HOMEBREW_LABEL}); its variables are in {env_file}"
            );
            Ok(Some((Running::Homebrew(server), why)))
        }
        Ok(server @ Server::Homebrew { .. }) => Ok(Some((
            Running::Homebrew(server),
            format!(
                "Ollama runs as Homebrew's service ({HOMEBREW_LABEL}); its variables come from `launchctl setenv`"
            ),
        ))),
        Ok(Server::App) => Ok(Some((
            Running::App,
            "Ollama runs from Ollama.app; its variables come from `launchctl setenv`".to_string(),
        ))),
        Err(_) => Ok(serving.map(|agent| {
            (
                Running::Own,
                format!(
                    "Ollama runs from your agent {}, with its variables in its plist",
                    agent.label
                ),
            )
        })),
    }
}

/// `ollama.env` from where the server reads its variables, and `OLLAMA_MODELS` if set.
fn ollama_env(target: &Target, server: Option<&Running>) -> Result<(Vec<Item>, Option<String>)> {
    let mut variables: Vec<(String, String)> = Vec::new();
    match server {
        Some(Running::Homebrew(Server::HomebrewEnvFile { env_file, .. })) => {
            let file = target.host().run(&Invocation::read(["cat", env_file]))?;
            if file.success() {
                let mut seen = BTreeMap::new();
                for (name, value) in file.stdout.lines().filter_map(env_file_entry) {
                    seen.insert(name.to_string(), value.to_string());
                }
                variables.extend(seen);
            }
        }
        Some(Running::Homebrew(_) | Running::App) => {
            for variable in env::VARIABLES {
                let live =
                    target.run_as_user(Invocation::read(["launchctl", "getenv", variable.name]))?;
                let value = live.stdout.trim_end_matches('\n');
                if live.success() && !value.is_empty() {
                    variables.push((variable.name.to_string(), value.to_string()));
                }
            }
        }
        // An agent of the user's keeps its variables in its own plist (`agents:`).
        Some(Running::Own) | None => {}
    }
    let models_folder = variables
        .iter()
        .find(|(name, _)| name == "OLLAMA_MODELS")
        .map(|(_, value)| value.clone());
    let items = variables
        .into_iter()
        .map(|(name, raw)| {
            let id = format!("ollama_env:{name}");
            let mut item = match env::find(&name) {
                None => Item::new(Section::OllamaEnv, id, Yaml::Null)
                    .left_out("Ollama does not read this variable"),
                Some(variable) => match env::check(variable, &raw) {
                    Ok(value) => Item::new(Section::OllamaEnv, id, verbatim(&value)),
                    Err(why) => Item::new(Section::OllamaEnv, id, Yaml::Null)
                        .left_out(format!("its value is not one Ollama accepts: {why}")),
                },
            };
            item.name = Some(name);
            item
        })
        .collect();
    Ok((items, models_folder))
}

/// Folders kept out of Spotlight: the model folder (the shipped module's, or
/// `OLLAMA_MODELS`).
fn spotlight(
    target: &Target,
    shipped: &[(&str, AnyResource)],
    models_folder: Option<String>,
) -> Result<Vec<Item>> {
    let mut paths: Vec<String> = shipped
        .iter()
        .filter_map(|(_, resource)| match resource {
            AnyResource::SpotlightFolder(folder) => Some(folder.path.clone()),
            _ => None,
        })
        .collect();
    if !paths.iter().any(|p| p == MODELS_FOLDER) {
        paths.push(MODELS_FOLDER.to_string());
    }
    if let Some(folder) = models_folder
        && !paths.contains(&folder)
    {
        paths.push(folder);
    }
    let mut items = Vec::new();
    for path in paths {
        let folder = SpotlightFolder {
            path: path.clone(),
            indexed: false,
        };
        let id = folder.id().0;
        let item = match folder.read(target)? {
            Some(Value::Bool(false)) => Item::new(
                Section::Spotlight,
                id,
                map([("path", verbatim(&path)), ("indexed", Yaml::Bool(false))]),
            ),
            Some(Value::String(state)) => Item::new(Section::Spotlight, id, Yaml::Null).left_out(
                format!("it reads as \"{state}\"; finish or undo the move first"),
            ),
            _ => continue,
        };
        items.push(item);
    }
    Ok(items)
}

/// Pulled models (`ollama.pull`) and models built from another (`ollama.models`).
fn models(target: &Target) -> Result<Vec<Item>> {
    let client = Client::new(target.host());
    let mut items = Vec::new();
    for name in client.tags()?.into_keys() {
        let Some(show) = client.show(&name)? else {
            continue;
        };
        let parent = show["details"]["parent_model"].as_str().unwrap_or_default();
        let short = name.strip_suffix(":latest").unwrap_or(&name).to_string();
        if parent.is_empty() {
            items.push(Item::new(
                Section::OllamaPull,
                format!("ollama_pull:{}", full_name(&name)),
                verbatim(&short),
            ));
            continue;
        }
        let base = client.show(parent)?;
        let id = format!("ollama_model:{short}");
        let item = match model_entry(&short, parent, &show, base.as_ref()) {
            Some(body) => Item::new(Section::OllamaModels, id, body),
            None => Item::new(Section::OllamaModels, id, Yaml::Null)
                .left_out("a parameter of it has a name with template syntax"),
        };
        items.push(match base {
            Some(_) => item,
            None => item.with_comment(format!(
                "its base {parent} is not on this Mac: every field of it is listed"
            )),
        });
    }
    Ok(items)
}

/// What the model sets over its base, by Ollama's create rules (a field given replaces the
/// base's; reference/ollama.md 2.5).
fn model_entry(name: &str, parent: &str, show: &Json, base: Option<&Json>) -> Option<Yaml> {
    let text = |json: &Json, key: &str| json[key].as_str().unwrap_or_default().to_string();
    let template = |json: &Json| {
        json["modelfile"]
            .as_str()
            .and_then(modelfile::stored_template)
            .unwrap_or_else(|| text(json, "template"))
    };
    let params =
        |json: &Json| parameters::parse_show(json["parameters"].as_str().unwrap_or_default());
    let empty = Json::Null;
    let base = base.unwrap_or(&empty);
    let mut fields = vec![("name", verbatim(name)), ("from", verbatim(parent))];
    let base_params = params(base);
    let mut set = serde_yaml::Mapping::new();
    for (param, values) in params(show) {
        if base_params.get(&param) == Some(&values) {
            continue;
        }
        let value = match (parameters::kind(&param), values.as_slice()) {
            (Some(parameters::Kind::Strings), _) | (_, [_, _, ..]) => {
                plain(&Value::Array(values.clone()))?
            }
            (_, [one]) => plain(one)?,
            (_, []) => continue,
        };
        if super::yaml::holds_template_syntax(&param) {
            return None;
        }
        set.insert(Yaml::String(param), value);
    }
    if !set.is_empty() {
        fields.push(("parameters", Yaml::Mapping(set)));
    }
    for (field, own, inherited) in [
        ("template", template(show), template(base)),
        ("system", text(show, "system"), text(base, "system")),
    ] {
        if !own.is_empty() && own != inherited {
            fields.push((field, verbatim(&own)));
        }
    }
    let messages = |json: &Json| json["messages"].clone();
    if messages(show).is_array() && messages(show) != messages(base) {
        let list: Vec<Yaml> = messages(show)
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| {
                map([
                    ("role", verbatim(m["role"].as_str().unwrap_or_default())),
                    (
                        "content",
                        verbatim(m["content"].as_str().unwrap_or_default()),
                    ),
                ])
            })
            .collect();
        if !list.is_empty() {
            fields.push(("messages", Yaml::Sequence(list)));
        }
    }
    Some(mapping(fields))
}
