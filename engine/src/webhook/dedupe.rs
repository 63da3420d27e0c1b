//! Remembering delivery ids, so a provider's retry of an accepted event is answered 2xx
//! and not run again.
//!
//! The trait is what the receiving path needs; the run store (SQLite/PostgreSQL) implements
//! it durably with a unique key. [`MemoryDedupe`] serves a single process and the tests.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// Remembers (connection, event id) pairs for a retention window.
pub trait Dedupe: Send + Sync {
    /// Records the pair; `false` when it was already recorded within its window.
    fn first_time(
        &self,
        connection: &str,
        event_id: &str,
        window: Duration,
        now: SystemTime,
    ) -> bool;
    /// Forgets a pair whose event could not be stored, so the provider's retry is accepted.
    fn forget(&self, connection: &str, event_id: &str);
}

/// In-memory dedupe with expiry.
#[derive(Debug, Default)]
pub struct MemoryDedupe {
    seen: Mutex<HashMap<(String, String), SystemTime>>,
}

impl Dedupe for MemoryDedupe {
    fn first_time(
        &self,
        connection: &str,
        event_id: &str,
        window: Duration,
        now: SystemTime,
    ) -> bool {
        let Ok(mut seen) = self.seen.lock() else {
            return true;
        };
        // Expired entries are dropped as new ones arrive, so the map stays bounded by the
        // deliveries of one window.
        if seen.len() > 1024 {
            seen.retain(|_, until| *until > now);
        }
        let key = (connection.to_string(), event_id.to_string());
        match seen.get(&key) {
            Some(until) if *until > now => false,
            _ => {
                seen.insert(key, now + window);
                true
            }
        }
    }

    fn forget(&self, connection: &str, event_id: &str) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.remove(&(connection.to_string(), event_id.to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_within_the_window_only() {
        let d = MemoryDedupe::default();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let w = Duration::from_secs(60);
        assert!(d.first_time("c", "e1", w, t0));
        assert!(!d.first_time("c", "e1", w, t0 + Duration::from_secs(59)));
        assert!(d.first_time("other", "e1", w, t0));
        assert!(d.first_time("c", "e1", w, t0 + Duration::from_secs(61)));
    }
}
