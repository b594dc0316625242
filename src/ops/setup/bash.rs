//! The steps as a bash script for Azure Cloud Shell, with the Azure CLI (`az`), `jq`,
//! `base64` and `sha256sum`, all of which Cloud Shell has.

use crate::model::quote::{posix, powershell};

use super::steps::{
    DELEGATED, EXCHANGE_APP, GRAPH_APP, IMAP_ACCESS_AS_APP, PUBLIC_CLIENT_REDIRECT, SECRET_NAME,
    ScriptOptions, Step, TRIES, TRY_WAIT_SECS, consent_answer, consent_link,
};

pub fn render(o: &ScriptOptions, steps: &[Step]) -> String {
    let mut out = vec![
        "#!/usr/bin/env bash".to_string(),
        format!(
            "# inbound {} setup script for Azure Cloud Shell (bash). Its last line is the setup code.",
            env!("CARGO_PKG_VERSION")
        ),
        "set -euo pipefail".to_string(),
        format!("N={}", posix(&o.app_name)),
    ];
    if let Some(r) = &o.redirect_uri {
        out.push(format!("R={}", posix(r)));
    }
    // Steps right after creating an app can fail until it has replicated.
    let tries: Vec<String> = (1..=TRIES).map(|i| i.to_string()).collect();
    out.push(format!(
        "r() {{ for _ in {}; do \"$@\" && return; sleep {TRY_WAIT_SECS}; done; return 1; }}",
        tries.join(" ")
    ));
    for (i, step) in steps.iter().enumerate() {
        out.push(format!("# [{}/{}] {}", i + 1, steps.len(), step.title(o)));
        out.extend(lines(o, *step));
    }
    let mut s = out.join("\n");
    s.push('\n');
    s
}

fn platform(o: &ScriptOptions) -> String {
    if o.public_client {
        format!("--public-client-redirect-uris {PUBLIC_CLIENT_REDIRECT} --is-fallback-public-client true")
    } else if o.redirect_uri.is_some() {
        "--web-redirect-uris \"$R\"".to_string()
    } else {
        String::new()
    }
}

