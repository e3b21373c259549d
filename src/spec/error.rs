//! The one typed error: bad spec input, rendered with file, line, column, field path and the
//! offending line with a caret under it (the way rustc and just show source errors).

use super::locate::{Segment, display_path, locate};
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq)]
pub struct SpecError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    /// `defaults[0].value`; empty for errors about the whole document.
    pub field: String,
    pub message: String,
    /// The offending source line, without its newline.
    pub source_line: String,
    pub hint: Option<String>,
    /// What kind of error this is, for `--json` (scripts branch on it; the message is for
    /// people): set where the error is made, `invalid_spec` unless said otherwise.
    pub code: &'static str,
}

/// How many characters of the offending line are shown after the caret, at most.
const SHOWN_PAST_CARET: usize = 60;

impl SpecError {
    /// An error about the node at `path` in `text`.
    pub fn at(file: &Path, text: &str, path: &[Segment], message: impl Into<String>) -> SpecError {
        let (line, column) = locate(text, path).unwrap_or((1, 1));
        SpecError::new(file, text, line, column, display_path(path), message)
    }

    pub fn new(
        file: &Path,
        text: &str,
        line: usize,
        column: usize,
        field: String,
        message: impl Into<String>,
    ) -> SpecError {
        let source_line = text.lines().nth(line.saturating_sub(1)).unwrap_or_default();
        // A line of a megabyte (a huge value) is shown up to a little past the caret.
        let keep = column.max(1) + SHOWN_PAST_CARET;
        let source_line = match source_line.char_indices().nth(keep) {
            Some((cut, _)) => format!("{}…", &source_line[..cut]),
            None => source_line.to_string(),
        };
        SpecError {
            file: file.to_path_buf(),
            line,
            column,
            field,
            message: message.into(),
            source_line,
            hint: None,
            code: "invalid_spec",
        }
    }

    /// From serde_yaml's error, whose message is `path: what at line L column C`, sometimes
    /// followed by `, while scanning X at line L column C` (libyaml's context mark).
    pub fn from_yaml(file: &Path, text: &str, err: &serde_yaml::Error) -> SpecError {
        let (mut line, mut column) = err
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((1, 1));
        let (message, marks) = strip_positions(&err.to_string());
        // "unexpected end of stream" points past the end of the file; the context mark (where
        // the unterminated quote or bracket opened) is the place to show.
        if message.contains("end of stream")
            && let Some(&(l, c)) = marks.get(1)
        {
            (line, column) = (l, c);
        }
        let (field, message) = split_field(&message);
        let code = serde_code(&message);
        SpecError::new(file, text, line, column, field, message).with_code(code)
    }

    /// The stable name of this kind of error (see [`SpecError::code`]).
    pub fn with_code(mut self, code: &'static str) -> SpecError {
        self.code = code;
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> SpecError {
        self.hint = Some(hint.into());
        self
    }

    /// serde's "unknown field `valeu`, expected one of `value`, ..." (or variant) with a
    /// "did you mean" for the closest name it lists.
    pub fn with_suggestion(self) -> SpecError {
        let Some(rest) = self
            .message
            .strip_prefix("unknown field `")
            .or_else(|| self.message.strip_prefix("unknown variant `"))
        else {
            return self;
        };
        let Some((written, expected)) = rest.split_once('`') else {
            return self;
        };
        let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        match super::suggest::did_you_mean(written, known) {
            Some(hint) if self.hint.is_none() => self.with_hint(hint),
            _ => self,
        }
    }
}

/// The code of an error serde_yaml found while typing the spec, by what its message begins
/// with (serde's own wording: `serde::de::Error`'s default messages).
pub fn serde_code(message: &str) -> &'static str {
    const BEGINS: &[(&str, &str)] = &[
        ("unknown field", "unknown_field"),
        ("unknown variant", "unknown_value"),
        ("missing field", "missing_field"),
        ("invalid type", "wrong_type"),
    ];
    BEGINS
        .iter()
        .find(|(begins, _)| message.starts_with(begins))
        .map_or("invalid_spec", |(_, code)| code)
}

impl SpecError {
    /// The error as `--json` prints it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "code": self.code,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "field": self.field,
            "source_line": self.source_line,
            "hint": self.hint,
        })
    }
}

/// How many errors are shown at most; the rest are counted.
pub const SHOWN: usize = 20;

/// Every error found in a spec (and its modules), in file and line order.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecErrors(pub Vec<SpecError>);

