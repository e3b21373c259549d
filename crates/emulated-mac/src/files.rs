//! Emulated BSD file tools: `cat`, `tee`, `mkdir`, `rm`, `mv`, `ln`, `readlink` and `test`,
//! over the emulated Mac's directory. Each follows its Apple source, whose diagnostics are
//! err(3)/warn(3) lines `PROG: ARG: strerror(errno)` on stderr:
//!
//! - `cat`: apple-oss-distributions/text_cmds `cat/cat.c` (`warn("%s", path)`, status 1, the
//!   other files are still printed; a directory fails on read with EISDIR; usage
//!   `usage: cat [-belnstuv] [file ...]`, status 1). The formatting options (`-b -e -n -s -t
//!   -v`) are refused as not emulated.
//! - `tee`: shell_cmds `tee/tee.c` (files opened `O_WRONLY|O_CREAT|O_TRUNC`, or `O_APPEND`
//!   with `-a`; a file that cannot be opened is `warn`ed, status 1, and the input still goes
//!   to stdout and the other files; usage `usage: tee [-ai] [file ...]`, status 1).
//! - `mkdir`: file_cmds `mkdir/mkdir.c` (without `-p` a missing parent is reported on
//!   `dirname(path)`; `-p` walks the prefixes of the argument and reports the prefix that
//!   failed, `File exists` for a last component that is not a directory and `Not a directory`
//!   for an earlier one; `invalid file mode: %s`; usage status 64 = EX_USAGE).
//! - `rm`: file_cmds `rm/rm.c` (`rm_file`: `%s: is a directory` without `-r`/`-d`, `-f`
//!   silences ENOENT and makes no operands a success; `"/" may not be removed`, `"." and ".."
//!   may not be removed`; `-r` walks the tree without following symlinks; usage status 64).
//!   No prompts: stdin is never a terminal here.
//! - `mv`: file_cmds `mv/mv.c` (`do_move`: a failed rename(2) is `rename FROM to TO: error`;
//!   a missing source is reported as `FROM: error` only when the target exists; a directory
//!   target receives the source under its own name; usage status 64).
//! - `ln`: file_cmds `ln/ln.c` (`linkit`: the target is unlinked first with `-f`; a directory
//!   target (not a symlink to one with `-h`/`-n`) receives the link under the source's name;
//!   `symlink(2)` failure is `warn("%s", target)`, e.g. `ln: /x: File exists`; usage status
//!   1). Symbolic links store the target exactly as given, a Mac path: the link inside the
//!   sandbox directory is a real symlink whose text is that Mac path, and everything here
//!   resolves it inside the sandbox (see [`resolve`]); nothing on the host may follow it.
//! - `readlink`: file_cmds `stat/stat.c` in readlink mode (`%Y` format, quiet): the stored
//!   target and a newline; for something that is not a link nothing at all and status 1
//!   (`linkfail`); a missing file is silent too. `-f` prints the canonical path, `-n` drops
//!   the newline.
//! - `test`: shell_cmds `test/test.c` for up to four arguments (POSIX rules): no output,
//!   status 0/1, syntax errors `test: %s: unexpected operator` etc. with status 2 (`verrx(2)`).
//!
//! Paths are absolute Mac paths. The emulated Mac's rules for writing (they decide EROFS
//! versus EACCES, in the kernel's order: lookup, then read-only file system, then access):
//! the sealed system volume is read-only for everyone, root included (SIP): `/` itself,
//! `/System` (but not `/System/Volumes/Data`), `/usr` (but not `/usr/local`), `/bin`, `/sbin`
//! and any other top-level name that is not firmlinked to the data volume. On the data volume
//! root may write anywhere; the user only in the home folder, `/Users/Shared`,
//! `/Applications` (group admin), `/opt/homebrew`, `/tmp` and `/private/tmp`, and inside
//! mounted volumes under `/Volumes`; elsewhere (`/Library`, `/private/var`, ...) EACCES. A
//! path under `/System/Volumes/Data/` names the same file as the firmlinked path
//! (`/System/Volumes/Data/Users/admin` is `/Users/admin`). The emulated user also honours the
//! owner write bit of a file or directory (`mkdir -m 555`), and owners: what root creates in
//! the user's home (`tee`, `mkdir`) is root's, and the user may not change it until `chown`
//! gives it back (see [`crate::owners`]; `mv` and `ln` keep no owners).

use super::getopt::getopt;
use super::machine::Machine;
use crate::output::Output;
use std::fs;
use std::io::{ErrorKind, Write as _};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

/// Runs `PROGRAM ARGS` for one of the file tools (`program` is the bare name).
pub fn run(machine: &Machine, program: &str, args: &[String], stdin: &[u8]) -> Output {
    ensure_skeleton(machine);
    let tools = Tools { machine };
    match program {
        "cat" => tools.cat(args, stdin),
        "tee" => tools.tee(args, stdin),
        "mkdir" => tools.mkdir(args),
        "rm" => tools.rm(args),
        "mv" => tools.mv(args),
        "ln" => tools.ln(args),
        "readlink" => tools.readlink(args),
        "test" => tools.test(args),
        "chmod" => tools.chmod(args),
        other => Output::failed(1, format!("{other}: not one of the emulated file tools\n")),
    }
}

/// The errno values these tools can report, with Darwin's strerror(3) texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Errno {
    NoEnt,
    NotDir,
    IsDir,
    Exist,
    Access,
    ReadOnly,
    Loop,
    NotEmpty,
    Invalid,
    NotPermitted,
    CrossDevice,
    Io,
}

impl Errno {
    pub fn text(self) -> &'static str {
        match self {
            Errno::NoEnt => "No such file or directory",
            Errno::NotDir => "Not a directory",
            Errno::IsDir => "Is a directory",
            Errno::Exist => "File exists",
            Errno::Access => "Permission denied",
            Errno::ReadOnly => "Read-only file system",
            Errno::Loop => "Too many levels of symbolic links",
            Errno::NotEmpty => "Directory not empty",
            Errno::Invalid => "Invalid argument",
            Errno::NotPermitted => "Operation not permitted",
            Errno::CrossDevice => "Cross-device link",
            Errno::Io => "Input/output error",
        }
    }

    /// The errno behind a host I/O error, by kind (the host may be Linux; its texts are not
    /// used).
    pub fn of(err: &std::io::Error) -> Errno {
        match err.kind() {
            ErrorKind::NotFound => Errno::NoEnt,
            ErrorKind::PermissionDenied => Errno::Access,
            ErrorKind::AlreadyExists => Errno::Exist,
            ErrorKind::NotADirectory => Errno::NotDir,
            ErrorKind::IsADirectory => Errno::IsDir,
            ErrorKind::DirectoryNotEmpty => Errno::NotEmpty,
            ErrorKind::ReadOnlyFilesystem => Errno::ReadOnly,
            ErrorKind::CrossesDevices => Errno::CrossDevice,
            ErrorKind::InvalidInput => Errno::Invalid,
            _ => Errno::Io,
        }
    }
}

/// What a path names, without following a final symlink unless asked to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
}

/// A Mac path after symlink resolution: the canonical Mac path (no `.`, `..` or symlinks
/// before the last component), where it lives in the sandbox, and what is there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub mac: String,
    pub host: PathBuf,
    pub kind: Option<Kind>,
}

impl Resolved {
    /// The canonical Mac path of the directory holding this entry.
    pub fn parent(&self) -> String {
        parent_of(&self.mac)
    }

    pub fn exists(&self) -> bool {
        self.kind.is_some()
    }
}

/// The directory part of a canonical Mac path (`/` for top-level names).
pub fn parent_of(mac: &str) -> String {
    match mac.rfind('/') {
        Some(0) | None => "/".to_string(),
        Some(at) => mac[..at].to_string(),
    }
}

