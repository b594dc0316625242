//! Certificate credentials end to end through the binary: `cert new` makes the key pair in
//! the store (key 0600 in a 0700 directory, never printed), the public certificate is
//! "uploaded" to the fake, and then an app-only server and a delegated server (sign-in and
//! refresh) work with client assertions only: no client_secret in any token request.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use crate::support;

use std::os::unix::fs::PermissionsExt as _;
use std::process::Output;
use support::cli::{Cli, text};
use support::dovecot::{Dovecot, OAUTH_USER};
use support::fake_idp::{DEFAULT_CLIENT_ID, FakeIdp};

const GRANTED: &str = "shared@example.com";
const APP: &str = "Cert app";
const TENANT: &str = "contoso.onmicrosoft.com";

struct Env {
    cli: Cli,
    idp: FakeIdp,
    dovecot: Dovecot,
}

impl Env {
    async fn run(&self, args: &[&str]) -> Output {
        self.cli.run(args, None).await
    }

    async fn add(&self, name: &str, auth: &str, mailbox: &str) {
        let server = self.dovecot.server_args();
        let mut args = vec!["add", name, "--auth", auth, "--username", mailbox, "--app", APP];
        args.extend(server.words());
        let out = self.run(&args).await;
        assert!(out.status.success(), "add: {}", text(&out.stderr));
    }
}

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_app_works_app_only_and_delegated_without_any_secret() {
    let idp = FakeIdp::start().await;
    idp.set_account(OAUTH_USER);
    idp.set_app_roles(&["IMAP.AccessAsApp"]);
    let grants = [(GRANTED.to_string(), idp.app_introspection_url(GRANTED))];
    let Some(dovecot) = Dovecot::start_with_app_mailboxes(&idp.introspection_url(), &grants) else {
        return;
    };
    let env = Env {
        cli: Cli::new(),
        idp,
        dovecot,
    };
    let authority = env.idp.authority();

    // A new app with only a certificate (a tenant that forbids secrets).
    let made = env
        .run(&[
            "cert",
            "new",
            APP,
            "--months",
            "36",
            "--client-id",
            DEFAULT_CLIENT_ID,
            "--tenant",
            TENANT,
            "--authority",
            &authority,
        ])
        .await;
    assert!(made.status.success(), "cert new: {}", text(&made.stderr));
    let pem = text(&made.stdout);
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    assert!(!pem.contains("PRIVATE") && !text(&made.stderr).contains("PRIVATE"));
    assert!(
        text(&made.stderr).contains("az ad app credential reset"),
        "{}",
        text(&made.stderr)
    );
    let certs = env.cli.config_dir().join("certs");
    assert_eq!(mode(&certs), 0o700);
    let keys: Vec<_> = std::fs::read_dir(&certs)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".key.pem"))
        .collect();
    assert_eq!(keys.len(), 1);
    assert_eq!(mode(&keys[0]), 0o600);
    let config = std::fs::read_to_string(env.cli.config_dir().join("config.json")).unwrap();
    assert!(!config.contains("PRIVATE"), "the key is not in config.json");

    // Not uploaded yet: pre-flight finds that Entra does not know the key, and saves nothing.
    let server = env.dovecot.server_args();
    let add = |extra: &'static [&'static str]| {
        let mut args = vec![
            "add",
            "Shared",
            "--auth",
            "oauth2-app",
            "--username",
            GRANTED,
            "--app",
            APP,
        ];
        args.extend(server.words());
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let args = add(&[]);
    let refused = env
        .run(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(
        text(&refused.stderr).contains("700027"),
        "{}",
        text(&refused.stderr)
    );
    let args = add(&["--no-check"]);
    let saved = env
        .run(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    assert!(saved.status.success(), "{}", text(&saved.stderr));
    // Saved anyway: the token itself is refused.
    let early = env.run(&["token", "Shared"]).await;
    assert_eq!(early.status.code(), Some(5), "{}", text(&early.stderr));
    assert!(text(&early.stderr).contains("700027"), "{}", text(&early.stderr));

    // Uploaded: the certificate works. A new one waits until it is uploaded and proven:
    // the working one stays meanwhile.
    env.idp.register_certificate(&pem);
    let again = env.run(&["cert", "new", APP, "--months", "36"]).await;
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stderr).contains(&format!("inbound cert use \"{APP}\"")),
        "{}",
        text(&again.stderr)
    );
    let shown = text(&env.run(&["cert", "show", APP]).await.stdout);
    assert_eq!(shown.trim(), pem.trim(), "the working certificate stays");
    let early = env.run(&["cert", "use", APP]).await;
    assert_eq!(early.status.code(), Some(2), "{}", text(&early.stderr));
    assert!(text(&early.stderr).contains("700027"), "{}", text(&early.stderr));
    env.idp.register_certificate(&text(&again.stdout));
    let used = env.run(&["cert", "use", APP]).await;
    assert!(used.status.success(), "{}", text(&used.stderr));
    let shown = text(&env.run(&["cert", "show", APP]).await.stdout);
    assert_eq!(shown.trim(), text(&again.stdout).trim());
    let keys = std::fs::read_dir(&certs)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".key.pem"))
        })
        .count();
    assert_eq!(keys, 1, "the replaced key is gone");
    let t = env.run(&["test", "Shared"]).await;
    assert!(t.status.success(), "test: {}{}", text(&t.stdout), text(&t.stderr));

    // Delegated with the same certificate: sign-in (code redemption) and refresh.
    env.add("Alice", "oauth2", OAUTH_USER).await;
    let (out, status, page) = env.cli.connect("Alice").await;
    assert!(out.status.success(), "connect: {} {page}", text(&out.stderr));
    assert_eq!(status, 200);
    let r = env.run(&["refresh", "Alice"]).await;
    assert!(r.status.success(), "refresh: {}", text(&r.stderr));
    assert_eq!(env.idp.refresh_requests(), 1);
    let t = env.run(&["test", "Alice"]).await;
    assert!(t.status.success(), "test: {}{}", text(&t.stdout), text(&t.stderr));

    assert_eq!(env.idp.client_secret_requests(), 0, "no client_secret anywhere");
    assert!(env.idp.client_assertion_requests() >= 3);

    // The certificate's own expiry is the credential date the health reports.
    let v: serde_json::Value =
        serde_json::from_slice(&env.run(&["show", "Shared", "--json"]).await.stdout).unwrap();
    assert_eq!(v["health"]["certificate"], true, "{v}");
    let days = v["health"]["secret_days_left"].as_i64().unwrap_or(0);
    assert!((1080..=1100).contains(&days), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn importing_a_certificate_checks_the_key_belongs_to_it() {
    let cli = Cli::new();
    let dir = tempfile::tempdir().unwrap();
    let a = inbound::services::cert::generate("a", 1).unwrap();
    let b = inbound::services::cert::generate("b", 1).unwrap();
    let good = dir.path().join("good.pem");
    std::fs::write(&good, format!("{}{}", a.key_pem.expose(), a.cert_pem)).unwrap();
    let bad = dir.path().join("bad.pem");
    std::fs::write(&bad, format!("{}{}", b.key_pem.expose(), a.cert_pem)).unwrap();
    let args = |f: &std::path::Path| {
        vec![
            "cert".to_string(),
            "new".into(),
            APP.into(),
            "--certificate".into(),
            f.display().to_string(),
            "--client-id".into(),
            DEFAULT_CLIENT_ID.into(),
            "--tenant".into(),
            TENANT.into(),
        ]
    };
    let run = |f: &std::path::Path| {
        let a = args(f);
        let cli = &cli;
        async move {
            let refs: Vec<&str> = a.iter().map(String::as_str).collect();
            cli.run(&refs, None).await
        }
    };
    let out = run(&bad).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("does not belong"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&good).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), a.cert_pem.trim());
    // Without an app and without --client-id: says what to give.
    let out = cli.run(&["cert", "new", "Nobody"], None).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--client-id"), "{}", text(&out.stderr));
}

