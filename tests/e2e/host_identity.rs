//! One Mac, one state (issue 11, "State keyed by the literal host string"): the state file is
//! named from a canonical form of the host, records the Mac's hardware UUID and the user, and
//! a state of another Mac or user is refused.

use crate::harness::Mac;

/// The emulated Mac's hardware UUID (random per `sandbox init`).
fn uuid(mac: &Mac) -> String {
    let text = std::fs::read_to_string(mac.dir.join("machine.json")).unwrap();
    let machine: serde_json::Value = serde_json::from_str(&text).unwrap();
    machine["hardware_uuid"].as_str().unwrap().to_string()
}

const SPEC: &str = "macllm: 1\ndefaults:\n  - domain: com.example.app\n    key: k\n    value: 1\n";

fn state_files(mac: &Mac) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(mac.work.join("state"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    names
}

/// Failed before: `sandbox:./mac` had its own state, which recorded the value the first apply
/// had set as its "original", so its destroy put that value back instead of removing the key.
#[test]
fn two_spellings_of_one_sandbox_share_one_state() {
    let mac = Mac::new();
    mac.spec(SPEC);
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    let other = ["--host", "sandbox:./mac"];
    mac.macllm(&[&other[..], &["plan", "--detailed-exitcode"]].concat())
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
    mac.macllm(&[&other[..], &["destroy", "--yes"]].concat())
        .stdout_any()
        .stderr_any()
        .run();
    assert_eq!(state_files(&mac), ["sandbox-mac.json"]);
    mac.read_missing("com.example.app", "k");
    // The state records which Mac and which user it is of.
    let state = mac.state();
    assert_eq!(state["hardware_uuid"], uuid(&mac).as_str());
    assert_eq!(state["user"], mac.user().as_str());
}

#[test]
fn a_state_copied_to_another_mac_is_refused() {
    let mac = Mac::new();
    mac.spec(SPEC);
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    let before = std::fs::read(mac.state_path()).unwrap();
    let made_on = uuid(&mac);
    mac.set_machine(
        "hardware_uuid",
        "0F3D2B1A-0000-4000-8000-000000000001".into(),
    );
    let refusal = format!("error: state file state/sandbox-mac.json is the state of the Mac {made_on} with user admin, but sandbox:mac is the Mac 0F3D2B1A-0000-4000-8000-000000000001 with user admin; macllm will not use or overwrite it
hint: run against the Mac and user it was made for, or give this one its own `--state-dir`
");
    for args in [
        &["plan"][..],
        &["apply", "--yes"],
        &["destroy", "--yes"],
        &["drift"],
    ] {
        mac.on(args).status(1).stderr(&refusal).run();
    }
    assert_eq!(std::fs::read(mac.state_path()).unwrap(), before);
}

#[test]
fn a_second_name_for_a_mac_with_a_state_is_refused() {
    let mac = Mac::new();
    mac.spec(SPEC);
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    // A symbolic link is another name for the same emulated Mac.
    std::os::unix::fs::symlink("mac", mac.work.join("alias")).unwrap();
    mac.macllm(&["--host", "sandbox:alias", "apply", "--yes"])
        .status(1)
        .stderr(&format!("error: sandbox:alias is the Mac {} with user admin, which already has the state state/sandbox-mac.json under another name; macllm will not start a second state for it
hint: use the host name that state was made with, or move that file away
", uuid(&mac)))
        .run();
    assert_eq!(state_files(&mac), ["sandbox-mac.json"]);
}

/// A state written before the Mac and user were recorded keeps working, and gets them on its
/// next save.
#[test]
fn an_older_state_gets_the_mac_and_user_on_its_next_save() {
    let mac = Mac::new();
    mac.spec(SPEC);
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    let mut state = mac.state();
    let map = state.as_object_mut().unwrap();
    map.remove("hardware_uuid");
    map.remove("user");
    std::fs::write(
        mac.state_path(),
        serde_json::to_string_pretty(&state).unwrap(),
    )
    .unwrap();
    mac.spec(&SPEC.replace("value: 1", "value: 2"));
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    let state = mac.state();
    assert_eq!(state["hardware_uuid"], uuid(&mac).as_str());
    assert_eq!(state["user"], "admin");
}

/// Two emulated Macs made from one preset are two Macs (each `sandbox init` draws its own
/// hardware UUID), so each gets its own state.
#[test]
fn two_macs_from_one_preset_have_two_states() {
    let mac = Mac::new();
    mac.init("other", "m2-16gb-sonoma");
    mac.spec(SPEC);
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    mac.macllm(&["--host", "sandbox:other", "apply", "--yes"])
        .stdout_any()
        .stderr_any()
        .run();
    assert_eq!(
        state_files(&mac),
        ["sandbox-mac.json", "sandbox-other.json"]
    );
}

/// Over SSH the login user is made explicit: `ssh:127.0.0.1:PORT` logs in as root (the
/// client configuration's `User`), so `ssh:root@127.0.0.1:PORT` is the same host and state.
#[test]
#[ignore = "needs root and /usr/sbin/sshd; run with --include-ignored"]
fn ssh_with_and_without_the_default_user_share_one_state() {
    use crate::harness::BIN;
    use crate::sshd::{Keys, shim};
    use macllm::host::ssh::ENV_SSH_CONFIG;
    crate::fleet::require_sshd();
    let mac = Mac::new();
    let bin = shim(&mac.work, BIN);
    let keys = Keys::new(&mac.work);
    let server = keys.sshd(&mac.dir, &bin);
    mac.spec(SPEC);
    let config = keys.dir.join("client_config");
    let on = |host: String, args: &[&str]| {
        let mut all = vec!["--host", host.as_str()];
        all.extend_from_slice(args);
        mac.macllm(&all).env(ENV_SSH_CONFIG, &config)
    };
    let port = server.port;
    on(format!("ssh:127.0.0.1:{port}"), &["apply", "--yes"])
        .stdout_any()
        .stderr_any()
        .run();
    on(
        format!("ssh:root@127.0.0.1:{port}"),
        &["plan", "--detailed-exitcode"],
    )
    .stdout("\nNo changes. The host matches the spec.\n")
    .run();
    on(format!("ssh:root@127.0.0.1:{port}"), &["destroy", "--yes"])
        .stdout_any()
        .stderr_any()
        .run();
    assert_eq!(state_files(&mac), [format!("ssh-127.0.0.1-{port}.json")]);
    mac.read_missing("com.example.app", "k");
}
