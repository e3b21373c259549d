//! The kill-point test hook ([`crate::CRASH_FILE`]): counts the steps of a run in the
//! emulated Mac and kills the process running macllm at the chosen one, the way a power cut
//! or `kill -9` would, so a test can check that every instant leaves a state macllm recovers
//! from.

use crate::machine::Machine;
use crate::{CRASH_FILE, CRASH_STEPS_FILE};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the multi-call shim: macllm is this process's parent, not this process.
pub static IN_SHIM: AtomicBool = AtomicBool::new(false);

/// A step being taken, and whether the process dies once it is done.
pub struct Step {
    die_after: bool,
}

#[derive(PartialEq)]
enum When {
    Before,
    After,
}

/// The kill point the hook file names, if it exists and reads `N before` or `N after`.
fn point(machine: &Machine) -> Option<(usize, When)> {
    let text = std::fs::read_to_string(machine.dir.join(CRASH_FILE)).ok()?;
    let (number, when) = text.trim().split_once(' ')?;
    let when = match when.trim() {
        "before" => When::Before,
        "after" => When::After,
        _ => return None,
    };
    Some((number.parse().ok()?, when))
}

/// Counts one step, `what` (a command line), and dies here if it is the kill point's
/// `before`. `None` when the hook is off.
pub fn begin(machine: &Machine, what: &str) -> Option<Step> {
    let (kill_at, when) = point(machine)?;
    let path = machine.dir.join(CRASH_STEPS_FILE);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    // One line a step, whatever the command holds (XML values span lines).
    writeln!(file, "{}", what.replace('\n', "\\n")).ok()?;
    drop(file);
    let number = std::fs::read_to_string(&path).ok()?.lines().count();
    if number == kill_at && when == When::Before {
        die();
    }
    Some(Step {
        die_after: number == kill_at && when == When::After,
    })
}

/// Ends a step: dies here if it was the kill point's `after` (its effects are done, its
/// answer never reaches macllm).
pub fn end(step: Step) {
    if step.die_after {
        die();
    }
}

/// Ends the process running macllm at once, as SIGKILL would: in-process (the sandbox host)
/// `abort` runs no destructor and flushes nothing; in a shim child, macllm is the parent,
/// killed with `kill -9`, and the child leaves without answering.
fn die() -> ! {
    if IN_SHIM.load(Ordering::Relaxed) {
        let parent = std::os::unix::process::parent_id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-9", &parent])
            .status();
        std::process::exit(137);
    }
    std::process::abort()
}
