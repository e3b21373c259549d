//! Names the commit this build comes from, for `macllm --version` and `macllm version`.
//!
//! Three kinds of source tree can be built, and each keeps the commit somewhere else:
//! - a git checkout: `git rev-parse HEAD`, asked only when the checkout's top folder is this
//!   package (a crate unpacked inside some other repository must not take that one's commit);
//! - a crate from crates.io (or `cargo package`): cargo writes `.cargo_vcs_info.json`
//!   with `git.sha1` into every package it makes from a git checkout;
//! - a `git archive` tarball (the release's source archive, which the Homebrew formula
//!   builds, and GitHub's own tag archives): `packaging/archive-commit` holds `$Format:%H$`,
//!   which git replaces with the commit as it writes the archive (`export-subst` in
//!   `.gitattributes`).
//!
//! None of them (a copied folder, say): the version says it was built without git.
//! Nothing here fails the build.

use std::path::Path;
use std::process::Command;

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&dir);
    println!("cargo:rerun-if-changed=build.rs");
    // Only files that exist: cargo reruns a build script on every build while a file it
    // watches is missing (and a checkout never has .cargo_vcs_info.json).
    for file in [".cargo_vcs_info.json", "packaging/archive-commit"] {
        if dir.join(file).exists() {
            println!("cargo:rerun-if-changed={file}");
        }
    }
    for watched in git_files_to_watch(dir) {
        println!("cargo:rerun-if-changed={watched}");
    }
    let commit = commit(dir);
    let version = std::env::var("CARGO_PKG_VERSION").expect("cargo sets CARGO_PKG_VERSION");
    println!(
        "cargo:rustc-env=MACLLM_COMMIT={}",
        commit.as_deref().unwrap_or("")
    );
    println!(
        "cargo:rustc-env=MACLLM_VERSION_LINE={}",
        version_line(&version, commit.as_deref())
    );
    let target = std::env::var("TARGET").expect("cargo sets TARGET");
    println!("cargo:rustc-env=MACLLM_TARGET={target}");
}

/// What `--version` prints after the program's name.
pub fn version_line(version: &str, commit: Option<&str>) -> String {
    match commit {
        Some(commit) => format!("{version} (commit {})", &commit[..12]),
        None => format!("{version} (built without git: commit unknown)"),
    }
}

/// The full commit id of the tree in `dir`, from the first of the three places that has one.
pub fn commit(dir: &Path) -> Option<String> {
    from_git(dir)
        .or_else(|| from_cargo_vcs_info(dir))
        .or_else(|| from_archive(dir))
}

fn from_git(dir: &Path) -> Option<String> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    if Path::new(&top).canonicalize().ok()? != dir.canonicalize().ok()? {
        return None;
    }
    git(dir, &["rev-parse", "HEAD"]).filter(|id| is_commit_id(id))
}

fn from_cargo_vcs_info(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    // `"sha1": "<40 hex digits>"`, read without a JSON parser (a build script's dependencies
    // are built before anything else).
    let after = &text[text.find("\"sha1\"")? + "\"sha1\"".len()..];
    let start = after.find('"')? + 1;
    let id = after[start..].split('"').next()?;
    is_commit_id(id).then(|| id.to_string())
}

fn from_archive(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("packaging/archive-commit")).ok()?;
    // Unreplaced (a plain copy of the checkout) it still reads `$Format:%H$`.
    let id = text.trim();
    is_commit_id(id).then(|| id.to_string())
}

fn is_commit_id(text: &str) -> bool {
    text.len() == 40 && text.chars().all(|c| c.is_ascii_hexdigit())
}

/// The files that change when HEAD moves: HEAD itself, the branch folders (a commit writes a
/// loose ref there) and packed-refs. In a worktree these live in two different git folders.
fn git_files_to_watch(dir: &Path) -> Vec<String> {
    if from_git(dir).is_none() {
        return Vec::new();
    }
    ["HEAD", "refs/heads", "packed-refs"]
        .iter()
        .filter_map(|name| git(dir, &["rev-parse", "--git-path", name]))
        .map(|path| {
            let path = Path::new(&path);
            if path.is_absolute() {
                path.to_path_buf()
            } else {
                dir.join(path)
            }
        })
        .filter(|path| path.exists())
        .map(|path| path.to_string_lossy().into_owned())
        .collect()
}

/// One git query in `dir`, its first line; None when git is missing or says no.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    Some(text.lines().next()?.trim().to_string()).filter(|line| !line.is_empty())
}
