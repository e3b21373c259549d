//! Ollama models: base models that must be present (`ollama.pull`), and custom models built
//! from Modelfile fields through `POST /api/create` (`ollama.models`).
//!
//! A custom model inherits template, system prompt, parameters (merged key by key, lists
//! replaced), messages and licence from its base (reference/ollama.md 2.5), and `/api/show`
//! returns parameters unordered as Go floats (2.3). So the desired state is "base plus what the
//! spec sets", computed from the base's own `/api/show` at plan time, and both sides are
//! compared as a normalised Modelfile text whose parameters are typed and sorted.

use super::{Resource, ResourceId};
use crate::host::Invocation;
use crate::ollama::client::Client;
use crate::ollama::modelfile;
use crate::ollama::parameters::parse_show;
use crate::target::Target;
use crate::value::Value;
use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

/// A model name as Ollama displays and records it (`details.parent_model`, the `from` of a
/// created model's layers): `DisplayShortest` of ollama/ollama `types/model/name.go`, which
/// drops the default host `registry.ollama.ai` and namespace `library` and always shows a
/// tag, `latest` by default (`registry.ollama.ai/library/llama3.2:3b` -> `llama3.2:3b`,
/// `llama3.2` -> `llama3.2:latest`, `example.com/ns/m:t` unchanged).
pub fn full_name(model: &str) -> String {
    let mut parts: Vec<&str> = model.split('/').collect();
    if parts.len() == 3 && parts[0].eq_ignore_ascii_case("registry.ollama.ai") {
        parts.remove(0);
    }
    if parts.len() == 2 && parts[0].eq_ignore_ascii_case("library") {
        parts.remove(0);
    }
    let name = parts.join("/");
    let last = parts.last().copied().unwrap_or_default();
    if last.contains(':') {
        name
    } else {
        format!("{name}:latest")
    }
}

/// A base model that must be present.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OllamaPull {
    pub model: String,
    /// The custom models built from it, when `pull:` does not list it: Ollama's create would
    /// pull it unasked, so the spec pulls it as its own planned and recorded step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub base_of: Vec<String>,
}

impl Resource for OllamaPull {
    fn wait_until_readable(&self, target: &Target) -> Result<()> {
        super::ollama_server::wait_until_running(target.host())
    }

    fn id(&self) -> ResourceId {
        ResourceId(format!("ollama_pull:{}", full_name(&self.model)))
    }

    fn noun(&self) -> &'static str {
        "an Ollama model"
    }

    fn desired(&self) -> Option<Value> {
        Some(Value::Bool(true))
    }

    fn notes(&self) -> Vec<String> {
        if self.base_of.is_empty() {
            return Vec::new();
        }
        let models: Vec<String> = self
            .base_of
            .iter()
            .map(|name| format!("ollama_model:{name}"))
            .collect();
        vec![format!(
            "not in `pull:`; pulled because {} {} built from it",
            models.join(" and "),
            if models.len() == 1 { "is" } else { "are" }
        )]
    }

    fn read(&self, target: &Target) -> Result<Option<Value>> {
        Ok(Client::new(target.host())
            .show(&self.model)?
            .map(|_| Value::Bool(true)))
    }

    /// Its `show`, and the list of models the plan sizes it from.
    fn reads(&self, target: &Target) -> Result<Vec<Invocation>> {
        Ok([Client::show_request(&self.model), Client::tags_request()]
            .iter()
            .filter_map(|request| target.http_read(request))
            .collect())
    }

    /// Pulls, or (destroy of a model macllm pulled) deletes. A model that was there before
    /// macllm is restored to "present", which deletes nothing.
    fn write(&self, target: &Target, value: Option<&Value>) -> Result<()> {
        let client = Client::new(target.host());
        match value {
            Some(_) => {
                let mut view = target.hook().progress_view(&self.model);
                client.pull(&self.model, &mut *view)
            }
            None => client.delete(&self.model),
        }
    }
}

/// A custom model built from Modelfile fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OllamaModel {
    pub name: String,
    pub from: String,
    /// Typed and checked against the parameter table; `stop` is a list.
    pub parameters: BTreeMap<String, Value>,
    pub template: Option<String>,
    pub system: Option<String>,
    pub messages: Vec<(String, String)>,
    pub license: Option<String>,
}

/// The fields of a model that macllm compares, from `/api/show`.
#[derive(Default)]
struct Fields {
    parent: String,
    template: String,
    system: String,
    parameters: BTreeMap<String, Vec<Value>>,
    messages: Vec<(String, String)>,
    license: String,
}

