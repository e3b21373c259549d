//! A broken spec is fixed in one pass: every error at once (one per resource at least, and
//! each of a resource's errors where reading it can go on), in line order, each with its place
//! and caret, "did you mean" for a slip, and a count when there are more than are shown.

use crate::harness::Mac;

#[test]
fn every_resource_with_an_error_is_reported_in_line_order() {
    let mac = Mac::new();
    let before = mac.snapshot();
    mac.spec(
        "macllm: 1
defaults:
  - domain: com.apple.dock
    key: autohide
    valeu: true
  - domain: com.apple.dock
    key: tilesize
    value: 36
  - domain: com.apple.dock
    key: mineffect
    type: boolean
    value: scale
  - domain: com.apple.finder
services:
  - label: com.apple.Siri agent
    enabled: false
  - label: com.apple.photoanalysisd
    enabld: false
power:
  all: {sleep: 0, displaysleeep: 10}
ollama:
  env:
    OLLAMA_KEEPALIVE: 10m
    OLLAMA_NUM_PARALLEL: 2
  pull: ['llama3.2:3b']
",
    );
    for args in [&["validate"][..], &["plan"]] {
        mac.on(args).status(1).stderr(r#"error: defaults[0]: unknown field `valeu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`
 --> macllm.yaml:5:5
  |
5 |     valeu: true
  |     ^
hint: did you mean `value`?

error: defaults[2].type: unknown variant `boolean`, expected one of `bool`, `int`, `float`, `string`, `date`, `data`, `array`, `dict`
  --> macllm.yaml:11:11
   |
11 |     type: boolean
   |           ^

error: defaults[3]: missing field `key`
  --> macllm.yaml:13:5
   |
13 |   - domain: com.apple.finder
   |     ^

error: services[0].label: `com.apple.Siri agent` is not a launchd label: use letters, digits, `.`, `-` and `_` (like `com.example.ollama`)
  --> macllm.yaml:15:12
   |
15 |   - label: com.apple.Siri agent
   |            ^

error: services[1]: unknown field `enabld`, expected one of `label`, `enabled`, `domain`, `depends_on`
  --> macllm.yaml:18:5
   |
18 |     enabld: false
   |     ^
hint: did you mean `enabled`?

error: power.all.displaysleeep: unknown power setting `displaysleeep`; macllm manages sleep, displaysleep, disksleep, standby, hibernatemode, powernap, autorestart, womp, ttyskeepawake, tcpkeepalive, proximitywake, networkoversleep, lowpowermode, powermode
  --> macllm.yaml:20:34
   |
20 |   all: {sleep: 0, displaysleeep: 10}
   |                                  ^
hint: did you mean `displaysleep`?

error: ollama.env.OLLAMA_KEEPALIVE: `OLLAMA_KEEPALIVE` is not a variable Ollama reads
  --> macllm.yaml:23:23
   |
23 |     OLLAMA_KEEPALIVE: 10m
   |                       ^
hint: did you mean `OLLAMA_KEEP_ALIVE`? Or pass --allow-unknown-env to keep it anyway

error: 7 errors
"#).run();
    }
    assert_eq!(before, mac.snapshot(), "the host changed");
    assert!(!mac.state_path().exists(), "state written");
}

#[test]
fn several_errors_of_one_resource_are_all_reported() {
    Mac::new()
        .spec(
            "macllm: 1
agents:
  - label: com.example.ollama
    program_arguments: [/opt/homebrew/bin/ollama, serve]
    keepalive: true
    run_at_lod: true
    nice: 5
",
        )
        .on(&["validate"])
        .status(1)
        .stderr(r#"error: agents[0]: unknown field `keepalive`, expected one of `label`, `program_arguments`, `environment`, `keep_alive`, `run_at_load`, `process_type`, `nice`, `working_directory`, `standard_out_path`, `standard_error_path`, `limit_load_to_session_type`, `path`, `depends_on`
 --> macllm.yaml:5:5
  |
5 |     keepalive: true
  |     ^
hint: did you mean `keep_alive`?

error: agents[0]: unknown field `run_at_lod`, expected one of `label`, `program_arguments`, `environment`, `keep_alive`, `run_at_load`, `process_type`, `nice`, `working_directory`, `standard_out_path`, `standard_error_path`, `limit_load_to_session_type`, `path`, `depends_on`
 --> macllm.yaml:6:5
  |
6 |     run_at_lod: true
  |     ^
hint: did you mean `run_at_load`?

error: 2 errors
"#)
        .run();
}

#[test]
fn misspelt_sections_and_module_parameters_get_a_suggestion() {
    Mac::new()
        .spec(
            "macllm: 1
defualts: []
use:
  - module: keep-awake
    with: {disk_sleep: 10}
  - module: lean-ui
    with: {tilesize: 40}
",
        )
        .on(&["validate"])
        .status(1)
        .stderr(r#"error: unknown field `defualts`, expected one of `macllm`, `module`, `description`, `params`, `vars`, `use`, `defaults`, `services`, `agents`, `spotlight`, `power`, `time_machine`, `ollama`
 --> macllm.yaml:2:1
  |
2 | defualts: []
  | ^
hint: did you mean `defaults`?

error: use[0].with.disk_sleep: module `keep-awake` has no parameter `disk_sleep`
 --> macllm.yaml:5:24
  |
5 |     with: {disk_sleep: 10}
  |                        ^
hint: it takes no parameters

error: use[1].with.tilesize: module `lean-ui` has no parameter `tilesize`
 --> macllm.yaml:7:22
  |
7 |     with: {tilesize: 40}
  |                      ^
hint: did you mean `tile_size`? its parameters are dock_autohide, tile_size, transparency

error: 3 errors
"#)
        .run();
}

#[test]
fn more_errors_than_are_shown_are_counted() {
    let items: String = (0..25)
        .map(|i| format!("  - {{domain: d, key: k{i}, valu: 1}}\n"))
        .collect();
    Mac::new()
        .spec(&format!("macllm: 1\ndefaults:\n{items}"))
        .on(&["validate"])
        .status(1)
        .stderr(r#"error: defaults[0]: unknown field `valu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`
 --> macllm.yaml:3:26
  |
3 |   - {domain: d, key: k0, valu: 1}
  |                          ^
hint: did you mean `value`?

error: defaults[1]: unknown field `valu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`
 --> macllm.yaml:4:26
  |
4 |   - {domain: d, key: k1, valu: 1}
  |                          ^
hint: did you mean `value`?

error: defaults[2]: unknown field `valu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`
 --> macllm.yaml:5:26
  |
5 |   - {domain: d, key: k2, valu: 1}
  |                          ^
hint: did you mean `value`?

error: defaults[3]: unknown field `valu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`
 --> macllm.yaml:6:26
  |
6 |   - {domain: d, key: k3, valu: 1}
  |                          ^
hint: did you mean `value`?

error: defaults[4]: unknown field `valu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`
 --> macllm.yaml:7:26
  |
7 |   - {domain: d, key: k4, valu: 1}
  |                          ^
hint: did you mean `value`?

error: defaults[5]: unknown field `valu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`
 --> macllm.yaml:8:26
  |
8 |   - {domain: d, key: k5, valu: 1}
  |                          ^
hint: did you mean `value`?

error: defaults[6]: unknown field `valu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`
 --> macllm.yaml:9:26
  |
9 |   - {domain: d, key: k6, valu: 1}
  |                          ^
hint: did you mean `value`?

error: defaults[7]: unknown field `valu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`
  --> macllm.yaml:10:26
   |
10 |   - {domain: d, key: k7, valu: 1}
   |                          ^
hint: did you mean `value`?

error: defaults[8]: unknown field `valu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`
  --> macllm.yaml:11:26
   |
11 |   - {domain: d, key: k8, valu: 1}
   |                          ^
hint: did you mean `value`?

error: defaults[9]: unknown field `valu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`
  --> macllm.yaml:12:26
   |
12 |   - {domain: d, key: k9, valu: 1}
   |                          ^
hint: did you mean `value`?

error: defaults[10]: unknown field `valu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`
  --> macllm.yaml:13:27
   |
13 |   - {domain: d, key: k10, valu: 1}
   |                           ^
hint: did you mean `value`?

error: defaults[11]: unknown field `valu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`
  --> macllm.yaml:14:27
   |
14 |   - {domain: d, key: k11, valu: 1}
   |                           ^
hint: did you mean `value`?

error: defaults[12]: unknown field `valu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`
  --> macllm.yaml:15:27
   |
15 |   - {domain: d, key: k12, valu: 1}
   |                           ^
hint: did you mean `value`?

error: defaults[13]: unknown field `valu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`
  --> macllm.yaml:16:27
   |
16 |   - {domain: d, key: k13, valu: 1}
   |                           ^
hint: did you mean `value`?

error: defaults[14]: unknown field `valu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`
  --> macllm.yaml:17:27
   |
17 |   - {domain: d, key: k14, valu: 1}
   |                           ^
hint: did you mean `value`?

error: defaults[15]: unknown field `valu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`
  --> macllm.yaml:18:27
   |
18 |   - {domain: d, key: k15, valu: 1}
   |                           ^
hint: did you mean `value`?

error: defaults[16]: unknown field `valu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`
  --> macllm.yaml:19:27
   |
19 |   - {domain: d, key: k16, valu: 1}
   |                           ^
hint: did you mean `value`?

error: defaults[17]: unknown field `valu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`
  --> macllm.yaml:20:27
   |
20 |   - {domain: d, key: k17, valu: 1}
   |                           ^
hint: did you mean `value`?

error: defaults[18]: unknown field `valu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`
  --> macllm.yaml:21:27
   |
21 |   - {domain: d, key: k18, valu: 1}
   |                           ^
hint: did you mean `value`?

error: defaults[19]: unknown field `valu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`
  --> macllm.yaml:22:27
   |
22 |   - {domain: d, key: k19, valu: 1}
   |                           ^
hint: did you mean `value`?

error: 25 errors in all; the first 20 are shown
"#)
        .run();
}

#[test]
fn errors_after_a_when_keep_the_written_positions() {
    Mac::new()
        .spec(
            "macllm: 1
defaults:
  - domain: d
    key: a
    value: 1
    when: host.memory_gb > 1000
  - domain: d
    key: b
    valeu: \"{{ host.memory_gb }}\"
  - domain: d
    key: c
    value: 1
    curent_host: true
",
        )
        .on(&["plan"])
        .status(1)
        .stderr(r#"error: defaults[1]: unknown field `valeu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`
 --> macllm.yaml:9:5
  |
9 |     valeu: "{{ host.memory_gb }}"
  |     ^
hint: did you mean `value`?

error: defaults[2]: unknown field `curent_host`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`
  --> macllm.yaml:13:5
   |
13 |     curent_host: true
   |     ^
hint: did you mean `current_host`?

error: 2 errors
"#)
        .run();
}

#[test]
fn validate_says_which_emulated_mac_a_template_failed_for() {
    let mac = Mac::new();
    // Only on the 8 GB Mac does the template reach the undefined var.
    mac.spec(
        "macllm: 1
vars: {big: 8192}
ollama:
  models:
    - name: fit
      from: 'llama3.2:3b'
      parameters:
        num_ctx: \"{{ vars.big if host.memory_gb > 8 else vars.smal }}\"
",
    );
    mac.on(&["validate"]).status(1).stderr(r#"error: ollama.models[0].parameters.num_ctx: template error: `vars.smal` is undefined
 --> macllm.yaml:8:58
  |
8 |         num_ctx: "{{ vars.big if host.memory_gb > 8 else vars.smal }}"
  |                                                          ^
hint: templates see `host` (the Mac's facts: `macllm facts` lists them) and `vars`
note: rendered for the emulated m1-8gb-monterey (MacBook Air, Apple M1, 8 GB, 4P+4E cores, 7-core GPU, macOS 12.7.6)
"#).run();
    // Only on the 48 GB Mac is the item with the slip declared.
    mac.spec(
        "macllm: 1
defaults:
  - domain: com.apple.dock
    key: tilesize
    valeu: 64
    when: host.memory_gb == 48
",
    );
    mac.on(&["validate"]).status(1).stderr(r#"error: defaults[0]: unknown field `valeu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`
 --> macllm.yaml:5:5
  |
5 |     valeu: 64
  |     ^
hint: did you mean `value`?
note: rendered for the emulated m4pro-48gb-sequoia (Mac mini, Apple M4 Pro, 48 GB, 10P+4E cores, 20-core GPU, macOS 15.1)
"#).run();
}

#[test]
fn with_json_errors_are_one_json_document_with_stable_codes() {
    let mac = Mac::new();
    mac.spec(
        "macllm: 1
defaults:
  - {domain: d, key: a, valeu: 1}
  - {domain: d, key: b, value: 1, type: boolean}
  - {domain: d, key: c, value: 1, depends_on: ['defaults:d:x']}
services:
  - {label: com.apple.Siri.agent}
ollama:
  env: {OLLAMA_KEEPALIVE: 10m}
use:
  - {module: lean-ui, with: {tilesize: 40}}
",
    );
    mac.on(&["validate", "--json"])
        .status(1)
        .stdout(r#"{
  "error_count": 5,
  "errors": [
    {
      "code": "unknown_field",
      "column": 25,
      "field": "defaults[0]",
      "file": "macllm.yaml",
      "hint": "did you mean `value`?",
      "line": 3,
      "message": "unknown field `valeu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`",
      "source_line": "  - {domain: d, key: a, valeu: 1}"
    },
    {
      "code": "unknown_value",
      "column": 41,
      "field": "defaults[1].type",
      "file": "macllm.yaml",
      "hint": null,
      "line": 4,
      "message": "unknown variant `boolean`, expected one of `bool`, `int`, `float`, `string`, `date`, `data`, `array`, `dict`",
      "source_line": "  - {domain: d, key: b, value: 1, type: boolean}"
    },
    {
      "code": "missing_field",
      "column": 5,
      "field": "services[0]",
      "file": "macllm.yaml",
      "hint": null,
      "line": 7,
      "message": "missing field `enabled`",
      "source_line": "  - {label: com.apple.Siri.agent}"
    },
    {
      "code": "unknown_ollama_variable",
      "column": 27,
      "field": "ollama.env.OLLAMA_KEEPALIVE",
      "file": "macllm.yaml",
      "hint": "did you mean `OLLAMA_KEEP_ALIVE`? Or pass --allow-unknown-env to keep it anyway",
      "line": 9,
      "message": "`OLLAMA_KEEPALIVE` is not a variable Ollama reads",
      "source_line": "  env: {OLLAMA_KEEPALIVE: 10m}"
    },
    {
      "code": "unknown_module_parameter",
      "column": 40,
      "field": "use[0].with.tilesize",
      "file": "macllm.yaml",
      "hint": "did you mean `tile_size`? its parameters are dock_autohide, tile_size, transparency",
      "line": 11,
      "message": "module `lean-ui` has no parameter `tilesize`",
      "source_line": "  - {module: lean-ui, with: {tilesize: 40}}"
    }
  ],
  "format_version": "1.0",
  "notes": []
}
"#)
        .run();
    mac.spec("macllm: 1\ndefaults:\n  - {domain: d, key: a, value: \"{{ vars.nope }}\"}\n");
    mac.on(&["validate", "--json"])
        .status(1)
        .stdout(
            r#"{
  "error_count": 1,
  "errors": [
    {
      "code": "template",
      "column": 36,
      "field": "defaults[0].value",
      "file": "macllm.yaml",
      "hint": "templates see `host` (the Mac's facts: `macllm facts` lists them) and `vars`",
      "line": 3,
      "message": "template error: `vars.nope` is undefined",
      "source_line": "  - {domain: d, key: a, value: \"{{ vars.nope }}\"}"
    }
  ],
  "format_version": "1.0",
  "notes": []
}
"#,
        )
        .run();
    mac.on(&["plan", "--json", "--spec", "missing.yaml"])
        .status(1)
        .stdout(
            r#"{
  "error_count": 1,
  "errors": [
    {
      "code": "error",
      "hint": "pass the spec with `--spec FILE` (the default is ./macllm.yaml)",
      "message": "cannot read spec missing.yaml: No such file or directory (os error 2)"
    }
  ],
  "format_version": "1.0",
  "notes": []
}
"#,
        )
        .run();
}

#[test]
fn a_failing_template_leaves_its_resource_out_and_the_others_are_checked() {
    Mac::new()
        .spec(
            "macllm: 1
defaults:
  - domain: d
    key: a
    value: \"{{ vars.one }}\"
  - domain: d
    key: b
    value: 1
    when: host.memroy_gb > 8
  - domain: d
    key: c
    valeu: \"{{ host.memory_gb }}\"
  - domain: d
    key: d
    value: \"{{ host.memory_gb }}\"
    type: bool
",
        )
        .on(&["plan"])
        .status(1)
        .stderr(r#"error: defaults[0].value: template error: `vars.one` is undefined
 --> macllm.yaml:5:16
  |
5 |     value: "{{ vars.one }}"
  |                ^
hint: templates see `host` (the Mac's facts: `macllm facts` lists them) and `vars`

error: defaults[1].when: template error: `host.memroy_gb` is undefined
 --> macllm.yaml:9:11
  |
9 |     when: host.memroy_gb > 8
  |           ^
hint: templates see `host` (the Mac's facts: `macllm facts` lists them) and `vars`

error: defaults[2]: unknown field `valeu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`
  --> macllm.yaml:12:5
   |
12 |     valeu: "{{ host.memory_gb }}"
   |     ^
hint: did you mean `value`?

error: defaults[3].value: expected a boolean (true or false), found an integer
  --> macllm.yaml:15:12
   |
15 |     value: "{{ host.memory_gb }}"
   |            ^

error: 4 errors
"#)
        .run();
}

/// The checks that need the whole spec (ids declared twice, unknown `depends_on` targets,
/// cycles) run in the same pass as the others, on the resources that parsed: one run lists
/// them all, in line order, as text and as `--json`.
#[test]
fn whole_spec_errors_come_with_the_others_in_one_pass() {
    let mac = Mac::new();
    let before = mac.snapshot();
    mac.spec(
        "macllm: 1
defaults:
  - domain: com.apple.dock
    key: autohide
    value: true
    depends_on: [defaults:com.apple.dock:tilesize]
  - domain: com.apple.dock
    key: tilesize
    value: 36
    depends_on: [defaults:com.apple.dock:autohide]
  - domain: com.apple.dock
    key: autohide
    value: false
  - domain: com.apple.finder
    key: ShowPathbar
    value: true
    depends_on: [defaults:com.apple.finder:ShowStatusbar]
services:
  - label: com.apple.photoanalysisd
    enabld: false
    depends_on: [defaults:com.apple.dock:autohide]
",
    );
    for args in [&["validate"][..], &["plan"]] {
        mac.on(args).status(1).stderr(r#"error: defaults[0].depends_on: dependency cycle: `defaults:com.apple.dock:autohide` -> `defaults:com.apple.dock:tilesize` -> `defaults:com.apple.dock:autohide`
 --> macllm.yaml:6:17
  |
6 |     depends_on: [defaults:com.apple.dock:tilesize]
  |                 ^

error: defaults[2]: duplicate resource id `defaults:com.apple.dock:autohide`: also declared at macllm.yaml:3 (defaults[0])
  --> macllm.yaml:11:5
   |
11 |   - domain: com.apple.dock
   |     ^

error: defaults[3].depends_on[0]: unknown resource id `defaults:com.apple.finder:ShowStatusbar` in depends_on
  --> macllm.yaml:17:18
   |
17 |     depends_on: [defaults:com.apple.finder:ShowStatusbar]
   |                  ^
hint: ids look like `defaults:com.apple.dock:autohide`; `macllm graph` lists them

error: services[0]: unknown field `enabld`, expected one of `label`, `enabled`, `domain`, `depends_on`
  --> macllm.yaml:20:5
   |
20 |     enabld: false
   |     ^
hint: did you mean `enabled`?

error: 4 errors
"#).run();
    }
    mac.on(&["validate", "--json"])
        .status(1)
        .stdout_json(serde_json::json!({
          "error_count": 4,
          "errors": [
            {
              "code": "dependency_cycle",
              "column": 17,
              "field": "defaults[0].depends_on",
              "file": "macllm.yaml",
              "hint": null,
              "line": 6,
              "message": "dependency cycle: `defaults:com.apple.dock:autohide` -> `defaults:com.apple.dock:tilesize` -> `defaults:com.apple.dock:autohide`",
              "source_line": "    depends_on: [defaults:com.apple.dock:tilesize]"
            },
            {
              "code": "duplicate_id",
              "column": 5,
              "field": "defaults[2]",
              "file": "macllm.yaml",
              "hint": null,
              "line": 11,
              "message": "duplicate resource id `defaults:com.apple.dock:autohide`: also declared at macllm.yaml:3 (defaults[0])",
              "source_line": "  - domain: com.apple.dock"
            },
            {
              "code": "unknown_dependency",
              "column": 18,
              "field": "defaults[3].depends_on[0]",
              "file": "macllm.yaml",
              "hint": "ids look like `defaults:com.apple.dock:autohide`; `macllm graph` lists them",
              "line": 17,
              "message": "unknown resource id `defaults:com.apple.finder:ShowStatusbar` in depends_on",
              "source_line": "    depends_on: [defaults:com.apple.finder:ShowStatusbar]"
            },
            {
              "code": "unknown_field",
              "column": 5,
              "field": "services[0]",
              "file": "macllm.yaml",
              "hint": "did you mean `enabled`?",
              "line": 20,
              "message": "unknown field `enabld`, expected one of `label`, `enabled`, `domain`, `depends_on`",
              "source_line": "    enabld: false"
            }
          ],
          "format_version": "1.0",
          "notes": []
        }))
        .run();
    assert_eq!(before, mac.snapshot(), "the host changed");
    assert!(!mac.state_path().exists(), "state written");
}

/// A resource that did not parse has no id, so a `depends_on` naming one of its kind is not
/// called unknown (it may be that one): the user fixes the resource, not the dependency. A
/// misspelt section hides every kind; a missing `macllm:` none.
#[test]
fn a_dependency_on_a_resource_that_did_not_parse_is_not_called_unknown() {
    let mac = Mac::new();
    mac.spec(
        "macllm: 1
defaults:
  - domain: com.apple.dock
    key: autohide
    valeu: true
  - domain: com.apple.dock
    key: tilesize
    value: 36
    depends_on: [defaults:com.apple.dock:autohide]
",
    );
    mac.on(&["validate"]).status(1).stderr(r#"error: defaults[0]: unknown field `valeu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`
 --> macllm.yaml:5:5
  |
5 |     valeu: true
  |     ^
hint: did you mean `value`?
"#).run();
    mac.spec(
        "macllm: 1
service:
  - label: com.apple.photoanalysisd
    enabled: false
defaults:
  - domain: com.apple.dock
    key: tilesize
    value: 36
    depends_on: [service:gui/com.apple.photoanalysisd]
",
    );
    mac.on(&["validate"]).status(1).stderr(r#"error: unknown field `service`, expected one of `macllm`, `module`, `description`, `params`, `vars`, `use`, `defaults`, `services`, `agents`, `spotlight`, `power`, `time_machine`, `ollama`
 --> macllm.yaml:2:1
  |
2 | service:
  | ^
hint: did you mean `services`?
"#).run();
    // A missing `macllm:` leaves out no resource: the unknown id is one.
    mac.spec("defaults:\n  - {domain: d, key: x, value: 1, depends_on: [defaults:d:y]}\n");
    mac.on(&["validate"])
        .status(1)
        .stderr(
            r#"error: missing field `macllm` (the spec format version, `macllm: 1`)
 --> macllm.yaml:1:1
  |
1 | defaults:
  | ^

error: defaults[0].depends_on[0]: unknown resource id `defaults:d:y` in depends_on
 --> macllm.yaml:2:48
  |
2 |   - {domain: d, key: x, value: 1, depends_on: [defaults:d:y]}
  |                                                ^
hint: ids look like `defaults:com.apple.dock:autohide`; `macllm graph` lists them

error: 2 errors
"#,
        )
        .run();
}

/// Each `--json` code that the other tests do not show, from the error that gives it.
#[test]
fn every_kind_of_spec_error_has_its_code() {
    let mac = Mac::new();
    mac.spec(
        r#"macllm: 1
use:
  - module: no-such-module
defaults:
  - {domain: d, key: a, value: 1, type: bool}
  - {domain: d, key: b, value: 2, when: "{{ host.memory_gb }}"}
services:
  - {label: "bad label", enabled: false}
  - {label: com.example.x, enabled: maybe}
power:
  all: {slep: 0}
"#,
    );
    let error = |code: &str,
                 line: u32,
                 column: u32,
                 field: &str,
                 message: &str,
                 hint: Option<&str>,
                 source_line: &str| {
        serde_json::json!({
            "code": code, "line": line, "column": column, "field": field, "file": "macllm.yaml",
            "message": message, "hint": hint, "source_line": source_line,
        })
    };
    mac.on(&["validate", "--json"])
        .status(1)
        .stdout_json(serde_json::json!({
            "error_count": 6,
            "errors": [
                error("unknown_module", 3, 13, "use[0].module", "unknown module `no-such-module`",
                    Some("shipped modules: keep-awake, lean-ui, no-app-nap, ollama-server, ollama-tuning, quiet-background, spotlight-models; a local one starts with ./"),
                    "  - module: no-such-module"),
                error("wrong_type", 5, 32, "defaults[0].value", "expected a boolean (true or false), found an integer",
                    None, "  - {domain: d, key: a, value: 1, type: bool}"),
                error("condition", 6, 41, "defaults[1].when", "`when` must give true or false, and this gives a number",
                    Some("compare it, as in `when: params.model != \"\"` or `when: host.memory_gb >= 32`"),
                    "  - {domain: d, key: b, value: 2, when: \"{{ host.memory_gb }}\"}"),
                error("invalid_spec", 8, 13, "services[0].label",
                    "`bad label` is not a launchd label: use letters, digits, `.`, `-` and `_` (like `com.example.ollama`)",
                    None, "  - {label: \"bad label\", enabled: false}"),
                error("wrong_type", 9, 37, "services[1].enabled", "invalid type: string \"maybe\", expected a boolean",
                    None, "  - {label: com.example.x, enabled: maybe}"),
                error("unknown_power_setting", 11, 15, "power.all.slep",
                    "unknown power setting `slep`; macllm manages sleep, displaysleep, disksleep, standby, hibernatemode, powernap, autorestart, womp, ttyskeepawake, tcpkeepalive, proximitywake, networkoversleep, lowpowermode, powermode",
                    Some("did you mean `sleep`?"), "  all: {slep: 0}"),
            ],
            "format_version": "1.0",
            "notes": [],
        }))
        .run();
    mac.spec("macllm: 2\n");
    mac.on(&["validate", "--json"])
        .status(1)
        .stdout_json(serde_json::json!({
            "error_count": 1,
            "errors": [error("spec_version", 1, 9, "macllm",
                "unsupported spec version 2; this macllm reads version 1", None, "macllm: 2")],
            "format_version": "1.0",
            "notes": [],
        }))
        .run();
}
