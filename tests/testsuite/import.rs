#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns
//! `inbound import FILE` through the binary: a good file adds every row in one go (a dry run
//! first writes nothing), a file with bad rows adds nothing and names each by line and column.

use crate::support;

use inbound::model::Config;
use support::cli::{Cli, text};

fn with_app(cli: &Cli) {
    cli.store()
        .update(|c: &mut Config| {
            c.apps
                .push(support::store::contoso_app(inbound::model::DEFAULT_AUTHORITY));
            Ok::<_, inbound::store::StoreError>(())
        })
        .unwrap();
}

fn names(cli: &Cli) -> Vec<String> {
    cli.store()
        .load()
        .unwrap()
        .servers
        .iter()
        .map(|s| s.name.clone())
        .collect()
}

#[tokio::test]
async fn a_good_csv_imports_after_a_dry_run() {
    let cli = Cli::new();
    with_app(&cli);
    let file = cli.config_dir().parent().unwrap().join("good.csv");
    std::fs::write(
        &file,
        "name,username,app,port\nDesk 1,desk1@contoso.com,Contoso mail,\nDesk 2,desk2@contoso.com,Contoso mail,993\nLegacy,old@contoso.com,,143\n",
    )
    .unwrap();
    // Legacy has no app and no auth column value: OAuth2.0 needs an app, so fix the file first.
    let out = cli
        .run(&["import", file.to_str().unwrap(), "--dry-run"], None)
        .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("line 4, app:"),
        "{}",
        text(&out.stderr)
    );
    std::fs::write(
        &file,
        "name,username,app,port\nDesk 1,desk1@contoso.com,Contoso mail,\nDesk 2,desk2@contoso.com,Contoso mail,993\n",
    )
    .unwrap();
    let out = cli
        .run(&["import", file.to_str().unwrap(), "--dry-run"], None)
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("2 servers would be added"),
        "{}",
        text(&out.stderr)
    );
    assert!(names(&cli).is_empty(), "a dry run writes nothing");
    let out = cli.run(&["import", file.to_str().unwrap()], None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(names(&cli), ["Desk 1", "Desk 2"]);
    // What list --json prints imports back (here into another store, names changed).
    let json = cli.run(&["list", "--json"], None).await;
    let listed = text(&json.stdout)
        .replace("Desk ", "Copy ")
        .replace("desk", "copy");
    let other = Cli::new();
    with_app(&other);
    let jfile = other.config_dir().parent().unwrap().join("list.json");
    std::fs::write(&jfile, listed).unwrap();
    let out = other.run(&["import", jfile.to_str().unwrap()], None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(names(&other), ["Copy 1", "Copy 2"]);
}

#[tokio::test]
async fn bad_rows_import_nothing_and_are_named() {
    let cli = Cli::new();
    with_app(&cli);
    let file = cli.config_dir().parent().unwrap().join("mixed.csv");
    std::fs::write(
        &file,
        "name,username,host,port,app\n\
         Fine,fine@contoso.com,,,Contoso mail\n\
         Port,port@contoso.com,,70000,Contoso mail\n\
         Fine,again@contoso.com,,,Contoso mail\n\
         Host,host@contoso.com,bad host!,,Missing app\n",
    )
    .unwrap();
    let out = cli.run(&["import", file.to_str().unwrap()], None).await;
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    for expected in [
        "nothing was imported",
        "line 3, port:",
        "line 4, name: \"Fine\" is also on line 2",
        "line 5, host:",
        "line 5, app: no Azure app named \"Missing app\"",
    ] {
        assert!(said.contains(expected), "{expected:?} missing:\n{said}");
    }
    assert!(names(&cli).is_empty(), "nothing is imported: {:?}", names(&cli));
    // A file that is no list at all says so and where.
    std::fs::write(&file, "server,mailbox\nA,a@contoso.com\n").unwrap();
    let out = cli.run(&["import", file.to_str().unwrap()], None).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("line 1: unknown column \"server\""),
        "{}",
        text(&out.stderr)
    );
    let out = cli.run(&["import", "/nonexistent/servers.csv"], None).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("cannot read"), "{}", text(&out.stderr));
}
