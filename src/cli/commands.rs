//! Running each command against the core.

use super::output::{self, ServerView};
use super::{
    AddArgs, AuthArg, CheckArgs, Cli, Command, ConnectArgs, EditArgs, RefreshArgs, RemoveArgs, SettingsArgs,
    TestArgs, TokenArgs, TokenFormat, exit,
};
use crate::core::consent::{self, ConsentOptions};
use crate::core::servers::{self, AppChoice, AppInput, AppPatch, ServerInput, ServerPatch};
use crate::core::tokens::{Policy, fresh_token};
use crate::core::{self as core_ops, Error};
use crate::model::AuthKind;
use crate::model::health::{self, Level};
use crate::secret::Secret;
use crate::services::browser::Situation;
use crate::services::imap::{ProbeEvent, Timeouts};
use crate::store::{Store, StoreError};
use futures_util::StreamExt;
use jiff::Timestamp;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Runs a CLI command; returns the process exit code.
pub async fn run(cli: Cli, command: Command) -> u8 {
    let store = match Store::open(cli.config_dir.clone()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("inbound: {e}");
            return if matches!(command, Command::Check(_)) {
                Level::Unknown as u8
            } else {
                exit::STORE
            };
        }
    };
    let _log = crate::logging::init(&store.log_dir());
    let result = match command {
        Command::Add(a) => add(&store, a),
        Command::Edit(a) => edit(&store, a),
        Command::List(a) => list(&store, a.json),
        Command::Show(a) => show(&store, &a.name, a.json),
        Command::Connect(a) => connect(&store, a).await,
        Command::Test(a) => test(&store, a).await,
        Command::Token(a) => token(&store, a).await,
        Command::Refresh(a) => refresh(&store, a).await,
        Command::Check(a) => return check(&store, a).await,
        Command::Remove(a) => remove(&store, a),
        Command::Settings(a) => settings(&store, a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            report(&e);
            code_for(&e)
        }
    }
}

fn report(e: &Error) {
    eprintln!("inbound: {e}");
    if let Some(h) = e.hint() {
        eprintln!("  → {h}");
    }
}

fn code_for(e: &Error) -> u8 {
    match e {
        Error::Invalid(_) | Error::Exists { .. } | Error::AppInUse { .. } | Error::NotOAuth { .. } => {
            exit::USAGE
        }
        Error::NotFound { .. } => exit::NOT_FOUND,
        Error::Store(StoreError::Io { .. }) | Error::Io(_) => exit::FAILED,
        Error::Store(_) => exit::STORE,
        Error::Blocked { .. } | Error::NotSignedIn { .. } => exit::NEEDS_YOU,
        Error::OAuth { source, .. } if source.blocker().is_some() => exit::NEEDS_YOU,
        Error::Cancelled => exit::INTERRUPTED,
        _ => exit::FAILED,
    }
}

fn read_secret(stdin: bool, file: Option<&Path>, what: &str) -> Result<Option<Secret>, Error> {
    let text = if stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Error::Io(format!("reading the {what} from standard input: {e}")))?;
        s
    } else if let Some(path) = file {
        std::fs::read_to_string(path)
            .map_err(|e| Error::Io(format!("reading the {what} from {}: {e}", path.display())))?
    } else {
        return Ok(None);
    };
    let trimmed = text.trim_end_matches(['\r', '\n']).to_string();
    if trimmed.is_empty() {
        return Err(Error::Invalid(crate::model::validate::FieldError::new(
            "Secret",
            format!("the {what} read was empty"),
        )));
    }
    Ok(Some(Secret::new(trimmed)))
}

fn auth_kind(a: AuthArg) -> AuthKind {
    match a {
        AuthArg::Oauth2 => AuthKind::OAuth2,
        AuthArg::Basic => AuthKind::Basic,
    }
}

