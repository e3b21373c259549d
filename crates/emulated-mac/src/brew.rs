//! Emulated `brew`, as far as a tool that manages Ollama calls it: `brew --version` and
//! `brew services start|stop|restart|list` for the `ollama` formula the presets install
//! (Homebrew/brew 6.0.18: `Library/Homebrew/cmd/--version.sh`, `services/cli.rb`,
//! `services/subcommand/*.rb`, `service.rb`; Homebrew/homebrew-core `Formula/o/ollama.rb`
//! `service do`).
//!
//! - `--version`: `Homebrew <version>` and nothing else on an API install (the core tap is
//!   not cloned); users' pasted outputs show `Homebrew 6.0.20`, `Homebrew 6.0.22`.
//! - `services start`: writes the service plist (the formula's, with the user's env file
//!   merged in: below) to `~/Library/LaunchAgents/homebrew.mxcl.ollama.plist`, mode 0644,
//!   then `launchctl enable` and `launchctl bootstrap` into `gui/<uid>` (`user/<uid>` on a
//!   Mac with no GUI login); `==> Successfully started `ollama` (label: ...)` on stdout.
//!   Already loaded: `Service `ollama` already started, use `brew services restart ollama`
//!   to restart.` and exit 0 (cli.rb 132).
//! - `services stop`: `launchctl bootout`, then the plist is deleted (cli.rb 174-254);
//!   `Stopping `ollama`... (might take a while)` and `==> Successfully stopped ...`. Not
//!   loaded: `Warning: Service `ollama` is not started.` on stderr, exit 0.
//! - `services restart`: stop when loaded, then start (`subcommand/restart.rb`).
//! - From Homebrew 6.0.15 (PR #23312, commit 9a239b2, `service.rb`
//!   `effective_environment_variables`), `$HOMEBREW_USER_CONFIG_HOME/services/ollama.env`
//!   (`~/.homebrew` unless `XDG_CONFIG_HOME` is set: `bin/brew` 161-171; the emulated Mac's
//!   processes have no such variable) is merged over the formula's variables at every start:
//!   `KEY=value` lines, stripped; blank and `#` lines skipped; split at the first `=`; no
//!   quote handling; a later key wins; a line without `=` or with an empty key warns
//!   `Skipping invalid line in <path>: <line>`; a group- or world-writable file is skipped
//!   whole with a warning; root services ignore it.
//! - Root (`sudo brew services`) manages system daemons in `/Library/LaunchDaemons`: not
//!   emulated, refused with a message saying so.

use crate::launchctl;
use crate::machine::Machine;
use crate::ollama::homebrew::{LABEL, service_plist};
use crate::output::Output;
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;

pub use crate::presets::HOMEBREW_VERSION as DEFAULT_VERSION;

/// The first Homebrew that reads `services/<formula>.env`.
const ENV_FILE_SINCE: (u32, u32, u32) = (6, 0, 15);

pub fn run(machine: &Machine, args: &[String]) -> Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["--version"] => Output::ok(format!("Homebrew {}\n", version(machine))),
        ["services", "list"] => list(machine),
        ["services", verb @ ("start" | "stop" | "restart"), formula] => {
            if machine.is_root() {
                return Output::failed(
                    1,
                    "Error: root services (/Library/LaunchDaemons) are not emulated on this Mac\n",
                );
            }
            if *formula != "ollama" || !installed(machine) {
                return Output::failed(
                    1,
                    format!("Error: Formula `{formula}` is not installed.\n"),
                );
            }
            match *verb {
                "start" => start(machine),
                "stop" => stop(machine),
                _ => restart(machine),
            }
        }
        _ => Output::failed(
            1,
            format!(
                "Error: `brew {}` is not emulated (only --version and services start|stop|restart|list ollama)\n",
                args.join(" ")
            ),
        ),
    }
}

fn version(machine: &Machine) -> &str {
    match machine.info.homebrew_version.as_str() {
        "" => DEFAULT_VERSION,
        set => set,
    }
}

fn reads_env_file(machine: &Machine) -> bool {
    let parts: Vec<u32> = version(machine)
        .split(['.', '-'])
        .take(3)
        .map(|p| p.parse().unwrap_or(0))
        .collect();
    match parts.as_slice() {
        [a, b, c] => (*a, *b, *c) >= ENV_FILE_SINCE,
        _ => false,
    }
}

fn installed(machine: &Machine) -> bool {
    machine
        .host_path("/opt/homebrew/opt/ollama")
        .is_some_and(|p| p.exists())
}

/// `gui/<uid>`, or `user/<uid>` where nobody is logged in at the screen.
fn domain(machine: &Machine) -> String {
    let uid = machine.info.user_uid;
    if machine.info.gui_session {
        format!("gui/{uid}")
    } else {
        format!("user/{uid}")
    }
}