/// Directories every Mac has (a fresh install of macOS 12-15), as paths inside the sandbox;
/// `{user}` is the account name. A sandbox made before the file tools existed lacks them, so
/// [`ensure_skeleton`] creates the missing ones on use.
const SKELETON: &[&str] = &[
    "Applications",
    "Library/Application Support",
    "Library/LaunchAgents",
    "Library/LaunchDaemons",
    "Library/Logs",
    "Library/Preferences",
    "System/Library/CoreServices",
    "System/Library/LaunchAgents",
    "System/Library/LaunchDaemons",
    "System/Volumes/Data",
    "Users/Shared",
    "Users/{user}/Desktop",
    "Users/{user}/Documents",
    "Users/{user}/Downloads",
    "Users/{user}/Library/Application Support",
    "Users/{user}/Library/Caches",
    "Users/{user}/Library/LaunchAgents",
    "Users/{user}/Library/Logs",
    "Users/{user}/Library/Preferences",
    "Volumes",
    "private/etc",
    "private/tmp",
    "private/var/db",
    "private/var/log",
];

/// Creates the standard directories of a Mac that the sandbox does not have yet (see
/// [`SKELETON`]). Cheap and idempotent; failures are left for the caller's own lookups.
pub fn ensure_skeleton(machine: &Machine) {
    for entry in SKELETON {
        let path = machine
            .dir
            .join(entry.replace("{user}", &machine.info.user));
        if !path.is_dir() {
            let _ = fs::create_dir_all(&path);
        }
    }
    // macOS's /tmp, /etc and /var are symlinks into /private; the link text is the Mac's own
    // (`private/tmp`), resolved inside the sandbox like any other link.
    for name in ["tmp", "etc", "var"] {
        let link = machine.dir.join(name);
        if fs::symlink_metadata(&link).is_err() {
            let _ = std::os::unix::fs::symlink(format!("private/{name}"), &link);
        }
    }
}

/// Directories of the data volume that the root of the system volume shows through
/// firmlinks (`/usr/share/firmlinks` on Catalina and later; the ones a script meets).
const FIRMLINKED: &[&str] = &[
    "Applications",
    "Library",
    "Users",
    "Volumes",
    "cores",
    "opt",
    "private",
];
/// Top-level names that live on the data volume: the firmlinked ones, `/usr/local`, and the
/// `/tmp`, `/var`, `/etc` links into `/private`.
const DATA_TOP: &[&str] = &[
    "Applications",
    "Library",
    "Users",
    "Volumes",
    "cores",
    "opt",
    "private",
    "tmp",
    "var",
    "etc",
];
/// The kernel's MAXSYMLINKS on Darwin.
const MAX_SYMLINKS: usize = 32;

/// Resolves an absolute Mac path inside the sandbox, following symlinks by their stored
/// Mac-path targets (an absolute target restarts at the emulated `/`, a relative one at the
/// link's directory) and the `/System/Volumes/Data` firmlinks. `..` is applied to the
/// resolved path, so it cannot leave the sandbox. A final symlink is followed only when
/// `follow_last` (stat(2) versus lstat(2)). Errors are what path lookup would return:
/// ENOENT for a missing directory on the way (or a relative path: the emulated programs have
/// no working directory), ENOTDIR for a file used as one, ELOOP after 32 links.
pub fn resolve(machine: &Machine, path: &str, follow_last: bool) -> Result<Resolved, Errno> {
    if !path.starts_with('/') {
        return Err(Errno::NoEnt);
    }
    // A trailing slash asks for a directory: the final link is followed.
    let follow_last = follow_last || (path.len() > 1 && path.ends_with('/'));
    let mut queue: std::collections::VecDeque<String> = components(path);
    let mut current: Vec<String> = Vec::new();
    let mut links = 0;
    let mut kind = Some(Kind::Dir);
    while let Some(part) = queue.pop_front() {
        if part == ".." {
            current.pop();
            kind = Some(Kind::Dir);
            continue;
        }
        let at_data_root = current.len() == 3 && current[..] == ["System", "Volumes", "Data"];
        let firmlinked = FIRMLINKED.contains(&part.as_str())
            || (part == "usr" && queue.front().is_some_and(|p| p == "local"));
        if at_data_root && firmlinked {
            current.clear();
        }
        let last = queue.is_empty();
        let mut host = machine.dir.clone();
        host.extend(current.iter());
        host.push(&part);
        match fs::symlink_metadata(&host) {
            Err(_) if last => {
                current.push(part);
                kind = None;
            }
            Err(_) => return Err(Errno::NoEnt),
            Ok(meta) if meta.file_type().is_symlink() && (!last || follow_last) => {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(Errno::Loop);
                }
                let target = fs::read_link(&host).map_err(|e| Errno::of(&e))?;
                let target = target.to_string_lossy().into_owned();
                if target.starts_with('/') {
                    current.clear();
                }
                for item in components(&target).into_iter().rev() {
                    queue.push_front(item);
                }
                kind = Some(Kind::Dir);
            }
            Ok(meta) => {
                let this = if meta.file_type().is_symlink() {
                    Kind::Symlink
                } else if meta.is_dir() {
                    Kind::Dir
                } else {
                    Kind::File
                };
                if !last && this != Kind::Dir {
                    return Err(Errno::NotDir);
                }
                current.push(part);
                kind = Some(this);
            }
        }
    }
    let mut host = machine.dir.clone();
    host.extend(current.iter());
    Ok(Resolved {
        mac: format!("/{}", current.join("/")),
        host,
        kind,
    })
}

fn components(path: &str) -> std::collections::VecDeque<String> {
    path.split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .map(str::to_string)
        .collect()
}

/// Whether the top of a canonical Mac path is on the data volume (see the module comment).
pub fn on_data_volume(mac: &str) -> bool {
    let mut parts = mac.split('/').filter(|p| !p.is_empty());
    match (parts.next(), parts.next(), parts.next()) {
        (Some(top), ..) if DATA_TOP.contains(&top) => true,
        (Some("usr"), Some("local"), _) => true,
        (Some("System"), Some("Volumes"), Some("Data")) => true,
        _ => false,
    }
}

/// Whether `mac` is `prefix` or below it.
pub fn under(mac: &str, prefix: &str) -> bool {
    mac == prefix
        || mac
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Whether the current user may change `mac`: a file being written, or the directory whose
/// entries are created, removed or renamed. EROFS before EACCES, as the kernel checks.
pub fn may_write(machine: &Machine, mac: &str) -> Result<(), Errno> {
    if !on_data_volume(mac) {
        return Err(Errno::ReadOnly);
    }
    if machine.is_root() {
        return Ok(());
    }
    let home = machine.mac_home();
    let user_area = under(mac, &home)
        || under(mac, "/Users/Shared")
        || under(mac, "/Applications")
        || under(mac, "/opt/homebrew")
        || under(mac, "/tmp")
        || under(mac, "/private/tmp")
        || (under(mac, "/Volumes") && mac != "/Volumes");
    if !user_area {
        return Err(Errno::Access);
    }
    // What root made in the user's home stays root's until chowned (see `owners`).
    if under(mac, &home) && super::owners::owner_of(machine, mac) != machine.info.user {
        return Err(Errno::Access);
    }
    if let Ok(resolved) = resolve(machine, mac, true)
        && let Ok(meta) = fs::metadata(&resolved.host)
        && meta.permissions().mode() & 0o200 == 0
    {
        return Err(Errno::Access);
    }
    Ok(())
}

/// `PROG: ARG: strerror` (warn(3)).
fn warn(program: &str, arg: &str, errno: Errno) -> String {
    format!("{program}: {arg}: {}\n", errno.text())
}

/// Collects what one run prints and its status.
#[derive(Default)]
struct Run {
    stdout: Vec<u8>,
    stderr: String,
    status: i32,
}

impl Run {
    fn fail(&mut self, line: String) {
        self.stderr.push_str(&line);
        self.status = 1;
    }

    fn output(self) -> Output {
        Output {
            status: self.status,
            stdout: String::from_utf8_lossy(&self.stdout).into_owned(),
            stderr: self.stderr,
        }
    }
}

fn not_emulated(program: &str, option: char) -> Output {
    Output::failed(
        1,
        format!("{program}: option -{option} is not emulated by macllm's sandbox\n"),
    )
}

struct Tools<'a> {
    machine: &'a Machine,
}

