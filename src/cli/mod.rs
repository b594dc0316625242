//! The scriptable face: clap definitions and dispatch. Every command calls the same core as
//! the TUI; this module only parses, prints and picks exit codes.

/// `println!`/`eprintln!` panic when the other end of a pipe is gone (`inbound list | head
/// -1`, a mail program that stopped reading); a command must not. These write and ignore
/// the error: there is no one left to tell. Every line passes [`crate::sanitize::terminal`]:
/// a value from a hand-edited store or a refused input cannot bring escapes to the terminal.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let line = format!($($arg)*);
        let _ = writeln!(std::io::stdout(), "{}", $crate::sanitize::terminal(&line));
    }};
}
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let line = format!($($arg)*);
        let _ = writeln!(std::io::stderr(), "{}", $crate::sanitize::terminal(&line));
    }};
}

mod cert;
mod checks;
mod commands;
mod complete;
mod docs;
mod exchange;
pub mod fix;
mod import;
mod output;
mod parse;
mod proxy;
mod report;
mod serve;
mod setup;
mod tty;
mod tunnel;

use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::ArgValueCompleter;
use std::path::PathBuf;

pub use commands::run;
pub use complete::answer_if_asked as answer_completion_if_asked;
pub use parse::{command, parse};

/// Exit codes, shared by both faces (defined in the core library).
pub use crate::exit;

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  the operation failed (network, server refused, test failed)
  2  bad input or usage
  3  no such server or app
  4  the store cannot be used (damaged file, loose permissions)
  5  you are needed: sign in again (connect), replace the client secret, or finish setup
130  interrupted (Ctrl-C); the app ended by SIGHUP 129, SIGQUIT 131, SIGTERM 143
check uses the monitoring-plugin codes instead: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.

Run without a command to open the interactive app, or with a stored server's name
(inbound NAME) to open it on that server.";

