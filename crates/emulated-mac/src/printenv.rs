//! Emulated `printenv NAME`: prints the variable's value and exits 0, or prints nothing and
//! exits 1 when it is not set (FreeBSD/macOS `printenv.c`). The emulated Mac's commands run
//! with an environment of their own (the caller's `LC_ALL=C` aside) that holds only what
//! `sudo` puts there: under sudo (`uid` 0 with `sudo_user` in machine.json) `SUDO_USER`,
//! `SUDO_UID` and `SUDO_GID` name the invoking user (sudo(8), "ENVIRONMENT": "SUDO_USER Set to
//! the login name of the user who invoked sudo"; nix-darwin and MDM scripts read it to find
//! the person behind a `sudo` run). Every other name is unset: a Mac whose shell exports
//! nothing for non-interactive commands.

use crate::machine::Machine;
use crate::output::Output;

/// The variables sudo set for the running command, in the order sudo adds them.
fn environment(machine: &Machine) -> Vec<(&'static str, String)> {
    let Some(user) = machine.info.sudo_user.as_ref() else {
        return Vec::new();
    };
    let Some(uid) = machine.account_uid(user) else {
        return Vec::new();
    };
    // The user's primary group is staff (20), root's wheel (0): see `id`.
    let gid = if uid == 0 { 0 } else { 20 };
    vec![
        ("SUDO_USER", user.clone()),
        ("SUDO_UID", uid.to_string()),
        ("SUDO_GID", gid.to_string()),
    ]
}

pub fn run(machine: &Machine, args: &[String]) -> Output {
    let environment = environment(machine);
    match args {
        [] => Output::ok(
            environment
                .iter()
                .map(|(name, value)| format!("{name}={value}\n"))
                .collect::<String>(),
        ),
        [name] => match environment.iter().find(|(n, _)| n == name) {
            Some((_, value)) => Output::ok(format!("{value}\n")),
            None => Output::failed(1, ""),
        },
        _ => Output::failed(1, "usage: printenv [name]\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::mac;

    #[test]
    fn an_unset_variable_prints_nothing_and_exits_1() {
        let (_dir, mac) = mac("m2-16gb-sonoma");
        assert_eq!(
            run(&mac, &["XDG_CONFIG_HOME".into()]),
            Output::failed(1, "")
        );
        assert_eq!(run(&mac, &["SUDO_USER".into()]), Output::failed(1, ""));
    }

    #[test]
    fn under_sudo_the_invoking_user_is_in_the_environment() {
        let (_dir, mac) = mac("m2-16gb-sonoma");
        let sudo = mac.running_as(0, Some("admin".into()));
        assert_eq!(run(&sudo, &["SUDO_USER".into()]), Output::ok("admin\n"));
        assert_eq!(run(&sudo, &["SUDO_UID".into()]), Output::ok("501\n"));
        assert_eq!(
            run(&sudo, &[]),
            Output::ok("SUDO_USER=admin\nSUDO_UID=501\nSUDO_GID=20\n")
        );
        // Root logged in as root: no sudo, no SUDO_USER.
        let root = mac.running_as(0, None);
        assert_eq!(run(&root, &["SUDO_USER".into()]), Output::failed(1, ""));
    }
}
