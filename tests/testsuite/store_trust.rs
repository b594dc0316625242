//! Trust in the store, through the real binary: a command that only reads never creates a
//! store, a refused `cert new` leaves no key and a replaced key does not stay, a certificate
//! that Microsoft would refuse is refused, nothing we read can block (FIFOs, pipes, encrypted
//! keys: run with no terminal and a deadline, so a hang fails fast), a read-only store serves
//! every read and names itself when asked to write, and `demo --print-env` ends with the
//! process that started it.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use crate::support;

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;
use support::cli::{Cli, text};
use support::fake_idp::{DEFAULT_CLIENT_ID, FakeIdp};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_inbound");
const TENANT: &str = "contoso.onmicrosoft.com";
/// No command here should take long; a hang is a failure, not a wait.
const HANG: Duration = Duration::from_secs(30);

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// `setsid -w inbound --config-dir DIR ARGS`: a new session, so no controlling terminal even
/// when the tests run in one (nothing can prompt), standard input closed.
fn detached(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new("setsid");
    c.arg("-w").arg(BIN).arg("--config-dir").arg(dir).args(args);
    c.env_remove("RUST_LOG").kill_on_drop(true);
    c
}

async fn output(mut c: Command, stdin: Option<&str>) -> Output {
    use tokio::io::AsyncWriteExt as _;
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        let _ = input.write_all(s.as_bytes()).await;
    }
    drop(input);
    let what = format!("{c:?}");
    tokio::time::timeout(HANG, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{what} hung"))
        .unwrap()
}

async fn run(dir: &Path, args: &[&str]) -> Output {
    output(detached(dir, args), None).await
}

fn no_panic(out: &Output, what: &str) {
    assert_ne!(
        out.status.code(),
        Some(101),
        "{what} panicked: {}",
        text(&out.stderr)
    );
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            }
            out.push(p);
        }
    }
    out
}

fn keys_in(store: &Path) -> Vec<PathBuf> {
    files_under(&store.join("certs"))
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(".key.pem"))
        .collect()
}

// 8. Reading never creates a store.

#[tokio::test]
async fn read_commands_never_create_a_store() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("typo");
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::set_permissions(&empty, std::fs::Permissions::from_mode(0o700)).unwrap();
    let reads: &[&[&str]] = &[
        &["list"],
        &["list", "--json"],
        &["apps"],
        &["apps", "--json"],
        &["show", "X"],
        &["show", "X", "--json"],
        &["check"],
        &["check", "--json"],
        &["check", "X"],
        &["check", "--test"],
        &["doctor", "X"],
        &["doctor", "X", "--json"],
        &["token", "X"],
        &["token", "X", "--format", "json"],
        &["refresh", "X"],
        &["refresh", "--all"],
        &["test", "X"],
        &["test", "--all"],
        &["settings"],
        &["settings", "--json"],
        &["exchange-setup", "X"],
        &["cert", "show", "X"],
        &["connect", "X", "--no-browser", "--timeout", "1"],
        &["edit", "X", "--host", "h.example.com"],
        &["remove", "X"],
    ];
    for dir in [&missing, &empty] {
        for args in reads {
            let out = run(dir, args).await;
            let what = format!("{args:?} on {}", dir.display());
            no_panic(&out, &what);
            assert_eq!(out.status.code(), Some(3), "{what}: {}", text(&out.stderr));
            let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
            assert!(said.contains("no store at"), "{what}: {said}");
            if args[0] == "check" {
                assert!(
                    text(&out.stdout).starts_with("UNKNOWN - no store at"),
                    "{what}: {said}"
                );
            }
        }
    }
    assert!(!missing.exists(), "a read created {}", missing.display());
    assert!(
        files_under(&empty).is_empty(),
        "a read wrote {:?}",
        files_under(&empty)
    );

    // A write refused before it writes creates nothing either.
    let refused: &[&[&str]] = &[
        &["cert", "new", "NoSuchApp"],
        &["settings", "--listen-port", "0"],
        &["settings", "--public-url", "http://not-https.example.com"],
    ];
    for args in refused {
        let out = run(&missing, args).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        assert!(!missing.exists(), "{args:?} created {}", missing.display());
    }
    let out = run(&missing, &["settings", "--listen-port", "0"]).await;
    assert!(text(&out.stderr).contains("1 to 65535"), "{}", text(&out.stderr));
}