fn add(store: &Store, a: AddArgs) -> Result<u8, Error> {
    let auth = auth_kind(a.auth);
    let password = if a.password_stdin {
        read_secret(true, None, "password")?
    } else {
        None
    };
    let secret = read_secret(a.secret_stdin, a.secret_file.as_deref(), "client secret")?;
    let app = if auth == AuthKind::Basic {
        None
    } else if a.client_id.is_none() && a.tenant.is_none() && secret.is_none() {
        a.app.clone().map(AppChoice::Existing)
    } else {
        Some(AppChoice::New(AppInput {
            name: a.app.clone(),
            client_id: a.client_id.clone().unwrap_or_default(),
            tenant: a.tenant.clone().unwrap_or_default(),
            secret,
            secret_expires: a.secret_expires.clone(),
            authority: a.authority.clone(),
        }))
    };
    let input = ServerInput {
        name: a.name,
        auth,
        host: a.host,
        port: a.port.to_string(),
        username: a.username,
        app,
        password,
        ca_file: a.ca_file,
    };
    let server = servers::add_server(store, &input)?;
    let config = store.load()?;
    eprintln!("Added \"{}\" (Draft).", server.name);
    if server.auth == AuthKind::OAuth2 {
        eprintln!(
            "Register this redirect URL under Authentication → Web in the Azure portal:\n  {}",
            crate::model::registered_redirect_uri(&config.settings)
        );
        eprintln!("Then sign in: inbound connect \"{}\"", server.name);
    } else {
        eprintln!("Then test it: inbound test \"{}\"", server.name);
    }
    Ok(exit::OK)
}

fn edit(store: &Store, a: EditArgs) -> Result<u8, Error> {
    let secret = read_secret(a.secret_stdin, a.secret_file.as_deref(), "client secret")?;
    let Some(name) = a.name else {
        let Some(app) = a.app else {
            return Err(Error::Invalid(crate::model::validate::FieldError::new(
                "edit",
                "name a server (inbound edit NAME …) or an app (inbound edit --app APP …)",
            )));
        };
        let patch = AppPatch {
            client_id: a.client_id,
            tenant: a.tenant,
            secret,
            secret_expires: a.secret_expires,
            authority: a.authority,
        };
        let rotated = patch.secret.is_some();
        let app = servers::edit_app(store, &app, &patch)?;
        eprintln!("Updated Azure app \"{}\".", app.name);
        if rotated {
            eprintln!(
                "New secret saved; servers using it recover on their next refresh (inbound refresh --all)."
            );
        }
        return Ok(exit::OK);
    };
    if a.client_id.is_some()
        || a.tenant.is_some()
        || secret.is_some()
        || a.authority.is_some()
        || a.secret_expires.is_some()
    {
        return Err(Error::Invalid(crate::model::validate::FieldError::new(
            "edit",
            "app settings belong to the app: inbound edit --app APP --secret-stdin …",
        )));
    }
    let password = if a.password_stdin {
        read_secret(true, None, "password")?
    } else {
        None
    };
    let patch = ServerPatch {
        rename: a.rename,
        host: a.host,
        port: a.port,
        username: a.username,
        app: a.app,
        auth: a.auth.map(auth_kind),
        password,
        ca_file: if a.no_ca_file {
            Some(None)
        } else {
            a.ca_file.map(Some)
        },
    };
    let server = servers::edit_server(store, &name, &patch)?;
    eprintln!("Updated \"{}\" ({}).", server.name, server.state.label());
    Ok(exit::OK)
}

fn views(store: &Store, names: Option<&[String]>) -> Result<Vec<ServerView>, Error> {
    let config = store.load()?;
    let now = Timestamp::now();
    let mut out = Vec::new();
    for s in &config.servers {
        if names.is_some_and(|n| !n.contains(&s.name)) {
            continue;
        }
        let file = store.load_tokens(&s.name)?;
        let app = config.app_of(s);
        out.push(ServerView::new(s, app, file.as_ref(), &config.settings, now));
    }
    if let Some(names) = names
        && let Some(missing) = names.iter().find(|n| config.server(n).is_none())
    {
        return Err(Error::NotFound {
            kind: "server",
            name: missing.clone(),
        });
    }
    Ok(out)
}

fn list(store: &Store, json: bool) -> Result<u8, Error> {
    let views = views(store, None)?;
    let mut out = std::io::stdout().lock();
    if json {
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&views).unwrap_or_default()
        );
    } else if views.is_empty() {
        let _ = writeln!(
            out,
            "No servers yet. Add one: inbound add NAME --username U --client-id C --tenant T --secret-stdin"
        );
    } else {
        let _ = write!(out, "{}", output::table(&views));
    }
    Ok(exit::OK)
}

