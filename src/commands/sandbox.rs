//! `macllm sandbox init | run | presets`: create and use emulated Macs.

use super::Context;
use crate::cli::SandboxCommand;
use anyhow::{Result, bail};
use emulated_mac::{machine::Machine, presets};
use std::io::Read;

pub fn run(context: &Context, command: SandboxCommand) -> Result<i32> {
    match command {
        SandboxCommand::Init { dir, preset } => {
            let Some(found) = presets::find(&preset) else {
                let names: Vec<&str> = presets::PRESETS.iter().map(|p| p.name).collect();
                bail!(
                    "unknown preset `{preset}`; choose one of: {}",
                    names.join(", ")
                );
            };
            Machine::create(&dir, found)?;
            if context.ui.json {
                context.print_json(serde_json::json!({
                    "dir": dir,
                    "preset": found.name,
                    "summary": found.summary,
                }))?;
                return Ok(0);
            }
            context.ui.data(&format!(
                "Created an emulated Mac in {}: {}\nUse it with `--host sandbox:{}`.\n",
                dir.display(),
                found.summary,
                dir.display()
            ));
            Ok(0)
        }
        SandboxCommand::Run { dir, argv } => {
            let machine = crate::sandbox::open_machine(&dir)?;
            let mut stdin = Vec::new();
            if emulated_mac::reads_stdin(&argv) {
                std::io::stdin().read_to_end(&mut stdin)?;
            }
            let output = emulated_mac::run(&machine, &argv, &stdin)?;
            print!("{}", output.stdout);
            eprint!("{}", output.stderr);
            Ok(output.status)
        }
        SandboxCommand::Serve { dir, port } => {
            crate::sandbox::open_machine(&dir)?;
            let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
            let address = listener.local_addr()?;
            context.ui.data(&format!(
                "Emulated Ollama of {} listening on http://{address}\nUse it with OLLAMA_HOST={address}\n",
                dir.display()
            ));
            emulated_mac::ollama::http_server::serve(&dir, listener)?;
            Ok(0)
        }
        SandboxCommand::Reboot { dir } => {
            let machine = crate::sandbox::open_machine(&dir)?;
            emulated_mac::launchctl::reboot(&machine)?;
            context
                .ui
                .data(&format!("Rebooted the emulated Mac in {}\n", dir.display()));
            Ok(0)
        }
        SandboxCommand::Presets if context.ui.json => {
            let presets: Vec<_> = presets::PRESETS
                .iter()
                .map(|p| {
                    Ok(serde_json::json!({
                        "name": p.name,
                        "summary": p.summary,
                        "default": p.name == presets::DEFAULT_PRESET,
                        // What `macllm facts --json` reports on a fresh Mac of this preset.
                        "facts": serde_json::to_value(crate::sandbox::facts_of_preset(p))?,
                    }))
                })
                .collect::<Result<_>>()?;
            context.print_json(serde_json::json!({ "presets": presets }))?;
            Ok(0)
        }
        SandboxCommand::Presets => {
            let lines: String = presets::PRESETS
                .iter()
                .map(|p| {
                    let default = if p.name == presets::DEFAULT_PRESET {
                        " (default)"
                    } else {
                        ""
                    };
                    format!("{:<22} {}{default}\n", p.name, p.summary)
                })
                .collect();
            context.ui.data(&lines);
            Ok(0)
        }
    }
}
