//! Values we did not make, through the real binary: a token's Object ID, names with
//! typographic quotes, a URL that tries to end its quoting, escape and bidi characters in a
//! hand-edited store or on the command line, and a setup code given where a path or a value
//! was expected. Nothing of them may run in a shell, reach the terminal raw, or be echoed.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use crate::support;

use inbound::model::{Blocker, Flow, TokenFile, TokenSet};
use inbound::secret::Secret;
use jiff::{SignedDuration, Timestamp};
use std::path::Path;
use support::cli::{Cli, text};

const CLIENT: &str = "2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const SECRET: &str = "Xy8Q~abcdefghijklmnopqrstuvwxyz.0123456_";
const OID: &str = "6a1d9e4b-2f70-4c3a-b8e5-0d9c7f1a2b34";
/// An `oid` that ends a PowerShell string quoted by doubling only the ASCII quote.
const HOSTILE_OID: &str = "x\u{2019}; Remove-Mailbox -Identity ceo@contoso.com -Confirm:$false; \u{2018}y";
/// Escape sequences (OSC title, CSI clear), a C1 CSI, and a right-to-left override.
const HOSTILE_TEXT: &str = "A\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\u{202E}gnp.exe";

/// A control or invisible character that must never reach the terminal raw.
fn raw_hostile(s: &str) -> Option<char> {
    s.chars().find(|&c| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    })
}

fn assert_clean(what: &str, out: &std::process::Output) {
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let t = text(bytes);
        if let Some(c) = raw_hostile(&t) {
            panic!("{what}: {stream} carries U+{:04X} raw:\n{t:?}", u32::from(c));
        }
    }
}

async fn add_app_only(cli: &Cli, name: &str, mailbox: &str, app: &str) {
    let out = cli
        .run(
            &[
                "add",
                name,
                "--username",
                mailbox,
                "--auth",
                "oauth2-app",
                "--client-id",
                CLIENT,
                "--tenant",
                TENANT,
                "--app",
                app,
                "--secret-stdin",
                "--no-check",
            ],
            Some(&format!("{SECRET}\n")),
        )
        .await;
    assert!(out.status.success(), "add: {}", text(&out.stderr));
}

/// A token file for `server` as a token fetch would leave it, naming `principal`.
fn write_token(cli: &Cli, server: &str, principal: &str, blocker: Option<Blocker>) {
    let store = cli.store();
    let config = store.load().unwrap();
    let srv = config.server(server).unwrap().clone();
    let now = Timestamp::now();
    let mut file = TokenFile::for_server(&srv);
    file.tokens = Some(TokenSet {
        access_token: Secret::new("at"),
        refresh_token: None,
        issued_at: now,
        // A blocked server's token has run out (a live one would still be served).
        expires_at: now + SignedDuration::from_mins(if blocker.is_some() { -1 } else { 60 }),
        refreshed_at: now,
        consented_at: now,
        scope: "https://outlook.office365.com/.default".into(),
        account: None,
        flow: Flow::ClientCredentials,
        principal_id: Some(principal.into()),
    });
    file.blocker = blocker;
    store.write_tokens(&srv, &file).unwrap();
}

/// The bare words of a PowerShell line: what is left once its single-quoted strings (any of
/// the five quote characters opens and ends one; two in a row are one literal quote) are
/// taken out. A value that escaped its quotes shows up here.
fn powershell_bare_words(line: &str) -> Vec<String> {
    let quote = |c: char| matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}');
    let mut bare = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if !quote(c) {
            bare.push(c);
            continue;
        }
        loop {
            match chars.next() {
                Some(q) if quote(q) => {
                    if chars.peek().is_some_and(|n| quote(*n)) {
                        chars.next();
                    } else {
                        break;
                    }
                }
                Some(_) => {}
                None => panic!("unterminated string in {line}"),
            }
        }
        bare.push_str(" 'str' ");
    }
    bare.split_whitespace().map(str::to_string).collect()
}