impl Tools<'_> {
    // ----- cat -----------------------------------------------------------------------------

    fn cat(&self, args: &[String], stdin: &[u8]) -> Output {
        const USAGE: &str = "usage: cat [-belnstuv] [file ...]\n";
        let parsed = match getopt("cat", args, "belnstuv") {
            Ok(parsed) => parsed,
            Err(diagnostic) => return Output::failed(1, format!("{diagnostic}{USAGE}")),
        };
        if let Some((option, _)) = parsed.options.iter().find(|(o, _)| *o != 'u' && *o != 'l') {
            return not_emulated("cat", *option);
        }
        let mut run = Run::default();
        let operands = if parsed.operands.is_empty() {
            vec!["-".to_string()]
        } else {
            parsed.operands
        };
        for path in &operands {
            if path == "-" {
                run.stdout.extend_from_slice(stdin);
                continue;
            }
            match self.read_file(path) {
                Ok(bytes) => run.stdout.extend_from_slice(&bytes),
                Err(errno) => run.fail(warn("cat", path, errno)),
            }
        }
        run.output()
    }

    /// open(2) then read(2): ENOENT and friends from the lookup, EISDIR from the read.
    fn read_file(&self, path: &str) -> Result<Vec<u8>, Errno> {
        let resolved = resolve(self.machine, path, true)?;
        match resolved.kind {
            None => Err(Errno::NoEnt),
            Some(Kind::Dir) => Err(Errno::IsDir),
            Some(_) => fs::read(&resolved.host).map_err(|e| Errno::of(&e)),
        }
    }

    // ----- tee -----------------------------------------------------------------------------

    fn tee(&self, args: &[String], stdin: &[u8]) -> Output {
        const USAGE: &str = "usage: tee [-ai] [file ...]\n";
        let parsed = match getopt("tee", args, "ai") {
            Ok(parsed) => parsed,
            Err(diagnostic) => return Output::failed(1, format!("{diagnostic}{USAGE}")),
        };
        let append = parsed.options.iter().any(|(o, _)| *o == 'a');
        let mut run = Run::default();
        for path in &parsed.operands {
            if let Err(errno) = self.write_file(path, stdin, append) {
                run.fail(warn("tee", path, errno));
            }
        }
        run.stdout.extend_from_slice(stdin);
        run.output()
    }

    /// open(2) with O_WRONLY|O_CREAT and O_TRUNC or O_APPEND, then write(2).
    fn write_file(&self, path: &str, bytes: &[u8], append: bool) -> Result<(), Errno> {
        let resolved = resolve(self.machine, path, true)?;
        match resolved.kind {
            Some(Kind::Dir) => return Err(Errno::IsDir),
            Some(_) => may_write(self.machine, &resolved.mac)?,
            None => may_write(self.machine, &resolved.parent())?,
        }
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .append(append)
            .truncate(!append)
            .open(&resolved.host)
            .map_err(|e| Errno::of(&e))?;
        if resolved.kind.is_none() {
            super::owners::created(self.machine, &resolved.mac);
        }
        file.write_all(bytes).map_err(|e| Errno::of(&e))
    }

    // ----- chmod ---------------------------------------------------------------------------

    /// `chmod MODE FILE...` with an octal mode (file_cmds `chmod.c`: each file's failure is
    /// `chmod: FILE: strerror` and exit 1). Symbolic modes are not emulated and are refused
    /// the way a bad mode is (`setmode(3)` fails: `chmod: Invalid file mode: MODE`,
    /// UNCONFIRMED capitalisation).
    fn chmod(&self, args: &[String]) -> Output {
        const USAGE: &str = "usage:\tchmod [-fhv] [-R [-H | -L | -P]] [-a | +a | =a  [i][# [ n]]] mode|entry file ...\n\tchmod [-fhv] [-R [-H | -L | -P]] [-E | -C | -N | -i | -I] file ...\n";
        let [mode, files @ ..] = args else {
            return Output::failed(1, USAGE);
        };
        if files.is_empty() {
            return Output::failed(1, USAGE);
        }
        let Some(bits) = u32::from_str_radix(mode, 8).ok().filter(|b| *b <= 0o7777) else {
            return Output::failed(1, format!("chmod: Invalid file mode: {mode}\n"));
        };
        let mut run = Run::default();
        for path in files {
            let result = resolve(self.machine, path, true).and_then(|resolved| {
                if resolved.kind.is_none() {
                    return Err(Errno::NoEnt);
                }
                may_write(self.machine, &resolved.mac)?;
                fs::set_permissions(&resolved.host, fs::Permissions::from_mode(bits))
                    .map_err(|e| Errno::of(&e))
            });
            if let Err(errno) = result {
                run.fail(warn("chmod", path, errno));
            }
        }
        run.output()
    }

    // ----- mkdir ---------------------------------------------------------------------------

    fn mkdir(&self, args: &[String]) -> Output {
        const USAGE: &str = "usage: mkdir [-pv] [-m mode] directory_name ...\n";
        let parsed = match getopt("mkdir", args, "m:pv") {
            Ok(parsed) => parsed,
            Err(diagnostic) => return Output::failed(64, format!("{diagnostic}{USAGE}")),
        };
        if parsed.operands.is_empty() {
            return Output::failed(64, USAGE);
        }
        let mut parents = false;
        let mut verbose = false;
        let mut mode = None;
        for (option, value) in &parsed.options {
            match option {
                'p' => parents = true,
                'v' => verbose = true,
                _ => mode = value.clone(),
            }
        }
        // umask 022: directories are 0755 unless -m says otherwise.
        let final_mode = match &mode {
            None => 0o755,
            Some(text) => match parse_mode(text, 0o777) {
                Some(bits) => bits,
                None => return Output::failed(1, format!("mkdir: invalid file mode: {text}\n")),
            },
        };
        let mut run = Run::default();
        for path in &parsed.operands {
            if parents {
                self.mkdir_parents(path, final_mode, verbose, &mut run);
                continue;
            }
            match self.make_dir(path, final_mode) {
                Ok(()) if verbose => run.stdout.extend_from_slice(format!("{path}\n").as_bytes()),
                Ok(()) => {}
                // mkdir.c reports a missing or non-directory parent on dirname(path).
                Err(errno @ (Errno::NoEnt | Errno::NotDir)) => {
                    run.fail(warn("mkdir", &dirname(path), errno))
                }
                Err(errno) => run.fail(warn("mkdir", path, errno)),
            }
        }
        run.output()
    }

    /// mkdir(2): EEXIST for anything already there (a dangling symlink too), then EROFS or
    /// EACCES on the parent.
    fn make_dir(&self, path: &str, mode: u32) -> Result<(), Errno> {
        let resolved = resolve(self.machine, path, false)?;
        if resolved.exists() {
            return Err(Errno::Exist);
        }
        may_write(self.machine, &resolved.parent())?;
        fs::create_dir(&resolved.host).map_err(|e| Errno::of(&e))?;
        super::owners::created(self.machine, &resolved.mac);
        let _ = fs::set_permissions(&resolved.host, fs::Permissions::from_mode(mode));
        Ok(())
    }

    /// mkdir.c `build()`: every prefix of the argument in turn; an existing directory (or a
    /// link to one) is fine; the first failure is reported on that prefix.
    fn mkdir_parents(&self, path: &str, mode: u32, verbose: bool, run: &mut Run) {
        let bytes: Vec<usize> = path
            .char_indices()
            .filter(|(at, c)| *c == '/' && *at > 0)
            .map(|(at, _)| at)
            .chain(std::iter::once(path.len()))
            .collect();
        let mut ends = bytes;
        ends.dedup();
        let count = ends.len();
        for (index, end) in ends.into_iter().enumerate() {
            let prefix = &path[..end];
            if prefix.is_empty() || prefix.ends_with('/') {
                continue;
            }
            let last = index + 1 == count || path[end..].trim_matches('/').is_empty();
            let mode = if last { mode } else { 0o755 };
            match self.make_dir(prefix, mode) {
                Ok(()) if verbose => run
                    .stdout
                    .extend_from_slice(format!("{prefix}\n").as_bytes()),
                Ok(()) => {}
                Err(Errno::Exist) => match resolve(self.machine, prefix, true) {
                    Ok(r) if r.kind == Some(Kind::Dir) => {}
                    Ok(_) => {
                        let errno = if last { Errno::Exist } else { Errno::NotDir };
                        return run.fail(warn("mkdir", prefix, errno));
                    }
                    Err(errno) => return run.fail(warn("mkdir", prefix, errno)),
                },
                Err(errno) => return run.fail(warn("mkdir", prefix, errno)),
            }
            if last {
                return;
            }
        }
    }

    // ----- rm ------------------------------------------------------------------------------

    fn rm(&self, args: &[String]) -> Output {
        const USAGE: &str = "usage: rm [-f | -i] [-dIPRrvWx] file ...\n       unlink [--] file\n";
        let parsed = match getopt("rm", args, "dfiIPRrvWx") {
            Ok(parsed) => parsed,
            Err(diagnostic) => return Output::failed(64, format!("{diagnostic}{USAGE}")),
        };
        let mut force = false;
        let mut recursive = false;
        let mut dirs = false;
        let mut verbose = false;
        for (option, _) in &parsed.options {
            match option {
                'f' => force = true,
                'i' => force = false,
                'r' | 'R' => recursive = true,
                'd' => dirs = true,
                'v' => verbose = true,
                'P' | 'x' => {}
                other => return not_emulated("rm", *other),
            }
        }
        if parsed.operands.is_empty() {
            return if force {
                Output::ok("")
            } else {
                Output::failed(64, USAGE)
            };
        }
        let mut run = Run::default();
        let mut operands = Vec::new();
        let (mut said_dot, mut said_slash) = (false, false);
        for path in &parsed.operands {
            let base = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
            if path == "/" {
                if !said_slash {
                    run.stderr.push_str("rm: \"/\" may not be removed\n");
                }
                said_slash = true;
                run.status = 1;
            } else if base == "." || base == ".." {
                if !said_dot {
                    run.stderr
                        .push_str("rm: \".\" and \"..\" may not be removed\n");
                }
                said_dot = true;
                run.status = 1;
            } else {
                operands.push(path);
            }
        }
        for path in operands {
            match self.remove(path, recursive, dirs) {
                Ok(()) if verbose => run.stdout.extend_from_slice(format!("{path}\n").as_bytes()),
                Ok(()) => {}
                Err(Errno::NoEnt) if force => {}
                Err(Errno::IsDir) if !recursive => {
                    run.fail(format!("rm: {path}: is a directory\n"))
                }
                Err(errno) => run.fail(warn("rm", path, errno)),
            }
        }
        run.output()
    }

    fn remove(&self, path: &str, recursive: bool, dirs: bool) -> Result<(), Errno> {
        let resolved = resolve(self.machine, path, false)?;
        let Some(kind) = resolved.kind else {
            return Err(Errno::NoEnt);
        };
        if kind == Kind::Dir && !recursive && !dirs {
            return Err(Errno::IsDir);
        }
        may_write(self.machine, &resolved.parent())?;
        let result = match kind {
            Kind::Dir if recursive => {
                may_write(self.machine, &resolved.mac)?;
                fs::remove_dir_all(&resolved.host)
            }
            Kind::Dir => fs::remove_dir(&resolved.host),
            _ => fs::remove_file(&resolved.host),
        };
        result.map_err(|e| Errno::of(&e))?;
        super::owners::removed(self.machine, &resolved.mac);
        Ok(())
    }

    // ----- mv ------------------------------------------------------------------------------

    fn mv(&self, args: &[String]) -> Output {
        const USAGE: &str = "usage: mv [-f | -i | -n] [-hv] source target\n       \
                             mv [-f | -i | -n] [-v] source ... directory\n";
        let parsed = match getopt("mv", args, "fhinv") {
            Ok(parsed) => parsed,
            Err(diagnostic) => return Output::failed(64, format!("{diagnostic}{USAGE}")),
        };
        let mut no_clobber = false;
        let mut verbose = false;
        let mut no_follow = false;
        for (option, _) in &parsed.options {
            match option {
                'n' => no_clobber = true,
                'f' | 'i' => no_clobber = false,
                'v' => verbose = true,
                _ => no_follow = true,
            }
        }
        let operands = parsed.operands;
        if operands.len() < 2 {
            return Output::failed(64, USAGE);
        }
        let (sources, target) = operands.split_at(operands.len() - 1);
        let target = &target[0];
        let target_is_dir = resolve(self.machine, target, true)
            .is_ok_and(|r| r.kind == Some(Kind::Dir))
            && !(no_follow
                && resolve(self.machine, target, false)
                    .is_ok_and(|r| r.kind == Some(Kind::Symlink)));
        let mut run = Run::default();
        if !target_is_dir {
            if sources.len() > 1 {
                return Output::failed(1, format!("mv: {target} is not a directory\n"));
            }
            self.do_move(&sources[0], target, no_clobber, verbose, &mut run);
            return run.output();
        }
        for source in sources {
            let name = source
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("");
            let to = format!("{}/{name}", target.trim_end_matches('/'));
            self.do_move(source, &to, no_clobber, verbose, &mut run);
        }
        run.output()
    }

    /// mv.c `do_move`, without prompts: rename(2) and its error.
    fn do_move(&self, from: &str, to: &str, no_clobber: bool, verbose: bool, run: &mut Run) {
        let target_exists = resolve(self.machine, to, true).is_ok_and(|r| r.exists());
        let source = resolve(self.machine, from, false);
        if target_exists {
            match &source {
                Err(errno) => return run.fail(warn("mv", from, *errno)),
                Ok(r) if !r.exists() => return run.fail(warn("mv", from, Errno::NoEnt)),
                Ok(_) => {}
            }
            if no_clobber {
                if verbose {
                    run.stdout
                        .extend_from_slice(format!("{to} not overwritten\n").as_bytes());
                }
                return;
            }
        }
        match self.rename(from, to) {
            Ok(()) if verbose => run
                .stdout
                .extend_from_slice(format!("{from} -> {to}\n").as_bytes()),
            Ok(()) => {}
            Err(errno) => run.fail(format!("mv: rename {from} to {to}: {}\n", errno.text())),
        }
    }

    /// rename(2): both names looked up without following the last link; EROFS/EACCES on
    /// either directory; the host's rename semantics for what may replace what.
    fn rename(&self, from: &str, to: &str) -> Result<(), Errno> {
        let source = resolve(self.machine, from, false)?;
        let Some(kind) = source.kind else {
            return Err(Errno::NoEnt);
        };
        let target = resolve(self.machine, to, false)?;
        if target.kind.is_none() && !resolve(self.machine, &target.parent(), true)?.exists() {
            return Err(Errno::NoEnt);
        }
        may_write(self.machine, &source.parent())?;
        may_write(self.machine, &target.parent())?;
        if kind == Kind::Dir && under(&target.mac, &source.mac) && target.mac != source.mac {
            return Err(Errno::Invalid);
        }
        match (kind, target.kind) {
            (Kind::Dir, Some(Kind::File | Kind::Symlink)) => return Err(Errno::NotDir),
            (Kind::File | Kind::Symlink, Some(Kind::Dir)) => return Err(Errno::IsDir),
            _ => {}
        }
        fs::rename(&source.host, &target.host).map_err(|e| Errno::of(&e))
    }

    // ----- ln ------------------------------------------------------------------------------

    fn ln(&self, args: &[String]) -> Output {
        const USAGE: &str = "usage: ln [-s [-F] | -L | -P] [-f | -i] [-hnv] source_file [target_file]\n       \
             ln [-s [-F] | -L | -P] [-f | -i] [-hnv] source_file ... target_dir\n";
        let parsed = match getopt("ln", args, "FLPfhinsvw") {
            Ok(parsed) => parsed,
            Err(diagnostic) => return Output::failed(1, format!("{diagnostic}{USAGE}")),
        };
        let mut flags = LinkFlags::default();
        for (option, _) in &parsed.options {
            match option {
                's' => flags.symbolic = true,
                'f' => flags.force = true,
                'i' => flags.force = false,
                'h' | 'n' => flags.no_follow = true,
                'v' => flags.verbose = true,
                'L' | 'P' | 'w' => {}
                other => return not_emulated("ln", *other),
            }
        }
        let operands = parsed.operands;
        let mut run = Run::default();
        match operands.len() {
            0 => return Output::failed(1, USAGE),
            // `ln source` links into the working directory, which the emulated programs lack.
            1 => return Output::failed(1, warn("ln", &operands[0], Errno::NoEnt)),
            2 => self.link(&operands[0], &operands[1], false, &flags, &mut run),
            _ => {
                let dir = &operands[operands.len() - 1];
                if flags.no_follow
                    && resolve(self.machine, dir, false)
                        .is_ok_and(|r| r.kind == Some(Kind::Symlink))
                {
                    return Output::failed(1, warn("ln", dir, Errno::NotDir));
                }
                match resolve(self.machine, dir, true) {
                    Ok(r) if r.kind == Some(Kind::Dir) => {}
                    Ok(r) if r.kind.is_none() => {
                        return Output::failed(1, warn("ln", dir, Errno::NoEnt));
                    }
                    Ok(_) => return Output::failed(1, USAGE),
                    Err(errno) => return Output::failed(1, warn("ln", dir, errno)),
                }
                for source in &operands[..operands.len() - 1] {
                    self.link(source, dir, true, &flags, &mut run);
                }
            }
        }
        run.output()
    }

    /// ln.c `linkit`.
    fn link(&self, source: &str, target: &str, is_dir: bool, flags: &LinkFlags, run: &mut Run) {
        if !flags.symbolic {
            match resolve(self.machine, source, true) {
                Err(errno) => return run.fail(warn("ln", source, errno)),
                Ok(r) if r.kind.is_none() => return run.fail(warn("ln", source, Errno::NoEnt)),
                Ok(r) if r.kind == Some(Kind::Dir) => {
                    return run.fail(warn("ln", source, Errno::IsDir));
                }
                Ok(_) => {}
            }
        }
        let into_dir = is_dir
            || resolve(self.machine, target, false).is_ok_and(|r| r.kind == Some(Kind::Dir))
            || (!flags.no_follow
                && resolve(self.machine, target, true).is_ok_and(|r| r.kind == Some(Kind::Dir)));
        let target = if into_dir {
            let name = source
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("");
            format!("{}/{name}", target.trim_end_matches('/'))
        } else {
            target.to_string()
        };
        match self.make_link(source, &target, flags) {
            Ok(()) if flags.verbose => {
                let arrow = if flags.symbolic { '-' } else { '=' };
                run.stdout
                    .extend_from_slice(format!("{target} {arrow}> {source}\n").as_bytes());
            }
            Ok(()) => {}
            Err(errno) => run.fail(warn("ln", &target, errno)),
        }
    }

    fn make_link(&self, source: &str, target: &str, flags: &LinkFlags) -> Result<(), Errno> {
        let link = resolve(self.machine, target, false)?;
        if let Some(kind) = link.kind {
            if !flags.force {
                return Err(Errno::Exist);
            }
            may_write(self.machine, &link.parent())?;
            // unlink(2) of a directory is EPERM on Darwin.
            if kind == Kind::Dir {
                return Err(Errno::NotPermitted);
            }
            fs::remove_file(&link.host).map_err(|e| Errno::of(&e))?;
        }
        may_write(self.machine, &link.parent())?;
        if flags.symbolic {
            std::os::unix::fs::symlink(source, &link.host).map_err(|e| Errno::of(&e))
        } else {
            let from = resolve(self.machine, source, true)?;
            fs::hard_link(&from.host, &link.host).map_err(|e| Errno::of(&e))
        }
    }

    // ----- readlink ------------------------------------------------------------------------

    fn readlink(&self, args: &[String]) -> Output {
        const USAGE: &str = "usage: readlink [-fn] [file ...]\n";
        let parsed = match getopt("readlink", args, "fn") {
            Ok(parsed) => parsed,
            Err(diagnostic) => return Output::failed(1, format!("{diagnostic}{USAGE}")),
        };
        let canonical = parsed.options.iter().any(|(o, _)| *o == 'f');
        let newline = if parsed.options.iter().any(|(o, _)| *o == 'n') {
            ""
        } else {
            "\n"
        };
        let mut run = Run::default();
        if parsed.operands.is_empty() {
            // fstat(2) of stdin: not a link.
            run.status = 1;
        }
        for path in &parsed.operands {
            let shown = if canonical {
                resolve(self.machine, path, true)
                    .ok()
                    .filter(Resolved::exists)
                    .map(|r| r.mac)
            } else {
                resolve(self.machine, path, false)
                    .ok()
                    .filter(|r| r.kind == Some(Kind::Symlink))
                    .and_then(|r| fs::read_link(&r.host).ok())
                    .map(|target| target.to_string_lossy().into_owned())
            };
            match shown {
                Some(text) => run
                    .stdout
                    .extend_from_slice(format!("{text}{newline}").as_bytes()),
                None => run.status = 1,
            }
        }
        run.output()
    }

    // ----- test ----------------------------------------------------------------------------

    fn test(&self, args: &[String]) -> Output {
        let fail = |message: String| Output::failed(2, format!("test: {message}\n"));
        let truth = |value: bool| Output {
            status: if value { 0 } else { 1 },
            stdout: String::new(),
            stderr: String::new(),
        };
        let words: Vec<&str> = args.iter().map(String::as_str).collect();
        let result = match words[..] {
            [] => Ok(false),
            [one] => Ok(!one.is_empty()),
            [a, b] => self.two(a, b),
            [a, b, c] => self.three(a, b, c),
            ["!", a, b, c] => self.three(a, b, c).map(|v| !v),
            ["(", a, b, ")"] => self.two(a, b),
            _ => Err(
                "expression not emulated by macllm's sandbox (more than three operands \
                      joined by -a, -o or parentheses)"
                    .to_string(),
            ),
        };
        match result {
            Ok(value) => truth(value),
            Err(message) => fail(message),
        }
    }

    /// POSIX `test` with two arguments.
    fn two(&self, a: &str, b: &str) -> Result<bool, String> {
        if a == "!" {
            return Ok(b.is_empty());
        }
        self.unary(a, b)
    }

    /// POSIX `test` with three arguments: a binary operator wins, then `!`, then parentheses.
    fn three(&self, a: &str, b: &str, c: &str) -> Result<bool, String> {
        if is_binary(b) {
            return binary(a, b, c);
        }
        if a == "!" {
            return self.two(b, c).map(|v| !v);
        }
        if a == "(" && c == ")" {
            return Ok(!b.is_empty());
        }
        Err(format!("{b}: unexpected operator"))
    }

    fn unary(&self, op: &str, operand: &str) -> Result<bool, String> {
        let follow = |path: &str| resolve(self.machine, path, true).ok().and_then(|r| r.kind);
        Ok(match op {
            "-n" => !operand.is_empty(),
            "-z" => operand.is_empty(),
            "-e" => follow(operand).is_some(),
            "-f" => follow(operand) == Some(Kind::File),
            "-d" => follow(operand) == Some(Kind::Dir),
            "-L" | "-h" => {
                resolve(self.machine, operand, false).is_ok_and(|r| r.kind == Some(Kind::Symlink))
            }
            "-s" => resolve(self.machine, operand, true)
                .ok()
                .filter(|r| r.kind == Some(Kind::File))
                .and_then(|r| fs::metadata(&r.host).ok())
                .is_some_and(|m| m.len() > 0),
            "-r" => follow(operand).is_some(),
            "-w" => resolve(self.machine, operand, true)
                .ok()
                .filter(Resolved::exists)
                .is_some_and(|r| may_write(self.machine, &r.mac).is_ok()),
            "-x" => resolve(self.machine, operand, true)
                .ok()
                .and_then(|r| fs::metadata(&r.host).ok())
                .is_some_and(|m| m.permissions().mode() & 0o111 != 0),
            // Not a unary operator: test.c reads it as a string, then finds a stray operand.
            _ => return Err(format!("{operand}: unexpected operator")),
        })
    }
}

