//! Running each command against the core.

use super::output::{self, ServerView};
use super::{
    AddArgs, AuthArg, CheckArgs, Cli, Command, ConnectArgs, DoctorArgs, EditArgs, RefreshArgs, RemoveArgs,
    SettingsArgs, TestArgs, TokenArgs, TokenFormat, exit,
};
use crate::model::AuthKind;
use crate::model::health::{self, Level};
use crate::model::quote::arg;
use crate::model::validate::Field;
use crate::ops::consent::{self, ConsentOptions};
use crate::ops::servers::{self, AppChoice, AppInput, AppPatch, ServerInput, ServerPatch};
use crate::ops::snapshot::Snapshot;
use crate::ops::tokens::{Policy, fresh_token};
use crate::ops::{self as core_ops, Error};
use crate::secret::Secret;
use crate::services::browser::Situation;
use crate::services::imap::{ProbeEvent, Timeouts};
use crate::store::{Store, StoreError};
use futures_util::StreamExt;
use jiff::Timestamp;
use std::io::Write;
use std::path::Path;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Runs a CLI command; returns the process exit code.
pub async fn run(cli: Cli, command: Command) -> u8 {
    // The demo never opens the user's own store.
    let command = match command {
        Command::Demo(a) => return crate::demo::run(a).await,
        // Generated from the clap definitions; no store needed.
        Command::Completions(a) => return super::docs::completions(a.shell),
        Command::Man => return super::docs::man(),
        // Prints a script; the store is not needed.
        Command::SetupScript(a) => return super::setup::script(&a),
        other => other,
    };
    // A write that would exceed RLIMIT_FSIZE must fail with EFBIG (and leave no temp file),
    // not kill the process by SIGXFSZ mid-write.
    let _xfsz = crate::services::signals::ignore_file_size_limit();
    // Only a command that may make the first record creates a store; every other one needs
    // an existing store and never creates anything (a mistyped --config-dir is an error, not
    // a new empty store that reports OK).
    let opened = if creates_store(&command) {
        Store::open_deferred(cli.config_dir.clone(), cli.allow_other_owner)
    } else {
        Store::open_existing(cli.config_dir.clone(), cli.allow_other_owner)
    };
    let store = match opened {
        Ok(s) => s,
        Err(e) => {
            let monitoring = matches!(command, Command::Check(_) | Command::Doctor(_));
            if matches!(command, Command::Check(_)) {
                // Monitoring reads the first line of stdout.
                out!("UNKNOWN - {}", super::fix::store_message(&e));
            } else {
                say!("inbound: {}", super::fix::store_message(&e));
            }
            return if monitoring {
                Level::Unknown as u8
            } else if matches!(e, StoreError::NoStore { .. }) {
                exit::NOT_FOUND
            } else {
                exit::STORE
            };
        }
    };
    // Best effort: a log we cannot write is said once on stderr, never fatal. A read-only
    // store has no log, and says nothing about it (it is read-only on purpose).
    if store.is_writable()
        && let Some(w) = crate::logging::init(&store.log_dir()).warning()
    {
        say!("inbound: {w}");
    }
    let result = match command {
        Command::Add(a) => add(&store, a).await,
        Command::Edit(a) => edit(&store, a).await,
        Command::Doctor(a) => return doctor(&store, a).await,
        Command::List(a) => list(&store, a.json),
        Command::Apps(a) => apps(&store, a.json),
        Command::Show(a) => show(&store, &a.name, a.json),
        Command::Connect(a) => connect(&store, a).await,
        Command::Test(a) => test(&store, a).await,
        Command::Token(a) => token(&store, a).await,
        Command::Tunnel(a) => return super::tunnel::run(&store, a).await,
        Command::Proxy(a) => super::proxy::run(&store, a).await,
        Command::Refresh(a) => refresh(&store, a).await,
        Command::Check(a) => return check(&store, a).await,
        Command::Remove(a) => remove(&store, a),
        Command::ExchangeSetup(a) => super::exchange::exchange_setup(&store, &a.name, a.json),
        Command::Cert(c) => super::cert::run(&store, c).await,
        Command::Settings(a) => settings(&store, a),
        Command::Serve(a) => return super::serve::run(&store, a).await,
        Command::Import(a) => return super::import::run(&store, &a),
        Command::Demo(_) | Command::Completions(_) | Command::Man | Command::SetupScript(_) => {
            return exit::USAGE;
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            report(&e);
            code_for(&e)
        }
    }
}

/// True for the commands that may write the first record of a store (and so may create it).
fn creates_store(command: &Command) -> bool {
    match command {
        Command::Add(_) | Command::Cert(super::CertCommand::New(_)) => true,
        Command::Settings(a) => a.changes_something(),
        // --save may write the first settings; --print-unit only names the store's path.
        Command::Serve(a) => a.save || a.print_unit,
        _ => false,
    }
}

pub(super) fn report(e: &Error) {
    match e {
        // One line per field, each naming the flag that sets it.
        Error::Invalid(fields) => {
            for f in fields {
                match flag_for(f.field) {
                    Some(flag) => say!("inbound: {f} ({flag})"),
                    None => say!("inbound: {f}"),
                }
            }
        }
        _ => say!("inbound: {}", super::fix::message(e)),
    }
    for line in advice(e) {
        say!("  → {line}");
    }
    if matches!(e, Error::Preflight(_)) {
        say!("  (to save anyway, add --no-check)");
    }
    if matches!(e, Error::Unverified(_)) {
        say!("  (to save it unchecked, add --no-check)");
    }
}

