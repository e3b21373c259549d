//! Emulated `sysctl(8)`, following Apple's source (apple-oss-distributions/system_cmds,
//! `sysctl/sysctl.c`). Apple shipped two different programs under that name, and which one a
//! Mac has changes what a script sees when a name is unknown:
//!
//! - **classic** (system_cmds up to 970.0.4, i.e. macOS 12.x, 13.x, 14.0–14.3): the first
//!   unknown name ends the run: `errx(1, "unknown oid '%s'")`, so later names are not shown;
//!   `-q` exits 1 silently at that point; usage is `usage: sysctl [-bdehiNnoqx] name[=value]
//!   ...`.
//! - **FreeBSD-derived** (system_cmds 979.100.8 onwards, i.e. macOS 14.4 and later, per the
//!   release tags of apple-oss-distributions/distribution-macOS): each unknown name is a
//!   warning (`warnx("unknown oid '%s'%s")`), the run continues, and the exit status is the
//!   number of failed names; `name:value` is accepted as well as `name=value`; usage is
//!   `usage: sysctl [-bdeFhilNnoqtWx] [ -B <bufsize> ] [-f filename] name[=value] ...`.
//!
//! Common to both: `NAME: value` (or `NAME=value` with `-e`, the value alone with `-n`, the name
//! alone with `-N`), one line per name in argv order, `-i` skips unknown names, `-w` is
//! accepted and ignored, a node name (`hw.perflevel0`) prints every leaf below it, and a write
//! prints `NAME: old -> new`. Writes are checked in the program first (`oid '%s' isn't a leaf
//! node`, `oid '%s' is read only`, `invalid integer '%s'`), then by the kernel, which refuses
//! a non-root caller with EPERM: the old value is printed, then `sysctl: NAME=VALUE: Operation
//! not permitted` (`warn("%s", string)`), status 1. Numbers are printed in the C locale
//! (reference 0: callers run with `LC_ALL=C`). Options are parsed by BSD getopt(3), which
//! stops at the first name. Options neither program needs here (`-b -B -d -f -F -l -o -t -x -X`)
//! are refused with a message saying they are not emulated rather than answered wrongly.
//!
//! Values come from `machine.json`; the writable ones (`kern.hostname`, the GPU wired-memory
//! limit) are kept in `var/run/sysctl.json` inside the emulated Mac once set. Like the
//! kernel's, they do not survive a reboot ([`boot`], called by `launchctl::reboot`): a user
//! reports `iogpu.wired_limit_mb` reading 0 again after a reboot until a daemon set it anew
//! (notes/issue10-research.md section 7, find_string id 59125888048).

use super::getopt::getopt;
use super::libc::strtol;
use super::machine::{Machine, MachineInfo};
use super::sw_vers::version_triple;
use crate::output::Output;
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Where values written with `sysctl NAME=VALUE` (as root) or `hostname NAME` are kept.
pub const STATE_FILE: &str = "var/run/sysctl.json";

const CLASSIC_USAGE: &str = "usage: sysctl [-bdehiNnoqx] name[=value] ...\n       \
                             sysctl [-bdehNnoqx] -a\n";
const FREEBSD_USAGE: &str = "usage: sysctl [-bdeFhilNnoqtWx] [ -B <bufsize> ] [-f filename] \
                             name[=value] ...\n       \
                             sysctl [-bdeFhlNnoqtWx] [ -B <bufsize> ] -a\n";

/// Which sysctl(8) the emulated macOS ships (see the module comment).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Generation {
    Classic,
    FreeBsd,
}

impl Generation {
    fn of(info: &MachineInfo) -> Generation {
        if version_triple(&info.product_version) >= (14, 4, 0) {
            Generation::FreeBsd
        } else {
            Generation::Classic
        }
    }
}

/// The kernel's type for a value, which decides how a new value is parsed and what the
/// "invalid ..." message calls it (`ctl_typename` in sysctl.c).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Int,
    Int64,
    Str,
    /// Structures with a formatter in sysctl.c (`S_loadavg`, `S_xswusage`); never writable.
    Opaque,
}

#[derive(Clone, Debug)]
struct Oid {
    name: String,
    value: String,
    kind: Kind,
    writable: bool,
}

impl Oid {
    fn read(name: &str, value: impl ToString, kind: Kind) -> Oid {
        Oid {
            name: name.to_string(),
            value: value.to_string(),
            kind,
            writable: false,
        }
    }

    fn writable(name: &str, value: impl ToString, kind: Kind) -> Oid {
        Oid {
            writable: true,
            ..Oid::read(name, value, kind)
        }
    }
}

