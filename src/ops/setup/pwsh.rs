//! The steps as a PowerShell script for Azure Cloud Shell, with the Microsoft Graph module
//! (and ExchangeOnlineManagement for app-only); .NET computes the code's base64url and checksum.

use crate::model::quote::powershell;

use super::steps::{
    DELEGATED, EXCHANGE_APP, GRAPH_APP, IMAP_ACCESS_AS_APP, PUBLIC_CLIENT_REDIRECT, SECRET_NAME,
    ScriptOptions, Step, TRIES, TRY_WAIT_SECS, consent_answer, consent_link,
};

pub fn render(o: &ScriptOptions, steps: &[Step]) -> String {
    let mut out = vec![
        format!(
            "# inbound {} setup script for Azure Cloud Shell (PowerShell). Its last line is the setup code.",
            env!("CARGO_PKG_VERSION")
        ),
        "$ErrorActionPreference = 'Stop'".to_string(),
        format!("$N = {}", powershell(&o.app_name)),
    ];
    if let Some(r) = &o.redirect_uri {
        out.push(format!("$R = {}", powershell(r)));
    }
    // Steps right after creating an app can fail until it has replicated.
    out.push(format!(
        "function R([scriptblock]$B) {{ for ($i = 1; ; $i++) {{ try {{ return & $B }} catch {{ if ($i -ge {TRIES}) {{ throw }}; Start-Sleep {TRY_WAIT_SECS} }} }} }}"
    ));
    out.push(
        "Connect-MgGraph -NoWelcome -Scopes Application.ReadWrite.All, AppRoleAssignment.ReadWrite.All, DelegatedPermissionGrant.ReadWrite.All"
            .to_string(),
    );
    for (i, step) in steps.iter().enumerate() {
        out.push(format!("# [{}/{}] {}", i + 1, steps.len(), step.title(o)));
        out.extend(lines(o, *step));
    }
    let mut s = out.join("\n");
    s.push('\n');
    s
}

fn platform(o: &ScriptOptions) -> Option<String> {
    if o.public_client {
        Some(format!(
            "-PublicClient @{{ RedirectUris = @('{PUBLIC_CLIENT_REDIRECT}') }} -IsFallbackPublicClient"
        ))
    } else if o.redirect_uri.is_some() {
        Some("-Web @{ RedirectUris = @($R) }".to_string())
    } else {
        None
    }
}

