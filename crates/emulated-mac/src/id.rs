//! Emulated `id`, following Apple's `id/id.c` (apple-oss-distributions/shell_cmds; the same
//! output code from macOS 12.3 to 15): options `-G -g -u [-n] [-r] [user]`, `-p [user]`, plain
//! `id [user]`; at most one of `-A -F -G -P -g -p -u`, and `-n`/`-r` only with one of them,
//! else usage. The default line is `uid=%u(%s) gid=%u(%s) groups=%u(%s),%u(%s),...`.
//!
//! The emulated Mac has two accounts: root (uid 0, gid 0 `wheel`) and the machine's user
//! (`user_uid`, gid 20 `staff`); `uid` in machine.json says which one is running (0 =
//! under sudo, which sets both real and effective ids). Group lists are copied from real
//! captures: the user's as printed for an admin account on recent macOS (same set and order
//! as e.g. the `id` output in airbnb/puppet-munki PR #5, plus `400(com.apple.access_remote_ae)`
//! and `701(com.apple.sharepoint.group.1)` that later captures show); root's from a macOS 13
//! `sudo id` capture (`uid=0(root) gid=0(wheel) groups=0(wheel),1(daemon),...`). Group
//! membership varies per Mac; the set matters less than the format.
//!
//! Not emulated (refused with a message): `-A` (audit session), `-F` (full name) and `-P`
//! (passwd line), which need account data machine.json does not have.

use super::getopt::getopt;
use super::machine::Machine;
use crate::output::Output;

/// The usage text of id.c as Apple builds it (`USE_BSM_AUDIT` defined, `-F` added, and an
/// empty string where FreeBSD has `id -M`, which leaves an empty line).
const USAGE: &str = "usage: id [user]\n       id -A\n       id -F [user]\n       \
                     id -G [-n] [user]\n\n       id -P [user]\n       id -g [-nr] [user]\n       \
                     id -p [user]\n       id -u [-nr] [user]\n";

const USER_GROUPS: &[u32] = &[
    20, 12, 61, 79, 80, 81, 98, 33, 100, 204, 250, 395, 398, 399, 400, 701,
];
const ROOT_GROUPS: &[u32] = &[
    0, 1, 2, 3, 4, 5, 8, 9, 12, 20, 29, 61, 80, 701, 33, 98, 100, 204, 250, 395, 398, 399, 400,
];

/// /etc/group and the directory's groups, as far as the lists above need them.
fn group_name(gid: u32) -> Option<&'static str> {
    Some(match gid {
        0 => "wheel",
        1 => "daemon",
        2 => "kmem",
        3 => "sys",
        4 => "tty",
        5 => "operator",
        8 => "procview",
        9 => "procmod",
        12 => "everyone",
        20 => "staff",
        29 => "certusers",
        33 => "_appstore",
        61 => "localaccounts",
        79 => "_appserverusr",
        80 => "admin",
        81 => "_appserveradm",
        98 => "_lpadmin",
        100 => "_lpoperator",
        204 => "_developer",
        250 => "_analyticsusers",
        395 => "com.apple.access_ftp",
        398 => "com.apple.access_screensharing",
        399 => "com.apple.access_ssh",
        400 => "com.apple.access_remote_ae",
        701 => "com.apple.sharepoint.group.1",
        _ => return None,
    })
}

/// A passwd entry, with the groups getgrouplist(3) returns for it.
#[derive(Clone, Debug)]
struct Account {
    name: String,
    uid: u32,
    gid: u32,
    groups: &'static [u32],
}

fn accounts(machine: &Machine) -> [Account; 2] {
    [
        Account {
            name: "root".into(),
            uid: 0,
            gid: 0,
            groups: ROOT_GROUPS,
        },
        Account {
            name: machine.info.user.clone(),
            uid: machine.info.user_uid,
            gid: 20,
            groups: USER_GROUPS,
        },
    ]
}

fn getpwuid(machine: &Machine, uid: u32) -> Option<Account> {
    accounts(machine)
        .into_iter()
        .find(|account| account.uid == uid)
}

/// id.c `who()`: a user name, else a number naming a uid.
fn who(machine: &Machine, user: &str) -> Result<Account, Output> {
    let by_name = accounts(machine)
        .into_iter()
        .find(|account| account.name == user);
    by_name
        .or_else(|| {
            user.parse::<u32>()
                .ok()
                .and_then(|uid| getpwuid(machine, uid))
        })
        .ok_or_else(|| Output::failed(1, format!("id: {user}: no such user\n")))
}