/// `hw.model` for the emulated hardware. Identifiers from public model tables (Apple's
/// "identify your Mac" pages as copied into many projects): MacBook Air (M1, 2020) is
/// `MacBookAir10,1`; Mac mini (M2, 2023) is `Mac14,3` (ipsw.me firmware list: board J473AP);
/// Mac mini (M4 Pro, 2024) is `Mac16,11`; MacBook Pro 14-inch (M4 Max, 2024) is `Mac16,6`
/// (the 16-inch M4 Max is `Mac16,5`; the preset does not say which size, we pick 14-inch).
pub fn model_identifier(info: &MachineInfo) -> &'static str {
    match info.chip.as_str() {
        "Apple M1" => "MacBookAir10,1",
        "Apple M2" => "Mac14,3",
        "Apple M4 Pro" => "Mac16,11",
        "Apple M4 Max" => "Mac16,6",
        // A hand-edited machine.json with another chip: a real identifier, not a real match.
        _ => "Mac14,3",
    }
}

/// Every name the emulated kernel knows, in the order `sysctl -a` lists them (top-level
/// order kern, vm, hw, machdep as in xnu's `kern_mib.c`; order inside a node is ours).
fn oids(machine: &Machine) -> Vec<Oid> {
    let info = &machine.info;
    let overrides = load_state(machine);
    let value = |name: &str, default: String| overrides.get(name).cloned().unwrap_or(default);
    let total = info.performance_cores + info.efficiency_cores;
    let (major, ..) = version_triple(&info.product_version);
    let mut list = vec![
        Oid::read("kern.ostype", "Darwin", Kind::Str),
        Oid::writable(
            "kern.hostname",
            value("kern.hostname", info.hostname.clone()),
            Kind::Str,
        ),
        Oid::read("kern.osversion", &info.build_version, Kind::Str),
        Oid::read("kern.osproductversion", &info.product_version, Kind::Str),
        // 1 = normal, 2 = warn, 4 = critical (reference 4.3); an idle emulated Mac.
        Oid::read("kern.memorystatus_vm_pressure_level", 1, Kind::Int),
        // `S_loadavg`: "{ %.2f %.2f %.2f }"; fixed, an idle machine.
        Oid::read("vm.loadavg", "{ 1.21 1.35 1.42 }", Kind::Opaque),
        // `S_xswusage`: "total = %.2fM  used = %.2fM  free = %.2fM  %s" (two spaces; fixture
        // sysctl-vm-swapusage.txt). Apple Silicon swap is encrypted and created on demand, so
        // a fresh Mac shows no swap yet.
        Oid::read(
            "vm.swapusage",
            format_swapusage(0, 0, 0, true),
            Kind::Opaque,
        ),
        Oid::read("hw.ncpu", total, Kind::Int),
        Oid::read("hw.byteorder", 1234, Kind::Int),
        Oid::read("hw.memsize", info.memory_bytes, Kind::Int64),
        Oid::read("hw.activecpu", total, Kind::Int),
        Oid::read("hw.physicalcpu", total, Kind::Int),
        Oid::read("hw.physicalcpu_max", total, Kind::Int),
        Oid::read("hw.logicalcpu", total, Kind::Int),
        Oid::read("hw.logicalcpu_max", total, Kind::Int),
        // CPU_TYPE_ARM64 = CPU_TYPE_ARM | CPU_ARCH_ABI64 = 0x0100000c.
        Oid::read("hw.cputype", 16_777_228, Kind::Int),
        Oid::read("hw.cpu64bit_capable", 1, Kind::Int),
        // 16 KiB pages on Apple Silicon (reference 4.5).
        Oid::read("hw.pagesize", 16_384, Kind::Int64),
        Oid::read("hw.machine", "arm64", Kind::Str),
        Oid::read("hw.model", model_identifier(info), Kind::Str),
        // Two clusters on every Apple Silicon chip emulated here; Intel Macs have no
        // hw.perflevel* at all (reference 4.3).
        Oid::read("hw.nperflevels", 2, Kind::Int),
    ];
    // M5 Pro and M5 Max name their two clusters `Super` and `Performance`; there is no
    // `Efficiency` level (users' captures: an M5 Pro prints `hw.perflevel0.name: Super`,
    // `hw.perflevel1.name: Performance` with 5 + 10 cores, find_string id 61427770540; an
    // 18-core part 6 Super + 12 Performance, id 70527169612). Earlier chips: reference 4.3.
    let names = match info.chip.as_str() {
        "Apple M5 Pro" | "Apple M5 Max" => ["Super", "Performance"],
        _ => ["Performance", "Efficiency"],
    };
    for (level, cores, name) in [
        (0, info.performance_cores, names[0]),
        (1, info.efficiency_cores, names[1]),
    ] {
        let prefix = format!("hw.perflevel{level}");
        for leaf in [
            "physicalcpu",
            "physicalcpu_max",
            "logicalcpu",
            "logicalcpu_max",
        ] {
            list.push(Oid::read(&format!("{prefix}.{leaf}"), cores, Kind::Int));
        }
        list.push(Oid::read(&format!("{prefix}.name"), name, Kind::Str));
    }
    list.extend([
        Oid::read("hw.optional.arm64", 1, Kind::Int),
        Oid::read("machdep.cpu.cores_per_package", total, Kind::Int),
        Oid::read("machdep.cpu.core_count", total, Kind::Int),
        Oid::read("machdep.cpu.logical_per_package", total, Kind::Int),
        Oid::read("machdep.cpu.thread_count", total, Kind::Int),
        Oid::read("machdep.cpu.brand_string", &info.chip, Kind::Str),
        // 0: the caller runs natively, not under Rosetta.
        Oid::read("sysctl.proc_translated", 0, Kind::Int),
    ]);
    // The GPU wired-memory cap (0 = the system default). Sonoma and later call it
    // `iogpu.wired_limit_mb` (megabytes); Ventura had `debug.iogpu.wired_limit` (bytes), as
    // several public guides and scripts note; that Monterey has the Ventura name too is
    // UNCONFIRMED ("community-reported"). `iogpu.wired_lwm_mb` is set next to it by exo's
    // configure_mlx.sh (exo-explore/exo PR #454).
    if major >= 14 {
        for name in ["iogpu.wired_limit_mb", "iogpu.wired_lwm_mb"] {
            list.push(Oid::writable(name, value(name, "0".into()), Kind::Int));
        }
    } else {
        let name = "debug.iogpu.wired_limit";
        list.push(Oid::writable(name, value(name, "0".into()), Kind::Int64));
    }
    list
}