#[derive(Debug, Parser)]
#[command(name = "inbound", version, about = "Connect Microsoft 365 / Exchange Online mailboxes to IMAP fetchers with OAuth2, and keep them connected", after_help = EXIT_CODES)]
pub struct Cli {
    /// A stored server's name: opens the interactive app on that server (inbound NAME).
    #[arg(value_name = "NAME", add = ArgValueCompleter::new(complete::server_names))]
    pub server: Option<String>,
    /// Where the store lives (default: the platform config dir, e.g. ~/.config/inbound).
    #[arg(long, global = true, env = "INBOUND_CONFIG_DIR", value_name = "DIR", help_heading = parse::GLOBAL_OPTIONS)]
    pub config_dir: Option<PathBuf>,
    /// Use a store that another user owns (e.g. root repairing a user's store); files keep
    /// their owner. Without it such a store is refused.
    #[arg(long, global = true, env = "INBOUND_ALLOW_OTHER_OWNER", help_heading = parse::GLOBAL_OPTIONS)]
    pub allow_other_owner: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Servers worked on at once by `--all` and `check --test`: at a 50 ms round trip a Test &
/// Confirm is mostly waiting, so ~100–200 in flight keep 200 servers near the time of one.
pub const DEFAULT_JOBS: u16 = 128;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add an incoming mail server (a Draft until Test & Confirm passes).
    Add(AddArgs),
    /// Change a server, or with --app and no NAME, an Azure app (e.g. rotate its secret).
    Edit(EditArgs),
    /// List servers with state and token health.
    List(JsonFlag),
    /// List Azure apps: client ID, tenant, secret expiry and the servers that use each.
    Apps(JsonFlag),
    /// Show one server: settings (secrets masked), app, redirect URL, health, last test.
    Show(ShowArgs),
    /// Sign in with Microsoft (browser consent through the embedded listener) and store tokens.
    Connect(ConnectArgs),
    /// Test & Confirm: IMAP login with the stored credentials; success marks the server Confirmed.
    Test(TestArgs),
    /// Print a fresh access token (for mail programs: mbsync PassCmd, fetchmail, neomutt …).
    Token(TokenArgs),
    /// Pre-authenticated IMAP on stdin/stdout for mail programs that run a command (mbsync
    /// Tunnel, offlineimap preauthtunnel, mutt tunnel, fetchmail plugin).
    Tunnel(TunnelArgs),
    /// A local IMAP server for mail programs that only know host, port, user and password:
    /// LOGIN with a local proxy password becomes XOAUTH2 upstream (or: proxy password NAME).
    Proxy(ProxyArgs),
    /// Refresh tokens now (for cron / systemd timers).
    Refresh(RefreshArgs),
    /// Monitoring check (Nagios/Icinga conventions): OK / WARNING / CRITICAL / UNKNOWN.
    Check(CheckArgs),
    /// Remove a server and its tokens, or with --app, an unused Azure app.
    Remove(RemoveArgs),
    /// Diagnose one server step by step: config, tenant, app credentials, tokens, IMAP host and
    /// TLS, login. Exit codes as for check.
    Doctor(DoctorArgs),
    /// App-only servers: the Exchange Online PowerShell lines (service principal, mailbox
    /// permission) with this server's values filled in.
    ExchangeSetup(ExchangeSetupArgs),
    /// Certificate credentials for an app, instead of a client secret (any lifetime you
    /// choose; allowed where tenants forbid new secrets).
    #[command(subcommand)]
    Cert(CertCommand),
    /// Show or change global settings (listener port, public URL mode).
    Settings(SettingsArgs),
    /// Add many servers from a file: CSV with a header of list --json field names (name,
    /// username, host, port, ca_file, app, sign_in_as, auth, password) or the JSON list --json
    /// prints. A file with any bad row imports nothing.
    Import(import::ImportArgs),
    /// Print a script for Azure Cloud Shell that registers the Azure app and ends by printing a
    /// setup code for inbound add --setup-code (or save it: inbound setup-script > FILE).
    SetupScript(SetupScriptArgs),
    /// Try the whole flow without a tenant: the app against stand-ins of Microsoft's sign-in
    /// and IMAP servers on loopback, on a temporary store (your own store is not touched).
    Demo(DemoArgs),
    /// Keep every server alive: refresh tokens ahead of expiry, test on a schedule, alert on
    /// health changes, serve metrics (runs in the foreground; a systemd unit: --print-unit).
    Serve(serve::ServeArgs),
    /// Print shell completions (bash, zsh, fish, elvish, powershell) to standard output.
    Completions(CompletionsArgs),
    /// Print the manual page (roff) to standard output: inbound man > inbound.1
    Man,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ShellArg {
    /// Azure Cloud Shell's Bash, with the Azure CLI (az).
    Bash,
    /// Azure Cloud Shell's PowerShell, with the Microsoft Graph module.
    Pwsh,
}

#[derive(Debug, Args)]
#[command(after_help = "\
In the Azure portal, open Cloud Shell (the >_ icon; it is already signed in), paste the script
(or upload the file and run it), then copy its last line, the setup code, and import it:
  inbound add \"Support inbox\" --username support@contoso.com --setup-code -
The script reuses an app of the same name, grants admin consent when you are an admin (else it
prints the link to send an admin), and shows the secret only inside the setup code.")]
pub struct SetupScriptArgs {
    /// The Cloud Shell flavour the script is for.
    #[arg(long, value_enum, default_value = "bash")]
    pub shell: ShellArg,
    /// Display name of the app registration (an app of this name is reused).
    #[arg(long, value_name = "NAME")]
    pub app_name: Option<String>,
    /// How many months the client secret lasts (default 12).
    #[arg(long, value_name = "1-24", value_parser = clap::value_parser!(u8).range(1..=24))]
    pub secret_months: Option<u8>,
    /// Register a public client (Mobile and desktop, http://localhost/microsoft_outlook/confirm,
    /// public client flows):
    /// no secret at all; sign-in by PKCE or device code.
    #[arg(long)]
    pub public_client: bool,
    /// Register <URL>/microsoft_outlook/confirm instead of http://localhost/… (a reverse proxy
    /// in front of the listener; set the same with inbound settings --public-url).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// App-only access (client credentials, IMAP.AccessAsApp): no sign-in; the script also
    /// registers the app in Exchange Online and gives it FullAccess to each --mailbox.
    #[arg(long)]
    pub app_only: bool,
    /// A mailbox the app-only app may open (repeatable).
    #[arg(long = "mailbox", value_name = "ADDR", requires = "app_only")]
    pub mailboxes: Vec<String>,
}

#[derive(Debug, Args)]
#[command(after_help = "\
These scripts complete commands and options. To have Tab offer the names of your stored
servers and apps too, let the shell ask inbound itself, from its startup file:
  bash: source <(COMPLETE=bash inbound)      zsh: source <(COMPLETE=zsh inbound)
  fish: COMPLETE=fish inbound | source")]
pub struct CompletionsArgs {
    /// The shell, e.g. bash (save as /etc/bash_completion.d/inbound), zsh (as _inbound on
    /// $fpath) or fish (as ~/.config/fish/completions/inbound.fish).
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the demo's store and CA file in DIR (new or empty) instead of a temporary
    /// directory removed at exit.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// No app: start the stand-ins, print shell lines (INBOUND_CONFIG_DIR=…, the authority,
    /// the IMAP port) for trying the commands against them, and run until Ctrl-C.
    #[arg(long)]
    pub print_env: bool,
}

impl Command {
    /// True for the commands that work on many servers at once: they get worker threads, so
    /// TLS handshakes do not queue behind each other.
    pub fn fans_out(&self) -> bool {
        match self {
            Command::Test(a) => a.all,
            Command::Refresh(a) => a.all,
            Command::Check(a) => a.test,
            Command::Serve(_) => true,
            // Many sessions at once: TLS handshakes and relays on every core.
            Command::Proxy(a) => a.command.is_none(),
            _ => false,
        }
    }
}

#[derive(Debug, Args)]
pub struct SettingsArgs {
    /// Default port of the sign-in listener.
    #[arg(long, value_name = "N")]
    pub listen_port: Option<u16>,
    /// Public base URL (https) whose /microsoft_outlook/confirm a reverse proxy forwards to the
    /// listener, e.g. https://demo.tasksuite.com.
    #[arg(long, value_name = "URL", conflicts_with = "no_public_url")]
    pub public_url: Option<String>,
    /// Back to the local http://localhost redirect.
    #[arg(long)]
    pub no_public_url: bool,
    /// Address the listener binds in public URL mode (e.g. 127.0.0.1 behind a local proxy).
    #[arg(long, value_name = "ADDR")]
    pub listen_address: Option<std::net::IpAddr>,
    /// How long a sign-in waits for the browser, in seconds (30 to 3600; default 300).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Where inbound proxy listens for plain IMAP (default 127.0.0.1:1143; beyond loopback
    /// only with --proxy-tls).
    #[arg(long, value_name = "ADDR:PORT")]
    pub proxy_listen: Option<std::net::SocketAddr>,
    /// inbound proxy also serves implicit TLS and STARTTLS, with its own certificate.
    #[arg(long, conflicts_with = "no_proxy_tls")]
    pub proxy_tls: bool,
    /// inbound proxy serves plain IMAP on loopback only (the default).
    #[arg(long)]
    pub no_proxy_tls: bool,
    /// Where the proxy's implicit-TLS port listens (default: the plain address's IP, port 1993).
    #[arg(long, value_name = "ADDR:PORT")]
    pub proxy_tls_listen: Option<std::net::SocketAddr>,
    /// Most client connections the proxy holds at once (default 2048).
    #[arg(long, value_name = "N")]
    pub proxy_max_connections: Option<u32>,
    /// inbound serve's settings (the flags of inbound serve; a running serve takes them up).
    #[command(flatten, next_help_heading = "inbound serve")]
    pub serve: serve::ServeSettingArgs,
    /// serve runs no notify command.
    #[arg(long, conflicts_with = "notify_command", help_heading = "inbound serve")]
    pub no_notify_command: bool,
    /// serve posts to no webhook.
    #[arg(long, conflicts_with = "notify_url", help_heading = "inbound serve")]
    pub no_notify_url: bool,
    /// serve serves no metrics.
    #[arg(long, conflicts_with = "metrics", help_heading = "inbound serve")]
    pub no_metrics: bool,
    /// Machine-readable output (fields documented in docs/json.md).
    #[arg(long)]
    pub json: bool,
}

impl SettingsArgs {
    /// False when the command only shows the settings.
    pub fn changes_something(&self) -> bool {
        self.listen_port.is_some()
            || self.public_url.is_some()
            || self.no_public_url
            || self.listen_address.is_some()
            || self.timeout.is_some()
            || self.proxy_listen.is_some()
            || self.proxy_tls
            || self.no_proxy_tls
            || self.proxy_tls_listen.is_some()
            || self.proxy_max_connections.is_some()
            || !self.serve_patch().is_empty()
    }