/// What to do about an error: the hint in words, then the command line that fixes it.
fn advice(e: &Error) -> Vec<String> {
    super::fix::error_lines(e)
}

/// The command-line option that sets a field of the form (the TUI shows the field itself).
fn flag_for(field: Field) -> Option<&'static str> {
    Some(match field {
        Field::Name => "the NAME argument, or --rename",
        Field::Username => "--username",
        Field::Host => "--host",
        Field::Port => "--port",
        Field::Password => "--password-stdin",
        Field::CaFile => "--ca-file FILE",
        Field::ClientId => "--client-id GUID, --tenant and --secret-stdin, or --app NAME for a stored app",
        Field::AzureApp => "--app NAME",
        Field::AppName => "--app NAME",
        Field::Tenant => "--tenant",
        Field::Secret => "--secret-stdin or --secret-file FILE",
        Field::SecretExpires => "--secret-expires YYYY-MM-DD",
        Field::Authority => "--authority URL",
        Field::Certificate => "--certificate FILE or --months N",
        Field::PublicUrl => "--public-url URL",
        Field::ListenPort => "--listen-port N",
        Field::ListenAddress => "--listen-address ADDR",
        Field::Timeout => "--timeout SECS",
        Field::ProxyListen => "--proxy-listen ADDR:PORT",
        Field::ProxyTls => "--proxy-tls or --no-proxy-tls",
        Field::ProxyMaxConnections => "--proxy-max-connections N",
        Field::ServeProxy => "--proxy or --no-proxy",
        Field::Metrics => "--metrics ADDR:PORT or --no-metrics",
        Field::NotifyCommand => "--notify-command CMD or --no-notify-command",
        Field::NotifyUrl => "--notify-url URL or --no-notify-url",
        Field::TestEvery => "--test-every SECS",
        Field::SetupCode => "--setup-code - or FILE",
        Field::SignInAs => "--sign-in-as ADDR",
        Field::PublicClient => "--public-client, --app-only",
        Field::SecretMonths => "--secret-months",
        Field::Mailbox => "--mailbox ADDR (repeatable), --app-only",
        _ => return None,
    })
}

pub(super) fn code_for(e: &Error) -> u8 {
    match e {
        Error::Invalid(_)
        | Error::Exists { .. }
        | Error::AppInUse { .. }
        | Error::NotOAuth { .. }
        | Error::Preflight(_)
        | Error::ProxyPasswordSet { .. }
        | Error::AppOnly { .. } => exit::USAGE,
        Error::NoCertificate { why, .. } if *why != crate::ops::CertMissing::FileMissing => exit::USAGE,
        Error::NotFound { .. } | Error::Store(StoreError::NoStore { .. }) => exit::NOT_FOUND,
        Error::Store(StoreError::Io { .. }) | Error::Io(_) => exit::FAILED,
        Error::Store(_) | Error::PassedUnsaved { read_only: true, .. } => exit::STORE,
        Error::Blocked { .. } | Error::NotSignedIn { .. } | Error::NeedsAdminConsent(_) => exit::NEEDS_YOU,
        Error::OAuth { source, .. } if source.blocker().is_some() => exit::NEEDS_YOU,
        Error::Cancelled => exit::INTERRUPTED,
        _ => exit::FAILED,
    }
}

fn read_secret(stdin: bool, file: Option<&Path>, what: &str) -> Result<Option<Secret>, Error> {
    use crate::services::input::{self, Source};
    // Bounded: a secret is short, and `--secret-file /dev/zero` must not fill memory. A pipe
    // is fine (`--secret-file <(pass show …)` keeps it off the disk) but is waited on for a
    // bounded time only, and one with nothing writing to it is refused at once.
    const MAX: u64 = 64 * 1024;
    let source = if stdin {
        Source::Stdin
    } else if let Some(path) = file {
        crate::model::validate::not_a_setup_code(
            crate::model::validate::Field::Secret,
            &path.to_string_lossy(),
        )?;
        Source::Path(path)
    } else {
        return Ok(None);
    };
    let bytes = input::read_all(source, MAX, "a secret", input::PIPE_WAIT).map_err(|e| {
        Error::from(crate::model::validate::FieldError::new(
            crate::model::validate::Field::Secret,
            format!("reading the {what}: {e}"),
        ))
    })?;
    let s = String::from_utf8(bytes).map_err(|_| {
        Error::from(crate::model::validate::FieldError::new(
            crate::model::validate::Field::Secret,
            format!("the {what} read is not text"),
        ))
    })?;
    let text = s;
    let trimmed = text.trim_end_matches(['\r', '\n']).to_string();
    if trimmed.is_empty() {
        return Err(Error::from(crate::model::validate::FieldError::new(
            crate::model::validate::Field::Secret,
            format!("the {what} read was empty"),
        )));
    }
    Ok(Some(Secret::new(trimmed)))
}