fn is_binary(op: &str) -> bool {
    [
        "=", "==", "!=", "<", ">", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-a", "-o",
    ]
    .contains(&op)
}

/// The string and integer comparisons of test.c (`%s: bad number` for a non-integer).
fn binary(left: &str, op: &str, right: &str) -> Result<bool, String> {
    let number = |text: &str| {
        text.trim()
            .parse::<i64>()
            .map_err(|_| format!("{text}: bad number"))
    };
    Ok(match op {
        "=" | "==" => left == right,
        "!=" => left != right,
        "<" => left < right,
        ">" => left > right,
        "-eq" => number(left)? == number(right)?,
        "-ne" => number(left)? != number(right)?,
        "-lt" => number(left)? < number(right)?,
        "-le" => number(left)? <= number(right)?,
        "-gt" => number(left)? > number(right)?,
        "-ge" => number(left)? >= number(right)?,
        "-a" => !left.is_empty() && !right.is_empty(),
        "-o" => !left.is_empty() || !right.is_empty(),
        _ => return Err(format!("{op}: unexpected operator")),
    })
}

#[derive(Default)]
struct LinkFlags {
    symbolic: bool,
    force: bool,
    no_follow: bool,
    verbose: bool,
}

/// dirname(3) of an argument as typed.
fn dirname(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rfind('/') {
        None => ".".to_string(),
        Some(0) => "/".to_string(),
        Some(at) => trimmed[..at].trim_end_matches('/').to_string(),
    }
}

