//! Counting of repeated errors, so that a bookmaker failing on every job is logged once
//! per window with a count, not thousands of times.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long identical errors are counted before the next one is logged again.
pub const REPEAT_WINDOW: Duration = Duration::from_secs(60);

/// Most distinct keys tracked; beyond it the oldest windows are forgotten, so memory
/// stays bounded whatever the errors say.
const MAX_KEYS: usize = 1024;

#[derive(Debug)]
struct Window {
    started: Instant,
    suppressed: u64,
}

/// Decides which occurrences of an error are logged.
#[derive(Debug)]
pub struct Repeats {
    window: Duration,
    seen: Mutex<HashMap<String, Window>>,
}

impl Default for Repeats {
    fn default() -> Self {
        Self::new(REPEAT_WINDOW)
    }
}

/// Whether to log an occurrence, and how many were suppressed before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Log it; `suppressed` identical errors were counted since the last logged one.
    Log {
        /// Occurrences not logged since the previous logged one.
        suppressed: u64,
    },
    /// Count it only.
    Suppress,
}

impl Repeats {
    /// Creates a counter with the given window.
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Records one occurrence of the error identified by `key` (for example the
    /// bookmaker and error kind) and returns whether to log it.
    pub fn check(&self, key: &str) -> Verdict {
        let Ok(mut seen) = self.seen.lock() else {
            return Verdict::Log { suppressed: 0 };
        };
        let now = Instant::now();
        if let Some(window) = seen.get_mut(key) {
            if now.duration_since(window.started) < self.window {
                window.suppressed += 1;
                return Verdict::Suppress;
            }
            let suppressed = window.suppressed;
            window.started = now;
            window.suppressed = 0;
            return Verdict::Log { suppressed };
        }
        if seen.len() >= MAX_KEYS {
            let window = self.window;
            seen.retain(|_, entry| now.duration_since(entry.started) < window);
            if seen.len() >= MAX_KEYS {
                seen.clear();
            }
        }
        seen.insert(
            key.to_owned(),
            Window {
                started: now,
                suppressed: 0,
            },
        );
        Verdict::Log { suppressed: 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_occurrence_is_logged_then_counted() {
        let repeats = Repeats::new(Duration::from_millis(200));
        assert_eq!(
            repeats.check("unibet:timeout"),
            Verdict::Log { suppressed: 0 }
        );
        for _ in 0..5 {
            assert_eq!(repeats.check("unibet:timeout"), Verdict::Suppress);
        }
        assert_eq!(
            repeats.check("pinnacle:timeout"),
            Verdict::Log { suppressed: 0 }
        );
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(
            repeats.check("unibet:timeout"),
            Verdict::Log { suppressed: 5 }
        );
    }

    #[test]
    fn key_count_stays_bounded() {
        let repeats = Repeats::new(Duration::from_secs(60));
        for index in 0..(MAX_KEYS * 3) {
            repeats.check(&format!("key-{index}"));
        }
        assert!(repeats.seen.lock().unwrap().len() <= MAX_KEYS);
    }
}
