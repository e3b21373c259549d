//! `macllm secret set | rm`: the keyring entries `secret()` reads.

use super::Context;
use crate::cli::SecretCommand;
use anyhow::{Result, bail};
use std::io::{BufRead, IsTerminal, Write};

pub fn run(context: &Context, command: SecretCommand) -> Result<i32> {
    match command {
        SecretCommand::Set { name } => {
            let terminal = std::io::stdin().is_terminal();
            let mut line = String::new();
            if terminal {
                eprint!("Value for {name}: ");
                let _ = std::io::stderr().flush();
                // `stty -echo` on the terminal itself (argv, inherited stdin): the typed value
                // is not shown, and echo comes back even if reading fails.
                let stty = |flag: &str| {
                    std::process::Command::new("stty")
                        .arg(flag)
                        .stdin(std::process::Stdio::inherit())
                        .status()
                };
                let hidden = stty("-echo").is_ok_and(|s| s.success());
                let read = std::io::stdin().lock().read_line(&mut line);
                if hidden {
                    let _ = stty("echo");
                    eprintln!();
                }
                read?;
            } else {
                std::io::stdin().lock().read_line(&mut line)?;
            }
            let value = line.trim_end_matches(['\n', '\r']);
            if value.is_empty() {
                bail!("no value given for the secret `{name}`");
            }
            crate::secret::set(&name, value)?;
            context
                .ui
                .data(&format!("Stored the secret `{name}` in the keyring.\n"));
        }
        SecretCommand::Rm { name } => {
            crate::secret::remove(&name)?;
            context
                .ui
                .data(&format!("Removed the secret `{name}` from the keyring.\n"));
        }
    }
    Ok(0)
}