fn auth_kind(a: AuthArg) -> AuthKind {
    match a {
        AuthArg::Oauth2 => AuthKind::OAuth2,
        AuthArg::Oauth2App => AuthKind::OAuth2App,
        AuthArg::Basic => AuthKind::Basic,
    }
}

async fn add(store: &Store, a: AddArgs) -> Result<u8, Error> {
    if a.setup_code.is_some() {
        return super::setup::add_with_code(store, a).await;
    }
    if let Some(other) = &a.like {
        let password = if a.password_stdin {
            read_secret(true, None, "password")?
        } else {
            None
        };
        let mut input = servers::like(&store.load()?, other, &a.name, &a.username)?;
        input.sign_in_as = a.sign_in_as.clone();
        input.password = password;
        // The app is stored and in use already: no pre-flight of its credentials.
        let server = servers::add_server(store, &input)?;
        say!("Added \"{}\" (Draft), like \"{other}\".", server.name);
        say!(
            "Next: inbound connect \"{}\", then inbound test \"{}\"",
            server.name,
            server.name
        );
        return Ok(exit::OK);
    }
    let auth = auth_kind(a.auth);
    let password = if a.password_stdin {
        read_secret(true, None, "password")?
    } else {
        None
    };
    let secret = read_secret(a.secret_stdin, a.secret_file.as_deref(), "client secret")?;
    let app = if auth == AuthKind::Basic {
        None
    } else if a.client_id.is_none() && a.tenant.is_none() && secret.is_none() && !a.public_client {
        a.app.clone().map(AppChoice::Existing)
    } else {
        Some(AppChoice::New(AppInput {
            name: a.app.clone(),
            client_id: a.client_id.clone().unwrap_or_default(),
            tenant: a.tenant.clone().unwrap_or_default(),
            secret,
            secret_expires: a.secret_expires.clone(),
            authority: a
                .authority
                .clone()
                .or_else(|| a.cloud.map(|c| c.authority().to_string())),
            public_client: a.public_client,
        }))
    };
    let host = a.host.clone().unwrap_or_else(|| {
        a.cloud
            .map_or(crate::model::DEFAULT_HOST, crate::model::Cloud::imap_host)
            .to_string()
    });
    let input = ServerInput {
        name: a.name,
        auth,
        host,
        port: a.port.to_string(),
        username: a.username,
        sign_in_as: a.sign_in_as,
        app,
        password,
        ca_file: a.ca_file,
    };
    // The same registration with a new secret renews the stored app (never dropped silently).
    let renewing = servers::renews(&input, &store.load()?);
    if !a.no_check
        && let Some(app) = crate::ops::preflight::app_for_input(store, &input)?
    {
        if renewing.is_some() {
            super::checks::preflight_replacing(&app, &Default::default()).await?;
        } else {
            let list = super::checks::preflight(&app, &Default::default()).await;
            if !list.passed() {
                return Err(Error::Preflight(Box::new(list)));
            }
        }
    }
    let server = servers::add_server(store, &input)?;
    let config = store.load()?;
    say!("Added \"{}\" (Draft).", server.name);
    if let Some((app, users)) = &renewing {
        say!("{}", renewal_note(app, users, &server.name, a.no_check));
    }
    if server.auth == AuthKind::OAuth2App {
        say!(
            "App-only: no sign-in. The app needs the application permission IMAP.AccessAsApp with admin consent, and Exchange needs its service principal and a mailbox permission:"
        );
        say!("  inbound exchange-setup {}", arg(&server.name));
        say!("Then test it: inbound test {}", arg(&server.name));
    } else if server.auth == AuthKind::OAuth2 {
        let public = config.app_of(&server).is_some_and(|a| a.public_client);
        if public {
            say!(
                "Public client (no secret stored): in the Azure portal add the platform Mobile and desktop applications with the custom redirect URI\n  {}\nand set Authentication → Allow public client flows = Yes. Do not register the same URI under Web too.",
                crate::model::registered_redirect_uri(&config.settings)
            );
        } else {
            say!(
                "Register this redirect URL under Authentication → Web in the Azure portal:\n  {}",
                crate::model::registered_redirect_uri(&config.settings)
            );
        }
        if let Some(d) = &server.sign_in_as {
            say!(
                "{}",
                crate::ops::consent::shared_mailbox_note(d, &server.username)
            );
        }
        say!(
            "Most tenants now need an admin to consent to IMAP once; if sign-in stops at \"Need admin approval\", an admin runs: inbound connect {} --admin-consent",
            arg(&server.name)
        );
        say!("Then sign in: inbound connect {}", arg(&server.name));
    } else {
        say!("Then test it: inbound test {}", arg(&server.name));
    }
    Ok(exit::OK)
}

