//! Finds where a field path (`defaults[2].depends_on[0]`) sits in the YAML text, for errors
//! found after parsing (duplicate ids, unknown dependencies, bad values).
//!
//! serde_yaml has no spans, but it attaches the position of the node being deserialised to any
//! error a visitor raises there. So we walk the document with a seed that follows the path
//! and raises a marker error at the target: serde_yaml's own parser reports the position.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// `defaults[2].depends_on[0]`, as serde_yaml prints paths.
pub fn display_path(path: &[Segment]) -> String {
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Index(index) => out.push_str(&format!("[{index}]")),
        }
    }
    out
}

const MARKER: &str = "\u{0}macllm-locate\u{0}";

/// (line, column), both 1-based, of the node at `path`; `None` if the path is not in `text`.
pub fn locate(text: &str, path: &[Segment]) -> Option<(usize, usize)> {
    let deserializer = serde_yaml::Deserializer::from_str(text);
    match Seek(path).deserialize(deserializer) {
        Err(err) if err.to_string().contains(MARKER) => {
            err.location().map(|l| (l.line(), l.column()))
        }
        _ => None,
    }
}

struct Seek<'a>(&'a [Segment]);

impl<'de> DeserializeSeed<'de> for Seek<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Seek<'_> {
    fn found<E: de::Error>(&self) -> Result<(), E> {
        if self.0.is_empty() {
            Err(E::custom(MARKER))
        } else {
            Ok(())
        }
    }
}

macro_rules! scalar_visits {
    ($($method:ident: $ty:ty),*) => {
        $(fn $method<E: de::Error>(self, _: $ty) -> Result<(), E> { self.found() })*
    };
}

impl<'de> Visitor<'de> for Seek<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any YAML node")
    }

    scalar_visits!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str);

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.found()
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.found()?;
        while let Some(key) = map.next_key::<String>()? {
            if self.0[0] == Segment::Key(key) {
                return map.next_value_seed(Seek(&self.0[1..]));
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.found()?;
        let mut index = 0;
        loop {
            if self.0[0] == Segment::Index(index) {
                return seq.next_element_seed(Seek(&self.0[1..])).map(|_| ());
            }
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Segment {
        Segment::Key(k.into())
    }

    #[test]
    fn finds_keys_items_and_nested_values() {
        let text = "macllm: 1\ndefaults:\n  - domain: a\n    key: b\n  - domain: c\n    key: d\n    depends_on: [x, y]\n";
        let at = |path: &[Segment]| locate(text, path);
        assert_eq!(at(&[key("macllm")]), Some((1, 9)));
        assert_eq!(at(&[key("defaults"), Segment::Index(1)]), Some((5, 5)));
        assert_eq!(
            at(&[key("defaults"), Segment::Index(1), key("key")]),
            Some((6, 10))
        );
        assert_eq!(
            at(&[
                key("defaults"),
                Segment::Index(1),
                key("depends_on"),
                Segment::Index(1)
            ]),
            Some((7, 21))
        );
        assert_eq!(at(&[key("nothing")]), None);
        assert_eq!(
            display_path(&[key("defaults"), Segment::Index(1), key("key")]),
            "defaults[1].key"
        );
    }
}
