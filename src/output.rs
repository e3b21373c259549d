//! Where text goes: data (plans, drift, facts) to stdout, progress to stderr. Colour only on
//! a terminal, never with `NO_COLOR` or `--no-color` (no-color.org).

use std::io::{IsTerminal, Write};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Add,
    Change,
    Remove,
    Bold,
    Dim,
}

#[derive(Clone, Copy, Debug)]
pub struct Ui {
    pub color: bool,
    pub json: bool,
    pub quiet: bool,
    pub verbose: bool,
}

impl Ui {
    pub fn new(no_color: bool, json: bool, quiet: bool, verbose: bool) -> Ui {
        let color = !no_color
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::io::stdout().is_terminal();
        Ui {
            color,
            json,
            quiet,
            verbose,
        }
    }

    /// Plain text, for tests and files.
    pub fn plain() -> Ui {
        Ui {
            color: false,
            json: false,
            quiet: false,
            verbose: false,
        }
    }

    pub fn paint(&self, style: Style, text: &str) -> String {
        if !self.color {
            return text.to_string();
        }
        let code = match style {
            Style::Add => "32",
            Style::Change => "33",
            Style::Remove => "31",
            Style::Bold => "1",
            Style::Dim => "2",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }

    /// Every output goes through `secret::mask`: a value from `secret()` never reaches a
    /// terminal, a log or a pipe.
    pub fn data(&self, text: &str) {
        let text = crate::secret::mask(text);
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    pub fn progress(&self, text: &str) {
        if !self.quiet {
            eprintln!("{}", crate::secret::mask(text));
        }
    }

    pub fn detail(&self, text: &str) {
        if self.verbose {
            eprintln!("{}", crate::secret::mask(text));
        }
    }

    pub fn warn(&self, text: &str) {
        eprintln!(
            "{} {}",
            self.paint(Style::Change, "warning:"),
            crate::secret::mask(text)
        );
    }
}
