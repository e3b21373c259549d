//! The one shape in which macllm compares, shows and records a setting's value: a typed
//! property-list tree. Desired (from the spec), observed (read from the host), original and
//! applied values are all `Option<Value>` (`None` = absent), so diffing, rendering and the
//! state file need no per-kind code.

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    Bool(bool),
    Integer(i64),
    /// Always finite: NaN and infinity have no JSON form (serde_json would write `null` and
    /// then refuse to read it back), so serialising one is an error, never a silent `null`.
    Float(#[serde(serialize_with = "finite")] f64),
    String(String),
    /// RFC 3339 in UTC with a `Z`, as XML plists write dates (`2024-01-02T03:04:05Z`).
    Date(String),
    /// Lower-case hex, so the state file stays readable and diffable.
    Data(String),
    Array(Vec<Value>),
    Dict(BTreeMap<String, Value>),
}

fn finite<S: serde::Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    if !value.is_finite() {
        return Err(serde::ser::Error::custom(format!(
            "the float {value} is not finite: NaN and infinity cannot be recorded (JSON has no \
             form for them, and macOS `defaults` cannot hold them meaningfully)"
        )));
    }
    serializer.serialize_f64(*value)
}

impl Value {
    /// The type's name in `defaults read-type`'s vocabulary (reference/macos-commands.md 1.5).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Bool(_) => "boolean",
            Value::Integer(_) => "integer",
            Value::Float(_) => "float",
            Value::String(_) => "string",
            Value::Date(_) => "date",
            Value::Data(_) => "data",
            Value::Array(_) => "array",
            Value::Dict(_) => "dictionary",
        }
    }

    pub fn is_collection(&self) -> bool {
        matches!(self, Value::Array(_) | Value::Dict(_))
    }

    pub fn from_plist(value: &plist::Value) -> Result<Value> {
        Ok(match value {
            plist::Value::Boolean(b) => Value::Bool(*b),
            plist::Value::Integer(i) => match i.as_signed() {
                Some(i) => Value::Integer(i),
                None => bail!("integer {i} is larger than macllm can represent"),
            },
            plist::Value::Real(f) => Value::Float(*f),
            plist::Value::String(s) => Value::String(s.clone()),
            plist::Value::Date(d) => Value::Date(d.to_xml_format()),
            plist::Value::Data(bytes) => Value::Data(hex_encode(bytes)),
            plist::Value::Array(items) => {
                Value::Array(items.iter().map(Value::from_plist).collect::<Result<_>>()?)
            }
            plist::Value::Dictionary(dict) => Value::Dict(
                dict.iter()
                    .map(|(k, v)| Ok((k.clone(), Value::from_plist(v)?)))
                    .collect::<Result<_>>()?,
            ),
            plist::Value::Uid(_) => bail!("keyed-archiver UIDs are not supported"),
            _ => bail!("unsupported property-list value"),
        })
    }

    pub fn to_plist(&self) -> plist::Value {
        match self {
            Value::Bool(b) => plist::Value::Boolean(*b),
            Value::Integer(i) => plist::Value::Integer((*i).into()),
            Value::Float(f) => plist::Value::Real(*f),
            Value::String(s) => plist::Value::String(s.clone()),
            Value::Date(d) => plist::Date::from_xml_format(d)
                .map(plist::Value::Date)
                // Dates are validated when the spec is loaded; an invalid one here would be
                // a bug, and a string keeps the value visible rather than panicking.
                .unwrap_or_else(|_| plist::Value::String(d.clone())),
            Value::Data(hex) => plist::Value::Data(hex_decode(hex).unwrap_or_default()),
            Value::Array(items) => plist::Value::Array(items.iter().map(Value::to_plist).collect()),
            Value::Dict(dict) => plist::Value::Dictionary(
                dict.iter()
                    .map(|(k, v)| (k.clone(), v.to_plist()))
                    .collect(),
            ),
        }
    }

    /// A complete XML property-list document holding just this value: what nix-darwin passes
    /// to `defaults write` for every value, and what macllm passes for dates and collections.
    pub fn to_xml_document(&self) -> String {
        let mut buffer = Vec::new();
        // Writing a well-formed in-memory value to a Vec cannot fail.
        let _ = self.to_plist().to_writer_xml(&mut buffer);
        String::from_utf8_lossy(&buffer).into_owned()
    }

    /// One-line form for plans: `true`, `36`, `0.5`, `"text"`; collections as JSON-like text.
    pub fn inline(&self) -> String {
        let mut out = String::new();
        self.write_inline(&mut out);
        out
    }

    fn write_inline(&self, out: &mut String) {
        match self {
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Integer(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => out.push_str(&format_float(*f)),
            Value::String(s) => out.push_str(&quote(s)),
            Value::Date(d) => {
                let _ = write!(out, "date({d})");
            }
            Value::Data(hex) => {
                let _ = write!(out, "<{hex}>");
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write_inline(out);
                }
                out.push(']');
            }
            Value::Dict(dict) => {
                out.push('{');
                for (i, (k, v)) in dict.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&quote(k));
                    out.push_str(": ");
                    v.write_inline(out);
                }
                out.push('}');
            }
        }
    }

    /// Multi-line form for diffs of collections and multi-line strings.
    pub fn pretty(&self) -> String {
        let mut out = String::new();
        self.write_pretty(&mut out, 0);
        out
    }

    fn write_pretty(&self, out: &mut String, depth: usize) {
        let pad = "  ".repeat(depth + 1);
        let close = "  ".repeat(depth);
        match self {
            Value::Array(items) if !items.is_empty() => {
                out.push_str("[\n");
                for item in items {
                    out.push_str(&pad);
                    item.write_pretty(out, depth + 1);
                    out.push_str(",\n");
                }
                out.push_str(&close);
                out.push(']');
            }
            Value::Dict(dict) if !dict.is_empty() => {
                out.push_str("{\n");
                for (k, v) in dict {
                    out.push_str(&pad);
                    out.push_str(&quote(k));
                    out.push_str(": ");
                    v.write_pretty(out, depth + 1);
                    out.push_str(",\n");
                }
                out.push_str(&close);
                out.push('}');
            }
            Value::String(s) if s.contains('\n') && depth == 0 => out.push_str(s),
            // A multi-line string inside a collection (an agent's plist text) shows line by
            // line, so a diff of it is a diff of its lines.
            Value::String(s) if s.contains('\n') => {
                out.push_str("<<EOT\n");
                for line in s.lines() {
                    out.push_str(&pad);
                    out.push_str(line);
                    out.push('\n');
                }
                out.push_str(&pad);
                out.push_str("EOT");
            }
            other => other.write_inline(out),
        }
    }
}

