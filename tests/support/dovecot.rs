//! A real Dovecot 2.3 for integration tests.
//!
//! [`Dovecot::start`] renders the templates in `tests/dovecot/` into a fresh temporary
//! directory and runs `dovecot -F -c <that config>` in its own process group:
//!
//! * implicit TLS (imaps) on `127.0.0.1:<free port>` with the certificate in
//!   `tests/fixtures/tls/` (CA: [`Dovecot::ca_file`]); plaintext IMAP is disabled;
//! * `XOAUTH2` / `OAUTHBEARER` checked by Dovecot's oauth2 passdb, which POSTs the token to the
//!   fake IdP's introspection endpoint; `PLAIN` / `LOGIN` for [`BASIC_USER`] from a passwd-file;
//! * a Maildir per user with [`INBOX_MESSAGES`] messages (see [`sample_message`]).
//!
//! Everything (base_dir, state_dir, log, mail) lives in the temporary directory, which is
//! removed when the [`Dovecot`] is dropped (after stopping the server).
//!
//! As root (CI): login processes run as `dovenull`, internal ones as `dovecot`, mail as
//! `nobody` (Dovecot refuses root as the mail user). As an ordinary user: every process and the
//! mail run as that user, without chroots (`tests/dovecot/nonroot.conf.in`).

use std::fs;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use tokio_native_tls::native_tls;

/// The user whose password is an OAuth2 bearer token (XOAUTH2 / OAUTHBEARER).
pub const OAUTH_USER: &str = "alice@example.com";
/// A shared mailbox with a seeded INBOX: no one signs in as it; a delegate with FullAccess
/// (see `FakeIdp::grant_full_access`) opens it with their own token.
pub const SHARED_MAILBOX: &str = "shared@example.com";
/// The user with a classic password (LOGIN / PLAIN).
pub const BASIC_USER: &str = "bob@example.com";
/// [`BASIC_USER`]'s password.
pub const BASIC_PASSWORD: &str = "bob-Secret-123";
/// Messages pre-seeded in each user's INBOX.
pub const INBOX_MESSAGES: u32 = 3;

/// Set to `1` to make a missing `dovecot` binary a failure instead of a skip.
pub const REQUIRE_ENV: &str = "INBOUND_REQUIRE_DOVECOT";

/// Set to `1` to keep the temporary directory (config, log, mail) for debugging.
pub const KEEP_ENV: &str = "INBOUND_KEEP_DOVECOT";

/// How long Dovecot may take to greet after being spawned.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a graceful stop (SIGTERM) may take before SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts with a fresh port when the chosen one was taken in between.
const START_ATTEMPTS: u32 = 3;

/// A running Dovecot; dropping it stops the server and deletes its directory.
pub struct Dovecot {
    /// The imaps port on 127.0.0.1.
    pub port: u16,
    /// The PEM CA that signed the server certificate (CN/SAN `localhost`, `127.0.0.1`, `::1`).
    pub ca_file: PathBuf,
    child: Child,
    dir: tempfile::TempDir,
    log_file: PathBuf,
    stderr_file: PathBuf,
    /// uid/gid that owns mail files, when running as root.
    mail_owner: Option<(u32, u32)>,
}

/// What [`Dovecot::server_args`] returns: owns the strings its words borrow.
pub struct ServerArgs {
    port: String,
    ca_file: String,
}

impl ServerArgs {
    pub fn words(&self) -> [&str; 6] {
        [
            "--host",
            "127.0.0.1",
            "--port",
            &self.port,
            "--ca-file",
            &self.ca_file,
        ]
    }
}

/// Who runs what, depending on whether the tests run as root.
struct Users {
    root: bool,
    internal_user: String,
    internal_group: String,
    login_user: String,
    mail_uid: u32,
    mail_gid: u32,
}

impl Dovecot {
    /// Starts Dovecot on 127.0.0.1:<free port> (imaps, test CA) with an oauth2 passdb that
    /// validates XOAUTH2/OAUTHBEARER tokens at `introspection_url`, and a passwd-file passdb
    /// for [`BASIC_USER`]. Returns `None` after a notice on stderr when the `dovecot` binary
    /// is missing, unless `INBOUND_REQUIRE_DOVECOT=1`, in which case it panics. Panics (with
    /// the log tail) if Dovecot does not come up within 10 s.
    pub fn start(introspection_url: &str) -> Option<Dovecot> {
        Self::start_with_app_mailboxes(introspection_url, &[])
    }

