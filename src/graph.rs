//! The dependency graph (petgraph): edges run from a dependency to what depends on it. Order is
//! deterministic, topological with ties broken by id, so the same spec always plans and
//! applies in the same order; destroy walks it backwards.

use crate::resources::ResourceId;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};

#[derive(Debug, PartialEq)]
pub enum GraphError {
    UnknownDependency {
        node: ResourceId,
        dependency: ResourceId,
    },
    /// The ids on one cycle, starting from the smallest.
    Cycle(Vec<ResourceId>),
}

#[derive(Debug, Clone)]
pub struct Graph {
    graph: DiGraph<ResourceId, ()>,
}

impl Graph {
    /// `nodes`: each id with the ids it depends on. Ids are unique (checked by the caller).
    /// Every dependency on an unknown id and one cycle of each strongly connected component
    /// are errors, all of them reported (the graph is checked without the unknown edges).
    pub fn build(nodes: &[(ResourceId, Vec<ResourceId>)]) -> Result<Graph, Vec<GraphError>> {
        let mut graph = DiGraph::new();
        let index: BTreeMap<&ResourceId, NodeIndex> = nodes
            .iter()
            .map(|(id, _)| (id, graph.add_node(id.clone())))
            .collect();
        let mut errors = Vec::new();
        for (id, dependencies) in nodes {
            for dependency in dependencies {
                match index.get(dependency) {
                    Some(&from) => {
                        graph.update_edge(from, index[id], ());
                    }
                    None => errors.push(GraphError::UnknownDependency {
                        node: id.clone(),
                        dependency: dependency.clone(),
                    }),
                }
            }
        }
        let graph = Graph { graph };
        errors.extend(graph.cycles().into_iter().map(GraphError::Cycle));
        match errors.is_empty() {
            true => Ok(graph),
            false => Err(errors),
        }
    }

    /// One cycle in each strongly connected component that has one, smallest first.
    fn cycles(&self) -> Vec<Vec<ResourceId>> {
        let mut cycles: Vec<Vec<ResourceId>> = tarjan_scc(&self.graph)
            .into_iter()
            .filter(|component| {
                component.len() > 1 || self.graph.contains_edge(component[0], component[0])
            })
            .filter_map(|component| self.cycle_in(&component))
            .collect();
        cycles.sort();
        cycles
    }

    fn cycle_in(&self, component: &[NodeIndex]) -> Option<Vec<ResourceId>> {
        // The shortest way from the component's smallest id back to itself, next ids taken in
        // order: the message is stable, and each of its arrows is an edge of the graph.
        let start = *component.iter().min_by_key(|n| &self.graph[**n])?;
        let mut came_from: HashMap<NodeIndex, NodeIndex> = HashMap::new();
        let mut queue = VecDeque::from([start]);
        while let Some(node) = queue.pop_front() {
            let mut next: Vec<NodeIndex> = self
                .graph
                .neighbors(node)
                .filter(|n| component.contains(n))
                .collect();
            next.sort_by_key(|n| &self.graph[*n]);
            for n in next {
                if n == start {
                    let mut cycle = vec![node];
                    while let Some(&before) = came_from.get(cycle.last()?) {
                        cycle.push(before);
                    }
                    cycle.reverse();
                    return Some(cycle.into_iter().map(|n| self.graph[n].clone()).collect());
                }
                if let std::collections::hash_map::Entry::Vacant(entry) = came_from.entry(n) {
                    entry.insert(node);
                    queue.push_back(n);
                }
            }
        }
        None
    }

    /// Dependencies first; among resources ready at the same time, smallest id first (Kahn's
    /// algorithm with a min-heap).
    pub fn apply_order(&self) -> Vec<ResourceId> {
        let mut waiting: Vec<usize> = self
            .graph
            .node_indices()
            .map(|n| {
                self.graph
                    .neighbors_directed(n, petgraph::Direction::Incoming)
                    .count()
            })
            .collect();
        let mut ready: BinaryHeap<Reverse<(&ResourceId, NodeIndex)>> = self
            .graph
            .node_indices()
            .filter(|n| waiting[n.index()] == 0)
            .map(|n| Reverse((&self.graph[n], n)))
            .collect();
        let mut order = Vec::with_capacity(waiting.len());
        while let Some(Reverse((id, node))) = ready.pop() {
            order.push(id.clone());
            for next in self.graph.neighbors(node) {
                waiting[next.index()] -= 1;
                if waiting[next.index()] == 0 {
                    ready.push(Reverse((&self.graph[next], next)));
                }
            }
        }
        order
    }

