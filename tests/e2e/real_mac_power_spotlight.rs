//! What a real Mac does with power modes and Spotlight volumes that the emulated Mac did not
//! (issue 10, section 3), through the real binary: every run's whole stdout and stderr.

use crate::harness::{Mac, Run};

fn become_root(mac: &Mac) {
    let machine = mac.dir.join("machine.json");
    let text = std::fs::read_to_string(&machine)
        .unwrap()
        .replace("\"uid\": 501", "\"uid\": 0");
    std::fs::write(&machine, text).unwrap();
}

#[track_caller]
fn outputs(run: Run, status: i32) -> (String, String) {
    let run = run.expect(status);
    (run.stdout, run.stderr)
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
    mac.on(&["apply", "--yes"]).expect(0);
    let custom = mac.sh(&["pmset", "-g", "custom"]).expect(0).stdout;
    assert!(custom.contains(" powermode            2\n"), "{custom}");
    assert_eq!(
        outputs(mac.on(&["plan"]), 0),
        (
            "\nNo changes. The host matches the spec.\n".to_string(),
            String::new()
        )
    );
    mac.on(&["destroy", "--yes"]).expect(0);
    let custom = mac.sh(&["pmset", "-g", "custom"]).expect(0).stdout;
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
