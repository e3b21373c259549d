//! Shipped and local modules through `use:`.

use crate::harness::Mac;
use macllm::sandbox::presets::PRESETS;
use macllm::spec::modules::SHIPPED;

#[test]
fn every_shipped_module_plans_on_every_preset() {
    for preset in PRESETS {
        let mac = Mac::with_preset(preset.name);
        for (name, _) in SHIPPED {
            let with = if *name == "ollama-tuning" {
                "\n    with: { model: llama3.2:3b }"
            } else {
                ""
            };
            mac.spec(&format!("macllm: 1\nuse:\n  - module: {name}{with}\n"));
            let plan = mac.on(&["plan"]).output();
            assert_eq!(plan.status, 0, "{name} on {}: {}", preset.name, plan.stderr);
            assert!(
                plan.stdout.contains("will be"),
                "{name} on {}: {}",
                preset.name,
                plan.stdout
            );
        }
        assert!(!mac.state_path().exists());
    }
}

#[test]
fn tiers_follow_the_macs_memory() {
    let spec = "macllm: 1\nuse:\n  - module: ollama-tuning\n    with: { model: llama3.2:3b }\n";
    let small = Mac::with_preset("m1-8gb-monterey");
    small.spec(spec);
    let plan = small.on(&["plan"]).expect(0);
    assert!(
        plan.stdout.contains("+ PARAMETER num_ctx 2048\n"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("+ PARAMETER num_thread 4\n"),
        "{}",
        plan.stdout
    );
    let large = Mac::with_preset("m4max-64gb-sequoia");
    large.spec(spec);
    let apply = large.on(&["apply", "--yes"]).expect(0);
    assert!(
        apply.stderr.contains("it reports the new variables"),
        "{}",
        apply.stderr
    );
    large.on(&["plan", "--detailed-exitcode"]).expect(0);
    assert_eq!(
        large
            .sh(&["launchctl", "getenv", "OLLAMA_NUM_PARALLEL"])
            .expect(0)
            .stdout,
        "2\n"
    );
}

#[test]
fn with_is_checked_against_the_modules_parameters() {
    let mac = Mac::new();
    mac.spec("macllm: 1\nuse:\n  - module: lean-ui\n    with: { tile_sise: 40 }\n");
    let run = mac.on(&["plan"]).expect(1);
    assert!(
        run.stderr
            .contains("module `lean-ui` has no parameter `tile_sise`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--> macllm.yaml:4:"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("its parameters are dock_autohide, tile_size, transparency"),
        "{}",
        run.stderr
    );
    mac.spec("macllm: 1\nuse:\n  - module: lean-ui\n    with: { tile_size: big }\n");
    let run = mac.on(&["plan"]).expect(1);
    assert!(
        run.stderr
            .contains("`tile_size` must be a int, not a string"),
        "{}",
        run.stderr
    );
    mac.spec("macllm: 1\nuse:\n  - module: lean-uix\n");
    let run = mac.on(&["plan"]).expect(1);
    assert!(
        run.stderr.contains("unknown module `lean-uix`"),
        "{}",
        run.stderr
    );
    let list = mac.macllm(&["modules", "list"]).expect(0);
    assert_eq!(list.stdout.lines().count(), SHIPPED.len());
    let show = mac.macllm(&["modules", "show", "keep-awake"]).expect(0);
    assert!(show.stdout.contains("/usr/bin/caffeinate"));
}

#[test]
fn duplicates_across_a_module_and_the_spec_name_both_files() {
    let mac = Mac::new();
    std::fs::write(
        mac.work.join("dock.yaml"),
        "module: dock\ndescription: a local module\ndefaults:\n  - domain: com.apple.dock\n    key: tilesize\n    value: 30\n",
    )
    .unwrap();
    mac.spec("macllm: 1\nuse:\n  - module: ./dock.yaml\n");
    mac.on(&["apply", "--yes"]).expect(0);
    assert_eq!(
        mac.read("com.apple.dock", "tilesize").expect(0).stdout,
        "30\n"
    );
    mac.spec("macllm: 1\nuse:\n  - module: ./dock.yaml\ndefaults:\n  - {domain: com.apple.dock, key: tilesize, value: 40}\n");
    let run = mac.on(&["plan"]).expect(1);
    assert!(run.stderr.contains("duplicate resource id `defaults:com.apple.dock:tilesize`: also declared at ./dock.yaml:4"), "{}", run.stderr);
    assert!(run.stderr.contains("--> macllm.yaml:5:"), "{}", run.stderr);
}

#[test]
fn the_hardware_examples_apply_cleanly_to_their_presets() {
    for (example, preset) in [
        ("macbook-air-8gb.yaml", "m1-8gb-monterey"),
        ("mac-mini-16gb.yaml", "m2-16gb-sonoma"),
        ("m4-max-64gb.yaml", "m4max-64gb-sequoia"),
    ] {
        let mac = Mac::with_preset(preset);
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("examples")
                .join(example),
        )
        .unwrap();
        mac.spec(&text);
        let plan = mac.on(&["--strict", "plan"]).output();
        assert_eq!(plan.status, 0, "{example}: {}", plan.stderr);
        let apply = mac.on(&["--strict", "apply", "--yes"]).output();
        assert_eq!(apply.status, 0, "{example}: {}", apply.stderr);
        let again = mac.on(&["plan", "--detailed-exitcode"]).output();
        assert_eq!(again.status, 0, "{example} converged: {}", again.stdout);
        mac.on(&["destroy", "--yes"]).expect(0);
    }
}
