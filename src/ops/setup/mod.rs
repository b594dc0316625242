//! Setting up the Azure side from Azure Cloud Shell: `inbound setup-script` prints a script
//! (bash with the Azure CLI, or PowerShell with the Microsoft Graph module) that registers the
//! app and ends by printing one **setup code** line, which `inbound add --setup-code` imports.
//!
//! Both scripts are rendered from one list of [`Step`]s, so they cannot drift apart.

mod bash;
pub mod code;
mod pwsh;
mod steps;

pub use code::{SetupCode, SetupCodeError};
pub use steps::{PUBLIC_CLIENT_REDIRECT, ScriptOptions, ScriptRequest, Shell, Step, steps};

/// The script for `options` in its shell.
pub fn render(options: &ScriptOptions) -> String {
    let steps = steps(options);
    match options.shell {
        Shell::Bash => bash::render(options, &steps),
        Shell::Pwsh => pwsh::render(options, &steps),
    }
}

/// Adds a server whose app comes from a setup code, through the one add path
/// ([`crate::ops::servers::add_server`]). `server` carries the name, mailbox and IMAP
/// settings; `app_name` names the new app (default: the server's name).
pub fn add_from_code(
    store: &crate::store::Store,
    server: crate::ops::servers::ServerInput,
    code: &SetupCode,
    app_name: Option<String>,
    authority: Option<String>,
) -> crate::ops::Result<crate::model::Server> {
    let input = code.server_input(server, app_name, authority)?;
    let added = crate::ops::servers::add_server(store, &input)?;
    // The script granted admin consent for the tenant: the app records it, as a browser's
    // admin consent would, unless an earlier grant is already recorded.
    if code.admin_consent
        && let Some(app) = store.load()?.app_of(&added)
        && app.admin_consent_at.is_none()
    {
        crate::ops::admin_consent::record(store, &app.name, jiff::Timestamp::now())?;
    }
    Ok(added)
}
