//! `macllm state list | show ID | rm ID`.

use super::Context;
use crate::cli::StateCommand;
use crate::resources::ResourceId;
use anyhow::{Result, bail};

pub fn run(context: &Context, command: StateCommand) -> Result<i32> {
    context.for_each_host(|host, file| {
        let Some(mut state) = file.load()? else {
            bail!("no state for {} at {}", host.name(), file.path.display());
        };
        match &command {
            StateCommand::List => {
                if context.ui.json {
                    let value = serde_json::json!({
                        "format_version": crate::plan::PLAN_FORMAT_VERSION,
                        "host": state.host,
                        "serial": state.serial,
                        "lineage": state.lineage,
                        "resources": state.resources.keys().collect::<Vec<_>>(),
                    });
                    context
                        .ui
                        .data(&(serde_json::to_string_pretty(&value)? + "\n"));
                } else {
                    let ids: String = state.resources.keys().map(|id| format!("{id}\n")).collect();
                    context.ui.data(&ids);
                }
            }
            StateCommand::Show { id } => {
                let Some(record) = state.resources.get(&ResourceId(id.clone())) else {
                    bail!(
                        "`{id}` is not in the state of {}\nhint: `macllm state list` shows what is",
                        host.name()
                    );
                };
                context
                    .ui
                    .data(&(serde_json::to_string_pretty(record)? + "\n"));
            }
            StateCommand::Rm { id } => {
                let lock = file.lock("macllm state rm")?;
                // Re-read under the lock: another writer may have saved since.
                state = file.load()?.unwrap_or(state);
                if state.resources.remove(&ResourceId(id.clone())).is_none() {
                    bail!("`{id}` is not in the state of {}", host.name());
                }
                file.save(&mut state, &lock)?;
                context.ui.data(&format!(
                    "Removed {id} from the state; the host was not changed.\n"
                ));
            }
        }
        Ok(0)
    })
}
