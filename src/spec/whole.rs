//! The checks that need the whole spec (every resource of the spec and its modules): an id
//! declared twice, a `depends_on` that names no resource, a dependency cycle, and the one
//! Ollama server. They run in the same pass as the checks of single resources, on the
//! resources that parsed, so that a user fixing a spec sees every error at once. A resource
//! that did not parse has no id: a dependency on an unknown id is an error only when no such
//! resource could have been the one named.

use super::error::SpecError;
use super::locate::Segment;
use super::{At, Declared, Gathered, child, key, ollama};
use crate::graph::{Graph, GraphError};
use crate::resources::ResourceId;
use std::collections::HashMap;

/// Runs the whole-spec checks on `resources`, adding their errors to `errors` (which holds
/// those of single resources already); the graph when there were none of its own.
pub(super) fn check(
    resources: &mut Vec<Declared>,
    gathered: Gathered,
    at: &At,
    errors: &mut Vec<SpecError>,
) -> (Option<Graph>, Vec<String>) {
    let mut unparsed = Unparsed::of(errors);
    let Gathered {
        mut warnings,
        server,
    } = gathered;
    errors.extend(duplicate_ids(resources));
    // A model's base that nothing declares is pulled by Ollama itself: planned as its own.
    ollama::add_bases(resources);
    if let Err(err) = ollama::serve_from_own_agent(resources, server, at, &mut warnings) {
        // `server: own` may lack its agent because the agent did not parse.
        if !unparsed.could_be("agent:") {
            unparsed.add(&err);
            errors.push(err);
        }
    }
    let graph = match build_graph(resources) {
        Ok(graph) => Some(graph),
        Err(found) => {
            errors.extend(
                found
                    .into_iter()
                    .filter(|problem| match problem {
                        GraphError::UnknownDependency { dependency, .. } => {
                            !unparsed.could_be(&dependency.0)
                        }
                        GraphError::Cycle(_) => true,
                    })
                    .map(|problem| graph_error(resources, problem)),
            );
            None
        }
    };
    (graph, warnings)
}

/// Which ids the resources that did not parse could have had, by the section their errors
/// are in: an error in `defaults` hides `defaults:` ids, one in `use` (a module) or in a
/// section name (a misspelt `service:`) any id.
struct Unparsed {
    prefixes: Vec<&'static str>,
}

/// Each resource section and the ids its resources have.
const SECTION_IDS: &[(&str, &[&str])] = &[
    ("defaults", &["defaults:"]),
    ("services", &["service:"]),
    ("agents", &["agent:"]),
    ("spotlight", &["spotlight:", "spotlight-volume:"]),
    ("power", &["power:"]),
    ("time_machine", &["time_machine:"]),
    ("ollama", &["ollama_"]),
];

/// Top-level fields that declare no resource.
const NOT_RESOURCES: &[&str] = &["macllm", "vars", "module", "description", "params"];

impl Unparsed {
    fn of(errors: &[SpecError]) -> Unparsed {
        let mut unparsed = Unparsed {
            prefixes: Vec::new(),
        };
        for err in errors {
            unparsed.add(err);
        }
        unparsed
    }

    fn add(&mut self, err: &SpecError) {
        let section = err.field.split(['.', '[']).next().unwrap_or_default();
        // `macllm:` missing (the one required top-level field) leaves out no resource.
        let missing_on_top = section.is_empty() && err.code == "missing_field";
        if NOT_RESOURCES.contains(&section) || missing_on_top {
            return;
        }
        match SECTION_IDS.iter().find(|(name, _)| *name == section) {
            Some((_, prefixes)) => self.prefixes.extend_from_slice(prefixes),
            None => self.prefixes.push(""),
        }
    }

    fn could_be(&self, id: &str) -> bool {
        self.prefixes.iter().any(|prefix| id.starts_with(prefix))
    }
}

