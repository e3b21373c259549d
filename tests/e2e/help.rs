//! `--help`: a subcommand lists its own options, names the global ones once in its usage line
//! and points to `macllm --help` for them, and ends with examples; every example parses, and
//! every one that can run against an emulated Mac does so without an error.

use crate::harness::{Mac, QUIET_UI};
use std::io::Write as _;
use std::process::Stdio;

#[test]
fn subcommand_help_lists_its_own_options_and_points_to_the_global_ones() {
    let mac = Mac::new();
    mac.macllm(&["plan", "--help"])
        .stdout(
            "Show what apply would change

Usage: macllm [GLOBAL OPTIONS] plan [OPTIONS]

Options:
      --out <FILE>         Save the plan for `macllm apply FILE`
      --detailed-exitcode  Exit 2 when the plan has changes (or, with --refresh-only, drift)
      --refresh-only       Only report drift since the last apply; plan no changes
  -h, --help               Print help

Global options (--spec, --host, --state-dir, --json, -q, -v, ...): see `macllm --help`.

Examples:
  macllm plan
  macllm plan --out tonight.plan
  macllm --host sandbox:mac plan --detailed-exitcode
",
        )
        .run();
    // A nested subcommand, and `help SUBCOMMAND`, say the same.
    let sandbox_init = "Create an emulated Mac in DIR

Usage: macllm [GLOBAL OPTIONS] sandbox init [OPTIONS] <DIR>

Arguments:
  <DIR>  The folder to create (it must not exist)

Options:
      --preset <PRESET>  Hardware and macOS version; `macllm sandbox presets` lists them [default: m2-16gb-sonoma]
  -h, --help             Print help

Global options (--spec, --host, --state-dir, --json, -q, -v, ...): see `macllm --help`.

Examples:
  macllm sandbox init mac
  macllm sandbox init air --preset m1-8gb-monterey
";
    mac.macllm(&["sandbox", "init", "--help"])
        .stdout(sandbox_init)
        .run();
    mac.macllm(&["help", "sandbox", "init"])
        .stdout(sandbox_init)
        .run();
    // The globals still parse after the subcommand, and a usage error names them once.
    mac.spec("macllm: 1\n");
    mac.macllm(&["validate", "--json", "-q"])
        .stdout_json(serde_json::json!({
            "format_version": "1.0", "valid": true, "resources": [],
        }))
        .run();
    mac.macllm(&["drift", "--bogus"])
        .status(1)
        .stderr(
            "error: unexpected argument '--bogus' found

Usage: macllm [GLOBAL OPTIONS] drift

For more information, try '--help'.
",
        )
        .run();
}

