//! Emulated `sw_vers`. Two generations, chosen by the emulated macOS version:
//!
//! - up to macOS 12: one TAB after each label and exactly one option, matched case-sensitively
//!   (`-productName`, `-productVersion`, `-buildVersion`). Captures: fixture `sw_vers-10.13.txt`
//!   (spencerdodd/kernelpop PR #17), and for macOS 12 the single-TAB samples quoted in public
//!   tests (e.g. `ProductName:\tmacOS\nProductVersion:\t12.6.7\nBuildVersion:\t21G651`).
//!   Usage text and exit status 1 follow the Darwin `sw_vers.c` (DarwinTools):
//!   `Usage: %s [-productName|-productVersion|-buildVersion]` on stderr, `exit(1)`.
//! - macOS 13 and later: two TABs after each label. Real capture on 13.3.1 in
//!   ydkhatri/mac_apt issue #95: `ProductName:\t\tmacOS`, `ProductVersion:\t\t13.3.1`,
//!   `ProductVersionExtra:\t(a)`, `BuildVersion:\t\t22E772610a` (labels padded to one tab
//!   stop); captured notebook output on 13.5.1 and README captures on 13.2.1 and 14.x agree.
//!   Options take one or two dashes and any case, and the usage line is
//!   `Usage: sw_vers [--help|--productName|--productVersion|--productVersionExtra|--buildVersion]`
//!   (ronaldoussoren/pyobjc issue #651, output of `sw_vers --help`).
//!
//! UNCONFIRMED: where the modern usage text goes and with what status (we print it on stdout
//! with 0 for `--help`, on stderr with 1 otherwise), and what `-productVersionExtra` prints
//! when no Rapid Security Response is installed (we print nothing). puppetlabs/facter PR #2568
//! confirms that without an RSR the `ProductVersionExtra:` line is absent from plain `sw_vers`.

use super::machine::{Machine, MachineInfo};
use crate::output::Output;

const LEGACY_USAGE: &str = "Usage: sw_vers [-productName|-productVersion|-buildVersion]\n";
const MODERN_USAGE: &str =
    "Usage: sw_vers [--help|--productName|--productVersion|--productVersionExtra|--buildVersion]\n";