fn agent_path(machine: &Machine) -> String {
    format!("{}/Library/LaunchAgents/{LABEL}.plist", machine.mac_home())
}

fn env_file(machine: &Machine) -> String {
    format!("{}/.homebrew/services/ollama.env", machine.mac_home())
}

fn loaded(machine: &Machine) -> bool {
    launchctl::is_loaded(machine, &domain(machine), LABEL)
}

fn launchctl(machine: &Machine, argv: &[&str]) -> Output {
    let args: Vec<String> = argv.iter().map(|a| a.to_string()).collect();
    launchctl::run(machine, &args)
}

/// The user's overrides and the warnings reading them gives (`effective_environment_variables`).
fn env_overrides(machine: &Machine) -> (BTreeMap<String, String>, String) {
    let mut warnings = String::new();
    let mut vars = BTreeMap::new();
    let path = env_file(machine);
    let Some(host) = machine.host_path(&path) else {
        return (vars, warnings);
    };
    let Ok(metadata) = fs::metadata(&host) else {
        return (vars, warnings);
    };
    if !metadata.is_file() {
        return (vars, warnings);
    }
    let mode = metadata.permissions().mode();
    if mode & 0o002 != 0 {
        warnings.push_str(&format!(
            "Warning: Skipping {path}: file is world-writable.\n"
        ));
        return (vars, warnings);
    }
    if mode & 0o020 != 0 {
        warnings.push_str(&format!(
            "Warning: Skipping {path}: file is group-writable.\n"
        ));
        return (vars, warnings);
    }
    let text = fs::read_to_string(&host).unwrap_or_default();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                vars.insert(key.trim().to_string(), value.trim().to_string());
            }
            _ => warnings.push_str(&format!(
                "Warning: Skipping invalid line in {path}: {line}\n"
            )),
        }
    }
    (vars, warnings)
}

fn start(machine: &Machine) -> Output {
    if loaded(machine) {
        return Output::ok(
            "Service `ollama` already started, use `brew services restart ollama` to restart.\n",
        );
    }
    let mut plist = service_plist();
    let mut stderr = String::new();
    if reads_env_file(machine) {
        let (overrides, warnings) = env_overrides(machine);
        stderr.push_str(&warnings);
        if let Some(plist::Value::Dictionary(env)) = plist.get_mut("EnvironmentVariables") {
            for (key, value) in overrides {
                env.insert(key, plist::Value::String(value));
            }
        }
    }
    let path = agent_path(machine);
    let mut bytes = Vec::new();
    if plist::Value::Dictionary(plist)
        .to_writer_xml(&mut bytes)
        .is_err()
    {
        return Output::failed(1, "Error: cannot render the service plist\n");
    }
    bytes.push(b'\n');
    let written = machine.host_path(&path).map(|host| {
        let _ = fs::remove_file(&host);
        fs::write(&host, &bytes)
            .and_then(|_| fs::set_permissions(&host, fs::Permissions::from_mode(0o644)))
    });
    if !matches!(written, Some(Ok(()))) {
        return Output::failed(1, format!("{stderr}Error: cannot write {path}\n"));
    }
    let domain = domain(machine);
    let service = format!("{domain}/{LABEL}");
    for argv in [
        vec!["enable", service.as_str()],
        vec!["bootstrap", domain.as_str(), path.as_str()],
    ] {
        let out = launchctl(machine, &argv);
        if !out.success() {
            return Output {
                status: 1,
                stdout: String::new(),
                stderr: format!(
                    "{stderr}{}Error: Failure while executing; `/bin/launchctl {}` exited with {}.\n",
                    out.stderr,
                    argv.join(" "),
                    out.status
                ),
            };
        }
    }
    Output {
        status: 0,
        stdout: format!("==> Successfully started `ollama` (label: {LABEL})\n"),
        stderr,
    }
}

fn stop(machine: &Machine) -> Output {
    if !loaded(machine) {
        return Output {
            status: 0,
            stdout: String::new(),
            stderr: "Warning: Service `ollama` is not started.\n".into(),
        };
    }
    launchctl(
        machine,
        &["bootout", &format!("{}/{LABEL}", domain(machine))],
    );
    if let Some(host) = machine.host_path(&agent_path(machine)) {
        let _ = fs::remove_file(host);
    }
    Output::ok(format!(
        "Stopping `ollama`... (might take a while)\n==> Successfully stopped `ollama` (label: {LABEL})\n"
    ))
}

fn restart(machine: &Machine) -> Output {
    let stopped = if loaded(machine) {
        stop(machine)
    } else {
        Output::ok("")
    };
    let started = start(machine);
    Output {
        status: started.status,
        stdout: stopped.stdout + &started.stdout,
        stderr: stopped.stderr + &started.stderr,
    }
}