    /// Like [`Dovecot::start`], and also grants the app-only app each `(mailbox,
    /// introspection URL)`: an XOAUTH2 login to such a mailbox is checked at its own URL
    /// (e.g. [`super::fake_idp::FakeIdp::app_introspection_url`]) before the delegated passdb,
    /// and the mailbox gets a Maildir with [`INBOX_MESSAGES`] messages. An app-only token for
    /// any other mailbox is refused, as Exchange refuses one without a mailbox permission.
    pub fn start_with_app_mailboxes(
        introspection_url: &str,
        app_mailboxes: &[(String, String)],
    ) -> Option<Dovecot> {
        let Some(binary) = find_binary() else {
            if std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1") {
                panic!("dovecot not installed, but {REQUIRE_ENV}=1");
            }
            eprintln!(
                "dovecot not installed; skipping this Dovecot test \
                 (install dovecot-imapd, or set {REQUIRE_ENV}=1 to make this an error)"
            );
            return None;
        };
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            match Self::try_start(&binary, introspection_url, app_mailboxes) {
                Ok(dovecot) => return Some(dovecot),
                Err(StartError::PortTaken(msg)) => last_error = msg,
                Err(StartError::Fatal(msg)) => panic!("{msg}"),
            }
        }
        panic!("dovecot could not bind a port after {START_ATTEMPTS} attempts:\n{last_error}");
    }

    fn try_start(
        binary: &Path,
        introspection_url: &str,
        app_mailboxes: &[(String, String)],
    ) -> Result<Dovecot, StartError> {
        let (dir, users) = make_dir();
        let root = dir.path().to_path_buf();
        let conf_dir = root.join("conf");
        let run_dir = root.join("run");
        let state_dir = root.join("state");
        let home_root = root.join("home");
        for d in [&conf_dir, &state_dir, &home_root] {
            fs::create_dir(d).unwrap_or_else(|e| panic!("cannot create {}: {e}", d.display()));
            set_mode(d, 0o755);
        }
        let log_file = root.join("dovecot.log");
        let stderr_file = root.join("dovecot.stderr");
        let port = free_port();

        let mut app_passdbs = String::new();
        for (i, (mailbox, url)) in app_mailboxes.iter().enumerate() {
            let ext = conf_dir.join(format!("dovecot-oauth2-app-{i}.conf.ext"));
            render(
                "dovecot-oauth2.conf.ext.in",
                &ext,
                &[("INTROSPECTION_URL", url.clone())],
            );
            app_passdbs.push_str(&format!(
                "passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  username_filter = {mailbox}\n  args = {}\n}}\n",
                path_str(&ext)
            ));
        }
        let vars: Vec<(&str, String)> = vec![
            ("APP_PASSDBS", app_passdbs),
            ("PORT", port.to_string()),
            ("RUN_DIR", path_str(&run_dir)),
            ("STATE_DIR", path_str(&state_dir)),
            ("LOG_FILE", path_str(&log_file)),
            ("CONF_DIR", path_str(&conf_dir)),
            ("HOME_ROOT", path_str(&home_root)),
            ("INTERNAL_USER", users.internal_user.clone()),
            ("INTERNAL_GROUP", users.internal_group.clone()),
            ("LOGIN_USER", users.login_user.clone()),
            ("MAIL_UID", users.mail_uid.to_string()),
            ("MAIL_GID", users.mail_gid.to_string()),
            ("SSL_CERT", path_str(&super::tls_fixture("server.pem"))),
            ("SSL_KEY", path_str(&super::tls_fixture("server-key.pem"))),
            ("OAUTH2_EXT", path_str(&conf_dir.join("dovecot-oauth2.conf.ext"))),
            (
                "OAUTH2_DELEGATE_EXT",
                path_str(&conf_dir.join("dovecot-oauth2-delegate.conf.ext")),
            ),
            ("PASSWD_FILE", path_str(&conf_dir.join("users"))),
            ("INTROSPECTION_URL", introspection_url.to_owned()),
            ("BASIC_USER", BASIC_USER.to_owned()),
            ("BASIC_PASSWORD", BASIC_PASSWORD.to_owned()),
        ];
        render("dovecot.conf.in", &conf_dir.join("dovecot.conf"), &vars);
        render(
            "dovecot-oauth2.conf.ext.in",
            &conf_dir.join("dovecot-oauth2.conf.ext"),
            &vars,
        );
        render(
            "dovecot-oauth2-delegate.conf.ext.in",
            &conf_dir.join("dovecot-oauth2-delegate.conf.ext"),
            &vars,
        );
        render("users.in", &conf_dir.join("users"), &vars);
        if !users.root {
            render("nonroot.conf.in", &conf_dir.join("nonroot.conf"), &vars);
        }

        let mail_owner = users.root.then_some((users.mail_uid, users.mail_gid));
        let granted = app_mailboxes.iter().map(|(m, _)| m.as_str());
        for user in [OAUTH_USER, BASIC_USER, SHARED_MAILBOX]
            .into_iter()
            .chain(granted)
        {
            seed_maildir(&home_root.join(user), user, mail_owner);
        }

        let stderr = fs::File::create(&stderr_file).expect("cannot create dovecot.stderr");
        let child = Command::new(binary)
            .arg("-F")
            .arg("-c")
            .arg(conf_dir.join("dovecot.conf"))
            .stdin(Stdio::null())
            .stdout(stderr.try_clone().expect("cannot clone dovecot.stderr handle"))
            .stderr(stderr)
            // Own process group, so Drop can stop Dovecot and all of its children.
            .process_group(0)
            .spawn()
            .map_err(|e| StartError::Fatal(format!("cannot spawn {}: {e}", binary.display())))?;

        let mut dovecot = Dovecot {
            port,
            ca_file: super::tls_fixture("ca.pem"),
            child,
            dir,
            log_file,
            stderr_file,
            mail_owner,
        };
        match dovecot.wait_ready() {
            Ok(()) => Ok(dovecot),
            Err(why) => {
                let report = format!(
                    "dovecot did not start on 127.0.0.1:{port}: {why}\n{}",
                    dovecot.diagnostics()
                );
                dovecot.stop();
                if report.contains("Address already in use") {
                    Err(StartError::PortTaken(report))
                } else {
                    Err(StartError::Fatal(report))
                }
            }
        }
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// `--host 127.0.0.1 --port PORT --ca-file CA`: the words that point an `add` or `edit`
    /// at this Dovecot ([`ServerArgs::words`]).
    pub fn server_args(&self) -> ServerArgs {
        ServerArgs {
            port: self.port.to_string(),
            ca_file: self.ca_file.display().to_string(),
        }
    }

    /// The temporary directory holding config, state, log and mail.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The Maildir of `user` (`<dir>/home/<user>/Maildir`).
    pub fn maildir(&self, user: &str) -> PathBuf {
        self.dir.path().join("home").join(user).join("Maildir")
    }

    /// Delivers `message` (raw RFC 5322 bytes) into `user`'s INBOX as a new, unseen message.
    pub fn deliver(&self, user: &str, message: &[u8]) {
        static SEQ: AtomicU32 = AtomicU32::new(1000);
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let maildir = self.maildir(user);
        let name = format!("{}.M{n}P{}.inbound-test", 1_700_000_000 + n, std::process::id());
        let tmp = maildir.join("tmp").join(&name);
        fs::write(&tmp, message).unwrap_or_else(|e| panic!("cannot write {}: {e}", tmp.display()));
        chown_to(&tmp, self.mail_owner);
        let dest = maildir.join("new").join(&name);
        fs::rename(&tmp, &dest).unwrap_or_else(|e| panic!("cannot deliver {}: {e}", dest.display()));
    }

    /// The last `lines` lines of Dovecot's log file.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log_file, lines)
    }

    /// Log tail and stderr, for panic messages.
    pub fn diagnostics(&self) -> String {
        format!(
            "--- {} (tail) ---\n{}\n--- {} ---\n{}",
            self.log_file.display(),
            self.log_tail(40),
            self.stderr_file.display(),
            tail(&self.stderr_file, 40)
        )
    }

    /// Polls (bounded) until a TLS connection gets Dovecot's real greeting.
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let connector = tls_connector(&self.ca_file);
        let mut last = String::from("no attempt made");
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("dovecot exited early with {status}"));
            }
            match probe_greeting(self.addr(), &connector) {
                Ok(()) => return Ok(()),
                Err(e) => last = e,
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("no greeting within {STARTUP_TIMEOUT:?} (last: {last})"))
    }

    /// SIGTERM to the master, bounded wait, then SIGKILL to the whole process group.
    fn stop(&mut self) {
        let pid = self.child.id();
        if matches!(self.child.try_wait(), Ok(None)) {
            signal("-TERM", &pid.to_string());
            let deadline = Instant::now() + STOP_TIMEOUT;
            while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(20));
            }
            if matches!(self.child.try_wait(), Ok(None)) {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
        // Children exit when the master goes; make sure of it (the group id is the master's pid).
        signal("-KILL", &format!("-{pid}"));
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
        if std::env::var(KEEP_ENV).is_ok_and(|v| v == "1") {
            self.dir.disable_cleanup(true);
            eprintln!("{KEEP_ENV}=1: keeping {}", self.dir.path().display());
        }
        // Otherwise TempDir removes the directory after this.
    }
}