fn show(store: &Store, name: &str, json: bool) -> Result<u8, Error> {
    let views = views(store, Some(&[name.to_string()]))?;
    let Some(v) = views.first() else {
        return Err(Error::NotFound {
            kind: "server",
            name: name.into(),
        });
    };
    let mut out = std::io::stdout().lock();
    if json {
        let _ = writeln!(out, "{}", serde_json::to_string_pretty(v).unwrap_or_default());
    } else {
        let _ = write!(out, "{}", output::details(v));
    }
    Ok(exit::OK)
}

async fn connect(store: &Store, a: ConnectArgs) -> Result<u8, Error> {
    let cancel = CancellationToken::new();
    let ctrl_c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            ctrl_c.cancel();
        }
    });
    let connected = if a.device_code {
        consent::device_sign_in(
            store,
            &a.name,
            &cancel,
            |auth| {
                println!("{}", auth.verification_uri);
                let _ = std::io::stdout().flush();
                eprintln!("\n    Code: {}\n", auth.user_code);
                eprintln!(
                    "Open {} on any device, enter the code, and sign in as the mailbox.",
                    auth.verification_uri
                );
                eprintln!(
                    "Waiting (the code expires in {}) …",
                    crate::timefmt::span(auth.expires_in.try_into().unwrap_or(i64::MAX))
                );
            },
            |ev| {
                if let crate::services::oauth::device::PollEvent::SlowDown { interval } = ev {
                    eprintln!(
                        "Microsoft asked to poll more slowly (every {} s).",
                        interval.as_secs()
                    );
                }
            },
        )
        .await?
    } else {
        connect_with_listener(store, &a, cancel).await?
    };
    if let Some(m) = &connected.mismatch {
        eprintln!("Warning: {m}");
    }
    println!("{}", connected.summary());
    eprintln!("Next: inbound test \"{}\"", connected.server);
    Ok(exit::OK)
}

async fn connect_with_listener(
    store: &Store,
    a: &ConnectArgs,
    cancel: CancellationToken,
) -> Result<consent::Connected, Error> {
    let public_url = a
        .public_url
        .as_deref()
        .map(crate::model::validate::public_url)
        .transpose()?;
    let opts = ConsentOptions {
        public_url,
        listen_port: a.listen_port,
        bind: None,
    };
    let consent = consent::begin(store, &a.name, &opts).await?;
    {
        // The URL is the first line of stdout, flushed, so a script can read it at once.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", consent.auth_url);
        let _ = out.flush();
    }
    let port = consent.port();
    if consent.listener.fell_back() {
        let requested = a.listen_port.unwrap_or(crate::model::DEFAULT_LISTEN_PORT);
        eprintln!(
            "Port {requested} is busy; listening on {port} instead (any port works with the registered URL)."
        );
    }
    eprintln!(
        "Sign in as {} with the link above (short link: http://localhost:{port}/start).",
        consent.server.username
    );
    let situation = Situation::from_env();
    if !a.no_browser && !a.paste {
        match situation.no_browser_reason() {
            None => {
                if let Err(e) = crate::services::browser::open(&consent.auth_url) {
                    eprintln!("{e}; open the link yourself.");
                }
            }
            Some(reason) => eprintln!("{reason} Open the link on your own computer."),
        }
    }
    if situation.ssh {
        eprintln!(
            "Keep a tunnel open from your computer so its browser reaches this listener:\n  {}",
            situation.tunnel_command(port)
        );
    }
    eprintln!("Or paste the address the browser ended on (\"can't be reached\" is fine) and press Enter.");
    eprintln!("Waiting for Microsoft's answer on port {port} …");
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(read_pastes(tx));
    consent
        .wait_any(store, Duration::from_secs(a.timeout), cancel, Some(rx), |msg| {
            eprintln!("Pasted address not used: {msg}")
        })
        .await
}

/// Forwards what the user pastes on stdin, line by line and cumulatively (a URL wrapped by the
/// terminal arrives in pieces); an empty line starts over.
async fn read_pastes(tx: tokio::sync::mpsc::Sender<String>) {
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut buffer = String::new();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.trim().is_empty() {
            buffer.clear();
            continue;
        }
        buffer.push_str(&line);
        if tx.send(buffer.clone()).await.is_err() {
            break;
        }
    }
}