/// setmode(3)/getmode(3) for what `mkdir -m` is given: an octal number, or symbolic
/// clauses `[ugoa]*[+-=][rwxXst]*` separated by commas, applied to `base`.
fn parse_mode(text: &str, base: u32) -> Option<u32> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let bits = u32::from_str_radix(text, 8).ok()?;
        return (bits <= 0o7777).then_some(bits);
    }
    let mut mode = base;
    for clause in text.split(',') {
        let op_at = clause.find(['+', '-', '='])?;
        let (who, rest) = clause.split_at(op_at);
        let mut who_mask = 0;
        for c in who.chars() {
            who_mask |= match c {
                'u' => 0o4700,
                'g' => 0o2070,
                'o' => 0o0007,
                'a' => 0o6777,
                _ => return None,
            };
        }
        if who_mask == 0 {
            // No `who`: all, less the umask (022).
            who_mask = 0o6777 & !0o022;
        }
        let mut chars = rest.chars().peekable();
        while let Some(op) = chars.next() {
            let mut perm = 0;
            while let Some(&c) = chars.peek() {
                perm |= match c {
                    'r' => 0o444,
                    'w' => 0o222,
                    'x' | 'X' => 0o111,
                    's' => 0o6000,
                    't' => 0o1000,
                    '+' | '-' | '=' => break,
                    _ => return None,
                };
                chars.next();
            }
            let perm = perm & who_mask;
            match op {
                '+' => mode |= perm,
                '-' => mode &= !perm,
                '=' => mode = (mode & !who_mask) | perm,
                _ => return None,
            }
        }
    }
    Some(mode)
}

