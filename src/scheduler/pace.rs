//! Proactive pacing of chat sends, so a burst (every Monday-morning agenda at
//! 09:00) drains at a rate the platform accepts instead of provoking a storm
//! of 429s.
//!
//! Two limits apply to every message, each a token bucket in its GCRA form
//! (one "theoretical arrival time" per key): one per workspace (Slack limits
//! `chat.postMessage` workspace-wide at several hundred a minute; Teams at 50
//! requests a second per tenant) and one per channel, here the recipient's
//! direct messages (Slack: about one message a second per channel, short
//! bursts allowed; Teams: 7 a second per conversation). A 429 moves the
//! workspace's bucket to the platform's `Retry-After`, so the pacer and the
//! reactive pause are one mechanism.
//!
//! The pacer is per process. With several replicas each paces itself; the
//! 429 pause stays the backstop for what they add up to (README, "Scheduler").

use crate::domain::model::{PersonId, WorkspaceId};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;

/// The rates one platform accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pacing {
    /// Sustained messages per second into one workspace.
    pub workspace_per_second: u32,
    /// Messages that may go at once into a workspace after a quiet spell.
    pub workspace_burst: u32,
    /// Sustained gap between two messages into one channel.
    pub channel_interval: Duration,
    /// Messages that may go at once into one channel.
    pub channel_burst: u32,
}

impl Pacing {
    /// Slack: about one `chat.postMessage` a second per channel with short
    /// bursts, and a workspace-wide limit of several hundred a minute: 4 a
    /// second (240 a minute) stays well inside it.
    pub const SLACK: Pacing = Pacing {
        workspace_per_second: 4,
        workspace_burst: 10,
        channel_interval: Duration::seconds(1),
        channel_burst: 2,
    };

    /// Teams: 50 requests a second per app and tenant, 7 a second per
    /// conversation; proactive sends cost two calls the first time (create the
    /// conversation, then post), so stay at a third of the tenant limit.
    pub const TEAMS: Pacing = Pacing {
        workspace_per_second: 15,
        workspace_burst: 15,
        channel_interval: Duration::seconds(1),
        channel_burst: 3,
    };

    fn workspace_interval(&self) -> Duration {
        Duration::microseconds(1_000_000 / i64::from(self.workspace_per_second.max(1)))
    }
}

/// One GCRA bucket: the instant at which the bucket would be empty again if
/// nothing more were sent.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tat: DateTime<Utc>,
}

impl Bucket {
    /// The earliest instant a message may go, given the sustained gap and
    /// the burst allowed.
    fn earliest(&self, now: DateTime<Utc>, interval: Duration, burst: u32) -> DateTime<Utc> {
        let tolerance = interval * (burst.max(1) as i32 - 1);
        now.max(self.tat - tolerance)
    }

    fn take(&mut self, at: DateTime<Utc>, interval: Duration) {
        self.tat = self.tat.max(at) + interval;
    }
}

/// Remembers what was sent where, and says when the next message may go.
/// Each workspace is paced at its platform's [`Pacing`], which the caller
/// passes along (workspace ids are unique across platforms).
#[derive(Debug, Default)]
pub struct Pacer {
    workspaces: HashMap<WorkspaceId, Bucket>,
    channels: HashMap<(WorkspaceId, PersonId), Bucket>,
}

impl Pacer {
    pub fn new() -> Self {
        Pacer::default()
    }

    /// The earliest instant a message to `to` in `ws` may be sent.
    pub fn earliest(&self, p: &Pacing, ws: WorkspaceId, to: PersonId, now: DateTime<Utc>) -> DateTime<Utc> {
        let w = self
            .workspaces
            .get(&ws)
            .map_or(now, |b| b.earliest(now, p.workspace_interval(), p.workspace_burst));
        let c = self
            .channels
            .get(&(ws, to))
            .map_or(now, |b| b.earliest(now, p.channel_interval, p.channel_burst));
        w.max(c)
    }

