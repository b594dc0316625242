//! `inbound demo` end to end through the real binary in tmux at 80×24, with no display: the
//! portal path chosen, Enter walks the prefilled wizard, `s` signs in at the stand-in (whose
//! tenant wants an admin's approval: `a`, then `s` as the admin), the token is valid, Test &
//! Confirm ends Confirmed, `q` leaves. While it runs, every listening socket of the process
//! is on loopback; afterwards its temporary store is gone and the INBOUND_CONFIG_DIR it was
//! given is untouched.

use crate::support;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use support::tmux::{NO_DISPLAY, Tmux, tmux_or_skip, tools_or_skip};

/// Name → contents of every file under `dir`.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.display().to_string(), std::fs::read(&p).expect("read file"));
            }
        }
    }
    out
}

/// The local addresses (kernel hex form) of the TCP sockets `pid` listens on.
fn listening(pid: &str) -> Vec<String> {
    let inodes: HashSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("fds of the app")
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter_map(|l| {
            let l = l.display().to_string();
            l.strip_prefix("socket:[")?.strip_suffix(']').map(str::to_string)
        })
        .collect();
    let mut out = Vec::new();
    for table in ["tcp", "tcp6"] {
        let text = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).unwrap_or_default();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() > 9 && f[3] == "0A" && inodes.contains(f[9]) {
                out.push(f[1].to_string());
            }
        }
    }
    out
}

/// 127.0.0.0/8, ::1, or ::ffff:127.x.y.z, in /proc/net's little-endian hex.
fn loopback(local: &str) -> bool {
    let ip = local.split(':').next().unwrap_or_default();
    match ip.len() {
        8 => ip.ends_with("7F"),
        32 => {
            ip == "00000000000000000000000001000000"
                || (ip.starts_with("0000000000000000FFFF0000") && ip.ends_with("7F"))
        }
        _ => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_walk_to_confirmed_without_a_display() {
    if !tmux_or_skip("the demo walk") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).expect("mkdir tmp");
    // The user's own store: the demo must neither read nor write it.
    let own = dir.path().join("own-store");
    std::fs::create_dir(&own).expect("mkdir own store");
    std::fs::write(own.join("config.json"), "not even JSON: reading it would fail").expect("write");
    let own_before = tree(&own);
    let marker = dir.path().join("browser-was-started");
    let browser = dir.path().join("browser.sh");
    std::fs::write(
        &browser,
        format!("#!/bin/sh\ntouch '{}'\nexit 1\n", marker.display()),
    )
    .expect("browser");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).expect("chmod");

    let tmux = Tmux::new("demo");
    let shell = tmux.start_shell().await;
    let nothing = String::new;
    let command = format!(
        "{NO_DISPLAY} TMPDIR='{}' INBOUND_CONFIG_DIR='{}' BROWSER='{}' '{}' demo; echo DEMO_EXIT=$?",
        tmp.display(),
        own.display(),
        browser.display(),
        env!("CARGO_BIN_EXE_inbound"),
    );
    tmux.text(&command).await;
    tmux.keys(&["Enter"]).await;

    // The seeded review: a Confirmed server whose secret expires soon, and a failed test.
    let review = tmux.wait_for("Sales (shared)", &nothing).await;
    assert!(
        review.lines().next().is_some_and(|l| l.contains("DEMO")),
        "{review}"
    );
    assert!(review.contains("Helpdesk"), "{review}");
    let demo_dir = std::fs::read_dir(&tmp)
        .expect("tmp")
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("inbound-demo-"))
        })
        .expect("the demo's temporary directory");
    let log = demo_dir.join("store").join("logs").join("inbound.log");
    let context = || std::fs::read_to_string(&log).unwrap_or_default();

    // The choice of how to register the app comes first; → takes the portal path, then
    // Enter goes through every step: the wizard is prefilled.
    tmux.keys(&["n"]).await;
    tmux.wait_for("How do you want to register the app", &context)
        .await;
    tmux.keys(&["Right", "Enter"]).await;
    for heading in [
        "Register the application",
        "Create a client secret",
        "Grant the IMAP permission",
        "The incoming mail server",
    ] {
        let screen = tmux.wait_for(heading, &context).await;
        assert!(
            screen.lines().next().is_some_and(|l| l.contains("DEMO")),
            "{screen}"
        );
        tmux.keys(&["Enter"]).await;
    }
    let connect = tmux.wait_for("waiting for Microsoft", &context).await;
    assert!(connect.contains("No browser here (no display)."), "{connect}");
    assert!(
        connect.contains("DEMO s signs in as support@contoso.com"),
        "{connect}"
    );

    // Everything the process listens on is loopback: stand-ins and the sign-in listener.
    let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).expect("children");
    let pid = children
        .split_whitespace()
        .next()
        .expect("the app runs")
        .to_string();
    let sockets = listening(&pid);
    assert!(sockets.len() >= 3, "sign-in service, IMAP, listener: {sockets:?}");
    assert!(sockets.iter().all(|s| loopback(s)), "{sockets:?}");

    // The sign-in key: a real request to the stand-in, whose redirect reaches the listener.
    // The demo's tenant lets only an admin consent, as most do: the admin consent screen.
    tmux.keys(&["s"]).await;
    tmux.wait_for("1 I am an admin:", &context).await;
    // The demo user is an admin: the admin consent page, accepted by the same key.
    tmux.keys(&["a"]).await;
    tmux.wait_for("waiting for the admin", &context).await;
    tmux.keys(&["s"]).await;
    // Granted: the sign-in starts again, and now goes through.
    tmux.wait_for("waiting for Microsoft", &context).await;
    tmux.keys(&["s"]).await;
    let token = tmux.wait_for("Outlook token is valid", &context).await;
    assert!(token.contains("support@contoso.com"), "{token}");
    tmux.keys(&["Enter"]).await;
    tmux.wait_for("● Confirmed · INBOX has 3 messages", &context)
        .await;
    tmux.keys(&["Enter"]).await;
    let list = tmux.wait_for("Support inbox ─", &context).await;
    assert!(list.contains("● Confirmed"), "{list}");

    tmux.keys(&["q"]).await;
    tmux.wait_for("DEMO_EXIT=0", &context).await;
    assert!(!demo_dir.exists(), "the temporary store is removed at exit");
    assert_eq!(
        std::fs::read_dir(&tmp).expect("tmp").count(),
        0,
        "nothing left in TMPDIR"
    );
    assert_eq!(tree(&own), own_before, "the user's own store was touched");
    assert!(!marker.exists(), "a browser was started without a display");
}

