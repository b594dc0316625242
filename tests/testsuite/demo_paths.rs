//! The other ways to finish a sign-in work against the demo's stand-ins too: paste-back (the
//! address the browser ended on) and device code (the code entered on the stand-in's page).
//! And a demo's temporary files go away with it.

use inbound::demo::{Demo, browser};
use inbound::model::Flow;
use inbound::ops::consent::{self, ConsentOptions};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paste_back_against_the_stand_in() {
    let demo = Demo::start(None).await.expect("demo starts");
    let opts = ConsentOptions {
        listen_port: Some(0),
        ..ConsentOptions::default()
    };
    let c = consent::begin(&demo.store, "Helpdesk", &opts)
        .await
        .expect("sign-in begins");
    // Where the browser would end: never visited, pasted instead.
    let address = browser::authorize_redirect(&c.auth_url)
        .await
        .expect("signed in at the page");
    let (tx, rx) = mpsc::channel(1);
    tx.send(address).await.expect("paste");
    let done = c
        .wait_any(&demo.store, WAIT, CancellationToken::new(), Some(rx), |_| {})
        .await
        .expect("the pasted address is redeemed");
    assert_eq!(done.tokens.account.as_deref(), Some("helpdesk@contoso.com"));
    assert!(done.mismatch.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_code_against_the_stand_in() {
    let demo = Demo::start(None).await.expect("demo starts");
    let entered = tokio::sync::oneshot::channel::<Result<String, browser::BrowserError>>();
    let (sent, got) = entered;
    let on_code = move |auth: &inbound::services::oauth::device::DeviceAuthorization| {
        assert!(
            auth.verification_uri.ends_with("/devicelogin"),
            "{}",
            auth.verification_uri
        );
        let (uri, code) = (auth.verification_uri.clone(), auth.user_code.clone());
        tokio::spawn(async move {
            let _ = sent.send(browser::enter_device_code(&uri, &code).await);
        });
    };
    let done = tokio::time::timeout(
        WAIT,
        consent::device_sign_in(
            &demo.store,
            "Helpdesk",
            &CancellationToken::new(),
            on_code,
            |_| {},
        ),
    )
    .await
    .expect("device code finished in time")
    .expect("signed in with the device code");
    let page = got
        .await
        .expect("code entered")
        .expect("the page accepted the code");
    assert!(page.contains("You're signed in"), "{page}");
    assert_eq!(done.tokens.flow, Flow::DeviceCode);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_removes_its_files_when_dropped() {
    let demo = Demo::start(None).await.expect("demo starts");
    let root = demo.root().to_path_buf();
    assert!(demo.store_dir.join("config.json").is_file());
    assert!(demo.stand_ins.ca_file.is_file());
    drop(demo);
    assert!(!root.exists());
}