/// The secret of the app `add_oauth` made for server `server`, and the app's name.
async fn app_of(cli: &Cli, server: &str) -> String {
    let out = cli.run(&["show", server, "--json"], None).await;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["app"]["name"].as_str().unwrap().to_string()
}

/// A certificate never replaces a working secret unproven: an imported one Microsoft does
/// not know is refused and nothing changes; a new one waits until it is uploaded and
/// `cert use` proves it; `--no-check` replaces at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_replaces_a_working_secret_only_once_microsoft_accepts_it() {
    let idp = FakeIdp::start().await;
    let cli = Cli::new();
    cli.add_oauth(&idp, "S", OAUTH_USER, &["--host", "127.0.0.1", "--port", "1"])
        .await;
    let app = app_of(&cli, "S").await;
    let has_certificate = |cli: &Cli| {
        let config = std::fs::read_to_string(cli.config_dir().join("config.json")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&config).unwrap();
        v["apps"][0].get("certificate").is_some()
    };
    let dir = tempfile::tempdir().unwrap();
    let pair = inbound::services::cert::generate("imported", 12).unwrap();
    let file = dir.path().join("pair.pem");
    std::fs::write(&file, format!("{}{}", pair.key_pem.expose(), pair.cert_pem)).unwrap();
    let file = file.display().to_string();

    // Imported but not uploaded: Microsoft refuses it, the secret stays, no key is left.
    let before = idp.client_assertion_requests();
    let out = cli
        .run(&["cert", "new", &app, "--certificate", &file], None)
        .await;
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("700027") && err.contains("--no-check"), "{err}");
    assert!(
        idp.client_assertion_requests() > before,
        "the certificate was tried"
    );
    assert!(!has_certificate(&cli));
    let certs = cli.config_dir().join("certs");
    let keys = |dir: &std::path::Path| {
        std::fs::read_dir(dir)
            .map(|d| {
                d.filter(|e| {
                    e.as_ref()
                        .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".key.pem"))
                })
                .count()
            })
            .unwrap_or(0)
    };
    assert_eq!(keys(&certs), 0, "no key of a refused certificate is kept");

    // Uploaded: proven, then in use.
    idp.register_certificate(&pair.cert_pem);
    let out = cli
        .run(&["cert", "new", &app, "--certificate", &file], None)
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("Microsoft accepted"),
        "{}",
        text(&out.stderr)
    );
    assert!(has_certificate(&cli));

    // A new key cannot be known to Microsoft yet: it waits, the working certificate stays.
    let made = cli.run(&["cert", "new", &app], None).await;
    assert!(made.status.success(), "{}", text(&made.stderr));
    assert!(text(&made.stderr).contains("cert use"), "{}", text(&made.stderr));
    let show = cli.run(&["cert", "show", &app], None).await;
    assert_eq!(text(&show.stdout).trim(), pair.cert_pem.trim());
    assert!(
        text(&show.stderr).contains("waits to be proven"),
        "{}",
        text(&show.stderr)
    );
    assert_eq!(keys(&certs), 2, "the working key and the waiting one");
    // `cert use` before the upload changes nothing; after it, switches.
    let early = cli.run(&["cert", "use", &app], None).await;
    assert_eq!(early.status.code(), Some(2), "{}", text(&early.stderr));
    let shown = text(&cli.run(&["cert", "show", &app], None).await.stdout);
    assert_eq!(shown.trim(), pair.cert_pem.trim());
    idp.register_certificate(&text(&made.stdout));
    let used = cli.run(&["cert", "use", &app], None).await;
    assert!(used.status.success(), "{}", text(&used.stderr));
    let shown = text(&cli.run(&["cert", "show", &app], None).await.stdout);
    assert_eq!(shown.trim(), text(&made.stdout).trim());
    assert_eq!(keys(&certs), 1, "the replaced key is swept");
    let none = cli.run(&["cert", "use", &app], None).await;
    assert_eq!(none.status.code(), Some(2), "{}", text(&none.stderr));
    assert!(text(&none.stderr).contains("no new certificate waiting"));

    // --no-check: replaced at once, and said so.
    let unchecked = cli.run(&["cert", "new", &app, "--no-check"], None).await;
    assert!(unchecked.status.success(), "{}", text(&unchecked.stderr));
    assert!(
        text(&unchecked.stderr).contains("unchecked"),
        "{}",
        text(&unchecked.stderr)
    );
    let shown = text(&cli.run(&["cert", "show", &app], None).await.stdout);
    assert_eq!(shown.trim(), text(&unchecked.stdout).trim());
}