fn progress_printer(name: &str, quiet: bool) -> impl FnMut(ProbeEvent) + Send + use<> {
    let prefix = name.to_string();
    move |ev| {
        if quiet {
            return;
        }
        if let ProbeEvent::Passed {
            stage,
            detail,
            elapsed,
        } = ev
        {
            eprintln!(
                "  ✔ {:<13}{:<52}{:>6} ms   [{prefix}]",
                stage.label(),
                output::clip(&detail, 50),
                elapsed.as_millis()
            );
        }
    }
}

async fn test(store: &Store, a: TestArgs) -> Result<u8, Error> {
    let names: Vec<String> = if a.all {
        store.load()?.servers.iter().map(|s| s.name.clone()).collect()
    } else {
        a.name.into_iter().collect()
    };
    let quiet = a.json || names.len() > 1;
    let results =
        core_ops::test::test_servers(store, names, usize::from(a.jobs), Timeouts::default(), |name| {
            progress_printer(name, quiet)
        })
        .await?;
    let mut worst = exit::OK;
    let mut json = Vec::new();
    for (name, r) in &results {
        match r {
            Ok(report) => {
                if !a.json {
                    println!("✔ {name}: Confirmed · INBOX has {} messages", report.messages);
                }
                json.push(serde_json::json!({"server": name, "ok": true, "state": "Confirmed", "messages": report.messages}));
            }
            Err(e) => {
                worst = worst.max(code_for(e));
                if !a.json {
                    println!("✖ {name}: {e}");
                    if let Some(h) = e.hint() {
                        println!("  → {h}");
                    }
                }
                let stage = match e {
                    Error::Probe { source, .. } => Some(source.stage().label()),
                    _ => None,
                };
                json.push(serde_json::json!({"server": name, "ok": false, "stage": stage, "error": e.to_string(), "hint": e.hint()}));
            }
        }
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&json).unwrap_or_default());
    }
    Ok(worst)
}

async fn token(store: &Store, a: TokenArgs) -> Result<u8, Error> {
    let fresh = fresh_token(store, &a.name, Policy::WhenDue, Timestamp::now).await?;
    if let Some(w) = &fresh.warning {
        eprintln!("inbound: warning: {w}");
    }
    let token = fresh.tokens.access_token.expose();
    let text = match a.format {
        TokenFormat::Access => token.to_string(),
        TokenFormat::Xoauth2 => crate::services::xoauth2::encode(&fresh.username, token),
        TokenFormat::Json => serde_json::json!({
            "server": a.name,
            "username": fresh.username,
            "access_token": token,
            "expires_at": fresh.tokens.expires_at.to_string(),
            "xoauth2": crate::services::xoauth2::encode(&fresh.username, token),
        })
        .to_string(),
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
    Ok(exit::OK)
}

async fn refresh(store: &Store, a: RefreshArgs) -> Result<u8, Error> {
    let config = store.load()?;
    let names: Vec<String> = if a.all {
        config
            .servers
            .iter()
            .filter(|s| s.auth == AuthKind::OAuth2)
            .map(|s| s.name.clone())
            .collect()
    } else {
        a.name.into_iter().collect()
    };
    let mut results: Vec<(usize, String, Result<core_ops::tokens::Fresh, Error>)> =
        futures_util::stream::iter(names.into_iter().enumerate())
            .map(|(i, name)| async move {
                let r = fresh_token(store, &name, Policy::Force, Timestamp::now).await;
                (i, name, r)
            })
            // Unordered: a slow server must not hold back the start of the others.
            .buffer_unordered(usize::from(a.jobs))
            .collect()
            .await;
    results.sort_by_key(|(i, ..)| *i);
    let results: Vec<(String, Result<core_ops::tokens::Fresh, Error>)> =
        results.into_iter().map(|(_, n, r)| (n, r)).collect();
    let (mut ok, mut failed) = (0, 0);
    let mut worst = exit::OK;
    let mut json = Vec::new();
    for (name, r) in &results {
        match r {
            Ok(f) if f.warning.is_none() => {
                ok += 1;
                if !a.json {
                    println!(
                        "✔ {name}: refreshed, valid until {}",
                        crate::timefmt::local(f.tokens.expires_at)
                    );
                }
                json.push(serde_json::json!({"server": name, "ok": true, "expires_at": f.tokens.expires_at.to_string()}));
            }
            Ok(f) => {
                failed += 1;
                worst = worst.max(exit::FAILED);
                let w = f.warning.clone().unwrap_or_default();
                if !a.json {
                    println!("! {name}: {w}");
                }
                json.push(serde_json::json!({"server": name, "ok": false, "error": w}));
            }
            Err(e) => {
                failed += 1;
                worst = worst.max(code_for(e));
                if !a.json {
                    println!("✖ {name}: {e}");
                    if let Some(h) = e.hint() {
                        println!("  → {h}");
                    }
                }
                json.push(serde_json::json!({"server": name, "ok": false, "error": e.to_string(), "hint": e.hint()}));
            }
        }
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&json).unwrap_or_default());
    } else if a.all {
        println!("{ok} refreshed, {failed} failed");
    }
    Ok(worst)
}

