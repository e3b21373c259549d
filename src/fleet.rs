//! Runs one piece of work on many hosts, as Ansible runs a play on an inventory:
//! `--parallelism` hosts at a time, each on its own thread with its output collected, then
//! printed host by host in the given order under a header, with a summary at the end (or
//! one JSON document holding each host's). One host failing does not stop the others.

use crate::output::{Captured, Ui};
use anyhow::Result;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One host's collected output and result, when several run at once.
type HostRun = (Captured, Result<i32>);

/// A host's run as its worker left it (a worker that panicked left nothing).
fn finished(slot: Mutex<Option<HostRun>>) -> HostRun {
    slot.into_inner().ok().flatten().unwrap_or_else(|| {
        (
            Captured::default(),
            Err(anyhow::anyhow!("the host's run ended early")),
        )
    })
}

/// Runs `run_one` for each host name and returns the worst exit code (1 beats 2 beats 0).
/// A single host runs here, on this thread, with its output going straight out.
pub fn run(
    names: &[String],
    parallelism: usize,
    ui: &Ui,
    run_one: impl Fn(&str) -> Result<i32> + Sync,
) -> Result<i32> {
    if names.len() == 1 {
        return run_one(&names[0]);
    }
    // Several hosts: `--parallelism` at a time (Ansible's default of 5), each on its own
    // thread with its output collected, then printed host by host in the given order.
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<HostRun>>> = names.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..parallelism.clamp(1, names.len()) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let Some(name) = names.get(index) else { break };
                    crate::output::start_capture();
                    let result = run_one(name);
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
        return Ok(json_summary(ui, names, results));
    }
    let mut worst = 0;
    let mut summary = Vec::new();
    let (mut failed, mut changed) = (0, 0);
    for (name, slot) in names.iter().zip(results) {
        let (text, result) = finished(slot);
        ui.data(&format!("\n=== {name} ===\n"));
        crate::output::emit(&text.all, false);
        let outcome = match &result {
            Ok(0) => "ok".to_string(),
            Ok(2) => {
                changed += 1;
                "ok, changes or drift (2)".to_string()
            }
            Ok(code) => format!("exit {code}"),
            Err(err) => {
                failed += 1;
                format!(
                    "failed: {}",
                    err.to_string().lines().next().unwrap_or_default()
                )
            }
        };
        summary.push(format!("  {name}: {outcome}\n"));
        worst = match (worst, &result) {
            (_, Err(_)) | (1, _) => 1,
            (w, Ok(code)) => w.max(*code),
        };
    }
    ui.data(&format!(
        "\n=== summary ===\n{}{} hosts: {} ok, {} failed{}.\n",
        summary.concat(),
        names.len(),
        names.len() - failed,
        failed,
        if changed > 0 {
            format!(", {changed} with changes or drift")
        } else {
            String::new()
        }
    ));
    Ok(worst)
}

/// With `--json` and several hosts: one document holding each host's own document (or its
/// error) and exit code.
fn json_summary(ui: &Ui, names: &[String], results: Vec<Mutex<Option<HostRun>>>) -> i32 {
    let mut worst = 0;
    let mut hosts = Vec::new();
    for (name, slot) in names.iter().zip(results) {
        let (text, result) = finished(slot);
        let (exit, error) = match &result {
            Ok(code) => (*code, None),
            Err(err) => (1, Some(format!("{err:#}"))),
        };
        worst = if worst == 1 || exit == 1 {
            1
        } else {
            worst.max(exit)
        };
        let output = serde_json::from_str::<serde_json::Value>(text.data.trim())
            .unwrap_or(serde_json::Value::Null);
        hosts.push(serde_json::json!({
            "host": name,
            "exit_code": exit,
            "error": error,
            "result": output,
        }));
    }
    let document = serde_json::json!({
        "format_version": crate::plan::PLAN_FORMAT_VERSION,
        "hosts": hosts,
    });
    ui.data(&(serde_json::to_string_pretty(&document).unwrap_or_default() + "\n"));
    worst
}
