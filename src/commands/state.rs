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
                    context.print_json(serde_json::json!({
                        "host": state.host,
                        "serial": state.serial,
                        "lineage": state.lineage,
                        "resources": state.resources.keys().collect::<Vec<_>>(),
                    }))?;
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
                if context.ui.json {
                    context.print_json(serde_json::json!({
                        "host": state.host,
                        "id": id,
                        "resource": serde_json::to_value(record)?,
                    }))?;
                } else {
                    context
                        .ui
                        .data(&(serde_json::to_string_pretty(record)? + "\n"));
                }
            }
            StateCommand::Rm { id } => {
                let lock = file.lock("macllm state rm")?;
                // Re-read under the lock: another writer may have saved since.
                state = file.load()?.unwrap_or(state);
                let removed = ResourceId(id.clone());
                if state.resources.remove(&removed).is_none() {
                    bail!("`{id}` is not in the state of {}", host.name());
                }
                state.forgotten.insert(removed);
                file.save(&mut state, &lock)?;
                if context.ui.json {
                    context.print_json(serde_json::json!({
                        "host": state.host,
                        "removed": id,
                    }))?;
                } else {
                    context.ui.data(&format!(
                        "Removed {id} from the state; the host was not changed.\n"
                    ));
                }
            }
        }
        Ok(0)
    })
}
