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

criterion_group!(benches, first_frame, keypress, health_pass);
criterion_main!(benches);
