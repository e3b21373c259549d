//! Emulated `hostname`, following Apple's `hostname/hostname.c` (apple-oss-distributions/
//! shell_cmds, unchanged from macOS 12.3 to 15): `hostname [-f] [-s | -d] [name-of-host]`.
//! It prints gethostname(3), i.e. `kern.hostname`; `-s` cuts at the first dot, `-d` prints
//! what follows it (the whole name when there is no dot), `-f` is accepted and ignored
//! ("BSD hostname always prints FQDN"). With an operand it calls sethostname(3), which needs
//! root: `err(1, "sethostname")` prints `hostname: sethostname: Operation not permitted`. As
//! root the new name lasts until reboot (it is `kern.hostname`, shared with the emulated
//! `sysctl`); `scutil --set HostName` is what persists a name, and is not emulated.

use super::getopt::getopt;
use super::machine::Machine;
use super::sysctl;
use crate::output::Output;

const USAGE: &str = "usage: hostname [-f] [-s | -d] [name-of-host]\n";

pub fn run(machine: &Machine, args: &[String]) -> Output {
    let parsed = match getopt("hostname", args, "fsd") {
        Ok(parsed) => parsed,
        Err(diagnostic) => return Output::failed(1, format!("{diagnostic}{USAGE}")),
    };
    let has = |flag: char| parsed.options.iter().any(|(option, _)| *option == flag);
    let (short, domain) = (has('s'), has('d'));
    if parsed.operands.len() > 1 || (short && domain) {
        return Output::failed(1, USAGE);
    }
    if let Some(name) = parsed.operands.first() {
        if !machine.is_root() {
            return Output::failed(1, "hostname: sethostname: Operation not permitted\n");
        }
        return match sysctl::set_hostname(machine, name) {
            Ok(()) => Output::ok(""),
            Err(err) => Output::failed(1, format!("hostname: sethostname: {err:#}\n")),
        };
    }
    let name = sysctl::hostname(machine);
    let shown = match name.split_once('.') {
        Some((first, _)) if short => first,
        Some((_, rest)) if domain => rest,
        _ => name.as_str(),
    };
    Output::ok(format!("{shown}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{args, mac};

    fn hostname(machine: &Machine, list: &[&str]) -> Output {
        run(machine, &args(list))
    }

    /// hostname.c: gethostname(3) as is; `-f` is ignored.
    #[test]
    fn prints_the_host_name() {
        let (_dir, machine) = mac("m1-8gb-monterey");
        assert_eq!(hostname(&machine, &[]).stdout, "air-m1.local\n");
        assert_eq!(hostname(&machine, &["-f"]).stdout, "air-m1.local\n");
    }

    /// hostname.c: `-s` up to the first dot, `-d` after it; both together is usage.
    #[test]
    fn short_and_domain() {
        let (_dir, machine) = mac("m1-8gb-monterey");
        assert_eq!(hostname(&machine, &["-s"]).stdout, "air-m1\n");
        assert_eq!(hostname(&machine, &["-d"]).stdout, "local\n");
        let out = hostname(&machine, &["-s", "-d"]);
        assert_eq!((out.status, out.stderr.as_str()), (1, USAGE));
        let out = hostname(&machine, &["-x"]);
        assert_eq!(
            out.stderr,
            format!("hostname: illegal option -- x\n{USAGE}")
        );
    }

    /// hostname.c: sethostname(3) is root-only (`err(1, "sethostname")`); as root the name
    /// is `kern.hostname`, which the emulated sysctl then reports.
    #[test]
    fn setting_needs_root() {
        let (_dir, mut machine) = mac("m1-8gb-monterey");
        let out = hostname(&machine, &["build-01"]);
        assert_eq!(
            (out.status, out.stderr.as_str()),
            (1, "hostname: sethostname: Operation not permitted\n")
        );
        machine.info.uid = 0;
        assert_eq!(hostname(&machine, &["build-01.lan"]).status, 0);
        assert_eq!(hostname(&machine, &["-s"]).stdout, "build-01\n");
        let args = vec!["-n".to_string(), "kern.hostname".to_string()];
        assert_eq!(sysctl::run(&machine, &args).stdout, "build-01.lan\n");
    }
}
