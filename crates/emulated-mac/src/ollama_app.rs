//! Ollama.app on the emulated Mac, as far as `open -a Ollama` and
//! `osascript -e 'quit app "Ollama"'` reach it (ollama/ollama v0.32.15 `app/`; the research
//! notes on `app/server/server.go`):
//!
//! - The app runs `ollama serve` from its bundle, logging to `~/.ollama/logs/server.log`. It
//!   is launched by LaunchServices into the user's GUI session, so its server inherits that
//!   session's `launchctl setenv` values (Ollama's FAQ: "Setting environment variables on
//!   Mac"). Here it is a job `application.com.electron.ollama` in `gui/<uid>`.
//! - Quitting is asynchronous: the app sends its server SIGINT and waits up to 5 s before
//!   killing it, and stays alive meanwhile (`server.go` `stop()`). The emulator counts
//!   requests instead of seconds: the dying server still answers [`QUIT_GRACE`] more, then
//!   is gone (UNCONFIRMED how many a real one answers; any number shows the race).
//! - `open -a Ollama` while that instance still runs activates it instead of starting a new
//!   one (LaunchServices reuses a running application), so the new environment is not read.
//! - With nobody logged in at the screen there is no GUI session to launch into: `open`
//!   fails (UNCONFIRMED text; LaunchServices' `kLSNoExecutableErr`-style failure).

use crate::launchd_db::{self, Domain, Exit, JobSpec};
use crate::machine::Machine;
use crate::output::Output;
use std::collections::BTreeMap;
use std::fs;

pub const APP: &str = "/Applications/Ollama.app";
pub const LABEL: &str = "application.com.electron.ollama";
const SERVER: &str = "/Applications/Ollama.app/Contents/Resources/ollama";
/// Requests the dying server still answers after a quit.
pub const QUIT_GRACE: u32 = 2;
/// How many answers the quitting server has left (a file in the emulated Mac).
const QUITTING: &str = "var/db/ollama-app-quitting";

fn installed(machine: &Machine) -> bool {
    machine.host_path(SERVER).is_some_and(|p| p.is_file())
}

fn job_running(machine: &Machine) -> bool {
    let uid = machine.info.user_uid;
    launchd_db::load(machine)
        .ok()
        .and_then(|db| db.job(Domain::Gui(uid), LABEL).and_then(|j| j.pid))
        .is_some()
}

/// `open -a Ollama` (also `open -a /Applications/Ollama.app`).
pub fn open(machine: &Machine, args: &[String]) -> Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let ["-a", app] = args.as_slice() else {
        return Output::failed(
            1,
            "open: only `open -a Ollama` is emulated on this Mac\n".to_string(),
        );
    };
    if !matches!(*app, "Ollama" | APP) || !installed(machine) {
        return Output::failed(1, format!("Unable to find application named '{app}'\n"));
    }
    if !machine.info.gui_session {
        return Output::failed(
            1,
            format!("LSOpenURLsWithRole() failed for the application {APP} with error -610.\n"),
        );
    }
    if job_running(machine) {
        // A running instance (even one quitting) is activated, not started again.
        return Output::ok("");
    }
    let home = machine.mac_home();
    if let Some(logs) = machine.host_path(&format!("{home}/.ollama/logs")) {
        let _ = fs::create_dir_all(logs);
    }
    let spec = JobSpec {
        label: LABEL.to_string(),
        program: None,
        arguments: vec![SERVER.to_string(), "serve".to_string()],
        environment: BTreeMap::new(),
        run_at_load: false,
        keep_alive: false,
        process_type: None,
        session_types: Vec::new(),
        working_directory: None,
        stdout_path: None,
        stderr_path: Some(format!("{home}/.ollama/logs/server.log")),
        disabled: false,
    };
    let domain = Domain::Gui(machine.info.user_uid);
    let Ok(mut db) = launchd_db::load(machine) else {
        return Output::failed(1, "open: launchd is not available\n".to_string());
    };
    db.load(domain, APP, spec);
    db.start(domain, LABEL, None);
    match launchd_db::save(machine, &db) {
        Ok(()) => Output::ok(""),
        Err(err) => Output::failed(1, format!("open: {err}\n")),
    }
}

/// `osascript -e 'quit app "Ollama"'`: the app starts quitting; its server goes after
/// [`QUIT_GRACE`] more answers.
pub fn osascript(machine: &Machine, args: &[String]) -> Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    if args != ["-e", "quit app \"Ollama\""] {
        return Output::failed(
            1,
            "osascript: only `osascript -e 'quit app \"Ollama\"'` is emulated on this Mac\n"
                .to_string(),
        );
    }
    if job_running(machine)
        && let Some(path) = machine.host_path(&format!("/{QUITTING}"))
    {
        let _ = fs::write(path, QUIT_GRACE.to_string());
    }
    Output::ok("")
}

/// Called before each request to the emulated Ollama: a quitting app's server answers its
/// last requests, then exits.
pub fn tick(machine: &Machine) {
    let Some(path) = machine.host_path(&format!("/{QUITTING}")) else {
        return;
    };
    let Ok(text) = fs::read_to_string(&path) else {
        return;
    };
    let left: u32 = text.trim().parse().unwrap_or(0);
    if left > 0 {
        let _ = fs::write(&path, (left - 1).to_string());
        return;
    }
    let _ = fs::remove_file(&path);
    if let Ok(mut db) = launchd_db::load(machine) {
        let domain = Domain::Gui(machine.info.user_uid);
        db.kill(domain, LABEL, Exit::Code(0));
        if let Some(state) = db.domains.get_mut(&domain.key()) {
            state.jobs.remove(LABEL);
        }
        let _ = launchd_db::save(machine, &db);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{args, mac};

    fn serving(machine: &Machine) -> bool {
        let request = crate::http::HttpRequest {
            method: "GET".into(),
            path: "/".into(),
            body: None,
        };
        crate::ollama::handle(machine, &request).is_ok()
    }

    /// The quitting app's server answers QUIT_GRACE more requests, then is gone; `open`
    /// meanwhile activates the dying instance instead of starting a new one.
    #[test]
    fn quitting_is_asynchronous_and_open_reuses_a_running_instance() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        crate::brew::run(&machine, &args(&["services", "stop", "ollama"]));
        let server = machine.host_path(SERVER).unwrap();
        fs::create_dir_all(server.parent().unwrap()).unwrap();
        fs::write(&server, "").unwrap();
        assert_eq!(open(&machine, &args(&["-a", "Ollama"])), Output::ok(""));
        assert!(serving(&machine));
        let quit = args(&["-e", "quit app \"Ollama\""]);
        assert_eq!(osascript(&machine, &quit), Output::ok(""));
        assert_eq!(open(&machine, &args(&["-a", "Ollama"])), Output::ok(""));
        for _ in 0..QUIT_GRACE {
            assert!(serving(&machine));
        }
        assert!(
            !serving(&machine),
            "the reopen landed on the dying instance"
        );
        assert_eq!(open(&machine, &args(&["-a", "Ollama"])), Output::ok(""));
        assert!(serving(&machine));
    }
}
