//! Model names after ollama/ollama `types/model/name.go` (v0.32.15, unchanged since v0.32.3): `[host/][namespace/]model[:tag]`
//! with the defaults `registry.ollama.ai`, `library`, `latest`; parts of
//! `[A-Za-z0-9_][A-Za-z0-9_.-]*` (namespace without `.`, host may hold `:`), 1–80 characters
//! (host up to 350); responses use `DisplayShortest` (`model:tag`, default host and namespace
//! dropped). `internal/modelref/modelref.go ParseRef` trims spaces first and calls an empty
//! name "model is required".

pub const DEFAULT_HOST: &str = "registry.ollama.ai";
pub const DEFAULT_NAMESPACE: &str = "library";
pub const DEFAULT_TAG: &str = "latest";
const MISSING: &str = "!MISSING!";

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Name {
    pub host: String,
    pub namespace: String,
    pub model: String,
    pub tag: String,
}

/// `strings.LastIndex` cut where an empty side becomes `!MISSING!` (`cutPromised`).
fn cut_promised(s: &str, sep: char) -> (String, String, bool) {
    match s.rfind(sep) {
        Some(at) => {
            let before = &s[..at];
            let after = &s[at + 1..];
            let or = |p: &str| {
                if p.is_empty() {
                    MISSING.to_string()
                } else {
                    p.to_string()
                }
            };
            (or(before), or(after), true)
        }
        None => (s.to_string(), String::new(), false),
    }
}

impl Name {
    /// `model.ParseName`: the bare parts merged with the defaults (a scheme `x://` before
    /// the host is dropped).
    pub fn parse(text: &str) -> Name {
        let mut name = Name {
            host: String::new(),
            namespace: String::new(),
            model: String::new(),
            tag: String::new(),
        };
        let mut s = text.to_string();
        let last_colon = s.rfind(':').map(|i| i as isize).unwrap_or(-1);
        let last_slash = s.rfind('/').map(|i| i as isize).unwrap_or(-1);
        if last_colon > last_slash {
            let (rest, tag, _) = cut_promised(&s, ':');
            s = rest;
            name.tag = tag;
        }
        let (rest, model, promised) = cut_promised(&s, '/');
        if !promised {
            name.model = s;
        } else {
            name.model = model;
            let (rest, namespace, promised) = cut_promised(&rest, '/');
            if !promised {
                name.namespace = rest;
            } else {
                name.namespace = namespace;
                name.host = match rest.split_once("://") {
                    Some((_, host)) => host.to_string(),
                    None => rest,
                };
            }
        }
        if name.host.is_empty() {
            name.host = DEFAULT_HOST.into();
        }
        if name.namespace.is_empty() {
            name.namespace = DEFAULT_NAMESPACE.into();
        }
        if name.tag.is_empty() {
            name.tag = DEFAULT_TAG.into();
        }
        name
    }

    /// `IsValid` = `IsFullyQualified`: every part valid.
    pub fn is_valid(&self) -> bool {
        valid_part(Part::Host, &self.host)
            && valid_part(Part::Namespace, &self.namespace)
            && valid_part(Part::Model, &self.model)
            && valid_part(Part::Tag, &self.tag)
    }

    /// `model:tag`, with `namespace/` or `host/namespace/` when they are not the defaults.
    pub fn display_shortest(&self) -> String {
        let mut out = String::new();
        if !self.host.eq_ignore_ascii_case(DEFAULT_HOST) {
            out.push_str(&format!("{}/{}/", self.host, self.namespace));
        } else if !self.namespace.eq_ignore_ascii_case(DEFAULT_NAMESPACE) {
            out.push_str(&format!("{}/", self.namespace));
        }
        out.push_str(&format!("{}:{}", self.model, self.tag));
        out
    }

    /// `host/namespace/model:tag` (`Name.String`).
    pub fn full(&self) -> String {
        format!(
            "{}/{}/{}:{}",
            self.host, self.namespace, self.model, self.tag
        )
    }

    /// The manifest's path below `manifests/`.
    pub fn parts(&self) -> [&str; 4] {
        [&self.host, &self.namespace, &self.model, &self.tag]
    }

    pub fn eq_fold(&self, other: &Name) -> bool {
        self.host.eq_ignore_ascii_case(&other.host)
            && self.namespace.eq_ignore_ascii_case(&other.namespace)
            && self.model.eq_ignore_ascii_case(&other.model)
            && self.tag.eq_ignore_ascii_case(&other.tag)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Part {
    Host,
    Namespace,
    Model,
    Tag,
}

fn valid_part(kind: Part, s: &str) -> bool {
    let max = if kind == Part::Host { 350 } else { 80 };
    if s.is_empty() || s.len() > max {
        return false;
    }
    for (i, b) in s.bytes().enumerate() {
        let alnum = b.is_ascii_alphanumeric() || b == b'_';
        if i == 0 {
            if !alnum {
                return false;
            }
            continue;
        }
        match b {
            b'_' | b'-' => {}
            b'.' if kind == Part::Namespace => return false,
            b'.' => {}
            b':' if kind != Part::Host => return false,
            b':' => {}
            _ if alnum => {}
            _ => return false,
        }
    }
    true
}

/// `getExistingName`: each part canonicalised to the spelling of a stored model whose part
/// matches case-insensitively (the first match per part, as Go's loop over the manifests).
pub fn existing_name(name: &Name, stored: &[Name]) -> Name {
    let mut out = name.clone();
    let (mut host, mut namespace, mut model, mut tag) = (false, false, false, false);
    for e in stored {
        if !host && e.host.eq_ignore_ascii_case(&out.host) {
            out.host = e.host.clone();
            host = true;
        }
        if !namespace && e.namespace.eq_ignore_ascii_case(&out.namespace) {
            out.namespace = e.namespace.clone();
            namespace = true;
        }
        if !model && e.model.eq_ignore_ascii_case(&out.model) {
            out.model = e.model.clone();
            model = true;
        }
        if !tag && e.tag.eq_ignore_ascii_case(&out.tag) {
            out.tag = e.tag.clone();
            tag = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `types/model/name_test.go`-style cases: defaults, shortest display, validity.
    #[test]
    fn names_parse_with_defaults() {
        let n = Name::parse("llama3.2");
        assert_eq!(n.full(), "registry.ollama.ai/library/llama3.2:latest");
        assert_eq!(n.display_shortest(), "llama3.2:latest");
        assert!(n.is_valid());
        assert_eq!(Name::parse("me/mario:v1").display_shortest(), "me/mario:v1");
        assert_eq!(
            Name::parse("example.com:5000/me/x").display_shortest(),
            "example.com:5000/me/x:latest"
        );
        assert!(!Name::parse("bad name").is_valid());
        assert!(!Name::parse("x:").is_valid());
        assert!(!Name::parse(":x").is_valid());
        assert!(!Name::parse("-x").is_valid());
        assert!(!Name::parse("na.me/x").is_valid());
        assert!(!Name::parse(&"a".repeat(81)).is_valid());
    }

    /// `getExistingName` keeps the stored spelling of each part.
    #[test]
    fn lookups_are_case_insensitive() {
        let stored = vec![Name::parse("Mario:Latest")];
        let found = existing_name(&Name::parse("mario"), &stored);
        assert_eq!(found.display_shortest(), "Mario:Latest");
    }
}
