#![allow(clippy::unwrap_used)] // a test reading the tree
//! Every sentence that names a key gets it from the key table, so no screen names a key its
//! context does not bind: the sources hold no key names in prose, and no rendered screen
//! (every snapshot) holds the mark the lookup leaves for an unbound action.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The string literals of a source line (good enough for this tree: no raw strings in prose).
fn literals(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    let mut escaped = false;
    for c in line.chars() {
        match (&mut cur, c) {
            (Some(s), _) if escaped => {
                s.push(c);
                escaped = false;
            }
            (Some(_), '\\') => escaped = true,
            (Some(s), '"') => {
                out.push(std::mem::take(s));
                cur = None;
            }
            (Some(s), _) => s.push(c),
            (None, '"') => cur = Some(String::new()),
            (None, _) => {}
        }
    }
    out
}

/// A key named in prose: "press c", "Esc back", "y copies", "Ctrl-R shows", "Tab, then".
fn names_a_key(text: &str) -> Option<String> {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == '(' || c == '·')
        .collect();
    let verbs = [
        "edits",
        "starts",
        "tests",
        "connects",
        "copies",
        "continues",
        "deletes",
        "refreshes",
        "opens",
        "re-connects",
        "runs",
        "shows",
        "hides",
        "enters",
        "retries",
        "adds",
        "goes",
        "records",
        "signs",
        "saves",
        "cancels",
        "closes",
        "next",
        "back",
        "done",
        "retry",
        "edit",
        "re-connect",
        "tries",
        "stops",
        "fixes",
        "device",
        "lists",
    ];
    for (i, w) in words.iter().enumerate() {
        let next = words.get(i + 1).copied().unwrap_or("");
        let w = w.trim_end_matches([',', ':']);
        let is_key = w.len() == 1 && w != "a" && w.chars().all(|c| c.is_ascii_lowercase() || c == '?')
            || ["Enter", "Esc", "Tab", "PgUp", "PgDn"].contains(&w)
            || w.starts_with("Ctrl-");
        let press = i > 0 && words[i - 1].eq_ignore_ascii_case("press");
        if is_key && (press || verbs.contains(&next)) {
            return Some(format!("{w} {next}"));
        }
    }
    None
}

#[test]
fn prose_names_keys_only_through_the_key_table() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tui");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut found = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap()
            .display()
            .to_string();
        // The table itself, and tests that drive or describe keys.
        if rel.ends_with("keymap.rs") || rel.contains("/tests") || rel.ends_with("testing.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            for lit in literals(line) {
                if let Some(k) = names_a_key(&lit) {
                    found.push(format!("{rel}:{}: \"{lit}\" names {k}", n + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "key names written into prose:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scan_catches_what_it_looks_for() {
    assert!(names_a_key("No server yet: press n to add one.").is_some());
    assert!(names_a_key("Enter starts the sign-in · d device code").is_some());
    assert!(names_a_key("1 Open this link (y copies it)").is_some());
    assert!(names_a_key("  Ctrl-R shows").is_some());
    assert!(names_a_key("a wizard walks you through the portal").is_none());
    assert!(names_a_key("{k} copies it").is_none());
}

#[test]
fn no_rendered_screen_names_an_unbound_key() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tui/ui/snapshots");
    let mut bad = Vec::new();
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "snap") {
            seen += 1;
            let text = std::fs::read_to_string(&path).unwrap();
            if text.contains(inbound::tui::state::keymap::UNBOUND) {
                bad.push(path.display().to_string());
            }
        }
    }
    assert!(seen > 40, "only {seen} snapshots found in {}", dir.display());
    assert!(
        bad.is_empty(),
        "screens naming a key their context does not bind: {bad:?}"
    );
}
