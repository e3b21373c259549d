//! The real-Mac suite: `macllm --host local` against a Mac, through the same programs a
//! user's Terminal runs (`defaults`, `launchctl`, `plutil`, `mv`, `ln`, ...).
//!
//! With `MACLLM_REAL_MAC=1` (the macOS workflow, `.github/workflows/macos.yml`) the tests
//! drive the machine they run on. Without it they drive an emulated Mac behind the
//! multi-call shim: the `macllm` binary symlinked under every name in
//! `emulated_mac::PROGRAMS` in a folder put first on `PATH`, with `MACLLM_SANDBOX` set. The
//! test code is the same in both modes; only the environment of the processes differs (see
//! [`mac::Mac`]).
//!
//! What the tests touch on a real Mac, all under names no one else uses, and put back by a
//! guard that runs even when a test fails (`mac::Guard`): the preference domains
//! `com.macllm.ci-test.*` (plain and `-currentHost`), the LaunchAgents
//! `com.macllm.ci-test.agent` and `.guard-agent` (`/usr/bin/true`) with their plists in
//! `~/Library/LaunchAgents`, and the folders `/tmp/macllm-ci-test.spotlight` and `.guard`. A
//! test refuses to start when one of them is already there (left by a run that was killed),
//! rather than take it over. The agents' labels get no launchd override: macllm runs
//! `launchctl enable` (whose override launchctl has no command to remove) only for a label
//! that was disabled.
//!
//! Outputs that differ between Macs (facts, the user name, timestamps, whether a GUI login
//! exists) are checked against what the same Mac's own tools say, or by structure; the rest
//! (plans, drift reports, read-backs, the restored plists) is compared exactly.

mod agents;
mod defaults;
mod facts;
mod guard;
mod mac;
mod spotlight;
