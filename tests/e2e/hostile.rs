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
    refused_on(&Mac::new(), cases)
}

/// [`refused`] on a Mac the caller prepared (files planted beside the spec).
fn refused_on(mac: &Mac, cases: Cases) -> usize {
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

fn one_domain(domain: &str) -> String {
    format!("macllm: 1\ndefaults:\n  - domain: \"{domain}\"\n    key: k\n    value: 1\n")
}

/// The error about the domain of [`one_domain`].
fn domain_error(domain: &str, message: &str, hint: Option<&str>) -> String {
    let hint = hint.map(|h| format!("hint: {h}\n")).unwrap_or_default();
    // Errors show a long line up to 60 characters past the caret.
    let mut line = format!("  - domain: \"{domain}\"");
    if line.chars().count() > 13 + 60 {
        line = line.chars().take(13 + 60).collect::<String>() + "…";
    }
    format!(
        "error: defaults[0].domain: {message}\n --> macllm.yaml:3:13\n  |\n3 | {line}\n  |             ^\n{hint}"
    )
}

const RELATIVE_HINT: &str =
    "write a domain name such as `com.apple.dock`, or a system domain under /Library/Preferences/";

#[test]
fn domains_that_leave_the_preference_folders_are_refused() {
    let long = "a".repeat(250);
    let long_system = format!("/Library/Preferences/{}", "b".repeat(250));
    let relative = |d: &str| {
        (
            format!("`{d}` is a relative path, not a domain name (a domain name has no `/`)"),
            Some(RELATIVE_HINT),
        )
    };
    let dots = |d: &str, part: &str, folder: &str| {
        (
            format!("domain `{d}` has {part} in its path, which could lead outside {folder}"),
            None,
        )
    };
    let user = "~/Library/Preferences";
    let system = "/Library/Preferences";
    let not_system = |d: &str| {
        (
            format!(
                "path domain `{d}` is not supported; use a domain name, or a system domain under /Library/Preferences/"
            ),
            None,
        )
    };
    let too_long = |shown: &str, bytes: usize| {
        (
            format!(
                "domain `{shown}…` is too long: its preference file `<domain>.plist` would be {bytes} bytes, and a file name holds at most 255"
            ),
            None,
        )
    };
    let table: Vec<(&str, (String, Option<&str>))> = vec![
        ("../../etc/passwd", relative("../../etc/passwd")),
        ("../x", relative("../x")),
        ("..", dots("..", "`..`", user)),
        (".", dots(".", "`.`", user)),
        ("a/b", relative("a/b")),
        (
            "com.apple.dock/../../../../etc/x",
            relative("com.apple.dock/../../../../etc/x"),
        ),
        (
            "~/Library/Preferences/com.apple.dock",
            relative("~/Library/Preferences/com.apple.dock"),
        ),
        (
            "/Library/Preferences/../../etc/passwd",
            dots("/Library/Preferences/../../etc/passwd", "`..`", system),
        ),
        (
            "/Library/Preferences/a/../../../tmp/x",
            dots("/Library/Preferences/a/../../../tmp/x", "`..`", system),
        ),
        (
            "/Library/Preferences/./com.apple.x",
            dots("/Library/Preferences/./com.apple.x", "`.`", system),
        ),
        (
            "/Library/Preferences//com.apple.x",
            dots("/Library/Preferences//com.apple.x", "an empty part", system),
        ),
        (
            "/Library/Preferences/",
            dots("/Library/Preferences/", "an empty part", system),
        ),
        (
            "/Library/Preferences/..",
            dots("/Library/Preferences/..", "`..`", system),
        ),
        ("/etc/passwd", not_system("/etc/passwd")),
        (
            "/Users/admin/Library/Preferences/com.apple.dock",
            not_system("/Users/admin/Library/Preferences/com.apple.dock"),
        ),
        (long.as_str(), too_long(&"a".repeat(40), 256)),
        (
            long_system.as_str(),
            too_long("/Library/Preferences/bbbbbbbbbbbbbbbbbbb", 256),
        ),
    ];
    let cases: Cases = table
        .into_iter()
        .map(|(domain, (message, hint))| {
            (
                "domain",
                one_domain(domain),
                domain_error(domain, &message, hint),
            )
        })
        .collect();
    assert_eq!(refused(cases), 17);
}

/// The error about `use[0].module` of `macllm: 1\nuse:\n  - module: "NAME"`.
fn module_error(name: &str, message: &str) -> String {
    format!(
        "error: use[0].module: {message}\n --> macllm.yaml:3:13\n  |\n3 |   - module: \"{name}\"\n  |             ^\nhint: a local module is a .yaml file beside the spec or in a folder below it: `./NAME.yaml`\n"
    )
}

#[test]
fn modules_outside_the_spec_folder_are_refused_without_quoting_them() {
    let mac = Mac::new();
    let secret = "password: hunter2-do-not-print";
    let outside = mac.work.parent().unwrap().join(format!(
        "{}-outside.yaml",
        mac.work.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&outside, format!("{secret}\n")).unwrap();
    std::fs::write(mac.work.join("notes.txt"), format!("{secret}\n")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&outside, mac.work.join("link.yaml")).unwrap();
    std::fs::write(
        mac.work.join("evil.yaml"),
        "module: evil\ndescription: writes outside the preference folders\ndefaults:\n  - {domain: ../../../etc/x, key: k, value: 1}\n",
    )
    .unwrap();
    let outside_name = format!("../{}", outside.file_name().unwrap().to_string_lossy());
    let use_module = |name: &str| format!("macllm: 1\nuse:\n  - module: \"{name}\"\n");
    let dots = |name: &str| {
        format!(
            "module `{name}` leads outside the spec's folder (`..`); macllm reads local modules only from there"
        )
    };
    let mut cases: Cases = Vec::new();
    for name in [
        "../../etc/passwd",
        "./../../etc/passwd",
        "./sub/../../x.yaml",
        outside_name.as_str(),
    ] {
        cases.push((
            "module with ..",
            use_module(name),
            module_error(name, &dots(name)),
        ));
    }
    for name in ["/etc/passwd", "/etc/hosts.yaml"] {
        cases.push((
            "absolute module",
            use_module(name),
            module_error(
                name,
                &format!("module `{name}` is an absolute path; macllm reads local modules only from the spec's folder"),
            ),
        ));
    }
    cases.push((
        "not a module file",
        use_module("./notes.txt"),
        module_error("./notes.txt", "module `./notes.txt` is not a .yaml file"),
    ));
    cases.push((
        "a link out of the folder",
        use_module("./link.yaml"),
        module_error(
            "./link.yaml",
            "module `./link.yaml` is a link that leads outside the spec's folder; macllm reads local modules only from there",
        ),
    ));
    // A module in the folder gets the same domain checks as the spec, located in its file.
    cases.push((
        "a module with a bad domain",
        use_module("./evil.yaml"),
        "error: defaults[0].domain: `../../../etc/x` is a relative path, not a domain name (a domain name has no `/`)
 --> ./evil.yaml:4:14
  |
4 |   - {domain: ../../../etc/x, key: k, value: 1}
  |              ^
hint: write a domain name such as `com.apple.dock`, or a system domain under /Library/Preferences/
"
        .to_string(),
    ));
    assert_eq!(refused_on(&mac, cases), 9);
    std::fs::remove_file(outside).unwrap();
}

/// A saved plan for one `defaults` key, hand-edited by `edit`.
fn edited_plan(mac: &Mac, edit: impl Fn(&mut serde_json::Value)) {
    let path = mac.work.join("edited.json");
    let mut plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(mac.work.join("plan.json")).unwrap())
            .unwrap();
    edit(&mut plan["changes"][0]);
    std::fs::write(path, serde_json::to_string_pretty(&plan).unwrap()).unwrap();
}

#[test]
fn hand_edited_plans_are_checked_as_specs_are() {
    let mac = Mac::new();
    mac.spec("macllm: 1\ndefaults:\n  - {domain: com.example.app, key: k, value: 1}\n");
    mac.on(&["plan", "--out", "plan.json"]).stdout_any().run();
    let before = mac.snapshot();
    let set_domain = |domain: &'static str| {
        move |change: &mut serde_json::Value| {
            change["resource"]["domain"] = domain.into();
            change["id"] = format!("defaults:{domain}:k").into();
        }
    };
    let refusal = |field: &str, id: &str, message: &str| {
        format!(
            "error: saved plan edited.json is refused before anything runs: changes[0].{field} (`{id}`): {message}\nhint: a saved plan is checked as a spec is; make a new one with `macllm plan --out`\n"
        )
    };
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(Edit, String)> = vec![
        (
            Box::new(set_domain("../../../../etc/x")),
            refusal(
                "resource.domain",
                "defaults:../../../../etc/x:k",
                "`../../../../etc/x` is a relative path, not a domain name (a domain name has no `/`)",
            ),
        ),
        (
            Box::new(set_domain("/Library/Preferences/../../../tmp/x")),
            refusal(
                "resource.domain",
                "defaults:/Library/Preferences/../../../tmp/x:k",
                "domain `/Library/Preferences/../../../tmp/x` has `..` in its path, which could lead outside /Library/Preferences",
            ),
        ),
        (
            Box::new(set_domain("/private/etc/x")),
            refusal(
                "resource.domain",
                "defaults:/private/etc/x:k",
                "path domain `/private/etc/x` is not supported; use a domain name, or a system domain under /Library/Preferences/",
            ),
        ),
        (
            Box::new(|change: &mut serde_json::Value| {
                change["resource"]["domain"] = "com.example.other".into();
            }),
            refusal(
                "id",
                "defaults:com.example.app:k",
                "the id `defaults:com.example.app:k` is not the resource's own (`defaults:com.example.other:k`)",
            ),
        ),
        (
            Box::new(|change: &mut serde_json::Value| {
                change["after"] = serde_json::json!({"string": "a\u{0}b"});
            }),
            refusal(
                "after",
                "defaults:com.example.app:k",
                "the string contains a NUL byte, where macOS command lines and C strings end",
            ),
        ),
        (
            Box::new(|change: &mut serde_json::Value| {
                change["resource"]["key"] = "k\n".into();
                change["id"] = "defaults:com.example.app:k\n".into();
            }),
            refusal(
                "resource.key",
                "defaults:com.example.app:k\n",
                "the key is empty or contains a control character (newline, tab or NUL)",
            ),
        ),
        (
            Box::new(|change: &mut serde_json::Value| {
                *change = serde_json::json!({
                    "id": "ollama_pull:../../../../tmp/x:latest",
                    "action": "create",
                    "before": null,
                    "after": {"bool": true},
                    "resource": {"kind": "ollama_pull", "model": "../../../../tmp/x:latest"},
                    "depends_on": [],
                    "restart": null,
                    "needs_root": false,
                });
            }),
            refusal(
                "resource",
                "ollama_pull:../../../../tmp/x:latest",
                "`../../../../tmp/x:latest` is not a model name Ollama accepts: it has an empty, `.` or `..` part, which would name a folder outside Ollama's model store",
            ),
        ),
    ];
    let count = cases.len();
    for (edit, stderr) in cases {
        edited_plan(&mac, edit);
        mac.on(&["apply", "edited.json"])
            .status(1)
            .stderr(&stderr)
            .run();
        assert!(before == mac.snapshot(), "the host changed");
        assert!(!mac.state_path().exists(), "state written");
    }
    assert_eq!(count, 7);
    // The plan as saved still applies.
    mac.on(&["apply", "plan.json"])
        .stdout_any()
        .stderr_any()
        .run();
}