/// `vm.swapusage` as sysctl.c's `S_xswusage` prints it, sizes in bytes.
pub fn format_swapusage(total: u64, used: u64, free: u64, encrypted: bool) -> String {
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    format!(
        "total = {:.2}M  used = {:.2}M  free = {:.2}M  {}",
        mib(total),
        mib(used),
        mib(free),
        if encrypted { "(encrypted)" } else { "" }
    )
}

/// The host name as gethostname(3) returns it (it reads `kern.hostname`).
pub fn hostname(machine: &Machine) -> String {
    load_state(machine)
        .get("kern.hostname")
        .cloned()
        .unwrap_or_else(|| machine.info.hostname.clone())
}

/// sethostname(3): changes `kern.hostname` until reboot. The caller checks for root.
pub fn set_hostname(machine: &Machine, name: &str) -> Result<()> {
    save_state(machine, "kern.hostname", name)
}

/// The GPU wired-memory limit in bytes when one is set (0 is the system default): Sonoma and
/// later's `iogpu.wired_limit_mb` (MiB: antirez/ds4 PR #893 measured 112.00 GiB with
/// 114688), Ventura and earlier's `debug.iogpu.wired_limit` (bytes). Metal's
/// `recommendedMaxWorkingSetSize` follows it (see `ollama::perf`).
pub fn gpu_wired_limit_bytes(machine: &Machine) -> Option<u64> {
    let state = load_state(machine);
    let (major, ..) = version_triple(&machine.info.product_version);
    let (name, shift) = if major >= 14 {
        ("iogpu.wired_limit_mb", 20)
    } else {
        ("debug.iogpu.wired_limit", 0)
    };
    let value: i64 = state.get(name)?.parse().ok()?;
    u64::try_from(value)
        .ok()
        .filter(|&v| v > 0)
        .map(|v| v << shift)
}

/// A reboot: every value written since the last boot is gone (the module comment).
pub fn boot(machine: &Machine) -> Result<()> {
    match std::fs::remove_file(machine.dir.join(STATE_FILE)) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            Err(err).context("forgetting the values sysctl set before the reboot")
        }
        _ => Ok(()),
    }
}

