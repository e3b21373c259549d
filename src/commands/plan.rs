//! `macllm plan`: read the host, diff against the spec, show; optionally save the plan.

use super::Context;
use crate::cli::PlanArgs;
use crate::fleet::{Counts, Done};
use crate::plan::{self, Mode, Plan};
use crate::render;
use anyhow::{Context as _, Result};

pub fn run(context: &Context, args: PlanArgs) -> Result<i32> {
    let PlanArgs {
        out,
        detailed_exitcode,
        refresh_only,
    } = args;
    if out.is_some() && context.host_names()?.len() > 1 {
        anyhow::bail!("a saved plan is for one host: run `plan --out` with a single --host");
    }
    let mode = if refresh_only {
        Mode::RefreshOnly
    } else {
        Mode::Normal
    };
    context.for_each_host(|host, file| {
        // A refresh-only plan compares the host with the state, as `drift` does: no spec.
        let spec = match mode {
            Mode::RefreshOnly => None,
            _ => Some(context.spec_for(host)?),
        };
        let state = file.load()?;
        let plan = plan::plan(spec.as_ref(), state.as_ref(), host, mode)?;
        show(context, &plan)?;
        if let Some(path) = &out {
            if plan.changes.iter().any(|c| c.sensitive) {
                anyhow::bail!(
                    "this plan holds values from secret(), which a plan file would keep in clear; apply from the spec instead"
                );
            }
            let json = serde_json::to_string_pretty(&plan)? + "\n";
            std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
            if !context.ui.json && !context.ui.quiet {
                // The command as it works: a plan made for another host applies only there.
                let host_flag = match host.name() {
                    "local" => String::new(),
                    name => format!("--host {name} "),
                };
                context.ui.data(&format!(
                    "\nSaved the plan to: {}\n\nTo perform exactly these actions, run the following command to apply:\n    macllm {host_flag}apply {}\n",
                    path.display(),
                    path.display()
                ));
            }
        }
        let (pending, counts) = match mode {
            Mode::RefreshOnly => (!plan.drift.is_empty(), Counts::Drifted(plan.drift.len())),
            _ => {
                let summary = plan.summary();
                let counts = Counts::Planned {
                    import: summary.import,
                    add: summary.add,
                    change: summary.change,
                    destroy: summary.destroy,
                };
                (plan.has_changes(), counts)
            }
        };
        Ok(Done::counted(
            if detailed_exitcode && pending { 2 } else { 0 },
            counts,
        ))
    })
}

pub fn show(context: &Context, plan: &Plan) -> Result<()> {
    // With `--json` the error is the one document, the warnings in it.
    if context.ui.json {
        require_fit(context, plan)?;
    }
    show_only(context, plan)?;
    require_fit(context, plan)
}

/// `--strict`: models over the Mac's GPU budget stop the command.
pub fn require_fit(context: &Context, plan: &Plan) -> Result<()> {
    if context.global.strict && !plan.over_budget.is_empty() {
        return Err(OverBudget {
            warnings: plan.over_budget.clone(),
        }
        .into());
    }
    Ok(())
}

/// `--strict` and models that will not fit: the warnings that say so.
#[derive(Debug)]
pub struct OverBudget {
    pub warnings: Vec<String>,
}

impl OverBudget {
    /// What went wrong, without pointing at the warnings (JSON carries them beside it).
    pub fn summary(&self) -> String {
        format!(
            "--strict: {} model(s) would not fit in this Mac's GPU memory",
            self.warnings.len()
        )
    }
}

impl std::fmt::Display for OverBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (see the warnings above)", self.summary())
    }
}

impl std::error::Error for OverBudget {}

/// What apply shows before it asks or goes ahead: the plan, but with `-q --yes` only its
/// warnings (the closing line says what was done), and with `-q` and a prompt the whole plan
/// (nobody approves what they were not shown).
pub fn show_before_apply(context: &Context, plan: &Plan, yes: bool) -> Result<()> {
    if !context.ui.quiet || context.ui.json || !plan.has_changes() {
        return show(context, plan);
    }
    if yes {
        context.ui.data(&render::warnings(&context.ui, plan));
    } else {
        let ui = crate::output::Ui {
            quiet: false,
            ..context.ui
        };
        ui.data(&render::plan(&ui, plan));
    }
    require_fit(context, plan)
}

fn show_only(context: &Context, plan: &Plan) -> Result<()> {
    if context.ui.json {
        let mut value = serde_json::to_value(plan)?;
        value["summary"] = serde_json::to_value(plan.summary())?;
        context
            .ui
            .data(&(serde_json::to_string_pretty(&value)? + "\n"));
    } else {
        context.ui.data(&render::plan(&context.ui, plan));
    }
    Ok(())
}