/// Reads a file of the emulated Mac by its Mac path, following symlinks (for `plutil`).
pub fn read_mac_file(machine: &Machine, path: &str) -> Result<Vec<u8>, Errno> {
    Tools { machine }.read_file(path)
}

/// Writes (creates or truncates) a file of the emulated Mac by its Mac path, with the same
/// checks as `tee` (for `plutil -convert`).
pub fn write_mac_file(machine: &Machine, path: &str, bytes: &[u8]) -> Result<(), Errno> {
    Tools { machine }.write_file(path, bytes, false)
}

#[cfg(test)]
mod tests {
    //! One test per emulated behaviour, each naming the source it follows (Apple's
    //! text_cmds `cat/cat.c`, shell_cmds `tee/tee.c` and `test/test.c`, file_cmds
    //! `mkdir/mkdir.c`, `rm/rm.c`, `mv/mv.c`, `ln/ln.c`, `stat/stat.c`).

    use super::*;
    use crate::testing::{args, mac};

    fn tool(machine: &Machine, program: &str, list: &[&str]) -> Output {
        run(machine, program, &args(list), b"")
    }

    fn tee(machine: &Machine, list: &[&str], input: &[u8]) -> Output {
        run(machine, "tee", &args(list), input)
    }

    fn status_and_stderr(out: &Output) -> (i32, &str) {
        (out.status, out.stderr.as_str())
    }

    /// cat.c: `warn("%s", path)` for a file that cannot be opened, status 1, and the other
    /// operands are still printed.
    #[test]
    fn cat_reports_a_missing_file_and_goes_on() {
        let (_dir, m) = mac("m2-16gb-sonoma");
        tee(&m, &["/Users/admin/a"], b"A\n");
        let out = tool(&m, "cat", &["/x", "/Users/admin/a"]);
        assert_eq!(out.stdout, "A\n");
        assert_eq!(
            status_and_stderr(&out),
            (1, "cat: /x: No such file or directory\n")
        );
        let out = tool(&m, "cat", &["/Users/admin"]);
        assert_eq!(
            status_and_stderr(&out),
            (1, "cat: /Users/admin: Is a directory\n")
        );
    }