async fn edit(store: &Store, a: EditArgs) -> Result<u8, Error> {
    let secret = read_secret(a.secret_stdin, a.secret_file.as_deref(), "client secret")?;
    let Some(name) = a.name else {
        let Some(app) = a.app else {
            return Err(Error::from(crate::model::validate::FieldError::new(
                crate::model::validate::Field::Target,
                "name a server (inbound edit NAME …) or an app (inbound edit --app APP …)",
            )));
        };
        let patch = AppPatch {
            client_id: a.client_id,
            tenant: a.tenant,
            secret,
            secret_expires: a.secret_expires,
            authority: a.authority.or_else(|| a.cloud.map(|c| c.authority().to_string())),
            public_client: a.public_client,
        };
        let proof = if a.no_check {
            crate::ops::credentials::Proof::Skip
        } else {
            crate::ops::credentials::Proof::Required
        };
        let rotated = patch.secret.is_some();
        let app = super::checks::replace_credentials(store, &app, &patch, proof).await?;
        say!("Updated Azure app \"{}\".", app.name);
        if rotated {
            say!("New secret saved; servers using it recover on their next refresh (inbound refresh --all).");
        }
        if a.public_client {
            say!(
                "Now a public client: its secret was deleted. In the portal register http://localhost/microsoft_outlook/confirm under Mobile and desktop applications (not Web) and set Allow public client flows = Yes; then sign in again (inbound connect NAME)."
            );
        }
        return Ok(exit::OK);
    };
    if a.client_id.is_some()
        || a.tenant.is_some()
        || a.public_client
        || secret.is_some()
        || a.authority.is_some()
        || a.secret_expires.is_some()
    {
        // Name the server's own app in the command when there is one.
        let app = store
            .load()
            .ok()
            .and_then(|c| c.server(&name).and_then(|s| s.app.clone()))
            .map_or_else(|| "APP".to_string(), |a| arg(&a));
        return Err(Error::from(crate::model::validate::FieldError::new(
            crate::model::validate::Field::Target,
            format!("app settings belong to the app: inbound edit --app {app} --secret-stdin …"),
        )));
    }
    let password = if a.password_stdin {
        read_secret(true, None, "password")?
    } else {
        None
    };
    let patch = ServerPatch {
        rename: a.rename,
        host: a.host.or_else(|| a.cloud.map(|c| c.imap_host().to_string())),
        port: a.port,
        username: a.username,
        sign_in_as: if a.no_sign_in_as {
            Some(None)
        } else {
            a.sign_in_as.map(Some)
        },
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
    say!("Updated \"{}\" ({}).", server.name, server.state.label());
    Ok(exit::OK)
}

/// The servers (all, or those `names` names) as `list`, `show` and `check` print them, read
/// through the core's snapshot (the TUI's read model) so health is judged as the app does.
fn views(store: &Store, names: Option<&[String]>) -> Result<Vec<ServerView>, Error> {
    views_of(store, store.load()?, names)
}

/// As [`views`], from a configuration the caller just read.
fn views_of(
    store: &Store,
    config: crate::model::Config,
    names: Option<&[String]>,
) -> Result<Vec<ServerView>, Error> {
    let snapshot = Snapshot::for_health(store, config)?;
    let now = Timestamp::now();
    Ok(picked(&snapshot.config, names)?
        .map(|s| ServerView::new(&snapshot, s, now))
        .collect())
}

/// The health of the servers (all, or those `names` names) as `check` reports it: the same
/// snapshot and judgement as [`views`], without the rest of each server's view.
fn healths_of(
    store: &Store,
    config: crate::model::Config,
    names: Option<&[String]>,
) -> Result<Vec<health::Health>, Error> {
    let snapshot = Snapshot::for_health(store, config)?;
    let now = Timestamp::now();
    Ok(picked(&snapshot.config, names)?
        .map(|s| snapshot.health(s, now))
        .collect())
}

/// The servers `names` names (all when `None`), in the store's order; an unknown name is an
/// error.
fn picked<'a>(
    config: &'a crate::model::Config,
    names: Option<&'a [String]>,
) -> Result<impl Iterator<Item = &'a crate::model::Server>, Error> {
    if let Some(names) = names
        && let Some(missing) = names.iter().find(|n| config.server(n).is_none())
    {
        return Err(Error::NotFound {
            kind: "server",
            name: missing.clone(),
        });
    }
    Ok(config
        .servers
        .iter()
        .filter(move |s| names.is_none_or(|n| n.contains(&s.name))))
}

fn apps(store: &Store, json: bool) -> Result<u8, Error> {
    let config = store.load()?;
    if json {
        let apps: Vec<output::AppRow> = config
            .apps
            .iter()
            .map(|a| output::AppRow::new(a, &config))
            .collect();
        out!("{}", output::pretty(&apps));
    } else if config.apps.is_empty() {
        out!("No Azure apps yet; inbound add creates one with the first OAuth2 server.");
    } else {
        let table = output::apps_table(&config);
        out!("{}", table.trim_end());
    }
    Ok(exit::OK)
}

fn list(store: &Store, json: bool) -> Result<u8, Error> {
    let views = views(store, None)?;
    let mut out = std::io::stdout().lock();
    if json {
        let _ = writeln!(out, "{}", output::pretty(&views));
    } else if views.is_empty() {
        let _ = writeln!(
            out,
            "No servers yet. Add one: inbound add NAME --username U --client-id C --tenant T --secret-stdin"
        );
    } else {
        let _ = write!(out, "{}", crate::sanitize::terminal(&output::table(&views)));
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
        let _ = writeln!(out, "{}", output::pretty(v));
    } else {
        let _ = write!(out, "{}", crate::sanitize::terminal(&output::details(v)));
    }
    Ok(exit::OK)
}

