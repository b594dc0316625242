//! `inbound setup-script` and `inbound add --setup-code`: parsing, printing, exit codes.

use super::report::{code_for, report};
use super::{AddArgs, SetupScriptArgs, ShellArg, exit};
use crate::model::AuthKind;
use crate::model::validate::Field;
use crate::ops::Error;
use crate::ops::servers::ServerInput;
use crate::ops::setup::{self, ScriptOptions, ScriptRequest, SetupCode, SetupCodeError, Shell};
use crate::secret::Secret;
use crate::store::Store;
use std::io::{BufRead, IsTerminal};

pub fn script(a: &SetupScriptArgs) -> u8 {
    let shell = match a.shell {
        ShellArg::Bash => Shell::Bash,
        ShellArg::Pwsh => Shell::Pwsh,
    };
    let request = ScriptRequest {
        app_name: a.app_name.clone(),
        secret_months: a.secret_months,
        public_client: a.public_client,
        public_url: a.public_url.clone(),
        app_only: a.app_only,
        mailboxes: a.mailboxes.clone(),
    };
    let options = match ScriptOptions::new(shell, &request) {
        Ok(o) => o,
        Err(fields) => {
            for f in fields {
                say!("inbound: {f} ({})", flag_of(f.field));
            }
            return exit::USAGE;
        }
    };
    out!("{}", setup::render(&options).trim_end());
    if std::io::stdout().is_terminal() {
        say!(
            "Paste this into Azure Cloud Shell ({}), or save it: inbound setup-script > inbound-setup.{}",
            if shell == Shell::Bash {
                "Bash"
            } else {
                "PowerShell"
            },
            if shell == Shell::Bash { "sh" } else { "ps1" }
        );
    }
    exit::OK
}

fn flag_of(field: Field) -> &'static str {
    match field {
        Field::AppName => "--app-name NAME",
        Field::SecretMonths => "--secret-months 1-24",
        Field::PublicClient => "--public-client",
        Field::PublicUrl => "--public-url URL",
        Field::Mailbox => "--mailbox ADDR",
        _ => "inbound setup-script --help",
    }
}

pub async fn add_with_code(store: &Store, a: AddArgs) -> Result<u8, Error> {
    let source = a.setup_code.clone().unwrap_or_default();
    let code = match read_code(&source) {
        Ok(code) => code,
        Err(e) => return Ok(refuse(&e)),
    };
    if a.auth == super::AuthArg::Basic {
        return Err(crate::model::validate::FieldError::new(
            crate::model::validate::Field::SetupCode,
            "a setup code is for OAuth2.0; drop --auth basic",
        )
        .into());
    }
    let authority = a
        .authority
        .clone()
        .or_else(|| a.cloud.map(|c| c.authority().to_string()));
    let host = a.host.clone().unwrap_or_else(|| {
        a.cloud
            .map_or(crate::model::DEFAULT_HOST, crate::model::Cloud::imap_host)
            .to_string()
    });
    let server = ServerInput {
        sign_in_as: a.sign_in_as.clone(),
        name: a.name,
        auth: AuthKind::OAuth2,
        host,
        port: a.port.to_string(),
        username: a.username,
        app: None,
        password: None,
        ca_file: a.ca_file,
    };
    let probe = ServerInput {
        app: Some(crate::ops::servers::AppChoice::New(
            code.app_input(a.app.clone(), authority.clone()),
        )),
        ..server.clone()
    };
    // A code for a stored registration is a renewal: its secret replaces the stored one.
    let renewing = crate::ops::servers::renews(&probe, &store.load()?);
    if !a.no_check {
        // The script made the app and secret moments ago: pre-flight waits out Microsoft's
        // replication lag (700016 / 7000215 for up to a minute) and says so.
        if let Some(app) = crate::ops::preflight::app_for_input(store, &probe)? {
            let opts = crate::ops::preflight::PreflightOptions::just_created_within(
                std::time::Duration::from_secs(a.replication_wait),
            );
            if renewing.is_some() {
                super::checks::preflight_replacing(&app, &opts).await?;
            } else {
                let list = super::checks::preflight(&app, &opts).await;
                if !list.passed() {
                    return Err(Error::Preflight(Box::new(list)));
                }
            }
        }
    }
    let added = match setup::add_from_code(store, server, &code, a.app.clone(), authority) {
        Ok(s) => s,
        Err(e) => {
            report(&e);
            return Ok(code_for(&e));
        }
    };
    let config = store.load()?;
    let app = config.app_of(&added);
    say!("Added \"{}\" (Draft) from the setup code.", added.name);
    if let Some((app, users)) = &renewing {
        say!(
            "  {}",
            super::report::renewal_note(app, users, &added.name, a.no_check)
        );
    }
    if let Some(app) = app {
        say!(
            "  app \"{}\" · client {} · tenant {}{}",
            app.name,
            app.short_client_id(),
            app.tenant,
            match app.secret_expires {
                Some(d) => format!(" · secret expires {d}"),
                None if code.public_client => " · public client (no secret)".to_string(),
                None => String::new(),
            }
        );
        if code.admin_consent {
            say!("  admin consent: granted for the tenant by the script");
        } else {
            say!(
                "  admin consent: not granted (the script was not run by an admin). Users of most tenants cannot consent to IMAP themselves; send an admin this link:\n    {}\n  then paste the address their browser ends on (admin_consent=True) into: inbound connect \"{}\" --admin-consent",
                app.admin_consent_link(&crate::model::registered_redirect_uri(&config.settings)),
                added.name
            );
        }
    }
    if let Some(advice) = code.redirect_advice(&config.settings) {
        say!("  redirect: {}", super::fix::redirect(&advice));
    }
    let name = crate::model::quote::arg(&added.name);
    if added.auth == AuthKind::OAuth2App {
        // No one signs in to an app-only server: `connect` refuses it.
        say!("Then test it (the script set up Exchange): inbound test {name}");
    } else {
        say!("Then sign in: inbound connect {name}");
    }
    Ok(exit::OK)
}

