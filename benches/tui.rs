//! In-process TUI work at scale: the first frame (store read, model, one 80×24 render) at
//! 1,000 and 10,000 servers, and one keypress (update + render) at 10,000.

#[path = "support/seed.rs"]
mod seed;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use inbound::tui::app::effects::{FIRST_TOKENS, snapshot, snapshot_first};
use inbound::tui::state::keymap::Action;
use inbound::tui::state::msg::Msg;
use inbound::tui::state::{Env, Model};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::hint::black_box;

fn model(data: inbound::tui::state::msg::Snapshot) -> Model {
    Model::new(
        data,
        jiff::Timestamp::now(),
        jiff::tz::TimeZone::UTC,
        Env::default(),
    )
}

fn first_frame(c: &mut Criterion) {
    let mut group = c.benchmark_group("first_frame");
    for n in [1_000, 10_000] {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = seed::seed(&dir.path().join("store"), n).expect("seed");
        group.bench_with_input(BenchmarkId::new("first_tokens", n), &n, |b, _| {
            b.iter(|| {
                let data = snapshot_first(&store, FIRST_TOKENS).expect("snapshot");
                let m = model(data);
                let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
                terminal.draw(|f| inbound::tui::ui::render(&m, f)).expect("draw");
                black_box(terminal.backend().buffer().area);
            });
        });
        // The peer: every token file read and every health assessed before the first frame.
        group.bench_with_input(BenchmarkId::new("all_tokens", n), &n, |b, _| {
            b.iter(|| {
                let m = model(snapshot(&store).expect("snapshot"));
                let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
                terminal.draw(|f| inbound::tui::ui::render(&m, f)).expect("draw");
                black_box(terminal.backend().buffer().area);
            });
        });
    }
    group.finish();
}

fn keypress(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = seed::seed(&dir.path().join("store"), 10_000).expect("seed");
    let mut m = model(snapshot(&store).expect("snapshot"));
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    let mut down = true;
    c.bench_function("keypress/10000", |b| {
        b.iter(|| {
            // Down and up in turn: the selection stays in the list.
            let a = if down { Action::Down } else { Action::Up };
            down = !down;
            black_box(m.update(Msg::Action(a)));
            terminal.draw(|f| inbound::tui::ui::render(&m, f)).expect("draw");
        });
    });
}

/// The peer of a keypress: a clock tick into a new second, which assesses every server's
/// health once (what each frame did before the summaries were kept).
fn health_pass(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = seed::seed(&dir.path().join("store"), 10_000).expect("seed");
    let mut m = model(snapshot(&store).expect("snapshot"));
    let seconds = [m.now, m.now + jiff::SignedDuration::from_secs(1)];
    let mut i = 0;
    c.bench_function("tick_new_second/10000", |b| {
        b.iter(|| {
            // Two seconds in turn: every tick is a new second, and no token falls due.
            i ^= 1;
            black_box(m.update(Msg::Tick(seconds[i])));
        });
    });
}

