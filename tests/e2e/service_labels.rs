//! A `services:` label that no launchd job on the Mac has (issue 13): `launchctl disable`
//! takes any label without a word (reference macos-commands.md 2.3), so a typo was planned
//! and "applied" silently. The plan now warns at the spec's line, with a did-you-mean.

use crate::harness::Mac;

/// A misspelt Apple agent, a label nothing resembles, a known agent, and a third-party agent
/// whose plist is in /Library/LaunchAgents but that is not loaded.
const SPEC: &str = "macllm: 1
services:
  - label: com.apple.photoanalysisdd
    enabled: false
  - label: org.example.nothing
    enabled: false
  - label: com.apple.gamed
    enabled: false
  - label: com.example.helper
    enabled: false
";

const HELPER: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n\t<key>Label</key>\n\t<string>com.example.helper</string>\n\t<key>ProgramArguments</key>\n\t<array>\n\t\t<string>/usr/local/bin/helper</string>\n\t</array>\n</dict>\n</plist>\n";

/// SPEC's plan on a Mac with none of it done.
const PLAN: &str = r#"
macllm will perform the following actions on sandbox:mac:

  # service:gui/com.apple.gamed will be updated in-place
  ~ value = "enabled (no override)" -> "disabled"

  # service:gui/com.apple.photoanalysisdd will be updated in-place
  ~ value = "enabled (no override); not loaded" -> "disabled"

  # service:gui/com.example.helper will be updated in-place
  ~ value = "enabled (no override); not loaded" -> "disabled"

  # service:gui/org.example.nothing will be updated in-place
  ~ value = "enabled (no override); not loaded" -> "disabled"

Plan: 0 to add, 4 to change, 0 to destroy.
"#;

/// Two of SPEC's labels are unknown; a SIP-protected agent keeps running till the next login.
const TYPOS: &str = r#"Warning: macllm.yaml:3: service:gui/com.apple.photoanalysisdd: no launchd job is labelled `com.apple.photoanalysisdd` on this Mac (no such plist in /System/Library/LaunchAgents, /Library/LaunchAgents, ~/Library/LaunchAgents, none loaded in gui/501): launchctl takes the override, but it changes nothing
hint: did you mean `com.apple.photoanalysisd`?
Warning: macllm.yaml:5: service:gui/org.example.nothing: no launchd job is labelled `org.example.nothing` on this Mac (no such plist in /System/Library/LaunchAgents, /Library/LaunchAgents, ~/Library/LaunchAgents, none loaded in gui/501): launchctl takes the override, but it changes nothing
"#;

/// A notice: shown while com.apple.gamed changes, not on the plans after.
const SIP_NOTICE: &str = "Warning: service:gui/com.apple.gamed: com.apple.gamed is protected by SIP and keeps running until the next login; the override stops it from loading after that
";

#[test]
fn unknown_labels_are_warned_about_at_their_line() {
    let mac = Mac::new();
    let plist = mac
        .dir
        .join("Library/LaunchAgents/com.example.helper.plist");
    std::fs::create_dir_all(plist.parent().unwrap()).unwrap();
    std::fs::write(&plist, HELPER).unwrap();
    mac.spec(SPEC);
    mac.on(&["plan"])
        .stdout(&format!("{PLAN}{TYPOS}{SIP_NOTICE}"))
        .run();
    mac.on(&["apply", "--yes"])
        .stdout(&format!(
            "{PLAN}{TYPOS}{SIP_NOTICE}\nApply complete! Resources: 0 added, 4 changed, 0 destroyed.\n"
        )).stderr(r#"service:gui/com.apple.gamed: Modifying...
warning: service:gui/com.apple.gamed: SIP refused to stop com.apple.gamed now; it is disabled from the next login on
warning: service:gui/com.apple.gamed: com.apple.gamed is protected by SIP and keeps running until the next login; the override stops it from loading after that
service:gui/com.apple.gamed: Modifications complete after [DURATION]
service:gui/com.apple.photoanalysisdd: Modifying...
service:gui/com.apple.photoanalysisdd: Modifications complete after [DURATION]
service:gui/com.example.helper: Modifying...
service:gui/com.example.helper: Modifications complete after [DURATION]
service:gui/org.example.nothing: Modifying...
service:gui/org.example.nothing: Modifications complete after [DURATION]
"#).run();
    // Still a typo after apply: the override launchctl took changed nothing.
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout(&format!(
            "\nNo changes. The host matches the spec.\n{TYPOS}"
        ))
        .run();
}

/// The check reads nothing the plan does not send in its one batch: over SSH a plan of
/// services is as many round trips with the check as without it.
#[test]
#[ignore = "needs root and /usr/sbin/sshd; run with --include-ignored"]
fn the_check_adds_no_round_trip_over_ssh() {
    use crate::harness::BIN;
    use crate::sshd::{Keys, RoundTrips, shim};
    crate::fleet::require_sshd();
    let mac = Mac::new();
    let bin = shim(&mac.work, BIN);
    let keys = Keys::new(&mac.work);
    let server = keys.sshd(&mac.dir, &bin);
    let round_trips = RoundTrips::new(&mac.work);
    let host = format!("ssh:127.0.0.1:{}", server.port);
    let path = format!(
        "{}:{}",
        round_trips.bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    std::fs::create_dir_all(mac.work.join("tmp")).unwrap();
    let plan = |spec: &str, expected: &str| {
        mac.spec(spec);
        mac.macllm(&["--host", host.as_str(), "plan"])
            .env(
                macllm::host::ssh::ENV_SSH_CONFIG,
                keys.dir.join("client_config"),
            )
            .env("PATH", &path)
            .env("TMPDIR", mac.work.join("tmp"))
            .redact(format!("127.0.0.1:{}", server.port), "[MAC]")
            .stdout(expected)
            .run();
        round_trips.take()
    };
    let known = plan(
        "macllm: 1\nservices:\n  - {label: com.apple.photoanalysisd, enabled: false}\n",
        r#"
macllm will perform the following actions on ssh:[MAC]:

  # service:gui/com.apple.photoanalysisd will be updated in-place
  ~ value = "enabled (no override)" -> "disabled"

Plan: 0 to add, 1 to change, 0 to destroy.
Warning: service:gui/com.apple.photoanalysisd: com.apple.photoanalysisd is protected by SIP and keeps running until the next login; the override stops it from loading after that
"#,
    );
    let unknown = plan(
        "macllm: 1\nservices:\n  - {label: com.apple.photoanalysisdd, enabled: false}\n",
        r#"
macllm will perform the following actions on ssh:[MAC]:

  # service:gui/com.apple.photoanalysisdd will be updated in-place
  ~ value = "enabled (no override); not loaded" -> "disabled"

Plan: 0 to add, 1 to change, 0 to destroy.
Warning: macllm.yaml:3: service:gui/com.apple.photoanalysisdd: no launchd job is labelled `com.apple.photoanalysisdd` on this Mac (no such plist in /System/Library/LaunchAgents, /Library/LaunchAgents, ~/Library/LaunchAgents, none loaded in gui/501): launchctl takes the override, but it changes nothing
hint: did you mean `com.apple.photoanalysisd`?
"#,
    );
    // The host's facts, then one batch (before services had batched reads, every
    // launchctl, test and plutil of a service was a round trip of its own: 6 and 7 here).
    assert_eq!((known, unknown), (2, 2));
}