const LINK_HINT: &str =
    "hint: remove the link; the state, its .backup and its .lock are plain files macllm creates\n";

#[cfg(unix)]
#[test]
fn links_planted_in_the_state_folder_are_never_followed() {
    use std::os::unix::fs::PermissionsExt;
    let plan_2 = "
macllm will perform the following actions on sandbox:mac:

  # defaults:com.example.app:k will be updated in-place
  ~ value = 1 -> 2

Plan: 0 to add, 1 to change, 0 to destroy.
";
    // (planted as, what apply prints on stdout, its error's prefix)
    let cases = [
        ("sandbox-mac.json", "", ""),
        ("sandbox-mac.json.lock", "", ""),
        (
            "sandbox-mac.json.backup",
            plan_2,
            "applying defaults:com.example.app:k: ",
        ),
    ];
    for (name, stdout, prefix) in cases {
        let mac = Mac::new();
        mac.spec(&one_value("", "1"));
        mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
        let victim = mac.work.join("victim.txt");
        std::fs::write(&victim, "not macllm's\n").unwrap();
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
        let planted = mac.work.join("state").join(name);
        let _ = std::fs::remove_file(&planted);
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        mac.spec(&one_value("", "2"));
        let before = mac.snapshot();
        mac.on(&["apply", "--yes"])
            .status(1)
            .stdout(stdout)
            .stderr(&format!(
                "error: {prefix}state/{name} is a symbolic link; macllm never follows links in the state folder (writing through it would overwrite the file it points to)\n{LINK_HINT}"
            ))
            .run();
        assert!(before == mac.snapshot(), "{name}: the host changed");
        assert_eq!(
            std::fs::read_to_string(&victim).unwrap(),
            "not macllm's\n",
            "{name}: the link was followed"
        );
        let mode = std::fs::metadata(&victim).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o644,
            "{name}: the link's target was chmod-ed"
        );
        assert!(
            std::fs::symlink_metadata(&planted)
                .unwrap()
                .file_type()
                .is_symlink(),
            "{name}: the link was replaced"
        );
    }
}

