//! A bounded fuzz of the spec loader under `cargo test` (`cargo fuzz` needs a nightly
//! toolchain CI does not have): specs built from the spec's own vocabulary with hostile
//! values, then mangled byte by byte, and the shipped examples mangled the same way. Whatever
//! the input, loading ends in a spec or in an error that names the file and a line of it:
//! never a panic, never a position outside the text.

use super::{Spec, SpecError};
use proptest::prelude::*;
use std::path::Path;

/// Section and field names, real ones and near misses, so the generator reaches deep into
/// the typed parts and not only the first unknown-field error.
const KEYS: &[&str] = &[
    "macllm",
    "vars",
    "use",
    "defaults",
    "services",
    "agents",
    "spotlight",
    "power",
    "ollama",
    "time_machine",
    "domain",
    "key",
    "value",
    "type",
    "label",
    "enabled",
    "loaded",
    "path",
    "indexed",
    "when",
    "env",
    "models",
    "pull",
    "name",
    "from",
    "num_ctx",
    "parameters",
    "system",
    "template",
    "server",
    "module",
    "params",
    "program_arguments",
    "environment",
    "current_host",
    "displaysleep",
    "sleep",
    "tile_size",
    "OLLAMA_NUM_PARALLEL",
    "OLLAMA_KEEP_ALIVE",
    "OLLAMA_HOST",
    "OLLAMA_FLASH_ATTENTION",
    "OLLAMA_BOGUS",
    "domian",
    "vaule",
    "",
];

/// Values that have broken parsers before: out-of-range numbers, non-finite floats, NUL,
/// traversal, templates that are syntax, and text that looks like YAML.
const SCALARS: &[&str] = &[
    "1",
    "-3",
    "0",
    "1e400",
    ".nan",
    ".inf",
    "-.inf",
    "9223372036854775808",
    "true",
    "no",
    "null",
    "~",
    "",
    "a\0b",
    "../../etc/passwd",
    "/Library/Preferences/../../x",
    "com.apple.dock",
    "NSGlobalDomain",
    "-g",
    "llama3.2:1b",
    "../x:latest",
    "{{ host.memory_gb }}",
    "{{ host.nope }}",
    "{% if true %}",
    "{{ secret('x') }}",
    "{{ 2048 if host.memory_gb <= 8 else 4096 }}",
    "{% for i in range(1000000000) %}{% endfor %}",
    "- kind: defaults",
    "a: b",
    "&anchor",
    "*anchor",
    "\"quoted\"",
    "line\nbreak",
    "~/.ollama/models",
    "homebrew",
    "own",
    "auto",
    "é\u{202e}",
    "}}",
    "{{",
];

fn scalar() -> impl Strategy<Value = serde_yaml::Value> {
    prop_oneof![
        proptest::sample::select(SCALARS).prop_map(|s| serde_yaml::Value::String(s.into())),
        any::<i64>().prop_map(|n| serde_yaml::Value::Number(n.into())),
        any::<f64>().prop_map(|f| serde_yaml::Value::Number(f.into())),
        any::<bool>().prop_map(serde_yaml::Value::Bool),
        Just(serde_yaml::Value::Null),
        "[ -~]{0,12}".prop_map(serde_yaml::Value::String),
    ]
}

/// A YAML tree whose keys come from [`KEYS`]: a mapping at the top, as a spec is.
fn document() -> impl Strategy<Value = serde_yaml::Value> {
    let tree = scalar().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_yaml::Value::Sequence),
            proptest::collection::vec((proptest::sample::select(KEYS), inner), 0..6).prop_map(
                |pairs| {
                    serde_yaml::Value::Mapping(
                        pairs
                            .into_iter()
                            .map(|(k, v)| (serde_yaml::Value::String(k.into()), v))
                            .collect(),
                    )
                }
            ),
        ]
    });
    proptest::collection::vec((proptest::sample::select(KEYS), tree), 0..6).prop_map(|pairs| {
        let mut top = serde_yaml::Mapping::new();
        top.insert("macllm".into(), 1.into());
        for (key, value) in pairs {
            top.insert(key.into(), value);
        }
        serde_yaml::Value::Mapping(top)
    })
}

/// Byte edits at chosen places: YAML's structural characters, a line break, a cut.
#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, &'static str),
    Delete(usize, usize),
    Truncate(usize),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        (
            any::<usize>(),
            proptest::sample::select(
                &[
                    ":", "-", " ", "\n", "\t", "{", "}", "[", "]", "\"", "'", "#", "&a", "*a",
                    "!!", "|", ">", "%", "{{", "}}", "{%", "\0", "\u{feff}", "  ",
                ][..]
            )
        )
            .prop_map(|(at, text)| Edit::Insert(at, text)),
        (any::<usize>(), 1usize..8).prop_map(|(at, len)| Edit::Delete(at, len)),
        any::<usize>().prop_map(Edit::Truncate),
    ];
    proptest::collection::vec(edit, 0..4)
}

fn mangle(text: &str, edits: &[Edit]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for edit in edits {
        let len = bytes.len();
        match edit {
            Edit::Insert(at, piece) => {
                let at = at % (len + 1);
                bytes.splice(at..at, piece.bytes());
            }
            Edit::Delete(at, n) if len > 0 => {
                let at = at % len;
                bytes.drain(at..(at + n).min(len));
            }
            Edit::Truncate(at) => bytes.truncate(at % (len + 1)),
            Edit::Delete(..) => {}
        }
    }
    // The loader reads text; a file that is not UTF-8 is refused before it (read_to_string).
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Loads `text` as `macllm.yaml` with the facts of an emulated Mac, and checks the outcome.
fn load_checked(text: &str) -> Result<(), TestCaseError> {
    let file = Path::new("fuzz/macllm.yaml");
    let facts = crate::sandbox::facts_of_preset(crate::sandbox::default_preset());
    let result = Spec::build(
        file,
        text.to_string(),
        super::ollama::Options::default(),
        &|| Ok(facts.clone()),
        &serde_json::Value::Null,
    );
    if let Err(err) = result {
        let shown = format!("{err:#}");
        prop_assert!(!shown.trim().is_empty());
        if let Some(spec_error) = err.downcast_ref::<SpecError>() {
            // An error may be in a module the spec uses (a bad parameter lands there).
            let lines = if spec_error.file.ends_with("macllm.yaml") {
                text.lines().count().max(1)
            } else {
                let module = std::fs::read_to_string(&spec_error.file);
                prop_assert!(module.is_ok(), "names no file it read: {shown}");
                module.unwrap_or_default().lines().count().max(1)
            };
            prop_assert!(
                (1..=lines + 1).contains(&spec_error.line),
                "line {} of a {lines}-line spec: {shown}",
                spec_error.line
            );
            prop_assert!(spec_error.column >= 1, "column 0: {shown}");
        }
    }
    Ok(())
}

fn examples() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut texts: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    texts.sort();
    texts
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn generated_specs_load_or_fail_with_a_position(doc in document(), edits in edits()) {
        let text = serde_yaml::to_string(&doc).unwrap();
        load_checked(&text)?;
        load_checked(&mangle(&text, &edits))?;
    }

    #[test]
    fn mangled_examples_load_or_fail_with_a_position(
        which in any::<prop::sample::Index>(),
        edits in edits(),
    ) {
        let examples = examples();
        let text = which.get(&examples);
        load_checked(&mangle(text, &edits))?;
    }
}
