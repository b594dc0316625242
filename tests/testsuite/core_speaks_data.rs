#![allow(clippy::unwrap_used)] // a test reading the tree
//! The core says what fixes something as data (`model::health::Fix`); only the faces word it:
//! the CLI as a command line (`cli::fix`), the app as a key (`tui::ui::fix`). So no string
//! literal in src/ops, src/model, src/services or src/store names an `inbound` command or
//! one of its flags, outside test code and the few texts listed in [`EXEMPT`] with why.

use clap::CommandFactory;
use std::path::{Path, PathBuf};

/// Texts that are commands by nature, not advice: (file, the words, why).
const EXEMPT: &[(&str, &str, &str)] = &[
    // The Cloud Shell script text: bash and PowerShell that run in Azure Cloud Shell,
    // whose last lines tell the person where to paste the setup code.
    ("src/ops/setup/bash.rs", "", "the Cloud Shell script (bash)"),
    ("src/ops/setup/pwsh.rs", "", "the Cloud Shell script (PowerShell)"),
    (
        "src/ops/setup/steps.rs",
        "inbound test NAME shows whether",
        "the Cloud Shell script's words after the admin consent link",
    ),
    (
        "src/ops/setup/steps.rs",
        "inbound connect NAME or the app's sign-in step",
        "the Cloud Shell script's words after the admin consent link",
    ),
    // The systemd unit file: its ExecStart is the command systemd runs, and its comments say
    // how to install it.
    ("src/ops/serve/unit.rs", "", "the systemd unit file"),
];

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

/// The string literals of Rust source (escapes kept as written), outside comments and char
/// literals, with the line each starts on, skipping `#[cfg(test)]` items.
fn literals(text: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let at = |i: usize, s: &str| s.chars().enumerate().all(|(k, c)| chars.get(i + k) == Some(&c));
    while i < chars.len() {
        let c = chars[i];
        if at(i, "#[cfg(test)]") {
            // Test code is skipped: `mod tests;` (a file of its own, skipped by name) or the
            // item that follows, braces and all (format strings balance theirs).
            i += "#[cfg(test)]".len();
            let semi = (i..chars.len()).find(|&j| chars[j] == ';');
            let brace = (i..chars.len()).find(|&j| chars[j] == '{');
            match (semi, brace) {
                (Some(s), b) if b.is_none_or(|b| s < b) => i = s + 1,
                (_, Some(b)) => {
                    let mut depth = 0;
                    let mut j = b;
                    while j < chars.len() {
                        line += usize::from(chars[j] == '\n');
                        depth += i32::from(chars[j] == '{') - i32::from(chars[j] == '}');
                        j += 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    i = j;
                }
                _ => break,
            }
            continue;
        }
        if at(i, "//") {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if at(i, "/*") {
            while i < chars.len() && !at(i, "*/") {
                line += usize::from(chars[i] == '\n');
                i += 1;
            }
            i += 2;
            continue;
        }
        if c == '\'' {
            // A char literal ('x', '\n', '"'), or a lifetime (left as it is).
            if chars.get(i + 1) == Some(&'\\') {
                // Past the backslash and the escaped character, to the closing quote.
                i += 3;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
            }
            continue;
        }
        // Raw strings: r"…", r#"…"#.
        if c == 'r' && (chars.get(i + 1) == Some(&'"') || chars.get(i + 1) == Some(&'#')) {
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) == Some(&'"') {
                let close: String = std::iter::once('"')
                    .chain(std::iter::repeat_n('#', hashes))
                    .collect();
                let start = line;
                let mut s = String::new();
                j += 1;
                while j < chars.len() && !at(j, &close) {
                    line += usize::from(chars[j] == '\n');
                    s.push(chars[j]);
                    j += 1;
                }
                out.push((start, s));
                i = j + close.chars().count();
                continue;
            }
        }
        if c == '"' {
            let start = line;
            let mut s = String::new();
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    s.push(chars[i]);
                    i += 1;
                }
                if let Some(&ch) = chars.get(i) {
                    line += usize::from(ch == '\n');
                    s.push(ch);
                }
                i += 1;
            }
            out.push((start, s));
            i += 1;
            continue;
        }
        line += usize::from(c == '\n');
        i += 1;
    }
    out
}