    /// The change to serve's settings: the flags serve takes, and the resets.
    pub fn serve_patch(&self) -> crate::model::serve::ServePatch {
        let mut patch = crate::model::serve::ServePatch::setting(&self.serve.settings());
        for (reset, field) in [
            (self.no_notify_command, &mut patch.notify_command),
            (self.no_notify_url, &mut patch.notify_url),
        ] {
            if reset {
                *field = Some(None);
            }
        }
        if self.no_metrics {
            patch.metrics = Some(None);
        }
        patch
    }
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum AuthArg {
    /// Delegated: a person signs in once (inbound connect).
    Oauth2,
    /// App-only (client credentials): no sign-in; needs IMAP.AccessAsApp and Exchange's
    /// service principal + mailbox permission (inbound exchange-setup NAME).
    #[value(name = "oauth2-app")]
    Oauth2App,
    /// IMAP LOGIN with the mailbox password (--password-stdin).
    Basic,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The server's name, e.g. "Support inbox".
    pub name: String,
    /// The mailbox address.
    #[arg(long)]
    pub username: String,
    /// How the server authenticates.
    #[arg(long, value_enum, default_value = "oauth2")]
    pub auth: AuthArg,
    /// Application (client) ID of the app registration.
    #[arg(long)]
    pub client_id: Option<String>,
    /// Directory (tenant) ID, or a verified domain.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Read the client secret Value from standard input.
    #[arg(long, conflicts_with = "secret_file")]
    pub secret_stdin: bool,
    /// Read the client secret Value from a file.
    #[arg(long, value_name = "FILE")]
    pub secret_file: Option<PathBuf>,
    /// When the client secret expires (YYYY-MM-DD), for warnings ahead of time.
    #[arg(long, value_name = "DATE")]
    pub secret_expires: Option<String>,
    /// Identity provider authority.
    #[arg(long, value_name = "URL", conflicts_with = "cloud")]
    pub authority: Option<String>,
    /// The tenant's cloud: global (worldwide, GCC), usgov (GCC High), usgov-dod or china
    /// (21Vianet). Sets the sign-in authority and the IMAP host together.
    #[arg(long, value_name = "CLOUD", value_parser = parse_cloud)]
    pub cloud: Option<crate::model::Cloud>,
    /// The app is a public client (platform "Mobile and desktop applications", redirect
    /// http://localhost, Allow public client flows = Yes): no secret at all.
    #[arg(long, conflicts_with_all = ["secret_stdin", "secret_file", "secret_expires"])]
    pub public_client: bool,
    /// Shared mailbox: sign in as this delegate (who has FullAccess on --username).
    #[arg(long, value_name = "ADDR")]
    pub sign_in_as: Option<String>,
    /// Use a stored Azure app instead of --client-id/--tenant/--secret-*, or with them, the
    /// name for the new app (default: the server's name).
    #[arg(long, value_name = "APP", add = ArgValueCompleter::new(complete::app_names))]
    pub app: Option<String>,
    /// Server Name (IMAP host); default outlook.office365.com, or the --cloud's host.
    #[arg(long)]
    pub host: Option<String>,
    /// IMAP port (993 is IMAP over TLS).
    #[arg(long, default_value_t = crate::model::DEFAULT_PORT)]
    pub port: u16,
    /// Extra CA certificate (PEM) to trust for this server.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Read the password (Basic) from standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// Take the app (tenant, client ID, secret and its expiry) from the setup code that
    /// inbound setup-script's script printed: - reads it from standard input (not echoed on a
    /// terminal), anything else is a file holding it.
    #[arg(long, value_name = "-|FILE", conflicts_with_all = ["client_id", "tenant", "secret_stdin", "secret_file", "secret_expires", "password_stdin"])]
    pub setup_code: Option<PathBuf>,
    /// With --setup-code: how long, in seconds, to wait out Microsoft's replication of an app
    /// or secret made moments ago (AADSTS700016 / 7000215 retried with back-off); 0 does not wait.
    #[arg(long, value_name = "SECS", default_value_t = 60, requires = "setup_code")]
    pub replication_wait: u64,
    /// Save without the pre-flight check of tenant, client ID and secret.
    #[arg(long)]
    pub no_check: bool,
    /// Another mailbox like this stored server: its authentication, Azure app, host, port and
    /// CA file (and so its cloud); only the name and --username (and --sign-in-as) are new.
    #[arg(long, value_name = "SERVER", add = ArgValueCompleter::new(complete::server_names), conflicts_with_all = ["auth", "client_id", "tenant", "secret_stdin", "secret_file", "secret_expires", "authority", "cloud", "public_client", "app", "host", "port", "ca_file", "setup_code"])]
    pub like: Option<String>,
}

/// `--cloud`: the words of [`crate::model::Cloud::key`] (and a few aliases).
fn parse_cloud(s: &str) -> Result<crate::model::Cloud, String> {
    crate::model::Cloud::parse(s).ok_or_else(|| {
        let keys: Vec<&str> = crate::model::Cloud::ALL.iter().map(|c| c.key()).collect();
        format!("choose one of {}", keys.join(", "))
    })
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The server to diagnose.
    #[arg(add = ArgValueCompleter::new(complete::server_names))]
    pub name: String,
    /// Machine-readable output (fields documented in docs/json.md).
    #[arg(long)]
    pub json: bool,
    /// Seconds each IMAP stage may wait (default: 15 to connect, 20 per command, 30 to
    /// authenticate).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub struct EditArgs {
    /// The server to change; omit it and give --app to change the app itself.
    #[arg(add = ArgValueCompleter::new(complete::server_names))]
    pub name: Option<String>,
    /// New name for the server (its tokens stay with it).
    #[arg(long)]
    pub rename: Option<String>,
    /// The mailbox address; a new one drops the tokens (they were minted for the old one).
    #[arg(long)]
    pub username: Option<String>,
    /// Shared mailbox: sign in as this delegate (FullAccess on the mailbox); a new one drops
    /// the tokens.
    #[arg(long, value_name = "ADDR", conflicts_with = "no_sign_in_as")]
    pub sign_in_as: Option<String>,
    /// The mailbox signs in itself again (no delegate).
    #[arg(long)]
    pub no_sign_in_as: bool,
    /// Server Name (IMAP host).
    #[arg(long, conflicts_with = "cloud")]
    pub host: Option<String>,
    /// With NAME: the IMAP host of this cloud (global, usgov, usgov-dod, china). Without NAME:
    /// the app's sign-in authority for it.
    #[arg(long, value_name = "CLOUD", value_parser = parse_cloud)]
    pub cloud: Option<crate::model::Cloud>,
    /// IMAP port (993 is IMAP over TLS).
    #[arg(long)]
    pub port: Option<String>,
    /// How the server authenticates (oauth2, oauth2-app or basic).
    #[arg(long, value_enum)]
    pub auth: Option<AuthArg>,
    /// With NAME: point the server at this app. Without NAME: the app to change.
    #[arg(long, value_name = "APP", add = ArgValueCompleter::new(complete::app_names))]
    pub app: Option<String>,
    /// Without NAME: the app's Application (client) ID.
    #[arg(long)]
    pub client_id: Option<String>,
    /// Without NAME: the Directory (tenant) ID or a verified domain.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Without NAME: read a new client secret Value from standard input (rotation).
    #[arg(long, conflicts_with = "secret_file")]
    pub secret_stdin: bool,
    /// Without NAME: read a new client secret Value from a file.
    #[arg(long, value_name = "FILE")]
    pub secret_file: Option<PathBuf>,
    /// Without NAME: when the client secret expires (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub secret_expires: Option<String>,
    /// Without NAME: the identity provider authority.
    #[arg(long, value_name = "URL", conflicts_with = "cloud")]
    pub authority: Option<String>,
    /// Without NAME: save new credentials without the pre-flight check.
    #[arg(long)]
    pub no_check: bool,
    /// Without NAME: make the app a public client (Mobile and desktop redirect, Allow public
    /// client flows = Yes); its stored secret is deleted.
    #[arg(long, conflicts_with_all = ["secret_stdin", "secret_file", "secret_expires"])]
    pub public_client: bool,
    /// Extra CA certificate (PEM) to trust for this server.
    #[arg(long, value_name = "FILE", conflicts_with = "no_ca_file")]
    pub ca_file: Option<PathBuf>,
    /// Trust only the system roots again.
    #[arg(long)]
    pub no_ca_file: bool,
    /// Read a new password (Basic) from standard input.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Machine-readable output (fields documented in docs/json.md).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The server to show.
    #[arg(add = ArgValueCompleter::new(complete::server_names))]
    pub name: String,
    /// Machine-readable output (fields documented in docs/json.md).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExchangeSetupArgs {
    /// The app-only server whose PowerShell lines to print.
    #[arg(add = ArgValueCompleter::new(complete::server_names))]
    pub name: String,
    /// Machine-readable output (fields documented in docs/json.md).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// The server to sign in for.
    #[arg(add = ArgValueCompleter::new(complete::server_names))]
    pub name: String,
    /// Do not open a browser; print the sign-in URL as the first line of stdout and wait.
    #[arg(long)]
    pub no_browser: bool,
    /// Like --no-browser, then read the address the browser ended on from stdin (paste-back).
    #[arg(long, conflicts_with = "device_code")]
    pub paste: bool,
    /// Sign in with a device code instead (needs "Allow public client flows" on the app).
    #[arg(long)]
    pub device_code: bool,
    /// You are an admin: first grant tenant-wide consent (the v2 admin consent page, answered
    /// through the listener), then sign in. Use it when sign-in stops at "Need admin approval".
    #[arg(long, conflicts_with = "device_code")]
    pub admin_consent: bool,
    /// Port for the embedded listener (default 8400, replaced by a free one if taken; a port
    /// you give here or in the settings is never replaced unless --any-port).
    #[arg(long, value_name = "N")]
    pub listen_port: Option<u16>,
    /// When the chosen port is busy, listen on a free one instead (not in public URL mode).
    #[arg(long)]
    pub any_port: bool,
    /// Use this public base URL for the redirect (reverse proxy in front of the listener).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Give up after this many seconds (default: the sign-in timeout setting, else 300).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// With --device-code: print the code as one JSON line (verification_uri, user_code,
    /// expires_in, interval) and the result as JSON, for scripts that show the code elsewhere
    /// (fields documented in docs/json.md).
    #[arg(long, requires = "device_code")]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("servers").required(true).args(["name", "all"])))]
pub struct TestArgs {
    /// The server to test (or --all for every server).
    #[arg(conflicts_with = "all", add = ArgValueCompleter::new(complete::server_names))]
    pub name: Option<String>,
    /// Test every server, concurrently.
    #[arg(long)]
    pub all: bool,
    /// Output as JSON (fields documented in docs/json.md).
    #[arg(long)]
    pub json: bool,
    /// Seconds each stage may wait for the server (default: 15 to connect, 20 per command,
    /// 30 to authenticate).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// How many servers to work on at once (default 128).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_JOBS, value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: u16,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum TokenFormat {
    /// The bare access token.
    Access,
    /// The base64 SASL XOAUTH2 string.
    Xoauth2,
    /// JSON with token, username, expiry (fields documented in docs/json.md).
    Json,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The server whose token to print.
    #[arg(add = ArgValueCompleter::new(complete::server_names))]
    pub name: String,
    /// What to print.
    #[arg(long, value_enum, default_value = "access")]
    pub format: TokenFormat,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Logs in to the server (a fresh token as inbound token gets it, TLS and XOAUTH2 as Test & Confirm;
LOGIN for Basic), writes * PREAUTH [CAPABILITY …] and relays the session untouched. Before that,
any failure is one * BYE line on stdout, the diagnosis on stderr, and a non-zero exit (5: sign in
again with inbound connect; nothing interactive is ever started).
The server may be named by its Name, its id (inbound show) or its Username when only one server
has it. Several words are joined with spaces, so fetchmail's plugin, which splits on spaces
without a shell, works as written:
  mbsync:      Tunnel \"inbound tunnel 'Support inbox'\"
  fetchmail:   plugin \"inbound tunnel Support inbox\" (with protocol IMAP, user and no password)")]
pub struct TunnelArgs {
    /// The server: its Name (words are joined with spaces), id or Username.
    #[arg(required = true, num_args = 1.., value_name = "NAME", add = ArgValueCompleter::new(complete::server_names))]
    pub name: Vec<String>,
}

#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "\
Rules: plain IMAP on 127.0.0.1:1143 by default, for mail programs on this machine. --tls adds an
implicit-TLS port (default port 1993) and STARTTLS on the plain port, with a certificate made on
the first start (its CA file and SHA-256 fingerprint are printed). An address beyond loopback is
refused without --tls, and there LOGIN waits for STARTTLS.
Mail program settings: host and port as printed at start; encryption: none on 127.0.0.1 without
--tls, SSL/TLS on the TLS port (trust the printed CA file); user: the server's Name (or its
Username when only one server has it); password: the one inbound proxy password NAME printed.
Runs in the foreground until SIGTERM or Ctrl-C, then lets sessions finish for --grace seconds."
)]
pub struct ProxyArgs {
    #[command(subcommand)]
    pub command: Option<ProxyCommand>,
    /// Plain IMAP address (default: the setting, else 127.0.0.1:1143).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<std::net::SocketAddr>,
    /// Also serve implicit TLS (and STARTTLS) with the proxy's own certificate.
    #[arg(long)]
    pub tls: bool,
    /// Implicit-TLS address (default: the setting, else the plain address with port 1993).
    #[arg(long, value_name = "ADDR:PORT", requires = "tls")]
    pub tls_listen: Option<std::net::SocketAddr>,
    /// Most client connections at once (default: the setting, else 2048).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: Option<u32>,
    /// Seconds sessions may go on after SIGTERM (default 10).
    #[arg(long, value_name = "SECS")]
    pub grace: Option<u64>,
    /// Seconds a client has from connecting to a good login (default 60).
    #[arg(long, value_name = "SECS", hide = true)]
    pub preauth_timeout: Option<u64>,
    /// Seconds without traffic after login before a session ends (default 1860).
    #[arg(long, value_name = "SECS", hide = true)]
    pub idle_timeout: Option<u64>,
    /// Seconds each stage of the upstream login may take (default: 15 to connect, 20 per
    /// command, 30 to authenticate).
    #[arg(long, value_name = "SECS", hide = true)]
    pub upstream_timeout: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum ProxyCommand {
    /// Make the local proxy password of server NAME (printed once; stored only as a hash).
    Password(ProxyPasswordArgs),
}

#[derive(Debug, Args)]
pub struct ProxyPasswordArgs {
    /// The server.
    #[arg(add = ArgValueCompleter::new(complete::server_names))]
    pub name: String,
    /// Replace the password (the old one stops working at once).
    #[arg(long, conflicts_with = "remove")]
    pub rotate: bool,
    /// Delete the password: no proxy login for this server.
    #[arg(long)]
    pub remove: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("servers").required(true).args(["name", "all"])))]
