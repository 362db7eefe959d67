//! The only place that reads the wall clock. Everything else receives a
//! `Clock` (or a `now` value) so tests can freeze and move time.

use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug, Default)]
pub struct Clock {
    fixed: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl Clock {
    /// The real wall clock.
    pub fn system() -> Self {
        Clock { fixed: None }
    }

    /// A clock that always reads `at` until moved with [`Clock::set`] or [`Clock::advance`].
    pub fn frozen(at: DateTime<Utc>) -> Self {
        Clock {
            fixed: Some(Arc::new(Mutex::new(at))),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.fixed {
            None => Utc::now(),
            Some(m) => *m.lock().unwrap_or_else(|p| p.into_inner()),
        }
    }

    /// Moves a frozen clock; does nothing to the system clock.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(m) = &self.fixed {
            *m.lock().unwrap_or_else(|p| p.into_inner()) = at;
        }
    }

    pub fn advance(&self, by: chrono::Duration) {
        if let Some(m) = &self.fixed {
            let mut g = m.lock().unwrap_or_else(|p| p.into_inner());
            *g += by;
        }
    }
}
