//! The only place that reads the wall clock. Everything else receives a
//! `Clock` (or a `now` value) so tests can freeze and move time.

use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug, Default)]
enum Source {
    /// The real wall clock.
    #[default]
    System,
    /// Reads a set instant until moved; waiting moves it (virtual time).
    Frozen(Arc<Mutex<DateTime<Utc>>>),
    /// The real clock shifted by a fixed amount: time flows from a chosen start.
    Shifted(chrono::Duration),
}

#[derive(Clone, Debug, Default)]
pub struct Clock {
    source: Source,
}

impl Clock {
    /// The real wall clock.
    pub fn system() -> Self {
        Clock { source: Source::System }
    }

    /// A clock that always reads `at` until moved with [`Clock::set`] or
    /// [`Clock::advance`]. Waiting on it ([`Clock::sleep_until`]) takes no real
    /// time: it moves the clock to the end of the wait.
    pub fn frozen(at: DateTime<Utc>) -> Self {
        Clock {
            source: Source::Frozen(Arc::new(Mutex::new(at))),
        }
    }

    /// A clock that reads `at` now and then runs at real speed (`oneonone tick
    /// --now`: a pass as of another moment that still waits in real time).
    pub fn starting_at(at: DateTime<Utc>) -> Self {
        Clock {
            source: Source::Shifted(at - Utc::now()),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.source {
            Source::System => Utc::now(),
            Source::Frozen(m) => *m.lock().unwrap_or_else(|p| p.into_inner()),
            Source::Shifted(by) => Utc::now() + *by,
        }
    }

    /// Moves a frozen clock; does nothing to a running one.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Source::Frozen(m) = &self.source {
            *m.lock().unwrap_or_else(|p| p.into_inner()) = at;
        }
    }

    pub fn advance(&self, by: chrono::Duration) {
        if let Source::Frozen(m) = &self.source {
            let mut g = m.lock().unwrap_or_else(|p| p.into_inner());
            *g += by;
        }
    }

    /// Waits until the clock reads `at` (at once if it already does). A
    /// frozen clock is moved forward to `at` instead, never backwards.
    pub async fn sleep_until(&self, at: DateTime<Utc>) {
        match &self.source {
            Source::Frozen(m) => {
                {
                    let mut g = m.lock().unwrap_or_else(|p| p.into_inner());
                    if *g < at {
                        *g = at;
                    }
                }
                tokio::task::yield_now().await;
            }
            Source::System | Source::Shifted(_) => {
                if let Ok(wait) = (at - self.now()).to_std() {
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[tokio::test]
    async fn a_frozen_clock_waits_by_moving_forward_never_back() {
        let t = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
        let c = Clock::frozen(t);
        c.sleep_until(t + chrono::Duration::seconds(5)).await;
        assert_eq!(c.now(), t + chrono::Duration::seconds(5));
        c.sleep_until(t).await;
        assert_eq!(c.now(), t + chrono::Duration::seconds(5));
    }

    #[tokio::test]
    async fn a_clock_started_at_another_moment_runs_at_real_speed() {
        let t = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
        let c = Clock::starting_at(t);
        assert!((c.now() - t).num_seconds().abs() <= 1);
        let before = std::time::Instant::now();
        c.sleep_until(c.now() + chrono::Duration::milliseconds(30)).await;
        assert!(before.elapsed() >= std::time::Duration::from_millis(25));
        // Set and advance only move frozen clocks.
        c.set(t - chrono::Duration::days(1));
        assert!(c.now() >= t);
    }
}
