//! `inbound setup-script` and `inbound add --setup-code`: the bash script is shellcheck-clean
//! for every option combination; run against a recording stub `az` (answering with the JSON
//! the Azure CLI documents, its `--query` applied with jq) it makes exactly the calls expected,
//! and the code it prints imports. PowerShell cannot be installed here (no registry serves
//! it), so the PowerShell script is tested on its text: the same steps in the same order and
//! the same code format.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use crate::support;

use std::path::{Path, PathBuf};
use support::cli::{Cli, text};
use support::tmux::tools_or_skip;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58";
const APP_OBJECT: &str = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
const SP_OBJECT: &str = "11112222-3333-4444-5555-666677778888";
const SECRET: &str = "Xy8Q~abcdefghijklmnopqrstuvwxyz.0123456_";
const REDIRECT: &str = "http://localhost/microsoft_outlook/confirm";
const GRAPH: &str = "00000003-0000-0000-c000-000000000000";
const EXCHANGE: &str = "00000002-0000-0ff1-ce00-000000000000";

/// The stub `az`: records each call (its arguments, each ended by U+001F), answers with the JSON
/// shapes of the Azure CLI reference, and applies `--query` like az does for these simple
/// paths (`tsv` prints a missing value as nothing).
const AZ_STUB: &str = r#"#!/usr/bin/env bash
set -euo pipefail
{ printf '%s\x1f' az "$@"; echo; } >> "$STUB_LOG"
query=""; prev=""
for a in "$@"; do
  if [ "$prev" = "--query" ]; then query="$a"; fi
  prev="$a"
done
answer() {
  if [ -n "$query" ]; then jq -r ".$query // empty"; else cat; fi
}
case "$1 $2 $3" in
  "account show "*)
    answer <<EOF
{"environmentName":"AzureCloud","homeTenantId":"$STUB_TENANT","id":"9e1f2a3b-0000-4000-8000-000000000001","isDefault":true,"name":"Pay-As-You-Go","state":"Enabled","tenantId":"$STUB_TENANT","user":{"name":"admin@contoso.com","type":"user"}}
EOF
    ;;
  "ad app list")
    if [ "$STUB_EXISTING" = 1 ]; then
      answer <<EOF
[{"appId":"$STUB_CLIENT","id":"$STUB_APP_OBJECT","displayName":"inbound","signInAudience":"AzureADMyOrg"}]
EOF
    else
      echo '[]' | answer
    fi
    ;;
  "ad app create")
    answer <<EOF
{"appId":"$STUB_CLIENT","id":"$STUB_APP_OBJECT","displayName":"inbound","signInAudience":"AzureADMyOrg","web":{"redirectUris":[]}}
EOF
    ;;
  "ad app update") ;;
  "ad app permission")
    if [ "$4" = "admin-consent" ] && [ "$STUB_ADMIN" != 1 ]; then
      echo "ERROR: Insufficient privileges to complete the operation." >&2
      exit 1
    fi
    if [ "$4" = "add" ]; then
      echo 'WARNING: A Graph call to grant is required to make the change effective' >&2
    fi
    ;;
  "ad sp show")
    if [ "$STUB_EXISTING" = 1 ]; then
      answer <<EOF
{"id":"$STUB_SP_OBJECT","appId":"$STUB_CLIENT","displayName":"inbound"}
EOF
    else
      echo "ERROR: Resource '$5' does not exist or one of its queried reference-property objects are not present." >&2
      exit 3
    fi
    ;;
  "ad sp create")
    # The first try meets replication lag, as a just-created app often does.
    if [ ! -e "$STUB_LOG.sp" ]; then
      touch "$STUB_LOG.sp"
      echo "ERROR: When using this permission, the backing application of the service principal being created must in the local tenant" >&2
      exit 1
    fi
    answer <<EOF
{"id":"$STUB_SP_OBJECT","appId":"$STUB_CLIENT","displayName":"inbound","servicePrincipalType":"Application"}
EOF
    ;;
  "ad app credential")
    echo 'WARNING: The output includes credentials that you must protect.' >&2
    answer <<EOF
{"appId":"$STUB_CLIENT","password":"$STUB_SECRET","tenant":"$STUB_TENANT"}
EOF
    ;;
  *) echo "stub az: unexpected call: $*" >&2; exit 2 ;;