/// `brew services list` without a terminal: the status cell pads to 15 while the header pads
/// to 6, so the columns do not line up (`subcommand/list.rb`; derived from the code).
fn list(machine: &Machine) -> Output {
    if !installed(machine) {
        return Output::ok("");
    }
    let (status, user, file) = if loaded(machine) {
        (
            "started",
            machine.info.user.as_str(),
            format!("~/Library/LaunchAgents/{LABEL}.plist"),
        )
    } else {
        ("none", "", String::new())
    };
    let user_width = user.len().max(4);
    Output::ok(format!(
        "{:<6} {:<6} {:<user_width$} File\n{:<6} {status:<15} {user:<user_width$} {file}\n",
        "Name", "Status", "User", "ollama"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{args, mac};

    fn brew(machine: &Machine, list: &[&str]) -> Output {
        run(machine, &args(list))
    }

    #[test]
    fn version_is_one_line() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        assert_eq!(
            brew(&machine, &["--version"]),
            Output::ok("Homebrew 6.0.18\n")
        );
    }

    fn service_env(machine: &Machine) -> BTreeMap<String, String> {
        launchctl::process_environment(machine, "gui/501", LABEL).unwrap()
    }

    #[test]
    fn restart_merges_the_env_file_over_the_formulas_variables() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        let file = machine.host_path(&env_file(&machine)).unwrap();
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(
            &file,
            "# macllm\nOLLAMA_NUM_PARALLEL = 2\nOLLAMA_KV_CACHE_TYPE=f16\nbroken\nOLLAMA_ORIGINS=\"*\"\n",
        )
        .unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
        let out = brew(&machine, &["services", "restart", "ollama"]);
        assert_eq!(
            out,
            Output {
                status: 0,
                stdout: "Stopping `ollama`... (might take a while)\n==> Successfully stopped `ollama` (label: homebrew.mxcl.ollama)\n==> Successfully started `ollama` (label: homebrew.mxcl.ollama)\n".into(),
                stderr: "Warning: Skipping invalid line in /Users/admin/.homebrew/services/ollama.env: broken\n".into(),
            }
        );
        let env = service_env(&machine);
        assert_eq!(env["OLLAMA_NUM_PARALLEL"], "2");
        assert_eq!(env["OLLAMA_KV_CACHE_TYPE"], "f16");
        assert_eq!(env["OLLAMA_FLASH_ATTENTION"], "1");
        // No quote handling: the quotes stay (Ollama's `Var` strips them again).
        assert_eq!(env["OLLAMA_ORIGINS"], "\"*\"");
    }

    #[test]
    fn a_group_writable_env_file_is_skipped_and_old_homebrew_ignores_it() {
        let (_dir, mut machine) = mac("m2-16gb-sonoma");
        let file = machine.host_path(&env_file(&machine)).unwrap();
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(&file, "OLLAMA_NUM_PARALLEL=2\n").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o664)).unwrap();
        let out = brew(&machine, &["services", "restart", "ollama"]);
        assert_eq!(
            out.stderr,
            "Warning: Skipping /Users/admin/.homebrew/services/ollama.env: file is group-writable.\n"
        );
        assert!(!service_env(&machine).contains_key("OLLAMA_NUM_PARALLEL"));
        fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
        machine.info.homebrew_version = "6.0.14".into();
        let out = brew(&machine, &["services", "restart", "ollama"]);
        assert_eq!(out.stderr, "");
        assert!(!service_env(&machine).contains_key("OLLAMA_NUM_PARALLEL"));
    }

    #[test]
    fn stop_removes_the_plist_and_a_second_stop_warns() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        let out = brew(&machine, &["services", "stop", "ollama"]);
        assert_eq!(out.status, 0);
        assert!(!machine.host_path(&agent_path(&machine)).unwrap().exists());
        assert!(!loaded(&machine));
        assert_eq!(
            brew(&machine, &["services", "stop", "ollama"]),
            Output {
                status: 0,
                stdout: String::new(),
                stderr: "Warning: Service `ollama` is not started.\n".into(),
            }
        );
        assert_eq!(
            brew(&machine, &["services", "list"]).stdout,
            "Name   Status User File\nollama none                 \n"
        );
        assert_eq!(
            brew(&machine, &["services", "start", "ollama"]).stdout,
            "==> Successfully started `ollama` (label: homebrew.mxcl.ollama)\n"
        );
        assert_eq!(
            brew(&machine, &["services", "start", "ollama"]).stdout,
            "Service `ollama` already started, use `brew services restart ollama` to restart.\n"
        );
    }
}