#[tokio::test]
async fn a_hostile_object_id_never_reaches_a_powershell_line() {
    let cli = Cli::new();
    add_app_only(&cli, "Support", "support@contoso.com", "Mail").await;
    write_token(&cli, "Support", HOSTILE_OID, None);
    for json in [false, true] {
        let mut args = vec!["exchange-setup", "Support"];
        if json {
            args.push("--json");
        }
        let out = cli.run(&args, None).await;
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(!out.status.success(), "{args:?} printed:\n{stdout}");
        assert!(
            !stdout.contains("Remove-Mailbox") && !stderr.contains("Remove-Mailbox"),
            "{stdout}{stderr}"
        );
        assert!(stderr.contains("not a GUID"), "{stderr}");
    }
}

#[tokio::test]
async fn typographic_quotes_in_names_stay_inside_their_powershell_strings() {
    let cli = Cli::new();
    let app = "O\u{2019}Brien\u{2018}s mail \u{201a}\u{201b}'";
    add_app_only(&cli, "Support", "o'brien@contoso.com", app).await;
    write_token(&cli, "Support", OID, None);
    let out = cli.run(&["exchange-setup", "Support"], None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = text(&out.stdout);
    assert!(lines.contains("New-ServicePrincipal"), "{lines}");
    // Each line, its strings taken out, is exactly the cmdlet with its parameters.
    let shapes = [
        "Install-Module -Name ExchangeOnlineManagement",
        "Connect-ExchangeOnline -Organization 'str'",
        "New-ServicePrincipal -AppId 'str' -ObjectId 'str' -DisplayName 'str'",
        "Add-MailboxPermission -Identity 'str' -User 'str' -AccessRights FullAccess",
    ];
    for line in lines.lines() {
        let words = powershell_bare_words(line).join(" ");
        assert!(
            shapes.contains(&words.as_str()),
            "a value left its quotes: {line}\n→ {words}"
        );
    }
    // A typographic quote in a mailbox is not an RFC 5321 address: refused at the source.
    let out = cli
        .run(
            &[
                "add",
                "Other",
                "--username",
                "o\u{2019}brien@contoso.com",
                "--auth",
                "oauth2-app",
                "--app",
                "Mail2",
                "--client-id",
                CLIENT,
                "--tenant",
                TENANT,
                "--secret-stdin",
                "--no-check",
            ],
            Some(&format!("{SECRET}\n")),
        )
        .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("RFC 5321"), "{}", text(&out.stderr));
}

/// A PATH with an `az` that fails at once: a script stops at its first Azure call, so
/// anything it runs before that came from its own first lines.
fn failing_az(dir: &Path) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let az = bin.join("az");
    std::fs::write(&az, "#!/bin/sh\nexit 1\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
    format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default())
}

#[tokio::test]
async fn a_public_url_cannot_inject_into_the_setup_script() {
    let cli = Cli::new();
    let marker = cli.dir.path().join("injected");
    let path = failing_az(cli.dir.path());
    let urls = [
        format!("https://x.example/';touch {};'", marker.display()),
        format!("https://x.example/$(touch {})", marker.display()),
        format!("https://x.example/\u{2019};touch {};\u{2018}", marker.display()),
        "https://x.example/\u{1b}[2J".to_string(),
        "https://x.example/\u{202E}moc.elpmaxe".to_string(),
    ];
    for url in &urls {
        for shell in ["bash", "pwsh"] {
            let out = cli
                .run(&["setup-script", "--shell", shell, "--public-url", url], None)
                .await;
            assert_clean("setup-script", &out);
            let script = text(&out.stdout);
            if shell == "bash" && !script.is_empty() {
                let file = cli.dir.path().join("setup.sh");
                std::fs::write(&file, &script).unwrap();
                let _ = tokio::process::Command::new("bash")
                    .arg(&file)
                    .env("PATH", &path)
                    .output()
                    .await
                    .unwrap();
                assert!(
                    !marker.exists(),
                    "running the script for {url:?} ran the injected command:\n{script}"
                );
            }
            // `$(…)` is harmless inside single quotes; quotes, escapes and bidi are refused.
            if !url.contains("$(") {
                assert_eq!(out.status.code(), Some(2), "{url:?} was accepted:\n{script}");
                assert!(
                    text(&out.stderr).contains("--public-url"),
                    "{}",
                    text(&out.stderr)
                );
            }
        }
    }
}

