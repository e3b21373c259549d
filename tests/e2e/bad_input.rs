//! Bad specs: each exits 1 with `file:line:column`, the field and a caret, changes nothing on
//! the host and writes no state.

use crate::harness::Mac;

const HEAD: &str = "macllm: 1\ndefaults:\n";

/// (what, spec, line, text that must appear in the message)
fn cases() -> Vec<(&'static str, String, usize, &'static str)> {
    let entry = |body: &str| format!("{HEAD}  - domain: com.apple.dock\n{body}");
    vec![
        (
            "unknown top-level section",
            "macllm: 1\ndefualts: []\n".into(),
            2,
            "unknown field `defualts`",
        ),
        (
            "misspelt field",
            entry("    key: autohide\n    valeu: true\n"),
            5,
            "defaults[0]: unknown field `valeu`",
        ),
        (
            "missing version",
            "defaults: []\n".into(),
            1,
            "missing field `macllm`",
        ),
        (
            "future version",
            "macllm: 2\n".into(),
            1,
            "unsupported spec version 2",
        ),
        (
            "value of the wrong type",
            entry("    key: autohide\n    type: bool\n    value: 3\n"),
            6,
            "defaults[0].value: expected a boolean",
        ),
        (
            "unknown type name",
            entry("    key: autohide\n    type: boolean\n    value: true\n"),
            5,
            "unknown variant `boolean`",
        ),
        (
            "value and absent",
            entry("    key: autohide\n    value: true\n    absent: true\n"),
            6,
            "contradict",
        ),
        (
            "neither value nor absent",
            entry("    key: autohide\n"),
            3,
            "missing field `value`",
        ),
        (
            "duplicate id across spellings",
            format!(
                "{HEAD}  - {{domain: -g, key: a, value: 1}}\n  - {{domain: NSGlobalDomain, key: a, value: 2}}\n"
            ),
            4,
            "duplicate resource id `defaults:NSGlobalDomain:a`",
        ),
        (
            "unknown dependency",
            entry("    key: autohide\n    value: true\n    depends_on: [defaults:nope:x]\n"),
            6,
            "unknown resource id `defaults:nope:x`",
        ),
        (
            "dependency cycle",
            format!(
                "{HEAD}  - {{domain: d, key: a, value: 1, depends_on: ['defaults:d:b']}}\n  - {{domain: d, key: b, value: 1, depends_on: ['defaults:d:a']}}\n"
            ),
            3,
            "dependency cycle: `defaults:d:a` -> `defaults:d:b` -> `defaults:d:a`",
        ),
        (
            "unterminated quote",
            entry("    key: \"autohide\n    value: true\n"),
            4,
            "while scanning a quoted scalar",
        ),
        (
            "tab indentation",
            format!("{HEAD}\t- domain: x\n"),
            3,
            "found character that cannot start any token",
        ),
        (
            "bad date",
            entry("    key: d\n    type: date\n    value: yesterday\n"),
            6,
            "`yesterday` is not a date",
        ),
        (
            "bad hex data",
            entry("    key: d\n    type: data\n    value: xyz\n"),
            6,
            "data must be hex digits",
        ),
        (
            "empty key",
            entry("    key: \"\"\n    value: 1\n"),
            4,
            "defaults[0].key: the key is empty",
        ),
        (
            "newline in a domain",
            format!("{HEAD}  - domain: \"com.apple\\ndock\"\n    key: k\n    value: 1\n"),
            3,
            "control character",
        ),
        (
            "path domain outside /Library/Preferences",
            format!("{HEAD}  - domain: /etc/passwd\n    key: k\n    value: 1\n"),
            3,
            "path domain `/etc/passwd` is not supported",
        ),
        (
            "number where a string is declared",
            entry("    key: k\n    type: string\n    value: 1\n"),
            6,
            "expected a string",
        ),
        (
            "null value",
            entry("    key: k\n    value: ~\n"),
            3,
            "missing field `value`",
        ),
        (
            "integer too large",
            entry("    key: k\n    value: 99999999999999999999\n"),
            5,
            "too large",
        ),
        (
            "defaults is not a list",
            "macllm: 1\ndefaults: {domain: x}\n".into(),
            2,
            "invalid type: map, expected a sequence",
        ),
        (
            "yes is not a boolean",
            entry("    key: k\n    type: bool\n    value: yes\n"),
            6,
            "expected a boolean (true or false), found a string",
        ),
    ]
}

#[test]
fn bad_specs_exit_1_with_location_and_change_nothing() {
    let mac = Mac::new();
    let before = mac.snapshot();
    let cases = cases();
    assert!(cases.len() >= 15);
    for (what, spec, line, message) in cases {
        mac.spec(&spec);
        for args in [&["validate"][..], &["plan"], &["apply", "--yes"]] {
            let run = mac.on(args);
            assert_eq!(run.status, 1, "{what}: {args:?}\n{}", run.stderr);
            assert!(run.stderr.starts_with("error: "), "{what}: {}", run.stderr);
            assert!(
                run.stderr.contains(&format!("--> macllm.yaml:{line}:")),
                "{what}: expected line {line}\n{}",
                run.stderr
            );
            assert!(
                run.stderr.contains(message),
                "{what}: expected `{message}`\n{}",
                run.stderr
            );
            // The offending line is quoted, with a caret under it.
            let quoted = spec.lines().nth(line - 1).unwrap();
            assert!(
                run.stderr.contains(&format!("{line} | {quoted}\n")),
                "{what}:\n{}",
                run.stderr
            );
            assert!(run.stderr.contains('^'), "{what}");
            assert!(run.stdout.is_empty(), "{what}: {}", run.stdout);
        }
        assert_eq!(before, mac.snapshot(), "{what}: the host changed");
        assert!(!mac.state_path().exists(), "{what}: state written");
    }
}

#[test]
fn missing_spec_and_unknown_hosts_are_clear_errors() {
    let mac = Mac::new();
    let run = mac.on(&["plan"]).expect(1);
    assert!(
        run.stderr.contains("cannot read spec macllm.yaml"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("hint: pass the spec with `--spec FILE`")
    );
    mac.spec("macllm: 1\n");
    let run = mac.macllm(&["--host", "moon", "plan"]).expect(1);
    assert!(run.stderr.contains("unknown host `moon`"), "{}", run.stderr);
    let run = mac.macllm(&["plan", "--no-such-flag"]).expect(1);
    assert!(run.stderr.contains("--no-such-flag"), "{}", run.stderr);
    let run = mac
        .macllm(&["sandbox", "init", "other", "--preset", "m9"])
        .expect(1);
    assert!(
        run.stderr
            .contains("unknown preset `m9`; choose one of: m1-8gb-monterey"),
        "{}",
        run.stderr
    );
}