async fn connect(store: &Store, a: ConnectArgs) -> Result<u8, Error> {
    // Before the browser: tokens a read-only store cannot keep would be lost after sign-in.
    store.check_writable()?;
    let cancel = CancellationToken::new();
    let ctrl_c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            ctrl_c.cancel();
        }
    });
    // One reader of stdin for the whole command: pastes go to the admin consent, then to the
    // sign-in (a second reader could swallow a line the first one had started reading).
    let (tx, mut pastes) = tokio::sync::mpsc::channel(4);
    if !a.device_code {
        tokio::spawn(read_pastes(tx));
    }
    if a.admin_consent {
        admin_consent(store, &a, cancel.clone(), &mut pastes).await?;
    }
    let connected = if a.device_code {
        consent::device_sign_in(
            store,
            &a.name,
            &cancel,
            |auth| {
                if a.json {
                    out!(
                        "{}",
                        output::line(&output::DeviceCodeJson {
                            verification_uri: &auth.verification_uri,
                            user_code: &auth.user_code,
                            expires_in: auth.expires_in,
                            interval: auth.interval,
                        })
                    );
                    let _ = std::io::stdout().flush();
                    return;
                }
                out!("{}", auth.verification_uri);
                let _ = std::io::stdout().flush();
                say!("\n    Code: {}\n", auth.user_code);
                say!(
                    "Open {} on any device, enter the code, and sign in as the mailbox (for a shared mailbox: as its delegate).",
                    auth.verification_uri
                );
                say!(
                    "Waiting (the code expires in {}) …",
                    crate::timefmt::span(auth.expires_in.try_into().unwrap_or(i64::MAX))
                );
            },
            |ev| {
                if let crate::services::oauth::device::PollEvent::SlowDown { interval } = ev {
                    say!(
                        "Microsoft asked to poll more slowly (every {} s).",
                        interval.as_secs()
                    );
                }
            },
        )
        .await?
    } else {
        connect_with_listener(store, &a, cancel, pastes).await?
    };
    let mismatch = connected.mismatch.as_ref().map(super::fix::mismatch);
    if a.json {
        out!(
            "{}",
            output::line(&output::ConnectedJson {
                server: &connected.server,
                account: connected.tokens.account.as_deref(),
                access_token_expires_at: connected.tokens.expires_at.to_string(),
                mismatch: mismatch.as_deref(),
            })
        );
        return Ok(exit::OK);
    }
    if let Some(m) = &mismatch {
        say!("Warning: {m}");
    }
    out!("{}", connected.summary());
    say!("Next: inbound test {}", arg(&connected.server));
    Ok(exit::OK)
}

fn consent_options(a: &ConnectArgs) -> Result<ConsentOptions, Error> {
    let public_url = a
        .public_url
        .as_deref()
        .map(crate::model::validate::public_url)
        .transpose()?;
    Ok(ConsentOptions {
        public_url,
        listen_port: a.listen_port,
        bind: None,
        allow_fallback: a.any_port,
    })
}

/// Opens `url` in a browser unless told not to or there is none; says how to reach the
/// listener over SSH.
async fn offer_link(a: &ConnectArgs, url: &str, port: u16) {
    let situation = Situation::from_env();
    if !a.no_browser && !a.paste {
        match situation.no_browser_reason() {
            None => {
                // Off the runtime: opening waits a moment to see the browser fail, while the
                // listener must keep accepting.
                let url = url.to_string();
                let opened = tokio::task::spawn_blocking(move || crate::services::browser::open(&url))
                    .await
                    .unwrap_or_else(|e| Err(crate::services::browser::BrowserError::Launcher(e.to_string())));
                if let Err(e) = opened {
                    say!("{e}; open the link yourself.");
                }
            }
            Some(reason) => say!("{reason} Open the link on your own computer."),
        }
    }
    if situation.ssh {
        say!(
            "Keep a tunnel open from your computer so its browser reaches this listener:\n  {}",
            situation.tunnel_command(port)
        );
    }
}

/// `connect --admin-consent`: the admin grants IMAP for the organization through the v2 admin
/// consent page (its URL is a line of stdout, like the sign-in URL after it).
async fn admin_consent(
    store: &Store,
    a: &ConnectArgs,
    cancel: CancellationToken,
    pastes: &mut tokio::sync::mpsc::Receiver<String>,
) -> Result<(), Error> {
    let pending = consent::begin_admin_consent(store, &a.name, &consent_options(a)?).await?;
    let timeout = match a.timeout {
        Some(secs) => Duration::from_secs(secs),
        None => store.load()?.settings.consent_timeout(),
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", pending.url);
        let _ = out.flush();
    }
    let port = pending.port();
    say!(
        "Admin consent: sign in with an admin account (Cloud Application Administrator, Application Administrator or Privileged Role Administrator) with the link above and accept for the organization (short link: http://localhost:{port}/start)."
    );
    offer_link(a, &pending.url, port).await;
    say!("Or paste the address the browser ended on (\"can't be reached\" is fine) and press Enter.");
    say!("Waiting for the admin consent answer on port {port} …");
    let granted = pending
        .wait_any(store, timeout, cancel, Some(pastes), |msg| {
            say!("Pasted address not used: {msg}")
        })
        .await?;
    if let Some(w) = &granted.warning {
        say!("Warning: {w}");
    }
    say!(
        "Admin consent granted for the organization ({}; tenant reported: {}). Now the sign-in:",
        crate::timefmt::local(granted.at),
        if granted.reported_tenant.is_empty() {
            "none"
        } else {
            &granted.reported_tenant
        }
    );
    Ok(())
}