    /// tee.c: stdin goes to stdout and to each file, byte for byte; `-a` appends. Hostile
    /// contents (quotes, `$`, `;`, backslashes, newlines, unicode) pass untouched.
    #[test]
    fn tee_then_cat_round_trips_hostile_bytes() {
        let (_dir, m) = mac("m2-16gb-sonoma");
        let hostile = "a'b\"c $HOME `id`; rm -rf / \\n\n\tnext line\r\nünïcödé ✓ 🦙\n\u{0}end";
        let out = tee(&m, &["/Users/admin/h.txt"], hostile.as_bytes());
        assert_eq!((out.status, out.stdout.as_str()), (0, hostile));
        assert_eq!(tool(&m, "cat", &["/Users/admin/h.txt"]).stdout, hostile);
        let on_disk = fs::read(m.dir.join("Users/admin/h.txt")).unwrap();
        assert_eq!(on_disk, hostile.as_bytes());
        tee(&m, &["-a", "/Users/admin/h.txt"], b"+more");
        let both = tool(&m, "cat", &["/Users/admin/h.txt"]).stdout;
        assert_eq!(both, format!("{hostile}+more"));
        tee(&m, &["/Users/admin/h.txt"], b"short");
        assert_eq!(tool(&m, "cat", &["/Users/admin/h.txt"]).stdout, "short");
    }

    /// tee.c: a file that cannot be opened is `warn`ed (status 1) and stdout still gets the
    /// input. SIP: the system volume is read-only even for root; /Library needs root.
    #[test]
    fn tee_refuses_system_and_library_writes() {
        let (_dir, mut m) = mac("m2-16gb-sonoma");
        let out = tee(&m, &["/System/Library/Nope/x"], b"data");
        assert_eq!(out.stdout, "data");
        assert_eq!(
            status_and_stderr(&out),
            (
                1,
                "tee: /System/Library/Nope/x: No such file or directory\n"
            )
        );
        let out = tee(&m, &["/System/Library/x"], b"data");
        assert_eq!(
            status_and_stderr(&out),
            (1, "tee: /System/Library/x: Read-only file system\n")
        );
        let target = "/Library/LaunchDaemons/x.plist";
        let out = tee(&m, &[target], b"data");
        assert_eq!(
            status_and_stderr(&out),
            (
                1,
                "tee: /Library/LaunchDaemons/x.plist: Permission denied\n"
            )
        );
        m.info.uid = 0;
        assert_eq!(tee(&m, &[target], b"data").status, 0);
        let out = tee(&m, &["/System/Library/x"], b"data");
        assert_eq!(
            status_and_stderr(&out),
            (1, "tee: /System/Library/x: Read-only file system\n")
        );
    }

    /// mkdir.c: without -p a missing parent is reported on dirname(path); an existing path
    /// is EEXIST; usage is status 64 (EX_USAGE).
    #[test]
    fn mkdir_errors_follow_mkdir_c() {
        let (_dir, m) = mac("m2-16gb-sonoma");
        let out = tool(&m, "mkdir", &["/Users/admin/a/b"]);
        assert_eq!(
            status_and_stderr(&out),
            (1, "mkdir: /Users/admin/a: No such file or directory\n")
        );
        assert_eq!(tool(&m, "mkdir", &["/Users/admin/a"]).status, 0);
        let out = tool(&m, "mkdir", &["/Users/admin/a"]);
        assert_eq!(
            status_and_stderr(&out),
            (1, "mkdir: /Users/admin/a: File exists\n")
        );
        let out = tool(&m, "mkdir", &[]);
        assert_eq!(
            status_and_stderr(&out),
            (64, "usage: mkdir [-pv] [-m mode] directory_name ...\n")
        );
        let out = tool(&m, "mkdir", &["/newtop"]);
        assert_eq!(
            status_and_stderr(&out),
            (1, "mkdir: /newtop: Read-only file system\n")
        );
        let out = tool(&m, "mkdir", &["-m", "rwz", "/Users/admin/z"]);
        assert_eq!(
            status_and_stderr(&out),
            (1, "mkdir: invalid file mode: rwz\n")
        );
    }

