//! What a real Mac does with power modes and Spotlight volumes that the emulated Mac did not
//! (issue 10, section 3), through the real binary: every run's whole stdout and stderr.

use crate::harness::{Mac, Test};

fn become_root(mac: &Mac) {
    let machine = mac.dir.join("machine.json");
    let text = std::fs::read_to_string(&machine)
        .unwrap()
        .replace("\"uid\": 501", "\"uid\": 0");
    std::fs::write(&machine, text).unwrap();
}

#[track_caller]
fn outputs(test: Test, status: i32) -> (String, String) {
    let out = test.status(status).stdout_any().stderr_any().run();
    (out.stdout, out.stderr)
}

const ROOT_WARNING: &str = "Warning: some changes need root: apply will stop before changing anything unless run with sudo\n";

/// An M4 Pro Mac mini has High Power Mode: `pmset -g custom` shows `powermode` (0 automatic,
/// 1 low power, 2 high power) where other Macs show `lowpowermode` (apple-oss-distributions/
/// PowerManagement `pmset/pmset.m` 1143-1153 at PowerManagement-1846.0.25.0.1). macllm plans,
/// applies and restores it.
#[test]
fn powermode_is_managed_where_the_mac_reports_it() {
    let mac = Mac::with_preset("m4pro-48gb-sequoia");
    mac.spec("macllm: 1\npower:\n  all:\n    powermode: 2\n");
    assert_eq!(
        outputs(mac.on(&["plan"]), 0),
        (
            format!(
                "\nmacllm will perform the following actions on sandbox:mac:\n\n  \
                 # power:powermode will be updated in-place\n  \
                 ~ value = 0 -> 2\n    \
                 # needs root (sudo)\n\n\
                 Plan: 0 to add, 1 to change, 0 to destroy.\n{ROOT_WARNING}"
            ),
            String::new()
        )
    );
    become_root(&mac);
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    let custom = mac
        .sh(&["pmset", "-g", "custom"])
        .stdout_any()
        .stderr_any()
        .run()
        .stdout;
    assert!(custom.contains(" powermode            2\n"), "{custom}");
    assert_eq!(
        outputs(mac.on(&["plan"]), 0),
        (
            "\nNo changes. The host matches the spec.\n".to_string(),
            String::new()
        )
    );
    mac.on(&["destroy", "--yes"])
        .stdout_any()
        .stderr_any()
        .run();
    let custom = mac
        .sh(&["pmset", "-g", "custom"])
        .stdout_any()
        .stderr_any()
        .run()
        .stdout;
    assert!(custom.contains(" powermode            0\n"), "{custom}");
}

/// The same setting under the other name is an error naming the one this Mac uses, before
/// anything changes; both ways round.
#[test]
fn the_other_power_mode_name_is_an_error_naming_the_right_one() {
    let mac = Mac::with_preset("m4pro-48gb-sequoia");
    mac.spec("macllm: 1\npower:\n  all:\n    lowpowermode: true\n");
    assert_eq!(
        outputs(mac.on(&["plan"]), 1),
        (
            String::new(),
            "error: reading power:lowpowermode: this Mac has High Power Mode: its pmset reports \
             `powermode` (0 automatic, 1 low power, 2 high power) instead of `lowpowermode` \
             (`pmset -g custom`)\n\
             hint: write `powermode: 1` for low power or `powermode: 0` for automatic\n"
                .to_string()
        )
    );
    let mac = Mac::with_preset("m2-16gb-sonoma");
    mac.spec("macllm: 1\npower:\n  charger:\n    powermode: 2\n");
    assert_eq!(
        outputs(mac.on(&["plan"]), 1),
        (
            String::new(),
            "error: reading power:charger:powermode: this Mac has no High Power Mode: its pmset \
             reports `lowpowermode` (on or off) instead of `powermode` (`pmset -g custom`)\n\
             hint: write `lowpowermode: true` for low power or `lowpowermode: false` for \
             automatic\n"
                .to_string()
        )
    );
}