fn with_name(id: u32, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("{id}({name})"),
        None => id.to_string(),
    }
}

pub fn run(machine: &Machine, args: &[String]) -> Output {
    let parsed = match getopt("id", args, "AFPGagnpru") {
        Ok(parsed) => parsed,
        Err(diagnostic) => return Output::failed(1, format!("{diagnostic}{USAGE}")),
    };
    let has = |flag: char| parsed.options.iter().any(|(option, _)| *option == flag);
    let modes: Vec<char> = ['A', 'F', 'G', 'P', 'g', 'p', 'u']
        .into_iter()
        .filter(|&mode| has(mode))
        .collect();
    let names = has('n');
    let usage = Output::failed(1, USAGE);
    if has('A') && !parsed.operands.is_empty() {
        return usage;
    }
    match modes.len() {
        1 => {}
        0 if !names && !has('r') => {}
        _ => return usage,
    }
    let pw = match parsed.operands.first() {
        Some(user) => match who(machine, user) {
            Ok(account) => Some(account),
            Err(output) => return output,
        },
        None => None,
    };
    // The running process: a uid with no account (a hand-edited machine.json) prints as a
    // bare number with the staff group, as a real process whose uid has no passwd entry would.
    let uid = machine.info.uid;
    let current = getpwuid(machine, uid);
    let current_gid = current.as_ref().map_or(20, |account| account.gid);
    let current_groups: &[u32] = current.as_ref().map_or(&[20], |account| account.groups);
    let line = match modes.first() {
        Some('A' | 'F' | 'P') => {
            return Output::failed(
                1,
                format!(
                    "id: option -{} is not emulated by macllm's sandbox\n",
                    modes[0]
                ),
            );
        }
        Some('g') => {
            let gid = pw.as_ref().map_or(current_gid, |account| account.gid);
            match group_name(gid).filter(|_| names) {
                Some(name) => name.to_string(),
                None => gid.to_string(),
            }
        }
        Some('u') => {
            let id = pw.as_ref().map_or(uid, |account| account.uid);
            match getpwuid(machine, id).filter(|_| names) {
                Some(account) => account.name,
                None => id.to_string(),
            }
        }
        Some('G') => {
            let groups = pw.as_ref().map_or(current_groups, |account| account.groups);
            group_list(groups, names)
        }
        Some('p') => return Output::ok(pretty(machine, pw.as_ref(), current.as_ref())),
        _ => {
            // id_print(): the account's own gid and groups (no euid/egid part: under sudo
            // both ids are 0, as for the user they are equal).
            let (shown_uid, name, gid, groups) = match pw.as_ref().or(current.as_ref()) {
                Some(account) => (
                    account.uid,
                    Some(account.name.as_str()),
                    account.gid,
                    account.groups,
                ),
                None => (uid, None, current_gid, current_groups),
            };
            let groups: Vec<String> = groups
                .iter()
                .map(|&gid| with_name(gid, group_name(gid)))
                .collect();
            format!(
                "uid={} gid={} groups={}",
                with_name(shown_uid, name),
                with_name(gid, group_name(gid)),
                groups.join(",")
            )
        }
    };
    Output::ok(format!("{line}\n"))
}

