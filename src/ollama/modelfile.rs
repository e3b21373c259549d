//! Reading the Modelfile text that `/api/show` returns (`modelfile`): `GetModelInfo` writes
//! three `#` comment lines and a blank line, then `Model.String()` (ollama/ollama v0.32.15
//! `server/images.go` 586-675), one `parser.Command` per line (`parser/parser.go`
//! `Command.String`): `FROM <path>` unquoted, every other value through `parser.quote`.
//!
//! `parser.quote` (parser.go 644-654) leaves a value bare unless it holds a newline or
//! starts or ends with a space; then it is wrapped in `"` ... `"`, or in `"""` ... `"""` when
//! it also holds a `"`. Nothing inside is escaped, so a quoted value ends at the first place
//! that closes it: a newline after which the next command (or the end) follows, where the
//! text before is exactly what `quote` makes of some value.
//!
//! This is how macllm reads the TEMPLATE a model stores: `/api/show`'s `template` is the
//! template the server selects (`selectedModelTemplate`, routes.go 1623-1630), which since
//! v0.30.0 can be the GGUF's Jinja `tokenizer.chat_template` instead.

/// `parser.quote`.
pub fn quote(value: &str) -> String {
    if value.contains('\n') || value.starts_with(' ') || value.ends_with(' ') {
        if value.contains('"') {
            format!("\"\"\"{value}\"\"\"")
        } else {
            format!("\"{value}\"")
        }
    } else {
        value.to_string()
    }
}

/// The keywords `Command.String` writes at the start of a line.
const KEYWORDS: &[&str] = &[
    "FROM",
    "ADAPTER",
    "DRAFT",
    "TEMPLATE",
    "SYSTEM",
    "RENDERER",
    "PARSER",
    "REQUIRES",
    "PARAMETER",
    "LICENSE",
    "MESSAGE",
];

/// Whether `rest` (what follows a value's newline) is the end or the next command.
fn next_command(rest: &str) -> bool {
    rest.is_empty()
        || KEYWORDS
            .iter()
            .any(|k| rest.strip_prefix(k).is_some_and(|r| r.starts_with(' ')))
}

/// The value `quoted` is the `parser.quote` of, if any.
fn unquote(quoted: &str) -> Option<String> {
    let candidates = [
        quoted
            .strip_prefix("\"\"\"")
            .and_then(|s| s.strip_suffix("\"\"\"")),
        quoted.strip_prefix('"').and_then(|s| s.strip_suffix('"')),
        Some(quoted),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|value| quote(value) == quoted)
        .map(str::to_string)
}

/// Parses the commands in `text` onto `parsed`. A quoted value may end at more than one
/// newline that a command follows (a template can hold `"""` and a line that starts with
/// `PARAMETER `), so the shortest ending whose remainder parses wins.
fn parse(text: &str, parsed: &mut Vec<(String, String)>) -> bool {
    if text.is_empty() {
        return true;
    }
    let Some((mut keyword, mut after)) = text.split_once(' ').map(|(k, a)| (k.to_string(), a))
    else {
        return false;
    };
    if !KEYWORDS.contains(&keyword.as_str()) {
        return false;
    }
    if keyword == "FROM" {
        // `FROM %s`: a path, never quoted.
        let (line, rest) = after.split_once('\n').unwrap_or((after, ""));
        parsed.push((keyword, line.to_string()));
        return parse(rest, parsed);
    }
    if keyword == "PARAMETER" || keyword == "MESSAGE" {
        // `PARAMETER name value`, `MESSAGE role value`: only the value is quoted.
        let Some((name, value)) = after.split_once(' ') else {
            return false;
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return false;
        }
        keyword = format!("{keyword} {name}");
        after = value;
    }
    let mut from = 0;
    loop {
        let end = after[from..].find('\n').map_or(after.len(), |at| from + at);
        let rest = after.get(end + 1..).unwrap_or_default();
        if next_command(rest)
            && let Some(value) = unquote(&after[..end])
        {
            let kept = parsed.len();
            parsed.push((keyword.clone(), value));
            if parse(rest, parsed) {
                return true;
            }
            parsed.truncate(kept);
        }
        if end == after.len() {
            return false;
        }
        from = end + 1;
    }
}

/// The commands of a shown Modelfile in order, as (keyword, value): `PARAMETER` and
/// `MESSAGE` keep their name or role in the keyword (`PARAMETER stop`). `None` when the text
/// is not one that `Model.String()` writes.
pub fn commands(modelfile: &str) -> Option<Vec<(String, String)>> {
    let mut text = modelfile;
    // The header: `#` comments and blank lines.
    while text.starts_with('#') || text.starts_with('\n') {
        text = text.split_once('\n').map_or("", |(_, rest)| rest);
    }
    let mut parsed = Vec::new();
    parse(text, &mut parsed).then_some(parsed)
}

/// The TEMPLATE a shown model stores (its Go template, `{{ .Prompt }}` when it has none).
pub fn stored_template(modelfile: &str) -> Option<String> {
    commands(modelfile)?
        .into_iter()
        .find(|(keyword, _)| keyword == "TEMPLATE")
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(template: &str) -> String {
        format!(
            "# Modelfile generated by \"ollama show\"\n# To build a new Modelfile based on this, replace FROM with:\n# FROM m:latest\n\nFROM /Users/a b/.ollama/models/blobs/sha256-1\nADAPTER \" x\"\nTEMPLATE {}\nSYSTEM \"\"\"say \"hi\"\nPARAMETER x\"\"\"\nPARAMETER stop <|eot_id|>\nPARAMETER stop \"\"\"\"quoted\" \"\"\"\nLICENSE \"A\n\nB\"\nMESSAGE user hi\n",
            quote(template)
        )
    }

    #[test]
    fn every_value_comes_back_as_quote_wrote_it() {
        for template in [
            "{{ .Prompt }}",
            "\"hi\"",
            "\"\"\"",
            "a\nb",
            " lead",
            "trail ",
            "say \"hi\"\n",
            "ends in a quote\"",
            "\"\n\"",
            "x\"\"\"\nPARAMETER y\"\"\" z\n",
            "{{ if .System }}\nSYSTEM {{ .System }}\n{{ end }}",
            "",
        ] {
            let commands = commands(&shown(template)).unwrap();
            assert_eq!(
                commands,
                [
                    ("FROM", "/Users/a b/.ollama/models/blobs/sha256-1"),
                    ("ADAPTER", " x"),
                    ("TEMPLATE", template),
                    ("SYSTEM", "say \"hi\"\nPARAMETER x"),
                    ("PARAMETER stop", "<|eot_id|>"),
                    ("PARAMETER stop", "\"quoted\" "),
                    ("LICENSE", "A\n\nB"),
                    ("MESSAGE user", "hi"),
                ]
                .map(|(k, v)| (k.to_string(), v.to_string())),
                "{template:?}"
            );
            assert_eq!(stored_template(&shown(template)).unwrap(), template);
        }
    }

    #[test]
    fn texts_that_are_no_modelfile_give_nothing() {
        assert_eq!(commands("# only comments\n"), Some(vec![]));
        assert_eq!(stored_template("# only comments\n"), None);
        assert_eq!(commands("FROM x\nNONSENSE y\n"), None);
        assert_eq!(commands("FROM x\nTEMPLATE \"a\nb\n"), None);
    }
}
