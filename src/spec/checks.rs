//! Checks on a resource as it will be written, whatever it came from: the spec, a module or a
//! hand-edited saved plan. The spec's own checks (types, names, located YAML errors) come
//! first; these are the ones a plan file must pass too, so a domain refused in a spec is
//! refused in a plan.

use super::locate::Segment;
use crate::resources::AnyResource;
use crate::value::Value;

/// What macOS lets one command line carry (`ARG_MAX`, `sysctl kern.argmax`: 1 MiB).
pub const ARG_MAX: usize = 1024 * 1024;

/// The longest file name APFS and HFS+ accept, in bytes.
pub const NAME_MAX: usize = 255;

/// What is wrong and where, relative to the resource's entry in the spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub field: Vec<Segment>,
    pub message: String,
    pub hint: Option<String>,
}

impl Problem {
    fn at(field: &[&str], message: impl Into<String>) -> Problem {
        Problem {
            field: field.iter().map(|k| Segment::Key(k.to_string())).collect(),
            message: message.into(),
            hint: None,
        }
    }

    fn hint(mut self, hint: impl Into<String>) -> Problem {
        self.hint = Some(hint.into());
        self
    }
}

/// A `defaults` domain: a name (`com.apple.dock`, `NSGlobalDomain`) whose file is
/// `~/Library/Preferences/<name>.plist`, or a system domain under `/Library/Preferences/`.
/// Nothing may lead outside those folders (`..`, `.`, empty components, a relative path) and
/// the preference file's name must fit in a file name.
pub fn domain(domain: &str) -> Result<(), Problem> {
    let here = |message: String| Err(Problem::at(&["domain"], message));
    if domain.is_empty() {
        return here("the domain is empty".to_string());
    }
    if domain.contains('\0') {
        return here("the domain contains a NUL byte".to_string());
    }
    let (folder, name) = match domain.strip_prefix('/') {
        Some(_) => match domain.strip_prefix("/Library/Preferences/") {
            Some(rest) => ("/Library/Preferences/", rest),
            None => {
                return here(format!(
                    "path domain `{domain}` is not supported; use a domain name, or a system domain under /Library/Preferences/"
                ));
            }
        },
        None => ("", domain),
    };
    let components: Vec<&str> = name.split('/').collect();
    if folder.is_empty() && components.len() > 1 {
        return Err(Problem::at(
            &["domain"],
            format!(
                "`{domain}` is a relative path, not a domain name (a domain name has no `/`)"
            ),
        )
        .hint("write a domain name such as `com.apple.dock`, or a system domain under /Library/Preferences/"));
    }
    for component in &components {
        if component.is_empty() || *component == "." || *component == ".." {
            let shown = if component.is_empty() {
                "an empty part"
            } else {
                component
            };
            return here(format!(
                "domain `{domain}` has {} in its path, which could lead outside {}",
                if component.is_empty() {
                    shown.to_string()
                } else {
                    format!("`{shown}`")
                },
                if folder.is_empty() {
                    "~/Library/Preferences"
                } else {
                    "/Library/Preferences"
                }
            ));
        }
    }
    let file = format!("{}.plist", components.last().copied().unwrap_or_default());
    let longest = components.iter().map(|c| c.len()).max().unwrap_or(0);
    if file.len() > NAME_MAX || longest > NAME_MAX {
        return here(format!(
            "domain `{}…` is too long: its preference file `<domain>.plist` would be {} bytes, and a file name holds at most {NAME_MAX}",
            truncated(domain, 40),
            file.len().max(longest)
        ));
    }
    Ok(())
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn truncated(text: &str, max: usize) -> &str {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A value macOS can hold and the state can record: floats finite, strings without NUL
/// (C strings end there), at any depth. `field` is where the value sits.
pub fn value(value: &Value, field: &[Segment]) -> Result<(), Problem> {
    let problem = |message: String| Problem {
        field: field.to_vec(),
        message,
        hint: None,
    };
    match value {
        Value::Float(f) if !f.is_finite() => Err(problem(format!(
            "the float {f} is not finite: macOS `defaults` cannot hold NaN or infinity meaningfully"
        ))),
        Value::String(s) if s.contains('\0') => Err(problem(
            "the string contains a NUL byte, where macOS command lines and C strings end"
                .to_string(),
        )),
        Value::Array(items) => items.iter().enumerate().try_for_each(|(i, item)| {
            let mut here = field.to_vec();
            here.push(Segment::Index(i));
            self::value(item, &here)
        }),
        Value::Dict(entries) => entries.iter().try_for_each(|(k, v)| {
            let mut here = field.to_vec();
            here.push(Segment::Key(k.clone()));
            if k.contains('\0') {
                // Reported at the dictionary: the key itself would print its NUL.
                return Err(Problem {
                    field: field.to_vec(),
                    message: "a key of this dictionary contains a NUL byte, where macOS command lines and C strings end"
                        .to_string(),
                    hint: None,
                });
            }
            self::value(v, &here)
        }),
        _ => Ok(()),
    }
}

/// How many bytes `defaults write DOMAIN KEY VALUE` puts on its command line, at most (floats,
/// dates and collections go as an XML plist document).
fn command_line_bytes(domain: &str, key: &str, value: &Value) -> usize {
    let value_bytes = match value {
        Value::String(s) => s.len(),
        Value::Data(hex) => hex.len(),
        Value::Bool(_) | Value::Integer(_) => 32,
        other => other.to_xml_document().len(),
    };
    "defaults -currentHost write -string ".len() + domain.len() + key.len() + value_bytes + 4
}

/// A `/`-separated model name without `.` or `..` parts (they would name folders outside
/// Ollama's model store) and without NUL.
fn model_name(name: &str, field: &str) -> Result<(), Problem> {
    if name.contains('\0') {
        return Err(Problem::at(&[field], "the model name contains a NUL byte"));
    }
    if name
        .split(['/', ':'])
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(Problem::at(
            &[field],
            format!(
                "`{name}` is not a model name Ollama accepts: it has an empty, `.` or `..` part, which would name a folder outside Ollama's model store"
            ),
        ));
    }
    Ok(())
}

/// Every check a resource must pass before anything runs, wherever it came from.
pub fn resource(resource: &AnyResource) -> Result<(), Problem> {
    match resource {
        AnyResource::Defaults(key) => {
            domain(&key.domain)?;
            if key.key.is_empty() || key.key.chars().any(char::is_control) {
                return Err(Problem::at(
                    &["key"],
                    "the key is empty or contains a control character (newline, tab or NUL)",
                ));
            }
            if let Some(v) = &key.value {
                value(v, &[Segment::Key("value".into())])?;
                let bytes = command_line_bytes(&key.domain, &key.key, v);
                if bytes > ARG_MAX {
                    return Err(Problem::at(
                        &["value"],
                        format!(
                            "the value is too large: `defaults write` would need a {bytes}-byte command line, and macOS lets one command line carry at most {ARG_MAX} bytes (ARG_MAX)"
                        ),
                    ));
                }
            }
            Ok(())
        }
        AnyResource::OllamaPull(pull) => model_name(&pull.model, "model").map_err(|p| Problem {
            field: Vec::new(),
            ..p
        }),
        AnyResource::OllamaModel(model) => {
            model_name(&model.name, "name")?;
            model_name(&model.from, "from")?;
            for (name, v) in &model.parameters {
                value(
                    v,
                    &[
                        Segment::Key("parameters".into()),
                        Segment::Key(name.clone()),
                    ],
                )?;
                parameter_range(name, v)?;
            }
            no_nul_anywhere(resource)
        }
        AnyResource::Power(setting) => {
            power_range(&setting.name, setting.value)?;
            no_nul_anywhere(resource)
        }
        _ => no_nul_anywhere(resource),
    }
}

/// The longest sleep timer accepted, in minutes. macOS states no maximum: pmset(1) says only
/// "value in minutes, or 0 to disable" (apple-oss-distributions/PowerManagement
/// `pmset/pmset.1`), and the Energy Saver sliders offered 1 minute to 3 hours or Never
/// ("macOS Mojave For Dummies", Energy Saver pane). A day, eight times the largest choice
/// System Settings offers, is macllm's own bound: more is a mistake for 0 (never) or for a
/// number of seconds.
pub const MAX_TIMER_MINUTES: i64 = 24 * 60;

/// pmset's timers are minutes (0 = never); `hibernatemode` is 0, 3 or 25 (pmset(1)).
fn power_range(name: &str, value: i64) -> Result<(), Problem> {
    match name {
        "sleep" | "displaysleep" | "disksleep" if !(0..=MAX_TIMER_MINUTES).contains(&value) => {
            Err(Problem::at(
                &[],
                format!(
                    "`{name}` takes minutes from 0 (never) to {MAX_TIMER_MINUTES} (a day), not {value}"
                ),
            )
            .hint("write 0 to never sleep"))
        }
        "hibernatemode" if ![0, 3, 25].contains(&value) => Err(Problem::at(
            &[],
            format!("`hibernatemode` is 0, 3 or 25 (pmset(1)), not {value}"),
        )),
        _ => Ok(()),
    }
}

/// Ollama fails a model load on these only when the model is first used, long after apply:
/// a context of no tokens, a batch of none, a probability outside 0 to 1.
fn parameter_range(name: &str, value: &Value) -> Result<(), Problem> {
    let number = match value {
        Value::Integer(i) => *i as f64,
        Value::Float(f) => *f,
        _ => return Ok(()),
    };
    let (ok, wanted) = match name {
        "num_ctx" => (number >= 1.0, "tokens of context: at least 1"),
        "num_batch" => (number >= 1.0, "tokens per batch: at least 1"),
        "num_thread" => (number >= 0.0, "threads: 0 (Ollama chooses) or more"),
        "temperature" => (number >= 0.0, "a temperature: 0 or more"),
        "top_p" | "min_p" | "typical_p" => {
            ((0.0..=1.0).contains(&number), "a probability: from 0 to 1")
        }
        _ => return Ok(()),
    };
    if ok {
        return Ok(());
    }
    Err(Problem {
        field: vec![
            Segment::Key("parameters".into()),
            Segment::Key(name.to_string()),
        ],
        message: format!("`{name}` is {wanted}, not {}", value.inline()),
        hint: None,
    })
}

/// No string anywhere in the resource holds a NUL byte (reported at the entry).
fn no_nul_anywhere(resource: &AnyResource) -> Result<(), Problem> {
    fn walk(json: &serde_json::Value) -> bool {
        match json {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(items) => items.iter().any(walk),
            serde_json::Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || walk(v)),
            _ => false,
        }
    }
    match serde_json::to_value(resource) {
        Ok(json) if walk(&json) => Err(Problem {
            field: Vec::new(),
            message: "a string in this entry contains a NUL byte, where macOS command lines and C strings end"
                .to_string(),
            hint: None,
        }),
        Ok(_) => Ok(()),
        Err(err) => Err(Problem {
            field: Vec::new(),
            message: format!("this entry holds a value macllm cannot record: {err}"),
            hint: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_stay_in_the_preference_folders() {
        for good in [
            "com.apple.dock",
            "NSGlobalDomain",
            "/Library/Preferences/com.apple.TimeMachine",
            "/Library/Preferences/SystemConfiguration/com.apple.PowerManagement",
            "a..b",
        ] {
            assert_eq!(domain(good), Ok(()), "{good}");
        }
        for bad in [
            "..",
            ".",
            "../../etc/passwd",
            "x/../../y",
            "/Library/Preferences/../../etc/passwd",
            "/Library/Preferences/./x",
            "/Library/Preferences//x",
            "/Library/Preferences/",
            "/etc/passwd",
            "~/x",
            "a/b",
        ] {
            assert!(domain(bad).is_err(), "{bad}");
        }
        assert!(domain(&"a".repeat(249)).is_ok());
        assert!(domain(&"a".repeat(250)).is_err());
    }
}
