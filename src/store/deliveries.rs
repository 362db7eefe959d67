//! The delivery queue: durable notifications (SPEC §8, STYLE 12). This file
//! owns the `deliveries` table — enqueueing, claiming with a lease, and
//! recording each attempt's outcome — and the retry backoff. It knows nothing
//! of what a notification says (the payload is opaque JSON) nor how it is
//! sent; the scheduler plans and the worker sends. Imports `domain` only.
//!
//! Why each notification is sent once, whatever the number of replicas and
//! passes:
//!
//! 1. **Unique key before send.** A notification is a row keyed by
//!    `{kind}:{subject}:{slot}:{recipient}`, inserted with `on conflict do
//!    nothing` before anything is sent; a second pass or replica finds the
//!    row and queues nothing.
//! 2. **Atomic claim with a lease.** One statement moves due rows to
//!    `sending` and increments `attempts`. PostgreSQL picks them with `for
//!    update skip locked`, so concurrent claimers take disjoint rows (and a
//!    row committed by another claimer meanwhile is re-checked and skipped);
//!    SQLite runs the statement in a `begin immediate` transaction, and its
//!    single writer makes claims one after the other.
//! 3. **Conditional, fenced completion.** Every write after a claim
//!    (complete, retry, fail, drop) names the claim it belongs to — the row
//!    must still be `sending` with the same `attempts` — so a sent row never
//!    becomes claimable again, and a late worker whose lease expired and was
//!    re-claimed changes nothing: its call returns `false` (or
//!    [`RetryOutcome::Lost`]) and the newer claim's outcome stands.
//! 4. **Crash recovery.** A worker that dies between claim and completion
//!    leaves its row `sending`; once `lease_until` has passed, the next claim
//!    takes it over (with `attempts` incremented).
//!
//! The one window the store cannot close: a worker that crashes (or outlives
//! its lease) *after* the chat API accepted the message but *before*
//! `complete_delivery` leads to a second send, because chat APIs take no
//! idempotency key. The worker keeps that window small by using a send
//! timeout well under the lease and by not sending once its lease is over.

use super::rows::{from_ts, row};
use super::{Db, Result, StoreError, TxPool, constraint_error, ts_of};
use crate::domain::model::*;
use chrono::{DateTime, Utc};

/// Longest error text kept in `last_error`.
const MAX_ERROR_CHARS: usize = 500;

/// First retry delay; each further attempt doubles it.
const BACKOFF_BASE_SECS: i64 = 30;
/// No retry waits longer than this (unless the platform asks via Retry-After).
const BACKOFF_CAP_SECS: i64 = 3600;

/// What `retry_delivery` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryOutcome {
    /// Back to `pending`, due at the given time.
    Rescheduled,
    /// That was the last attempt: kept as `failed`.
    Failed,
    /// The claim was no longer ours (completed, or re-claimed after the lease
    /// expired): nothing changed.
    Lost,
}

/// How long to wait before attempt `attempt + 1`, after attempt `attempt`
/// (1-based) failed: 30 s · 2^(attempt−1), capped at one hour, shortened by
/// up to 10 % of deterministic jitter derived from the attempt (no RNG, so
/// tests and replays agree) — but never less than the platform's
/// `Retry-After`, rounded up to whole seconds.
pub fn backoff(attempt: u32, retry_after: Option<std::time::Duration>) -> chrono::Duration {
    // Attempt 0 (never claimed) is treated as the first.
    let attempt = attempt.max(1);
    // 30 s · 2^7 already exceeds the cap; clamping the exponent avoids overflow.
    let exponent = (attempt - 1).min(7);
    let base = (BACKOFF_BASE_SECS << exponent).min(BACKOFF_CAP_SECS);
    // A multiplicative hash of the attempt, spread over 0..100 per mille.
    let permille = i64::from(attempt.wrapping_mul(2_654_435_761) % 100);
    let ours = base - base * permille / 1000;
    let asked = retry_after.map_or(0, |d| {
        let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        if d.subsec_nanos() > 0 {
            secs.saturating_add(1)
        } else {
            secs
        }
    });
    // chrono's largest duration is about 292 million years; clamp to a century.
    chrono::Duration::seconds(ours.max(asked).min(100 * 365 * 86_400))
}

/// Error text as stored: at most `MAX_ERROR_CHARS` characters. Callers pass
/// our own error `Display`, which never contains a token.
fn truncated(error: &str) -> String {
    error.chars().take(MAX_ERROR_CHARS).collect()
}