esac
"#;

/// `sleep` and `pwsh` only record: the retries must not wait, and Exchange is not here.
const RECORD_STUB: &str = r#"#!/usr/bin/env bash
{ printf '%s\x1f' "$(basename "$0")" "$@"; echo; } >> "$STUB_LOG"
"#;

async fn script(cli: &Cli, args: &[&str]) -> String {
    let mut all = vec!["setup-script"];
    all.extend_from_slice(args);
    let out = cli.run(&all, None).await;
    assert!(
        out.status.success(),
        "setup-script {args:?}: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

const COMBINATIONS: &[&[&str]] = &[
    &[],
    &["--public-client"],
    &[
        "--public-url",
        "https://demo.tasksuite.com",
        "--secret-months",
        "24",
    ],
    &["--app-name", "Contoso mail (IMAP)", "--secret-months", "1"],
    &[
        "--app-only",
        "--mailbox",
        "support@contoso.com",
        "--mailbox",
        "sales@contoso.com",
    ],
];

#[tokio::test]
async fn bash_scripts_are_shellcheck_clean_and_short() {
    if !tools_or_skip(&["shellcheck"], "the shellcheck test") {
        return;
    }
    let cli = Cli::new();
    for args in COMBINATIONS {
        let s = script(&cli, args).await;
        assert!(s.lines().count() < 40, "{args:?}: {} lines", s.lines().count());
        let path = cli.dir.path().join("setup.sh");
        std::fs::write(&path, &s).unwrap();
        let out = std::process::Command::new("shellcheck")
            .args(["--shell=bash", "--severity=style"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: shellcheck says:\n{}",
            text(&out.stdout)
        );
    }
}

/// A run of the bash script against the stubs.
struct Run {
    calls: Vec<Vec<String>>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn az(&self) -> Vec<Vec<String>> {
        // The tool's name first; az calls are compared without it.
        self.calls
            .iter()
            .filter(|c| c[0] != "sleep")
            .map(|c| if c[0] == "az" { c[1..].to_vec() } else { c.clone() })
            .collect()
    }
    fn code(&self) -> String {
        let lines: Vec<&str> = self.stdout.lines().collect();
        assert_eq!(lines.len(), 1, "stdout is the code alone: {:?}", self.stdout);
        lines[0].to_string()
    }
}

fn stub_dir(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for (name, body) in [("az", AZ_STUB), ("sleep", RECORD_STUB), ("pwsh", RECORD_STUB)] {
        let p = bin.join(name);
        std::fs::write(&p, body).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

async fn run_bash(cli: &Cli, args: &[&str], existing: bool, admin: bool) -> Run {
    let s = script(cli, args).await;
    let dir = tempfile::tempdir().unwrap();
    let bin = stub_dir(dir.path());
    let log = dir.path().join("calls.jsonl");
    let path = dir.path().join("setup.sh");
    std::fs::write(&path, &s).unwrap();
    let out = tokio::process::Command::new("bash")
        .arg(&path)
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default()),
        )
        .env("STUB_LOG", &log)
        .env("STUB_TENANT", TENANT)
        .env("STUB_CLIENT", CLIENT)
        .env("STUB_APP_OBJECT", APP_OBJECT)
        .env("STUB_SP_OBJECT", SP_OBJECT)
        .env("STUB_SECRET", SECRET)
        .env("STUB_EXISTING", if existing { "1" } else { "0" })
        .env("STUB_ADMIN", if admin { "1" } else { "0" })
        .output()
        .await
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "the script failed:\n{stderr}");
    let calls = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: Vec<String> = l.split('\x1f').map(String::from).collect();
            v.pop(); // after the last separator
            v
        })
        .collect();
    Run {
        calls,
        stdout: text(&out.stdout),
        stderr,
    }
}

