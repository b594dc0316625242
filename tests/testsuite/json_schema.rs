//! Every `--json` output parses and has the top-level fields docs/json.md documents for it:
//! none missing (unless documented optional), none undocumented.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use crate::support;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use support::cli::{Cli, text};
use support::fake_idp::FakeIdp;

const DOC: &str = include_str!("../../docs/json.md");

/// A command's documented fields: name → optional.
type Fields = BTreeMap<String, bool>;

/// The first table after each "## `inbound …`" heading (subsections describe nested objects).
fn schemas() -> BTreeMap<String, Fields> {
    let mut out = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in DOC.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            current = Some(h.trim().trim_matches('`').to_string());
            continue;
        }
        if line.starts_with("### ") {
            current = None;
            continue;
        }
        let Some(cmd) = &current else { continue };
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 4 {
            continue;
        }
        let Some(field) = cells[1].strip_prefix('`').and_then(|c| c.strip_suffix('`')) else {
            continue;
        };
        let fields: &mut Fields = out.entry(cmd.clone()).or_default();
        fields.insert(field.to_string(), cells[2].contains("optional"));
    }
    out
}

/// Checks one JSON object against the fields documented under `heading`.
fn conforms(heading: &str, v: &Value) {
    let schemas = schemas();
    let fields = schemas
        .get(heading)
        .unwrap_or_else(|| panic!("docs/json.md has no section \"{heading}\""));
    let obj = v
        .as_object()
        .unwrap_or_else(|| panic!("{heading}: not an object: {v}"));
    let keys: BTreeSet<&str> = obj.keys().map(String::as_str).collect();
    for k in &keys {
        assert!(
            fields.contains_key(*k),
            "{heading}: \"{k}\" is not documented ({v})"
        );
    }
    for (f, optional) in fields {
        assert!(
            *optional || keys.contains(f.as_str()),
            "{heading}: \"{f}\" is missing ({v})"
        );
    }
}

fn parse(heading: &str, out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{heading}: not JSON ({e}): {}{}",
            text(&out.stdout),
            text(&out.stderr)
        )
    })
}

/// Each element of a non-empty array.
fn each(heading: &str, v: &Value) {
    let rows = v
        .as_array()
        .unwrap_or_else(|| panic!("{heading}: not an array: {v}"));
    assert!(!rows.is_empty(), "{heading}: empty");
    for r in rows {
        conforms(heading, r);
    }
}

