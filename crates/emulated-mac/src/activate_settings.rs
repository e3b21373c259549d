//! Emulated `activateSettings`, the private tool at
//! `/System/Library/PrivateFrameworks/SystemAdministration.framework/Resources/activateSettings`
//! that dotfiles and nix-darwin configurations run as `activateSettings -u` after
//! `defaults write` "to avoid a logout/login cycle" (many public nix-darwin configurations;
//! nix-darwin issue #1475). Apple documents nothing about it; what public use shows:
//!
//! - It is run bare, without checking output or status, and nothing it prints is ever
//!   quoted: we emulate `-u` as silent, status 0.
//! - It applies settings for the session of the user running it. Since nix-darwin runs
//!   activation as root, users had to switch to `sudo -u USER .../activateSettings -u`
//!   (nix-darwin issue #1475); run as root, it does not reach the user's settings. The
//!   restart log records that case differently, so a test can tell the reload missed.
//! - Before macOS 14 it applies what was written: on Ventura 13.4 trackpad tap-to-click "can
//!   be activated immediately" with it (nix-darwin issue #658).
//! - From macOS 14 it runs and exits 0 but many settings still wait for a logout: on Sonoma
//!   "activateSettings executed but it doesn't take effect even though i run
//!   ./activateSettings -u mannually", and the maintainer confirmed "you need re-login for it
//!   to work" (ryan4yin/nix-darwin-kickstarter issue #4). Some settings do apply after it on
//!   later releases (nix-darwin #1475, 2025: "This worked for me"; #1207, 2026: trackpad
//!   tap-to-click), so which ones is UNCONFIRMED: the restart log records, with the version,
//!   that the reload was partial, and a test can tell it from a full one.
//!
//! UNCONFIRMED: its other options, output and exit codes. Anything but `-u` is refused with a
//! message saying so, rather than invented.

use super::machine::{Machine, RESTART_LOG};
use crate::output::Output;

pub fn run(machine: &Machine, args: &[String]) -> Output {
    if args != ["-u"] {
        return Output::failed(
            1,
            format!(
                "activateSettings: macllm's sandbox emulates only `activateSettings -u` \
                 (got `{}`); the private tool's other options are undocumented\n",
                args.join(" ")
            ),
        );
    }
    let version = &machine.info.product_version;
    let line = if machine.is_root() {
        "activateSettings -u (as root: reloads root's settings, not the user's)".to_string()
    } else if major(version) >= 14 {
        format!("activateSettings -u (macOS {version}: some settings wait for a logout)")
    } else {
        "activateSettings -u".to_string()
    };
    match machine.log(RESTART_LOG, &line) {
        Ok(()) => Output::ok(""),
        Err(err) => Output::failed(
            1,
            format!("activateSettings: the emulated Mac could not record the reload: {err:#}\n"),
        ),
    }
}

/// The major version of `14.5` (0 when unreadable).
fn major(version: &str) -> u32 {
    version
        .split('.')
        .next()
        .and_then(|major| major.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{args, mac, restarts};

    fn activate(machine: &Machine, list: &[&str]) -> Output {
        run(machine, &args(list))
    }

    /// Public nix-darwin configurations run `activateSettings -u` and ignore its output:
    /// silent, status 0, recorded in the restart log.
    #[test]
    fn u_reloads_and_is_logged() {
        let (_dir, machine) = mac("m1-8gb-monterey");
        assert_eq!(activate(&machine, &["-u"]), Output::ok(""));
        assert_eq!(restarts(&machine), "activateSettings -u\n");
    }

    /// ryan4yin/nix-darwin-kickstarter issue #4: from macOS 14 it runs, silent and with status
    /// 0, but the reload is partial; the log says so with the version. Before 14 (nix-darwin
    /// issue #658, Ventura) it is a full reload, logged bare as above.
    #[test]
    fn from_macos_14_the_reload_is_partial() {
        for (preset, version) in [
            ("m2-16gb-sonoma", "14.5"),
            ("m4pro-48gb-sequoia", "15.1"),
            ("m4max-64gb-sequoia", "15.5"),
        ] {
            let (_dir, machine) = mac(preset);
            assert_eq!(activate(&machine, &["-u"]), Output::ok(""), "{preset}");
            assert_eq!(
                restarts(&machine),
                format!("activateSettings -u (macOS {version}: some settings wait for a logout)\n")
            );
        }
        assert_eq!(major("12.7.6"), 12);
        assert_eq!(major("26.0"), 26);
    }

    /// nix-darwin issue #1475: run as root it does not reload the user's settings.
    #[test]
    fn as_root_is_logged_as_missing_the_user() {
        let (_dir, mut machine) = mac("m1-8gb-monterey");
        machine.info.uid = 0;
        assert_eq!(activate(&machine, &["-u"]).status, 0);
        assert!(restarts(&machine).starts_with("activateSettings -u (as root"));
    }

    /// Other options are undocumented (UNCONFIRMED): refused, nothing logged.
    #[test]
    fn other_arguments_are_refused() {
        let (_dir, machine) = mac("m1-8gb-monterey");
        for args in [&[][..], &["-x"], &["-u", "-v"]] {
            let out = activate(&machine, args);
            assert_eq!(out.status, 1, "{args:?}");
            assert!(out.stderr.starts_with("activateSettings: "));
        }
        assert_eq!(restarts(&machine), "");
    }
}
