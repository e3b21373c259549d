//! What an installed macllm tells about itself and gives the shell: `--version`,
//! `version [--json]` and `completions SHELL` (the Homebrew formula installs their output).

use crate::harness::Mac;
use std::path::Path;
use std::process::Command;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The commit this checkout is at, when the tests run in a git checkout of this package
/// (build.rs rebuilds the binary when HEAD moves, so the binary must name this commit);
/// None for a tree without git, where the binary must say so.
fn checkout_commit() -> Option<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    // One query, two lines: the checkout's top folder, then HEAD's commit.
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "--show-toplevel", "HEAD"])
        .output()
        .ok()
        .filter(|output| output.status.success())?;
    let text = String::from_utf8(output.stdout).unwrap();
    let (top, head) = text.trim_end().split_once('\n').unwrap();
    let here = Path::new(top).canonicalize().unwrap() == dir.canonicalize().unwrap();
    here.then(|| head.to_string())
}

/// `--version`, `-V` and `version` print the same line: the version and the commit (12 hex
/// digits, shown here as [COMMIT]), or that the build had no git to ask.
#[test]
fn version_names_the_commit() {
    let mac = Mac::new();
    let commit = checkout_commit();
    let (line, short) = match &commit {
        Some(id) => {
            assert_eq!(id.len(), 40, "{id}");
            (
                format!("macllm {VERSION} (commit [COMMIT])\n"),
                id[..12].to_string(),
            )
        }
        None => (
            format!("macllm {VERSION} (built without git: commit unknown)\n"),
            "(no commit)".to_string(),
        ),
    };
    for args in [
        &["--version"][..],
        &["-V"],
        &["version"],
        &["version", "--quiet"],
    ] {
        mac.macllm(args)
            .redact(short.clone(), "[COMMIT]")
            .stdout(&line)
            .run();
    }
}

/// `version --json`: one document with the full commit (null without git) and the target
/// the binary was built for.
#[test]
fn version_json_is_one_document() {
    let mac = Mac::new();
    let target = env!("MACLLM_TARGET");
    assert!(
        target.starts_with(std::env::consts::ARCH) && target.contains(std::env::consts::OS),
        "{target}"
    );
    mac.macllm(&["version", "--json"])
        .stdout_json(serde_json::json!({
            "format_version": "1.0",
            "name": "macllm",
            "version": VERSION,
            "commit": checkout_commit(),
            "target": target,
        }))
        .run();
}

/// The bash script completes subcommands and the shells of `completions`, through bash's own
/// completion variables, as bash does on TAB.
#[test]
fn bash_completion_completes_commands_and_shells() {
    let mac = Mac::new();
    let script = mac.macllm(&["completions", "bash"]).stdout_of();
    std::fs::write(mac.work.join("macllm.bash"), &script).unwrap();
    let complete = |words: &str, cword: usize| {
        let program = format!(
            "source ./macllm.bash; COMP_WORDS=({words}); COMP_CWORD={cword}; \
             _macllm macllm \"${{COMP_WORDS[$COMP_CWORD]}}\" \"${{COMP_WORDS[$COMP_CWORD-1]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\""
        );
        let output = Command::new("bash")
            .args(["--norc", "--noprofile", "-c", &program])
            .current_dir(&mac.work)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    assert_eq!(complete("macllm sand", 1), "sandbox\n");
    assert_eq!(complete("macllm sandbox pre", 2), "presets\n");
    let shells = complete("macllm completions ''", 2);
    assert!(shells.ends_with("\nbash\nzsh\nfish\n"), "{shells}");
}

#[test]
#[ignore = "needs fish"]
fn fish_completion_completes_commands() {
    let mac = Mac::new();
    let script = mac.macllm(&["completions", "fish"]).stdout_of();
    std::fs::write(mac.work.join("macllm.fish"), &script).unwrap();
    let output = Command::new("fish")
        .args([
            "--no-config",
            "-c",
            "source ./macllm.fish; complete -C 'macllm sand'",
        ])
        .current_dir(&mac.work)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "sandbox\tCreate and use emulated Macs\n"
    );
}

/// zsh loads completion functions from `fpath` by file name (`_macllm`, where the formula
/// puts it): compinit must register it for `macllm`.
#[test]
#[ignore = "needs zsh"]
fn zsh_completion_registers_with_compinit() {
    let mac = Mac::new();
    let script = mac.macllm(&["completions", "zsh"]).stdout_of();
    let functions = mac.work.join("functions");
    std::fs::create_dir(&functions).unwrap();
    std::fs::write(functions.join("_macllm"), &script).unwrap();
    let output = Command::new("zsh")
        .args([
            "-f",
            "-c",
            "fpath=(./functions $fpath); autoload -Uz compinit; compinit -u -d ./zcompdump; \
             print -r -- ${_comps[macllm]}",
        ])
        .current_dir(&mac.work)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8(output.stdout).unwrap(), "_macllm\n");
}

#[test]
fn completions_refuse_an_unknown_shell() {
    let mac = Mac::new();
    mac.macllm(&["completions", "tcsh"])
        .status(1)
        .stderr(
            "error: invalid value 'tcsh' for '<SHELL>'\n\
             \x20 [possible values: bash, zsh, fish]\n\n\
             \x20 tip: a similar value exists: 'zsh'\n\n\
             For more information, try '--help'.\n",
        )
        .run();
}
