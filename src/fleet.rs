//! Runs one piece of work on many hosts, as Ansible runs a play on an inventory:
//! `--parallelism` hosts at a time, each on its own thread with its output collected, then
//! printed host by host in the given order under a header, with a summary at the end (or
//! one JSON document holding each host's). One host failing does not stop the others.

use crate::output::{Captured, Ui};
use anyhow::Result;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One Mac of a run: the name it is shown under (its inventory name, or the `--host` as
/// given) and where to reach it.
#[derive(Clone, Debug, PartialEq)]
pub struct Named {
    pub name: String,
    pub host: String,
}

/// How one host's run ended: its exit code and, for the commands that change or compare
/// something, how much.
#[derive(Debug, PartialEq)]
pub struct Done {
    pub exit: i32,
    pub counts: Option<Counts>,
}

impl Done {
    pub fn counted(exit: i32, counts: Counts) -> Done {
        Done {
            exit,
            counts: Some(counts),
        }
    }
}

impl From<i32> for Done {
    fn from(exit: i32) -> Done {
        Done { exit, counts: None }
    }
}

/// What a host's plan, apply or drift found or did, for the fleet summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counts {
    Planned {
        import: usize,
        add: usize,
        change: usize,
        destroy: usize,
    },
    Applied {
        added: usize,
        changed: usize,
        destroyed: usize,
    },
    Drifted(usize),
}

impl Counts {
    /// An apply or destroy that had nothing to do.
    pub const NOTHING_APPLIED: Counts = Counts::Applied {
        added: 0,
        changed: 0,
        destroyed: 0,
    };

    /// `2 to add, 1 to change` (only what is not zero), or `no changes`.
    fn describe(self) -> String {
        let (parts, none) = match self {
            Counts::Planned {
                import,
                add,
                change,
                destroy,
            } => (
                vec![
                    (import, "to import"),
                    (add, "to add"),
                    (change, "to change"),
                    (destroy, "to destroy"),
                ],
                "no changes",
            ),
            Counts::Applied {
                added,
                changed,
                destroyed,
            } => (
                vec![
                    (added, "added"),
                    (changed, "changed"),
                    (destroyed, "destroyed"),
                ],
                "no changes",
            ),
            Counts::Drifted(rows) => (vec![(rows, "drifted")], "no drift"),
        };
        let said: Vec<String> = parts
            .into_iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}"))
            .collect();
        if said.is_empty() {
            none.to_string()
        } else {
            said.join(", ")
        }
    }

    /// The same numbers under the names the host's own JSON uses.
    fn to_json(self) -> serde_json::Value {
        match self {
            Counts::Planned {
                import,
                add,
                change,
                destroy,
            } => {
                let mut counts =
                    serde_json::json!({"add": add, "change": change, "destroy": destroy});
                // As the plan's own summary: `import` only when there is one.
                if import > 0 {
                    counts["import"] = import.into();
                }
                counts
            }
            Counts::Applied {
                added,
                changed,
                destroyed,
            } => serde_json::json!({"added": added, "changed": changed, "destroyed": destroyed}),
            Counts::Drifted(rows) => serde_json::json!({ "drifted": rows }),
        }
    }
}

/// One host's collected output and result, when several run at once.
type HostRun = (Captured, Result<Done>);

/// A host's run as its worker left it (a worker that panicked left nothing).
fn finished(slot: Mutex<Option<HostRun>>) -> HostRun {
    slot.into_inner().ok().flatten().unwrap_or_else(|| {
        (
            Captured::default(),
            Err(anyhow::anyhow!("the host's run ended early")),
        )
    })
}

