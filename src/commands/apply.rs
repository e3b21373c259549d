//! `macllm apply [PLANFILE]` and `macllm destroy`: plan (or load a saved plan), show, ask,
//! apply under the state lock.

use super::Context;
use crate::apply::Applier;
use crate::cli::{ApplyArgs, DestroyArgs};
use crate::fleet::{Counts, Done};
use crate::host::Host;
use crate::plan::{self, Mode, Plan};
use crate::state::{State, StateFile};
use anyhow::{Context as _, Result, bail};
use std::path::Path;

pub fn run(context: &Context, args: ApplyArgs) -> Result<i32> {
    let ApplyArgs {
        planfile,
        yes,
        no_restart,
    } = args;
    if let Some(planfile) = planfile {
        return apply_saved(context, &planfile, !no_restart);
    }
    context.for_each_host(|host, file| {
        let spec = context.spec_for(host)?;
        let lock = file.lock("macllm apply")?;
        let mut state = match file.load()? {
            Some(state) => state,
            None => file.new_state(host)?,
        };
        let plan = plan::plan(Some(&spec), Some(&state), host, Mode::Normal)?;
        let run = Run {
            host,
            file,
            lock: &lock,
            yes,
            restart: !no_restart,
        };
        run.confirm_and_execute(context, &plan, &mut state, &APPLY)
    })
}

pub fn destroy(context: &Context, args: DestroyArgs) -> Result<i32> {
    let DestroyArgs { yes, no_restart } = args;
    context.for_each_host(|host, file| {
        let lock = file.lock("macllm destroy")?;
        let Some(mut state) = file.load()? else {
            context.ui.summary(&format!(
                "\nNo changes. {} has no state at {}: macllm manages nothing there.\n",
                host.name(),
                file.path.display()
            ));
            return Ok(Done::counted(0, Counts::NOTHING_APPLIED));
        };
        let plan = plan::plan(None, Some(&state), host, Mode::Destroy)?;
        let run = Run {
            host,
            file,
            lock: &lock,
            yes,
            restart: !no_restart,
        };
        run.confirm_and_execute(context, &plan, &mut state, &DESTROY)
    })
}

/// What apply and destroy say when they ask, and in their summary.
struct Wording {
    verb: &'static str,
    question: &'static str,
    detail: &'static str,
}

const APPLY: Wording = Wording {
    verb: "Apply",
    question: "Do you want to perform these actions?",
    detail: "macllm will perform the actions described above.",
};

const DESTROY: Wording = Wording {
    verb: "Destroy",
    question: "Do you really want to destroy all resources?",
    detail: "macllm will put every managed setting back as it was. There is no undo.",
};

/// One host's apply or destroy, under its state lock.
struct Run<'a> {
    host: &'a dyn Host,
    file: &'a StateFile,
    lock: &'a crate::state::StateLock,
    yes: bool,
    restart: bool,
}

impl Run<'_> {
    /// Shows the plan, stops on `--strict` misfits and missing root, asks (unless `--yes`),
    /// then applies.
    fn confirm_and_execute(
        &self,
        context: &Context,
        plan: &Plan,
        state: &mut State,
        wording: &Wording,
    ) -> Result<Done> {
        if !context.ui.json || !plan.has_changes() {
            super::plan::show_before_apply(context, plan, self.yes)?;
        }
        super::plan::require_fit(context, plan)?;
        if !plan.has_changes() {
            return Ok(Done::counted(0, Counts::NOTHING_APPLIED));
        }
        require_root(self.host, plan)?;
        if !self.yes && !super::confirm(&context.ui, wording.question, wording.detail)? {
            bail!("{} cancelled.", wording.verb);
        }
        execute(
            context,
            self.host,
            self.file,
            self.lock,
            plan,
            state,
            self.restart,
            wording.verb,
        )
    }
}

fn apply_saved(context: &Context, planfile: &Path, restart: bool) -> Result<i32> {
    let text = std::fs::read_to_string(planfile)
        .with_context(|| format!("reading saved plan {}", planfile.display()))?;
    let plan: Plan = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a plan saved by `macllm plan --out`",
            planfile.display()
        )
    })?;
    if plan.format_version != plan::PLAN_FORMAT_VERSION {
        bail!(
            "{} has plan format {}, this macllm writes {}",
            planfile.display(),
            plan.format_version,
            plan::PLAN_FORMAT_VERSION
        );
    }
    check_saved(planfile, &plan)?;
    context.for_each_host(|host, file| {
        if plan.host != host.name() {
            bail!(
                "the saved plan is for `{}`, not `{}`\nhint: pass `--host {}`",
                plan.host,
                host.name(),
                plan.host
            );
        }
        let lock = file.lock("macllm apply")?;
        let state = file.load()?;
        let now = state.as_ref().map(State::reference);
        if now != plan.state {
            let describe = |r: &Option<crate::state::StateRef>| match r {
                Some(r) => format!("lineage {} serial {}", r.lineage, r.serial),
                None => "no state".to_string(),
            };
            bail!(
                "Saved plan is stale: the state changed since the plan was made (plan: {}, now: {})\nhint: run `macllm plan --out` again",
                describe(&plan.state),
                describe(&now)
            );
        }
        let target = crate::target::Target::new(host).ollama_at(ollama_addresses(&plan, state.as_ref()));
        for change in &plan.changes {
            let found = change.resource.as_resource().read(&target)?;
            if found != change.before {
                bail!(
                    "Saved plan is stale: {} changed on the host since the plan was made\nhint: run `macllm plan --out` again",
                    change.id
                );
            }
        }
        let mut state = match state {
            Some(state) => state,
            None => file.new_state(host)?,
        };
        require_root(host, &plan)?;
        execute(context, host, file, &lock, &plan, &mut state, restart, "Apply")
    })
}

