//! Bad specs: each exits 1 with `file:line:column`, the field and a caret, changes nothing on
//! the host and writes no state.

use crate::harness::Mac;

const HEAD: &str = "macllm: 1\ndefaults:\n";

/// (what, spec, the whole of stderr)
fn cases() -> Vec<(&'static str, String, &'static str)> {
    let entry = |body: &str| format!("{HEAD}  - domain: com.apple.dock\n{body}");
    vec![
        (
            "unknown top-level section",
            "macllm: 1\ndefualts: []\n".into(),
            "error: unknown field `defualts`, expected one of `macllm`, `module`, `description`, `params`, `vars`, `use`, `defaults`, `services`, `agents`, `spotlight`, `power`, `time_machine`, `ollama`
 --> macllm.yaml:2:1
  |
2 | defualts: []
  | ^
hint: did you mean `defaults`?
",
        ),
        (
            "misspelt field",
            entry("    key: autohide\n    valeu: true\n"),
            "error: defaults[0]: unknown field `valeu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`
 --> macllm.yaml:5:5
  |
5 |     valeu: true
  |     ^
hint: did you mean `value`?
",
        ),
        (
            "missing version",
            "defaults: []\n".into(),
            "error: missing field `macllm` (the spec format version, `macllm: 1`)
 --> macllm.yaml:1:1
  |
1 | defaults: []
  | ^
",
        ),
        (
            "future version",
            "macllm: 2\n".into(),
            "error: macllm: unsupported spec version 2; this macllm reads version 1
 --> macllm.yaml:1:9
  |
1 | macllm: 2
  |         ^
",
        ),
        (
            "value of the wrong type",
            entry("    key: autohide\n    type: bool\n    value: 3\n"),
            "error: defaults[0].value: expected a boolean (true or false), found an integer
 --> macllm.yaml:6:12
  |
6 |     value: 3
  |            ^
",
        ),
        (
            "unknown type name",
            entry("    key: autohide\n    type: boolean\n    value: true\n"),
            "error: defaults[0].type: unknown variant `boolean`, expected one of `bool`, `int`, `float`, `string`, `date`, `data`, `array`, `dict`
 --> macllm.yaml:5:11
  |
5 |     type: boolean
  |           ^
",
        ),
        (
            "value and absent",
            entry("    key: autohide\n    value: true\n    absent: true\n"),
            "error: defaults[0].absent: `absent: true` and `value` contradict each other; keep one
 --> macllm.yaml:6:13
  |
6 |     absent: true
  |             ^
",
        ),
        (
            "neither value nor absent",
            entry("    key: autohide\n"),
            "error: defaults[0]: missing field `value` (or `absent: true` to make sure the key is not set)
 --> macllm.yaml:3:5
  |
3 |   - domain: com.apple.dock
  |     ^
",
        ),
        (
            "duplicate id across spellings",
            format!(
                "{HEAD}  - {{domain: -g, key: a, value: 1}}\n  - {{domain: NSGlobalDomain, key: a, value: 2}}\n"
            ),
            "error: defaults[1]: duplicate resource id `defaults:NSGlobalDomain:a`: also declared at macllm.yaml:3 (defaults[0])
 --> macllm.yaml:4:5
  |
4 |   - {domain: NSGlobalDomain, key: a, value: 2}
  |     ^
",
        ),
        (
            "unknown dependency",
            entry("    key: autohide\n    value: true\n    depends_on: [defaults:nope:x]\n"),
            "error: defaults[0].depends_on[0]: unknown resource id `defaults:nope:x` in depends_on
 --> macllm.yaml:6:18
  |
6 |     depends_on: [defaults:nope:x]
  |                  ^
hint: ids look like `defaults:com.apple.dock:autohide`; `macllm graph` lists them
",
        ),
        (
            "dependency cycle",
            format!(
                "{HEAD}  - {{domain: d, key: a, value: 1, depends_on: ['defaults:d:b']}}\n  - {{domain: d, key: b, value: 1, depends_on: ['defaults:d:a']}}\n"
            ),
            "error: defaults[0].depends_on: dependency cycle: `defaults:d:a` -> `defaults:d:b` -> `defaults:d:a`
 --> macllm.yaml:3:47
  |
3 |   - {domain: d, key: a, value: 1, depends_on: ['defaults:d:b']}
  |                                               ^
",
        ),
        (
            "unterminated quote",
            entry("    key: \"autohide\n    value: true\n"),
            r#"error: found unexpected end of stream, while scanning a quoted scalar
 --> macllm.yaml:4:10
  |
4 |     key: "autohide
  |          ^
"#,
        ),
        (
            "tab indentation",
            format!("{HEAD}\t- domain: x\n"),
            "error: found character that cannot start any token, while scanning for the next token
 --> macllm.yaml:3:1
  |
3 | \t- domain: x
  | ^
",
        ),
        (
            "bad date",
            entry("    key: d\n    type: date\n    value: yesterday\n"),
            "error: defaults[0].value: `yesterday` is not a date; write it as `2024-01-31T12:00:00Z` (UTC)
 --> macllm.yaml:6:12
  |
6 |     value: yesterday
  |            ^
",
        ),
        (
            "bad hex data",
            entry("    key: d\n    type: data\n    value: xyz\n"),
            "error: defaults[0].value: data must be hex digits (like `0a1b2c`): hex data has an odd number of digits
 --> macllm.yaml:6:12
  |
6 |     value: xyz
  |            ^
",
        ),
        (
            "empty key",
            entry("    key: \"\"\n    value: 1\n"),
            r#"error: defaults[0].key: the key is empty
 --> macllm.yaml:4:10
  |
4 |     key: ""
  |          ^
"#,
        ),
        (
            "newline in a domain",
            format!("{HEAD}  - domain: \"com.apple\\ndock\"\n    key: k\n    value: 1\n"),
            r#"error: defaults[0].domain: the domain contains a control character (newline, tab or NUL)
 --> macllm.yaml:3:13
  |
3 |   - domain: "com.apple\ndock"
  |             ^
"#,
        ),
        (
            "path domain outside /Library/Preferences",
            format!("{HEAD}  - domain: /etc/passwd\n    key: k\n    value: 1\n"),
            "error: defaults[0].domain: path domain `/etc/passwd` is not supported; use a domain name, or a system domain under /Library/Preferences/
 --> macllm.yaml:3:13
  |
3 |   - domain: /etc/passwd
  |             ^
",
        ),
        (
            "number where a string is declared",
            entry("    key: k\n    type: string\n    value: 1\n"),
            "error: defaults[0].value: expected a string, found an integer
 --> macllm.yaml:6:12
  |
6 |     value: 1
  |            ^
hint: quote the value to make it a string
",
        ),
        (
            "null value",
            entry("    key: k\n    value: ~\n"),
            "error: defaults[0]: missing field `value` (or `absent: true` to make sure the key is not set)
 --> macllm.yaml:3:5
  |
3 |   - domain: com.apple.dock
  |     ^
",
        ),
        (
            "integer too large",
            entry("    key: k\n    value: 99999999999999999999\n"),
            "error: defaults[0].value: integer 99999999999999999999 is too large (the limit is 9223372036854775807)
 --> macllm.yaml:5:12
  |
5 |     value: 99999999999999999999
  |            ^
",
        ),
        (
            "defaults is not a list",
            "macllm: 1\ndefaults: {domain: x}\n".into(),
            "error: defaults: invalid type: map, expected a sequence
 --> macllm.yaml:2:11
  |
2 | defaults: {domain: x}
  |           ^
",
        ),
        (
            "yes is not a boolean",
            entry("    key: k\n    type: bool\n    value: yes\n"),
            "error: defaults[0].value: expected a boolean (true or false), found a string
 --> macllm.yaml:6:12
  |
6 |     value: yes
  |            ^
",
        ),
    ]
}

