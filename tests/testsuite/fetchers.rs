//! The README's fetcher recipes, run with the real programs Debian ships (fetchmail, PHP
//! `imap_open`, mbsync, offlineimap, neomutt, getmail6, Python imaplib) against the test
//! Dovecot, which refuses `LOGIN` for OAuth users as Exchange Online does. Each test reads its
//! snippet from README.md (so the README shows exactly what ran), changes only the host, port,
//! mailbox and local folders, runs the client with a bounded deadline and no terminal, and
//! counts the messages it fetched by their Message-ID.
//!
//! A missing client binary skips its test with a notice, unless `INBOUND_REQUIRE_DOVECOT=1`
//! (CI), where it fails: `.ci/setup --test` installs every one of them.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use crate::support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;
use support::cli::text;
use support::dovecot::{INBOX_MESSAGES, OAUTH_USER, REQUIRE_ENV};
use support::mail::MailEnv;

/// The server Name and mailbox the README's snippets use.
const NAME: &str = "Support inbox";
const README_MAILBOX: &str = "support@contoso.com";
const README_HOST: &str = "outlook.office365.com";
/// Messages delivered on top of Dovecot's seeded ones, so a count cannot match by chance.
const EXTRA_MESSAGES: u32 = 4;
/// How long one client run may take.
const CLIENT_DEADLINE: Duration = Duration::from_secs(90);

struct Env {
    mail: MailEnv,
    /// The client's $HOME and working folder (configs, Maildirs, state).
    home: tempfile::TempDir,
}

impl Env {
    /// Fake IdP, Dovecot with extra messages, and a Confirmed OAuth server named [`NAME`].
    async fn start() -> Option<Env> {
        let mail = MailEnv::start().await?;
        for n in 1..=EXTRA_MESSAGES {
            mail.dovecot.deliver(OAUTH_USER, extra_message(n).as_bytes());
        }
        let expires = support::months_ahead(6);
        mail.add(NAME, OAUTH_USER, &["--secret-expires", &expires]).await;
        mail.connect(NAME).await;
        mail.confirm(NAME).await;
        let home = tempfile::tempdir().unwrap();
        Some(Env { mail, home })
    }

    fn home(&self) -> &Path {
        self.home.path()
    }

    /// A new Maildir (cur/new/tmp) under the client's home.
    fn maildir(&self, rel: &str) -> PathBuf {
        let dir = self.home().join(rel);
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        dir
    }

    /// Writes `name` under the client's home, readable by the owner only (fetchmail insists).
    fn write(&self, name: &str, contents: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt as _;
        let path = self.home().join(name);
        std::fs::write(&path, contents).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        path
    }

    /// `program args…` with `inbound` on PATH and pointed at the test store, $HOME in the
    /// temp dir, the test CA as the default trust (Python reads SSL_CERT_FILE), no stdin.
    fn command(&self, program: &Path, args: &[&str]) -> tokio::process::Command {
        let bin_dir = Path::new(env!("CARGO_BIN_EXE_inbound")).parent().unwrap();
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![bin_dir.to_path_buf()];
        dirs.extend(std::env::split_paths(&path));
        let mut c = tokio::process::Command::new(program);
        c.args(args)
            .current_dir(self.home())
            .env("PATH", std::env::join_paths(dirs).unwrap())
            .env("HOME", self.home())
            .env("INBOUND_CONFIG_DIR", self.mail.cli.config_dir())
            .env("SSL_CERT_FILE", &self.mail.dovecot.ca_file)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        c
    }