pub struct RefreshArgs {
    /// The server to refresh (or --all for every OAuth2 server).
    #[arg(conflicts_with = "all", add = ArgValueCompleter::new(complete::server_names))]
    pub name: Option<String>,
    /// Refresh every OAuth2 server, concurrently.
    #[arg(long)]
    pub all: bool,
    /// Machine-readable output (fields documented in docs/json.md).
    #[arg(long)]
    pub json: bool,
    /// How many servers to work on at once (default 128).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_JOBS, value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: u16,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Servers to check (default: all).
    #[arg(add = ArgValueCompleter::new(complete::server_names))]
    pub names: Vec<String>,
    /// Machine-readable output (fields documented in docs/json.md).
    #[arg(long)]
    pub json: bool,
    /// Also run Test & Confirm.
    #[arg(long)]
    pub test: bool,
    /// How many servers to work on at once (default 128).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_JOBS, value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: u16,
}

#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Make an RSA key and a self-signed certificate for APP (or import one with
    /// --certificate), keep the key in the store, and print the public certificate to upload
    /// (App registrations → APP → Certificates & secrets → Certificates).
    New(CertNewArgs),
    /// Print APP's public certificate (PEM) again, with its thumbprint and expiry.
    Show(CertShowArgs),
    /// Switch APP to the new certificate `cert new` kept waiting, once Microsoft accepts it
    /// (upload it first).
    Use(CertUseArgs),
}

