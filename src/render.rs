//! The only formatter of plans and drift, after Terraform's text (reference/anchors.md 4):
//! `# id will be updated in place`, `+ ~ -` symbols, `Plan: N to add, N to change, N to
//! destroy.`, multi-line values as unified diffs (`similar`).

use crate::output::{Style, Ui};
use crate::plan::{Action, Change, Drift, Mode, Plan};
use crate::resources::Restart;
use crate::value::Value;
use similar::{ChangeTag, TextDiff};
use std::fmt::Write;

pub fn plan(ui: &Ui, plan: &Plan) -> String {
    if ui.quiet {
        return quiet_plan(ui, plan);
    }
    let mut out = String::new();
    if !plan.drift.is_empty() {
        out.push_str(&drift_section(ui, &plan.drift));
        if plan.mode == Mode::RefreshOnly {
            out.push_str("\nThis is a refresh-only plan, so macllm will not undo these changes.\n");
        } else {
            out.push_str(
                "\nUnless you have made equivalent changes to your spec, the following plan\nmay include actions to undo or respond to these changes.\n",
            );
            out.push_str(&format!("\n{}\n", "─".repeat(77)));
        }
    }
    if plan.mode == Mode::RefreshOnly {
        if plan.drift.is_empty() {
            out.push('\n');
            out.push_str(&closing_line(ui, plan));
        }
        return out;
    }
    if plan.changes.is_empty() {
        out.push('\n');
        out.push_str(&closing_line(ui, plan));
        out.push_str(&warnings(ui, plan));
        return out;
    }
    out.push_str("\nmacllm will perform the following actions on ");
    out.push_str(&plan.host);
    out.push_str(":\n");
    for change in &plan.changes {
        out.push('\n');
        out.push_str(&change_block(ui, change));
    }
    out.push('\n');
    out.push_str(&closing_line(ui, plan));
    let restarts = Plan::restarts(plan.changes.iter());
    if !restarts.is_empty() {
        let names: Vec<String> = restarts.iter().map(Restart::describe).collect();
        let _ = writeln!(out, "After the changes: {}.", names.join(", "));
    }
    out.push_str(&warnings(ui, plan));
    out
}

/// `-q`: the line that says what the plan would do, and the warnings (notices only about what
/// it changes, as always).
fn quiet_plan(ui: &Ui, plan: &Plan) -> String {
    closing_line(ui, plan) + &warnings(ui, plan)
}

/// `-q` for drift: how many resources changed outside of macllm.
pub fn drift_count(rows: usize) -> String {
    let resources = if rows == 1 { "resource" } else { "resources" };
    format!("Drift: {rows} {resources} changed outside of macllm since the last apply.\n")
}

/// What the plan comes to in one line: `Plan: N to add, N to change, N to destroy.`, `No
/// changes. ...`, or (refresh-only) the drift count.
fn closing_line(ui: &Ui, plan: &Plan) -> String {
    if plan.mode == Mode::RefreshOnly {
        return match plan.drift.len() {
            0 => format!(
                "No changes. {} still matches what the last apply left.\n",
                plan.host
            ),
            rows => drift_count(rows),
        };
    }
    if plan.changes.is_empty() {
        return match plan.mode {
            Mode::Destroy => "No changes. Nothing macllm manages is left to restore.\n",
            _ => "No changes. The host matches the spec.\n",
        }
        .to_string();
    }
    let summary = plan.summary();
    let imports = match summary.import {
        0 => String::new(),
        n => format!(" {n} to import,"),
    };
    format!(
        "{}{imports} {} to add, {} to change, {} to destroy.\n",
        ui.paint(Style::Bold, "Plan:"),
        summary.add,
        summary.change,
        summary.destroy
    )
}

/// The plan's warnings, but for the notices about what it does not change (see
/// `Plan::settled`), then the models that do not fit.
pub fn warnings(ui: &Ui, plan: &Plan) -> String {
    plan.warnings
        .iter()
        .filter(|w| !plan.settled.contains(w))
        .chain(&plan.over_budget)
        .map(|w| format!("{} {w}\n", ui.paint(Style::Change, "Warning:")))
        .collect()
}

pub fn drift_section(ui: &Ui, drift: &[Drift]) -> String {
    let mut out = String::from(
        "\nNote: Objects have changed outside of macllm\n\nmacllm detected the following changes made outside of macllm since the\nlast \"macllm apply\":\n",
    );
    for row in drift {
        let lines = if row.sensitive {
            format!(
                "  {} value = {}\n",
                ui.paint(Style::Change, "~"),
                crate::mask::MASK
            )
        } else {
            value_lines(ui, &row.applied, &row.found)
        };
        let _ = write!(
            out,
            "\n  # {} has changed\n{lines}",
            ui.paint(Style::Bold, &row.id.0),
        );
    }
    out
}

