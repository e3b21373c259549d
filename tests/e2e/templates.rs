//! Templates render inside the parsed spec (issue 11): a host fact, an inventory var or a
//! module parameter lands verbatim in the one value that asked for it, whatever it holds, and
//! can never add a resource or change the spec's structure. `when:` is the safe form of
//! "this resource only on some Macs".

use crate::harness::Mac;

/// Values built to break out of a YAML scalar in every way the old text-level rendering let
/// them: a closing quote and brace with a new flow item, a `: ` and `,`, a newline followed by
/// a list item at the spec's own indentation, anchors and aliases, template syntax (rendered
/// once, never again).
const HOSTILE: &[&str] = &[
    r#"x"}, {domain: com.example.evil, key: pwned, value: "1"#,
    "a: b, c: d } ] # not a comment",
    "line\n  - domain: com.example.evil\n    key: pwned\n    value: 1",
    "- kind: defaults\n&anchor *alias !!binary",
    "{{ host.user }} {% if true %}x{% endif %}",
    "'\"\\\t\u{1b}",
];

/// Where each hostile value may land: whole, inside a flow mapping's quoted text, inside a
/// block-style plain text and inside a literal block.
fn spec(expression: &str) -> String {
    format!(
        "macllm: 1
defaults: [{{domain: com.example.app, key: flow, value: \"on {{{{ {expression} }}}}\"}}]
spotlight: []
agents:
  - label: com.example.agent
    program_arguments: [/bin/echo, \"{{{{ {expression} }}}}\", \"-{{{{ {expression} }}}}-\"]
services: []
ollama:
  env:
    OLLAMA_KEEP_ALIVE: 5m
  models:
    - name: hostile
      from: llama3.2:3b
      system: |
        You run on {{{{ {expression} }}}}.
        Be brief.
"
    )
}

/// Every string in the resources a plan (`plan --json`) declares, by resource id.
fn planned(mac: &Mac, args: &[&str]) -> Vec<(String, Vec<String>)> {
    fn strings(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
            serde_json::Value::Object(map) => map.values().for_each(|v| strings(v, out)),
            _ => {}
        }
    }
    let plan: serde_json::Value = serde_json::from_str(&mac.macllm(args).stdout_of()).unwrap();
    plan["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("{plan}"))
        .iter()
        .map(|change| {
            let mut found = Vec::new();
            strings(&change["resource"], &mut found);
            (change["id"].as_str().unwrap().to_string(), found)
        })
        .collect()
}

/// The strings of the one planned resource whose id starts with `prefix`.
fn strings_of<'a>(plan: &'a [(String, Vec<String>)], prefix: &str) -> &'a [String] {
    &plan
        .iter()
        .find(|(id, _)| id.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} in {plan:?}"))
        .1
}

/// The spec planned with `value` as the emulated Mac's hostname (a fact) or as an inventory
/// var: the same resources as with a harmless value, and each value the text, verbatim.
#[test]
fn hostile_facts_and_vars_land_verbatim_and_add_nothing() {
    let ids =
        |plan: &[(String, Vec<String>)]| plan.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>();
    for (index, value) in HOSTILE.iter().enumerate() {
        let mac = Mac::new();
        // A hostname cannot hold a newline (sysctl prints one per line); an inventory var can.
        let as_var = value.contains('\n');
        let run = |value: &str| {
            if as_var {
                let fleet = serde_json::json!({"hosts": {"mac": {"host": "sandbox:mac", "vars": {"note": value}}}});
                std::fs::write(mac.work.join("fleet.yaml"), fleet.to_string()).unwrap();
                mac.spec(&spec("vars.note"));
                planned(&mac, &["--inventory", "fleet.yaml", "plan", "--json"])
            } else {
                mac.set_machine("hostname", value.into());
                mac.spec(&spec("host.hostname"));
                planned(&mac, &["--host", "sandbox:mac", "plan", "--json"])
            }
        };
        let harmless = run("harmless");
        let plan = run(value);
        assert_eq!(ids(&plan), ids(&harmless), "case {index}: {plan:?}");
        let of = |prefix: &str| strings_of(&plan, prefix).to_vec();
        let agent = of("agent:com.example.agent");
        for expected in [
            vec![format!("on {value}")],
            vec![value.to_string(), format!("-{value}-")],
            vec![format!("You run on {value}.\nBe brief.\n")],
        ]
        .concat()
        {
            let found = of("defaults:com.example.app:flow")
                .into_iter()
                .chain(agent.clone())
                .chain(of("ollama_model:hostile"))
                .any(|s| s == expected);
            assert!(found, "case {index}: {expected:?} not in {plan:?}");
        }
    }
}

/// The one case the issue names, whole: a crafted hostname in a flow-style spec. Before
/// templates were rendered on the parsed document, this planned `defaults:com.example.evil:
/// pwned` as well.
#[test]
fn a_crafted_hostname_cannot_add_a_resource() {
    let mac = Mac::new();
    mac.set_machine("hostname", HOSTILE[0].into());
    mac.spec("macllm: 1\ndefaults: [{domain: com.example.app, key: label, value: \"on {{ host.hostname }}\"}]\n");
    mac.on(&["apply", "--yes"])
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # defaults:com.example.app:label will be created
  + value = "on x\"}, {domain: com.example.evil, key: pwned, value: \"1"

Plan: 1 to add, 0 to change, 0 to destroy.

Apply complete! Resources: 1 added, 0 changed, 0 destroyed.
"#,
        )
        .stderr("defaults:com.example.app:label: Creating...\ndefaults:com.example.app:label: Creation complete after [DURATION]\n")
        .run();
    mac.read("com.example.app", "label")
        .stdout(&format!("on {}\n", HOSTILE[0]))
        .run();
    mac.read_missing("com.example.evil", "pwned");
}

const BY_MEMORY: &str = "macllm: 1
defaults:
  - domain: com.example.app
    key: everywhere
    value: 1
  - domain: com.example.app
    key: big-only
    value: 2
    when: host.memory_gb >= 32
  - domain: com.example.app
    key: small-only
    value: 3
    when: \"{{ host.memory_gb < 32 }}\"
use:
  - module: keep-awake
    when: host.memory_gb >= 32
";

/// One spec, two Macs: each gets the resources whose `when:` holds on it, the items of a
/// module included.
#[test]
fn when_selects_resources_per_host() {
    let work = Mac::new();
    work.init("small", "m1-8gb-monterey");
    work.init("big", "m4max-64gb-sequoia");
    work.spec(BY_MEMORY);
    let ids = |host: &str| -> Vec<String> {
        let plan: serde_json::Value =
            serde_json::from_str(&work.macllm(&["--host", host, "plan", "--json"]).stdout_of())
                .unwrap();
        plan["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ids("sandbox:small"),
        [
            "defaults:com.example.app:everywhere",
            "defaults:com.example.app:small-only"
        ]
    );
    assert_eq!(
        ids("sandbox:big"),
        [
            "agent:com.macllm.keep-awake",
            "defaults:com.example.app:big-only",
            "defaults:com.example.app:everywhere"
        ]
    );
    // One fleet apply: each Mac gets its own.
    work.macllm(&[
        "--host",
        "sandbox:small",
        "--host",
        "sandbox:big",
        "apply",
        "--yes",
    ])
    .stdout_any()
    .stderr_any()
    .run();
    let read = |dir: &str, key: &str| {
        work.macllm(&[
            "sandbox",
            "run",
            dir,
            "--",
            "defaults",
            "read",
            "com.example.app",
            key,
        ])
    };
    read("small", "small-only").stdout("3\n").run();
    read("big", "big-only").stdout("2\n").run();
    for (dir, key) in [("small", "big-only"), ("big", "small-only")] {
        read(dir, key)
            .status(1)
            .stderr(&format!("[TIME] defaults[[PID]] \nThe domain/default pair of (com.example.app, {key}) does not exist\n"))
            .run();
    }
    work.macllm(&["validate"])
        .stdout("Success! macllm.yaml is valid: 2 resources (rendered for each of the 5 emulated Macs).\n")
        .run();
}

/// A resource applied while its `when:` held is destroyed (its original put back) once the
/// condition no longer holds, like any resource taken out of the spec.
#[test]
fn a_resource_whose_when_turns_false_is_restored() {
    let mac = Mac::new();
    mac.set_machine("hostname", "studio.local".into());
    mac.spec("macllm: 1\ndefaults:\n  - domain: com.apple.dock\n    key: tilesize\n    value: 30\n    when: host.hostname == \"studio.local\"\n");
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    mac.read("com.apple.dock", "tilesize").stdout("30\n").run();
    mac.set_machine("hostname", "lab.local".into());
    mac.on(&["apply", "--yes"])
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # defaults:com.apple.dock:tilesize will be restored to its original value
  ~ value = 30 -> 48
    # then: killall Dock

Plan: 0 to add, 0 to change, 1 to destroy.
After the changes: killall Dock.

Apply complete! Resources: 0 added, 0 changed, 1 destroyed.
"#,
        )
        .stderr_any()
        .run();
    mac.read("com.apple.dock", "tilesize").stdout("48\n").run();
    mac.on(&["plan"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
}

/// Template syntax where it can no longer work is refused with the place and the way out; it
/// is never kept as a literal value.
#[test]
fn structural_templates_are_refused_with_a_way_out() {
    let mac = Mac::new();
    let before = mac.snapshot();
    let cases = [
        (
            "macllm: 1\ndefaults:\n{% if host.memory_gb > 8 %}\n  - {domain: com.example.app, key: k, value: 1}\n{% endif %}\n",
            "error: a template block `{% ... %}` stands between YAML lines; templates render only inside values now, so a block cannot add or remove YAML
 --> macllm.yaml:3:1
  |
3 | {% if host.memory_gb > 8 %}
  | ^
hint: to declare a resource only on some Macs, give it `when: EXPRESSION` (like `when: host.memory_gb >= 32`) and drop the `{% if %}` / `{% endif %}` lines
",
        ),
        (
            "macllm: 1\ndefaults:\n  - \"{% for k in ['a', 'b'] %}\"\n  - {domain: com.example.app, key: k, value: 1}\n  - \"{% endfor %}\"\n",
            "error: defaults[0]: template error: unexpected end of input, expected end of block
 --> macllm.yaml:3:6
  |
3 |   - \"{% for k in ['a', 'b'] %}\"
  |      ^
hint: templates render inside each value, so a `{% if %}` or `{% for %}` block cannot add or remove YAML around it; to declare a resource only on some Macs, give it `when: EXPRESSION`
",
        ),
        (
            "macllm: 1\nollama:\n  env:\n    \"{{ 'OLLAMA_' + host.user }}\": 1\n",
            "error: ollama.env.{{ 'OLLAMA_' + host.user }}: the key `{{ 'OLLAMA_' + host.user }}` holds a template: keys are not templated, only values
 --> macllm.yaml:4:6
  |
4 |     \"{{ 'OLLAMA_' + host.user }}\": 1
  |      ^
",
        ),
        (
            "macllm: 1\ndefaults:\n  - domain: com.example.app\n    key: k\n    value: {{ host.memory_gb }}\n",
            "error: defaults[0].value: an unquoted `{{ ... }}` is a mapping to YAML, not a template
 --> macllm.yaml:5:12
  |
5 |     value: {{ host.memory_gb }}
  |            ^
hint: quote the whole value: `value: \"{{ host.memory_gb }}\"`
",
        ),
        (
            "macllm: 1\ndefaults:\n  - domain: com.example.app\n    key: k\n    value: 1\n    when: host.memroy_gb >= 32\n",
            "error: defaults[0].when: template error: `host.memroy_gb` is undefined
 --> macllm.yaml:6:11
  |
6 |     when: host.memroy_gb >= 32
  |           ^
hint: templates see `host` (the Mac's facts: `macllm facts` lists them) and `vars`
",
        ),
        (
            "macllm: 1\ndefaults:\n  - domain: com.example.app\n    key: k\n    value: 1\n    when: host.chip\n",
            "error: defaults[0].when: `when` must give true or false, and this gives a string
 --> macllm.yaml:6:11
  |
6 |     when: host.chip
  |           ^
hint: compare it, as in `when: params.model != \"\"` or `when: host.memory_gb >= 32`
",
        ),
    ];
    // A local module written for the old text-level templates.
    std::fs::write(
        mac.work.join("old.yaml"),
        "module: old\ndescription: a module written for text templates\nagents:\n{% if host.memory_gb > 8 %}\n  - {label: com.example.old, program_arguments: [/bin/true]}\n{% endif %}\n",
    )
    .unwrap();
    let module = (
        "macllm: 1\nuse:\n  - module: ./old.yaml\n",
        "error: a template block `{% ... %}` stands between YAML lines; templates render only inside values now, so a block cannot add or remove YAML
 --> ./old.yaml:4:1
  |
4 | {% if host.memory_gb > 8 %}
  | ^
hint: to declare a resource only on some Macs, give it `when: EXPRESSION` (like `when: host.memory_gb >= 32`) and drop the `{% if %}` / `{% endif %}` lines
",
    );
    for (spec, stderr) in cases.into_iter().chain([module]) {
        mac.spec(spec);
        for args in [&["validate"][..], &["plan"]] {
            mac.on(args).status(1).stderr(stderr).run();
        }
    }
    assert!(before == mac.snapshot(), "the host changed");
}

/// After a `when:` dropped an item, errors in the items below it still name the line and the
/// index the user wrote.
#[test]
fn errors_after_a_dropped_item_point_where_it_was_written() {
    let mac = Mac::new();
    mac.spec("macllm: 1\ndefaults:\n  - domain: com.example.app\n    key: a\n    value: 1\n    when: false\n  - domain: com.example.app\n    key: b\n    value: \"{{ 'x' }}\"\n    type: int\n");
    mac.on(&["plan"])
        .status(1)
        .stderr(
            "error: defaults[1].value: expected an integer, found a string
 --> macllm.yaml:9:12
  |
9 |     value: \"{{ 'x' }}\"
  |            ^
",
        )
        .run();
}

/// Every step inside one `keyctl session` (as in secrets.rs): the secret is set, the spec
/// applied, and both keys read back from the emulated Mac.
const SECRET_SCRIPT: &str = r#"
set -e
step() { name=$1; shift; status=0; "$@" > "$name.out" 2> "$name.err" || status=$?; echo "$status" > "$name.status"; }
printf '%s\n' "$2" | step set "$1" secret set hostile
step apply "$1" --host sandbox:mac apply --yes
step value "$1" sandbox run mac -- defaults read com.example.app token
step evil "$1" sandbox run mac -- defaults read com.example.evil pwned
"#;

/// A secret (one line, as `secret set` reads it) holding quotes, braces, `: `, anchors, a list
/// item and template syntax lands verbatim in its one value and adds no resource.
#[test]
#[cfg(target_os = "linux")]
#[ignore = "needs `keyctl` (keyutils); run with --include-ignored"]
fn a_hostile_secret_lands_verbatim() {
    assert!(
        std::process::Command::new("keyctl")
            .arg("--version")
            .output()
            .is_ok(),
        "this test needs `keyctl` (apt-get install keyutils)"
    );
    let secret = r#"x"}, {domain: com.example.evil, key: pwned, value: "1 &a *a - kind: defaults {{ host.user }}"#;
    let mac = Mac::new();
    mac.spec("macllm: 1\ndefaults: [{domain: com.example.app, key: token, value: \"on {{ secret('hostile') }}\"}]\n");
    let mut command = std::process::Command::new("keyctl");
    command
        .args([
            "session",
            "-",
            "sh",
            "-c",
            SECRET_SCRIPT,
            "sh",
            crate::harness::BIN,
            secret,
        ])
        .current_dir(&mac.work);
    crate::harness::Test::new(command, &mac.work)
        .stderr_any()
        .run();
    let step = |name: &str| crate::harness::Test::recorded(&mac.work, name);
    step("set")
        .stdout("Stored the secret `hostile` in the keyring.\n")
        .run();
    step("apply")
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # defaults:com.example.app:token will be created
  ~ value = (sensitive)

Plan: 1 to add, 0 to change, 0 to destroy.

Apply complete! Resources: 1 added, 0 changed, 0 destroyed.
"#,
        )
        .stderr("defaults:com.example.app:token: Creating...\ndefaults:com.example.app:token: Creation complete after [DURATION]\n")
        .run();
    step("value").stdout(&format!("on {secret}\n")).run();
    step("evil")
        .status(1)
        .stderr("[TIME] defaults[[PID]] \nThe domain/default pair of (com.example.evil, pwned) does not exist\n")
        .run();
}

/// Every example validates: rendered for each emulated Mac, with its `when:`s.
#[test]
fn every_example_validates() {
    let mac = Mac::new();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let output = mac
            .command(&["validate", "--spec", path.to_str().unwrap()])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.starts_with("Success! "),
            "{}: {stdout}{}",
            path.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        checked += 1;
    }
    assert!(checked >= 8, "{checked} examples");
}

/// A Go template for Ollama survives inside `{% raw %}`, and a `{{` that a var holds is text.
#[test]
fn raw_blocks_and_vars_keep_literal_braces() {
    let mac = Mac::new();
    mac.spec("macllm: 1\nvars: { motto: \"{{ host.user }}\" }\ndefaults:\n  - {domain: com.example.app, key: motto, value: \"{{ vars.motto }}\"}\nollama:\n  models:\n    - name: go\n      from: llama3.2:3b\n      template: \"{% raw %}{{ .System }} {{ .Prompt }}{% endraw %}\"\n");
    let plan = planned(&mac, &["--host", "sandbox:mac", "plan", "--json"]);
    let strings = |prefix: &str| strings_of(&plan, prefix);
    assert!(
        strings("ollama_model:go").contains(&"{{ .System }} {{ .Prompt }}".to_string()),
        "{plan:?}"
    );
    assert!(
        strings("defaults:com.example.app:motto").contains(&"{{ host.user }}".to_string()),
        "{plan:?}"
    );
}