/// Where Ollama may listen during this apply: where the plan moves it (after the restart),
/// then where the state says the last apply left it (before).
fn ollama_addresses(plan: &Plan, state: Option<&State>) -> Vec<String> {
    plan::ollama_addresses(
        plan.changes
            .iter()
            .filter(|c| c.action != plan::Action::Restore)
            .map(|c| &c.resource)
            .chain(
                state
                    .into_iter()
                    .flat_map(|s| s.resources.values().map(|r| &r.resource)),
            ),
    )
}

/// Every resource of a saved plan passes the checks a spec's resources pass (a hand-edited
/// domain with `..` is refused here as it is in a spec), its id is the one its resource has,
/// and the values it would write are ones macOS and the state can hold.
fn check_saved(planfile: &Path, plan: &Plan) -> Result<()> {
    use crate::spec::checks;
    use crate::spec::locate::{Segment, display_path};
    for (index, change) in plan.changes.iter().enumerate() {
        let mut problem = checks::resource(&change.resource).err().map(|p| {
            let mut field = vec![Segment::Key("resource".into())];
            field.extend(p.field);
            (field, p.message)
        });
        let id = change.resource.as_resource().id();
        if problem.is_none() && id != change.id {
            problem = Some((
                vec![Segment::Key("id".into())],
                format!("the id `{}` is not the resource's own (`{id}`)", change.id),
            ));
        }
        for (name, value) in [("before", &change.before), ("after", &change.after)] {
            if problem.is_some() {
                break;
            }
            if let Some(value) = value {
                problem = checks::value(value, &[Segment::Key(name.into())])
                    .err()
                    .map(|p| (p.field, p.message));
            }
        }
        if let Some((field, message)) = problem {
            let mut path = vec![Segment::Key("changes".into()), Segment::Index(index)];
            path.extend(field);
            bail!(
                "saved plan {} is refused before anything runs: {} (`{}`): {message}\n\
                 hint: a saved plan is checked as a spec is; make a new one with `macllm plan --out`",
                planfile.display(),
                display_path(&path),
                change.id
            );
        }
    }
    Ok(())
}

/// Stops before anything changes when a change needs root and we are not root.
fn require_root(host: &dyn Host, plan: &Plan) -> Result<()> {
    let needing: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| c.needs_root && c.writes())
        .map(|c| format!("  {}", c.id))
        .collect();
    if needing.is_empty() {
        return Ok(());
    }
    if crate::target::Target::new(host).facts()?.root {
        return Ok(());
    }
    bail!(
        "these changes need root and nothing was changed:\n{}\nhint: run the same command with sudo",
        needing.join("\n")
    )
}

#[allow(clippy::too_many_arguments)]
fn execute(
    context: &Context,
    host: &dyn Host,
    file: &StateFile,
    lock: &crate::state::StateLock,
    plan: &Plan,
    state: &mut State,
    restart: bool,
    verb: &str,
) -> Result<Done> {
    // A wave's read-backs go ahead as one batch and are answered from here.
    let cached = crate::host::cached::Cached::batched_only(host);
    let applier = Applier {
        target: crate::target::Target::new(&cached)
            .with_root(plan.root)
            .with_facts(plan.facts.clone())
            .with_hook(&context.ui)
            .ollama_at(ollama_addresses(plan, Some(state))),
        file,
        lock,
        ui: &context.ui,
        restart,
    };
    let outcome = applier.apply(plan, state)?;
    let line = if plan.mode == Mode::Destroy {
        format!(
            "\n{verb} complete! Resources: {} destroyed.\n",
            outcome.destroyed
        )
    } else {
        // Terraform names imports only when there are some.
        let imported = match outcome.imported {
            0 => String::new(),
            n => format!("{n} imported, "),
        };
        format!(
            "\n{verb} complete! Resources: {imported}{} added, {} changed, {} destroyed.\n",
            outcome.added, outcome.changed, outcome.destroyed
        )
    };
    if context.ui.json {
        context.ui.data(
            &(serde_json::json!({
                "format_version": plan::PLAN_FORMAT_VERSION,
                "host": host.name(),
                "imported": outcome.imported,
                "added": outcome.added,
                "changed": outcome.changed,
                "destroyed": outcome.destroyed,
                // Fallible: a value JSON cannot hold is an error, not a panic.
                "plan": serde_json::to_value(plan)?,
            })
            .to_string()
                + "\n"),
        );
    } else {
        context.ui.summary(&line);
    }
    Ok(Done::counted(
        0,
        Counts::Applied {
            added: outcome.added,
            changed: outcome.changed,
            destroyed: outcome.destroyed,
        },
    ))
}