async fn connect_with_listener(
    store: &Store,
    a: &ConnectArgs,
    cancel: CancellationToken,
    pastes: tokio::sync::mpsc::Receiver<String>,
) -> Result<consent::Connected, Error> {
    let opts = consent_options(a)?;
    let consent = consent::begin(store, &a.name, &opts).await?;
    let timeout = match a.timeout {
        Some(secs) => Duration::from_secs(secs),
        None => store.load()?.settings.consent_timeout(),
    };
    {
        // The URL is a line of stdout (the first one unless --admin-consent printed its own),
        // flushed, so a script can read it at once.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", consent.auth_url);
        let _ = out.flush();
    }
    let port = consent.port();
    if consent.listener.fell_back() {
        let requested = a.listen_port.unwrap_or(crate::model::DEFAULT_LISTEN_PORT);
        say!(
            "Port {requested} is busy; listening on {port} instead (any port works with the registered URL)."
        );
    }
    say!(
        "Sign in as {} with the link above (short link: http://localhost:{port}/start).",
        consent.server.sign_in_account()
    );
    if let Some(d) = &consent.server.sign_in_as {
        say!("{}", consent::shared_mailbox_note(d, &consent.server.username));
    }
    offer_link(a, &consent.auth_url, port).await;
    say!("Or paste the address the browser ended on (\"can't be reached\" is fine) and press Enter.");
    say!("Waiting for Microsoft's answer on port {port} …");
    consent
        .wait_any(store, timeout, cancel, Some(pastes), |note| match note {
            consent::PasteNote::NotUsed(msg) => say!("Pasted address not used: {msg}"),
            consent::PasteNote::AdminConsentRecorded(g) => {
                say!(
                    "Admin consent recorded ({}; tenant reported: {}). Now sign in with the link above.",
                    crate::timefmt::local(g.at),
                    if g.reported_tenant.is_empty() {
                        "none"
                    } else {
                        &g.reported_tenant
                    }
                );
                if let Some(w) = &g.warning {
                    say!("Warning: {w}");
                }
            }
        })
        .await
}

/// Forwards what the user pastes on stdin, line by line and cumulatively (a URL wrapped by the
/// terminal arrives in pieces); an empty line starts over.
async fn read_pastes(tx: tokio::sync::mpsc::Sender<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt};
    // Bounded like every read: a few pasted addresses, never an endless line.
    const MAX_PASTE: u64 = 1 << 20;
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin().take(MAX_PASTE)).lines();
    let mut buffer = String::new();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.trim().is_empty() {
            buffer.clear();
            continue;
        }
        // A new address starts over (after the admin consent's, the sign-in's follows).
        let start = line.trim_start();
        if start.starts_with("http://") || start.starts_with("https://") {
            buffer.clear();
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
            say!(
                "  ✔ {:<13}{:<52}{:>6} ms   [{prefix}]",
                stage.label(),
                crate::textwidth::truncate(&detail, 50),
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
    let timeouts = match a.timeout {
        Some(secs) => {
            let d = Duration::from_secs(secs.clamp(1, 600));
            Timeouts {
                connect: d,
                tls: d,
                command: d,
                authenticate: d,
            }
        }
        None => Timeouts::default(),
    };
    // Said first: the tests run, but a read-only store keeps none of their results.
    if !names.is_empty() && !store.is_writable() {
        say!(
            "The store {} is read-only: the servers are tested, but no result can be recorded (none is marked Confirmed).",
            store.dir().display()
        );
    }
    let results = core_ops::test::test_servers(store, names, usize::from(a.jobs), timeouts, |name| {
        progress_printer(name, quiet)
    })
    .await?;
    let mut worst = exit::OK;
    let mut json = Vec::new();
    for (name, r) in &results {
        match r {
            Ok(report) => {
                if !a.json {
                    out!("✔ {name}: Confirmed · INBOX has {} messages", report.messages);
                }
                json.push(output::TestRow::Passed {
                    server: name.clone(),
                    ok: true,
                    state: crate::model::ServerState::Confirmed.label(),
                    messages: report.messages,
                });
            }
            Err(e) => {
                worst = worst.max(code_for(e));
                if !a.json {
                    // A pass that could not be recorded is no failure of the server.
                    let glyph = if matches!(e, Error::PassedUnsaved { .. }) {
                        "✔"
                    } else {
                        "✖"
                    };
                    out!("{glyph} {name}: {e}");
                    for line in advice(e) {
                        out!("  → {line}");
                    }
                }
                let stage = match e {
                    Error::Probe { source, .. } => Some(source.stage().label()),
                    _ => None,
                };
                json.push(output::TestRow::Failed {
                    server: name.clone(),
                    ok: false,
                    stage,
                    error: output::ErrorFields::new(e),
                });
            }
        }
    }
    if a.json {
        out!("{}", output::pretty(&json));
    }
    Ok(worst)
}

async fn token(store: &Store, a: TokenArgs) -> Result<u8, Error> {
    let fresh = fresh_token(store, &a.name, Policy::WhenDue, Timestamp::now).await?;
    if let Some(w) = &fresh.warning {
        say!("inbound: warning: {w}");
    }
    let token = fresh.tokens.access_token.expose();
    let text = match a.format {
        TokenFormat::Access => token.to_string(),
        TokenFormat::Xoauth2 => crate::services::xoauth2::encode(&fresh.username, token),
        TokenFormat::Json => output::line(&output::TokenJson {
            server: &a.name,
            username: &fresh.username,
            access_token: token,
            expires_at: fresh.tokens.expires_at.to_string(),
            xoauth2: crate::services::xoauth2::encode(&fresh.username, token),
        }),
    };
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{text}").and_then(|()| out.flush()).is_err() {
        // The reader went away: it did not get the token, so this did not succeed.
        return Ok(exit::FAILED);
    }
    Ok(exit::OK)
}