fn load_state(machine: &Machine) -> BTreeMap<String, String> {
    std::fs::read_to_string(machine.dir.join(STATE_FILE))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

fn save_state(machine: &Machine, name: &str, value: &str) -> Result<()> {
    let path = machine.dir.join(STATE_FILE);
    let mut state = load_state(machine);
    state.insert(name.to_string(), value.to_string());
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let text = serde_json::to_string_pretty(&state)? + "\n";
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
}

#[derive(Default)]
struct Flags {
    all: bool,
    equals: bool,
    ignore_unknown: bool,
    names_only: bool,
    values_only: bool,
    quiet: bool,
    writable_only: bool,
}

/// One run: what has been printed so far and how many names failed.
struct Run<'a> {
    machine: &'a Machine,
    generation: Generation,
    flags: Flags,
    oids: Vec<Oid>,
    stdout: String,
    stderr: String,
    failures: i32,
}

/// What a name stands for.
enum Lookup {
    Leaf(usize),
    /// A node: the indices of every leaf below it.
    Node(Vec<usize>),
    Unknown,
}

pub fn run(machine: &Machine, args: &[String]) -> Output {
    let generation = Generation::of(&machine.info);
    let (optstring, usage) = match generation {
        Generation::Classic => ("AabdehiNnoqwxX", CLASSIC_USAGE),
        Generation::FreeBsd => ("AabB:def:FhilNnoqtwWxX", FREEBSD_USAGE),
    };
    let usage_error = |diagnostic: &str| Output::failed(1, format!("{diagnostic}{usage}"));
    let parsed = match getopt("sysctl", args, optstring) {
        Ok(parsed) => parsed,
        Err(diagnostic) => return usage_error(&diagnostic),
    };
    let mut flags = Flags::default();
    let mut lflag = false;
    for (option, _) in &parsed.options {
        match option {
            'a' => flags.all = true,
            // `-A` is `-a -o`; `-o` only changes opaque values without a formatter, and
            // every opaque value here has one.
            'A' => flags.all = true,
            'o' => {}
            'e' => flags.equals = true,
            // Thousands grouping (`%'`), which the C locale does not do.
            'h' => {}
            'i' => flags.ignore_unknown = true,
            'N' => flags.names_only = true,
            'n' => flags.values_only = true,
            'q' => flags.quiet = true,
            // "compatibility, ignored" in sysctl.c.
            'w' => {}
            'W' => flags.writable_only = true,
            'l' => lflag = true,
            other => {
                return Output::failed(
                    1,
                    format!("sysctl: option -{other} is not emulated by macllm's sandbox\n"),
                );
            }
        }
    }
    if lflag {
        return Output::failed(1, "sysctl: option -l is not emulated by macllm's sandbox\n");
    }
    if flags.names_only && flags.values_only {
        return usage_error("");
    }
    let mut run = Run {
        machine,
        generation,
        flags,
        oids: oids(machine),
        stdout: String::new(),
        stderr: String::new(),
        failures: 0,
    };
    if parsed.operands.is_empty() {
        if !run.flags.all {
            return usage_error("");
        }
        let every: Vec<usize> = (0..run.oids.len()).collect();
        run.show_all(&every);
        return run.finish(0);
    }
    for operand in &parsed.operands {
        if let Err(status) = run.parse(operand) {
            // The classic program exits at the first error (`errx(1, ...)`).
            return run.finish(status);
        }
    }
    let status = run.failures;
    run.finish(status)
}

