//! The integration tests stay one test binary: a test file put in `tests/` itself would be a
//! binary of its own (linked again on every build), and a file in this folder that `main.rs`
//! does not declare would never be compiled, so its tests would silently not run.

use std::path::Path;

fn tests_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests"))
}

/// The names of the entries of `dir` for which `keep` holds, sorted.
fn names(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| keep(p))
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    out.sort();
    out
}

#[test]
fn no_test_file_sits_outside_the_suite() {
    let stray = names(tests_dir(), |p| {
        p.is_file() && p.extension().is_some_and(|e| e == "rs")
    });
    assert!(
        stray.is_empty(),
        "{stray:?} in tests/ would each link as a test binary of their own: move them to \
         tests/testsuite/, add a `mod NAME;` line to tests/testsuite/main.rs, and replace \
         `mod support;` with `use crate::support;`"
    );
    let stray_mains = names(tests_dir(), |p| p.join("main.rs").is_file());
    assert_eq!(
        stray_mains,
        ["testsuite"],
        "every folder of tests/ with a main.rs is a test binary of its own"
    );
}

#[test]
fn every_file_of_the_suite_is_declared_in_main() {
    let suite = tests_dir().join("testsuite");
    let main = std::fs::read_to_string(suite.join("main.rs")).expect("main.rs");
    let declared: Vec<&str> = main
        .lines()
        .filter_map(|l| l.strip_prefix("mod ")?.strip_suffix(';'))
        .collect();
    let files = names(&suite, |p| {
        (p.is_file() && p.extension().is_some_and(|e| e == "rs") && !p.ends_with("main.rs"))
            || p.join("mod.rs").is_file()
    });
    let missing: Vec<&String> = files
        .iter()
        .filter(|f| !declared.contains(&f.trim_end_matches(".rs")))
        .collect();
    assert!(
        missing.is_empty(),
        "{missing:?} in tests/testsuite/ are not compiled: add a `mod NAME;` line for each to \
         tests/testsuite/main.rs"
    );
    assert!(declared.len() >= 30, "only {declared:?} declared in main.rs");
}
