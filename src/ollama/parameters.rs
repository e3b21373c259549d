//! Modelfile parameters with their JSON types (reference/ollama.md 2.2, `api/types.go`). The
//! server stores whatever it is sent and fails only when the model loads, so macllm checks
//! names and types itself; and `/api/show` renders parameters in random order with Go's `%v`
//! (`1e+06`), so they are compared as typed multisets (2.3, 2.4).

use crate::value::Value;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Int,
    Float,
    Bool,
    /// `stop`: repeatable, a list of strings.
    Strings,
}

pub const PARAMETERS: &[(&str, Kind)] = &[
    ("num_ctx", Kind::Int),
    ("num_batch", Kind::Int),
    ("num_gpu", Kind::Int),
    ("main_gpu", Kind::Int),
    ("use_mmap", Kind::Bool),
    ("num_thread", Kind::Int),
    ("num_keep", Kind::Int),
    ("seed", Kind::Int),
    ("num_predict", Kind::Int),
    ("top_k", Kind::Int),
    ("top_p", Kind::Float),
    ("min_p", Kind::Float),
    ("typical_p", Kind::Float),
    ("repeat_last_n", Kind::Int),
    ("temperature", Kind::Float),
    ("repeat_penalty", Kind::Float),
    ("presence_penalty", Kind::Float),
    ("frequency_penalty", Kind::Float),
    ("stop", Kind::Strings),
];

/// Removed or deprecated names and what happened to them (reference 2.2).
pub const RETIRED: &[(&str, &str)] = &[
    ("penalize_newline", "deprecated: the server ignores it"),
    ("low_vram", "deprecated: the server ignores it"),
    ("f16_kv", "deprecated: the server ignores it"),
    ("logits_all", "deprecated: the server ignores it"),
    ("vocab_only", "deprecated: the server ignores it"),
    ("use_mlock", "deprecated: the server ignores it"),
    ("mirostat", "deprecated: the server ignores it"),
    ("mirostat_tau", "deprecated: the server ignores it"),
    ("mirostat_eta", "deprecated: the server ignores it"),
    ("numa", "removed in 2024"),
    ("tfs_z", "removed in v0.5.2"),
    ("num_gqa", "removed in 2024"),
];

pub fn kind(name: &str) -> Option<Kind> {
    PARAMETERS.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

/// Parses `/api/show`'s `parameters` text: `%-30s %#v` lines; strings Go-quoted; numbers
/// float64 `%v`. Values are typed by the parameter table, so `8192` and `8.192e+03` agree,
/// and a string where a number belongs stays a string (type drift shows).
pub fn parse_show(text: &str) -> BTreeMap<String, Vec<Value>> {
    let mut parameters: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for line in text.lines() {
        let Some((name, raw)) = line.trim().split_once(char::is_whitespace) else {
            continue;
        };
        let raw = raw.trim();
        let value = if raw.starts_with('"') {
            Value::String(go_unquote(raw))
        } else if raw == "true" || raw == "false" {
            Value::Bool(raw == "true")
        } else if let Ok(number) = raw.parse::<f64>() {
            match kind(name) {
                Some(Kind::Int) if number.fract() == 0.0 => Value::Integer(number as i64),
                _ => Value::Float(number),
            }
        } else {
            Value::String(raw.to_string())
        };
        parameters.entry(name.to_string()).or_default().push(value);
    }
    for values in parameters.values_mut() {
        // Multisets: the order inside a repeated key is kept by the server, but sorting
        // makes the comparison independent of it too.
        values.sort_by_key(|a| a.inline());
    }
    parameters
}

/// Go `strconv.Quote` output back to text (`\n`, `\t`, `\"`, `\\`, `\u00XX`).
fn go_unquote(quoted: &str) -> String {
    let inner = quoted
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(quoted);
    serde_json::from_str::<String>(&format!("\"{inner}\"")).unwrap_or_else(|_| inner.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_parameters_as_typed_multisets() {
        let text = "stop                           \"<|eot_id|>\"\nnum_ctx                        8192\ntemperature                    0.7\nstop                           \"<|start_header_id|>\"\nnum_predict                    1e+06";
        let parsed = parse_show(text);
        assert_eq!(parsed["num_ctx"], vec![Value::Integer(8192)]);
        assert_eq!(parsed["num_predict"], vec![Value::Integer(1_000_000)]);
        assert_eq!(parsed["temperature"], vec![Value::Float(0.7)]);
        assert_eq!(
            parsed["stop"],
            vec![
                Value::String("<|eot_id|>".into()),
                Value::String("<|start_header_id|>".into())
            ]
        );
        // A string where an integer belongs is kept as a string: type drift.
        assert_eq!(
            parse_show("num_ctx \"8192\"")["num_ctx"],
            vec![Value::String("8192".into())]
        );
    }
}
