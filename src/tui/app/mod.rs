//! The runtime: owns the terminal and the channel, draws when something changed, feeds
//! messages to `update` and hands the resulting commands to the effects runner.

mod bulk;
pub mod clipboard;
pub mod effects;
pub mod input;
pub mod stand_in;
pub mod watch;

use crate::tui::state::Model;
use crate::tui::state::msg::Msg;
use crate::tui::ui;
use effects::Effects;
use futures_util::{Stream, StreamExt};
use jiff::Timestamp;
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::crossterm::event::Event;
use std::io;
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

pub struct App<E: Effects> {
    pub model: Model,
    effects: E,
    tx: UnboundedSender<Msg>,
    rx: UnboundedReceiver<Msg>,
    clock: Box<dyn Fn() -> Timestamp + Send>,
    /// Turns the terminal's mouse reporting on or off (the real terminal only).
    mouse: Box<dyn FnMut(bool) + Send>,
    mouse_on: bool,
}

impl<E: Effects> App<E> {
    pub fn new(model: Model, effects: E) -> Self {
        let (tx, rx) = unbounded_channel();
        Self {
            model,
            effects,
            tx,
            rx,
            clock: Box::new(Timestamp::now),
            mouse: Box::new(|_| {}),
            mouse_on: false,
        }
    }

    /// How to turn mouse reporting on and off: the app takes the mouse only on the review
    /// screen, so elsewhere the terminal selects text (links, commands) as usual.
    pub fn with_mouse(mut self, mouse: impl FnMut(bool) + Send + 'static) -> Self {
        self.mouse = Box::new(mouse);
        self
    }

    /// Replaces the clock (tests keep time still).
    pub fn with_clock(mut self, clock: impl Fn() -> Timestamp + Send + 'static) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// Where background work and signal handlers send their messages.
    pub fn sender(&self) -> UnboundedSender<Msg> {
        self.tx.clone()
    }

    pub fn effects(&self) -> &E {
        &self.effects
    }

    /// One message through `update`, its commands to the runner.
    pub fn dispatch(&mut self, msg: Msg) {
        if !matches!(msg, Msg::Tick(_)) {
            tracing::debug!(msg = msg.kind(), "update");
        }
        for cmd in self.model.update(msg) {
            tracing::debug!(?cmd, "effect");
            self.effects.run(cmd, &self.tx);
        }
    }

    /// The loop: draw when dirty, wait for input, a background result or the next tick.
    /// Ends when the model says quit, or when the event stream ends.
    pub async fn run<B, S>(&mut self, terminal: &mut Terminal<B>, mut events: S) -> io::Result<()>
    where
        B: Backend,
        S: Stream<Item = io::Result<Event>> + Unpin,
    {
        self.dispatch(Msg::Tick((self.clock)()));
        let mut dirty = true;
        while !self.model.quit {
            if dirty {
                terminal
                    .draw(|f| ui::render(&self.model, f))
                    .map_err(|e| io::Error::other(e.to_string()))?;
                dirty = false;
                let want = self.model.wants_mouse();
                if want != self.mouse_on {
                    (self.mouse)(want);
                    self.mouse_on = want;
                }
            }
            let wake = self.model.next_wake();
            let msg = tokio::select! {
                biased;
                Some(msg) = self.rx.recv() => msg,
                ev = events.next() => match ev {
                    Some(Ok(ev)) => match input::to_msg_in(&self.model, &ev, screen(terminal)) {
                        Some(m) => m,
                        None => continue,
                    },
                    Some(Err(e)) => return Err(e),
                    None => Msg::Signal("end of input"),
                },
                () = tokio::time::sleep(wake.unwrap_or(Duration::from_secs(3600))), if wake.is_some() => {
                    Msg::Tick((self.clock)())
                }
            };
            // Every message sees the present: a refresh that just finished must not read as
            // "in 13 s" because the last tick was a minute ago.
            if !matches!(msg, Msg::Tick(_)) {
                self.dispatch(Msg::Tick((self.clock)()));
            }
            self.dispatch(msg);
            dirty = true;
        }
        Ok(())
    }
}

/// The terminal's whole area (where a mouse event's column and row count from).
fn screen<B: Backend>(terminal: &Terminal<B>) -> ratatui::layout::Rect {
    terminal
        .size()
        .map(|s| ratatui::layout::Rect::new(0, 0, s.width, s.height))
        .unwrap_or_default()
}