    /// Dependents first: the order in which to undo.
    pub fn destroy_order(&self) -> Vec<ResourceId> {
        let mut order = self.apply_order();
        order.reverse();
        order
    }

    /// Every edge as (dependency, dependent), sorted.
    pub fn edges(&self) -> Vec<(&ResourceId, &ResourceId)> {
        let mut edges: Vec<(&ResourceId, &ResourceId)> = self
            .graph
            .edge_indices()
            .filter_map(|e| self.graph.edge_endpoints(e))
            .map(|(a, b)| (&self.graph[a], &self.graph[b]))
            .collect();
        edges.sort();
        edges
    }

    /// Graphviz DOT, nodes and edges sorted so the text is stable.
    pub fn to_dot(&self) -> String {
        let quote = |id: &ResourceId| serde_json::to_string(&id.0).unwrap_or_default();
        let mut out = String::from("digraph macllm {\n  rankdir = LR;\n");
        for id in self.apply_order() {
            out.push_str(&format!("  {};\n", quote(&id)));
        }
        for (from, to) in self.edges() {
            out.push_str(&format!("  {} -> {};\n", quote(from), quote(to)));
        }
        out.push_str("}\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> ResourceId {
        ResourceId(s.to_string())
    }

    #[test]
    fn order_is_topological_with_ties_by_id() {
        let graph = Graph::build(&[
            (id("c"), vec![]),
            (id("a"), vec![id("d")]),
            (id("b"), vec![]),
            (id("d"), vec![]),
        ])
        .unwrap();
        assert_eq!(
            graph.apply_order(),
            vec![id("b"), id("c"), id("d"), id("a")]
        );
        assert_eq!(
            graph.destroy_order(),
            vec![id("a"), id("d"), id("c"), id("b")]
        );
    }

    #[test]
    fn cycles_and_unknown_ids_are_reported() {
        let err = Graph::build(&[
            (id("x"), vec![id("z")]),
            (id("y"), vec![id("x")]),
            (id("z"), vec![id("y")]),
        ])
        .unwrap_err();
        assert_eq!(
            err,
            vec![GraphError::Cycle(vec![id("x"), id("y"), id("z")])]
        );
        let err = Graph::build(&[(id("x"), vec![id("x")])]).unwrap_err();
        assert_eq!(err, vec![GraphError::Cycle(vec![id("x")])]);
        let err = Graph::build(&[(id("x"), vec![id("q")])]).unwrap_err();
        assert_eq!(
            err,
            vec![GraphError::UnknownDependency {
                node: id("x"),
                dependency: id("q")
            }]
        );
    }

    /// Every unknown id and one cycle per knot, in one go: the unknown edges left out, the
    /// rest still checked.
    #[test]
    fn every_problem_is_reported_at_once() {
        let err = Graph::build(&[
            (id("a"), vec![id("b"), id("nope")]),
            (id("b"), vec![id("a")]),
            (id("c"), vec![id("c"), id("gone")]),
            (id("d"), vec![]),
        ])
        .unwrap_err();
        assert_eq!(
            err,
            vec![
                GraphError::UnknownDependency {
                    node: id("a"),
                    dependency: id("nope")
                },
                GraphError::UnknownDependency {
                    node: id("c"),
                    dependency: id("gone")
                },
                GraphError::Cycle(vec![id("a"), id("b")]),
                GraphError::Cycle(vec![id("c")]),
            ]
        );
    }

    /// Failed before: the walk took the smallest next id even when it led back into the walk
    /// itself, and named `c -> a`, which is no edge.
    #[test]
    fn a_cycle_names_only_real_edges() {
        // Edges a -> b, c -> b, b -> c, c -> d, d -> a (dependency -> dependent).
        let err = Graph::build(&[
            (id("a"), vec![id("d")]),
            (id("b"), vec![id("a"), id("c")]),
            (id("c"), vec![id("b")]),
            (id("d"), vec![id("c")]),
        ])
        .unwrap_err();
        assert_eq!(
            err,
            vec![GraphError::Cycle(vec![id("a"), id("b"), id("c"), id("d")])]
        );
    }

    #[test]
    fn dot_lists_nodes_and_edges() {
        let graph = Graph::build(&[(id("a"), vec![id("b")]), (id("b"), vec![])]).unwrap();
        assert_eq!(
            graph.to_dot(),
            "digraph macllm {\n  rankdir = LR;\n  \"b\";\n  \"a\";\n  \"b\" -> \"a\";\n}\n"
        );
    }
}