    /// Runs `command` to completion within [`CLIENT_DEADLINE`] and asserts it succeeded.
    async fn run_ok(&self, what: &str, mut command: tokio::process::Command) -> Output {
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("{what}: cannot spawn: {e}"));
        let out = tokio::time::timeout(CLIENT_DEADLINE, child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("{what} did not finish within {CLIENT_DEADLINE:?}"))
            .unwrap();
        assert!(
            out.status.success(),
            "{what} failed ({}):\n--- stdout ---\n{}\n--- stderr ---\n{}\n\
             --- inbound proxy ---\n{}\n--- dovecot ---\n{}",
            out.status,
            text(&out.stdout),
            text(&out.stderr),
            std::fs::read_to_string(self.home().join("proxy.log")).unwrap_or_default(),
            self.mail.dovecot.log_tail(20)
        );
        out
    }

    /// getmail refuses to deliver as root (as CI runs): the Maildir destination then delivers
    /// as `nobody`, which gets the Maildir.
    fn getmail_as_nobody_when_root(&self, maildir: &Path, rc: String) -> String {
        use std::os::unix::fs::MetadataExt as _;
        if std::fs::metadata(self.home()).unwrap().uid() != 0 {
            return rc;
        }
        let (uid, gid) = nobody_ids();
        let mut stack = vec![maildir.to_path_buf()];
        while let Some(path) = stack.pop() {
            std::os::unix::fs::chown(&path, Some(uid), Some(gid)).unwrap();
            if path.is_dir() {
                stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            }
        }
        // The home itself is private to root; nobody must reach the Maildir below it.
        std::fs::set_permissions(self.home(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        localize(
            &rc,
            &[("type = Maildir", "type = Maildir\nuser = nobody".to_owned())],
        )
    }

    /// Asserts that `fetched` holds exactly the mailbox's messages.
    fn assert_fetched_all(&self, what: &str, fetched: BTreeSet<String>) {
        assert_eq!(
            fetched,
            expected_ids(),
            "{what} fetched {} of {} messages",
            fetched.len(),
            INBOX_MESSAGES + EXTRA_MESSAGES
        );
    }
}

/// `s` in single quotes for /bin/sh.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// `(uid, gid)` of `nobody` from /etc/passwd.
fn nobody_ids() -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    passwd
        .lines()
        .find_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            (f.len() >= 4 && f[0] == "nobody").then(|| (f[2].parse().unwrap(), f[3].parse().unwrap()))
        })
        .expect("running as root needs a 'nobody' user")
}

fn extra_message(n: u32) -> String {
    format!(
        "From: Extra {n} <extra{n}@example.net>\r\n\
         To: <{OAUTH_USER}>\r\n\
         Subject: Extra message {n}\r\n\
         Date: Tue, 02 Jan 2024 10:0{n}:00 +0000\r\n\
         Message-ID: <extra-{n}.{OAUTH_USER}>\r\n\
         \r\n\
         Extra message number {n}.\r\n"
    )
}

/// The Message-IDs in the test INBOX (Dovecot's seeded ones and [`extra_message`]s).
fn expected_ids() -> BTreeSet<String> {
    (1..=INBOX_MESSAGES)
        .map(|n| format!("seed-{n}.{OAUTH_USER}"))
        .chain((1..=EXTRA_MESSAGES).map(|n| format!("extra-{n}.{OAUTH_USER}")))
        .collect()
}

/// The distinct Message-IDs in `text`.
fn message_ids(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| {
            let (key, value) = l.split_once(':')?;
            key.eq_ignore_ascii_case("message-id").then_some(value)
        })
        .filter_map(|v| Some(v.trim().strip_prefix('<')?.split_once('>')?.0.to_owned()))
        .collect()
}

/// The distinct Message-IDs of every file below `dir`.
fn message_ids_in(dir: &Path) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                ids.extend(message_ids(&String::from_utf8_lossy(
                    &std::fs::read(&path).unwrap(),
                )));
            }
        }
    }
    ids
}

/// The client binary on PATH; `None` with a notice (or a panic under `INBOUND_REQUIRE_DOVECOT=1`)
/// when the package is not installed.
fn client(program: &str, package: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(program))
        .find(|p| p.is_file());
    if found.is_none() {
        if std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1") {
            panic!("{program} not installed (Debian package {package}), but {REQUIRE_ENV}=1");
        }
        eprintln!(
            "{program} not installed; skipping this recipe test \
             (install the Debian package {package}, or set {REQUIRE_ENV}=1 to make this an error)"
        );
    }
    found
}

/// The fenced block after `<!-- recipe: NAME -->` in README.md.
fn readme_recipe(name: &str) -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let marker = format!("<!-- recipe: {name} -->");
    let start = readme
        .find(&marker)
        .unwrap_or_else(|| panic!("README.md has no {marker}"));
    let mut lines = readme[start + marker.len()..].lines().skip(1);
    let fence = lines.next().unwrap_or_default();
    assert!(
        fence.starts_with("```"),
        "{marker} is not followed by a fenced block"
    );
    let body: Vec<&str> = lines.take_while(|l| *l != "```").collect();
    body.join("\n") + "\n"
}