/// `powermode` takes 0, 1 or 2 only (pmset.m 4444-4448, `Unsupported mode %ld`): anything
/// else is a spec error at its line, found before the Mac is asked.
#[test]
fn powermode_values_are_checked_at_their_line() {
    let mac = Mac::with_preset("m4pro-48gb-sequoia");
    for (value, what) in [
        ("3", "3"),
        ("-1", "-1"),
        ("true", "a boolean"),
        ("high", "a string"),
    ] {
        mac.spec(&format!(
            "macllm: 1\npower:\n  all:\n    sleep: 0\n    powermode: {value}\n"
        ));
        assert_eq!(
            outputs(mac.macllm(&["validate"]), 1),
            (
                String::new(),
                format!(
                    "error: power.all.powermode: `powermode` is 0 (automatic), 1 (low power) or 2 \
                     (high power), not {what}\n --> macllm.yaml:5:16\n  |\n5 |     powermode: \
                     {value}\n  |                ^\n"
                )
            ),
            "{value}"
        );
    }
}

const SPOTLIGHT_STATE: &str = "var/db/spotlight.json";

fn spotlight_state(mac: &Mac, json: &str) {
    std::fs::create_dir_all(mac.dir.join("var/db")).unwrap();
    std::fs::write(mac.dir.join(SPOTLIGHT_STATE), json).unwrap();
}

fn volume_spec(volume: &str, indexed: bool) -> String {
    format!("macllm: 1\nspotlight:\n  - volume: {volume}\n    indexed: {indexed}\n")
}

const NO_CHANGES: &str = "\nNo changes. The host matches the spec.\n";

/// Since APFS volume groups `/` is the sealed system volume and user data (`~/.ollama`) is on
/// `/System/Volumes/Data`, with its own `mdutil` state: a spec naming `/` gets a warning
/// saying so; the data volume is switched on its own.
#[test]
fn the_root_volume_is_warned_about_and_the_data_volume_is_switched_on_its_own() {
    let mac = Mac::with_preset("m4pro-48gb-sequoia");
    mac.spec(&volume_spec("/", false));
    assert_eq!(
        outputs(mac.on(&["plan"]), 0),
        (
            format!(
                "\nmacllm will perform the following actions on sandbox:mac:\n\n  \
                 # spotlight-volume:/ will be updated in-place\n  \
                 ~ value = true -> false\n    \
                 # method: mdutil -i (whole volume)\n    \
                 # needs root (sudo)\n\n\
                 Plan: 0 to add, 1 to change, 0 to destroy.\n\
                 Warning: spotlight-volume:/: `/` is the sealed system volume; user data \
                 (~/.ollama, /Users) is on /System/Volumes/Data, which has its own Spotlight \
                 state: use `volume: /System/Volumes/Data`\n{ROOT_WARNING}"
            ),
            String::new()
        )
    );
    mac.spec(&volume_spec("/System/Volumes/Data", false));
    assert_eq!(
        outputs(mac.on(&["plan"]), 0),
        (
            format!(
                "\nmacllm will perform the following actions on sandbox:mac:\n\n  \
                 # spotlight-volume:/System/Volumes/Data will be updated in-place\n  \
                 ~ value = true -> false\n    \
                 # method: mdutil -i (whole volume)\n    \
                 # needs root (sudo)\n\n\
                 Plan: 0 to add, 1 to change, 0 to destroy.\n{ROOT_WARNING}"
            ),
            String::new()
        )
    );
    become_root(&mac);
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    assert_eq!(
        mac.sh(&["mdutil", "-a", "-s"])
            .stdout_any()
            .stderr_any()
            .run()
            .stdout,
        "/:\n\tIndexing enabled.\n/System/Volumes/Data:\n\tIndexing disabled.\n"
    );
    assert_eq!(
        outputs(mac.on(&["plan"]), 0),
        (NO_CHANGES.to_string(), String::new())
    );
}