/// Every subcommand's name (with its parents: `cert new`) and every long flag.
fn vocabulary() -> (Vec<String>, Vec<String>) {
    fn walk(cmd: &clap::Command, names: &mut Vec<String>, flags: &mut Vec<String>) {
        for a in cmd.get_arguments() {
            if let Some(l) = a.get_long() {
                flags.push(format!("--{l}"));
            }
        }
        for sub in cmd.get_subcommands() {
            names.push(sub.get_name().to_string());
            walk(sub, names, flags);
        }
    }
    let mut names = Vec::new();
    let mut flags = Vec::new();
    walk(&inbound::cli::Cli::command(), &mut names, &mut flags);
    flags.retain(|f| f != "--help" && f != "--version");
    names.sort();
    names.dedup();
    flags.sort();
    flags.dedup();
    (names, flags)
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// What in `text` names a command (`inbound connect`) or a flag (`--sign-in-as`).
fn names_shell(text: &str, names: &[String], flags: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for (i, _) in text.match_indices("inbound ") {
        let rest = &text[i + "inbound ".len()..];
        let word: String = rest.chars().take_while(|c| is_word_char(*c)).collect();
        if names.contains(&word) {
            found.push(format!("inbound {word}"));
        }
    }
    for flag in flags {
        for (i, _) in text.match_indices(flag.as_str()) {
            let before = text[..i].chars().next_back();
            let after = text[i + flag.len()..].chars().next();
            if !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char) {
                found.push(flag.clone());
            }
        }
    }
    found
}

#[test]
fn the_core_names_no_command_and_no_flag() {
    let (names, flags) = vocabulary();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src/ops", "src/model", "src/services", "src/store"] {
        rust_files(&root.join(dir), &mut files);
    }
    let mut found = Vec::new();
    let mut used = vec![false; EXEMPT.len()];
    for file in files {
        let rel = file.strip_prefix(root).unwrap().display().to_string();
        let name = file.file_name().unwrap().to_string_lossy();
        if name == "tests.rs" || name.ends_with("_tests.rs") || rel.contains("/tests/") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (line, lit) in literals(&text) {
            let hits = names_shell(&lit, &names, &flags);
            if hits.is_empty() {
                continue;
            }
            let exempt = EXEMPT
                .iter()
                .position(|(path, words, _)| rel == *path && lit.contains(words));
            match exempt {
                Some(k) => used[k] = true,
                None => found.push(format!("{rel}:{line}: \"{lit}\" names {}", hits.join(", "))),
            }
        }
    }
    assert!(
        found.is_empty(),
        "the core words commands or flags (return a Fix; cli::fix words it):\n{}",
        found.join("\n")
    );
    let stale: Vec<_> = EXEMPT
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|((path, words, why), _)| format!("{path} \"{words}\" ({why})"))
        .collect();
    assert!(
        stale.is_empty(),
        "exemptions that match nothing now:\n{}",
        stale.join("\n")
    );
}

#[test]
fn the_scan_catches_what_it_looks_for() {
    let (names, flags) = vocabulary();
    assert!(names.contains(&"connect".to_string()) && flags.contains(&"--sign-in-as".to_string()));
    let hits = |t: &str| names_shell(t, &names, &flags);
    assert_eq!(
        hits("set Sign in as (inbound edit \"S\" --sign-in-as a@b)"),
        ["inbound edit", "--sign-in-as"]
    );
    assert_eq!(hits("choose it: --cloud usgov|china."), ["--cloud"]);
    assert!(hits("inbound signs in at http://localhost").is_empty());
    assert!(hits("az ad app create --public-client-redirect-uris X").is_empty());
    let lits = literals(
        "let q = '\\''; let a = '\"'; // \"not this\"\nlet b = \"in \\\"one\\\"\";\nlet c = r#\"raw \"x\"\"#;\n#[cfg(test)]\nmod t { fn f() { \"tests\"; } }\nlet e = \"after\";",
    );
    let texts: Vec<&str> = lits.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(texts, ["in \\\"one\\\"", "raw \"x\"", "after"]);
}
