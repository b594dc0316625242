//! `inbound demo --print-env`: the stand-ins without the app, and shell lines that point the
//! commands at them (`add`, `connect`, `test`, `token`, `check`) until Ctrl-C; `--keep DIR`
//! leaves the store behind, otherwise it is removed.

use crate::support::cli::inbound;
use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

const DEADLINE: Duration = Duration::from_secs(30);

/// Starts `inbound demo --print-env ARGS` and reads its `export` lines.
async fn start(tmp: &Path, args: &[&str]) -> (Child, HashMap<String, String>) {
    let mut child = inbound()
        .args(["demo", "--print-env"])
        .args(args)
        .env("TMPDIR", tmp)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("inbound demo runs");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut env = HashMap::new();
    let read = async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            if let Some((k, v)) = line.strip_prefix("export ").and_then(|l| l.split_once('=')) {
                env.insert(k.to_string(), v.trim_matches('\'').to_string());
            }
            if line.contains("inbound test Mine") {
                return;
            }
        }
        panic!("demo --print-env ended early");
    };
    tokio::time::timeout(DEADLINE, read)
        .await
        .expect("the shell lines came");
    (child, env)
}

/// SIGINT (Ctrl-C) and the exit code.
async fn interrupt(mut child: Child) -> i32 {
    let pid = child.id().expect("running").to_string();
    let status = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .await
        .expect("kill");
    assert!(status.success());
    let status = tokio::time::timeout(DEADLINE, child.wait())
        .await
        .expect("demo ends on Ctrl-C")
        .expect("wait");
    status.code().unwrap_or(-1)
}

async fn run(env: &HashMap<String, String>, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = inbound()
        .args(args)
        .envs(env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("inbound runs");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).await.expect("write stdin");
    drop(input);
    let out = tokio::time::timeout(DEADLINE, child.wait_with_output())
        .await
        .expect("command finished")
        .expect("output");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn print_env_serves_the_commands_until_ctrl_c() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (child, env) = start(tmp.path(), &[]).await;
    for k in [
        "INBOUND_CONFIG_DIR",
        "INBOUND_DEMO_AUTHORITY",
        "INBOUND_DEMO_IMAP_PORT",
        "INBOUND_DEMO_CA_FILE",
        "INBOUND_DEMO_CLIENT_ID",
        "INBOUND_DEMO_TENANT",
        "INBOUND_DEMO_SECRET",
    ] {
        assert!(env.contains_key(k), "{k} missing: {env:?}");
    }
    assert!(env["INBOUND_DEMO_AUTHORITY"].starts_with("http://127.0.0.1:"));
    assert!(env["INBOUND_CONFIG_DIR"].starts_with(&tmp.path().display().to_string()));

    // The seeded servers: one Confirmed with a secret expiring soon, one that fails the test.
    let (code, out, _) = run(&env, &["check"], "").await;
    assert_eq!(code, 2, "CRITICAL: the failed test\n{out}");
    assert!(
        out.contains("WARNING Helpdesk: client secret expires in 12 d"),
        "{out}"
    );
    let (code, token, _) = run(&env, &["token", "Helpdesk"], "").await;
    assert_eq!(code, 0);
    assert!(!token.trim().is_empty());
    let (code, out, err) = run(&env, &["test", "Sales (shared)"], "").await;
    let err = format!("{out}{err}");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("User is authenticated but not connected."), "{err}");
    assert!(err.contains("no access to this mailbox"), "the diagnosis: {err}");

    // A new server through the commands, signed in at the stand-in's page.
    let port = env["INBOUND_DEMO_IMAP_PORT"].clone();
    let (code, _, err) = run(
        &env,
        &[
            "add",
            "Mine",
            "--username",
            "support@contoso.com",
            "--client-id",
            &env["INBOUND_DEMO_CLIENT_ID"],
            "--tenant",
            &env["INBOUND_DEMO_TENANT"],
            "--secret-stdin",
            "--authority",
            &env["INBOUND_DEMO_AUTHORITY"],
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--ca-file",
            &env["INBOUND_DEMO_CA_FILE"],
        ],
        &env["INBOUND_DEMO_SECRET"],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let mut connect = inbound()
        .args(["connect", "Mine", "--no-browser", "--listen-port", "0"])
        .envs(&env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("connect runs");
    let mut out = BufReader::new(connect.stdout.take().expect("stdout")).lines();
    let url = tokio::time::timeout(DEADLINE, out.next_line())
        .await
        .expect("the URL came")
        .expect("read")
        .expect("a first line");
    let visit = inbound::demo::browser::sign_in(&url)
        .await
        .expect("signed in at the stand-in");
    assert!(visit.body.contains("Outlook token is valid"), "{}", visit.body);
    let status = tokio::time::timeout(DEADLINE, connect.wait())
        .await
        .expect("connect ends")
        .expect("wait");
    assert!(status.success());
    let (code, out, err) = run(&env, &["test", "Mine"], "").await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Confirmed · INBOX has 3 messages"), "{out}");

    assert_eq!(interrupt(child).await, 0);
    let start = Instant::now();
    while std::fs::read_dir(tmp.path()).expect("tmp").count() > 0 {
        assert!(start.elapsed() < DEADLINE, "the demo's store is removed at exit");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_leaves_the_store() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let keep = tmp.path().join("kept");
    let keep_arg = keep.display().to_string();
    let (child, env) = start(tmp.path(), &["--keep", &keep_arg]).await;
    assert_eq!(
        env["INBOUND_CONFIG_DIR"],
        keep.join("store").display().to_string()
    );
    assert_eq!(interrupt(child).await, 0);
    assert!(keep.join("store").join("config.json").is_file());
    assert!(keep.join("demo-ca.pem").is_file());
    // A directory that is not empty is refused.
    let out = inbound()
        .args(["demo", "--print-env", "--keep", &keep_arg])
        .stdin(Stdio::null())
        .output()
        .await
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"));
}