/// `t` in unix seconds, rounded up: a delivery is never due earlier than asked.
fn ts_ceil(t: DateTime<Utc>) -> i64 {
    if t.timestamp_subsec_nanos() > 0 {
        t.timestamp() + 1
    } else {
        t.timestamp()
    }
}

row! {
    struct DeliveryRow {
        id: i64,
        workspace_id: i64,
        kind: String,
        subject: String,
        slot: i64,
        dedupe_key: String,
        recipient_id: i64,
        payload: String,
        due_at: i64,
        state: String,
        attempts: i64,
        max_attempts: i64,
        lease_until: Option<i64>,
        last_error: Option<String>,
        message_channel: Option<String>,
        message_ts: Option<String>,
        created_at: i64,
        updated_at: i64,
        sent_at: Option<i64>,
    }
}

fn count(v: i64, what: &str) -> Result<u32> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} {v}")))
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = StoreError;
    fn try_from(r: DeliveryRow) -> Result<Self> {
        Ok(Delivery {
            id: DeliveryId(r.id),
            workspace_id: WorkspaceId(r.workspace_id),
            kind: DeliveryKind::parse(&r.kind).ok_or_else(|| StoreError::Corrupt(format!("kind {:?}", r.kind)))?,
            subject: r.subject,
            slot: from_ts(r.slot)?,
            dedupe_key: r.dedupe_key,
            recipient_id: PersonId(r.recipient_id),
            payload: serde_json::from_str(&r.payload)
                .map_err(|e| StoreError::Corrupt(format!("payload of delivery {}: {e}", r.id)))?,
            due_at: from_ts(r.due_at)?,
            state: DeliveryState::parse(&r.state).ok_or_else(|| StoreError::Corrupt(format!("state {:?}", r.state)))?,
            attempts: count(r.attempts, "attempts")?,
            max_attempts: count(r.max_attempts, "max_attempts")?,
            lease_until: r.lease_until.map(from_ts).transpose()?,
            last_error: r.last_error,
            message_channel: r.message_channel,
            message_ts: r.message_ts,
            created_at: from_ts(r.created_at)?,
            updated_at: from_ts(r.updated_at)?,
            sent_at: r.sent_at.map(from_ts).transpose()?,
        })
    }
}

fn decode_all(rows: Vec<DeliveryRow>) -> Result<Vec<Delivery>> {
    rows.into_iter().map(TryInto::try_into).collect()
}