impl SpecErrors {
    /// The errors as one error: the only one as itself, several in order, without repeats.
    pub fn into_error(mut errors: Vec<SpecError>) -> anyhow::Error {
        errors.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        errors.dedup();
        match errors.len() {
            1 => errors.remove(0).into(),
            _ => SpecErrors(errors).into(),
        }
    }

    /// Adds the spec errors `err` holds to `errors`; any other error is returned.
    pub fn gather(err: anyhow::Error, errors: &mut Vec<SpecError>) -> anyhow::Result<()> {
        let err = match err.downcast::<SpecError>() {
            Ok(one) => {
                errors.push(one);
                return Ok(());
            }
            Err(other) => other,
        };
        match err.downcast::<SpecErrors>() {
            Ok(SpecErrors(several)) => {
                errors.extend(several);
                Ok(())
            }
            Err(other) => Err(other),
        }
    }
}

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.0.iter().take(SHOWN).enumerate() {
            if index > 0 {
                write!(f, "\n\nerror: ")?;
            }
            write!(f, "{error}")?;
        }
        if self.0.len() > SHOWN {
            write!(
                f,
                "\n\nerror: {} errors in all; the first {SHOWN} are shown",
                self.0.len()
            )?;
        } else {
            write!(f, "\n\nerror: {} errors", self.0.len())?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecErrors {}

/// Removes every ` at line L column C` from a serde_yaml message, returning the marks found.
fn strip_positions(message: &str) -> (String, Vec<(usize, usize)>) {
    let mut out = String::new();
    let mut marks = Vec::new();
    let mut rest = message;
    while let Some(at) = rest.find(" at line ") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + " at line ".len()..];
        let digits = |s: &str| {
            s.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        };
        let line = digits(tail);
        let Some(after_column) = tail[line.len()..].strip_prefix(" column ") else {
            out.push_str(" at line ");
            rest = tail;
            continue;
        };
        let column = digits(after_column);
        marks.push((line.parse().unwrap_or(1), column.parse().unwrap_or(1)));
        rest = &after_column[column.len()..];
    }
    out.push_str(rest);
    (out, marks)
}

/// serde_yaml prefixes messages with the field path and `: `; a path never contains a space.
fn split_field(message: &str) -> (String, String) {
    if let Some((field, rest)) = message.split_once(": ")
        && !field.contains(' ')
        && !field.is_empty()
    {
        return (field.to_string(), rest.to_string());
    }
    (String::new(), message.to_string())
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            writeln!(f, "{}", self.message)?;
        } else {
            writeln!(f, "{}: {}", self.field, self.message)?;
        }
        let number = self.line.to_string();
        let gutter = " ".repeat(number.len());
        writeln!(
            f,
            "{gutter}--> {}:{}:{}",
            self.file.display(),
            self.line,
            self.column
        )?;
        writeln!(f, "{gutter} |")?;
        writeln!(f, "{number} | {}", self.source_line)?;
        // Tabs in the source keep their width in the caret line so the caret lines up.
        let lead: String = self
            .source_line
            .chars()
            .take(self.column.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        write!(f, "{gutter} | {lead}^")?;
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_file_line_field_and_caret() {
        let text = "macllm: 1\ndefaults:\n  - domain: a\n    key: b\n    valeu: 1\n";
        let err = SpecError::at(
            Path::new("x.yaml"),
            text,
            &[
                Segment::Key("defaults".into()),
                Segment::Index(0),
                Segment::Key("key".into()),
            ],
            "bad key",
        )
        .with_hint("fix it");
        assert_eq!(
            err.to_string(),
            "defaults[0].key: bad key\n --> x.yaml:4:10\n  |\n4 |     key: b\n  |          ^\nhint: fix it"
        );
    }

    #[test]
    fn splits_serde_yaml_messages() {
        let text = "macllm: 1\nfoo: 2\n";
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct S {
            macllm: u32,
        }
        let yaml_err = serde_yaml::from_str::<S>(text).unwrap_err();
        let err = SpecError::from_yaml(Path::new("s.yaml"), text, &yaml_err);
        assert_eq!((err.line, err.column), (2, 1));
        assert_eq!(err.message, "unknown field `foo`, expected `macllm`");
    }

    #[test]
    fn an_unterminated_quote_points_where_it_opened() {
        let text = "macllm: 1\nx: \"abc\ny: 2\n";
        let yaml_err = serde_yaml::from_str::<serde_yaml::Value>(text).unwrap_err();
        let err = SpecError::from_yaml(Path::new("s.yaml"), text, &yaml_err);
        assert_eq!((err.line, err.column), (2, 4), "{err}");
        assert_eq!(
            err.message,
            "found unexpected end of stream, while scanning a quoted scalar"
        );
    }
}
