//! The JSON Schema of a spec and of a module, for editors (`macllm schema`). It is derived
//! from the structs that parse the spec and from the tables that check it (Ollama's variables
//! and parameters, `pmset` settings), so it cannot drift from what macllm accepts. Two things
//! the structs do not show are added here: any scalar may be a template, and every resource
//! may carry `when:` (where `document` drops resources).

use super::SpecFile;
use super::document::{RESOURCE_LISTS, RESOURCE_SECTIONS};
use super::modules::Header;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

/// A mapping whose keys are the names of a table (Ollama's variables, `pmset` settings), each
/// with its schema, and no others.
pub(crate) fn known_keys(
    keys: impl IntoIterator<Item = (&'static str, Value)>,
) -> schemars::Schema {
    let properties: Map<String, Value> = keys
        .into_iter()
        .map(|(name, schema)| (name.to_string(), schema))
        .collect();
    schemars::json_schema!({
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    })
}

/// Draft 7: the newest draft every YAML editor plugin reads (yaml-language-server included).
fn generate<T: schemars::JsonSchema>() -> Value {
    let schema = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<T>();
    schema.to_value()
}

/// The schema of a spec.
pub fn spec() -> Value {
    let mut schema = generate::<SpecFile>();
    finish(&mut schema);
    schema["required"] = json!(["macllm"]);
    schema
}

/// The schema of a module: its header (`module`, `description`, `params`) and a spec's
/// resource sections (a module has no `macllm`, `use` or `vars`).
pub fn module() -> Value {
    let mut schema = generate::<SpecFile>();
    finish(&mut schema);
    let header = generate::<Header>();
    let properties = schema["properties"]
        .as_object_mut()
        .expect("a spec's schema has properties");
    for section in ["macllm", "use", "vars"] {
        properties.remove(section);
    }
    if let Some(fields) = header["properties"].as_object() {
        properties.extend(fields.clone());
    }
    if let (Some(definitions), Some(more)) = (
        schema["definitions"].as_object_mut(),
        header["definitions"].as_object(),
    ) {
        definitions.extend(more.clone());
    }
    schema["title"] = json!("macllm module");
    schema["description"] = json!(
        "A macllm module: a header (`module`, `description`, `params`) and a spec's resource sections, whose templates see `params`, `host` and the spec's `vars`."
    );
    schema
}

fn finish(schema: &mut Value) {
    let mut definitions = schema["definitions"].take();
    if let Some(definitions) = definitions.as_object_mut() {
        for definition in definitions.values_mut() {
            allow_templates(definition);
        }
    }
    schema["definitions"] = definitions;
    if let Some(properties) = schema["properties"].as_object_mut() {
        for property in properties.values_mut() {
            allow_templates(property);
        }
    }
    let items: Vec<String> = RESOURCE_LISTS
        .iter()
        .filter_map(|path| list_item(schema, path))
        .chain(
            RESOURCE_SECTIONS
                .iter()
                .filter_map(|section| definition_of(&schema["properties"][*section])),
        )
        .collect();
    for name in items {
        schema["definitions"][&name]["properties"]["when"] = json!({"$ref": "#/definitions/When"});
    }
    schema["definitions"]["Template"] = json!({
        "type": "string",
        "pattern": "\\{\\{|\\{%",
        "description": "A minijinja template, rendered per host with `host` (the Mac's facts), `vars` (and `params` in a module). A value that is exactly one `{{ ... }}` keeps the type of its result.",
    });
    schema["definitions"]["When"] = json!({
        "type": ["boolean", "string"],
        "description": "Declare this only on Macs where the condition holds: an expression as Ansible writes it (`host.memory_gb >= 32`), true/false, or one `{{ ... }}`.",
    });
}

/// The definition a property's schema refers to (through `Option`'s `anyOf` if need be).
fn definition_of(schema: &Value) -> Option<String> {
    if let Some(reference) = schema["$ref"].as_str() {
        return reference.strip_prefix("#/definitions/").map(str::to_string);
    }
    schema["anyOf"].as_array()?.iter().find_map(definition_of)
}

/// The definition of the items of the list at `path` (`["ollama", "models"]`).
fn list_item(schema: &Value, path: &[&str]) -> Option<String> {
    let mut node = schema;
    for (depth, key) in path.iter().enumerate() {
        if depth > 0 {
            node = &schema["definitions"][definition_of(node)?];
        }
        node = &node["properties"][*key];
    }
    definition_of(&node["items"])
}

const SCALARS: [&str; 5] = ["boolean", "integer", "number", "string", "null"];

/// Lets every scalar that is not already any string be a template too. A scalar is wrapped
/// whole (an enum's alternatives are not: a template would then match each of them).
fn allow_templates(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    // Doc comments are wrapped at 100 columns; an editor shows a description as one paragraph.
    if let Some(Value::String(description)) = object.get_mut("description") {
        *description = description.replace('\n', " ");
    }
    if is_narrow_scalar(object) {
        let mut narrow = std::mem::take(object);
        let mut wrapped = Map::new();
        for kept in ["description", "default", "title"] {
            if let Some(value) = narrow.remove(kept) {
                wrapped.insert(kept.to_string(), value);
            }
        }
        wrapped.insert(
            "anyOf".to_string(),
            json!([narrow, {"$ref": "#/definitions/Template"}]),
        );
        *object = wrapped;
        return;
    }
    for (key, value) in object.iter_mut() {
        match key.as_str() {
            "properties" | "definitions" => {
                if let Some(children) = value.as_object_mut() {
                    children.values_mut().for_each(allow_templates);
                }
            }
            "items" | "additionalProperties" => allow_templates(value),
            "anyOf" | "oneOf" | "allOf" => {
                if let Some(children) = value.as_array_mut() {
                    children.iter_mut().for_each(allow_templates);
                }
            }
            _ => {}
        }
    }
}

/// A scalar schema that refuses some strings: a number, a boolean, an enum, a pattern.
fn is_narrow_scalar(object: &Map<String, Value>) -> bool {
    if object.contains_key("enum") || object.contains_key("const") {
        return true;
    }
    if let Some(choices) = object.get("oneOf").and_then(Value::as_array) {
        return choices
            .iter()
            .all(|choice| choice.get("const").is_some() || choice.get("enum").is_some());
    }
    let types: Vec<&str> = match object.get("type") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => return false,
    };
    types.iter().any(|t| *t != "null")
        && types.iter().all(|t| SCALARS.contains(t))
        && (!types.contains(&"string") || object.contains_key("pattern"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_resource_may_carry_when() {
        let schema = spec();
        let definitions = schema["definitions"].as_object().unwrap();
        for name in [
            "DefaultsEntry",
            "ServiceEntry",
            "AgentEntry",
            "SpotlightEntry",
            "UseEntry",
            "ModelEntry",
            "PowerEntry",
            "TimeMachineEntry",
            "OllamaEntry",
        ] {
            assert_eq!(
                definitions[name]["properties"]["when"],
                json!({"$ref": "#/definitions/When"}),
                "{name}"
            );
        }
    }

    #[test]
    fn a_boolean_may_be_a_template() {
        let schema = spec();
        let enabled = &schema["definitions"]["ServiceEntry"]["properties"]["enabled"];
        assert_eq!(
            enabled["anyOf"],
            json!([{"type": "boolean"}, {"$ref": "#/definitions/Template"}])
        );
    }
}