/// `12.7.6` -> (12, 7, 6); missing or unparsable parts count as 0 (`15.0` is shown as `15.0`
/// by Apple, `10.13` has no patch: fixture `sw_vers-10.13.txt`).
pub fn version_triple(product_version: &str) -> (u32, u32, u32) {
    let mut parts = product_version
        .split('.')
        .map(|part| part.parse::<u32>().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

/// `Mac OS X` through 10.15 (fixture `sw_vers-catalina.txt`), `macOS` from Big Sur on
/// (rbenv/ruby-build PR #1451).
pub fn product_name(info: &MachineInfo) -> &'static str {
    if version_triple(&info.product_version).0 <= 10 {
        "Mac OS X"
    } else {
        "macOS"
    }
}

pub fn run(machine: &Machine, args: &[String]) -> Output {
    let info = &machine.info;
    if version_triple(&info.product_version).0 >= 13 {
        modern(info, args)
    } else {
        legacy(info, args)
    }
}

fn legacy(info: &MachineInfo, args: &[String]) -> Output {
    match args {
        [] => Output::ok(format!(
            "ProductName:\t{}\nProductVersion:\t{}\nBuildVersion:\t{}\n",
            product_name(info),
            info.product_version,
            info.build_version
        )),
        [option] => match option.as_str() {
            "-productName" => Output::ok(format!("{}\n", product_name(info))),
            "-productVersion" => Output::ok(format!("{}\n", info.product_version)),
            "-buildVersion" => Output::ok(format!("{}\n", info.build_version)),
            _ => Output::failed(1, LEGACY_USAGE),
        },
        _ => Output::failed(1, LEGACY_USAGE),
    }
}

fn modern(info: &MachineInfo, args: &[String]) -> Output {
    match args {
        [] => Output::ok(format!(
            "ProductName:\t\t{}\nProductVersion:\t\t{}\nBuildVersion:\t\t{}\n",
            product_name(info),
            info.product_version,
            info.build_version
        )),
        [option] => {
            let bare = option
                .strip_prefix("--")
                .or_else(|| option.strip_prefix('-'))
                .map(str::to_ascii_lowercase);
            match bare.as_deref() {
                Some("productname") => Output::ok(format!("{}\n", product_name(info))),
                Some("productversion") => Output::ok(format!("{}\n", info.product_version)),
                Some("buildversion") => Output::ok(format!("{}\n", info.build_version)),
                // No Rapid Security Response on the emulated Mac.
                Some("productversionextra") => Output::ok(""),
                Some("help") => Output::ok(MODERN_USAGE),
                _ => Output::failed(1, MODERN_USAGE),
            }
        }
        _ => Output::failed(1, MODERN_USAGE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{args, mac};

    fn run_args(machine: &Machine, list: &[&str]) -> Output {
        run(machine, &args(list))
    }

    /// Fixture `sw_vers-10.13.txt`, reproduced byte for byte: one TAB, `Mac OS X`, no patch.
    #[test]
    fn high_sierra_matches_the_10_13_capture() {
        let (_dir, mut machine) = mac("m1-8gb-monterey");
        machine.info.product_version = "10.13".into();
        machine.info.build_version = "17A405".into();
        let out = run_args(&machine, &[]);
        assert_eq!(
            out.stdout,
            "ProductName:\tMac OS X\nProductVersion:\t10.13\nBuildVersion:\t17A405\n"
        );
        assert_eq!(out.status, 0);
    }

    /// Monterey keeps the one-TAB shape of `sw_vers-10.13.txt`, with `macOS` as the name.
    #[test]
    fn monterey_uses_one_tab() {
        let (_dir, machine) = mac("m1-8gb-monterey");
        let out = run_args(&machine, &[]);
        assert_eq!(
            out.stdout,
            "ProductName:\tmacOS\nProductVersion:\t12.7.6\nBuildVersion:\t21H1320\n"
        );
    }

    /// ydkhatri/mac_apt issue #95 (13.3.1): two TABs after each label from Ventura on.
    #[test]
    fn sonoma_uses_two_tabs() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        let out = run_args(&machine, &[]);
        assert_eq!(
            out.stdout,
            "ProductName:\t\tmacOS\nProductVersion:\t\t14.5\nBuildVersion:\t\t23F79\n"
        );
        assert!(out.stderr.is_empty());
    }

    /// Single-value options print the value alone (man sw_vers; fixture `sw_vers-10.13.txt`
    /// notes `.0` releases have no patch component, which we print as stored).
    #[test]
    fn single_value_options() {
        let (_dir, machine) = mac("m4pro-48gb-sequoia");
        assert_eq!(run_args(&machine, &["-productVersion"]).stdout, "15.1\n");
        assert_eq!(run_args(&machine, &["-buildVersion"]).stdout, "24B83\n");
        assert_eq!(run_args(&machine, &["-productName"]).stdout, "macOS\n");
    }

    /// pyobjc issue #651: modern sw_vers accepts `--productversion` (two dashes, any case).
    #[test]
    fn modern_accepts_double_dash_any_case() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        assert_eq!(run_args(&machine, &["--productversion"]).stdout, "14.5\n");
        assert_eq!(run_args(&machine, &["--BuildVersion"]).stdout, "23F79\n");
    }

    /// pyobjc issue #651 shows the modern usage line; exit status 1 is UNCONFIRMED.
    #[test]
    fn modern_unknown_option_prints_usage() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        let out = run_args(&machine, &["-version"]);
        assert_eq!(out.status, 1);
        assert_eq!(out.stderr, MODERN_USAGE);
        let help = run_args(&machine, &["--help"]);
        assert_eq!((help.status, help.stdout.as_str()), (0, MODERN_USAGE));
    }

    /// DarwinTools sw_vers.c: anything but one exact option prints usage on stderr, exit 1;
    /// Setup-Your-Mac PR #50: `-productVersionExtra` is an error before Ventura.
    #[test]
    fn legacy_unknown_option_prints_usage() {
        let (_dir, machine) = mac("m1-8gb-monterey");
        for args in [
            &["--productVersion"][..],
            &["-productversion"],
            &["-productVersionExtra"],
        ] {
            let out = run_args(&machine, args);
            assert_eq!(out.status, 1, "{args:?}");
            assert_eq!(out.stderr, LEGACY_USAGE);
            assert!(out.stdout.is_empty());
        }
    }
}