/// `recipe` with each `(from, to)` replaced; every `from` must occur (a README edit that drops
/// one would otherwise run a different recipe than the one shown).
fn localize(recipe: &str, replacements: &[(&str, String)]) -> String {
    let mut out = recipe.to_owned();
    for (from, to) in replacements {
        assert!(
            out.contains(from),
            "the recipe no longer contains {from:?}:\n{recipe}"
        );
        out = out.replace(from, to);
    }
    out
}

/// Every recipe the tests run is in the README, in a fenced block.
#[test]
fn every_recipe_is_in_the_readme() {
    for name in [
        "fetchmail-proxy",
        "fetchmail-tunnel",
        "php-proxy",
        "basic-form-proxy",
        "mbsync-tunnel",
        "mbsync-token",
        "offlineimap-tunnel",
        "offlineimap-token",
        "neomutt-tunnel",
        "neomutt-token",
        "getmail6-token",
        "imaplib-token",
    ] {
        assert!(readme_recipe(name).lines().count() >= 1, "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// token: the client speaks XOAUTH2 and runs `inbound token`.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imaplib_fetches_with_inbound_token() {
    let Some(python) = client("python3", "python3") else {
        return;
    };
    let Some(env) = Env::start().await else { return };
    let port = env.mail.dovecot.port;
    let mut script = localize(
        &readme_recipe("imaplib-token"),
        &[
            (&format!("\"{README_HOST}\""), format!("\"127.0.0.1\", {port}")),
            (README_MAILBOX, OAUTH_USER.to_owned()),
        ],
    );
    script.push_str(
        "imap.select(\"INBOX\", readonly=True)\n\
         typ, data = imap.fetch(\"1:*\", \"(BODY.PEEK[])\")\n\
         assert typ == \"OK\", data\n\
         import sys\n\
         for part in data:\n    \
             if isinstance(part, tuple):\n        \
                 sys.stdout.write(part[1].decode())\n\
         imap.logout()\n",
    );
    let file = env.write("fetch.py", &script);
    let out = env
        .run_ok("python3 imaplib", env.command(&python, &[file.to_str().unwrap()]))
        .await;
    env.assert_fetched_all("imaplib", message_ids(&text(&out.stdout)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn getmail6_fetches_with_inbound_token() {
    let Some(getmail) = client("getmail", "getmail6") else {
        return;
    };
    let Some(env) = Env::start().await else { return };
    let maildir = env.maildir("Maildir");
    let rc = localize(
        &readme_recipe("getmail6-token"),
        &[
            (
                &format!("server = {README_HOST}"),
                format!(
                    "server = 127.0.0.1\nport = {}\nca_certs = {}",
                    env.mail.dovecot.port,
                    env.mail.dovecot.ca_file.display()
                ),
            ),
            (README_MAILBOX, OAUTH_USER.to_owned()),
            ("~/Maildir/", format!("{}/", maildir.display())),
        ],
    );
    let rc = env.getmail_as_nobody_when_root(&maildir, rc);
    let rc = env.write("getmailrc", &rc);
    let state = env.home().join("getmail-state");
    std::fs::create_dir_all(&state).unwrap();
    let args = [
        "--rcfile",
        rc.to_str().unwrap(),
        "--getmaildir",
        state.to_str().unwrap(),
    ];
    env.run_ok("getmail", env.command(&getmail, &args)).await;
    env.assert_fetched_all("getmail6", message_ids_in(&maildir));
}

/// mbsync's Host/port/CA lines for the test Dovecot, in place of the README's host.
fn mbsync_local(env: &Env, recipe: &str) -> String {
    let mail = env.home().join("Mail").join("support");
    std::fs::create_dir_all(&mail).unwrap();
    let mut replacements = vec![("~/Mail/support/", format!("{}/", mail.display()))];
    if recipe.contains(README_HOST) {
        replacements.push((
            "Host outlook.office365.com",
            format!(
                // mbsync matches the certificate's names, not its IP addresses.
                "Host localhost\nPort {}\nCertificateFile {}",
                env.mail.dovecot.port,
                env.mail.dovecot.ca_file.display()
            ),
        ));
        replacements.push(("User support@contoso.com", format!("User {OAUTH_USER}")));
    }
    localize(recipe, &replacements)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mbsync_fetches_with_inbound_token_and_the_kde_sasl_plugin() {
    let Some(mbsync) = client("mbsync", "isync") else {
        return;
    };
    let plugin_installed = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .any(|dir| dir.is_ok_and(|d| d.path().join("sasl2/libkdexoauth2.so").exists()));
    if !plugin_installed && !std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1") {
        eprintln!("libsasl2-modules-kdexoauth2 not installed; skipping the mbsync XOAUTH2 recipe");
        return;
    }
    let Some(env) = Env::start().await else { return };
    let rc = env.write("mbsyncrc", &mbsync_local(&env, &readme_recipe("mbsync-token")));
    env.run_ok(
        "mbsync (XOAUTH2)",
        env.command(&mbsync, &["-c", rc.to_str().unwrap(), "-a"]),
    )
    .await;
    env.assert_fetched_all("mbsync (XOAUTH2)", message_ids_in(&env.home().join("Mail")));
}

/// Settings the test adds to a neomutt recipe: trust the test CA, copy without questions, keep
/// no caches, and leave the server's mail untouched.
fn neomutt_test_settings(env: &Env) -> String {
    format!(
        "set ssl_ca_certificates_file = \"{}\"\n\
         set mbox_type = Maildir\n\
         set confirmcreate = no\n\
         set confirmappend = no\n\
         set quit = yes\n\
         set move = no\n\
         set mark_old = no\n\
         set header_cache = \"\"\n\
         set message_cachedir = \"\"\n",
        env.mail.dovecot.ca_file.display()
    )
}

/// Runs neomutt on `rc` with no one at the keyboard: the pushed keys tag every message, copy
/// them to a local Maildir and quit; returns the Message-IDs copied. neomutt reads mail only on
/// a terminal (without one it turns into a mail sender), so `script` (util-linux) gives it a
/// pseudo-terminal; its stdin stays /dev/null.
async fn neomutt_fetch(env: &Env, neomutt: &Path, what: &str, rc: &str) -> BTreeSet<String> {
    let rc = env.write("neomuttrc", &(rc.to_owned() + &neomutt_test_settings(env)));
    let fetched = env.home().join("fetched");
    let keys = format!(
        "push \"<tag-pattern>~A<enter><tag-prefix><copy-message>{}<enter><quit>\"",
        fetched.display()
    );
    let line = [
        neomutt.to_str().unwrap(),
        "-n",
        "-F",
        rc.to_str().unwrap(),
        "-e",
        &keys,
    ]
    .map(shell_quote)
    .join(" ");
    let script = client("script", "bsdutils").expect("script is in Debian's essential bsdutils");
    let mut cmd = env.command(&script, &["-qec", &line, "/dev/null"]);
    cmd.env("TERM", "xterm");
    env.run_ok(what, cmd).await;
    message_ids_in(&fetched)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn neomutt_fetches_with_inbound_token() {
    let Some(neomutt) = client("neomutt", "neomutt") else {
        return;
    };
    let Some(env) = Env::start().await else { return };
    let rc = localize(
        &readme_recipe("neomutt-token"),
        &[
            (
                &format!("imaps://{README_HOST}/"),
                format!("imaps://localhost:{}/", env.mail.dovecot.port),
            ),
            (README_MAILBOX, OAUTH_USER.to_owned()),
        ],
    );
    let fetched = neomutt_fetch(&env, &neomutt, "neomutt (XOAUTH2)", &rc).await;
    env.assert_fetched_all("neomutt (XOAUTH2)", fetched);
}

/// offlineimap with the README's `recipe`, `replacements` made, syncing into a Maildir in the
/// client's home: the Message-IDs it fetched.
async fn offlineimap_fetch(
    env: &Env,
    offlineimap: &Path,
    what: &str,
    recipe: &str,
    replacements: &[(&str, String)],
) -> BTreeSet<String> {
    let mail = env.home().join("Mail").join("support");
    std::fs::create_dir_all(&mail).unwrap();
    let mut replacements = replacements.to_vec();
    replacements.push(("~/Mail/support", mail.display().to_string()));
    let rc = localize(&readme_recipe(recipe), &replacements);
    let rc = env.write("offlineimaprc", &rc);
    env.run_ok(
        what,
        env.command(offlineimap, &["-c", rc.to_str().unwrap(), "-o", "-u", "basic"]),
    )
    .await;
    message_ids_in(&mail)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offlineimap_fetches_with_inbound_token() {
    let Some(offlineimap) = client("offlineimap", "offlineimap3") else {
        return;
    };
    let Some(env) = Env::start().await else { return };
    let what = "offlineimap (XOAUTH2)";
    let host_line = format!("remotehost = {README_HOST}");
    let replacements = [
        (
            host_line.as_str(),
            format!("remotehost = localhost\nremoteport = {}", env.mail.dovecot.port),
        ),
        (README_MAILBOX, OAUTH_USER.to_owned()),
        (
            "/etc/ssl/certs/ca-certificates.crt",
            env.mail.dovecot.ca_file.display().to_string(),
        ),
    ];
    let fetched = offlineimap_fetch(&env, &offlineimap, what, "offlineimap-token", &replacements).await;
    env.assert_fetched_all(what, fetched);
}

// ---------------------------------------------------------------------------------------------
// tunnel: the client runs `inbound tunnel NAME` and talks pre-authenticated IMAP to it.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mbsync_fetches_through_inbound_tunnel() {
    let Some(mbsync) = client("mbsync", "isync") else {
        return;
    };
    let Some(env) = Env::start().await else { return };
    let rc = env.write("mbsyncrc", &mbsync_local(&env, &readme_recipe("mbsync-tunnel")));
    env.run_ok(
        "mbsync (tunnel)",
        env.command(&mbsync, &["-c", rc.to_str().unwrap(), "-a"]),
    )
    .await;
    env.assert_fetched_all("mbsync (tunnel)", message_ids_in(&env.home().join("Mail")));
}

/// fetchmail's arguments for `rc`, with its id and pid files in the client's home.
fn fetchmail_args(env: &Env, rc: &Path) -> Vec<String> {
    let home = env.home();
    [
        "-f",
        rc.to_str().unwrap(),
        "--nosyslog",
        "--nodetach",
        "--idfile",
        home.join("fetchids").to_str().unwrap(),
        "--pidfile",
        home.join("fetchmail.pid").to_str().unwrap(),
    ]
    .map(str::to_owned)
    .to_vec()
}

/// The delivery the test adds to a fetchmail recipe: each message to a file of its own in
/// `dir` (fetchmail runs the MDA with sh).
fn fetchmail_mda(dir: &Path) -> String {
    std::fs::create_dir_all(dir).unwrap();
    format!("    mda \"cat > {}/msg.$$\"\n", dir.display())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetchmail_fetches_through_inbound_tunnel_as_a_plugin() {
    let Some(fetchmail) = client("fetchmail", "fetchmail") else {
        return;
    };
    let Some(env) = Env::start().await else { return };
    let out = env.home().join("delivered");
    // Only the mailbox changes: the plugin, not the poll host, reaches the server.
    let rc = localize(
        &readme_recipe("fetchmail-tunnel"),
        &[(README_MAILBOX, OAUTH_USER.to_owned())],
    ) + &fetchmail_mda(&out);
    let rc = env.write("fetchmailrc", &rc);
    let args = fetchmail_args(&env, &rc);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    env.run_ok("fetchmail (plugin tunnel)", env.command(&fetchmail, &args))
        .await;
    env.assert_fetched_all("fetchmail (plugin tunnel)", message_ids_in(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offlineimap_fetches_through_inbound_tunnel() {
    let Some(offlineimap) = client("offlineimap", "offlineimap3") else {
        return;
    };
    let Some(env) = Env::start().await else { return };
    let what = "offlineimap (tunnel)";
    let fetched = offlineimap_fetch(&env, &offlineimap, what, "offlineimap-tunnel", &[]).await;
    env.assert_fetched_all(what, fetched);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn neomutt_fetches_through_inbound_tunnel() {
    let Some(neomutt) = client("neomutt", "neomutt") else {
        return;
    };
    let Some(env) = Env::start().await else { return };
    // Nothing to change: the tunnel, not the folder's host, reaches the server.
    let rc = readme_recipe("neomutt-tunnel");
    let fetched = neomutt_fetch(&env, &neomutt, "neomutt (tunnel)", &rc).await;
    env.assert_fetched_all("neomutt (tunnel)", fetched);
}

// ---------------------------------------------------------------------------------------------
// proxy: the client logs in to `inbound proxy` with a user and the local proxy password.

/// A running `inbound proxy` and the password `inbound proxy password` made for [`NAME`].
struct Proxy {
    port: u16,
    password: String,
    _child: tokio::process::Child,
}

impl Env {
    async fn start_proxy(&self) -> Proxy {
        let made = self.mail.cli.run(&["proxy", "password", NAME], None).await;
        assert!(made.status.success(), "proxy password: {}", text(&made.stderr));
        let password = proxy_password(&text(&made.stdout));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let listen = format!("127.0.0.1:{port}");
        let mut cmd = self.mail.cli.cmd(&["proxy", "--listen", &listen]);
        let log = std::fs::File::create(self.home().join("proxy.log")).unwrap();
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let mut child = cmd.spawn().unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("inbound proxy exited with {status} before listening on {listen}");
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "inbound proxy did not listen on {listen}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Proxy {
            port,
            password,
            _child: child,
        }
    }

    /// The README's proxy placeholders: port 1143, the mailbox and `PROXY-PASSWORD`.
    fn proxy_replacements(&self, proxy: &Proxy) -> Vec<(&'static str, String)> {
        vec![
            ("1143", proxy.port.to_string()),
            (README_MAILBOX, OAUTH_USER.to_owned()),
            ("PROXY-PASSWORD", proxy.password.clone()),
        ]
    }
}

/// The password in `inbound proxy password`'s output: its last line's last word.
fn proxy_password(stdout: &str) -> String {
    let word = stdout
        .lines()
        .rev()
        .find_map(|l| l.split_whitespace().last())
        .unwrap_or_else(|| panic!("no password in {stdout:?}"));
    word.to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetchmail_fetches_through_inbound_proxy() {
    let Some(fetchmail) = client("fetchmail", "fetchmail") else {
        return;
    };
    let Some(env) = Env::start().await else { return };
    let proxy = env.start_proxy().await;
    let out = env.home().join("delivered");
    let rc =
        localize(&readme_recipe("fetchmail-proxy"), &env.proxy_replacements(&proxy)) + &fetchmail_mda(&out);
    let rc = env.write("fetchmailrc", &rc);
    let args = fetchmail_args(&env, &rc);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    env.run_ok("fetchmail (proxy)", env.command(&fetchmail, &args))
        .await;
    env.assert_fetched_all("fetchmail (proxy)", message_ids_in(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn php_imap_open_fetches_through_inbound_proxy() {
    let Some(php) = client("php", "php-cli") else {
        return;
    };
    let Some(env) = Env::start().await else { return };
    let proxy = env.start_proxy().await;
    let script = "<?php\n".to_owned()
        + &localize(&readme_recipe("php-proxy"), &env.proxy_replacements(&proxy))
        + "if ($inbox === false) { fwrite(STDERR, imap_last_error() . \"\\n\"); exit(1); }\n\
           for ($i = 1; $i <= imap_num_msg($inbox); $i++) {\n    \
               echo imap_fetchheader($inbox, $i), imap_body($inbox, $i, FT_PEEK);\n\
           }\n\
           imap_close($inbox);\n";
    let file = env.write("fetch.php", &script);
    let out = env
        .run_ok(
            "php imap_open (proxy)",
            env.command(&php, &[file.to_str().unwrap()]),
        )
        .await;
    env.assert_fetched_all("php imap_open (proxy)", message_ids(&text(&out.stdout)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_basic_auth_form_client_fetches_through_inbound_proxy() {
    let Some(python) = client("python3", "python3") else {
        return;
    };
    let Some(env) = Env::start().await else { return };
    let proxy = env.start_proxy().await;
    let script = localize(
        &readme_recipe("basic-form-proxy"),
        &env.proxy_replacements(&proxy),
    ) + "imap.select(\"INBOX\", readonly=True)\n\
           typ, data = imap.fetch(\"1:*\", \"(BODY.PEEK[])\")\n\
           assert typ == \"OK\", data\n\
           import sys\n\
           for part in data:\n    \
               if isinstance(part, tuple):\n        \
                   sys.stdout.write(part[1].decode())\n\
           imap.logout()\n";
    let file = env.write("form.py", &script);
    let out = env
        .run_ok(
            "Basic-auth form (proxy)",
            env.command(&python, &[file.to_str().unwrap()]),
        )
        .await;
    env.assert_fetched_all("Basic-auth form (proxy)", message_ids(&text(&out.stdout)));
}