#[derive(Debug, Args)]
pub struct CertUseArgs {
    /// The Azure app whose waiting certificate to switch to.
    #[arg(add = ArgValueCompleter::new(complete::app_names))]
    pub app: String,
    /// Switch without asking Microsoft (a certificate it does not know stops every server of
    /// the app).
    #[arg(long)]
    pub no_check: bool,
}

#[derive(Debug, Args)]
pub struct CertNewArgs {
    /// The Azure app (an existing one, or a new one with --client-id and --tenant).
    #[arg(add = ArgValueCompleter::new(complete::app_names))]
    pub app: String,
    /// Lifetime of the new certificate in months (1 to 120).
    #[arg(long, value_name = "N", default_value_t = crate::ops::cert::DEFAULT_MONTHS, conflicts_with = "certificate")]
    pub months: u32,
    /// Import this PEM file holding the private key (unencrypted, RSA) and its certificate
    /// instead of making a new pair.
    #[arg(long, value_name = "FILE")]
    pub certificate: Option<PathBuf>,
    /// For a new app: the Application (client) ID.
    #[arg(long, requires = "tenant")]
    pub client_id: Option<String>,
    /// For a new app: the Directory (tenant) ID or a verified domain.
    #[arg(long, requires = "client_id")]
    pub tenant: Option<String>,
    /// For a new app: the identity provider authority.
    #[arg(long, value_name = "URL")]
    pub authority: Option<String>,
    /// Replace the app's working secret or certificate at once, without asking Microsoft
    /// first (by default a new certificate waits until it is proven: inbound cert use APP).
    #[arg(long)]
    pub no_check: bool,
}

#[derive(Debug, Args)]
pub struct CertShowArgs {
    /// The Azure app whose certificate to print.
    #[arg(add = ArgValueCompleter::new(complete::app_names))]
    pub app: String,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The server to remove (its tokens go with it); or --app for an app.
    #[arg(required_unless_present = "app", add = ArgValueCompleter::new(complete::server_names))]
    pub name: Option<String>,
    /// Remove this Azure app (only when no server uses it).
    #[arg(long, value_name = "APP", add = ArgValueCompleter::new(complete::app_names))]
    pub app: Option<String>,
}