fn change_block(ui: &Ui, change: &Change) -> String {
    if change.known_after_apply {
        let mut out = format!(
            "  # {} will be created or updated once Ollama runs\n  {} value = (known after apply)\n",
            ui.paint(Style::Bold, &change.id.0),
            ui.paint(Style::Change, "~"),
        );
        for note in &change.notes {
            let _ = writeln!(out, "    # {note}");
        }
        return out;
    }
    let phrase = match change.action {
        Action::Create => "will be created",
        Action::Update => "will be updated in-place",
        Action::Delete => "will be deleted",
        Action::Restore if change.after.is_none() => {
            "will be deleted (it was absent before macllm)"
        }
        Action::Restore if !change.writes() => {
            "is already at its original value and will no longer be managed"
        }
        Action::Restore => "will be restored to its original value",
        Action::Import => "will be imported",
    };
    let mut out = format!("  # {} {phrase}\n", ui.paint(Style::Bold, &change.id.0));
    if change.sensitive && change.writes() {
        out.push_str(&format!(
            "  {} value = {}\n",
            ui.paint(Style::Change, "~"),
            crate::mask::MASK
        ));
    } else if change.writes() {
        out.push_str(&value_lines(ui, &change.before, &change.after));
    }
    if change.writes()
        && let Some(restart) = &change.restart
    {
        let _ = writeln!(out, "    # then: {}", restart.describe());
    }
    for note in &change.notes {
        let _ = writeln!(out, "    # {note}");
    }
    if change.needs_root {
        out.push_str("    # needs root (sudo)\n");
    }
    out
}

/// `~ value = 36 -> 64`, with types where they differ, or a unified diff for multi-line values.
fn value_lines(ui: &Ui, before: &Option<Value>, after: &Option<Value>) -> String {
    let multi_line = |v: &Option<Value>| v.as_ref().is_some_and(|v| v.pretty().contains('\n'));
    if multi_line(before) || multi_line(after) {
        return multi_line_diff(ui, before, after);
    }
    let types_differ =
        matches!((before, after), (Some(b), Some(a)) if b.type_name() != a.type_name());
    let show = |v: &Option<Value>| match v {
        None => "null".to_string(),
        Some(v) if types_differ => format!("{} ({})", v.inline(), v.type_name()),
        Some(v) => v.inline(),
    };
    match (before, after) {
        (None, Some(_)) => format!("  {} value = {}\n", ui.paint(Style::Add, "+"), show(after)),
        (Some(_), None) => format!(
            "  {} value = {} -> null\n",
            ui.paint(Style::Remove, "-"),
            show(before)
        ),
        _ => format!(
            "  {} value = {} -> {}\n",
            ui.paint(Style::Change, "~"),
            show(before),
            show(after)
        ),
    }
}

fn multi_line_diff(ui: &Ui, before: &Option<Value>, after: &Option<Value>) -> String {
    let text = |v: &Option<Value>| v.as_ref().map(|v| v.pretty() + "\n").unwrap_or_default();
    let (old, new) = (text(before), text(after));
    let types = match (before, after) {
        (Some(b), Some(a)) if b.type_name() != a.type_name() => {
            format!(" # {} -> {}", b.type_name(), a.type_name())
        }
        _ => String::new(),
    };
    let mut out = format!("  {} value = <<-EOT{types}\n", ui.paint(Style::Change, "~"));
    let diff = TextDiff::from_lines(&old, &new);
    for change in diff.iter_all_changes() {
        let line = change.value().trim_end_matches('\n');
        let _ = match change.tag() {
            ChangeTag::Equal => writeln!(out, "            {line}"),
            ChangeTag::Delete => writeln!(out, "          {} {line}", ui.paint(Style::Remove, "-")),
            ChangeTag::Insert => writeln!(out, "          {} {line}", ui.paint(Style::Add, "+")),
        };
    }
    out.push_str("        EOT\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::defaults::DefaultsKey;
    use crate::resources::{AnyResource, ResourceId};

    fn change(action: Action, before: Option<Value>, after: Option<Value>) -> Change {
        Change {
            id: ResourceId("defaults:d:k".into()),
            action,
            before,
            after: after.clone(),
            resource: AnyResource::Defaults(DefaultsKey {
                domain: "d".into(),
                key: "k".into(),
                current_host: false,
                value: after,
            }),
            depends_on: vec![],
            restart: Some(Restart::Kill("Dock".into())),
            needs_root: false,
            notes: vec![],
            sensitive: false,
            known_after_apply: false,
        }
    }

    #[test]
    fn type_changes_show_both_types() {
        let text = change_block(
            &Ui::plain(),
            &change(
                Action::Update,
                Some(Value::String("2".into())),
                Some(Value::Integer(2)),
            ),
        );
        assert_eq!(
            text,
            "  # defaults:d:k will be updated in-place\n  ~ value = \"2\" (string) -> 2 (integer)\n    # then: killall Dock\n"
        );
    }

    #[test]
    fn collections_show_as_unified_diffs() {
        let text = change_block(
            &Ui::plain(),
            &change(
                Action::Update,
                Some(Value::Array(vec![Value::Integer(1), Value::Integer(2)])),
                Some(Value::Array(vec![Value::Integer(1), Value::Integer(3)])),
            ),
        );
        assert!(
            text.contains("          -   2,\n          +   3,\n"),
            "{text}"
        );
    }
}