/// id.c `group()`: ids, or names with `-n`, separated by spaces.
fn group_list(groups: &[u32], names: bool) -> String {
    groups
        .iter()
        .map(|&gid| match group_name(gid).filter(|_| names) {
            Some(name) => name.to_string(),
            None => gid.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// id.c `pretty()`: `login` (when getlogin(2) differs from the uid's name, as under sudo),
/// `uid`, `groups`, one per line with a TAB.
fn pretty(machine: &Machine, pw: Option<&Account>, current: Option<&Account>) -> String {
    if let Some(account) = pw {
        return format!(
            "uid\t{}\ngroups\t{}\n",
            account.name,
            group_list(account.groups, true)
        );
    }
    let login = &machine.info.user;
    let mut text = String::new();
    if current.is_none_or(|account| &account.name != login) {
        text.push_str(&format!("login\t{login}\n"));
    }
    match current {
        Some(account) => text.push_str(&format!(
            "uid\t{}\ngroups\t{}\n",
            account.name,
            group_list(account.groups, true)
        )),
        None => text.push_str(&format!("uid\t{}\ngroups\t20\n", machine.info.uid)),
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{args, mac};

    fn id(machine: &Machine, list: &[&str]) -> Output {
        run(machine, &args(list))
    }

    fn sudo(machine: &mut Machine) {
        machine.info.uid = 0;
    }

    /// id.c `uflag`: the effective uid; `-n` its name (`id -un`, `id -u -n`).
    #[test]
    fn u_and_un() {
        let (_dir, mut machine) = mac("m1-8gb-monterey");
        assert_eq!(id(&machine, &["-u"]).stdout, "501\n");
        assert_eq!(id(&machine, &["-un"]).stdout, "admin\n");
        assert_eq!(id(&machine, &["-u", "-n"]).stdout, "admin\n");
        sudo(&mut machine);
        assert_eq!(id(&machine, &["-u"]).stdout, "0\n");
        assert_eq!(id(&machine, &["-nu"]).stdout, "root\n");
    }

    /// id.c `gflag`: 20 (staff) for the user, 0 (wheel) under sudo.
    #[test]
    fn g_and_gn() {
        let (_dir, mut machine) = mac("m1-8gb-monterey");
        assert_eq!(id(&machine, &["-g"]).stdout, "20\n");
        assert_eq!(id(&machine, &["-gn"]).stdout, "staff\n");
        sudo(&mut machine);
        assert_eq!(id(&machine, &["-g"]).stdout, "0\n");
        assert_eq!(id(&machine, &["-g", "-n"]).stdout, "wheel\n");
    }

    /// id.c `id_print()`; group list as in public captures (airbnb/puppet-munki PR #5).
    #[test]
    fn plain_id_line() {
        let (_dir, mut machine) = mac("m1-8gb-monterey");
        assert_eq!(
            id(&machine, &[]).stdout,
            "uid=501(admin) gid=20(staff) groups=20(staff),12(everyone),61(localaccounts),\
             79(_appserverusr),80(admin),81(_appserveradm),98(_lpadmin),33(_appstore),\
             100(_lpoperator),204(_developer),250(_analyticsusers),395(com.apple.access_ftp),\
             398(com.apple.access_screensharing),399(com.apple.access_ssh),\
             400(com.apple.access_remote_ae),701(com.apple.sharepoint.group.1)\n"
        );
        sudo(&mut machine);
        assert!(
            id(&machine, &[])
                .stdout
                .starts_with("uid=0(root) gid=0(wheel) groups=0(wheel),1(daemon),2(kmem),3(sys),")
        );
    }

    /// id.c `group()`: `-G` ids, `-Gn` names, space separated.
    #[test]
    fn groups_flag() {
        let (_dir, machine) = mac("m1-8gb-monterey");
        assert!(id(&machine, &["-G"]).stdout.starts_with("20 12 61 79 80 "));
        assert!(
            id(&machine, &["-Gn"])
                .stdout
                .starts_with("staff everyone localaccounts _appserverusr admin ")
        );
    }

    /// id.c `who()`: a name or uid operand; unknown users are an error.
    #[test]
    fn user_operand() {
        let (_dir, machine) = mac("m1-8gb-monterey");
        assert_eq!(id(&machine, &["-u", "root"]).stdout, "0\n");
        assert_eq!(id(&machine, &["-un", "501"]).stdout, "admin\n");
        let out = id(&machine, &["bob"]);
        assert_eq!(
            (out.status, out.stderr.as_str()),
            (1, "id: bob: no such user\n")
        );
    }

    /// id.c `pretty()`: under sudo getlogin() is still the user, so a `login` line appears.
    #[test]
    fn p_pretty() {
        let (_dir, mut machine) = mac("m1-8gb-monterey");
        let out = id(&machine, &["-p"]).stdout;
        assert!(
            out.starts_with("uid\tadmin\ngroups\tstaff everyone "),
            "{out}"
        );
        sudo(&mut machine);
        let out = id(&machine, &["-p"]).stdout;
        assert!(
            out.starts_with("login\tadmin\nuid\troot\ngroups\twheel daemon "),
            "{out}"
        );
    }

    /// Apple Libc getopt + id.c `usage()` (with its empty line); two modes, or `-n` alone,
    /// are usage errors without the getopt line.
    #[test]
    fn usage_errors() {
        let (_dir, machine) = mac("m1-8gb-monterey");
        let out = id(&machine, &["-x"]);
        assert_eq!(out.status, 1);
        assert_eq!(out.stderr, format!("id: illegal option -- x\n{USAGE}"));
        assert!(USAGE.contains("[user]\n\n       id -P"));
        for args in [&["-u", "-g"][..], &["-n"], &["-r"]] {
            let out = id(&machine, args);
            assert_eq!((out.status, out.stderr.as_str()), (1, USAGE), "{args:?}");
        }
    }
}