fn call(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// True when the tools the script needs beside the stub `az` are here (else skipped).
fn stub_az_or_skip() -> bool {
    tools_or_skip(&["jq", "sha256sum", "base64"], "the stub-az run")
}

/// The script asks for the tenant first.
fn tenant_id() -> Vec<String> {
    call(&["account", "show", "--query", "tenantId", "-o", "tsv"])
}

/// Then for an app of its name (`inbound`), to reuse it.
fn app_by_name() -> Vec<String> {
    call(&[
        "ad",
        "app",
        "list",
        "--filter",
        "displayName eq 'inbound'",
        "--query",
        "[0].appId",
        "-o",
        "tsv",
    ])
}

fn delegated_permissions() -> Vec<String> {
    let mut v = call(&[
        "ad",
        "app",
        "permission",
        "add",
        "--id",
        CLIENT,
        "--api",
        GRAPH,
        "--api-permissions",
    ]);
    for id in [
        "652390e4-393a-48de-9484-05f9b1212954",
        "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
        "37f7f235-527c-4136-accd-4a02d197296e",
        "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0",
        "14dad69e-099b-42c9-810b-d002981feec1",
    ] {
        v.push(format!("{id}=Scope"));
    }
    v
}

fn months_ahead(m: i8) -> String {
    support::months_ahead(m)
}

fn credential_reset(months: i8) -> Vec<String> {
    call(&[
        "ad",
        "app",
        "credential",
        "reset",
        "--id",
        CLIENT,
        "--append",
        "--display-name",
        "inbound",
        "--end-date",
        &months_ahead(months),
        "--query",
        "password",
        "-o",
        "tsv",
    ])
}

async fn import(cli: &Cli, name: &str, code: &str) -> std::process::Output {
    cli.run(
        &[
            "add",
            name,
            "--username",
            "support@contoso.com",
            "--setup-code",
            "-",
            // Pre-flight would ask Microsoft itself; these tests stay on this machine.
            "--no-check",
        ],
        Some(&format!("{code}\n")),
    )
    .await
}

#[tokio::test]
async fn a_new_app_as_admin_then_its_code_imports() {
    if !stub_az_or_skip() {
        return;
    }
    let cli = Cli::new();
    let run = run_bash(&cli, &[], false, true).await;
    let expected = vec![
        tenant_id(),
        app_by_name(),
        call(&[
            "ad",
            "app",
            "create",
            "--display-name",
            "inbound",
            "--sign-in-audience",
            "AzureADMyOrg",
            "--web-redirect-uris",
            REDIRECT,
            "--query",
            "appId",
            "-o",
            "tsv",
        ]),
        delegated_permissions(),
        call(&["ad", "sp", "show", "--id", CLIENT]),
        // Replication lag: the first create fails, the retry after a wait succeeds.
        call(&["ad", "sp", "create", "--id", CLIENT]),
        call(&["ad", "sp", "create", "--id", CLIENT]),
        call(&["ad", "app", "permission", "admin-consent", "--id", CLIENT]),
        credential_reset(12),
    ];
    assert_eq!(run.az(), expected);
    assert_eq!(
        run.calls.iter().filter(|c| c[0] == "sleep").count(),
        1,
        "one wait, for the one retry"
    );
    // The secret appears only inside the code.
    assert!(!run.stderr.contains(SECRET), "{}", run.stderr);
    assert!(!run.stdout.contains(SECRET));
    let code = run.code();
    assert!(code.starts_with("inbound-setup:1:"), "{code}");
    assert!(!run.stderr.contains("adminconsent"), "an admin needs no link");

    let out = import(&cli, "Support inbox", &code).await;
    let err = text(&out.stderr);
    assert!(out.status.success(), "import failed: {err}");
    assert!(err.contains("admin consent: granted"), "{err}");
    assert!(!err.contains(SECRET) && !err.contains(&code), "{err}");
    let config = cli.store().load().unwrap();
    let app = config.app("Support inbox").expect("the app");
    assert_eq!(app.client_id, CLIENT);
    assert_eq!(app.tenant, TENANT);
    assert_eq!(app.secret.as_ref().map(|s| s.expose()), Some(SECRET));
    assert_eq!(app.secret_expires.map(|d| d.to_string()), Some(months_ahead(12)));
    let server = config.server("Support inbox").expect("the server");
    assert_eq!(server.username, "support@contoso.com");
    assert_eq!(server.app.as_deref(), Some("Support inbox"));
}

#[tokio::test]
async fn an_app_of_the_same_name_is_reused_and_a_non_admin_gets_the_link() {
    if !stub_az_or_skip() {
        return;
    }
    let cli = Cli::new();
    let run = run_bash(&cli, &["--secret-months", "6"], true, false).await;
    let mut expected = vec![
        tenant_id(),
        app_by_name(),
        call(&[
            "ad",
            "app",
            "update",
            "--id",
            CLIENT,
            "--web-redirect-uris",
            REDIRECT,
        ]),
        delegated_permissions(),
        call(&["ad", "sp", "show", "--id", CLIENT]),
    ];
    // Not an admin: admin-consent is tried as often as the retries allow, then the link.
    for _ in 0..6 {
        expected.push(call(&[
            "ad",
            "app",
            "permission",
            "admin-consent",
            "--id",
            CLIENT,
        ]));
    }
    expected.push(credential_reset(6));
    assert_eq!(run.az(), expected);
    // The script's link brings the admin's answer back to the redirect URI it registered,
    // and says where to paste it.
    let returning =
        format!("https://login.microsoftonline.com/{TENANT}/v2.0/adminconsent?client_id={CLIENT}&");
    let script_link = run
        .stderr
        .split_whitespace()
        .find(|w| w.starts_with(&returning))
        .unwrap_or_else(|| panic!("the script's link: {}", run.stderr))
        .to_string();
    assert!(
        script_link.contains("redirect_uri=http%3A%2F%2Flocalhost%2Fmicrosoft_outlook%2Fconfirm"),
        "{script_link}"
    );
    assert!(
        run.stderr.contains("admin_consent=True") && run.stderr.contains("inbound connect"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(SECRET));

    let out = import(&cli, "Support inbox", &run.code()).await;
    let err = text(&out.stderr);
    assert!(out.status.success(), "import failed: {err}");
    assert!(err.contains("admin consent: not granted"), "{err}");
    // The import gives the same link (its answer comes back to the registered redirect URI).
    let import_link = err
        .split_whitespace()
        .find(|w| w.starts_with(&returning))
        .unwrap_or_else(|| panic!("the import gives the link: {err}"));
    assert_eq!(import_link, script_link, "one link, wherever it is printed");
    assert!(
        err.contains("--admin-consent"),
        "and where to paste its answer: {err}"
    );
}

#[tokio::test]
async fn a_public_client_makes_no_secret() {
    if !stub_az_or_skip() {
        return;
    }
    let cli = Cli::new();
    let run = run_bash(&cli, &["--public-client"], false, true).await;
    let az = run.az();
    assert_eq!(
        az[2],
        call(&[
            "ad",
            "app",
            "create",
            "--display-name",
            "inbound",
            "--sign-in-audience",
            "AzureADMyOrg",
            "--public-client-redirect-uris",
            "http://localhost/microsoft_outlook/confirm",
            "--is-fallback-public-client",
            "true",
            "--query",
            "appId",
            "-o",
            "tsv"
        ])
    );
    assert!(
        !az.iter().any(|c| c.get(2).is_some_and(|a| a == "credential")),
        "no secret for a public client: {az:?}"
    );
    let out = import(&cli, "Desk", &run.code()).await;
    let err = text(&out.stderr);
    assert!(out.status.success(), "import failed: {err}");
    assert!(err.contains("public client (no secret)"), "{err}");
    let config = cli.store().load().unwrap();
    let app = config.app("Desk").unwrap();
    assert!(app.secret.is_none() && app.secret_expires.is_none());
}

#[tokio::test]
async fn public_url_registers_that_redirect_and_the_import_says_to_set_it() {
    if !stub_az_or_skip() {
        return;
    }
    let cli = Cli::new();
    let run = run_bash(
        &cli,
        &["--public-url", "https://demo.tasksuite.com/"],
        false,
        true,
    )
    .await;
    let create = &run.az()[2];
    assert!(
        create.contains(&"https://demo.tasksuite.com/microsoft_outlook/confirm".to_string()),
        "{create:?}"
    );
    let out = import(&cli, "Support inbox", &run.code()).await;
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("inbound settings --public-url https://demo.tasksuite.com"),
        "{err}"
    );
}

#[tokio::test]
async fn app_only_grants_the_mailboxes_through_exchange() {
    if !stub_az_or_skip() {
        return;
    }
    let cli = Cli::new();
    let run = run_bash(
        &cli,
        &[
            "--app-only",
            "--mailbox",
            "support@contoso.com",
            "--mailbox",
            "sales@contoso.com",
        ],
        false,
        true,
    )
    .await;
    let az = run.az();
    assert_eq!(
        az[2],
        call(&[
            "ad",
            "app",
            "create",
            "--display-name",
            "inbound",
            "--sign-in-audience",
            "AzureADMyOrg",
            "--query",
            "appId",
            "-o",
            "tsv"
        ])
    );
    assert_eq!(
        az[3],
        call(&[
            "ad",
            "app",
            "permission",
            "add",
            "--id",
            CLIENT,
            "--api",
            EXCHANGE,
            "--api-permissions",
            "5e5addcd-3e8d-4e90-baf5-964efab2b20a=Role"
        ])
    );
    assert_eq!(
        az[4],
        call(&["ad", "sp", "show", "--id", CLIENT, "--query", "id", "-o", "tsv"])
    );
    let pwsh = az
        .iter()
        .find(|c| c[0] == "pwsh")
        .expect("the Exchange step runs pwsh");
    assert_eq!(&pwsh[1..3], ["-NoProfile", "-Command"]);
    let command = &pwsh[3];
    for part in [
        "Connect-ExchangeOnline".to_string(),
        format!("New-ServicePrincipal -AppId '{CLIENT}' -ObjectId '{SP_OBJECT}' -DisplayName 'inbound'"),
        "@('support@contoso.com','sales@contoso.com')".to_string(),
        format!("Add-MailboxPermission -Identity $m -User '{SP_OBJECT}' -AccessRights FullAccess"),
    ] {
        assert!(command.contains(&part), "{part} missing from {command}");
    }
    let code = inbound::ops::setup::SetupCode::parse(&run.code()).unwrap();
    assert!(code.app_only && code.admin_consent);
    assert_eq!(code.mailboxes, ["support@contoso.com", "sales@contoso.com"]);
    // A mailbox the script did not grant is refused; a granted one becomes an app-only server.
    let other = cli
        .run(
            &[
                "add",
                "X",
                "--username",
                "other@contoso.com",
                "--setup-code",
                "-",
                "--no-check",
            ],
            Some(&run.code()),
        )
        .await;
    assert_eq!(other.status.code(), Some(2));
    assert!(
        text(&other.stderr).contains("not among the mailboxes"),
        "{}",
        text(&other.stderr)
    );
    let out = import(&cli, "Support inbox", &run.code()).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let servers = cli.store().load().unwrap().servers;
    assert_eq!(servers.len(), 1);
    assert_eq!(servers[0].auth, inbound::model::AuthKind::OAuth2App);
}

/// The `# [k/n] title` lines: both scripts must have the same.
fn step_titles(script: &str) -> Vec<String> {
    script
        .lines()
        .filter(|l| l.starts_with("# ["))
        .map(String::from)
        .collect()
}

#[tokio::test]
async fn powershell_follows_the_same_steps_with_the_same_code() {
    let cli = Cli::new();
    for args in COMBINATIONS {
        let bash = script(&cli, args).await;
        let mut pa = vec!["--shell", "pwsh"];
        pa.extend_from_slice(args);
        let ps = script(&cli, &pa).await;
        let titles = step_titles(&bash);
        assert!(titles.len() >= 6, "{args:?}: {titles:?}");
        assert_eq!(step_titles(&ps), titles, "{args:?}");
        assert!(ps.lines().count() < 40, "{args:?}: {} lines", ps.lines().count());
        // The same code: version, base64url without padding, 8 hex of SHA-256 over the payload.
        for part in [
            "\"inbound-setup:1:${P}:$K\"",
            "ConvertTo-Json -Compress",
            ".TrimEnd('=').Replace('+', '-').Replace('/', '_')",
            "[Security.Cryptography.SHA256]::HashData([Text.Encoding]::UTF8.GetBytes($P))).Substring(0, 8).ToLower()",
            "admin_consent = $A",
        ] {
            assert!(ps.contains(part), "{args:?}: {part} missing");
        }
        assert!(bash.contains("echo \"inbound-setup:1:$P:$(printf %s \"$P\" | sha256sum | cut -c1-8)\""));
        // The same JSON keys in both.
        let keys = |s: &str, sep: &str| -> Vec<String> {
            [
                "tenant",
                "client_id",
                "secret",
                "secret_expires",
                "redirect_uri",
                "public_client",
                "admin_consent",
                "app_only",
                "mailboxes",
            ]
            .iter()
            .filter(|k| s.contains(&format!("{k}{sep}")))
            .map(|k| k.to_string())
            .collect()
        };
        let code_line =
            |s: &str, needle: &str| s.lines().find(|l| l.contains(needle)).unwrap_or("").to_string();
        assert_eq!(
            keys(&code_line(&ps, "ConvertTo-Json"), " = "),
            keys(&code_line(&bash, "jq -cn"), ":"),
            "{args:?}"
        );
        // The same permission IDs, and a secret only where bash makes one.
        for id in [
            "652390e4-393a-48de-9484-05f9b1212954",
            "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
            "5e5addcd-3e8d-4e90-baf5-964efab2b20a",
        ] {
            assert_eq!(bash.contains(id), ps.contains(id), "{args:?}: {id}");
        }
        assert_eq!(
            bash.contains("credential reset"),
            ps.contains("Add-MgApplicationPassword"),
            "{args:?}"
        );
        assert_eq!(
            bash.contains("New-ServicePrincipal"),
            ps.contains("New-ServicePrincipal -AppId $C -ObjectId $SP.Id"),
            "{args:?}"
        );
    }
}

#[tokio::test]
async fn bad_options_are_refused_with_the_flag_to_fix() {
    let cli = Cli::new();
    let out = cli
        .run(
            &[
                "setup-script",
                "--public-client",
                "--app-only",
                "--mailbox",
                "a@contoso.com",
            ],
            None,
        )
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--public-client"),
        "{}",
        text(&out.stderr)
    );
    let out = cli.run(&["setup-script", "--app-only"], None).await;
    assert!(
        text(&out.stderr).contains("--mailbox ADDR"),
        "{}",
        text(&out.stderr)
    );
    let out = cli.run(&["setup-script", "--secret-months", "25"], None).await;
    assert_eq!(out.status.code(), Some(2));
    let out = cli.run(&["setup-script", "--app-name", "it's"], None).await;
    assert!(text(&out.stderr).contains("--app-name"), "{}", text(&out.stderr));
}