    /// Counts a message sent (or attempted) at `at`.
    pub fn take(&mut self, p: &Pacing, ws: WorkspaceId, to: PersonId, at: DateTime<Utc>) {
        self.workspaces
            .entry(ws)
            .or_insert(Bucket { tat: at })
            .take(at, p.workspace_interval());
        self.channels
            .entry((ws, to))
            .or_insert(Bucket { tat: at })
            .take(at, p.channel_interval);
        // Forget buckets that are empty again, so the maps stay as small as
        // what was sent in the last seconds.
        if self.channels.len() > 10_000 {
            self.channels.retain(|_, b| b.tat > at);
        }
    }

    /// The platform said "slow down until `until`": nothing more goes into
    /// `ws` before then, and then only at the sustained rate.
    pub fn pause(&mut self, p: &Pacing, ws: WorkspaceId, until: DateTime<Utc>) {
        let tolerance = p.workspace_interval() * (p.workspace_burst.max(1) as i32 - 1);
        let b = self.workspaces.entry(ws).or_insert(Bucket { tat: until });
        b.tat = b.tat.max(until + tolerance);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap()
    }

    /// Sends `n` messages to distinct people in one workspace as early as the
    /// pacer allows and returns the instants.
    fn drain(pacer: &mut Pacer, n: i64, same_person: bool) -> Vec<DateTime<Utc>> {
        let mut now = t0();
        (0..n)
            .map(|i| {
                let to = PersonId(if same_person { 1 } else { i });
                now = pacer.earliest(&Pacing::SLACK, WorkspaceId(1), to, now);
                pacer.take(&Pacing::SLACK, WorkspaceId(1), to, now);
                now
            })
            .collect()
    }

    #[test]
    fn a_burst_then_the_sustained_workspace_rate() {
        let mut p = Pacer::new();
        let at = drain(&mut p, 250, false);
        // The first ten go at once, then one every 250 ms.
        assert!(at[..10].iter().all(|t| *t == t0()));
        assert_eq!(at[10], t0() + Duration::milliseconds(250));
        assert_eq!(at[249], t0() + Duration::milliseconds(250 * 240));
        // In any minute: at most the burst plus 240.
        let in_first_minute = at.iter().filter(|t| **t < t0() + Duration::seconds(60)).count();
        assert!(in_first_minute <= 250, "{in_first_minute}");
    }

    #[test]
    fn one_channel_gets_at_most_one_a_second_after_its_burst() {
        let mut p = Pacer::new();
        let at = drain(&mut p, 5, true);
        let secs: Vec<i64> = at.iter().map(|t| (*t - t0()).num_milliseconds()).collect();
        assert_eq!(secs, vec![0, 0, 1000, 2000, 3000]);
    }

    #[test]
    fn workspaces_and_channels_do_not_slow_each_other() {
        let mut p = Pacer::new();
        // One person's 100 messages take 100 seconds; the workspace is not held up by them.
        let last = *drain(&mut p, 100, true).last().unwrap();
        assert_eq!(last, t0() + Duration::seconds(98));
        assert_eq!(p.earliest(&Pacing::SLACK, WorkspaceId(2), PersonId(1), t0()), t0());
        assert_eq!(p.earliest(&Pacing::SLACK, WorkspaceId(1), PersonId(999), last), last);
    }

    #[test]
    fn a_pause_holds_the_workspace_until_retry_after_then_resumes_at_the_sustained_rate() {
        let mut p = Pacer::new();
        let until = t0() + Duration::seconds(30);
        p.pause(&Pacing::SLACK, WorkspaceId(1), until);
        assert_eq!(p.earliest(&Pacing::SLACK, WorkspaceId(1), PersonId(1), t0()), until);
        p.take(&Pacing::SLACK, WorkspaceId(1), PersonId(1), until);
        assert_eq!(
            p.earliest(&Pacing::SLACK, WorkspaceId(1), PersonId(2), until),
            until + Duration::milliseconds(250)
        );
        // A shorter pause never shortens a longer one.
        p.pause(&Pacing::SLACK, WorkspaceId(1), t0());
        assert!(p.earliest(&Pacing::SLACK, WorkspaceId(1), PersonId(3), t0()) > until);
    }
}