#[cfg(unix)]
#[test]
fn the_state_folder_is_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let mac = Mac::new();
    mac.spec(&one_value("", "1"));
    let mut command = std::process::Command::new("sh");
    command
        .current_dir(&mac.work)
        .args(["-c", "umask 000 && exec \"$0\" \"$@\""])
        .arg(crate::harness::BIN)
        .args(["--host", "sandbox:mac", "apply", "--yes"]);
    crate::harness::Test::new(command, &mac.work)
        .stdout_any()
        .stderr_any()
        .run();
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    let mode = |name: &str| {
        std::fs::metadata(mac.work.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("state"), 0o700);
    for file in [
        "state/sandbox-mac.json",
        "state/sandbox-mac.json.backup",
        "state/sandbox-mac.json.lock",
    ] {
        assert_eq!(mode(file), 0o600, "{file}");
    }
}

#[test]
fn temporary_files_a_crash_left_behind_are_removed() {
    let mac = Mac::new();
    mac.spec(&one_value("", "1"));
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    let state = mac.work.join("state");
    // What a writer killed between creating its temporary file and renaming it leaves.
    std::fs::write(state.join(".sandbox-mac.json.tmp-Ab12Cd"), "{\"half\": ").unwrap();
    // Another host's state, which another process may be writing right now, is not ours.
    std::fs::write(state.join(".sandbox-other.json.tmp-Zz99Yy"), "{").unwrap();
    mac.spec(&one_value("", "2"));
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    let mut names: Vec<String> = std::fs::read_dir(&state)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ".sandbox-other.json.tmp-Zz99Yy",
            "sandbox-mac.json",
            "sandbox-mac.json.backup",
            "sandbox-mac.json.lock"
        ]
    );
}

