//! `macllm schema`: the JSON Schema editors use. Its whole output is compared with the
//! committed schema (a change to the spec's structs shows up here for review), and every
//! example spec and shipped module must validate against what the binary prints, while specs
//! with mistakes an editor should flag must not.

use crate::harness::Mac;
use std::path::Path;

const SPEC_SCHEMA: &str = include_str!("expected/macllm.schema.json");
const MODULE_SCHEMA: &str = include_str!("expected/macllm-module.schema.json");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn yaml_files(folder: &str) -> Vec<(String, serde_json::Value)> {
    let mut files: Vec<_> = std::fs::read_dir(root().join(folder))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, serde_yaml::from_str(&text).unwrap())
        })
        .collect()
}

/// The schema the binary prints, compiled; and the problems it finds in a document.
fn validator(args: &[&str]) -> jsonschema::Validator {
    let printed = Mac::new().macllm(args).stdout_of();
    let schema: serde_json::Value = serde_json::from_str(&printed).unwrap();
    jsonschema::draft7::new(&schema).unwrap()
}

fn problems(validator: &jsonschema::Validator, document: &serde_json::Value) -> Vec<String> {
    validator
        .iter_errors(document)
        .map(|err| format!("{}: {err}", err.instance_path()))
        .collect()
}

#[test]
fn schema_prints_the_spec_schema() {
    Mac::new().macllm(&["schema"]).stdout(SPEC_SCHEMA).run();
}

#[test]
fn schema_module_prints_the_module_schema() {
    Mac::new()
        .macllm(&["schema", "--module"])
        .stdout(MODULE_SCHEMA)
        .run();
}

#[test]
fn every_example_validates_against_the_schema() {
    let validator = validator(&["schema"]);
    let examples = yaml_files("examples");
    assert!(examples.len() >= 8, "{}", examples.len());
    for (name, document) in examples {
        assert_eq!(
            problems(&validator, &document),
            Vec::<String>::new(),
            "{name}"
        );
    }
}

#[test]
fn every_shipped_module_validates_against_the_module_schema() {
    let validator = validator(&["schema", "--module"]);
    let modules = yaml_files("modules");
    assert_eq!(modules.len(), 7);
    for (name, document) in modules {
        assert_eq!(
            problems(&validator, &document),
            Vec::<String>::new(),
            "{name}"
        );
    }
}

#[test]
fn the_schema_flags_what_macllm_refuses_and_takes_templates_and_when() {
    let validator = validator(&["schema"]);
    let check = |yaml: &str| problems(&validator, &serde_yaml::from_str(yaml).unwrap());
    assert_eq!(
        check(
            "macllm: 1
services:
  - {label: com.apple.Siri.agent, enabled: \"{{ host.memory_gb < 16 }}\", when: host.memory_gb < 64}
power:
  when: true
  all: {sleep: \"{{ vars.sleep }}\", powernap: false, powermode: 2}
ollama:
  server: \"{{ vars.server }}\"
  env: {OLLAMA_FLASH_ATTENTION: 1, OLLAMA_KV_CACHE_TYPE: q8_0, OLLAMA_KEEP_ALIVE: 10m}
  models:
    - {name: fit, from: 'llama3.2:3b', parameters: {num_ctx: 8192, stop: ['<|eot|>']}, when: 'host.memory_gb > 8'}
"
        ),
        Vec::<String>::new()
    );
    // Each mistake alone: the schema finds it, where it is.
    for (mistake, path) in [
        ("defualts: []", ""),
        (
            "services: [{label: a, enabled: maybe}]",
            "/services/0/enabled",
        ),
        (
            "services: [{label: a, enabled: true, domain: gu}]",
            "/services/0/domain",
        ),
        (
            "services: [{label: a, enabled: true, when: [1]}]",
            "/services/0/when",
        ),
        (
            "services: [{label: a, enabled: true, wen: true}]",
            "/services/0",
        ),
        (
            "defaults: [{domain: d, key: k, value: 1, type: boolean}]",
            "/defaults/0/type",
        ),
        (
            "agents: [{label: a, program_arguments: [/bin/x], nice: 21}]",
            "/agents/0/nice",
        ),
        ("power: {all: {sleep: -1}}", "/power"),
        ("power: {all: {powermode: 3}}", "/power"),
        ("power: {all: {sleeep: 1}}", "/power"),
        ("ollama: {server: brew}", "/ollama"),
        ("ollama: {env: {OLLAMA_KEEPALIVE: 1}}", "/ollama"),
        ("ollama: {env: {OLLAMA_KV_CACHE_TYPE: q2}}", "/ollama"),
        (
            "ollama: {models: [{name: m, from: b, parameters: {num_ctx: big}}]}",
            "/ollama",
        ),
        (
            "ollama: {models: [{name: m, from: b, messages: [{role: bot, content: hi}]}]}",
            "/ollama",
        ),
        ("macllm: 2", "/macllm"),
    ] {
        let document = match mistake.starts_with("macllm:") {
            true => mistake.to_string(),
            false => format!("macllm: 1\n{mistake}"),
        };
        let found: Vec<String> = validator
            .iter_errors(&serde_yaml::from_str(&document).unwrap())
            .map(|err| err.instance_path().to_string())
            .collect();
        assert_eq!(found, [path], "{mistake}");
    }
}