fn sample_code(expires: &str) -> String {
    let json = format!(
        r#"{{"tenant":"{TENANT}","client_id":"{CLIENT}","secret":"{SECRET}","secret_expires":"{expires}","redirect_uri":"{REDIRECT}","public_client":false,"admin_consent":true}}"#
    );
    use base64::Engine as _;
    let p = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
    format!("inbound-setup:1:{p}:{}", inbound::ops::setup::code::checksum(&p))
}

/// `code` with the character at `i` replaced by another base64url character.
fn changed_at(code: &str, i: usize) -> String {
    let c = if &code[i..=i] == "x" { "y" } else { "x" };
    format!("{}{c}{}", &code[..i], &code[i + 1..])
}

#[tokio::test]
async fn damaged_codes_get_a_precise_message_and_never_echo() {
    let cli = Cli::new();
    let good = sample_code(&months_ahead(3));
    let cases: Vec<(String, &str)> = vec![
        (good[..good.len() - 4].to_string(), "cut short"),
        (good.replacen(":1:", ":7:", 1), "version 7"),
        (
            format!("{}\n{}", &good[..50], &good[80..]),
            "broken across 2 lines",
        ),
        (changed_at(&good, 40), "checksum does not match"),
        (SECRET.to_string(), "not a setup code"),
        (String::new(), "empty"),
        (sample_code("2020-01-01"), "has passed"),
    ];
    for (input, says) in cases {
        let out = import(&cli, "S", &input).await;
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{says}: {err}");
        assert!(err.contains(says), "expected {says:?} in {err}");
        assert!(!err.contains(SECRET), "the secret leaked: {err}");
    }
    assert!(cli.store().load().unwrap().servers.is_empty());
    // A wrapped code whose pieces are all there is joined again; a file works like stdin.
    let wrapped = format!("{}\n{}\n", &good[..50], &good[50..]);
    let file = cli.dir.path().join("code.txt");
    std::fs::write(&file, wrapped).unwrap();
    let out = cli
        .run(
            &[
                "add",
                "S",
                "--username",
                "s@contoso.com",
                "--setup-code",
                file.to_str().unwrap(),
                "--no-check",
            ],
            None,
        )
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The log never holds the code or its secret.
    let logs = cli.config_dir().join("logs");
    for entry in std::fs::read_dir(&logs).into_iter().flatten().flatten() {
        let log = std::fs::read_to_string(entry.path()).unwrap_or_default();
        assert!(!log.contains(SECRET) && !log.contains("inbound-setup:"), "{log}");
    }
}