async fn check(store: &Store, a: CheckArgs) -> u8 {
    let config = match store.load() {
        Ok(c) => c,
        Err(e) => {
            println!("UNKNOWN - store unreadable: {e}");
            return Level::Unknown as u8;
        }
    };
    if a.test {
        let names: Vec<String> = config
            .servers
            .iter()
            .filter(|s| a.names.is_empty() || a.names.contains(&s.name))
            .map(|s| s.name.clone())
            .collect();
        // Failures show in the health below (each server's last test); a store that cannot be
        // written shows there too.
        let _ =
            core_ops::test::test_servers(store, names, usize::from(a.jobs), Timeouts::default(), |_| |_| {})
                .await;
    }
    let names = if a.names.is_empty() {
        None
    } else {
        Some(a.names.as_slice())
    };
    let views = match views(store, names) {
        Ok(v) => v,
        Err(e) => {
            println!("UNKNOWN - {e}");
            return Level::Unknown as u8;
        }
    };
    let worst = views.iter().map(|v| v.health.level).max().unwrap_or(Level::Ok);
    if a.json {
        let healths: Vec<&health::Health> = views.iter().map(|v| &v.health).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"status": worst, "servers": healths}))
                .unwrap_or_default()
        );
    } else {
        let bad = views.iter().filter(|v| v.health.level != Level::Ok).count();
        println!(
            "{} - {} servers, {} need attention",
            worst.label(),
            views.len(),
            bad
        );
        for v in &views {
            let h = &v.health;
            println!("{} {}: {}", h.level.label(), h.server, h.summary());
            for f in h.findings.iter().filter(|f| f.level >= Level::Warning) {
                println!("    {} → {}", f.message, f.fix);
            }
        }
    }
    worst as u8
}

fn remove(store: &Store, a: RemoveArgs) -> Result<u8, Error> {
    if let Some(name) = a.name {
        servers::remove_server(store, &name)?;
        eprintln!("Removed \"{name}\" and its tokens.");
    }
    if let Some(app) = a.app {
        servers::remove_app(store, &app)?;
        eprintln!("Removed Azure app \"{app}\".");
    }
    Ok(exit::OK)
}

fn settings(store: &Store, a: SettingsArgs) -> Result<u8, Error> {
    let public_url = a
        .public_url
        .as_deref()
        .map(crate::model::validate::public_url)
        .transpose()?;
    let settings = store.update(|c| {
        if let Some(p) = a.listen_port {
            c.settings.listen_port = Some(p);
        }
        if let Some(u) = public_url {
            c.settings.public_url = Some(u);
        }
        if a.no_public_url {
            c.settings.public_url = None;
            c.settings.listen_address = None;
        }
        if let Some(addr) = a.listen_address {
            c.settings.listen_address = Some(addr);
        }
        Ok::<_, Error>(c.settings.clone())
    })?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&settings).unwrap_or_default());
    } else {
        let port = settings.listen_port.unwrap_or(crate::model::DEFAULT_LISTEN_PORT);
        println!("listen port     {port}");
        println!(
            "listen address  {}",
            settings
                .listen_address
                .map_or_else(|| "127.0.0.1 and ::1 (loopback)".to_string(), |a| a.to_string())
        );
        println!(
            "public URL      {}",
            settings.public_url.as_deref().unwrap_or("(none: local redirect)")
        );
        println!(
            "redirect URL    {}  (register under Authentication → Web)",
            crate::model::registered_redirect_uri(&settings)
        );
    }
    Ok(exit::OK)
}