impl Fields {
    /// The template is the one the model stores (the `TEMPLATE` of its Modelfile), not
    /// `show.template`: since v0.30.0 that is the template the server selects, which can be
    /// the GGUF's Jinja chat template (`selectedModelTemplate`, see [`shown_template`]).
    fn from_show(show: &Json) -> Fields {
        let text = |key: &str| show[key].as_str().unwrap_or_default().to_string();
        Fields {
            parent: show["details"]["parent_model"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            template: stored_template(show).unwrap_or_else(|| text("template")),
            system: text("system"),
            parameters: parse_show(show["parameters"].as_str().unwrap_or_default()),
            messages: show["messages"]
                .as_array()
                .map(|list| {
                    list.iter()
                        .map(|m| {
                            (
                                m["role"].as_str().unwrap_or_default().to_string(),
                                m["content"].as_str().unwrap_or_default().to_string(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            license: text("license"),
        }
    }

    /// One line per field, parameters sorted and typed: the text plans diff.
    fn render(&self) -> String {
        let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let mut out = format!("FROM {}\n", self.parent);
        if !self.system.is_empty() {
            out.push_str(&format!("SYSTEM {}\n", quote(&self.system)));
        }
        if !self.template.is_empty() {
            out.push_str(&format!("TEMPLATE {}\n", quote(&self.template)));
        }
        for (name, values) in &self.parameters {
            for value in values {
                out.push_str(&format!("PARAMETER {name} {}\n", value.inline()));
            }
        }
        for (role, content) in &self.messages {
            out.push_str(&format!("MESSAGE {role} {}\n", quote(content)));
        }
        if !self.license.is_empty() {
            out.push_str(&format!("LICENSE {}\n", quote(&self.license)));
        }
        out
    }
}

/// The TEMPLATE a shown model stores, from the `TEMPLATE` command of `show.modelfile`.
fn stored_template(show: &Json) -> Option<String> {
    modelfile::stored_template(show["modelfile"].as_str()?)
}

/// The template the server renders with, when it is not the stored one: ollama/ollama
/// v0.32.15 `selectedModelTemplate` (routes.go 1623-1630) shows the GGUF's
/// `tokenizer.chat_template` when the model runs native, which `shouldPreferChatTemplate`
/// (images.go 295-307) picks over a TEMPLATE with fewer capabilities (no `.Tools`) or with
/// tools but no tool round trip, unless `OLLAMA_GO_TEMPLATE` is set.
fn shown_template(show: &Json) -> Option<&str> {
    let shown = show["template"].as_str().unwrap_or_default();
    (stored_template(show)? != shown).then_some(shown)
}

impl OllamaModel {
    /// What `/api/create` gets: structured JSON, never a Modelfile string (servers ignore
    /// `modelfile` since v0.5.5), so quotes and newlines in values need no escaping games.
    fn create_request(&self) -> Json {
        let mut request = json!({
            "model": self.name,
            "from": self.from,
            "stream": true,
        });
        if !self.parameters.is_empty() {
            let parameters: serde_json::Map<String, Json> = self
                .parameters
                .iter()
                .map(|(k, v)| (k.clone(), to_json(v)))
                .collect();
            request["parameters"] = Json::Object(parameters);
        }
        if let Some(template) = &self.template {
            request["template"] = json!(template);
        }
        if let Some(system) = &self.system {
            request["system"] = json!(system);
        }
        if !self.messages.is_empty() {
            request["messages"] = Json::Array(
                self.messages
                    .iter()
                    .map(|(role, content)| json!({"role": role, "content": content}))
                    .collect(),
            );
        }
        if let Some(license) = &self.license {
            request["license"] = json!(license);
        }
        request
    }
}

fn to_json(value: &Value) -> Json {
    match value {
        Value::Bool(b) => json!(b),
        Value::Integer(i) => json!(i),
        Value::Float(f) => json!(f),
        Value::Array(items) => Json::Array(items.iter().map(to_json).collect()),
        other => json!(other.inline().trim_matches('"')),
    }
}

impl Resource for OllamaModel {
    fn wait_until_readable(&self, target: &Target) -> Result<()> {
        super::ollama_server::wait_until_running(target.host())
    }

    fn id(&self) -> ResourceId {
        ResourceId(format!("ollama_model:{}", self.name))
    }

    fn noun(&self) -> &'static str {
        "an Ollama model"
    }

    fn desired(&self) -> Option<Value> {
        None
    }

    /// Base plus the spec, by Ollama's create rules (reference/ollama.md 2.5).
    fn desired_on(&self, target: &Target) -> Result<Option<Value>> {
        let client = Client::new(target.host());
        let mut fields = match client.show(&self.from)? {
            Some(base) => Fields::from_show(&base),
            // Not pulled yet (the spec's pull of it comes first): plan shows only what the
            // spec sets.
            None => Fields::default(),
        };
        fields.parent = full_name(&self.from);
        if let Some(template) = self.template.clone().filter(|t| !t.is_empty()) {
            fields.template = template;
        }
        if let Some(system) = self.system.clone().filter(|s| !s.is_empty()) {
            fields.system = system;
        }
        for (name, value) in &self.parameters {
            let values = match value {
                Value::Array(items) => items.clone(),
                other => vec![other.clone()],
            };
            let mut values = values;
            values.sort_by_key(|a| a.inline());
            fields.parameters.insert(name.clone(), values);
        }
        if !self.messages.is_empty() {
            fields.messages = self.messages.clone();
        }
        if let Some(license) = &self.license {
            fields.license = if fields.license.is_empty() {
                license.clone()
            } else {
                format!("{}\n{license}", fields.license)
            };
        }
        Ok(Some(Value::String(fields.render())))
    }

    /// Its own `show`, its base's, which [`Resource::desired_on`] reads, and the list of
    /// models the plan sizes it from.
    fn reads(&self, target: &Target) -> Result<Vec<Invocation>> {
        let requests = [
            Client::show_request(&self.name),
            Client::show_request(&self.from),
            Client::tags_request(),
        ];
        Ok(requests
            .iter()
            .filter_map(|request| target.http_read(request))
            .collect())
    }

    /// Warns when the spec's template is stored but not used (see [`shown_template`]).
    fn read(&self, target: &Target) -> Result<Option<Value>> {
        let Some(show) = Client::new(target.host()).show(&self.name)? else {
            return Ok(None);
        };
        if self.template.as_ref().is_some_and(|t| !t.is_empty()) && shown_template(&show).is_some()
        {
            target.warn(format!(
                "{}: Ollama stores the template set here but renders with the chat template of the model's weights (GGUF), which can do more (tools)\nhint: Ollama uses a TEMPLATE that handles tools too (`.Tools`, `.ToolCalls` and a `tool` turn such as `eq .Role \"tool\"`), and every TEMPLATE with `OLLAMA_GO_TEMPLATE: 1` under `ollama.env`",
                self.id()
            ));
        }
        Ok(Some(Value::String(Fields::from_show(&show).render())))
    }

    fn write(&self, target: &Target, value: Option<&Value>) -> Result<()> {
        let client = Client::new(target.host());
        let Some(value) = value else {
            return client.delete(&self.name);
        };
        // Only the spec's own definition can be built; an original that a pre-existing model
        // had (another base) cannot be rebuilt from the spec.
        let ours = format!("FROM {}\n", full_name(&self.from));
        if !matches!(value, Value::String(text) if text.starts_with(&ours)) {
            bail!(
                "{} existed before macllm with another definition, which macllm cannot rebuild; it was left as it is\nhint: `macllm state rm ollama_model:{}` to stop managing it",
                self.name,
                self.name
            );
        }
        let mut view = target.hook().progress_view(&self.name);
        client.create(&self.create_request(), &mut *view)?;
        if client.show(&self.name)?.is_none() {
            bail!("Ollama reported success but has no model {}", self.name);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `TestParseNameDisplayShortest`-style cases (ollama/ollama `types/model/name_test.go`).
    #[test]
    fn names_are_compared_as_ollama_displays_them() {
        for (given, shown) in [
            ("registry.ollama.ai/library/llama3.2:3b", "llama3.2:3b"),
            ("REGISTRY.OLLAMA.AI/library/llama3.2:3b", "llama3.2:3b"),
            ("library/llama3.2", "llama3.2:latest"),
            ("llama3.2", "llama3.2:latest"),
            ("registry.ollama.ai/jdoe/x:1", "jdoe/x:1"),
            ("example.com/ns/m:t", "example.com/ns/m:t"),
            ("example.com/ns/m", "example.com/ns/m:latest"),
        ] {
            assert_eq!(full_name(given), shown, "{given}");
        }
    }
}