/// A float as a person writes it: `0.5`, `2.0`, never `2`, so it is never mistaken for an
/// integer in a plan.
pub fn format_float(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

fn quote(s: &str) -> String {
    // JSON string syntax shows quotes, backslashes, control characters and newlines
    // unambiguously on one line.
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

pub fn hex_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

pub fn hex_decode(text: &str) -> Result<Vec<u8>> {
    let digits: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        bail!("hex data has an odd number of digits");
    }
    digits
        .chunks(2)
        .map(|pair| {
            let s: String = pair.iter().collect();
            u8::from_str_radix(&s, 16).map_err(|_| anyhow::anyhow!("`{s}` is not a hex byte"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plist_round_trip_keeps_every_type() {
        let mut dict = BTreeMap::new();
        dict.insert("b".into(), Value::Bool(true));
        dict.insert("d".into(), Value::Date("2024-01-02T03:04:05Z".into()));
        dict.insert("x".into(), Value::Data("00ff10".into()));
        let value = Value::Array(vec![
            Value::Integer(-3),
            Value::Float(0.0),
            Value::String("a \"q\" $x;\n".into()),
            Value::Dict(dict),
        ]);
        let back = Value::from_plist(&value.to_plist()).unwrap();
        assert_eq!(back, value);
        let xml = value.to_xml_document();
        let parsed = plist::Value::from_reader_xml(xml.as_bytes()).unwrap();
        assert_eq!(Value::from_plist(&parsed).unwrap(), value);
    }

    #[test]
    fn inline_shows_floats_and_strings_unambiguously() {
        assert_eq!(Value::Float(2.0).inline(), "2.0");
        assert_eq!(Value::Float(0.25).inline(), "0.25");
        assert_eq!(Value::String("a\nb".into()).inline(), "\"a\\nb\"");
        assert_eq!(Value::Integer(36).inline(), "36");
    }

    #[test]
    fn hex_rejects_odd_and_non_hex() {
        assert!(hex_decode("abc").is_err());
        assert!(hex_decode("zz").is_err());
        assert_eq!(hex_decode("0aFF").unwrap(), vec![10, 255]);
    }
}