#[test]
fn bad_specs_exit_1_with_location_and_change_nothing() {
    let mac = Mac::new();
    let before = mac.snapshot();
    let cases = cases();
    assert!(cases.len() >= 15);
    for (what, spec, stderr) in cases {
        mac.spec(&spec);
        // Parsing comes first, so each command stops at the same error.
        for args in [&["validate"][..], &["plan"], &["apply", "--yes"]] {
            mac.on(args).status(1).stderr(stderr).run();
        }
        assert_eq!(before, mac.snapshot(), "{what}: the host changed");
        assert!(!mac.state_path().exists(), "{what}: state written");
    }
}

#[test]
fn missing_spec_and_unknown_hosts_are_clear_errors() {
    let mac = Mac::new();
    mac.on(&["plan"])
        .status(1)
        .stderr(
            "error: cannot read spec macllm.yaml: No such file or directory (os error 2)
hint: pass the spec with `--spec FILE` (the default is ./macllm.yaml)
",
        )
        .run();
    mac.spec("macllm: 1\n");
    mac.macllm(&["--host", "moon", "plan"])
        .status(1)
        .stderr("error: unknown host `moon`; expected `local`, `sandbox:DIR` or `ssh:[USER@]NAME[:PORT]`\n")
        .run();
    mac.macllm(&["plan", "--no-such-flag"])
        .status(1)
        .stderr(
            "error: unexpected argument '--no-such-flag' found

Usage: macllm [GLOBAL OPTIONS] plan [OPTIONS]

For more information, try '--help'.
",
        )
        .run();
    mac.macllm(&["sandbox", "init", "other", "--preset", "m9"])
        .status(1)
        .stderr("error: unknown preset `m9`; choose one of: m1-8gb-monterey, m2-16gb-sonoma, m4pro-48gb-sequoia, m4max-64gb-sequoia, m2-16gb-sonoma-ssh\n")
        .run();
    assert!(!mac.work.join("other").exists());
}

/// `bench --runs 0` is refused instead of silently running once.
#[test]
fn bench_needs_at_least_one_run() {
    let mac = Mac::new();
    mac.macllm(&["bench", "llama3.2:3b", "--runs", "0"])
        .status(1)
        .stderr("error: invalid value '0' for '--runs <RUNS>': 0 is not in 1..=4294967295\n\nFor more information, try '--help'.\n")
        .run();
}

/// The same host given twice runs once (before, the second run failed on the first's lock).
#[test]
fn a_host_named_twice_runs_once() {
    let mac = Mac::new();
    mac.spec("macllm: 1\ndefaults:\n  - domain: com.example.twice\n    key: k\n    value: 1\n");
    mac.macllm(&[
        "--host",
        "sandbox:mac",
        "--host",
        "sandbox:mac",
        "apply",
        "--yes",
    ])
    .stdout(
        "
macllm will perform the following actions on sandbox:mac:

  # defaults:com.example.twice:k will be created
  + value = 1

Plan: 1 to add, 0 to change, 0 to destroy.

Apply complete! Resources: 1 added, 0 changed, 0 destroyed.
",
    )
    .stderr(
        "defaults:com.example.twice:k: Creating...
defaults:com.example.twice:k: Creation complete after [DURATION]
",
    )
    .run();
}
