//! Where text goes: data (plans, drift, facts) to stdout, progress to stderr. Colour only on
//! a terminal, never with `NO_COLOR` or `--no-color` (no-color.org). On a terminal, a long
//! apply keeps one status line at the bottom of stderr (`[3/12] ID`, a pull's bar): redrawn
//! in place, erased before any other text and drawn again after it, and gone when the apply
//! ends, so nothing of it reaches a pipe, a file or a host's collected output.

use crate::ollama::client::Progress;
use crate::target::Hook;
use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;

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

/// The status line at the bottom of the terminal: what runs (`[3/12] ID`) and, while a model
/// is pulled, its bar. Only ever set when stderr is a terminal and nothing is collected.
#[derive(Default)]
struct Status {
    /// `[3/12]` and the id of the change that runs.
    step: Option<(String, String)>,
    detail: Option<String>,
    /// Whether the line is on the screen now (and must be erased before other text).
    drawn: bool,
}

static STATUS: Mutex<Status> = Mutex::new(Status {
    step: None,
    detail: None,
    drawn: false,
});

/// Carriage return and ECMA-48 "erase in line" (EL, `CSI K`): the cursor back to the start
/// of the line and the line blanked.
const ERASE_LINE: &str = "\r\x1b[K";

/// At most this many characters: a longer line would wrap, and `\r` then erases only its
/// last row. 80 columns is the smallest terminal in common use (VT100, Terminal.app's
/// default).
const STATUS_WIDTH: usize = 79;

impl Status {
    fn text(&self) -> Option<String> {
        // With a bar, the bar names the model: the id would only push it off the line.
        let text = match (&self.step, &self.detail) {
            (Some((number, _)), Some(detail)) => format!("{number} {detail}"),
            (Some((number, id)), None) => format!("{number} {id}"),
            (None, Some(detail)) => detail.clone(),
            (None, None) => return None,
        };
        Some(text.chars().take(STATUS_WIDTH).collect())
    }

    /// Erases the line if it is drawn.
    fn erase(&mut self, err: &mut impl Write) {
        if self.drawn {
            let _ = err.write_all(ERASE_LINE.as_bytes());
            self.drawn = false;
        }
    }

    /// Draws the line (erasing the one there); erases it when there is nothing to show.
    fn draw(&mut self, err: &mut impl Write) {
        match self.text() {
            Some(text) => {
                let _ = write!(err, "{ERASE_LINE}{text}");
                self.drawn = true;
            }
            None => self.erase(err),
        }
        let _ = err.flush();
    }
}

fn with_status<T>(work: impl FnOnce(&mut Status) -> T) -> T {
    let mut status = STATUS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    work(&mut status)
}

/// Shows `[N/M] ID` in the status line for the change that runs now, on a terminal.
fn status_step(step: Option<(String, String)>) {
    with_status(|status| {
        if status.drawn && status.step == step && status.detail.is_none() {
            return;
        }
        status.step = step;
        status.detail = None;
        status.draw(&mut std::io::stderr().lock());
    });
}

/// A pull's bar beside the step in the status line, drawn now; `None` takes it away
/// without drawing, for the line that follows at once to draw the status again.
fn status_detail(detail: Option<String>) {
    with_status(|status| {
        let shown = detail.is_some();
        status.detail = detail;
        if shown {
            status.draw(&mut std::io::stderr().lock());
        }
    });
}

/// Erases the status line when it is dropped: an apply that ends, however it ends, leaves
/// no status behind. Made only by [`Ui::steps`].
pub struct StatusGuard(());

impl Drop for StatusGuard {
    fn drop(&mut self) {
        with_status(|status| {
            let mut err = std::io::stderr().lock();
            status.erase(&mut err);
            let _ = err.flush();
            *status = Status::default();
        });
    }
}

/// Writes to stdout (`to_stderr` false) or stderr, or into the capture; masked for secrets.
/// A status line on the screen is erased first and drawn again after a whole line.
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
    with_status(|status| {
        let mut err = std::io::stderr().lock();
        status.erase(&mut err);
        if to_stderr {
            let _ = err.write_all(text.as_bytes());
        } else {
            let _ = err.flush();
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
        if text.ends_with('\n') && status.text().is_some() {
            status.draw(&mut err);
        }
    });
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
    /// Whether apply keeps a status line (`[3/12] ID`) on stderr: a terminal, and neither
    /// `-q` nor `--json`.
    pub status_line: bool,
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
            status_line: !quiet && !json && std::io::stderr().is_terminal(),
        }
    }

    /// Plain text, for tests and files.
    pub fn plain() -> Ui {
        Ui {
            color: false,
            json: false,
            quiet: false,
            verbose: false,
            status_line: false,
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

    /// A command's one closing line (`Apply complete! ...`, `No changes. ...`): with `-q`,
    /// the only line, so without the blank line that sets it apart from a plan.
    pub fn summary(&self, text: &str) {
        if self.quiet {
            emit(text.trim_start_matches('\n'), false);
        } else {
            emit(text, false);
        }
    }

    /// Keeps a status line for a run of steps (see [`Ui::show_step`]) until the guard is
    /// dropped; `None` off a terminal, with `-q` or `--json`, and for a host among several.
    pub fn steps(&self) -> Option<StatusGuard> {
        (self.status_line && !capturing()).then_some(StatusGuard(()))
    }

    /// `[N/M] ID` in the status line: change N of M runs now (only under [`Ui::steps`]).
    pub fn show_step(&self, number: usize, total: usize, id: &str) {
        if self.status_line && !capturing() {
            status_step(Some((format!("[{number}/{total}]"), id.to_string())));
        }
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
        if self.quiet {
            return Box::new(|_| {});
        }
        // The bar lives in the status line, which only an apply on a terminal keeps.
        let mut view = ProgressView::new(subject, self.status_line && !capturing());
        Box::new(move |progress| view.show(progress))
    }
}

/// Shows pull and create progress: a bar in the status line on a terminal (left as a line
/// of its own when complete), a line per step otherwise.
struct ProgressView {
    subject: String,
    terminal: bool,
    last: String,
    last_percent: u64,
}

impl ProgressView {
    fn new(subject: &str, terminal: bool) -> ProgressView {
        ProgressView {
            subject: subject.to_string(),
            terminal,
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
                    let width = 20;
                    let filled = (percent as usize * width / 100).min(width);
                    let bar = format!(
                        "{model}: {} [{}{}] {percent:>3}% of {:.1} GB",
                        progress.status,
                        "#".repeat(filled),
                        " ".repeat(width - filled),
                        total as f64 / 1e9,
                    );
                    if done >= total {
                        status_detail(None);
                        emit(&format!("{bar}\n"), true);
                    } else {
                        status_detail(Some(bar));
                    }
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