async fn refresh(store: &Store, a: RefreshArgs) -> Result<u8, Error> {
    let config = store.load()?;
    let names: Vec<String> = if a.all {
        config
            .servers
            .iter()
            .filter(|s| s.auth.is_oauth())
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
                    out!(
                        "✔ {name}: refreshed, valid until {}",
                        crate::timefmt::local(f.tokens.expires_at)
                    );
                }
                json.push(output::RefreshRow::Refreshed {
                    server: name.clone(),
                    ok: true,
                    expires_at: f.tokens.expires_at.to_string(),
                });
            }
            Ok(f) => {
                failed += 1;
                worst = worst.max(exit::FAILED);
                let w = f.warning.clone().unwrap_or_default();
                if !a.json {
                    out!("! {name}: {w}");
                }
                json.push(output::RefreshRow::Warning {
                    server: name.clone(),
                    ok: false,
                    error: w,
                });
            }
            Err(e) => {
                failed += 1;
                worst = worst.max(code_for(e));
                if !a.json {
                    out!("✖ {name}: {e}");
                    for line in advice(e) {
                        out!("  → {line}");
                    }
                }
                json.push(output::RefreshRow::Failed {
                    server: name.clone(),
                    ok: false,
                    error: output::ErrorFields::new(e),
                });
            }
        }
    }
    if a.json {
        out!("{}", output::pretty(&json));
    } else if a.all {
        out!("{ok} refreshed, {failed} failed");
    }
    Ok(worst)
}

