//! The layout keeps its promises: no module of `src/` depends on a module that depends
//! back on it, and the Python binding writes no rule of its own (no spec reference, no
//! protocol limit: those are the core's).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("readable source tree") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The crate modules a file names as `crate::<module>`.
fn crate_paths(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            found.insert(name);
        }
    }
    found
}

/// Finds a cycle in a graph of modules, if there is one.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut found = path[start..].to_vec();
            found.push(node.to_owned());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(found) = visit(node, graph, &mut Vec::new(), &mut done) {
            return Some(found);
        }
    }
    None
}

#[test]
fn no_module_cycles_among_the_top_level_modules() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(&src) {
        let relative = file.strip_prefix(&src).unwrap();
        let module = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if module == "lib" || module == "python" {
            continue; // the root declares everything; the binding sits on top of it all
        }
        let text = fs::read_to_string(&file).unwrap();
        let deps = graph.entry(module.clone()).or_default();
        deps.extend(crate_paths(&text).into_iter().filter(|m| *m != module));
    }
    // Modules referenced only through the root's re-exports are not modules here.
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for deps in graph.values_mut() {
        deps.retain(|d| modules.contains(d));
    }
    assert!(graph.len() > 10, "{graph:?}");
    assert_eq!(cycle(&graph), None, "a module cycle in src/");
    assert!(
        graph["constants"].is_empty(),
        "constants is a leaf: {:?}",
        graph["constants"]
    );
}

#[test]
fn no_sibling_cycles_inside_a_module_directory() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for dir in ["packet", "topic", "message", "session", "storage"] {
        let dir_path = src.join(dir);
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for file in rust_files(&dir_path) {
            let name = file.file_stem().unwrap().to_string_lossy().into_owned();
            if name == "mod" {
                continue; // the parent declares and re-exports its children
            }
            let text = fs::read_to_string(&file).unwrap();
            let prefix = format!("crate::{dir}::");
            let mut deps = BTreeSet::new();
            for (i, _) in text.match_indices(&prefix) {
                let sibling: String = text[i + prefix.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if sibling != name && dir_path.join(format!("{sibling}.rs")).exists() {
                    deps.insert(sibling);
                }
            }
            graph.insert(name, deps);
        }
        assert_eq!(cycle(&graph), None, "a cycle in src/{dir}");
    }
}

#[test]
fn the_binding_writes_no_rule_of_its_own() {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/python");
    // Spec references, and the numbers and constants that are protocol limits.
    let forbidden = [
        "\"MQTT-",
        "§",
        "u8::MAX",
        "u16::MAX",
        "u32::MAX",
        "U16::MAX",
        "U32::MAX",
        "65535",
        "65_535",
        "268435455",
        "268_435_455",
        "protocol::MAX",
    ];
    // The protocol's limits, by name (whole words: `DEFAULT_MAX_TOPIC_LEVELS` is a default
    // of this implementation, not a limit of MQTT).
    let limits = [
        "MAX_PACKET_SIZE",
        "MAX_REMAINING_LENGTH",
        "MAX_PAYLOAD_SIZE",
        "MAX_STRING_LENGTH",
        "MAX_BINARY_LENGTH",
        "MAX_TOPIC_LENGTH",
        "MAX_PACKET_ID",
        "MAX_KEEP_ALIVE",
        "MAX_SUBSCRIPTION_ID",
        "MAX_TOPIC_ALIAS",
    ];
    let whole_word = |line: &str, word: &str| {
        line.match_indices(word).any(|(i, _)| {
            let before = line[..i].chars().next_back();
            let after = line[i + word.len()..].chars().next();
            let part_of_name = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            !part_of_name(before) && !part_of_name(after)
        })
    };
    let mut found = Vec::new();
    for file in rust_files(&python) {
        let text = fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let bad = forbidden.iter().any(|pattern| line.contains(pattern))
                || limits.iter().any(|limit| whole_word(line, limit));
            if bad {
                found.push(format!("{}:{}: {line}", file.display(), number + 1));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_brokers_write_no_rule_of_their_own() {
    // The brokers are glue: every MQTT rule is the engine's or the router's, so no spec
    // reference and no protocol limit appears in their source.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    no_rule_in(&root.join("broker/src/mqtt_broker"), "py", 4);
    no_rule_in(&root.join("tokio-broker/src"), "rs", 5);
}

fn no_rule_in(broker: &Path, extension: &str, at_least: usize) {
    let forbidden = [
        "MQTT-",
        "§",
        "0xFFFF",
        "4294967295",
        "65535",
        "65_535",
        "268435455",
        "268_435_455",
    ];
    let mut checked = 0;
    let mut found = Vec::new();
    for entry in fs::read_dir(broker).unwrap() {
        let file = entry.unwrap().path();
        if file.extension().is_none_or(|e| e != extension) {
            continue;
        }
        checked += 1;
        let text = fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            if forbidden.iter().any(|pattern| line.contains(pattern)) {
                found.push(format!("{}:{}: {line}", file.display(), number + 1));
            }
        }
    }
    assert!(
        checked >= at_least,
        "the broker's modules are in {}",
        broker.display()
    );
    assert!(found.is_empty(), "{}", found.join("\n"));
}
