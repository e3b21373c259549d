//! `macllm modules list | show NAME`: the modules shipped with macllm.

use super::Context;
use crate::cli::ModulesCommand;
use crate::spec::modules::{SHIPPED, description};
use anyhow::{Result, bail};

pub fn run(context: &Context, command: ModulesCommand) -> Result<i32> {
    match command {
        ModulesCommand::List if context.ui.json => {
            let modules: Vec<_> = SHIPPED
                .iter()
                .map(|(name, text)| {
                    serde_json::json!({ "name": name, "description": description(text) })
                })
                .collect();
            context.print_json(serde_json::json!({ "modules": modules }))?;
        }
        ModulesCommand::List => {
            let lines: String = SHIPPED
                .iter()
                .map(|(name, text)| format!("{name:<18} {}\n", description(text)))
                .collect();
            context.ui.data(&lines);
        }
        ModulesCommand::Show { name } => {
            let Some((_, text)) = SHIPPED.iter().find(|(n, _)| *n == name) else {
                bail!(
                    "unknown module `{name}`\nhint: `macllm modules list` shows the shipped ones"
                );
            };
            if context.ui.json {
                context.print_json(serde_json::json!({
                    "name": name,
                    "description": description(text),
                    "text": text,
                }))?;
            } else {
                context.ui.data(text);
            }
        }
    }
    Ok(0)
}