enum StartError {
    PortTaken(String),
    Fatal(String),
}

/// The exact bytes of seeded message `n` (1-based) in `user`'s INBOX (CRLF line endings).
pub fn sample_message(user: &str, n: u32) -> String {
    format!(
        "Return-Path: <sender{n}@example.net>\r\n\
         From: Sender {n} <sender{n}@example.net>\r\n\
         To: <{user}>\r\n\
         Subject: Test message {n}\r\n\
         Date: Mon, 01 Jan 2024 10:0{n}:00 +0000\r\n\
         Message-ID: <seed-{n}.{user}>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         Hello {user},\r\n\
         this is test message number {n}.\r\n"
    )
}

fn find_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join("dovecot"))
        .find(|p| p.is_file())
}

/// Creates the temporary directory and works out the users from its owner (the euid).
fn make_dir() -> (tempfile::TempDir, Users) {
    // As root, the directory must be traversable by the unprivileged Dovecot users, so avoid a
    // private $TMPDIR; Unix socket paths must stay short too.
    let tmp = std::env::temp_dir();
    let base = if tmp.as_os_str().len() > 40 || !tmp.is_dir() {
        PathBuf::from("/tmp")
    } else {
        tmp
    };
    let mut dir = tempfile::Builder::new()
        .prefix("inbound-dovecot-")
        .tempdir_in(&base)
        .unwrap_or_else(|e| panic!("cannot create a temp dir in {}: {e}", base.display()));
    let meta = fs::metadata(dir.path()).expect("cannot stat the temp dir");
    let (uid, gid) = (meta.uid(), meta.gid());
    let users = if uid == 0 {
        if base != Path::new("/tmp") {
            dir = tempfile::Builder::new()
                .prefix("inbound-dovecot-")
                .tempdir_in("/tmp")
                .expect("cannot create a temp dir in /tmp");
        }
        let (nobody_uid, nobody_gid) =
            passwd_ids("nobody").expect("running as root needs a 'nobody' user for mail");
        let internal = if passwd_ids("dovecot").is_some() {
            "dovecot"
        } else {
            "nobody"
        };
        let login = if passwd_ids("dovenull").is_some() {
            "dovenull"
        } else {
            "nobody"
        };
        let internal_group = group_name(passwd_ids(internal).map(|(_, g)| g).unwrap_or(nobody_gid))
            .unwrap_or_else(|| "nogroup".to_owned());
        Users {
            root: true,
            internal_user: internal.to_owned(),
            internal_group,
            login_user: login.to_owned(),
            mail_uid: nobody_uid,
            mail_gid: nobody_gid,
        }
    } else {
        let user = user_name(uid).unwrap_or_else(|| {
            panic!("uid {uid} has no /etc/passwd entry; Dovecot needs a user name to run as")
        });
        let group = group_name(gid).unwrap_or_else(|| gid.to_string());
        Users {
            root: false,
            internal_user: user.clone(),
            internal_group: group,
            login_user: user,
            mail_uid: uid,
            mail_gid: gid,
        }
    };
    set_mode(dir.path(), 0o755);
    (dir, users)
}