/// A store written by hand: every shown value carries escapes, C1 and bidi characters.
fn hostile_store(cli: &Cli) -> String {
    let name = format!("Sup{HOSTILE_TEXT}");
    let config = serde_json::json!({
        "schema": 1,
        "settings": { "public_url": format!("https://x.example/{HOSTILE_TEXT}") },
        "apps": [{
            "name": format!("App{HOSTILE_TEXT}"),
            "client_id": CLIENT,
            "tenant": format!("contoso{HOSTILE_TEXT}.com"),
            "secret": SECRET,
            "authority": "https://login.microsoftonline.com"
        }],
        "servers": [{
            "id": "3fb1cd37bfc333480de4fc9125efc38b",
            "name": name,
            "server_type": "IMAP",
            "auth": "oauth2_app",
            "host": format!("imap{HOSTILE_TEXT}.example"),
            "port": 993,
            "ssl": true,
            "username": format!("u{HOSTILE_TEXT}@contoso.com"),
            "app": format!("App{HOSTILE_TEXT}"),
            "ca_file": format!("/tmp/ca{HOSTILE_TEXT}.pem"),
            "state": "Draft"
        }]
    });
    let dir = cli.config_dir();
    std::fs::create_dir_all(&dir).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let file = dir.join("config.json");
    std::fs::write(&file, serde_json::to_string_pretty(&config).unwrap()).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    name
}

#[tokio::test]
async fn values_of_a_hand_edited_store_reach_no_terminal_raw() {
    let cli = Cli::new();
    let name = hostile_store(&cli);
    let n = name.as_str();
    let commands: Vec<Vec<&str>> = vec![
        vec!["list"],
        vec!["list", "--json"],
        vec!["show", n],
        vec!["show", n, "--json"],
        vec!["apps"],
        vec!["apps", "--json"],
        vec!["check"],
        vec!["check", "--json"],
        vec!["check", n],
        vec!["settings"],
        vec!["settings", "--json"],
        vec!["exchange-setup", n],
        vec!["exchange-setup", n, "--json"],
        vec!["doctor", n, "--timeout", "1"],
        vec!["doctor", n, "--json", "--timeout", "1"],
        vec!["token", n],
    ];
    for args in commands {
        let out = cli.run(&args, None).await;
        assert_clean(&format!("{args:?}"), &out);
        if args.contains(&"--json") && out.status.success() {
            // Still JSON, with the same values (escaped, not changed).
            let v: serde_json::Value = serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", text(&out.stdout)));
            assert!(
                v.to_string().contains('\u{202E}') || args[0] == "settings" || args[0] == "check",
                "{args:?}: {v}"
            );
        }
    }
}

/// `add NAME` for support@contoso.com with the test app's values, not checked with Microsoft.
async fn add_unchecked(cli: &Cli, name: &str) -> std::process::Output {
    let args = [
        "add",
        name,
        "--username",
        "support@contoso.com",
        "--client-id",
        CLIENT,
        "--tenant",
        TENANT,
        "--secret-stdin",
        "--no-check",
    ];
    cli.run(&args, Some(&format!("{SECRET}\n"))).await
}