/// A key typed into the find field at 10,000 servers: the list narrowed again and redrawn
/// (80×24), the "keystroke in the filter" (target ≤ 2 ms). The query grows and
/// shrinks by one letter in turn, so every keystroke changes what matches: the letter typed
/// rescores what "server-99" matched, Backspace takes the answer kept for "server-99". The
/// first key of a find, which scores every server, is measured on its own below.
fn find_keystroke(c: &mut Criterion) {
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let dir = tempfile::tempdir().expect("temp dir");
    let store = seed::seed(&dir.path().join("store"), 10_000).expect("seed");
    let mut m = model(snapshot(&store).expect("snapshot"));
    let _ = m.update(Msg::Action(Action::Find));
    for ch in "server-99".chars() {
        let _ = m.update(Msg::Text(KeyEvent::new(KeyCode::Char(ch), KeyModifiers::NONE)));
    }
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    let keys = [
        KeyEvent::new(KeyCode::Char('9'), KeyModifiers::NONE),
        KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE),
    ];
    let mut i = 0;
    c.bench_function("find_keystroke/10000", |b| {
        b.iter(|| {
            i ^= 1;
            black_box(m.update(Msg::Text(keys[i])));
            terminal.draw(|f| inbound::tui::ui::render(&m, f)).expect("draw");
        });
    });
    // The first key typed into an empty find: every server scored (then Backspace, which
    // shows the whole list again without a match). Both keys are in the figure.
    let mut first = model(snapshot(&store).expect("snapshot"));
    let _ = first.update(Msg::Action(Action::Find));
    let mut wide_first = Terminal::new(TestBackend::new(140, 40)).expect("terminal");
    let pair = [
        KeyEvent::new(KeyCode::Char('s'), KeyModifiers::NONE),
        KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE),
    ];
    c.bench_function("find_first_key_and_backspace_140x40/10000", |b| {
        b.iter(|| {
            for key in pair {
                black_box(first.update(Msg::Text(key)));
                wide_first
                    .draw(|f| inbound::tui::ui::render(&first, f))
                    .expect("draw");
            }
        });
    });
    // The same on the wide table (140×40).
    let mut wide = Terminal::new(TestBackend::new(140, 40)).expect("terminal");
    c.bench_function("find_keystroke_table_140x40/10000", |b| {
        b.iter(|| {
            i ^= 1;
            black_box(m.update(Msg::Text(keys[i])));
            wide.draw(|f| inbound::tui::ui::render(&m, f)).expect("draw");
        });
    });
}

/// The next order chosen at 10,000 servers (`o`): sort, narrow, redraw (target ≤ 5 ms).
fn sort_key(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = seed::seed(&dir.path().join("store"), 10_000).expect("seed");
    let mut m = model(snapshot(&store).expect("snapshot"));
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    c.bench_function("sort_next_order/10000", |b| {
        b.iter(|| {
            black_box(m.update(Msg::Action(Action::Sort)));
            terminal.draw(|f| inbound::tui::ui::render(&m, f)).expect("draw");
        });
    });
}

/// `inbound import` of 1,000 CSV rows into a store of 10,000 servers, through the core the
/// command calls (read, check every row, one transaction). Target ≤ 1 s.
fn import_rows(c: &mut Criterion) {
    let mut csv = String::from("name,username,app\n");
    for i in 0..1_000 {
        csv.push_str(&format!("import-{i},import{i}@contoso.com,bench\n"));
    }
    // One seeded store (10,000 servers with their token files, as `import` meets them), copied
    // afresh for each sample: seeding writes 10,000 files with fsync, which took minutes per
    // sample and was not what is measured.
    let template = tempfile::tempdir().expect("temp dir");
    seed::seed(&template.path().join("store"), 10_000).expect("seed");
    let mut group = c.benchmark_group("import");
    group.sample_size(10);
    group.bench_function("csv_1000_rows_into_10000", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("temp dir");
                copy_tree(&template.path().join("store"), &dir.path().join("store"));
                let store = inbound::store::Store::open(Some(dir.path().join("store"))).expect("store");
                let file = dir.path().join("rows.csv");
                std::fs::write(&file, &csv).expect("csv");
                (dir, store, file)
            },
            |(dir, store, file)| {
                let done = inbound::ops::import::import(&store, &file, false).expect("import");
                assert_eq!(done.servers.len(), 1_000);
                dir // removed after the timing
            },
            criterion::BatchSize::PerIteration,
        );
    });
    group.finish();
}

/// `from` copied to `to` with the files' modes (the store refuses loose ones).
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::create_dir_all(to).expect("dir");
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o700)).expect("mode");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

criterion_group!(
    benches,
    first_frame,
    keypress,
    health_pass,
    find_keystroke,
    sort_key,
    import_rows
);
criterion_main!(benches);