/// `(uid, gid)` of `name` in /etc/passwd.
fn passwd_ids(name: &str) -> Option<(u32, u32)> {
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        (f.len() >= 4 && f[0] == name).then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
    })
}

fn user_name(uid: u32) -> Option<String> {
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        (f.len() >= 3 && f[2].parse() == Ok(uid)).then(|| f[0].to_owned())
    })
}

fn group_name(gid: u32) -> Option<String> {
    let group = fs::read_to_string("/etc/group").ok()?;
    group.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        (f.len() >= 3 && f[2].parse() == Ok(gid)).then(|| f[0].to_owned())
    })
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("cannot find a free port on 127.0.0.1")
}

fn path_str(p: &Path) -> String {
    p.to_str()
        .unwrap_or_else(|| panic!("path {} is not UTF-8", p.display()))
        .to_owned()
}

/// Renders `tests/dovecot/<template>` into `dest`, replacing every `@NAME@`.
fn render(template: &str, dest: &Path, vars: &[(&str, String)]) {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("dovecot")
        .join(template);
    let mut text = fs::read_to_string(&src).unwrap_or_else(|e| panic!("cannot read {}: {e}", src.display()));
    for (name, value) in vars {
        text = text.replace(&format!("@{name}@"), value);
    }
    if let Some(name) = leftover_placeholder(&text) {
        panic!("{}: placeholder @{name}@ has no value", src.display());
    }
    fs::write(dest, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", dest.display()));
    set_mode(dest, 0o644);
}

/// The first `@NAME@` (upper case and `_`) left in `text`.
fn leftover_placeholder(text: &str) -> Option<&str> {
    text.match_indices('@').find_map(|(i, _)| {
        let rest = &text[i + 1..];
        let end = rest.find(|c: char| !(c.is_ascii_uppercase() || c == '_'))?;
        (end > 0 && rest[end..].starts_with('@')).then(|| &rest[..end])
    })
}

/// `<home>/Maildir/{cur,new,tmp}` with [`INBOX_MESSAGES`] messages in `new`.
fn seed_maildir(home: &Path, user: &str, owner: Option<(u32, u32)>) {
    let maildir = home.join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        let d = maildir.join(sub);
        fs::create_dir_all(&d).unwrap_or_else(|e| panic!("cannot create {}: {e}", d.display()));
    }
    for n in 1..=INBOX_MESSAGES {
        let name = format!("{}.M{n}P1.inbound-test", 1_700_000_000 + n);
        let file = maildir.join("new").join(name);
        fs::write(&file, sample_message(user, n))
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
    }
    if owner.is_some() {
        chown_tree(home, owner);
    }
}