fn model_with(parameters: &str) -> String {
    format!(
        "macllm: 1\nollama:\n  models:\n    - name: m\n      from: llama3.1:8b\n      parameters: {{{parameters}}}\n"
    )
}

#[test]
fn out_of_range_and_unrepresentable_input_is_refused_at_validate() {
    let big = "x".repeat(1024 * 1024);
    let table: Vec<(&str, String, &str)> = vec![
        ("num_ctx 0", model_with("num_ctx: 0"), r#"error: ollama.models[0].parameters.num_ctx: `num_ctx` is tokens of context: at least 1, not 0
 --> macllm.yaml:6:29
  |
6 |       parameters: {num_ctx: 0}
  |                             ^
"#),
        ("num_ctx negative", model_with("num_ctx: -5"), r#"error: ollama.models[0].parameters.num_ctx: `num_ctx` is tokens of context: at least 1, not -5
 --> macllm.yaml:6:29
  |
6 |       parameters: {num_ctx: -5}
  |                             ^
"#),
        ("num_batch 0", model_with("num_batch: 0"), r#"error: ollama.models[0].parameters.num_batch: `num_batch` is tokens per batch: at least 1, not 0
 --> macllm.yaml:6:31
  |
6 |       parameters: {num_batch: 0}
  |                               ^
"#),
        ("top_p over 1", model_with("top_p: 1.5"), r#"error: ollama.models[0].parameters.top_p: `top_p` is a probability: from 0 to 1, not 1.5
 --> macllm.yaml:6:27
  |
6 |       parameters: {top_p: 1.5}
  |                           ^
"#),
        ("negative temperature", model_with("temperature: -1"), r#"error: ollama.models[0].parameters.temperature: `temperature` is a temperature: 0 or more, not -1.0
 --> macllm.yaml:6:33
  |
6 |       parameters: {temperature: -1}
  |                                 ^
"#),
        ("num_ctx 1e400", model_with("num_ctx: 1e400"), r#"error: ollama.models[0].parameters.num_ctx: `num_ctx` must be an integer, not a string
 --> macllm.yaml:6:29
  |
6 |       parameters: {num_ctx: 1e400}
  |                             ^
"#),
        ("tile_size negative", "macllm: 1\nuse:\n  - module: lean-ui\n    with: {tile_size: -3}\n".into(), r#"error: use[0].with.tile_size: `tile_size` must be from 16 to 128 (Dock icon size in points), not -3
 --> macllm.yaml:4:23
  |
4 |     with: {tile_size: -3}
  |                       ^
"#),
        ("tile_size too large", "macllm: 1\nuse:\n  - module: lean-ui\n    with: {tile_size: 4096}\n".into(), r#"error: use[0].with.tile_size: `tile_size` must be from 16 to 128 (Dock icon size in points), not 4096
 --> macllm.yaml:4:23
  |
4 |     with: {tile_size: 4096}
  |                       ^
"#),
        ("displaysleep too large", "macllm: 1\npower:\n  all: {displaysleep: 100000}\n".into(), r#"error: power.all.displaysleep: `displaysleep` takes minutes from 0 (never) to 1440 (a day), not 100000
 --> macllm.yaml:3:23
  |
3 |   all: {displaysleep: 100000}
  |                       ^
hint: write 0 to never sleep
"#),
        ("sleep negative", "macllm: 1\npower:\n  charger: {sleep: -1}\n".into(), r#"error: power.charger.sleep: `sleep` takes minutes (0 = never), not -1
 --> macllm.yaml:3:20
  |
3 |   charger: {sleep: -1}
  |                    ^
"#),
        ("sleep 1e400", "macllm: 1\npower:\n  all: {sleep: 1e400}\n".into(), r#"error: power.all.sleep: `sleep` takes minutes (0 = never), not `1e400`
 --> macllm.yaml:3:16
  |
3 |   all: {sleep: 1e400}
  |                ^
"#),
        ("hibernatemode", "macllm: 1\npower:\n  battery: {hibernatemode: 7}\n".into(), r#"error: power.battery.hibernatemode: `hibernatemode` is 0, 3 or 25 (pmset(1)), not 7
 --> macllm.yaml:3:28
  |
3 |   battery: {hibernatemode: 7}
  |                            ^
"#),
        ("NUL in a string value", one_value("", "\"a\\0b\""), r#"error: defaults[0].value: the string contains a NUL byte, where macOS command lines and C strings end
 --> macllm.yaml:5:12
  |
5 |     value: "a\0b"
  |            ^
"#),
        ("NUL in a dict key", one_value("", "{\"a\\0\": 1}"), r#"error: defaults[0].value: a key of this dictionary contains a NUL byte, where macOS command lines and C strings end
 --> macllm.yaml:5:12
  |
5 |     value: {"a\0": 1}
  |            ^
"#),
        ("NUL in a nested string", one_value("", "[[\"ok\", \"a\\0\"]]"), r#"error: defaults[0].value[0][1]: the string contains a NUL byte, where macOS command lines and C strings end
 --> macllm.yaml:5:20
  |
5 |     value: [["ok", "a\0"]]
  |                    ^
"#),
        ("NUL in a key", "macllm: 1\ndefaults:\n  - domain: com.example.app\n    key: \"k\\0\"\n    value: 1\n".into(), r#"error: defaults[0].key: the key contains a control character (newline, tab or NUL)
 --> macllm.yaml:4:10
  |
4 |     key: "k\0"
  |          ^
"#),
        ("NUL in a domain", one_domain("com.example\\0app"), r#"error: defaults[0].domain: the domain contains a control character (newline, tab or NUL)
 --> macllm.yaml:3:13
  |
3 |   - domain: "com.example\0app"
  |             ^
"#),
        ("NUL in a model's system prompt", "macllm: 1\nollama:\n  models:\n    - name: m\n      from: llama3.1:8b\n      system: \"be\\0brief\"\n".into(), r#"error: ollama.models[0]: a string in this entry contains a NUL byte, where macOS command lines and C strings end
 --> macllm.yaml:4:7
  |
4 |     - name: m
  |       ^
"#),
        ("value over ARG_MAX", one_value("", &big), r#"error: defaults[0].value: the value is too large: `defaults write` would need a 1048632-byte command line, and macOS lets one command line carry at most 1048576 bytes (ARG_MAX)
 --> macllm.yaml:5:12
  |
5 |     value: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…
  |            ^
"#),
        ("pull with ..", "macllm: 1\nollama:\n  pull: [\"../../../tmp/x:latest\"]\n".into(), r#"error: ollama.pull[0]: `../../../tmp/x:latest` is not a model name Ollama accepts: it has an empty, `.` or `..` part, which would name a folder outside Ollama's model store
 --> macllm.yaml:3:10
  |
3 |   pull: ["../../../tmp/x:latest"]
  |          ^
"#),
        ("model name with ..", "macllm: 1\nollama:\n  models:\n    - name: \"ns/../../m\"\n      from: llama3.1:8b\n".into(), r#"error: ollama.models[0].name: `ns/../../m` is not a model name Ollama accepts: it has an empty, `.` or `..` part, which would name a folder outside Ollama's model store
 --> macllm.yaml:4:13
  |
4 |     - name: "ns/../../m"
  |             ^
"#),
        ("base model with ..", "macllm: 1\nollama:\n  models:\n    - name: m\n      from: \"../llama3.1:8b\"\n".into(), r#"error: ollama.models[0].from: `../llama3.1:8b` is not a model name Ollama accepts: it has an empty, `.` or `..` part, which would name a folder outside Ollama's model store
 --> macllm.yaml:5:13
  |
5 |       from: "../llama3.1:8b"
  |             ^
"#),
        ("syntax error below a missing field", "macllm: 1\ndefaults:\n  - domain: x\n    value: 1\n  - domain: y\n   key: : k\n".into(), r#"error: did not find expected '-' indicator, while parsing a block collection
 --> macllm.yaml:6:4
  |
6 |    key: : k
  |    ^
"#),
        ("syntax error in a spec without a version", "defaults:\n  - {domain: x, key: k, value: [1, 2}\n".into(), r#"error: did not find expected ',' or ']', while parsing a flow sequence
 --> macllm.yaml:2:37
  |
2 |   - {domain: x, key: k, value: [1, 2}
  |                                     ^
"#),
    ];
    let cases: Cases = table
        .into_iter()
        .map(|(what, spec, stderr)| (what, spec, stderr.to_string()))
        .collect();
    assert_eq!(refused(cases), 24);
}

#[test]
fn a_state_naming_another_host_is_refused() {
    let mac = Mac::new();
    mac.spec(&one_value("", "1"));
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    // `sandbox:mac` and `sandbox-mac` name one file; a state copied from elsewhere too.
    let mut state = mac.state();
    state["host"] = "sandbox-mac".into();
    let text = serde_json::to_string_pretty(&state).unwrap();
    std::fs::write(mac.state_path(), &text).unwrap();
    let before = mac.snapshot();
    let refusal = "error: state file state/sandbox-mac.json is the state of `sandbox-mac`, not of `sandbox:mac`; macllm will not use or overwrite it
hint: run with `--host sandbox-mac`, or give this host its own `--state-dir`
";
    for args in [
        &["plan"][..],
        &["apply", "--yes"],
        &["destroy", "--yes"],
        &["drift"],
        &["state", "list"],
    ] {
        mac.on(args).status(1).stderr(refusal).run();
    }
    assert!(before == mac.snapshot(), "the host changed");
    assert_eq!(std::fs::read_to_string(mac.state_path()).unwrap(), text);
}