/// Runs `run_one` for each host and returns the worst exit code (1 beats 2 beats 0).
/// A single host runs here, on this thread, with its output going straight out.
pub fn run(
    hosts: &[Named],
    parallelism: usize,
    ui: &Ui,
    run_one: impl Fn(&str) -> Result<Done> + Sync,
) -> Result<i32> {
    if let [host] = hosts {
        return run_one(&host.host).map(|done| done.exit);
    }
    // Several hosts: `--parallelism` at a time (Ansible's default of 5), each on its own
    // thread with its output collected, then printed host by host in the given order.
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<HostRun>>> = hosts.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..parallelism.clamp(1, hosts.len()) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let Some(host) = hosts.get(index) else { break };
                    crate::output::start_capture();
                    let result = run_one(&host.host);
                    if let Err(err) = &result {
                        crate::print_error(err);
                    }
                    let text = crate::output::take_capture();
                    if let Ok(mut slot) = results[index].lock() {
                        *slot = Some((text, result));
                    }
                }
            });
        }
    });
    if ui.json {
        return Ok(json_summary(ui, hosts, results));
    }
    let mut worst = 0;
    let mut summary = Vec::new();
    let (mut failed, mut changed) = (0, 0);
    for (host, slot) in hosts.iter().zip(results) {
        let (text, result) = finished(slot);
        let name = &host.name;
        ui.data(&format!("\n=== {name} ===\n"));
        crate::output::emit(&text.all, false);
        let outcome = match &result {
            Ok(done) => {
                if done.exit == 2 {
                    changed += 1;
                }
                let mut said = match (done.exit, done.counts) {
                    (0 | 2, Some(counts)) => format!("ok, {}", counts.describe()),
                    (0, None) => "ok".to_string(),
                    (2, None) => "ok, changes or drift".to_string(),
                    (code, _) => format!("exit {code}"),
                };
                if done.exit == 2 {
                    said.push_str(" (2)");
                }
                said
            }
            Err(err) => {
                failed += 1;
                format!(
                    "failed: {}",
                    err.to_string().lines().next().unwrap_or_default()
                )
            }
        };
        summary.push(format!("  {name}: {outcome}\n"));
        worst = worse(worst, result.as_ref().map_or(1, |done| done.exit));
    }
    ui.data(&format!(
        "\n=== summary ===\n{}{} hosts: {} ok, {} failed{}.\n",
        summary.concat(),
        hosts.len(),
        hosts.len() - failed,
        failed,
        if changed > 0 {
            format!(", {changed} with changes or drift")
        } else {
            String::new()
        }
    ));
    Ok(worst)
}

/// The exit code of a fleet so far after a host exited with `exit`: an error (1) beats
/// changes or drift (2), which beat nothing to do (0).
fn worse(worst: i32, exit: i32) -> i32 {
    if worst == 1 || exit == 1 {
        1
    } else {
        worst.max(exit)
    }
}

/// With `--json` and several hosts: one document holding each host's own document (or its
/// error), exit code and counts.
fn json_summary(ui: &Ui, hosts: &[Named], results: Vec<Mutex<Option<HostRun>>>) -> i32 {
    let mut worst = 0;
    let mut documents = Vec::new();
    for (host, slot) in hosts.iter().zip(results) {
        let (text, result) = finished(slot);
        let (exit, counts, error) = match &result {
            Ok(done) => (done.exit, done.counts.map(Counts::to_json), None),
            Err(err) => (1, None, Some(crate::diagnostic::error_text(err))),
        };
        worst = worse(worst, exit);
        let output = serde_json::from_str::<serde_json::Value>(text.data.trim())
            .unwrap_or(serde_json::Value::Null);
        documents.push(serde_json::json!({
            "name": host.name,
            "host": host.host,
            "exit_code": exit,
            "counts": counts,
            "error": error,
            "result": output,
        }));
    }
    let document = serde_json::json!({
        "format_version": crate::plan::PLAN_FORMAT_VERSION,
        "hosts": documents,
    });
    ui.data(&(serde_json::to_string_pretty(&document).unwrap_or_default() + "\n"));
    worst
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_say_what_is_not_zero() {
        let planned = Counts::Planned {
            import: 0,
            add: 2,
            change: 1,
            destroy: 0,
        };
        assert_eq!(planned.describe(), "2 to add, 1 to change");
        let applied = Counts::Applied {
            added: 0,
            changed: 0,
            destroyed: 0,
        };
        assert_eq!(applied.describe(), "no changes");
        assert_eq!(Counts::Drifted(0).describe(), "no drift");
        assert_eq!(Counts::Drifted(3).describe(), "3 drifted");
    }
}
