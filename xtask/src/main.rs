//! Build chores that are not part of `cargo build`:
//!
//! `cargo run -p xtask -- man DIR` writes macllm's man pages into DIR: `macllm.1` and one
//! page per subcommand (`macllm-plan.1`, `macllm-sandbox-init.1`, ...), rendered by
//! clap_mangen from the same clap definitions the binary parses with, so the pages cannot
//! list a flag the binary lacks. The release workflow and the Homebrew formula run it.
//!
//! Why not build.rs: the clap types live in the library (`src/cli.rs` uses constants of
//! other modules), which a build script cannot use, and every `cargo build` would pay for
//! pages that only a release needs.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["man", dir] => {
            let written = write_man_pages(Path::new(dir))?;
            for page in written {
                println!("{}", page.display());
            }
            Ok(())
        }
        _ => bail!("usage: cargo run -p xtask -- man DIR"),
    }
}

/// Writes every page into `dir` (created if missing) and returns their paths, sorted.
fn write_man_pages(dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    clap_mangen::generate_to(macllm::cli::command(), dir)
        .with_context(|| format!("writing man pages into {}", dir.display()))?;
    let mut pages: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    pages.retain(|p| p.extension().is_some_and(|e| e == "1"));
    pages.sort();
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn man_pages_cover_every_subcommand() {
        let dir = tempfile::tempdir().unwrap();
        let pages = write_man_pages(dir.path()).unwrap();
        let names: Vec<String> = pages
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        let command = macllm::cli::command();
        let mut expected = vec!["macllm.1".to_string()];
        for sub in command.get_subcommands() {
            expected.push(format!("macllm-{}.1", sub.get_name()));
            for nested in sub.get_subcommands() {
                expected.push(format!("macllm-{}-{}.1", sub.get_name(), nested.get_name()));
            }
        }
        expected.sort();
        assert_eq!(names, expected);

        let main = std::fs::read_to_string(dir.path().join("macllm.1")).unwrap();
        assert!(main.starts_with(".ie \\n(.g .ds Aq \\(aq"), "{main}");
        assert!(
            main.contains(&format!(
                ".TH macllm 1  \"macllm {}",
                env!("CARGO_PKG_VERSION")
            )),
            "{main}"
        );
        // Every subcommand is listed on the main page, and a flag reaches its page.
        for sub in command.get_subcommands() {
            assert!(
                main.contains(&format!("macllm\\-{}", sub.get_name())),
                "{sub:?}"
            );
        }
        let plan = std::fs::read_to_string(dir.path().join("macllm-plan.1")).unwrap();
        assert!(plan.contains("\\-\\-detailed\\-exitcode"), "{plan}");
        // A subcommand's page has its own options and examples; the global ones are on
        // macllm.1 only, which the page points to.
        assert!(
            plan.contains("\n  macllm plan \\-\\-out tonight.plan\n"),
            "{plan}"
        );
        assert!(!plan.contains(".TP\n\\fB\\-\\-spec\\fR"), "{plan}");
        assert!(main.contains(".TP\n\\fB\\-\\-spec\\fR"), "{main}");
    }

    #[test]
    fn an_unwritable_folder_is_named_in_the_error() {
        let err = write_man_pages(Path::new("/proc/no-such-dir/man")).unwrap_err();
        assert!(format!("{err:#}").starts_with("creating /proc/no-such-dir/man: "));
    }
}

/// build.rs decides which commit a build names; its three sources are tested here, where
/// temporary trees can be made (a build script has no tests of its own).
#[cfg(test)]
#[path = "../../build.rs"]
#[allow(dead_code)]
mod build_script;

#[cfg(test)]
mod commit_tests {
    use super::build_script::{commit, version_line};
    use std::process::Command;

    const ID: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn a_tree_without_any_record_says_so() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("packaging")).unwrap();
        // A plain copy of the checkout: the placeholder git archive would have replaced.
        std::fs::write(dir.path().join("packaging/archive-commit"), "$Format:%H$\n").unwrap();
        assert_eq!(commit(dir.path()), None);
        assert_eq!(
            version_line("1.2.3", None),
            "1.2.3 (built without git: commit unknown)"
        );
    }

    #[test]
    fn a_git_archive_names_its_commit() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("packaging")).unwrap();
        std::fs::write(
            dir.path().join("packaging/archive-commit"),
            format!("{ID}\n"),
        )
        .unwrap();
        assert_eq!(commit(dir.path()).as_deref(), Some(ID));
        assert_eq!(
            version_line("1.2.3", Some(ID)),
            "1.2.3 (commit 0123456789ab)"
        );
    }

    #[test]
    fn a_crate_names_the_commit_cargo_packaged() {
        let dir = tempfile::tempdir().unwrap();
        // As cargo writes it (cargo/src/cargo/ops/cargo_package: VcsInfo, GitVcsInfo).
        let info = format!(
            "{{\n  \"git\": {{\n    \"sha1\": \"{ID}\"\n  }},\n  \"path_in_vcs\": \"\"\n}}"
        );
        std::fs::write(dir.path().join(".cargo_vcs_info.json"), info).unwrap();
        assert_eq!(commit(dir.path()).as_deref(), Some(ID));
    }

    #[test]
    fn a_git_checkout_names_head_but_not_an_enclosing_repository() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str], at: &std::path::Path| {
            let status = Command::new("git")
                .arg("-C")
                .arg(at)
                .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
                .args(args)
                .status()
                .unwrap();
            assert!(status.success(), "git {args:?}");
        };
        git(&["init", "-q"], dir.path());
        git(&["commit", "-q", "--allow-empty", "-m", "one"], dir.path());
        let head = String::from_utf8(
            Command::new("git")
                .arg("-C")
                .arg(dir.path())
                .args(["rev-parse", "HEAD"])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap();
        assert_eq!(commit(dir.path()).as_deref(), Some(head.trim()));
        // An unpacked crate inside that checkout has no record of its own.
        let inner = dir.path().join("target/package/macllm-1.2.3");
        std::fs::create_dir_all(&inner).unwrap();
        assert_eq!(commit(&inner), None);
    }
}