/// Says why a code was refused; the code itself is never shown.
fn refuse(e: &SetupCodeError) -> u8 {
    match e {
        // What --setup-code named could not be read (or was a code itself): about the
        // option, not the code's content.
        SetupCodeError::Invalid(fields) if fields.iter().all(|f| f.field == Field::SetupCode) => {
            for f in fields {
                // A code given as the option's value: say how the option takes one.
                if f.instead.is_empty() {
                    say!("inbound: {f} (--setup-code)");
                } else {
                    say!("inbound: {f} (--setup-code - to paste or pipe it, or --setup-code FILE)");
                }
            }
        }
        SetupCodeError::Invalid(fields) => {
            for f in fields {
                say!("inbound: setup code: {f}");
            }
            say!("  → run the setup script again (inbound setup-script) and copy its last line");
        }
        other => say!("inbound: {other} (--setup-code)"),
    }
    exit::USAGE
}

/// A code is a few hundred characters; the bound keeps `--setup-code /dev/zero` harmless.
const MAX_READ: u64 = 64 * 1024;

fn read_code(source: &std::path::Path) -> Result<SetupCode, SetupCodeError> {
    use crate::services::input::{self, Source};
    // The code itself where its file was expected: refused unseen, with how to pass it.
    crate::model::validate::not_a_setup_code(Field::SetupCode, &source.to_string_lossy())
        .map_err(|e| SetupCodeError::Invalid(vec![e]))?;
    let from = if source.as_os_str() == "-" {
        if std::io::stdin().is_terminal() {
            return read_from_terminal();
        }
        Source::Stdin
    } else {
        Source::Path(source)
    };
    // Bounded, and never waited on for good (a FIFO nobody writes to is refused at once).
    let bytes = input::read_all(from, MAX_READ, "a setup code", input::PIPE_WAIT).map_err(|e| {
        // An unreadable file is not damage; say which file and why.
        SetupCodeError::Invalid(vec![crate::model::validate::FieldError::new(
            crate::model::validate::Field::SetupCode,
            e.to_string(),
        )])
    })?;
    let text = String::from_utf8(bytes).map_err(|_| SetupCodeError::Damaged("the setup code is not text"))?;
    let text = Secret::new(text);
    SetupCode::parse(text.expose())
}

/// Reads a pasted code with echo off, line by line until it parses (a paste wrapped by the
/// terminal arrives as several lines) or an empty line ends it.
fn read_from_terminal() -> Result<SetupCode, SetupCodeError> {
    // Echo goes off before the prompt shows, so nothing typed after the prompt is echoed.
    let _echo = super::tty::EchoOff::new();
    say!("Paste the setup code and press Enter (it is not shown):");
    let mut text = Secret::new(String::new());
    let mut last = Err(SetupCodeError::Empty);
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            if text.is_empty() {
                continue;
            }
            break;
        }
        text = Secret::new(format!("{}{line}\n", text.expose()));
        last = SetupCode::parse(text.expose());
        match &last {
            Err(e) if e.may_continue() && (text.expose().len() as u64) < MAX_READ => {
                say!("(not complete yet: paste the rest, or press Enter to stop)");
            }
            _ => break,
        }
    }
    last
}