fn lines(o: &ScriptOptions, step: Step) -> Vec<String> {
    match step {
        Step::Tenant => vec!["T=$(az account show --query tenantId -o tsv)".into()],
        Step::App => {
            let platform = platform(o);
            let create = format!(
                "  C=$(az ad app create --display-name \"$N\" --sign-in-audience AzureADMyOrg {platform} --query appId -o tsv)"
            )
            .replace("  --query", " --query");
            let mut v = vec![
                // --display-name matches by prefix (Azure/azure-cli#23053); the filter is exact.
                "C=$(az ad app list --filter \"displayName eq '$N'\" --query '[0].appId' -o tsv)".into(),
                "if [ -z \"$C\" ]; then".into(),
                create,
            ];
            if !platform.is_empty() {
                v.push("else".into());
                v.push(format!("  az ad app update --id \"$C\" {platform}"));
            }
            v.push("fi".into());
            v
        }
        Step::Permissions => {
            let (api, perms) = if o.app_only {
                (EXCHANGE_APP, format!("{}=Role", IMAP_ACCESS_AS_APP.1))
            } else {
                let p: Vec<String> = DELEGATED.iter().map(|(_, id)| format!("{id}=Scope")).collect();
                (GRAPH_APP, p.join(" "))
            };
            vec![format!(
                "az ad app permission add --id \"$C\" --api {api} --api-permissions {perms} 2>/dev/null"
            )]
        }
        // Exchange needs the service principal's object ID (app-only); otherwise it only has to exist.
        Step::ServicePrincipal if o.app_only => vec![
            "SP=$(az ad sp show --id \"$C\" --query id -o tsv 2>/dev/null || r az ad sp create --id \"$C\" --query id -o tsv)"
                .into(),
        ],
        Step::ServicePrincipal => vec![
            "az ad sp show --id \"$C\" >/dev/null 2>&1 || r az ad sp create --id \"$C\" >/dev/null".into(),
        ],
        Step::AdminConsent => vec![
            "A=false".into(),
            "if r az ad app permission admin-consent --id \"$C\" 2>/dev/null; then A=true; else".into(),
            format!(
                "  echo \"No admin consent (are you an admin?). Send an admin this link: {}{}\" >&2; fi",
                consent_link(o, "$T", "$C"),
                consent_answer(o)
            ),
        ],
        Step::Secret => vec![
            format!("E=$(date -u -d '+{} months' +%F)", o.secret_months),
            format!(
                "S=$(r az ad app credential reset --id \"$C\" --append --display-name {SECRET_NAME} --end-date \"$E\" --query password -o tsv 2>/dev/null)"
            ),
        ],
        Step::Exchange => {
            // PowerShell strings inside bash's double quotes: the mailboxes are plain addresses
            // (letters, digits and . _ + - @, checked by ScriptOptions), so nothing in them is
            // special to bash there either.
            let mailboxes: Vec<String> = o.mailboxes.iter().map(|m| powershell(m)).collect();
            vec![format!(
                "r pwsh -NoProfile -Command \"\\$ErrorActionPreference='Stop'; Connect-ExchangeOnline -ShowBanner:\\$false; \
if (-not (Get-ServicePrincipal | Where-Object AppId -eq '$C')) {{ New-ServicePrincipal -AppId '$C' -ObjectId '$SP' -DisplayName '$N' }}; \
foreach (\\$m in @({})) {{ Add-MailboxPermission -Identity \\$m -User '$SP' -AccessRights FullAccess }}\" \
|| {{ echo 'The Exchange step needs an Exchange administrator: ask one to run this script.' >&2; exit 1; }}",
                mailboxes.join(",")
            )]
        }
        Step::Code => {
            let mut args = vec!["--arg t \"$T\"", "--arg c \"$C\"", "--argjson a \"$A\""];
            let mut fields = vec!["tenant:$t", "client_id:$c"];
            if !o.public_client {
                args.extend(["--arg s \"$S\"", "--arg e \"$E\""]);
                fields.extend(["secret:$s", "secret_expires:$e"]);
            }
            if o.redirect_uri.is_some() {
                args.push("--arg r \"$R\"");
                fields.push("redirect_uri:$r");
            }
            let mailboxes: Vec<String> = o.mailboxes.iter().map(|m| format!("\"{m}\"")).collect();
            let tail = format!(
                "public_client:{},admin_consent:$a,app_only:{},mailboxes:[{}]",
                o.public_client,
                o.app_only,
                mailboxes.join(",")
            );
            vec![
                format!(
                    "P=$(jq -cn {} '{{{},{tail}}}' | base64 -w0 | tr '+/' '-_' | tr -d '=')",
                    args.join(" "),
                    fields.join(",")
                ),
                "echo 'Setup code below. It holds the secret: paste it into inbound (add NAME --username U --setup-code -), then clear this screen.' >&2".into(),
                "echo \"inbound-setup:1:$P:$(printf %s \"$P\" | sha256sum | cut -c1-8)\"".into(),
            ]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::steps::{ScriptOptions, Shell, steps};
    use super::render;

    /// Even values that validation would refuse come out of the script's variables intact:
    /// the quoting, not only the validation, keeps them from running.
    #[test]
    fn hostile_values_stay_inside_their_quotes() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("injected");
        let url = format!(
            "https://x.example/';touch {};'$(touch {})",
            marker.display(),
            marker.display()
        );
        let o = ScriptOptions {
            shell: Shell::Bash,
            app_name: "it's $(touch x)".into(),
            secret_months: 12,
            public_client: false,
            redirect_uri: Some(url.clone()),
            app_only: false,
            mailboxes: Vec::new(),
        };
        let script = render(&o, &steps(&o));
        // The variables, then print them instead of calling Azure.
        let head: Vec<&str> = script.lines().take_while(|l| !l.starts_with("r()")).collect();
        let probe = format!("{}\nprintf '%s\\n' \"$N\" \"$R\"", head.join("\n"));
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(&probe)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("it's $(touch x)\n{url}\n")
        );
        assert!(!marker.exists());
    }
}