fn chown_tree(path: &Path, owner: Option<(u32, u32)>) {
    chown_to(path, owner);
    if path.is_dir() {
        let entries = fs::read_dir(path).unwrap_or_else(|e| panic!("cannot list {}: {e}", path.display()));
        for entry in entries {
            chown_tree(&entry.expect("cannot read a directory entry").path(), owner);
        }
    }
}

fn chown_to(path: &Path, owner: Option<(u32, u32)>) {
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(path, Some(uid), Some(gid))
            .unwrap_or_else(|e| panic!("cannot chown {}: {e}", path.display()));
    }
}

fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("cannot chmod {}: {e}", path.display()));
}

fn tls_connector(ca_file: &Path) -> native_tls::TlsConnector {
    let pem = fs::read(ca_file).unwrap_or_else(|e| panic!("cannot read {}: {e}", ca_file.display()));
    let ca = native_tls::Certificate::from_pem(&pem).expect("test CA is not PEM");
    native_tls::TlsConnector::builder()
        .add_root_certificate(ca)
        .build()
        .expect("cannot build a TLS connector")
}

/// One readiness probe: TLS connect, then wait for a greeting that is not Dovecot's
/// "Waiting for authentication process" notice.
fn probe_greeting(addr: SocketAddr, connector: &native_tls::TlsConnector) -> Result<(), String> {
    let tcp =
        TcpStream::connect_timeout(&addr, Duration::from_millis(500)).map_err(|e| format!("connect: {e}"))?;
    tcp.set_read_timeout(Some(Duration::from_secs(3)))
        .and_then(|()| tcp.set_write_timeout(Some(Duration::from_secs(3))))
        .map_err(|e| format!("socket timeouts: {e}"))?;
    let tls = connector
        .connect("localhost", tcp)
        .map_err(|e| format!("TLS: {e}"))?;
    let mut reader = BufReader::new(tls);
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) => return Err("connection closed before the greeting".to_owned()),
            Ok(_) if line.contains("Waiting for authentication process") => continue,
            Ok(_) if line.starts_with("* OK") => {
                let _ = reader.get_mut().write_all(b"Z LOGOUT\r\n");
                let mut rest = Vec::new();
                let _ = reader.read_to_end(&mut rest);
                return Ok(());
            }
            Ok(_) => return Err(format!("unexpected greeting {line:?}")),
            Err(e) => return Err(format!("reading the greeting: {e}")),
        }
    }
}

/// `kill <sig> <target>` (no libc here: `unsafe` is denied in this crate).
fn signal(sig: &str, target: &str) {
    let _ = Command::new("kill")
        .args([sig, "--", target])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn tail(path: &Path, lines: usize) -> String {
    match fs::read_to_string(path) {
        Ok(text) => {
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}