async fn check(store: &Store, a: CheckArgs) -> u8 {
    let config = match store.load() {
        Ok(c) => c,
        Err(e) => {
            out!("UNKNOWN - store unreadable: {e}");
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
    // A test wrote its results: read them back.
    let config = if a.test { store.load() } else { Ok(config) };
    let healths = match config
        .map_err(Error::from)
        .and_then(|c| healths_of(store, c, names))
    {
        Ok(h) => h,
        Err(e) => {
            out!("UNKNOWN - {e}");
            return Level::Unknown as u8;
        }
    };
    let worst = healths.iter().map(|h| h.level).max().unwrap_or(Level::Ok);
    if a.json {
        let healths: Vec<&health::Health> = healths.iter().collect();
        out!(
            "{}",
            output::pretty(&output::CheckJson {
                status: worst,
                servers: healths
            })
        );
    } else {
        let count = |l: Level| healths.iter().filter(|h| h.level == l).count();
        let bad = healths.len() - count(Level::Ok);
        // Nagios/Icinga: text, then perfdata after "|".
        out!(
            "{} - {} server{}, {} need{} attention | ok={} warning={} critical={} unknown={}",
            worst.label(),
            healths.len(),
            if healths.len() == 1 { "" } else { "s" },
            bad,
            if bad == 1 { "s" } else { "" },
            count(Level::Ok),
            count(Level::Warning),
            count(Level::Critical),
            count(Level::Unknown)
        );
        for h in &healths {
            out!("{} {}: {}", h.level.label(), h.server, h.summary());
            for f in h.findings.iter().filter(|f| f.level >= Level::Warning) {
                out!("    {} → {}", f.message, super::fix::text(&f.fix));
            }
        }
    }
    worst as u8
}

async fn doctor(store: &Store, a: DoctorArgs) -> u8 {
    let timeouts = match a.timeout {
        Some(secs) => {
            let d = Duration::from_secs(secs.clamp(1, 600));
            Timeouts {
                connect: d,
                tls: d,
                command: d,
                authenticate: d,
            }
        }
        None => Timeouts::default(),
    };
    match core_ops::doctor::diagnose(store, &a.name, timeouts, |_| {}).await {
        Ok(report) => {
            if a.json {
                out!("{}", output::pretty(&report));
            } else {
                super::checks::print_report(&report);
            }
            report.level as u8
        }
        Err(e) => {
            report(&e);
            Level::Unknown as u8
        }
    }
}

fn remove(store: &Store, a: RemoveArgs) -> Result<u8, Error> {
    // The server is gone either way; a token file left behind is a failure to report.
    let mut code = exit::OK;
    if let Some(name) = a.name {
        let removed = servers::remove_server(store, &name)?;
        match &removed.tokens_left {
            None => say!("Removed \"{name}\" and its tokens."),
            Some((path, why)) => {
                code = exit::FAILED;
                say!(
                    "Removed \"{name}\", but its token file {} could not be deleted ({why}); delete it by hand (the next write to a writable store also removes it).",
                    path.display()
                );
            }
        }
        if let Some(app) = removed.unused_app.filter(|u| a.app.as_deref() != Some(u)) {
            say!(
                "Azure app \"{app}\" is used by no server now; it stays stored with its secret. Remove it: inbound remove --app \"{app}\""
            );
        }
    }
    if let Some(app) = a.app {
        servers::remove_app(store, &app)?;
        say!("Removed Azure app \"{app}\".");
    }
    Ok(code)
}

fn settings(store: &Store, a: SettingsArgs) -> Result<u8, Error> {
    use crate::ops::settings::{SettingsPatch, TIMEOUT_RANGE, update_settings};
    let public_url = a
        .public_url
        .as_deref()
        .map(crate::model::validate::public_url)
        .transpose()?;
    if let Some(t) = a.timeout
        && !TIMEOUT_RANGE.contains(&t)
    {
        return Err(Error::from(crate::model::validate::FieldError::new(
            crate::model::validate::Field::Timeout,
            format!(
                "give seconds from {} to {}",
                TIMEOUT_RANGE.start(),
                TIMEOUT_RANGE.end()
            ),
        )));
    }
    if !a.changes_something() {
        // Only shown: read without the write lock, so a read-only store shows its settings.
        let settings = store.load()?.settings;
        print_settings(&settings, a.json);
        return Ok(exit::OK);
    }
    let patch = SettingsPatch {
        listen_port: a.listen_port.map(Some),
        public_url: if a.no_public_url {
            Some(None)
        } else {
            public_url.map(Some)
        },
        listen_address: if a.no_public_url {
            Some(None)
        } else {
            a.listen_address.map(Some)
        },
        consent_timeout_secs: a.timeout.map(Some),
        proxy_listen: a.proxy_listen.map(Some),
        proxy_tls: if a.no_proxy_tls {
            Some(None)
        } else {
            a.proxy_tls.then_some(Some(true))
        },
        proxy_tls_listen: a.proxy_tls_listen.map(Some),
        proxy_max_connections: a.proxy_max_connections.map(Some),
        serve: a.serve_patch(),
    };
    let settings = update_settings(store, &patch)?;
    print_settings(&settings, a.json);
    Ok(exit::OK)
}

fn print_settings(settings: &crate::model::Settings, json: bool) {
    if json {
        out!("{}", output::pretty(settings));
    } else {
        let port = settings.listen_port.unwrap_or(crate::model::DEFAULT_LISTEN_PORT);
        out!("listen port     {port}");
        out!(
            "listen address  {}",
            settings
                .listen_address
                .map_or_else(|| "127.0.0.1 and ::1 (loopback)".to_string(), |a| a.to_string())
        );
        out!(
            "public URL      {}",
            settings.public_url.as_deref().unwrap_or("(none: local redirect)")
        );
        out!(
            "redirect URL    {}  (register under Authentication → Web)",
            crate::model::registered_redirect_uri(settings)
        );
        out!("sign-in waits   {} s", settings.consent_timeout().as_secs());
        out!(
            "proxy           {}{}, at most {} connections",
            settings.proxy_listen(),
            if settings.proxy_tls == Some(true) {
                format!(" (STARTTLS) and {} (TLS)", settings.proxy_tls_listen())
            } else {
                " (plain IMAP, loopback)".to_string()
            },
            settings.proxy_max_connections()
        );
        let serve = &settings.serve;
        out!(
            "serve           proxy {} · metrics {} · tests every {} s",
            if serve.proxy == Some(true) { "on" } else { "off" },
            serve.metrics.map_or_else(|| "off".to_string(), |a| a.to_string()),
            serve.test_every().as_secs()
        );
        out!(
            "serve notifies  {}",
            match (&serve.notify_command, &serve.notify_url) {
                (None, None) => "nobody (set --notify-command or --notify-url)".to_string(),
                (Some(c), None) => format!("command {c}"),
                (None, Some(u)) => format!("webhook {u}"),
                (Some(c), Some(u)) => format!("command {c} · webhook {u}"),
            }
        );
    }
}

/// "Renewed the secret of app X; Y and Z use it too." after an `add` that renewed a stored app.
pub(super) fn renewal_note(app: &str, users: &[String], added: &str, unchecked: bool) -> String {
    let others: Vec<String> = users
        .iter()
        .filter(|u| u.as_str() != added)
        .map(|u| format!("\"{u}\""))
        .collect();
    let mut text = format!(
        "This registration is stored as app \"{app}\": its secret and expiry were renewed with the ones given{}",
        if unchecked { " (unchecked: --no-check)" } else { "" }
    );
    if !others.is_empty() {
        text.push_str(&format!(
            "; also used by {}, which use the new secret from their next refresh",
            others.join(", ")
        ));
    }
    text.push('.');
    text
}
