//! The arrows between layers that must never exist, read from the source. Rust forbids
//! cycles between crates, not between modules, so inside `src/` these tests are what keeps
//! the layers apart. Only non-test code counts: a file is read up to its first
//! `#[cfg(test)]` (clippy's `items_after_test_module` keeps test modules last).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Every `.rs` file under `dir`, as paths relative to `src/`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn product_files() -> Vec<(String, String)> {
    let src = Path::new(ROOT).join("src");
    sources(&src)
        .into_iter()
        .map(|path| {
            let name = path
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            let code = match text.find("#[cfg(test)]") {
                Some(at) => text[..at].to_string(),
                None => text,
            };
            (name, code)
        })
        .collect()
}

/// The top-level modules of the crate that `code` names: `crate::x`, and each name in
/// `crate::{x, y::z}`.
fn crate_modules(code: &str) -> BTreeSet<String> {
    let mut modules = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if c.is_whitespace() => {}
                    _ if start => {
                        modules.insert(ident(&group[i..]));
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            modules.insert(ident(rest));
        }
    }
    modules.remove("");
    modules
}

/// Every (file, module) pair where a file under `prefix` names one of `forbidden`.
fn violations(prefix: &str, allowed: impl Fn(&str) -> bool) -> Vec<String> {
    product_files()
        .iter()
        .filter(|(name, _)| name.starts_with(prefix))
        .flat_map(|(name, code)| {
            crate_modules(code)
                .into_iter()
                .filter(|module| !allowed(module))
                .map(move |module| format!("src/{name} -> crate::{module}"))
        })
        .collect()
}

#[test]
fn the_module_reader_sees_paths_and_groups() {
    let code = "use crate::{host::Host, value::{self, Value}};\nlet x = crate::output::emit();";
    let found: Vec<String> = crate_modules(code).into_iter().collect();
    assert_eq!(found, ["host", "output", "value"]);
}

#[test]
fn the_emulator_depends_on_nothing_of_the_product() {
    let manifest =
        std::fs::read_to_string(Path::new(ROOT).join("crates/emulated-mac/Cargo.toml")).unwrap();
    let dependencies = manifest
        .lines()
        .filter(|line| !line.starts_with('[') && line.contains('='))
        .map(|line| line.split('=').next().unwrap().trim().to_string())
        .collect::<Vec<_>>();
    assert!(
        !dependencies.iter().any(|d| d.starts_with("macllm")),
        "{dependencies:?}"
    );
    let crate_src = Path::new(ROOT).join("crates/emulated-mac/src");
    for path in sources(&crate_src) {
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains("macllm::"),
            "{} names macllm",
            path.display()
        );
    }
}

#[test]
fn only_the_bridge_main_and_the_sandbox_command_name_the_emulator() {
    let allowed = ["main.rs", "sandbox.rs", "commands/sandbox.rs"];
    let naming: Vec<String> = product_files()
        .into_iter()
        .filter(|(name, code)| code.contains("emulated_mac") && !allowed.contains(&name.as_str()))
        .map(|(name, _)| name)
        .collect();
    assert_eq!(naming, Vec::<String>::new());
}

#[test]
fn host_imports_only_itself_and_the_masking_leaf() {
    assert_eq!(
        violations("host/", |m| ["host", "mask"].contains(&m)),
        Vec::<String>::new()
    );
    // The leaf stays a leaf.
    assert_eq!(violations("mask.rs", |_| false), Vec::<String>::new());
}

#[test]
fn resources_reach_neither_output_nor_commands_nor_plan() {
    assert_eq!(
        violations("resources/", |m| !["output", "commands", "plan"]
            .contains(&m)),
        Vec::<String>::new()
    );
}

#[test]
fn plan_reaches_neither_output_nor_render() {
    assert_eq!(
        violations("plan.rs", |m| !["output", "render"].contains(&m)),
        Vec::<String>::new()
    );
}

#[test]
fn secret_does_not_reach_state() {
    assert_eq!(
        violations("secret.rs", |m| m != "state"),
        Vec::<String>::new()
    );
}

#[test]
fn the_bridge_is_not_imported_by_host() {
    assert_eq!(
        violations("host/", |m| m != "sandbox"),
        Vec::<String>::new()
    );
}