#[tokio::test]
async fn refused_values_are_echoed_clean_and_cut() {
    let cli = Cli::new();
    let long = "x".repeat(9 * 1024);
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--client-id".into(), long.clone()], "--client-id"),
        (
            vec!["--client-id".into(), format!("{HOSTILE_TEXT}")],
            "--client-id",
        ),
        (
            vec!["--tenant".into(), format!("contoso{HOSTILE_TEXT}.com")],
            "--tenant",
        ),
        (vec!["--host".into(), format!("imap{HOSTILE_TEXT}")], "--host"),
        (
            vec![
                "--authority".into(),
                format!("https://login.example/{HOSTILE_TEXT}"),
            ],
            "--authority",
        ),
        (
            vec!["--ca-file".into(), format!("/tmp/{HOSTILE_TEXT}")],
            "--ca-file",
        ),
        (
            vec!["--sign-in-as".into(), "a\u{202E}b@contoso.com".into()],
            "--sign-in-as",
        ),
        (vec!["--app".into(), "Mail\u{2067}x".into()], ""),
    ];
    for (extra, flag) in cases {
        let mut args: Vec<&str> = vec![
            "add",
            "Support",
            "--username",
            "support@contoso.com",
            "--secret-stdin",
            "--no-check",
        ];
        for (option, default) in [("--client-id", CLIENT), ("--tenant", TENANT)] {
            if !extra.iter().any(|a| a == option) {
                args.extend([option, default]);
            }
        }
        args.extend(extra.iter().map(String::as_str));
        let out = cli.run(&args, Some(&format!("{SECRET}\n"))).await;
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?} accepted: {err}");
        assert_clean(&format!("{flag} {:?}", extra.get(1)), &out);
        assert!(err.len() < 2048, "{flag}: {} bytes of error", err.len());
        assert!(!err.contains(&long[..100]), "the long value was echoed whole");
    }
    // Bidi characters in names are refused, not stored.
    for name in [
        "Sup\u{202E}port",
        "Sup\u{2066}port",
        "Sup\u{200f}port",
        "Sup\u{61c}port",
    ] {
        let out = add_unchecked(&cli, name).await;
        assert_eq!(out.status.code(), Some(2), "{name:?}: {}", text(&out.stderr));
        assert_clean("add with a bidi name", &out);
    }
    // A stored server cannot be renamed to one, nor get such a mailbox.
    let out = add_unchecked(&cli, "Support").await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    for extra in [
        ["--rename", "Sup\u{202E}port"],
        ["--username", "a\u{202E}b@contoso.com"],
        ["--rename", "Sup\u{1b}[2Jport"],
    ] {
        let mut args = vec!["edit", "Support"];
        args.extend(extra);
        let out = cli.run(&args, None).await;
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", text(&out.stderr));
        assert_clean("edit", &out);
    }
    for args in [
        vec![
            "settings".to_string(),
            "--public-url".into(),
            format!("https://x.example/{HOSTILE_TEXT}"),
        ],
        vec![
            "settings".to_string(),
            "--public-url".into(),
            "https://x.example/';touch x;'".into(),
        ],
        vec![
            "edit".to_string(),
            "--app".into(),
            "Support".into(),
            "--authority".into(),
            format!("https://login.example/{HOSTILE_TEXT}"),
        ],
        vec![
            "edit".to_string(),
            "--app".into(),
            "Support".into(),
            "--tenant".into(),
            format!("x{HOSTILE_TEXT}{long}"),
        ],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = cli.run(&args, None).await;
        assert_eq!(
            out.status.code(),
            Some(2),
            "{:?}: {}",
            &args[..2],
            text(&out.stderr)
        );
        assert_clean("settings/edit --app", &out);
        assert!(out.stderr.len() < 2048, "{}", text(&out.stderr));
    }
    // An unknown name, and what the argument parser quotes back.
    let out = cli.run(&["show", &format!("no{HOSTILE_TEXT}{long}")], None).await;
    assert_eq!(out.status.code(), Some(3));
    assert_clean("show of an unknown name", &out);
    assert!(text(&out.stderr).len() < 1024, "{}", text(&out.stderr));
    let out = cli.run(&["list", &format!("--{HOSTILE_TEXT}")], None).await;
    assert_eq!(out.status.code(), Some(2));
    assert_clean("an unknown option", &out);
}

fn setup_code() -> String {
    let json = format!(
        r#"{{"tenant":"{TENANT}","client_id":"{CLIENT}","secret":"{SECRET}","secret_expires":"{}","redirect_uri":"http://localhost/microsoft_outlook/confirm","public_client":false,"admin_consent":true}}"#,
        jiff::Zoned::now()
            .date()
            .checked_add(jiff::Span::new().months(3))
            .unwrap()
    );
    use base64::Engine as _;
    let p = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
    format!("inbound-setup:1:{p}:{}", inbound::ops::setup::code::checksum(&p))
}

