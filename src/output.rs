//! Where text goes: data (plans, drift, facts) to stdout, progress to stderr. Colour only on
//! a terminal, never with `NO_COLOR` or `--no-color` (no-color.org).

use crate::ollama::client::Progress;
use crate::target::Hook;
use std::cell::RefCell;
use std::io::{IsTerminal, Write};

thread_local! {
    /// While a host runs on its own thread (several `--host`s), its output is collected here
    /// and printed as one block when it is done, so hosts do not interleave.
    static CAPTURE: RefCell<Option<Captured>> = const { RefCell::new(None) };
}

/// A host's collected output: everything in order, and the data (stdout) part alone.
#[derive(Default, Debug)]
pub struct Captured {
    pub all: String,
    pub data: String,
}

/// Starts collecting this thread's output.
pub fn start_capture() {
    CAPTURE.with(|c| *c.borrow_mut() = Some(Captured::default()));
}

/// Stops collecting and returns what was collected.
pub fn take_capture() -> Captured {
    CAPTURE.with(|c| c.borrow_mut().take()).unwrap_or_default()
}

pub fn capturing() -> bool {
    CAPTURE.with(|c| c.borrow().is_some())
}

/// Writes to stdout (`to_stderr` false) or stderr, or into the capture; masked for secrets.
pub fn emit(text: &str, to_stderr: bool) {
    let text = crate::mask::mask(text);
    let captured = CAPTURE.with(|c| {
        let mut c = c.borrow_mut();
        match c.as_mut() {
            Some(buffer) => {
                buffer.all.push_str(&text);
                if !to_stderr {
                    buffer.data.push_str(&text);
                }
                true
            }
            None => false,
        }
    });
    if captured {
        return;
    }
    if to_stderr {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(text.as_bytes());
    } else {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
}

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

    /// Every output goes through `mask::mask`: a value from `secret()` never reaches a
    /// terminal, a log or a pipe.
    pub fn data(&self, text: &str) {
        emit(text, false);
    }

    pub fn progress(&self, text: &str) {
        if !self.quiet {
            emit(&format!("{text}\n"), true);
        }
    }

    pub fn detail(&self, text: &str) {
        if self.verbose {
            emit(&format!("{text}\n"), true);
        }
    }

    pub fn warn(&self, text: &str) {
        emit(
            &format!("{} {text}\n", self.paint(Style::Change, "warning:")),
            true,
        );
    }

    /// `-v`: a command about to run on the host, as a person would type it.
    pub fn command(&self, display: &str) {
        emit(&format!("+ {display}\n"), true);
    }
}

/// The terminal as resources see it through their target.
impl Hook for Ui {
    fn step(&self, text: &str) {
        self.progress(text);
    }

    fn progress_view<'h>(&'h self, subject: &str) -> Box<dyn FnMut(&Progress) + 'h> {
        let mut view = ProgressView::new(subject);
        Box::new(move |progress| view.show(progress))
    }
}

/// Shows pull and create progress: a bar on a terminal, a line per step otherwise.
struct ProgressView {
    subject: String,
    terminal: bool,
    last: String,
    last_percent: u64,
}

impl ProgressView {
    fn new(subject: &str) -> ProgressView {
        ProgressView {
            subject: subject.to_string(),
            // Several hosts at once collect their output: no bar redrawn in place then.
            terminal: std::io::stderr().is_terminal() && !capturing(),
            last: String::new(),
            last_percent: u64::MAX,
        }
    }

    fn show(&mut self, progress: &Progress) {
        let model = &self.subject;
        match (progress.total, progress.completed) {
            (Some(total), completed) if total > 0 => {
                let done = completed.unwrap_or(0);
                let percent = done * 100 / total;
                if self.terminal {
                    let width = 30;
                    let filled = (percent as usize * width / 100).min(width);
                    emit(
                        &format!(
                            "\r{model}: {} [{}{}] {percent:>3}% of {:.1} GB{}",
                            progress.status,
                            "#".repeat(filled),
                            " ".repeat(width - filled),
                            total as f64 / 1e9,
                            if done >= total { "\n" } else { "" }
                        ),
                        true,
                    );
                } else if percent / 25 != self.last_percent / 25 || self.last != progress.status {
                    emit(&format!("{model}: {} {percent}%\n", progress.status), true);
                }
                self.last_percent = percent;
            }
            _ => {
                if progress.status != self.last {
                    emit(&format!("{model}: {}\n", progress.status), true);
                }
            }
        }
        self.last = progress.status.clone();
    }
}