/// Every `mdutil -s` state a real Mac prints (reference/macos-commands.md 3.1,
/// issue10-research.md section 6), produced by the emulated Mac from its state file: read
/// as indexed or not, or refused with what mdutil said and why; never misread.
#[test]
fn every_mdutil_state_is_read_or_refused_with_why() {
    let data = "/System/Volumes/Data";
    let cases: Vec<(&str, &str, &str, Result<(), String>)> = vec![
        (
            r#"{"volumes": {"/System/Volumes/Data": "disabled"}}"#,
            data,
            "",
            Ok(()),
        ),
        (
            r#"{"volumes": {"/System/Volumes/Data": "off"}}"#,
            data,
            "",
            Ok(()),
        ),
        (
            r#"{"volumes": {"/Volumes/Backup": "no_index"}}"#,
            "/Volumes/Backup",
            "Volumes/Backup",
            Ok(()),
        ),
        (
            r#"{"volumes": {}}"#,
            "/Volumes/X",
            "Volumes/X/.metadata_never_index",
            Ok(()),
        ),
        (
            r#"{"volumes": {"/Volumes/kymedia": "server_search"}}"#,
            "/Volumes/kymedia",
            "Volumes/kymedia",
            Err(
                "error: reading spotlight-volume:/Volumes/kymedia: /Volumes/kymedia is a network \
                 volume that its server searches (`mdutil -s` says `Server search enabled.`): \
                 this Mac keeps no index of it to switch\nhint: remove it from `spotlight:`\n"
                    .to_string(),
            ),
        ),
        (
            r#"{"volumes": {"/System/Volumes/Data": "unknown"}}"#,
            data,
            "",
            Err(
                "error: reading spotlight-volume:/System/Volumes/Data: `mdutil -s \
                 /System/Volumes/Data` says `Error: unknown indexing state.`: mdutil answers for \
                 volumes only, so /System/Volumes/Data is not a mount point, or its Spotlight \
                 store is damaged\nhint: for a folder use `path:` (the .noindex method); a \
                 damaged store comes back after `sudo mdutil -i on /System/Volumes/Data`\n"
                    .to_string(),
            ),
        ),
        (
            r#"{"volumes": {}}"#,
            "/Users/admin",
            "",
            Err(
                "error: reading spotlight-volume:/Users/admin: `mdutil -s /Users/admin` says \
                 `Error: unknown indexing state.`: mdutil answers for volumes only, so \
                 /Users/admin is not a mount point, or its Spotlight store is damaged\nhint: for \
                 a folder use `path:` (the .noindex method); a damaged store comes back after \
                 `sudo mdutil -i on /Users/admin`\n"
                    .to_string(),
            ),
        ),
        (
            r#"{"volumes": {}, "server_disabled": true}"#,
            data,
            "",
            Err(
                "error: reading spotlight-volume:/System/Volumes/Data: Spotlight's server is \
                 disabled on this Mac (`mdutil -s /System/Volumes/Data` says `Spotlight server is \
                 disabled.`): mdutil can neither read nor change any volume's indexing\nhint: \
                 nothing can be switched while mds is off; remove the volume from `spotlight:` \
                 for this Mac\n"
                    .to_string(),
            ),
        ),
        (
            r#"{"volumes": {}}"#,
            "/Volumes/nowhere",
            "",
            Err(
                "error: reading spotlight-volume:/Volumes/nowhere: /Volumes/nowhere does not \
                 exist on this Mac (`mdutil -s` says: Error: invalid path `/Volumes/nowhere'.)\n"
                    .to_string(),
            ),
        ),
    ];
    for (state, volume, make, expected) in cases {
        let mac = Mac::with_preset("m4pro-48gb-sequoia");
        if let Some(file) = make.strip_suffix("/.metadata_never_index") {
            std::fs::create_dir_all(mac.dir.join(file)).unwrap();
            std::fs::write(mac.dir.join(make), "").unwrap();
        } else if !make.is_empty() {
            std::fs::create_dir_all(mac.dir.join(make)).unwrap();
        }
        spotlight_state(&mac, state);
        mac.spec(&volume_spec(volume, false));
        let got = match &expected {
            Ok(()) => outputs(mac.on(&["plan"]), 0),
            Err(_) => outputs(mac.on(&["plan"]), 1),
        };
        let want = match expected {
            Ok(()) => (NO_CHANGES.to_string(), String::new()),
            Err(stderr) => (String::new(), stderr),
        };
        assert_eq!(got, want, "{state} {volume}");
    }
}

