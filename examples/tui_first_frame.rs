//! Time to the TUI's first frame with a seeded store (PRODUCT §6: under 50 ms with 1,000
//! servers): read the store (the configuration and the first screens' token files, as the app
//! does), build the model, render one 80×24 frame.
//! `cargo run --release --example tui_first_frame -- DIR [RUNS]`.

use inbound::store::Store;
use inbound::tui::app::effects::{FIRST_TOKENS, snapshot_first};
use inbound::tui::state::{Env, Model};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or("usage: tui_first_frame DIR [RUNS]")?;
    let runs: u32 = args.next().map_or(Ok(20), |r| r.parse())?;
    let store = Store::open(Some(dir.into()))?;
    let mut best = f64::MAX;
    let mut total = 0.0;
    for _ in 0..runs {
        let start = Instant::now();
        let data = snapshot_first(&store, FIRST_TOKENS)?;
        let model = Model::new(
            data,
            jiff::Timestamp::now(),
            jiff::tz::TimeZone::UTC,
            Env::default(),
        );
        let mut terminal = Terminal::new(TestBackend::new(80, 24))?;
        terminal.draw(|f| inbound::tui::ui::render(&model, f))?;
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        best = best.min(ms);
        total += ms;
    }
    println!(
        "first frame ({} servers): best {best:.1} ms, mean {:.1} ms over {runs} runs",
        store.load()?.servers.len(),
        total / f64::from(runs)
    );
    Ok(())
}