/// Every declaration of an id after its first, naming the first.
fn duplicate_ids(resources: &[Declared]) -> Vec<SpecError> {
    let mut seen: HashMap<ResourceId, &Declared> = HashMap::new();
    let mut errors = Vec::new();
    for declared in resources {
        let id = declared.resource.as_resource().id();
        match seen.get(&id) {
            Some(first) => {
                let first_at = first.origin.error(&first.path, String::new());
                errors.push(
                    declared
                        .origin
                        .error(
                            &declared.path,
                            format!(
                                "duplicate resource id `{id}`: also declared at {}:{} ({})",
                                first_at.file.display(),
                                first_at.line,
                                first_at.field
                            ),
                        )
                        .with_code("duplicate_id"),
                );
            }
            None => {
                seen.insert(id, declared);
            }
        }
    }
    errors
}

/// The graph of the resources (an id declared twice counts once: that is an error already).
fn build_graph(resources: &[Declared]) -> Result<Graph, Vec<GraphError>> {
    let mut nodes: Vec<(ResourceId, Vec<ResourceId>)> = Vec::new();
    for declared in resources {
        let id = declared.resource.as_resource().id();
        if !nodes.iter().any(|(known, _)| *known == id) {
            nodes.push((id, declared.depends_on.clone()));
        }
    }
    Graph::build(&nodes)
}

/// A graph problem as an error at the `depends_on` it is about.
fn graph_error(resources: &[Declared], problem: GraphError) -> SpecError {
    match problem {
        GraphError::UnknownDependency { node, dependency } => {
            let declared = find(resources, &node);
            let position = declared
                .depends_on
                .iter()
                .position(|d| *d == dependency)
                .unwrap_or(0);
            let path = child(
                &child(&declared.path, key("depends_on")),
                Segment::Index(position),
            );
            declared
                .origin
                .error(
                    &path,
                    format!("unknown resource id `{dependency}` in depends_on"),
                )
                .with_code("unknown_dependency")
                .with_hint(
                    "ids look like `defaults:com.apple.dock:autohide`; `macllm graph` lists them",
                )
        }
        GraphError::Cycle(cycle) => {
            let declared = find(resources, &cycle[0]);
            let names: Vec<String> = cycle.iter().map(|id| format!("`{id}`")).collect();
            declared
                .origin
                .error(
                    &child(&declared.path, key("depends_on")),
                    format!("dependency cycle: {} -> `{}`", names.join(" -> "), cycle[0]),
                )
                .with_code("dependency_cycle")
        }
    }
}

/// The (first) resource declared with `id`; the graph only names ids of `resources`.
fn find<'a>(resources: &'a [Declared], id: &ResourceId) -> &'a Declared {
    resources
        .iter()
        .find(|d| d.resource.as_resource().id() == *id)
        .unwrap_or(&resources[0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn error(field: &str, code: &'static str) -> SpecError {
        SpecError::new(Path::new("s.yaml"), "", 1, 1, field.to_string(), "x").with_code(code)
    }

    #[test]
    fn an_error_hides_the_ids_of_its_section_only() {
        let unparsed = Unparsed::of(&[
            error("services[0].enabled", "wrong_type"),
            error("ollama.env.OLLAMA_KEEPALIVE", "unknown_ollama_variable"),
            error("vars", "invalid_spec"),
            error("", "missing_field"),
        ]);
        assert!(unparsed.could_be("service:gui/com.apple.photoanalysisd"));
        assert!(unparsed.could_be("ollama_env:OLLAMA_NUM_PARALLEL"));
        assert!(unparsed.could_be("ollama_model:mistral-8gb"));
        assert!(!unparsed.could_be("defaults:com.apple.dock:autohide"));
        assert!(!unparsed.could_be("agent:com.example.ollama"));
        // A module that did not expand, or a misspelt section, may have held anything.
        for hiding_all in [
            error("use[0].module", "unknown_module"),
            error("", "unknown_field"),
        ] {
            assert!(Unparsed::of(&[hiding_all]).could_be("defaults:d:k"));
        }
    }
}