/// `macllm --help` is where the global options are listed, once.
#[test]
fn top_level_help_lists_the_global_options() {
    let mac = Mac::new();
    mac.macllm(&["--help"])
        .stdout(
            "Declarative setup of Macs that run local LLMs: plan, apply, drift, destroy

Usage: macllm [OPTIONS] <COMMAND>

Commands:
  validate     Parse and check the spec; touches no host
  plan         Show what apply would change
  apply        Make the host match the spec (or apply a saved plan)
  destroy      Put every managed setting back to its value before macllm
  drift        Compare the host with what the last apply left (no spec needed)
  state        Read or edit the state file
  graph        Print the dependency graph as Graphviz DOT
  facts        Print what macllm knows about the host
  bench        Measure a model's load time and tokens/s on this Mac, against its memory-bandwidth bound
  recommend    Which models, quantizations and contexts fit this Mac, and the tier's settings
  export       Write the spec in another format
  secret       Store or remove a secret in the OS keyring (for `secret(\"NAME\")` in specs)
  modules      The modules shipped with macllm
  sandbox      Create and use emulated Macs
  version      The version and the commit this build comes from (`--json`: with the target too)
  completions  Print the shell completion script for SHELL on stdout
  import       Write a spec of what the host has today; `plan` with it there changes nothing
  init         Write a starter spec sized for the host (the tier's modules, a model that fits)
  schema       Print the JSON Schema of the spec, for editors (see README, \"Editors\")
  help         Print this message or the help of the given subcommand(s)

Options:
      --spec <FILE>        The spec file [default: macllm.yaml]
      --host <HOST>        `local` (default), `sandbox:DIR` (an emulated Mac) or `ssh:[USER@]NAME[:PORT]`
      --inventory <FILE>   A fleet: hosts with names, vars and groups (YAML `hosts: {NAME: {host, vars, groups}}`)
      --limit <PATTERN>    Only the inventory's hosts or groups matching PATTERN (`*` matches anything)
      --parallelism <N>    How many hosts to work on at once when several `--host`s are given [default: 5]
      --state-dir <DIR>    Where state files live (default: `state/` in the working directory)
      --json               Print one JSON document (with `format_version`) instead of text
      --no-color           No colour even on a terminal (NO_COLOR is honoured too)
  -q, --quiet              Print only results and errors
      --allow-unknown-env  Keep `OLLAMA_*` variables Ollama does not read (a warning instead of an error)
      --strict             A model that will not fit in the Mac's GPU memory is an error, not a warning
  -v, --verbose            Also print every command macllm runs on the host
  -h, --help               Print help
  -V, --version            Print version

Exit codes: 0 success (nothing to do), 1 error, 2 changes present (`plan --detailed-exitcode`) or drift found (`drift`).
",
        )
        .run();
}

/// `bench` says what it measures: `-h` in one line, `--help` how.
#[test]
fn bench_help_says_what_it_measures() {
    let mac = Mac::new();
    mac.macllm(&["bench", "-h"])
        .stdout(
            "Measure a model's load time and tokens/s on this Mac, against its memory-bandwidth bound

Usage: macllm [GLOBAL OPTIONS] bench [OPTIONS] <MODEL>

Arguments:
  <MODEL>  An installed Ollama model (`ollama list` names them)

Options:
      --runs <RUNS>  How many times to run the fixed prompt (the median is reported) [default: 3]
  -h, --help         Print help (see more with '--help')

Global options (--spec, --host, --state-dir, --json, -q, -v, ...): see `macllm --help`.

Examples:
  macllm bench llama3.2:3b
  macllm --host sandbox:mac bench llama3.2:3b --runs 5
",
        )
        .run();
    mac.macllm(&["bench", "--help"])
        .stdout(
            "Measure a model's load time and tokens/s on this Mac, against its memory-bandwidth bound.

Sends one fixed prompt through Ollama RUNS times (the model unloaded first, so the first run's load is cold) and reports the median of Ollama's own timings. Every generated token reads the whole model from memory, so no Mac generates faster than its memory bandwidth divided by the model's size: the bound, and how close the model comes to it.

Usage: macllm [GLOBAL OPTIONS] bench [OPTIONS] <MODEL>

Arguments:
  <MODEL>
          An installed Ollama model (`ollama list` names them)

Options:
      --runs <RUNS>
          How many times to run the fixed prompt (the median is reported)
          \n          [default: 3]

  -h, --help
          Print help (see a summary with '-h')

Global options (--spec, --host, --state-dir, --json, -q, -v, ...): see `macllm --help`.

Examples:
  macllm bench llama3.2:3b
  macllm --host sandbox:mac bench llama3.2:3b --runs 5
",
        )
        .run();
}

/// Every subcommand path (`plan`, `sandbox init`, ...), read from the help's `Commands:` lists.
fn subcommands(mac: &Mac, path: &[String], into: &mut Vec<Vec<String>>) {
    let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
    args.push("--help");
    let help = mac.macllm(&args).stdout_of();
    let Some((_, commands)) = help.split_once("\nCommands:\n") else {
        return;
    };
    for line in commands.lines().take_while(|line| !line.is_empty()) {
        let name = line.split_whitespace().next().unwrap();
        if name == "help" {
            continue;
        }
        let mut sub = path.to_vec();
        sub.push(name.to_string());
        into.push(sub.clone());
        subcommands(mac, &sub, into);
    }
}

/// The example lines of one help text.
fn examples(help: &str) -> Vec<String> {
    let Some((_, section)) = help.split_once("\nExamples:\n") else {
        return Vec::new();
    };
    section
        .lines()
        .map(|line| line.strip_prefix("  ").unwrap().to_string())
        .collect()
}

/// Each example, as printed: it parses with the binary's own command line, and, unless it
/// needs what the test cannot give (an SSH host, the OS keyring, a server that runs until
/// stopped), runs against an emulated Mac (standing in for this Mac when the example names
/// no host) without an error. The folder is set up as a user would have it at that point: a
/// spec, a saved plan for `apply tonight.plan`, an applied state for the state commands.
#[test]
fn every_example_in_the_help_works_as_printed() {
    let mac = Mac::new();
    let mut paths = Vec::new();
    subcommands(&mac, &[], &mut paths);
    assert!(paths.len() > 25, "{paths:?}");
    let mut ran = 0;
    let mut total = 0;
    for path in &paths {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let lines = examples(&mac.macllm(&args).stdout_of());
        assert!(
            !lines.is_empty(),
            "`macllm {}` has no examples",
            path.join(" ")
        );
        for line in lines {
            total += 1;
            // A pipe or a redirection hands macllm's output on: macllm's part must work.
            let words: Vec<&str> = line
                .split_whitespace()
                .take_while(|word| !matches!(*word, "|" | ">"))
                .collect();
            assert_eq!(words[0], "macllm", "{line}");
            assert!(!line.contains(['"', '\'']), "quoted words in {line}");
            // An example of `macllm X` uses X.
            let uses = |word: &String| words.contains(&word.as_str());
            assert!(
                path.iter().all(uses),
                "{line} is not an example of {path:?}"
            );
            if let Err(err) = macllm::cli::command().try_get_matches_from(&words) {
                panic!("{line}: {}", err.render());
            }
            if line.contains("ssh:") || words.contains(&"secret") || words.contains(&"serve") {
                continue;
            }
            run_example(&words, &line);
            ran += 1;
        }
    }
    assert!(ran * 10 >= total * 8, "only {ran} of {total} examples ran");
}

fn run_example(words: &[&str], line: &str) {
    let mac = Mac::new();
    let mut args: Vec<&str> = words[1..].to_vec();
    if !args.contains(&"--host") {
        args.splice(0..0, ["--host", "sandbox:mac"]);
    }
    let writes_a_spec = words.contains(&"import") || words.contains(&"init");
    if !writes_a_spec || words.contains(&"--force") {
        mac.spec(QUIET_UI);
        std::fs::write(mac.work.join("lab.yaml"), QUIET_UI).unwrap();
    }
    let setup = |args: &[&str]| {
        let output = mac.command(args).stdin(Stdio::null()).output().unwrap();
        assert!(output.status.success(), "setting up {line}: {output:?}");
    };
    if words.contains(&"tonight.plan") && !words.contains(&"plan") {
        setup(&["--host", "sandbox:mac", "plan", "--out", "tonight.plan"]);
    }
    if ["state", "destroy", "drift"]
        .iter()
        .any(|c| words.contains(c))
    {
        setup(&["--host", "sandbox:mac", "apply", "--yes"]);
    }
    if words.contains(&"sandbox") && words.contains(&"init") {
        std::fs::remove_dir_all(&mac.dir).unwrap();
    }
    let mut child = mac
        .command(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `apply` and `destroy` without --yes ask; the user answers.
    let _ = child.stdin.take().unwrap().write_all(b"yes\n");
    let output = child.wait_with_output().unwrap();
    let status = output.status.code();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        matches!(status, Some(0 | 2)) && !stderr.contains("error:"),
        "{line} (run as macllm {}): {output:?}",
        args.join(" ")
    );
}

/// The help no longer lists the global options under a subcommand, but the shell still
/// completes them there (they parse there).
#[test]
fn bash_completes_global_options_after_a_subcommand() {
    let mac = Mac::new();
    let script = mac.macllm(&["completions", "bash"]).stdout_of();
    std::fs::write(mac.work.join("macllm.bash"), &script).unwrap();
    let program = "source ./macllm.bash; COMP_WORDS=(macllm plan --sta); COMP_CWORD=2; \
                   _macllm macllm --sta plan; printf '%s\\n' \"${COMPREPLY[@]}\"";
    let output = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", program])
        .current_dir(&mac.work)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8(output.stdout).unwrap(), "--state-dir\n");
}