/// `.metadata_never_index` at a volume's root keeps it off whatever `mdutil -i on` does: the
/// plan shows the change, and apply refuses it naming the file, before running mdutil.
#[test]
fn a_never_index_marker_is_named_when_indexing_is_asked_for() {
    let mac = Mac::with_preset("m4pro-48gb-sequoia");
    std::fs::create_dir_all(mac.dir.join("Volumes/X")).unwrap();
    std::fs::write(mac.dir.join("Volumes/X/.metadata_never_index"), "").unwrap();
    mac.spec(&volume_spec("/Volumes/X", true));
    become_root(&mac);
    assert_eq!(
        outputs(mac.on(&["plan"]), 0),
        (
            "\nmacllm will perform the following actions on sandbox:mac:\n\n  \
             # spotlight-volume:/Volumes/X will be updated in-place\n  \
             ~ value = false -> true\n    \
             # method: mdutil -i (whole volume)\n    \
             # needs root (sudo)\n\n\
             Plan: 0 to add, 1 to change, 0 to destroy.\n"
                .to_string(),
            String::new()
        )
    );
    let before = mac.snapshot();
    let (stdout, stderr) = outputs(mac.on(&["apply", "--yes"]), 1);
    assert_eq!(
        stdout,
        "\nmacllm will perform the following actions on sandbox:mac:\n\n  \
         # spotlight-volume:/Volumes/X will be updated in-place\n  \
         ~ value = false -> true\n    \
         # method: mdutil -i (whole volume)\n    \
         # needs root (sudo)\n\n\
         Plan: 0 to add, 1 to change, 0 to destroy.\n"
    );
    assert_eq!(
        stderr,
        "spotlight-volume:/Volumes/X: Modifying...\n\
         error: applying spotlight-volume:/Volumes/X: `mdutil -i on` cannot index /Volumes/X: a \
         .metadata_never_index file at its root keeps Spotlight off\n\
         hint: remove /Volumes/X/.metadata_never_index\n"
    );
    assert_eq!(
        before,
        mac.snapshot(),
        "mdutil was not asked to change anything"
    );
}

/// No shipped example or module names `/` for Spotlight: each plans on an M4 Pro without the
/// system-volume warning.
#[test]
fn no_example_or_module_points_spotlight_at_the_system_volume() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mac = Mac::with_preset("m4pro-48gb-sequoia");
    for folder in ["examples", "modules"] {
        let mut names: Vec<_> = std::fs::read_dir(root.join(folder))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
            .collect();
        names.sort();
        for path in names {
            let text = std::fs::read_to_string(&path).unwrap();
            let spec = if folder == "modules" {
                let name = path.file_stem().unwrap().to_string_lossy().into_owned();
                format!("macllm: 1\nuse:\n  - module: {name}\n")
            } else {
                text
            };
            mac.spec(&spec);
            let plan = mac.on(&["plan"]).stdout_any().stderr_any().run();
            assert!(
                !plan.stdout.contains("sealed system volume"),
                "{}: {}",
                path.display(),
                plan.stdout
            );
        }
    }
}