impl Run<'_> {
    fn finish(self, status: i32) -> Output {
        Output {
            status,
            stdout: self.stdout,
            stderr: self.stderr,
        }
    }

    fn lookup(&self, name: &str) -> Lookup {
        if let Some(index) = self.oids.iter().position(|oid| oid.name == name) {
            return Lookup::Leaf(index);
        }
        let prefix = format!("{name}.");
        let below: Vec<usize> = (0..self.oids.len())
            .filter(|&index| !name.is_empty() && self.oids[index].name.starts_with(&prefix))
            .collect();
        if below.is_empty() {
            Lookup::Unknown
        } else {
            Lookup::Node(below)
        }
    }

    /// `show_var`: the name, the value or both, without the newline.
    fn show(&mut self, index: usize, values_only: bool) {
        let oid = &self.oids[index];
        if self.flags.names_only {
            self.stdout.push_str(&oid.name);
        } else if values_only {
            self.stdout.push_str(&oid.value);
        } else {
            let separator = if self.flags.equals { "=" } else { ": " };
            let _ = write!(self.stdout, "{}{separator}{}", oid.name, oid.value);
        }
    }

    fn show_all(&mut self, indices: &[usize]) {
        for &index in indices {
            if self.flags.writable_only && !self.oids[index].writable {
                continue;
            }
            self.show(index, self.flags.values_only);
            self.stdout.push('\n');
        }
    }

    /// A warning (FreeBSD-derived: the run goes on, the name counts as failed) or a fatal
    /// error (classic: `errx(1, ...)`). `Err` carries the exit status when the run must stop.
    fn fail(&mut self, message: &str) -> Result<(), i32> {
        self.stderr.push_str(&format!("sysctl: {message}\n"));
        match self.generation {
            Generation::Classic => Err(1),
            Generation::FreeBsd => {
                self.failures += 1;
                Ok(())
            }
        }
    }

    /// `parse()` in sysctl.c: one operand, `NAME` or `NAME=VALUE`.
    fn parse(&mut self, operand: &str) -> Result<(), i32> {
        let (name, new_value) = self.split(operand);
        let found = self.lookup(&name);
        let index = match (found, new_value.is_some()) {
            (Lookup::Unknown, _) => {
                if self.flags.ignore_unknown {
                    return Ok(());
                }
                if self.flags.quiet {
                    return match self.generation {
                        Generation::Classic => Err(1),
                        Generation::FreeBsd => {
                            self.failures += 1;
                            Ok(())
                        }
                    };
                }
                return self.fail(&format!("unknown oid '{name}'"));
            }
            (Lookup::Node(below), false) => {
                self.show_all(&below);
                return Ok(());
            }
            (Lookup::Leaf(index), false) => {
                self.show(index, self.flags.values_only);
                self.stdout.push('\n');
                return Ok(());
            }
            (Lookup::Node(_), true) => {
                return self.fail(&format!("oid '{name}' isn't a leaf node"));
            }
            (Lookup::Leaf(index), true) => index,
        };
        let new_value = new_value.unwrap_or_default();
        if !self.oids[index].writable {
            return self.fail(&format!("oid '{name}' is read only"));
        }
        let kind = self.oids[index].kind;
        let stored = match kind {
            Kind::Int | Kind::Int64 => {
                if new_value.is_empty() {
                    return self.fail("empty numeric value");
                }
                match (strtol(&new_value), kind) {
                    (Some(number), Kind::Int) => (number as i32).to_string(),
                    (Some(number), _) => number.to_string(),
                    (None, Kind::Int) => {
                        return self.fail(&format!("invalid integer '{new_value}'"));
                    }
                    (None, _) => return self.fail(&format!("invalid int64_t '{new_value}'")),
                }
            }
            Kind::Str | Kind::Opaque => new_value.clone(),
        };
        // The current value is printed before the kernel is asked.
        self.show(index, self.flags.values_only);
        if !self.machine.is_root() {
            self.stdout.push('\n');
            // `warn("%s", string)` in both generations: a warning, the run goes on.
            self.stderr
                .push_str(&format!("sysctl: {operand}: Operation not permitted\n"));
            self.failures += 1;
            return Ok(());
        }
        if let Err(err) = save_state(self.machine, &self.oids[index].name, &stored) {
            self.stdout.push('\n');
            self.stderr.push_str(&format!(
                "sysctl: {operand}: the emulated Mac could not keep the value: {err:#}\n"
            ));
            return Err(1);
        }
        self.oids[index].value = stored;
        self.stdout.push_str(" -> ");
        self.show(index, true);
        self.stdout.push('\n');
        Ok(())
    }

    /// Splits `NAME=VALUE`. Classic: at the first `=`, blanks before the value dropped.
    /// FreeBSD-derived: at the first `=` or `:`, blanks around both trimmed, one pair of
    /// matching quotes around the value removed.
    fn split(&self, operand: &str) -> (String, Option<String>) {
        match self.generation {
            Generation::Classic => match operand.split_once('=') {
                Some((name, value)) => (name.to_string(), Some(value.trim_start().to_string())),
                None => (operand.to_string(), None),
            },
            Generation::FreeBsd => {
                let (name, value) = match operand.find(['=', ':']) {
                    Some(at) => (&operand[..at], Some(operand[at + 1..].trim_start())),
                    None => (operand, None),
                };
                let value = value.map(|value| {
                    let quoted = value.len() >= 2
                        && (value.starts_with('"') || value.starts_with('\''))
                        && value.ends_with(&value[..1]);
                    if quoted {
                        value[1..value.len() - 1].to_string()
                    } else {
                        value.to_string()
                    }
                });
                (name.trim_end().to_string(), value)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{args, mac};

    fn sysctl(machine: &Machine, list: &[&str]) -> Output {
        run(machine, &args(list))
    }

    /// sysctl.c `show_var` / system_cmds `sysctl/tests/sysctl_test.sh` `sysctl_by_name`:
    /// `NAME: value` and a newline.
    #[test]
    fn name_colon_value() {
        let (_dir, machine) = mac("m1-8gb-monterey");
        let out = sysctl(&machine, &["hw.memsize"]);
        assert_eq!(out.stdout, "hw.memsize: 8589934592\n");
        assert_eq!((out.status, out.stderr.as_str()), (0, ""));
    }

    /// sysctl_test.sh `sysctl_nflag`; several names print in argv order.
    #[test]
    fn n_prints_values_in_argv_order() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        let out = sysctl(
            &machine,
            &["-n", "hw.pagesize", "hw.memsize", "kern.osproductversion"],
        );
        assert_eq!(out.stdout, "16384\n17179869184\n14.5\n");
    }

    /// sysctl_test.sh `sysctl_eflag`: `-e` uses `=` as the separator.
    #[test]
    fn e_uses_equals() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        assert_eq!(sysctl(&machine, &["-e", "hw.ncpu"]).stdout, "hw.ncpu=8\n");
    }

    /// Fixture sysctl-vm-swapusage.txt: `S_xswusage` format, two spaces between fields.
    #[test]
    fn swapusage_format() {
        assert_eq!(
            format_swapusage(4096 << 20, 2_876_768_256, 1_418_199_040, true),
            "total = 4096.00M  used = 2743.50M  free = 1352.50M  (encrypted)"
        );
        let (_dir, machine) = mac("m1-8gb-monterey");
        assert_eq!(
            sysctl(&machine, &["vm.swapusage"]).stdout,
            "vm.swapusage: total = 0.00M  used = 0.00M  free = 0.00M  (encrypted)\n"
        );
        // Unencrypted swap leaves the two trailing spaces (the `%s` is empty).
        assert!(format_swapusage(0, 0, 0, false).ends_with("free = 0.00M  "));
    }

    /// sysctl.c `S_loadavg`: "{ %.2f %.2f %.2f }".
    #[test]
    fn loadavg_format() {
        let (_dir, machine) = mac("m1-8gb-monterey");
        let out = sysctl(&machine, &["-n", "vm.loadavg"]);
        let inner = out.stdout.strip_prefix("{ ").unwrap().strip_suffix(" }\n");
        let numbers: Vec<&str> = inner.unwrap().split(' ').collect();
        assert_eq!(numbers.len(), 3);
        assert!(
            numbers
                .iter()
                .all(|n| n.len() == 4 && n.as_bytes()[1] == b'.')
        );
    }

    /// Fixture sysctl-machdep-cpu-m1.txt: `machdep.cpu.brand_string: Apple M1`,
    /// `machdep.cpu.core_count: 8`.
    #[test]
    fn machdep_cpu_matches_m1_capture() {
        let (_dir, machine) = mac("m1-8gb-monterey");
        let out = sysctl(
            &machine,
            &["machdep.cpu.brand_string", "machdep.cpu.core_count"],
        );
        assert_eq!(
            out.stdout,
            "machdep.cpu.brand_string: Apple M1\nmachdep.cpu.core_count: 8\n"
        );
    }

    /// Reference 4.3 (oshi#3537): perflevel0 is the Performance cluster, perflevel1 the
    /// Efficiency one; a node name lists the leaves below it.
    #[test]
    fn perflevels_and_node_listing() {
        let (_dir, machine) = mac("m4max-64gb-sequoia");
        let out = sysctl(
            &machine,
            &["-n", "hw.nperflevels", "hw.perflevel0.physicalcpu"],
        );
        assert_eq!(out.stdout, "2\n12\n");
        let out = sysctl(&machine, &["hw.perflevel1"]);
        assert_eq!(
            out.stdout,
            "hw.perflevel1.physicalcpu: 4\nhw.perflevel1.physicalcpu_max: 4\n\
             hw.perflevel1.logicalcpu: 4\nhw.perflevel1.logicalcpu_max: 4\n\
             hw.perflevel1.name: Efficiency\n"
        );
        let out = sysctl(
            &machine,
            &["-n", "hw.perflevel0.name", "machdep.cpu.core_count"],
        );
        assert_eq!(out.stdout, "Performance\n16\n");
    }

    /// M5 Pro and M5 Max call their clusters Super and Performance (see `oids`).
    #[test]
    fn m5_max_levels_are_super_and_performance() {
        let (_dir, mut machine) = mac("m4max-64gb-sequoia");
        machine.info.chip = "Apple M5 Max".to_string();
        machine.info.performance_cores = 6;
        machine.info.efficiency_cores = 12;
        let out = sysctl(
            &machine,
            &[
                "hw.nperflevels",
                "hw.perflevel0.name",
                "hw.perflevel0.physicalcpu",
                "hw.perflevel1.name",
                "hw.perflevel1.physicalcpu",
            ],
        );
        assert_eq!(
            out.stdout,
            "hw.nperflevels: 2\nhw.perflevel0.name: Super\nhw.perflevel0.physicalcpu: 6\n\
             hw.perflevel1.name: Performance\nhw.perflevel1.physicalcpu: 12\n"
        );
    }

    /// Model identifiers from public model tables (see `model_identifier`).
    #[test]
    fn model_per_preset() {
        for (preset, model) in [
            ("m1-8gb-monterey", "MacBookAir10,1"),
            ("m2-16gb-sonoma", "Mac14,3"),
            ("m4pro-48gb-sequoia", "Mac16,11"),
            ("m4max-64gb-sequoia", "Mac16,6"),
        ] {
            let (_dir, machine) = mac(preset);
            assert_eq!(
                sysctl(&machine, &["-n", "hw.model"]).stdout,
                format!("{model}\n")
            );
        }
    }

    /// Classic sysctl.c (macOS 12.7.6): `errx(1, "unknown oid '%s'")` stops at the first
    /// unknown name; names before it were printed.
    #[test]
    fn classic_unknown_oid_stops_the_run() {
        let (_dir, machine) = mac("m1-8gb-monterey");
        let out = sysctl(&machine, &["hw.ncpu", "hw.bogus", "hw.memsize"]);
        assert_eq!(out.stdout, "hw.ncpu: 8\n");
        assert_eq!(out.stderr, "sysctl: unknown oid 'hw.bogus'\n");
        assert_eq!(out.status, 1);
    }

    /// FreeBSD-derived sysctl.c (macOS 14.4+): `warnx`, the run goes on, status counts the
    /// failed names (`return (warncount)`).
    #[test]
    fn freebsd_unknown_oid_warns_and_counts() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        let out = sysctl(&machine, &["hw.bogus", "-n", "hw.ncpu", "also.bogus"]);
        // `-n` after a name is a name (BSD getopt stops at the first operand).
        assert_eq!(out.stdout, "hw.ncpu: 8\n");
        assert_eq!(
            out.stderr,
            "sysctl: unknown oid 'hw.bogus'\nsysctl: unknown oid '-n'\n\
             sysctl: unknown oid 'also.bogus'\n"
        );
        assert_eq!(out.status, 3);
    }

    /// sysctl.c `parse()`: `-i` skips unknown names (exit 0), `-q` fails silently; combined
    /// flags (`-in`) go through getopt.
    #[test]
    fn i_and_q() {
        let (_dir, machine) = mac("m1-8gb-monterey");
        let out = sysctl(&machine, &["-in", "hw.perflevel9.name", "hw.ncpu"]);
        assert_eq!(
            (out.status, out.stdout.as_str(), out.stderr.as_str()),
            (0, "8\n", "")
        );
        let out = sysctl(&machine, &["-q", "hw.nope"]);
        assert_eq!(
            (out.status, out.stdout.as_str(), out.stderr.as_str()),
            (1, "", "")
        );
        let (_dir, sequoia) = mac("m4pro-48gb-sequoia");
        let out = sysctl(&sequoia, &["-q", "hw.nope", "hw.ncpu", "hw.nope2"]);
        assert_eq!(
            (out.status, out.stdout.as_str(), out.stderr.as_str()),
            (2, "hw.ncpu: 14\n", "")
        );
    }

    /// sysctl.c: the old value is shown, then the kernel refuses a non-root write with EPERM
    /// (`warn("%s", string)`); as root `NAME: old -> new` (sysctl_test.sh `sysctl_write`).
    #[test]
    fn write_needs_root() {
        let (_dir, mut machine) = mac("m2-16gb-sonoma");
        let out = sysctl(&machine, &["iogpu.wired_limit_mb=12288"]);
        assert_eq!(out.stdout, "iogpu.wired_limit_mb: 0\n");
        assert_eq!(
            out.stderr,
            "sysctl: iogpu.wired_limit_mb=12288: Operation not permitted\n"
        );
        assert_eq!(out.status, 1);
        machine.info.uid = 0;
        let out = sysctl(&machine, &["-w", "iogpu.wired_limit_mb=12288"]);
        assert_eq!(
            (out.status, out.stdout.as_str()),
            (0, "iogpu.wired_limit_mb: 0 -> 12288\n")
        );
        let out = sysctl(&machine, &["-n", "iogpu.wired_limit_mb"]);
        assert_eq!(out.stdout, "12288\n");
    }

    /// The value set as root lasts until reboot (the module comment), as does a host name.
    #[test]
    fn written_values_are_lost_at_reboot() {
        let (_dir, mut machine) = mac("m4max-64gb-sequoia");
        machine.info.uid = 0;
        let out = sysctl(&machine, &["-w", "iogpu.wired_limit_mb=57344"]);
        assert_eq!(out.stdout, "iogpu.wired_limit_mb: 0 -> 57344\n");
        assert_eq!(gpu_wired_limit_bytes(&machine), Some(56 << 30));
        crate::launchctl::reboot(&machine).unwrap();
        assert_eq!(
            sysctl(&machine, &["iogpu.wired_limit_mb"]).stdout,
            "iogpu.wired_limit_mb: 0\n"
        );
        assert_eq!(gpu_wired_limit_bytes(&machine), None);
        // Ventura and earlier: bytes.
        let (_dir, mut monterey) = mac("m1-8gb-monterey");
        monterey.info.uid = 0;
        sysctl(&monterey, &["debug.iogpu.wired_limit=6442450944"]);
        assert_eq!(gpu_wired_limit_bytes(&monterey), Some(6 << 30));
    }

    /// sysctl.c: read-only names and bad numbers are refused before the kernel is asked.
    #[test]
    fn write_checks() {
        let (_dir, mut machine) = mac("m4pro-48gb-sequoia");
        machine.info.uid = 0;
        let out = sysctl(&machine, &["hw.memsize=1"]);
        assert_eq!(
            (out.status, out.stderr.as_str()),
            (1, "sysctl: oid 'hw.memsize' is read only\n")
        );
        let out = sysctl(&machine, &["iogpu.wired_limit_mb=lots"]);
        assert_eq!(out.stderr, "sysctl: invalid integer 'lots'\n");
        let out = sysctl(&machine, &["hw.perflevel0=1"]);
        assert_eq!(
            out.stderr,
            "sysctl: oid 'hw.perflevel0' isn't a leaf node\n"
        );
        // FreeBSD-derived parse() also splits at `:`, and base-0 strtol reads hex.
        let out = sysctl(&machine, &["iogpu.wired_lwm_mb: 0x400"]);
        assert_eq!(out.stdout, "iogpu.wired_lwm_mb: 0 -> 1024\n");
    }

    /// Ventura and earlier name the GPU cap `debug.iogpu.wired_limit` (bytes).
    #[test]
    fn wired_limit_name_depends_on_version() {
        let (_dir, machine) = mac("m1-8gb-monterey");
        let out = sysctl(&machine, &["iogpu.wired_limit_mb"]);
        assert_eq!(out.stderr, "sysctl: unknown oid 'iogpu.wired_limit_mb'\n");
        assert_eq!(
            sysctl(&machine, &["debug.iogpu.wired_limit"]).stdout,
            "debug.iogpu.wired_limit: 0\n"
        );
    }

    /// sysctl.c `main()`: `-a` lists everything; `-N` names only; `-N` with `-n` is usage.
    #[test]
    fn a_lists_everything() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        let out = sysctl(&machine, &["-a"]);
        assert!(out.stdout.contains("\nhw.memsize: 17179869184\n"));
        assert!(out.stdout.contains("\nvm.swapusage: total = 0.00M"));
        assert!(out.stdout.contains("\niogpu.wired_limit_mb: 0\n"));
        let names = sysctl(&machine, &["-aN"]).stdout;
        assert!(names.lines().any(|line| line == "kern.hostname"));
        let out = sysctl(&machine, &["-Nn", "hw.ncpu"]);
        assert_eq!((out.status, out.stderr.as_str()), (1, FREEBSD_USAGE));
    }

    /// Apple Libc getopt: `sysctl: illegal option -- z`, then the program's own usage.
    #[test]
    fn illegal_option_prints_usage() {
        let (_dir, monterey) = mac("m1-8gb-monterey");
        let out = sysctl(&monterey, &["-z", "hw.ncpu"]);
        assert_eq!(out.status, 1);
        assert_eq!(
            out.stderr,
            format!("sysctl: illegal option -- z\n{CLASSIC_USAGE}")
        );
        let out = sysctl(&monterey, &[]);
        assert_eq!(out.stderr, CLASSIC_USAGE);
        let (_dir, sequoia) = mac("m4max-64gb-sequoia");
        let out = sysctl(&sequoia, &["-z"]);
        assert_eq!(
            out.stderr,
            format!("sysctl: illegal option -- z\n{FREEBSD_USAGE}")
        );
    }
}
