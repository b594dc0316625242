//! The integration tests: one test binary with a module per area, so the tests link once
//! instead of once per file. A new test file goes in this folder with one `mod` line below
//! (`suite_layout` fails when a file is left out, or when a test file sits in `tests/` itself).
//! Run one module with `cargo test --test testsuite MODULE::`.

#[path = "../support/mod.rs"]
mod support;

mod add_like;
mod app_only;
mod certificates;
mod cli_e2e;
mod cli_help;
mod coherence;
mod consent_modes;
mod consent_paths;
mod core_speaks_data;
mod demo_paths;
mod demo_print_env;
mod demo_tmux;
mod demo_walks;
mod faults;
mod fetchers;
mod hostile_values;
mod imap_probe;
mod import;
mod json_schema;
mod keys_named;
mod listener;
mod preflight;
mod properties;
mod proxy;
mod review_tmux;
mod review_tools_tmux;
mod same_registration;
mod serve;
mod setup_code_flow;
mod setup_script;
mod store_trust;
mod suite_layout;
mod support_selftest;
mod tokens_lifecycle;
mod tui_flows;
mod tui_headless;
mod tui_tmux;
mod tunnel;
mod wide_tmux;