    /// mkdir.c `build()`: -p makes every prefix, accepts existing directories, and reports
    /// the prefix that failed (`Not a directory` for a file on the way, `File exists` for a
    /// last component that is a file); -m applies to the last directory only.
    #[test]
    fn mkdir_p_builds_prefixes() {
        let (_dir, m) = mac("m2-16gb-sonoma");
        let out = tool(
            &m,
            "mkdir",
            &["-p", "-m", "700", "/Users/admin/.ollama/models/x/"],
        );
        assert_eq!((out.status, out.stderr.as_str()), (0, ""));
        let mode = |rel: &str| fs::metadata(m.dir.join(rel)).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode("Users/admin/.ollama/models/x"), 0o700);
        assert_eq!(mode("Users/admin/.ollama/models"), 0o755);
        assert_eq!(tool(&m, "mkdir", &["-p", "/Users/admin/.ollama"]).status, 0);
        tee(&m, &["/Users/admin/file"], b"");
        let out = tool(&m, "mkdir", &["-p", "/Users/admin/file/sub"]);
        assert_eq!(
            status_and_stderr(&out),
            (1, "mkdir: /Users/admin/file: Not a directory\n")
        );
        let out = tool(&m, "mkdir", &["-p", "/Users/admin/file"]);
        assert_eq!(
            status_and_stderr(&out),
            (1, "mkdir: /Users/admin/file: File exists\n")
        );
        let out = tool(&m, "mkdir", &["-p", "/Library/Application Support/macllm"]);
        assert_eq!(
            status_and_stderr(&out),
            (
                1,
                "mkdir: /Library/Application Support/macllm: Permission denied\n"
            )
        );
    }

    /// rm.c `rm_file`: `%s: is a directory` without -r; -f silences ENOENT and accepts no
    /// operands; `"/" may not be removed`; -r removes a tree and a link, not its target.
    #[test]
    fn rm_follows_rm_c() {
        let (_dir, m) = mac("m2-16gb-sonoma");
        tool(&m, "mkdir", &["-p", "/Users/admin/d/e"]);
        tee(&m, &["/Users/admin/d/e/f"], b"x");
        let out = tool(&m, "rm", &["/Users/admin/d"]);
        assert_eq!(
            status_and_stderr(&out),
            (1, "rm: /Users/admin/d: is a directory\n")
        );
        let out = tool(&m, "rm", &["/Users/admin/nope"]);
        assert_eq!(
            status_and_stderr(&out),
            (1, "rm: /Users/admin/nope: No such file or directory\n")
        );
        assert_eq!(tool(&m, "rm", &["-f", "/Users/admin/nope"]).status, 0);
        assert_eq!(tool(&m, "rm", &["-f"]).status, 0);
        let out = tool(&m, "rm", &["-rf", "/"]);
        assert_eq!(
            status_and_stderr(&out),
            (1, "rm: \"/\" may not be removed\n")
        );
        tool(&m, "ln", &["-s", "/Users/admin/d", "/Users/admin/link"]);
        assert_eq!(tool(&m, "rm", &["/Users/admin/link"]).status, 0);
        assert!(m.dir.join("Users/admin/d/e/f").exists());
        assert_eq!(tool(&m, "rm", &["-r", "/Users/admin/d"]).status, 0);
        assert!(!m.dir.join("Users/admin/d").exists());
        let out = tool(&m, "rm", &["/Library/Preferences"]);
        assert_eq!(out.status, 1);
    }

    /// mv.c `do_move`: rename(2), `rename FROM to TO: error` on failure; a directory target
    /// receives the source under its own name.
    #[test]
    fn mv_renames_and_moves_into_directories() {
        let (_dir, m) = mac("m2-16gb-sonoma");
        tee(&m, &["/Users/admin/a"], b"A");
        assert_eq!(
            tool(&m, "mv", &["/Users/admin/a", "/Users/admin/b"]).status,
            0
        );
        assert_eq!(tool(&m, "cat", &["/Users/admin/b"]).stdout, "A");
        tool(&m, "mkdir", &["/Users/admin/dir"]);
        assert_eq!(
            tool(&m, "mv", &["/Users/admin/b", "/Users/admin/dir"]).status,
            0
        );
        assert_eq!(tool(&m, "cat", &["/Users/admin/dir/b"]).stdout, "A");
        let out = tool(&m, "mv", &["/Users/admin/none", "/Users/admin/c"]);
        assert_eq!(
            status_and_stderr(&out),
            (
                1,
                "mv: rename /Users/admin/none to /Users/admin/c: No such file or directory\n"
            )
        );
        let out = tool(&m, "mv", &["/Users/admin/dir/b", "/Library/Preferences/b"]);
        assert_eq!(
            status_and_stderr(&out),
            (
                1,
                "mv: rename /Users/admin/dir/b to /Library/Preferences/b: Permission denied\n"
            )
        );
        let out = tool(&m, "mv", &["/Users/admin/x"]);
        assert_eq!(out.status, 64);
    }

    /// ln.c `linkit`: the symlink stores the target as given (a Mac path); an existing target
    /// is `File exists` without -f; -sfn replaces a link to a directory instead of creating
    /// a link inside that directory.
    #[test]
    fn ln_s_stores_mac_paths() {
        let (_dir, m) = mac("m2-16gb-sonoma");
        tool(&m, "mkdir", &["-p", "/Users/admin/models.noindex"]);
        let link = "/Users/admin/models";
        let out = tool(&m, "ln", &["-s", "/Users/admin/models.noindex", link]);
        assert_eq!((out.status, out.stderr.as_str()), (0, ""));
        let stored = fs::read_link(m.dir.join("Users/admin/models")).unwrap();
        assert_eq!(stored, PathBuf::from("/Users/admin/models.noindex"));
        let out = tool(
            &m,
            "ln",
            &["-s", "/Users/admin/other", "/Users/admin/models.noindex"],
        );
        assert_eq!(out.status, 0, "a directory target receives the link inside");
        assert!(fs::symlink_metadata(m.dir.join("Users/admin/models.noindex/other")).is_ok());
        tee(&m, &["/Users/admin/file"], b"");
        let out = tool(&m, "ln", &["-s", "/Users/admin/x", "/Users/admin/file"]);
        assert_eq!(
            status_and_stderr(&out),
            (1, "ln: /Users/admin/file: File exists\n")
        );
        tool(&m, "mkdir", &["/Users/admin/new"]);
        let out = tool(&m, "ln", &["-sfn", "/Users/admin/new", link]);
        assert_eq!((out.status, out.stderr.as_str()), (0, ""));
        assert_eq!(tool(&m, "readlink", &[link]).stdout, "/Users/admin/new\n");
        assert!(fs::symlink_metadata(m.dir.join("Users/admin/new/new")).is_err());
    }

    /// stat.c in readlink mode: the stored target and a newline; not a link, or missing:
    /// no output at all and status 1; -f the canonical path; -n no newline.
    #[test]
    fn readlink_prints_only_link_targets() {
        let (_dir, m) = mac("m2-16gb-sonoma");
        tool(&m, "mkdir", &["/Users/admin/real"]);
        tool(&m, "ln", &["-s", "/Users/admin/real", "/Users/admin/link"]);
        let out = tool(&m, "readlink", &["/Users/admin/link"]);
        assert_eq!(
            (out.status, out.stdout.as_str()),
            (0, "/Users/admin/real\n")
        );
        let out = tool(&m, "readlink", &["-n", "/Users/admin/link"]);
        assert_eq!(out.stdout, "/Users/admin/real");
        for path in ["/Users/admin/real", "/Users/admin/missing"] {
            let out = tool(&m, "readlink", &[path]);
            assert_eq!(
                (out.status, out.stdout.as_str(), out.stderr.as_str()),
                (1, "", "")
            );
        }
        tool(&m, "ln", &["-s", "real", "/Users/admin/relative"]);
        assert_eq!(
            tool(&m, "readlink", &["/Users/admin/relative"]).stdout,
            "real\n"
        );
        let out = tool(&m, "readlink", &["-f", "/Users/admin/relative"]);
        assert_eq!(out.stdout, "/Users/admin/real\n");
    }

    /// Symlinks hold Mac paths, resolved inside the sandbox: writing through
    /// `/Users/admin/link/file` lands in `<sandbox>/Users/admin/real/file`, and a link to
    /// `/etc` reaches the emulated `/etc`, never the host's.
    #[test]
    fn symlinks_resolve_inside_the_sandbox() {
        let (_dir, m) = mac("m2-16gb-sonoma");
        tool(&m, "mkdir", &["/Users/admin/real"]);
        tool(&m, "ln", &["-s", "/Users/admin/real", "/Users/admin/link"]);
        assert_eq!(tee(&m, &["/Users/admin/link/file"], b"via link").status, 0);
        let written = fs::read_to_string(m.dir.join("Users/admin/real/file")).unwrap();
        assert_eq!(written, "via link");
        assert_eq!(tool(&m, "test", &["-d", "/Users/admin/link"]).status, 0);
        assert_eq!(tool(&m, "test", &["-L", "/Users/admin/link"]).status, 0);
        assert_eq!(tool(&m, "test", &["-L", "/Users/admin/real"]).status, 1);
        tool(&m, "ln", &["-s", "/etc", "/Users/admin/etc"]);
        let out = tool(&m, "cat", &["/Users/admin/etc/passwd"]);
        assert_eq!(
            status_and_stderr(&out),
            (
                1,
                "cat: /Users/admin/etc/passwd: No such file or directory\n"
            )
        );
        tool(&m, "ln", &["-s", "/Users/admin/loop", "/Users/admin/loop"]);
        let out = tool(&m, "cat", &["/Users/admin/loop"]);
        assert_eq!(
            status_and_stderr(&out),
            (
                1,
                "cat: /Users/admin/loop: Too many levels of symbolic links\n"
            )
        );
        let out = tool(&m, "cat", &["/Users/admin/../../Users/admin/real/file"]);
        assert_eq!(out.stdout, "via link");
    }

    /// Firmlinks (Catalina and later): `/System/Volumes/Data/Users/...` is the same file as
    /// `/Users/...`, and writable like it.
    #[test]
    fn data_volume_paths_are_the_firmlinked_files() {
        let (_dir, m) = mac("m4pro-48gb-sequoia");
        let out = tee(&m, &["/System/Volumes/Data/Users/admin/f"], b"same");
        assert_eq!(out.status, 0);
        assert_eq!(tool(&m, "cat", &["/Users/admin/f"]).stdout, "same");
    }

    /// test.c: no output, status 0/1; syntax errors are status 2 (`verrx(2, ...)`).
    #[test]
    fn test_answers_with_status_only() {
        let (_dir, m) = mac("m2-16gb-sonoma");
        tee(&m, &["/Users/admin/f"], b"x");
        let status = |list: &[&str]| tool(&m, "test", list).status;
        assert_eq!(status(&["-e", "/Users/admin/f"]), 0);
        assert_eq!(status(&["-f", "/Users/admin/f"]), 0);
        assert_eq!(status(&["-d", "/Users/admin/f"]), 1);
        assert_eq!(status(&["-e", "/Users/admin/none"]), 1);
        assert_eq!(status(&["!", "-e", "/Users/admin/none"]), 0);
        assert_eq!(status(&["-s", "/Users/admin/f"]), 0);
        assert_eq!(status(&["-w", "/Users/admin/f"]), 0);
        assert_eq!(status(&["-w", "/Users"]), 1);
        assert_eq!(status(&[]), 1);
        assert_eq!(status(&["a", "=", "a"]), 0);
        let out = tool(&m, "test", &["-q", "x"]);
        assert_eq!(
            (out.status, out.stdout.as_str(), out.stderr.as_str()),
            (2, "", "test: x: unexpected operator\n")
        );
    }
}