impl Db {
    /// Queues a notification unless one with the same dedupe key exists;
    /// `true` when newly queued. Safe to call on every pass, from every replica.
    pub async fn enqueue_delivery(&self, new: &NewDelivery, now: DateTime<Utc>) -> Result<bool> {
        const Q: &str = "insert into deliveries (workspace_id, kind, subject, slot, dedupe_key, recipient_id, payload,
                due_at, state, attempts, max_attempts, created_at, updated_at)
            values ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $9, $10, $10)
            on conflict (dedupe_key) do nothing";
        let payload = serde_json::to_string(&new.payload).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let done = on_db!(self, p => sqlx::query(Q)
            .bind(new.workspace_id.0).bind(new.kind.as_str()).bind(new.subject.clone()).bind(ts_of(new.slot))
            .bind(new.dedupe_key()).bind(new.recipient_id.0).bind(payload.clone()).bind(ts_of(new.due_at))
            .bind(i64::from(new.max_attempts)).bind(ts_of(now))
            .execute(p).await.map(|r| r.rows_affected()))
        .map_err(|e| constraint_error(e, "a delivery needs at least one attempt"))?;
        Ok(done == 1)
    }

    /// Claims up to `limit` deliveries that are due (pending with `due_at <=
    /// now`) or whose claim expired (sending with `lease_until < now`: a
    /// crashed or stalled worker): they become `sending` until `now + lease`,
    /// with `attempts` incremented. Oldest due first. Two concurrent claimers
    /// never receive the same row.
    pub async fn claim_due_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        self.claim(None, now, lease, limit).await
    }

    /// Like [`Db::claim_due_deliveries`], for one workspace's due rows only.
    pub async fn claim_due_deliveries_in(
        &self,
        workspace: WorkspaceId,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        self.claim(Some(workspace), now, lease, limit).await
    }

    /// The one claim statement, for every workspace (`None`) or one.
    async fn claim(
        &self,
        workspace: Option<WorkspaceId>,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        // One statement on both engines; only the row locking differs.
        // PostgreSQL: `skip locked` lets concurrent claimers pass over rows
        // another claimer holds instead of waiting for (and then re-checking)
        // them; a row another claimer committed in the meantime is re-checked
        // against the where clause under read committed and left out.
        const CLAIM_PG: &str = "update deliveries set state = 'sending', lease_until = $2, attempts = attempts + 1,
                updated_at = $1
            where id in (select id from deliveries
                where ($4 is null or workspace_id = $4)
                    and ((state = 'pending' and due_at <= $1) or (state = 'sending' and lease_until < $1))
                order by due_at, id limit $3
                for update skip locked)
            returning id, workspace_id, kind, subject, slot, dedupe_key, recipient_id, payload, due_at, state,
                attempts, max_attempts, lease_until, last_error, message_channel, message_ts, created_at, updated_at,
                sent_at";
        // SQLite has no row locks: the `begin immediate` transaction below
        // takes the single write lock before the select runs, so claims are
        // serial (the busy timeout makes the others wait, not fail).
        const CLAIM_SQLITE: &str = "update deliveries set state = 'sending', lease_until = $2, attempts = attempts + 1,
                updated_at = $1
            where id in (select id from deliveries
                where ($4 is null or workspace_id = $4)
                    and ((state = 'pending' and due_at <= $1) or (state = 'sending' and lease_until < $1))
                order by due_at, id limit $3)
            returning id, workspace_id, kind, subject, slot, dedupe_key, recipient_id, payload, due_at, state,
                attempts, max_attempts, lease_until, last_error, message_channel, message_ts, created_at, updated_at,
                sent_at";
        let q = match self {
            Db::Sqlite(_) => CLAIM_SQLITE,
            Db::Postgres(_) => CLAIM_PG,
        };
        let until = ts_of(now + lease);
        let rows: Vec<DeliveryRow> = on_db!(self, p => {
            let mut tx = p.begin_write().await?;
            let rows = sqlx::query_as(q)
                .bind(ts_of(now)).bind(until).bind(i64::from(limit)).bind(workspace.map(|w| w.0))
                .fetch_all(&mut *tx).await?;
            tx.commit().await?;
            rows
        });
        let mut claimed = decode_all(rows)?;
        // `returning` promises no order.
        claimed.sort_by_key(|d| (d.due_at, d.id));
        Ok(claimed)
    }

    /// Records that `claim` was sent (with the chat message's reference, when
    /// the platform gives one). `false` when the claim is no longer current —
    /// the row left `sending`, or its lease expired and another worker
    /// re-claimed it (`attempts` moved on): nothing is overwritten, and the
    /// caller should log that its message may be a duplicate.
    pub async fn complete_delivery(
        &self,
        claim: &Delivery,
        channel: Option<&str>,
        ts: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        const Q: &str = "update deliveries set state = 'sent', lease_until = null, message_channel = $2,
                message_ts = $3, sent_at = $4, updated_at = $4
            where id = $1 and state = 'sending' and attempts = $5";
        let done = on_db!(self, p => sqlx::query(Q)
            .bind(claim.id.0).bind(channel.map(str::to_string)).bind(ts.map(str::to_string)).bind(ts_of(now))
            .bind(i64::from(claim.attempts))
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// After a failed attempt of `claim`: back to `pending`, due at
    /// `next_due` (see [`backoff`]), or `failed` when that was the last
    /// attempt. [`RetryOutcome::Lost`] when the claim is no longer current.
    pub async fn retry_delivery(
        &self,
        claim: &Delivery,
        next_due: DateTime<Utc>,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<RetryOutcome> {
        // One statement decides and writes, from the row's own counters.
        const Q: &str = "update deliveries set
                state = case when attempts >= max_attempts then 'failed' else 'pending' end,
                due_at = case when attempts >= max_attempts then due_at else $2 end,
                lease_until = null, last_error = $3, updated_at = $4
            where id = $1 and state = 'sending' and attempts = $5
            returning state";
        let state: Option<String> = on_db!(self, p => sqlx::query_scalar(Q)
            .bind(claim.id.0).bind(ts_ceil(next_due)).bind(truncated(error)).bind(ts_of(now))
            .bind(i64::from(claim.attempts))
            .fetch_optional(p).await)?;
        Ok(match state.as_deref() {
            None => RetryOutcome::Lost,
            Some("failed") => RetryOutcome::Failed,
            Some(_) => RetryOutcome::Rescheduled,
        })
    }

    /// Puts `claim` back to pending until `due` without counting the attempt:
    /// it was never tried (the recipient is outside working hours, or the
    /// workspace is paused by Slack's rate limit). `false` when the claim is
    /// no longer current.
    pub async fn postpone_delivery(
        &self,
        claim: &Delivery,
        due: DateTime<Utc>,
        why: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        // `attempts` only ever grows (it fences stale claims); the untried
        // attempt is given back by raising the budget instead.
        const Q: &str = "update deliveries set state = 'pending', due_at = $2, max_attempts = max_attempts + 1,
                lease_until = null, last_error = $3, updated_at = $4
            where id = $1 and state = 'sending' and attempts = $5";
        let done = on_db!(self, p => sqlx::query(Q)
            .bind(claim.id.0).bind(ts_ceil(due)).bind(truncated(why)).bind(ts_of(now)).bind(i64::from(claim.attempts))
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Claims fairly across workspaces: up to `limit` rows, shared out so
    /// that one workspace's burst (5,000 agendas at 09:00 Monday) cannot
    /// starve another's. Each workspace's share is claimed with
    /// [`Db::claim_due_deliveries_in`], so the exactly-once guarantees are the same.
    pub async fn claim_due_deliveries_fairly(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        const DUE_WORKSPACES: &str = "select distinct workspace_id from deliveries
            where (state = 'pending' and due_at <= $1) or (state = 'sending' and lease_until < $1)";
        let workspaces: Vec<i64> = read!(self, all scalar DUE_WORKSPACES, ts_of(now))?;
        if workspaces.is_empty() {
            return Ok(Vec::new());
        }
        let share = (limit / u32::try_from(workspaces.len()).unwrap_or(u32::MAX)).max(5);
        let mut claimed = Vec::new();
        for ws in workspaces {
            claimed.extend(self.claim_due_deliveries_in(WorkspaceId(ws), now, lease, share).await?);
        }
        Ok(claimed)
    }

    /// Gives up on `claim` now, whatever attempts remain (an error no retry
    /// can fix, e.g. the recipient left). `false` when the claim is no longer
    /// current.
    pub async fn fail_delivery(&self, claim: &Delivery, error: &str, now: DateTime<Utc>) -> Result<bool> {
        const Q: &str = "update deliveries set state = 'failed', lease_until = null, last_error = $2, updated_at = $3
            where id = $1 and state = 'sending' and attempts = $4";
        let done = on_db!(self, p => sqlx::query(Q)
            .bind(claim.id.0).bind(truncated(error)).bind(ts_of(now)).bind(i64::from(claim.attempts))
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Drops a delivery that no longer makes sense (an agenda whose meeting
    /// already passed), keeping it for the record with `reason` in
    /// `last_error`. Works on a pending row or on one's own claim, as long as
    /// `attempts` still matches the snapshot `d` (optimistic: a row claimed
    /// meanwhile by a worker is left to that worker); `false` otherwise.
    pub async fn drop_delivery(&self, d: &Delivery, reason: &str, now: DateTime<Utc>) -> Result<bool> {
        const Q: &str = "update deliveries set state = 'dropped', lease_until = null, last_error = $2, updated_at = $3
            where id = $1 and state in ('pending', 'sending') and attempts = $4";
        let done = on_db!(self, p => sqlx::query(Q)
            .bind(d.id.0).bind(truncated(reason)).bind(ts_of(now)).bind(i64::from(d.attempts))
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    pub async fn delivery(&self, id: DeliveryId) -> Result<Option<Delivery>> {
        const Q: &str = "select id, workspace_id, kind, subject, slot, dedupe_key, recipient_id, payload, due_at,
                state, attempts, max_attempts, lease_until, last_error, message_channel, message_ts, created_at,
                updated_at, sent_at
            from deliveries where id = $1";
        let row: Option<DeliveryRow> = read!(self, optional Q, id.0)?;
        row.map(TryInto::try_into).transpose()
    }

    /// How many deliveries there are of each kind in each state (for
    /// `/metrics`); combinations with none are absent.
    pub async fn delivery_counts(&self) -> Result<Vec<(DeliveryKind, DeliveryState, u64)>> {
        const Q: &str = "select kind, state, count(*) from deliveries group by kind, state order by kind, state";
        let rows: Vec<(String, String, i64)> = read!(self, all Q)?;
        rows.into_iter()
            .map(|(kind, state, n)| {
                Ok((
                    DeliveryKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("kind {kind:?}")))?,
                    DeliveryState::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("state {state:?}")))?,
                    u64::try_from(n).unwrap_or(0),
                ))
            })
            .collect()
    }

    /// When the longest-waiting pending delivery that is due by `now` was due
    /// (`None` when nothing is due): the scheduler's lag, for `/metrics`. One
    /// probe of the `(state, due_at)` index.
    pub async fn oldest_due_pending(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
        const Q: &str = "select min(due_at) from deliveries where state = 'pending' and due_at <= $1";
        let due: Option<i64> = read!(self, one scalar Q, ts_of(now))?;
        due.map(from_ts).transpose()
    }

    /// Every delivery of `kind` about `subject`, oldest first.
    pub async fn deliveries_for_subject(&self, kind: DeliveryKind, subject: &str) -> Result<Vec<Delivery>> {
        const Q: &str = "select id, workspace_id, kind, subject, slot, dedupe_key, recipient_id, payload, due_at,
                state, attempts, max_attempts, lease_until, last_error, message_channel, message_ts, created_at,
                updated_at, sent_at
            from deliveries where kind = $1 and subject = $2 order by id";
        let rows: Vec<DeliveryRow> = read!(self, all Q, kind.as_str(), subject.to_string())?;
        decode_all(rows)
    }

    /// The delivery whose sent message is `channel`/`ts` (a reaction or a
    /// thread reply finds its notification this way).
    pub async fn delivery_by_message(&self, channel: &str, ts: &str) -> Result<Option<Delivery>> {
        const Q: &str = "select id, workspace_id, kind, subject, slot, dedupe_key, recipient_id, payload, due_at,
                state, attempts, max_attempts, lease_until, last_error, message_channel, message_ts, created_at,
                updated_at, sent_at
            from deliveries where message_channel = $1 and message_ts = $2 order by id limit 1";
        let row: Option<DeliveryRow> = read!(self, optional Q, channel.to_string(), ts.to_string())?;
        row.map(TryInto::try_into).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration as Std;

    #[test]
    fn backoff_doubles_from_about_thirty_seconds() {
        let secs: Vec<i64> = (1..=6).map(|n| backoff(n, None).num_seconds()).collect();
        for (i, s) in secs.iter().enumerate() {
            let base = 30 << i;
            assert!(
                *s <= base && *s >= base * 9 / 10,
                "attempt {}: {s} s, base {base} s",
                i + 1
            );
        }
        assert!(secs.windows(2).all(|w| w[1] > w[0]), "{secs:?}");
    }

    #[test]
    fn backoff_never_exceeds_an_hour_however_many_attempts() {
        for n in [8, 9, 20, 31, 32, 1000, u32::MAX] {
            let d = backoff(n, None);
            assert!(
                d <= chrono::Duration::hours(1) && d >= chrono::Duration::minutes(54),
                "attempt {n}: {d}"
            );
        }
    }

    #[test]
    fn backoff_is_deterministic() {
        for n in 0..50 {
            assert_eq!(backoff(n, None), backoff(n, None));
        }
        assert_eq!(backoff(0, None), backoff(1, None), "attempt 0 counts as the first");
    }

    #[test]
    fn backoff_never_waits_less_than_retry_after() {
        assert_eq!(backoff(1, Some(Std::from_secs(120))), chrono::Duration::seconds(120));
        assert_eq!(
            backoff(1, Some(Std::from_millis(90_500))),
            chrono::Duration::seconds(91)
        );
        assert_eq!(backoff(9, Some(Std::from_secs(7200))), chrono::Duration::hours(2));
        // A short Retry-After does not shorten our own backoff.
        assert_eq!(backoff(4, Some(Std::from_secs(1))), backoff(4, None));
        assert!(backoff(1, Some(Std::MAX)) > chrono::Duration::days(365));
    }

    #[test]
    fn stored_errors_are_truncated_on_a_character_boundary() {
        let long = "é".repeat(800);
        assert_eq!(truncated(&long).chars().count(), 500);
        assert_eq!(truncated("short"), "short");
    }
}
