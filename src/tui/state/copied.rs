//! What became of a copy ([`Msg::Copied`](super::msg::Msg::Copied)): the runtime makes the
//! copy, the state words its result.

/// How a copy was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Into tmux's paste buffer (`load-buffer -w` also forwards to the outer clipboard).
    TmuxBuffer,
    /// OSC 52 written to the terminal: it may or may not honour it; we cannot know.
    Osc52,
}

/// Why a copy did not go out (the io error kept whole).
#[derive(Debug, Clone, thiserror::Error)]
pub enum CopyError {
    #[error("tmux did not take it ({0})")]
    Tmux(std::sync::Arc<std::io::Error>),
    #[error("{0}")]
    Terminal(std::sync::Arc<std::io::Error>),
}