#[tokio::test]
async fn a_setup_code_excludes_the_app_flags() {
    let cli = Cli::new();
    let out = cli
        .run(
            &[
                "add",
                "S",
                "--username",
                "s@contoso.com",
                "--setup-code",
                "-",
                "--client-id",
                CLIENT,
            ],
            Some(""),
        )
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cannot be used with"),
        "{}",
        text(&out.stderr)
    );
}

/// On a terminal the pasted code is not echoed, a paste that arrives as two lines is joined,
/// and echo is back afterwards.
#[tokio::test]
async fn on_a_terminal_the_code_is_read_unseen() {
    if !support::tmux::tmux_or_skip("the setup-code terminal walk") {
        return;
    }
    let cli = Cli::new();
    let code = sample_code(&months_ahead(3));
    let context = String::new;
    for (name, pieces) in [
        ("One", vec![code.as_str()]),
        ("Two", vec![&code[..70], &code[70..]]),
    ] {
        let tmux = support::tmux::Tmux::new("setup");
        tmux.start_shell().await;
        // The status is printed through an octal escape so the typed command never matches it.
        tmux.text(&format!(
            "'{}' --config-dir '{}' add {name} --username s@contoso.com --setup-code - --no-check; printf 'EXIT\\072%s\\n' $?",
            env!("CARGO_BIN_EXE_inbound"),
            cli.config_dir().display()
        ))
        .await;
        tmux.keys(&["Enter"]).await;
        tmux.wait_for("Paste the setup code", &context).await;
        for (i, piece) in pieces.iter().enumerate() {
            tmux.text(piece).await;
            tmux.keys(&["Enter"]).await;
            if i + 1 < pieces.len() {
                tmux.wait_for("not complete yet", &context).await;
            }
        }
        let screen = tmux.wait_for("EXIT:", &context).await;
        assert!(screen.contains("EXIT:0"), "{screen}");
        assert!(screen.contains("from the setup code"), "{screen}");
        assert!(
            !screen.contains("inbound-setup:1:") && !screen.contains(SECRET),
            "{screen}"
        );
        tmux.text("echo echo-is-back").await;
        tmux.keys(&["Enter"]).await;
        tmux.wait_for("$ echo echo-is-back", &context).await;
    }
    let config = cli.store().load().unwrap();
    assert!(config.server("One").is_some() && config.server("Two").is_some());
}