#[test]
fn every_documented_section_has_fields() {
    let s = schemas();
    for h in [
        "inbound list --json",
        "inbound show NAME --json",
        "inbound apps --json",
        "inbound check --json",
        "inbound test --json",
        "inbound refresh --json",
        "inbound token NAME --format json",
        "inbound connect NAME --device-code --json",
        "inbound doctor NAME --json",
        "inbound settings --json",
        "inbound exchange-setup NAME --json",
        "inbound serve --notify-command CMD",
    ] {
        assert!(s.get(h).is_some_and(|f| !f.is_empty()), "{h}: {s:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_json_output_has_the_documented_fields() {
    let idp = FakeIdp::start().await;
    idp.set_account("support@contoso.com");
    let cli = Cli::new();
    cli.add_oauth(
        &idp,
        "A",
        "support@contoso.com",
        &["--host", "127.0.0.1", "--port", "1"],
    )
    .await;

    idp.script_device_poll(&["ok"]);
    let h = "inbound connect NAME --device-code --json";
    let out = cli.run(&["connect", "A", "--device-code", "--json"], None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    for l in &lines {
        conforms(h, &serde_json::from_str(l).unwrap());
    }

    let out = cli
        .run(
            &[
                "add",
                "B",
                "--username",
                "shared@contoso.com",
                "--auth",
                "oauth2-app",
                "--app",
                "A",
                "--no-check",
            ],
            None,
        )
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));

    let h = "inbound list --json";
    each(h, &parse(h, &cli.run(&["list", "--json"], None).await));
    let h = "inbound show NAME --json";
    conforms(h, &parse(h, &cli.run(&["show", "A", "--json"], None).await));
    let h = "inbound apps --json";
    each(h, &parse(h, &cli.run(&["apps", "--json"], None).await));
    let h = "inbound check --json";
    conforms(h, &parse(h, &cli.run(&["check", "--json"], None).await));
    // Port 1 refuses: a failed row.
    let h = "inbound test --json";
    each(h, &parse(h, &cli.run(&["test", "A", "--json"], None).await));
    let h = "inbound refresh --json";
    each(
        h,
        &parse(h, &cli.run(&["refresh", "--all", "--json"], None).await),
    );
    let h = "inbound token NAME --format json";
    conforms(
        h,
        &parse(h, &cli.run(&["token", "A", "--format", "json"], None).await),
    );
    let h = "inbound doctor NAME --json";
    conforms(
        h,
        &parse(
            h,
            &cli.run(&["doctor", "A", "--json", "--timeout", "2"], None).await,
        ),
    );
    let h = "inbound settings --json";
    conforms(
        h,
        &parse(
            h,
            &cli.run(&["settings", "--listen-port", "18999", "--json"], None)
                .await,
        ),
    );
    let h = "inbound exchange-setup NAME --json";
    let setup = parse(h, &cli.run(&["exchange-setup", "B", "--json"], None).await);
    conforms(h, &setup);
    // The texts of a --json output are part of its interface: this one as it always read.
    let note = setup["notes"][0].as_str().unwrap_or_default();
    assert!(
        note.starts_with(
            "<enterprise-app-object-id>: in the Azure portal, Microsoft Entra ID → Enterprise applications →"
        ) && note.ends_with("inbound fills it in after the first token (inbound token \"B\")."),
        "{setup}"
    );
}

#[tokio::test]
async fn serve_notifications_have_the_documented_fields() {
    let cli = Cli::new();
    // serve reads its settings from a store: make one (a read never creates it).
    let made = cli.run(&["settings", "--listen-port", "18999"], None).await;
    assert!(made.status.success(), "{}", text(&made.stderr));
    let store = cli.store();
    let file = cli.dir.path().join("note.json");
    let cmd = format!("cat > '{}'", file.display());
    let out = cli
        .run(&["serve", "--test-notify", "--notify-command", &cmd], None)
        .await;
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    let doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    conforms("inbound serve --notify-command CMD", &doc);
    assert_eq!(doc["reason"], "test");
    assert_eq!(doc["server"], "inbound test notification");

    // A real transition (CRITICAL with its findings), built by the same code serve uses.
    let mut config = inbound::model::Config::default();
    let server: inbound::model::Server = serde_json::from_value(serde_json::json!({
        "id": "0123456789abcdef0123456789abcdef", "name": "A", "server_type": "IMAP",
        "auth": "oauth2", "host": "h.example.com", "port": 993, "ssl": true,
        "username": "a@contoso.com", "app": "missing", "state": "Confirmed"
    }))
    .unwrap();
    config.servers.push(server.clone());
    let now = jiff::Timestamp::now();
    let health = inbound::model::health::assess(&server, None, None, now);
    let announce = inbound::ops::serve::alerts::Announce {
        server_id: server.id.clone(),
        reason: inbound::ops::serve::alerts::Reason::Transition,
        level: health.level,
        previous: Some(inbound::model::health::Level::Ok),
        since: now,
    };
    let n = inbound::ops::serve::document::Notification::new(
        &announce,
        &server.username,
        &health,
        &store.dir().display().to_string(),
        now,
        inbound::cli::fix::WORDING,
    );
    let doc = serde_json::to_value(&n).unwrap();
    conforms("inbound serve --notify-command CMD", &doc);
    assert_eq!(doc["level"], "CRITICAL");
    assert!(!doc["findings"].as_array().unwrap().is_empty(), "{doc}");
}
