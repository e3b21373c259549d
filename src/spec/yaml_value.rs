//! A `value:` field exactly as written in YAML, before its declared type is applied. A
//! hand-written visitor (not `#[serde(untagged)]`) so that serde_yaml still reports a bad
//! value at its own line.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub enum YamlValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<YamlValue>),
    Map(BTreeMap<String, YamlValue>),
}

impl YamlValue {
    pub fn describe(&self) -> &'static str {
        match self {
            YamlValue::Bool(_) => "a boolean",
            YamlValue::Int(_) => "an integer",
            YamlValue::Float(_) => "a float",
            YamlValue::Str(_) => "a string",
            YamlValue::Seq(_) => "a list",
            YamlValue::Map(_) => "a mapping",
        }
    }
}

/// Any value but null (a YAML null is an error where a value is taken).
impl schemars::JsonSchema for YamlValue {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Value".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": ["boolean", "integer", "number", "string", "array", "object"],
        })
    }
}

impl<'de> Deserialize<'de> for YamlValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(YamlValueVisitor)
    }
}

struct YamlValueVisitor;

/// Why `.nan`, `.inf` and `-.inf` are refused wherever the spec takes a value.
pub fn non_finite(v: f64) -> String {
    let written = if v.is_nan() {
        ".nan"
    } else if v > 0.0 {
        ".inf"
    } else {
        "-.inf"
    };
    format!(
        "`{written}` is not a finite number: macOS `defaults` cannot hold NaN or infinity meaningfully \
         (property lists have no portable form for them), so macllm refuses it rather than write \
         a value it could not read back or restore"
    )
}

impl<'de> Visitor<'de> for YamlValueVisitor {
    type Value = YamlValue;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a boolean, number, string, list or mapping")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<YamlValue, E> {
        Ok(YamlValue::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<YamlValue, E> {
        Ok(YamlValue::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<YamlValue, E> {
        i64::try_from(v).map(YamlValue::Int).map_err(|_| {
            E::custom(format!(
                "integer {v} is too large (the limit is {})",
                i64::MAX
            ))
        })
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<YamlValue, E> {
        Err(E::custom(format!(
            "integer {v} is too large (the limit is {})",
            i64::MAX
        )))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<YamlValue, E> {
        Err(E::custom(format!(
            "integer {v} is too large (the limit is {})",
            i64::MAX
        )))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<YamlValue, E> {
        if !v.is_finite() {
            return Err(E::custom(non_finite(v)));
        }
        Ok(YamlValue::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<YamlValue, E> {
        Ok(YamlValue::Str(v.to_string()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<YamlValue, E> {
        Err(E::custom(
            "null is not a value; to make sure a key is not set, write `absent: true` instead of `value`",
        ))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<YamlValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(YamlValue::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<YamlValue, A::Error> {
        let mut entries = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            if entries.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate key `{key}`")));
            }
            let value = map.next_value()?;
            entries.insert(key, value);
        }
        Ok(YamlValue::Map(entries))
    }
}
