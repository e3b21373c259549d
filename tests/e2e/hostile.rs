//! Hostile input (issue 11): specs, plan files and state folders built to poison the state,
//! escape the Mac's preference folders or follow a planted symlink. Each class is tried in
//! several spellings; every one must be refused with the file and line, change nothing on the
//! host and write no state.

use crate::harness::Mac;

/// (what, spec) cases of one class with the whole of the error they must print.
type Cases = Vec<(&'static str, String, String)>;

/// Runs every case through `validate`, `plan` and `apply --yes`: each exits 1 with exactly
/// `stderr`, and the host and the state folder stay as they were. Returns how many specs it
/// tried.
fn refused(cases: Cases) -> usize {
    let mac = Mac::new();
    let before = mac.snapshot();
    let count = cases.len();
    for (what, spec, stderr) in cases {
        mac.spec(&spec);
        for args in [&["validate"][..], &["plan"], &["apply", "--yes"]] {
            mac.on(args).status(1).stderr(&stderr).run();
        }
        assert!(before == mac.snapshot(), "{what}: the host changed");
        assert!(!mac.state_path().exists(), "{what}: state written");
    }
    count
}

/// The error of a `defaults` value at line 6, column 12 of a one-entry spec.
fn value_error(line: &str, message: &str, hint: Option<&str>) -> String {
    let caret_at = line.find("value: ").map(|at| at + 7).unwrap_or(0);
    let mut text = format!(
        "error: defaults[0].value: {message}\n --> macllm.yaml:6:{}\n  |\n6 | {line}\n  | {}^\n",
        caret_at + 1,
        " ".repeat(caret_at)
    );
    if let Some(hint) = hint {
        text.push_str(&format!("hint: {hint}\n"));
    }
    text
}

fn one_value(type_line: &str, value: &str) -> String {
    format!(
        "macllm: 1\ndefaults:\n  - domain: com.example.app\n    key: k\n{type_line}    value: {value}\n"
    )
}

const NOT_FINITE: &str = "is not a finite number: macOS `defaults` cannot hold NaN or infinity meaningfully (property lists have no portable form for them), so macllm refuses it rather than write a value it could not read back or restore";

#[test]
fn non_finite_floats_are_refused_at_validate() {
    let mut cases: Cases = Vec::new();
    // Every YAML spelling of NaN and infinity, with and without `type: float`.
    for (written, shown) in [
        (".nan", ".nan"),
        (".NaN", ".nan"),
        (".NAN", ".nan"),
        (".inf", ".inf"),
        (".Inf", ".inf"),
        ("+.inf", ".inf"),
        ("-.inf", "-.inf"),
        ("-.INF", "-.inf"),
    ] {
        for type_line in ["", "    type: float\n"] {
            let spec = one_value(type_line, written);
            let line = format!("    value: {written}");
            // Without `type:` the value is on line 5.
            let stderr = value_error(&line, &format!("`{shown}` {NOT_FINITE}"), None);
            let stderr = if type_line.is_empty() {
                stderr.replace(":6:", ":5:").replace("\n6 |", "\n5 |")
            } else {
                stderr
            };
            cases.push(("non-finite float", spec, stderr));
        }
    }
    // Too large for a double: YAML keeps such a number as a string.
    for written in ["1e400", "-1e+400", "1.0e400", "2e308"] {
        let line = format!("    value: {written}");
        let message = format!("`{written}` is out of range: a float holds at most about 1.8e308");
        let hint = Some("quote it and write `type: string` to keep it as text");
        cases.push((
            "overflowing float",
            one_value("    type: float\n", written),
            value_error(&line, &message, hint),
        ));
        cases.push((
            "overflowing untyped number",
            one_value("", written),
            value_error(&line, &message, hint)
                .replace(":6:", ":5:")
                .replace("\n6 |", "\n5 |"),
        ));
    }
    // Quoted where a number is wanted: still not a number macOS can hold.
    cases.push((
        "overflowing number as a string",
        one_value("    type: float\n", "\"1e400\""),
        value_error(
            "    value: \"1e400\"",
            "`1e400` is out of range: a float holds at most about 1.8e308",
            Some("quote it and write `type: string` to keep it as text"),
        ),
    ));
    // Nested inside collections.
    cases.push((
        "NaN in a list",
        one_value("", "[1.5, .nan]"),
        "error: defaults[0].value[1]: `.nan` ".to_string()
            + NOT_FINITE
            + "\n --> macllm.yaml:5:18\n  |\n5 |     value: [1.5, .nan]\n  |                  ^\n",
    ));
    let count = refused(cases);
    assert_eq!(count, 26);
}

#[test]
fn a_quoted_overflowing_number_stays_a_string() {
    let mac = Mac::new();
    mac.spec(&one_value("", "\"1e400\""));
    mac.on(&["validate"])
        .stdout("Success! macllm.yaml is valid: 1 resources.\n")
        .run();
}

#[test]
fn a_non_finite_value_on_the_mac_never_reaches_the_state() {
    let mac = Mac::new();
    // A Mac can hold NaN (written as a plist); macllm must not record it as an original it
    // could not read back.
    mac.sh(&[
        "defaults",
        "write",
        "com.example.app",
        "k",
        "<real>nan</real>",
    ])
    .run();
    mac.spec(&one_value("", "1.5"));
    let before = mac.snapshot();
    mac.on(&["apply", "--yes"])
        .status(1)
        .stdout(
            "
macllm will perform the following actions on sandbox:mac:

  # defaults:com.example.app:k will be updated in-place
  ~ value = NaN -> 1.5

Plan: 0 to add, 1 to change, 0 to destroy.
",
        )
        .stderr("error: applying defaults:com.example.app:k: cannot record the state state/sandbox-mac.json; it was left as it was: the float NaN is not finite: NaN and infinity cannot be recorded (JSON has no form for them, and macOS `defaults` cannot hold them meaningfully)\n")
        .run();
    assert!(before == mac.snapshot(), "the host changed");
    assert!(!mac.state_path().exists(), "state written");
    // Nothing is poisoned: the next commands still work.
    mac.on(&["drift"])
        .stdout("\nNo state for sandbox:mac at state/sandbox-mac.json: nothing has been applied there yet.\n")
        .run();
}