/// The same expiry rule for add and edit as for the setup code: not past, not beyond 24 months.
#[tokio::test]
async fn add_and_edit_refuse_an_impossible_secret_expiry() {
    let cli = Cli::new();
    let add = |expires: &'static str| {
        let cli = &cli;
        async move {
            cli.run(
                &[
                    "add",
                    "S",
                    "--username",
                    "s@contoso.com",
                    "--client-id",
                    CLIENT,
                    "--tenant",
                    TENANT,
                    "--secret-stdin",
                    "--secret-expires",
                    expires,
                ],
                Some(SECRET),
            )
            .await
        }
    };
    let out = add("2020-01-01").await;
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("2020-01-01 has passed") && err.contains("--secret-expires"),
        "{err}"
    );
    let out = add("2099-01-01").await;
    assert!(
        text(&out.stderr).contains("more than 24 months"),
        "{}",
        text(&out.stderr)
    );
    assert!(cli.store().load().unwrap().servers.is_empty());
    let fine = months_ahead(24);
    let out = cli
        .run(
            &[
                "add",
                "S",
                "--username",
                "s@contoso.com",
                "--client-id",
                CLIENT,
                "--tenant",
                TENANT,
                "--secret-stdin",
                "--secret-expires",
                &fine,
                "--no-check",
            ],
            Some(SECRET),
        )
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = cli
        .run(&["edit", "--app", "S", "--secret-expires", "2020-01-01"], None)
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("has passed"), "{}", text(&out.stderr));
    let app = cli.store().load().unwrap().app("S").unwrap().clone();
    assert_eq!(app.secret_expires.map(|d| d.to_string()), Some(fine));
}