#[tokio::test]
async fn a_setup_code_given_in_place_of_a_path_or_value_is_never_echoed() {
    let cli = Cli::new();
    let code = setup_code();
    let payload = code.split(':').nth(2).unwrap().to_string();
    let base = ["add", "Support", "--username", "support@contoso.com"];
    let cases: Vec<Vec<&str>> = vec![
        vec!["--setup-code", &code],
        vec![
            "--client-id",
            &code,
            "--tenant",
            TENANT,
            "--secret-stdin",
            "--no-check",
        ],
        vec![
            "--client-id",
            CLIENT,
            "--tenant",
            TENANT,
            "--secret-file",
            &code,
            "--no-check",
        ],
        vec![
            "--client-id",
            CLIENT,
            "--tenant",
            &code,
            "--secret-stdin",
            "--no-check",
        ],
        // Only the payload (the prefix lost in copying) still holds the secret.
        vec!["--setup-code", &payload],
    ];
    for extra in cases {
        let mut args = base.to_vec();
        args.extend_from_slice(&extra);
        let out = cli.run(&args, Some(&format!("{SECRET}\n"))).await;
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {err}", extra[0]);
        for shown in [&out.stdout, &out.stderr] {
            let t = text(shown);
            assert!(
                !t.contains(&payload[..24]) && !t.contains(SECRET),
                "{}: the code was echoed: {t}",
                extra[0]
            );
        }
        assert!(
            err.contains("--setup-code -"),
            "{}: no way to pass it: {err}",
            extra[0]
        );
    }
    // The code itself on standard input works (and is not echoed either).
    let out = cli
        .run(
            &[
                "add",
                "Support",
                "--username",
                "support@contoso.com",
                "--setup-code",
                "-",
                "--replication-wait",
                "0",
                "--no-check",
            ],
            Some(&format!("{code}\n")),
        )
        .await;
    assert!(!text(&out.stderr).contains(&payload[..24]));
}

#[tokio::test]
async fn a_setup_codes_hostile_fields_are_refused_clean() {
    let cli = Cli::new();
    let long = "x".repeat(9 * 1024);
    for (tenant, client) in [
        (format!("contoso{HOSTILE_TEXT}.com"), CLIENT.to_string()),
        (TENANT.to_string(), format!("{long}{HOSTILE_TEXT}")),
    ] {
        let json = serde_json::json!({
            "tenant": tenant, "client_id": client, "secret": SECRET,
            "secret_expires": jiff::Zoned::now().date().checked_add(jiff::Span::new().months(3)).unwrap().to_string(),
            "redirect_uri": format!("https://x.example/{HOSTILE_TEXT}/microsoft_outlook/confirm"),
            "public_client": false, "admin_consent": true,
        });
        use base64::Engine as _;
        let p = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json.to_string());
        let code = format!("inbound-setup:1:{p}:{}", inbound::ops::setup::code::checksum(&p));
        let out = cli
            .run(
                &[
                    "add",
                    "Support",
                    "--username",
                    "support@contoso.com",
                    "--setup-code",
                    "-",
                ],
                Some(&code),
            )
            .await;
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert_clean("a hostile setup code", &out);
        assert!(out.stderr.len() < 2048, "{}", text(&out.stderr));
    }
}

#[tokio::test]
async fn a_code_over_16_kib_is_too_long() {
    let cli = Cli::new();
    let big = format!("{}{}", setup_code(), "A".repeat(17 * 1024));
    let out = cli
        .run(
            &[
                "add",
                "Support",
                "--username",
                "support@contoso.com",
                "--setup-code",
                "-",
            ],
            Some(&big),
        )
        .await;
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("too long"), "{err}");
    assert!(!err.contains("not a setup code"), "{err}");
}

#[tokio::test]
async fn hints_name_the_app_and_quote_names_for_the_shell() {
    let cli = Cli::new();
    let server = "Sales $(touch x) \"q\"";
    add_app_only(&cli, server, "sales@contoso.com", "Contoso mail").await;
    write_token(&cli, server, OID, Some(Blocker::BadClient));
    let out = cli.run(&["token", server], None).await;
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(!err.contains("--app APP"), "{err}");
    assert!(err.contains("--app \"Contoso mail\""), "{err}");
    let out = cli.run(&["edit", server, "--client-id", CLIENT], None).await;
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--app \"Contoso mail\""), "{err}");
    let out = cli.run(&["check", server], None).await;
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        !all.contains("\"Sales $(touch"),
        "a name with $( in double quotes: {all}"
    );
}