fn lines(o: &ScriptOptions, step: Step) -> Vec<String> {
    match step {
        Step::Tenant => vec!["$T = (Get-MgContext).TenantId".into()],
        Step::App => {
            let platform = platform(o);
            let p = platform.as_deref().unwrap_or("");
            let mut v = vec![
                "$App = Get-MgApplication -Filter \"displayName eq '$N'\" -Top 1".into(),
                format!("if (-not $App) {{ $App = New-MgApplication -DisplayName $N -SignInAudience AzureADMyOrg {p} }}")
                    .replace("  }", " }"),
            ];
            if let Some(p) = &platform {
                v.push(format!("else {{ Update-MgApplication -ApplicationId $App.Id {p} }}"));
            }
            v.push("$C = $App.AppId".into());
            v
        }
        Step::Permissions => {
            let (api, access) = if o.app_only {
                (EXCHANGE_APP, format!("@{{ Id = '{}'; Type = 'Role' }}", IMAP_ACCESS_AS_APP.1))
            } else {
                let a: Vec<String> = DELEGATED
                    .iter()
                    .map(|(_, id)| format!("@{{ Id = '{id}'; Type = 'Scope' }}"))
                    .collect();
                (GRAPH_APP, a.join(", "))
            };
            vec![
                format!("$Api = '{api}'"),
                format!(
                    "Update-MgApplication -ApplicationId $App.Id -RequiredResourceAccess @(@{{ ResourceAppId = $Api; ResourceAccess = @({access}) }})"
                ),
            ]
        }
        Step::ServicePrincipal => vec![
            "$SP = Get-MgServicePrincipal -Filter \"appId eq '$C'\"; if (-not $SP) { $SP = R { New-MgServicePrincipal -AppId $C } }"
                .into(),
        ],
        Step::AdminConsent => {
            let grant = if o.app_only {
                format!(
                    "if (-not (Get-MgServicePrincipalAppRoleAssignment -ServicePrincipalId $SP.Id | Where-Object AppRoleId -eq '{id}')) {{ R {{ New-MgServicePrincipalAppRoleAssignment -ServicePrincipalId $SP.Id -PrincipalId $SP.Id -ResourceId $Res.Id -AppRoleId '{id}' }} | Out-Null }}",
                    id = IMAP_ACCESS_AS_APP.1
                )
            } else {
                let scope: Vec<&str> = DELEGATED.iter().map(|(name, _)| *name).collect();
                format!(
                    "$G = Get-MgOauth2PermissionGrant -Filter \"clientId eq '$($SP.Id)' and resourceId eq '$($Res.Id)' and consentType eq 'AllPrincipals'\"; \
if ($G) {{ Update-MgOauth2PermissionGrant -OAuth2PermissionGrantId $G[0].Id -Scope '{s}' }} \
else {{ R {{ New-MgOauth2PermissionGrant -ClientId $SP.Id -ConsentType AllPrincipals -ResourceId $Res.Id -Scope '{s}' }} | Out-Null }}",
                    s = scope.join(" ")
                )
            };
            vec![
                "$Res = Get-MgServicePrincipal -Filter \"appId eq '$Api'\"".into(),
                format!("try {{ {grant}; $A = $true }}"),
                format!(
                    "catch {{ $A = $false; Write-Warning \"No admin consent (are you an admin?). Send an admin this link: {}{}\" }}",
                    consent_link(o, "$T", "$C"),
                    consent_answer(o)
                ),
            ]
        }
        Step::Secret => vec![
            format!("$E = (Get-Date).ToUniversalTime().AddMonths({})", o.secret_months),
            format!(
                "$S = (R {{ Add-MgApplicationPassword -ApplicationId $App.Id -PasswordCredential @{{ DisplayName = '{SECRET_NAME}'; EndDateTime = $E }} }}).SecretText"
            ),
        ],
        Step::Exchange => {
            let mailboxes: Vec<String> = o.mailboxes.iter().map(|m| powershell(m)).collect();
            vec![
                "Connect-ExchangeOnline -ShowBanner:$false".into(),
                "if (-not (Get-ServicePrincipal | Where-Object AppId -eq $C)) { R { New-ServicePrincipal -AppId $C -ObjectId $SP.Id -DisplayName $N } | Out-Null }".into(),
                format!(
                    "foreach ($M in @({})) {{ R {{ Add-MailboxPermission -Identity $M -User $SP.Id -AccessRights FullAccess }} | Out-Null }}",
                    mailboxes.join(", ")
                ),
            ]
        }
        Step::Code => {
            let mut fields = vec!["tenant = $T".to_string(), "client_id = $C".to_string()];
            if !o.public_client {
                fields.push("secret = $S".into());
                fields.push("secret_expires = $E.ToString('yyyy-MM-dd', [Globalization.CultureInfo]::InvariantCulture)".into());
            }
            if o.redirect_uri.is_some() {
                fields.push("redirect_uri = $R".into());
            }
            let mailboxes: Vec<String> = o.mailboxes.iter().map(|m| powershell(m)).collect();
            fields.push(format!("public_client = ${}", o.public_client));
            fields.push("admin_consent = $A".into());
            fields.push(format!("app_only = ${}", o.app_only));
            fields.push(format!("mailboxes = @({})", mailboxes.join(", ")));
            vec![
                format!("$J = [ordered]@{{ {} }} | ConvertTo-Json -Compress", fields.join("; ")),
                "$P = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($J)).TrimEnd('=').Replace('+', '-').Replace('/', '_')".into(),
                "$K = [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData([Text.Encoding]::UTF8.GetBytes($P))).Substring(0, 8).ToLower()".into(),
                "Write-Host 'Setup code below. It holds the secret: paste it into inbound (add NAME --username U --setup-code -), then clear this screen.'".into(),
                "\"inbound-setup:1:${P}:$K\"".into(),
            ]
        }
    }
}