// 4. `cert new`: checked before a key is made; one key per app.

#[tokio::test]
async fn cert_new_checks_before_making_a_key_and_keeps_only_the_key_in_use() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let out = run(&store, &["settings", "--listen-port", "8401"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = run(&store, &["cert", "new", "NoSuchApp"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("NoSuchApp"), "{}", text(&out.stderr));
    assert!(
        keys_in(&store).is_empty(),
        "a refused cert new left {:?}",
        keys_in(&store)
    );

    let out = run(
        &store,
        &[
            "cert",
            "new",
            "X",
            "--client-id",
            "not-a-guid",
            "--tenant",
            TENANT,
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        keys_in(&store).is_empty(),
        "a refused cert new left {:?}",
        keys_in(&store)
    );
    let out = run(
        &store,
        &[
            "cert",
            "new",
            "X",
            "--client-id",
            DEFAULT_CLIENT_ID,
            "--tenant",
            TENANT,
            "--authority",
            "ftp://nowhere",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        keys_in(&store).is_empty(),
        "a refused cert new left {:?}",
        keys_in(&store)
    );

    for round in 0..3 {
        let mut args = vec!["cert", "new", "App", "--months", "1"];
        if round == 0 {
            args.extend(["--client-id", DEFAULT_CLIENT_ID, "--tenant", TENANT]);
        }
        let out = run(&store, &args).await;
        assert!(out.status.success(), "round {round}: {}", text(&out.stderr));
    }
    let keys = keys_in(&store);
    assert_eq!(keys.len(), 1, "3 runs keep one key: {keys:?}");
    let certs: Vec<PathBuf> = files_under(&store.join("certs"));
    assert_eq!(certs.len(), 2, "one key and its certificate: {certs:?}");
    let config = std::fs::read_to_string(store.join("config.json")).unwrap();
    let id = keys[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .replace(".key.pem", "");
    assert!(config.contains(&id), "the key kept is the one the app uses");

    // A key some killed process left (no app references it) goes with the next write.
    let stray = store
        .join("certs")
        .join("0123456789abcdef0123456789abcdef.key.pem");
    std::fs::write(&stray, "-----BEGIN PRIVATE KEY-----\n").unwrap();
    let out = run(&store, &["settings", "--listen-port", "8402"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!stray.exists(), "an unreferenced key is swept under the lock");
    assert_eq!(keys_in(&store).len(), 1);

    // Removing the app removes its key.
    let out = run(&store, &["remove", "--app", "App"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(keys_in(&store).is_empty(), "{:?}", keys_in(&store));
}

// 7. A certificate Microsoft would refuse is refused, and the working credential stays.

mod make {
    use openssl::asn1::Asn1Time;
    use openssl::hash::MessageDigest;
    use openssl::pkey::{PKey, Private};
    use openssl::rsa::Rsa;
    use openssl::symm::Cipher;
    use openssl::x509::{X509, X509NameBuilder};

    pub fn key() -> PKey<Private> {
        PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap()
    }

    /// A self-signed certificate for `key`, valid from `from` to `to` (Unix seconds).
    pub fn cert(key: &PKey<Private>, from: i64, to: i64) -> String {
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "test").unwrap();
        let name = name.build();
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(key).unwrap();
        b.set_not_before(&Asn1Time::from_unix(from).unwrap()).unwrap();
        b.set_not_after(&Asn1Time::from_unix(to).unwrap()).unwrap();
        b.sign(key, MessageDigest::sha256()).unwrap();
        String::from_utf8(b.build().to_pem().unwrap()).unwrap()
    }

    pub fn plain(key: &PKey<Private>) -> String {
        String::from_utf8(key.private_key_to_pem_pkcs8().unwrap()).unwrap()
    }

    pub fn encrypted(key: &PKey<Private>) -> String {
        String::from_utf8(
            key.private_key_to_pem_pkcs8_passphrase(Cipher::aes_256_cbc(), b"hunter2")
                .unwrap(),
        )
        .unwrap()
    }

    pub fn traditional_encrypted(key: &PKey<Private>) -> String {
        let rsa = key.rsa().unwrap();
        String::from_utf8(
            rsa.private_key_to_pem_passphrase(Cipher::aes_128_cbc(), b"hunter2")
                .unwrap(),
        )
        .unwrap()
    }
}

#[tokio::test]
async fn certificates_microsoft_would_refuse_are_refused_and_the_old_one_stays() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let out = run(
        &store,
        &[
            "cert",
            "new",
            "App",
            "--months",
            "1",
            "--client-id",
            DEFAULT_CLIENT_ID,
            "--tenant",
            TENANT,
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let config_before = std::fs::read(store.join("config.json")).unwrap();
    let keys_before = keys_in(&store);

    let now = jiff::Timestamp::now().as_second();
    let day = 86_400;
    let key = make::key();
    let other = make::key();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "expired",
            format!(
                "{}{}",
                make::plain(&key),
                make::cert(&key, now - 400 * day, now - day)
            ),
            "expired on",
        ),
        (
            "not yet valid",
            format!(
                "{}{}",
                make::plain(&key),
                make::cert(&key, now + 10 * day, now + 400 * day)
            ),
            "not valid before",
        ),
        (
            "another key",
            format!(
                "{}{}",
                make::plain(&other),
                make::cert(&key, now - day, now + 400 * day)
            ),
            "does not belong",
        ),
        (
            "encrypted (PKCS#8)",
            format!(
                "{}{}",
                make::encrypted(&key),
                make::cert(&key, now - day, now + 400 * day)
            ),
            "openssl pkey -in",
        ),
        (
            "encrypted (traditional)",
            format!(
                "{}{}",
                make::traditional_encrypted(&key),
                make::cert(&key, now - day, now + 400 * day)
            ),
            "openssl pkey -in",
        ),
    ];
    for (what, pem, says) in cases {
        let file = tmp.path().join("both.pem");
        std::fs::write(&file, pem).unwrap();
        let out = run(
            &store,
            &["cert", "new", "App", "--certificate", file.to_str().unwrap()],
        )
        .await;
        no_panic(&out, what);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {err}");
        assert!(err.contains(says), "{what}: {err}");
        assert!(!err.contains("Enter PEM pass phrase"), "{what} prompted: {err}");
        assert_eq!(
            std::fs::read(store.join("config.json")).unwrap(),
            config_before,
            "{what}: the app changed"
        );
        assert_eq!(keys_in(&store), keys_before, "{what}: keys changed");
    }

    // A valid pair still imports, and replaces the old key.
    let file = tmp.path().join("good.pem");
    std::fs::write(
        &file,
        format!(
            "{}{}",
            make::plain(&key),
            make::cert(&key, now - day, now + 400 * day)
        ),
    )
    .unwrap();
    let out = run(
        &store,
        &["cert", "new", "App", "--certificate", file.to_str().unwrap()],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let keys = keys_in(&store);
    assert_eq!(keys.len(), 1);
    assert_ne!(keys, keys_before);
}

// 9. Nothing we read blocks.

fn mkfifo(p: &Path) {
    let made = std::process::Command::new("mkfifo").arg(p).status().unwrap();
    assert!(made.success());
}

#[tokio::test]
async fn fifos_and_pipes_never_hang_a_command() {
    let idp = FakeIdp::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let fifo = tmp.path().join("fifo");
    mkfifo(&fifo);
    let fifo_s = fifo.to_str().unwrap();
    let authority = idp.authority();

    // Inputs: a FIFO nobody writes to is refused at once, with what to do.
    let inputs: &[(&[&str], &str)] = &[
        (
            &[
                "add",
                "S",
                "--username",
                "a@example.com",
                "--client-id",
                DEFAULT_CLIENT_ID,
                "--tenant",
                TENANT,
                "--no-check",
                "--secret-file",
                fifo_s,
            ],
            "--secret-file",
        ),
        (
            &["add", "S", "--username", "a@example.com", "--setup-code", fifo_s],
            "--setup-code",
        ),
        (
            &[
                "cert",
                "new",
                "App",
                "--client-id",
                DEFAULT_CLIENT_ID,
                "--tenant",
                TENANT,
                "--certificate",
                fifo_s,
            ],
            "--certificate",
        ),
    ];
    for (args, what) in inputs {
        let out = run(&store, args).await;
        no_panic(&out, what);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {err}");
        assert!(err.contains("nothing writing to it"), "{what}: {err}");
    }
    assert!(keys_in(&store).is_empty());

    // A pipe with a writer is how secrets stay off the disk: `--secret-file <(pass show …)`.
    let script = format!(
        "exec '{BIN}' --config-dir '{}' add S --username a@example.com --client-id {DEFAULT_CLIENT_ID} --tenant {TENANT} --authority '{authority}' --no-check --secret-file <(printf '%s\\n' 'Xy8Q~abcdefghijklmnopqrstuvwxyz0123456789')",
        store.display()
    );
    let mut c = Command::new("setsid");
    c.args(["-w", "bash", "-c", &script]).kill_on_drop(true);
    let out = output(c, None).await;
    assert!(
        out.status.success(),
        "process substitution: {}",
        text(&out.stderr)
    );

    // Store files: a FIFO in place of a certificate's private key.
    certificate_app_only(&store, &authority).await;
    let key = keys_in(&store).pop().unwrap();
    std::fs::remove_file(&key).unwrap();
    mkfifo(&key);
    for args in [
        &["token", "AppOnly"][..],
        &["refresh", "AppOnly"],
        &["doctor", "AppOnly", "--timeout", "2"],
        &["test", "AppOnly", "--timeout", "2"],
    ] {
        let out = run(&store, args).await;
        no_panic(&out, args[0]);
        let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert_ne!(out.status.code(), Some(0), "{args:?}: {said}");
        assert!(said.contains("not a regular file"), "{args:?}: {said}");
    }

    // And a FIFO in place of a token file or config.json.
    std::fs::remove_file(&key).unwrap();
    let config = store.join("config.json");
    let saved = std::fs::read(&config).unwrap();
    std::fs::remove_file(&config).unwrap();
    mkfifo(&config);
    for args in [&["list"][..], &["check"], &["token", "S"], &["settings"]] {
        let out = run(&store, args).await;
        no_panic(&out, args[0]);
        let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(said.contains("not a regular file"), "{args:?}: {said}");
    }
    std::fs::remove_file(&config).unwrap();
    std::fs::write(&config, saved).unwrap();
}

#[tokio::test]
async fn an_encrypted_stored_key_is_refused_not_prompted_for() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let idp = FakeIdp::start().await;
    let authority = idp.authority();
    certificate_app_only(&store, &authority).await;
    // Someone put an encrypted key in the store by hand.
    let key = keys_in(&store).pop().unwrap();
    std::fs::write(&key, make::encrypted(&make::key())).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = run(&store, &["token", "AppOnly"]).await;
    let err = text(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("openssl pkey -in"), "{err}");
    assert!(!err.contains("pass phrase"), "{err}");
}

/// `cert new App` at `authority`, and an app-only server `AppOnly` of it on a closed port.
async fn certificate_app_only(store: &Path, authority: &str) {
    let out = run(
        store,
        &[
            "cert",
            "new",
            "App",
            "--months",
            "1",
            "--client-id",
            DEFAULT_CLIENT_ID,
            "--tenant",
            TENANT,
            "--authority",
            authority,
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(
        store,
        &[
            "add",
            "AppOnly",
            "--auth",
            "oauth2-app",
            "--username",
            "b@example.com",
            "--app",
            "App",
            "--no-check",
            "--host",
            "127.0.0.1",
            "--port",
            "1",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
}

// 10. A read-only store.

/// How a store is made read-only for the binary: a read-only bind mount in a mount
/// namespace of its own when we are root and may make one (the real case: EROFS); else
/// modes without write permission (EACCES), which bind root only once its capabilities are
/// dropped (`setpriv`).
#[derive(Clone, Copy, Debug)]
enum ReadOnly {
    Mount,
    ModesNoCaps,
    Modes,
}

fn make_read_only(path: &Path) -> ReadOnly {
    // `STORE_TRUST_RO=modes` tries the fallback where a mount namespace is allowed too.
    let modes_only = std::env::var("STORE_TRUST_RO").is_ok_and(|v| v == "modes");
    if is_root() && !modes_only {
        let ns = std::process::Command::new("unshare")
            .args(["-m", "true"])
            .stderr(Stdio::null())
            .status();
        if ns.is_ok_and(|s| s.success()) {
            return ReadOnly::Mount;
        }
    }
    for p in files_under(path).into_iter().chain([path.to_path_buf()]) {
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode & !0o222)).unwrap();
    }
    if is_root() {
        ReadOnly::ModesNoCaps
    } else {
        ReadOnly::Modes
    }
}

/// `inbound --config-dir STORE ARGS` with `read_only` (a directory in the store, or the
/// store itself) read-only.
fn read_only_cmd(how: ReadOnly, store: &Path, read_only: &Path, args: &[&str]) -> Command {
    let mut c = match how {
        ReadOnly::Mount => {
            let mut c = Command::new("unshare");
            c.args([
                "-m",
                "sh",
                "-c",
                r#"mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@""#,
                "sh",
            ])
            .arg(read_only)
            .arg(BIN);
            c
        }
        ReadOnly::ModesNoCaps => {
            let mut c = Command::new("setpriv");
            c.args(["--bounding-set=-all", "--inh-caps=-all"]).arg(BIN);
            c
        }
        ReadOnly::Modes => Command::new(BIN),
    };
    c.arg("--config-dir").arg(store).args(args);
    c.env_remove("RUST_LOG").kill_on_drop(true);
    c
}

/// Sets a server's stored token to expire `in_secs` from now (negative: expired), due for
/// a refresh either way.
fn set_expiry(store_dir: &Path, server: &str, in_secs: i64) {
    let store = inbound::store::Store::open(Some(store_dir.to_path_buf())).unwrap();
    let srv = store.load().unwrap().server(server).cloned().unwrap();
    store
        .update_tokens(&srv, |f| {
            let t = f.tokens.as_mut().unwrap();
            let now = jiff::Timestamp::now();
            t.issued_at = now - jiff::SignedDuration::from_secs(3500);
            t.expires_at = now + jiff::SignedDuration::from_secs(in_secs);
            Ok::<_, inbound::store::StoreError>(())
        })
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_store_serves_reads_and_says_so_when_asked_to_write() {
    let idp = FakeIdp::start().await;
    let cli = Cli::new();
    cli.add_oauth(
        &idp,
        "S",
        "alice@example.com",
        &["--host", "127.0.0.1", "--port", "1"],
    )
    .await;
    let (out, status, page) = cli.connect("S").await;
    assert_eq!(status, 200, "{page}");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let store = cli.config_dir();
    let token = text(&cli.run(&["token", "S"], None).await.stdout);
    // No lock file: reads must not need one.
    for lock in files_under(&store)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".lock"))
    {
        std::fs::remove_file(lock).unwrap();
    }
    let how = make_read_only(&store);
    let ro = |args: &[&str]| read_only_cmd(how, &store, &store, args);

    for args in [
        &["list"][..],
        &["list", "--json"],
        &["show", "S"],
        &["show", "S", "--json"],
        &["apps"],
        &["settings"],
        &["check"],
        &["token", "S"],
        &["token", "S", "--format", "xoauth2"],
    ] {
        let out = output(ro(args), None).await;
        let err = text(&out.stderr);
        assert!(
            out.status.code() == Some(0) || (args[0] == "check" && out.status.code() != Some(3)),
            "{how:?} {args:?}: {err}"
        );
        assert!(
            err.is_empty() || args[0] == "check",
            "{how:?} {args:?} said: {err}"
        );
        if args[0] == "check" {
            assert!(!text(&out.stdout).contains("UNKNOWN"), "{}", text(&out.stdout));
        }
    }
    let served = text(&output(ro(&["token", "S"]), None).await.stdout);
    assert_eq!(served, token, "the stored token is served");

    // Writes say the store is read-only.
    for args in [
        &["refresh", "S"][..],
        &["edit", "S", "--host", "127.0.0.2"],
        &["remove", "S"],
        &["settings", "--listen-port", "8405"],
        // Refused before the browser: tokens it could not keep would be lost after sign-in.
        &[
            "connect",
            "S",
            "--no-browser",
            "--timeout",
            "5",
            "--listen-port",
            "0",
        ],
    ] {
        let out = output(ro(args), None).await;
        let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(4), "{how:?} {args:?}: {said}");
        assert!(said.contains("read-only"), "{how:?} {args:?}: {said}");
    }
    assert!(!store.join("config.lock").exists());
}

/// `test` on a read-only store: says first that no result can be recorded, tests anyway, and
/// a pass is shown as a pass (not a failure of the server) with exit 4, the store's code; a
/// failed test keeps its own failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_on_a_read_only_store_passes_and_says_it_could_not_be_recorded() {
    let Some(env) = support::mail::MailEnv::start().await else {
        return;
    };
    env.add("S", support::dovecot::OAUTH_USER, &[]).await;
    let cli = &env.cli;
    cli.add_oauth(
        &env.idp,
        "Down",
        support::dovecot::OAUTH_USER,
        &["--host", "127.0.0.1", "--port", "1"],
    )
    .await;
    for name in ["S", "Down"] {
        let (out, status, page) = cli.connect(name).await;
        assert_eq!(status, 200, "{page}");
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let store = cli.config_dir();
    for lock in files_under(&store)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".lock"))
    {
        std::fs::remove_file(lock).unwrap();
    }
    let how = make_read_only(&store);

    let out = output(read_only_cmd(how, &store, &store, &["test", "S"]), None).await;
    let (said, err) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(4), "{how:?}: {said}{err}");
    assert!(
        err.contains("read-only") && err.contains("no result can be recorded"),
        "{err}"
    );
    assert!(said.starts_with("✔ S:"), "a pass, not a failure: {said}");
    assert!(said.contains("passed") && said.contains("read-only"), "{said}");
    assert!(!said.contains("free space"), "{said}");
    assert!(!said.contains("✖"), "{said}");

    // A failed test is a failure, said as such (and the note before it).
    let out = output(read_only_cmd(how, &store, &store, &["test", "Down"]), None).await;
    let (said, err) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{how:?}: {said}{err}");
    assert!(said.starts_with("✖ Down:"), "{said}");
    assert!(err.contains("no result can be recorded"), "{err}");

    // Nothing was written: still Draft.
    let shown = output(read_only_cmd(how, &store, &store, &["show", "S", "--json"]), None).await;
    let v: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(v["state"], "Draft", "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_store_serves_a_due_token_while_valid_then_says_why_not() {
    let idp = FakeIdp::start().await;
    let cli = Cli::new();
    cli.add_oauth(
        &idp,
        "S",
        "alice@example.com",
        &["--host", "127.0.0.1", "--port", "1"],
    )
    .await;
    let (out, status, _) = cli.connect("S").await;
    assert!(status == 200 && out.status.success(), "{}", text(&out.stderr));
    let store = cli.config_dir();
    // Due for a refresh, still valid for a minute: served, with a warning.
    set_expiry(&store, "S", 60);
    let how = make_read_only(&store);
    let out = output(read_only_cmd(how, &store, &store, &["token", "S"]), None).await;
    assert!(out.status.success(), "{how:?}: {}", text(&out.stderr));
    assert!(!text(&out.stdout).trim().is_empty());
    assert!(text(&out.stderr).contains("read-only"), "{}", text(&out.stderr));

    // Expired: nothing to serve, and it says why.
    let cli2 = Cli::new();
    cli2.add_oauth(
        &idp,
        "S",
        "alice@example.com",
        &["--host", "127.0.0.1", "--port", "1"],
    )
    .await;
    let (out, status, _) = cli2.connect("S").await;
    assert!(status == 200 && out.status.success(), "{}", text(&out.stderr));
    let store2 = cli2.config_dir();
    set_expiry(&store2, "S", -60);
    let how = make_read_only(&store2);
    let out = output(read_only_cmd(how, &store2, &store2, &["token", "S"]), None).await;
    assert_eq!(out.status.code(), Some(4), "{how:?}: {}", text(&out.stderr));
    assert!(text(&out.stdout).is_empty());
    assert!(text(&out.stderr).contains("read-only"), "{}", text(&out.stderr));
}

// Smaller promises.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_says_when_the_token_file_stays() {
    let idp = FakeIdp::start().await;
    let cli = Cli::new();
    cli.add_oauth(
        &idp,
        "S",
        "alice@example.com",
        &["--host", "127.0.0.1", "--port", "1"],
    )
    .await;
    let (out, status, _) = cli.connect("S").await;
    assert!(status == 200 && out.status.success(), "{}", text(&out.stderr));
    let store = cli.config_dir();
    let tokens = store.join("tokens");
    let how = make_read_only(&tokens);
    let out = output(read_only_cmd(how, &store, &tokens, &["remove", "S"]), None).await;
    let err = text(&out.stderr);
    assert!(!err.contains("and its tokens."), "{how:?}: {err}");
    assert!(err.contains("could not be deleted"), "{how:?}: {err}");
    assert_eq!(out.status.code(), Some(1), "{how:?}: {err}");
}

#[tokio::test]
async fn the_owner_refusal_names_a_command_to_run() {
    if !is_root() {
        // Only root can hand a store to another user; the message is built the same way.
        eprintln!("not root: cannot make a store owned by another user; skipping");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let out = run(&store, &["settings", "--listen-port", "8406"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    for p in files_under(&store).into_iter().chain([store.clone()]) {
        std::os::unix::fs::chown(&p, Some(65534), Some(65534)).unwrap();
    }
    let out = run(&store, &["list"]).await;
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    let user = if err.contains("nobody (uid 65534)") {
        "nobody"
    } else {
        "'#65534'"
    };
    let want = format!("sudo -u {user} inbound --config-dir {} list", store.display());
    assert!(err.contains(&want), "wanted {want} in: {err}");
    assert!(!err.contains("sudo -u nobody (uid"), "{err}");
}

// 11. `demo --print-env` ends with its parent.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_print_env_ends_with_the_process_that_started_it() {
    let tmp = tempfile::tempdir().unwrap();
    let keep = tmp.path().join("kept");
    // The parent: a shell that starts the demo and waits; killed, it leaves the demo an
    // orphan with no terminal and no signal.
    let mut parent = Command::new("sh");
    parent
        .args(["-c", r#""$0" demo --print-env --keep "$1" & wait"#, BIN])
        .arg(&keep)
        .env("TMPDIR", tmp.path())
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let mut parent = parent.spawn().unwrap();
    let mut stdout = BufReader::new(parent.stdout.take().unwrap());
    let mut imap_port = None;
    let read = async {
        let mut line = String::new();
        loop {
            line.clear();
            assert!(stdout.read_line(&mut line).await.unwrap() > 0, "demo ended early");
            if let Some(p) = line.trim().strip_prefix("export INBOUND_DEMO_IMAP_PORT=") {
                imap_port = p.parse::<u16>().ok();
            }
            if line.contains("inbound test Mine") {
                return;
            }
        }
    };
    tokio::time::timeout(HANG, read)
        .await
        .expect("the shell lines came");
    let port = imap_port.expect("the IMAP port was printed");
    assert_eq!(
        std::fs::metadata(&keep).unwrap().permissions().mode() & 0o777,
        0o700,
        "--keep DIR is private"
    );
    assert!(tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok());

    parent.kill().await.unwrap();
    // The demo holds the other end of stdout: end-of-file means it has exited.
    let mut rest = Vec::new();
    tokio::time::timeout(HANG, stdout.read_to_end(&mut rest))
        .await
        .expect("the demo ended with its parent")
        .unwrap();
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err(),
        "its IMAP listener is gone"
    );
    // Kept on request; without --keep its temporary directory goes (no inbound-demo-* left).
    assert!(keep.join("store").exists());
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("inbound-demo-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_print_env_without_keep_removes_its_store_when_the_parent_ends() {
    let tmp = tempfile::tempdir().unwrap();
    let mut parent = Command::new("sh");
    parent
        .args(["-c", r#""$0" demo --print-env & wait"#, BIN])
        .env("TMPDIR", tmp.path())
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let mut parent = parent.spawn().unwrap();
    let mut stdout = BufReader::new(parent.stdout.take().unwrap());
    let mut store = None;
    let read = async {
        let mut line = String::new();
        loop {
            line.clear();
            assert!(stdout.read_line(&mut line).await.unwrap() > 0, "demo ended early");
            if let Some(p) = line.trim().strip_prefix("export INBOUND_CONFIG_DIR=") {
                store = Some(PathBuf::from(p.trim_matches('\'')));
            }
            if line.contains("inbound test Mine") {
                return;
            }
        }
    };
    tokio::time::timeout(HANG, read)
        .await
        .expect("the shell lines came");
    let store = store.expect("the store was printed");
    assert!(store.exists());
    parent.kill().await.unwrap();
    let mut rest = Vec::new();
    tokio::time::timeout(HANG, stdout.read_to_end(&mut rest))
        .await
        .expect("the demo ended with its parent")
        .unwrap();
    assert!(!store.exists(), "the temporary store is removed");
}