/// An SSH drop (the terminal goes away, SIGHUP) also removes the temporary store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_store_is_removed_when_the_terminal_goes_away() {
    if !tmux_or_skip("the demo hang-up test") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let tmux = Tmux::new("demo-hup");
    tmux.start_shell().await;
    let nothing = String::new;
    tmux.text(&format!(
        "env -u DISPLAY -u WAYLAND_DISPLAY TMPDIR='{}' '{}' demo",
        dir.path().display(),
        env!("CARGO_BIN_EXE_inbound")
    ))
    .await;
    tmux.keys(&["Enter"]).await;
    tmux.wait_for("Sales (shared)", &nothing).await;
    assert_eq!(std::fs::read_dir(dir.path()).expect("tmp").count(), 1);
    tmux.run(&["kill-server"]).await;
    let start = std::time::Instant::now();
    while std::fs::read_dir(dir.path()).expect("tmp").count() > 0 {
        assert!(
            start.elapsed() < support::tmux::DEADLINE,
            "the demo's store is still there after the hang-up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// With a display the browser opens on the stand-in's sign-in page; the "user" presses
/// "Sign in and accept" there (a scripted browser) and the app goes on to token valid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_opens_the_browser_on_the_stand_ins_page_with_a_display() {
    if !tools_or_skip(&["tmux", "curl"], "the demo browser walk") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("page.html");
    let browser = dir.path().join("browser.sh");
    std::fs::write(
        &browser,
        format!(
            "#!/bin/sh\n# Shows the page, then presses its button.\ncurl -sS --max-time 20 -o '{}' \"$1\" && curl -sS -L --max-time 20 -o /dev/null -d consent=accept \"$1\"\n",
            page.display()
        ),
    )
    .expect("browser");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let tmux = Tmux::new("demo-browser");
    tmux.start_shell().await;
    let nothing = String::new;
    tmux.text(&format!(
        "env -u SSH_CONNECTION -u SSH_CLIENT -u SSH_TTY -u WAYLAND_DISPLAY DISPLAY=:99 BROWSER='{}' TMPDIR='{}' '{}' demo; echo DEMO_EXIT=$?",
        browser.display(),
        dir.path().display(),
        env!("CARGO_BIN_EXE_inbound")
    ))
    .await;
    tmux.keys(&["Enter"]).await;
    tmux.wait_for("Sales (shared)", &nothing).await;
    tmux.keys(&["n"]).await;
    tmux.wait_for("How do you want to register the app", &nothing)
        .await;
    tmux.keys(&["Right", "Enter"]).await;
    for heading in [
        "Register the application",
        "Create a client secret",
        "Grant the IMAP permission",
        "The incoming mail server",
    ] {
        tmux.wait_for(heading, &nothing).await;
        tmux.keys(&["Enter"]).await;
    }
    // The tenant needs an admin's approval; the browser shows the admin consent page too.
    tmux.wait_for("1 I am an admin:", &nothing).await;
    tmux.keys(&["a"]).await;
    let token = tmux.wait_for("Outlook token is valid", &nothing).await;
    assert!(token.contains("support@contoso.com"), "{token}");
    let shown = std::fs::read_to_string(&page).expect("the browser got the sign-in page");
    assert!(shown.contains("Sign in and accept"), "{shown}");
    tmux.keys(&["Enter"]).await;
    tmux.wait_for("● Confirmed · INBOX has 3 messages", &nothing)
        .await;
    tmux.keys(&["Enter", "q"]).await;
    tmux.wait_for("DEMO_EXIT=0", &nothing).await;
}
