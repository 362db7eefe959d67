//! One scheduler pass: plan what is due, enqueue it idempotently, then let
//! the worker send what is due now. `oneonone tick` runs exactly one; `serve`
//! runs one on every `ONEONONE_TICK`. The same code path for both.
//!
//! Planning never sends: it only inserts deliveries with a unique key (kind,
//! subject, slot, recipient), so however many passes or replicas run, each
//! notification exists once. Sending is the worker's job (`worker.rs`).

use super::plan;
use crate::domain::model::{
    DeliveryKind, Meeting, MeetingState, NewDelivery, Person, PersonId, Series, SeriesState, WorkspaceId,
};
use crate::store::{Db, StoreError};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use std::collections::HashMap;

/// How many 1:1s a pass plans per database round trip.
const PLAN_BATCH: u32 = 500;
/// How far ahead meetings are materialized so their agendas can be queued.
const PLAN_AHEAD: Duration = Duration::days(2);
/// Attempts before a delivery is kept as failed.
pub const MAX_ATTEMPTS: u32 = 6;

/// What one pass queued.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Planned {
    pub agendas: u32,
    pub follow_ups: u32,
    /// Overdue 1:1s, action digests and stuck topics.
    pub nudges: u32,
}

/// Plans every active 1:1: the agenda of its next meeting for both
/// participants, a follow-up for meetings that ended an hour ago and were
/// neither held nor skipped, the manager's overdue nudge, stuck topics for
/// their authors, and each participant's daily digest of overdue action items.
pub async fn plan(db: &Db, now: DateTime<Utc>) -> Result<Planned, StoreError> {
    let mut planned = Planned::default();
    let mut overdue_days: HashMap<WorkspaceId, u32> = HashMap::new();
    let mut people: HashMap<PersonId, Person> = HashMap::new();
    // Only the 1:1s whose planning time has come: an idle pass is one index
    // probe. Each planned 1:1 gets its next planning time, after now, so the
    // loop ends.
    loop {
        let due = db.series_due_for_planning(now, PLAN_BATCH).await?;
        let batch_len = due.len();
        for series in due {
            plan_series(db, &series, now, &mut planned, &mut overdue_days, &mut people).await?;
        }
        if batch_len < PLAN_BATCH as usize {
            break;
        }
    }
    for person in people.values() {
        planned.nudges += plan_digest(db, person, now).await?;
    }
    Ok(planned)
}

/// Plans one 1:1 and sets when the scheduler should look at it again.
async fn plan_series(
    db: &Db,
    series: &Series,
    now: DateTime<Utc>,
    planned: &mut Planned,
    overdue_days: &mut HashMap<WorkspaceId, u32>,
    people: &mut HashMap<PersonId, Person>,
) -> Result<(), StoreError> {
    // At least daily: digests and overdue nudges depend on the date alone.
    let mut next = now + Duration::days(1);
    let (Some(manager), Some(report)) = (
        db.person(series.workspace_id, series.manager_id).await?,
        db.person(series.workspace_id, series.report_id).await?,
    ) else {
        db.set_plan_at(series.id, next).await?;
        return Ok(());
    };
    let series = series.clone();
    let duration = Duration::minutes(i64::from(series.duration_minutes));
    {
        let pending = db.pending_meetings(series.id).await?;
        let upcoming = upcoming_meeting(db, &series, &pending, now).await?;
        match &upcoming {
            Some(m) => next = next.min(m.scheduled_at + duration + plan::FOLLOW_UP_AFTER),
            None => {
                // Look again when the next meeting enters the planning horizon.
                let lead = Duration::minutes(i64::from(series.lead_minutes));
                if let Some(slot) = crate::domain::schedule::next_occurrence(
                    &series.cadence,
                    series.time,
                    series.tz,
                    series.anchor_date,
                    now,
                ) {
                    next = next.min(slot - lead - PLAN_AHEAD);
                }
            }
        }
        for m in &pending {
            let follow_up = m.scheduled_at + duration + plan::FOLLOW_UP_AFTER;
            if follow_up > now {
                next = next.min(follow_up);
            }
        }
        if let Some(m) = &upcoming
            && let Some(skipped) = skip_if_away(db, &series, m, &manager, &report, now).await?
        {
            // Told once (the delivery key is the meeting's); the next meeting
            // is planned on the next pass.
            planned.nudges += skipped;
            db.set_plan_at(series.id, now).await?;
            return Ok(());
        }
        if let Some(m) = upcoming {
            let lead = Duration::minutes(i64::from(series.lead_minutes));
            // The report is asked first: their agenda is due no later than the manager's.
            for person in [&report, &manager] {
                if let Some(due) = plan::agenda_send_at(person, m.scheduled_at, lead)
                    && queue(db, &series, DeliveryKind::Agenda, &m, person, due, now).await?
                {
                    planned.agendas += 1;
                }
            }
        }
        for m in &pending {
            let end = m.scheduled_at + Duration::minutes(i64::from(series.duration_minutes));
            if end + Duration::hours(1) > now {
                continue;
            }
            for person in [&manager, &report] {
                if let Some(due) = plan::follow_up_send_at(person, end)
                    && queue(db, &series, DeliveryKind::FollowUp, m, person, due, now).await?
                {
                    planned.follow_ups += 1;
                }
            }
        }
        let days = match overdue_days.get(&series.workspace_id) {
            Some(days) => *days,
            None => {
                let days = db
                    .workspace(series.workspace_id)
                    .await?
                    .map_or(14, |w| w.overdue_after_days);
                overdue_days.insert(series.workspace_id, days);
                days
            }
        };
        planned.nudges += plan_overdue(db, &series, &manager, days, now).await?;
        planned.nudges += plan_stuck_topics(db, &series, &pending, [&manager, &report], now).await?;
    }
    people.entry(manager.id).or_insert(manager);
    people.entry(report.id).or_insert(report);
    // Never now or earlier: this pass must not see it again.
    db.set_plan_at(series.id, next.max(now + Duration::seconds(1))).await?;
    Ok(())
}

/// Overdue 1:1 (to the manager): no meeting held for the workspace's number
/// of days, or two skips in a row. One nudge per episode: the slot is the
/// last held meeting (or the series' start), or the latest skip.
async fn plan_overdue(db: &Db, s: &Series, manager: &Person, days: u32, now: DateTime<Utc>) -> Result<u32, StoreError> {
    if !manager.nudges {
        return Ok(0);
    }
    let Some(Overdue {
        reason,
        last_held,
        latest_closed,
    }) = overdue(db, s, days, now).await?
    else {
        return Ok(0);
    };
    let (slot, why) = match reason {
        plan::OverdueReason::NoneHeldFor(n) => (last_held.unwrap_or(s.created_at), json!({ "none_held_for_days": n })),
        plan::OverdueReason::SkippedTwiceInARow => {
            (latest_closed.unwrap_or(s.created_at), json!({ "skipped_twice": true }))
        }
    };
    let Some(due) = plan::next_allowed(manager, now) else {
        return Ok(0);
    };
    let new = NewDelivery {
        workspace_id: s.workspace_id,
        kind: DeliveryKind::Overdue,
        subject: format!("series:{}", s.id),
        slot,
        recipient_id: manager.id,
        payload: json!({ "series": s.id.0, "reason": why }),
        due_at: due,
        max_attempts: MAX_ATTEMPTS,
    };
    Ok(u32::from(db.enqueue_delivery(&new, now).await?))
}

/// Why a 1:1 is overdue now, with what the nudge's slot is derived from.
pub struct Overdue {
    pub reason: plan::OverdueReason,
    pub last_held: Option<DateTime<Utc>>,
    /// The slot of the most recent held or skipped meeting.
    pub latest_closed: Option<DateTime<Utc>>,
}

/// Whether `s` is overdue at `now` (SPEC §8): checked when planning the
/// nudge and again when sending it (a meeting may have been held since).
pub async fn overdue(db: &Db, s: &Series, days: u32, now: DateTime<Utc>) -> Result<Option<Overdue>, StoreError> {
    let closed = db.closed_meetings(s.id, 20).await?;
    let states: Vec<MeetingState> = closed.iter().map(|m| m.state).collect();
    let last_held = closed
        .iter()
        .find(|m| m.state == MeetingState::Held)
        .map(|m| m.scheduled_at);
    Ok(
        plan::is_overdue(last_held, s.created_at, now, days, &states).map(|reason| Overdue {
            reason,
            last_held,
            latest_closed: closed.first().map(|m| m.slot),
        }),
    )
}

/// Stuck topic (to its author): a point on the next meeting that has rolled
/// over [`plan::STUCK_AFTER_ROLLOVERS`] times. One nudge per meeting it is stuck on.
async fn plan_stuck_topics(
    db: &Db,
    s: &Series,
    pending: &[Meeting],
    pair: [&Person; 2],
    now: DateTime<Utc>,
) -> Result<u32, StoreError> {
    let Some(m) = pending.iter().find(|m| m.scheduled_at > now) else {
        return Ok(0);
    };
    let mut queued = 0;
    for tp in db.talking_points(m.id).await? {
        if !plan::is_stuck(&tp) {
            continue;
        }
        let Some(author) = pair.iter().find(|p| p.id == tp.author_id) else {
            continue;
        };
        if !author.nudges {
            continue;
        }
        let Some(due) = plan::next_allowed(author, now) else {
            continue;
        };
        let new = NewDelivery {
            workspace_id: s.workspace_id,
            kind: DeliveryKind::StuckTopic,
            subject: format!("point:{}", tp.id),
            slot: m.slot,
            recipient_id: author.id,
            payload: json!({ "point": tp.id.0, "meeting": m.id.0, "series": s.id.0 }),
            due_at: due,
            max_attempts: MAX_ATTEMPTS,
        };
        queued += u32::from(db.enqueue_delivery(&new, now).await?);
    }
    Ok(queued)
}

/// Action digest (to the owner): once a day at the start of their working
/// hours, only when one of their action items is overdue.
async fn plan_digest(db: &Db, p: &Person, now: DateTime<Utc>) -> Result<u32, StoreError> {
    if !p.nudges {
        return Ok(0);
    }
    let Some((day, start)) = plan::digest_slot(p, now) else {
        return Ok(0);
    };
    let items = db.open_action_items_owned_by(p.workspace_id, p.id).await?;
    if !items.iter().any(|a| a.due.is_some_and(|d| d < day)) {
        return Ok(0);
    }
    let new = NewDelivery {
        workspace_id: p.workspace_id,
        kind: DeliveryKind::ActionDigest,
        subject: format!("person:{}", p.id),
        slot: start,
        recipient_id: p.id,
        payload: json!({ "day": day.to_string() }),
        due_at: start,
        max_attempts: MAX_ATTEMPTS,
    };
    Ok(u32::from(db.enqueue_delivery(&new, now).await?))
}

/// The next meeting of an active series within the planning horizon,
/// materialized (idempotently: the slot is unique) so it can be referred to.
async fn upcoming_meeting(
    db: &Db,
    s: &Series,
    pending: &[Meeting],
    now: DateTime<Utc>,
) -> Result<Option<Meeting>, StoreError> {
    if s.state != SeriesState::Active {
        return Ok(None);
    }
    let lead = Duration::minutes(i64::from(s.lead_minutes));
    if let Some(m) = pending.iter().find(|m| m.scheduled_at > now) {
        return Ok((m.scheduled_at - lead <= now + PLAN_AHEAD).then(|| m.clone()));
    }
    let mut after = now;
    for _ in 0..60 {
        let Some(slot) = crate::domain::schedule::next_occurrence(&s.cadence, s.time, s.tz, s.anchor_date, after)
        else {
            return Ok(None);
        };
        if slot - lead > now + PLAN_AHEAD {
            return Ok(None);
        }
        let (m, _) = db.insert_meeting(s.id, slot, slot).await?;
        if m.state.is_pending() {
            return Ok(Some(m));
        }
        after = slot;
    }
    Ok(None)
}

/// A meeting on a day one of its people is away (set up or moved into the
/// time away after they said `away`, which skipped the meetings there were
/// then) is skipped with reason "away"; the other person is told once.
/// Returns how many were told, or `None` if nobody is away that day.
async fn skip_if_away(
    db: &Db,
    series: &Series,
    m: &Meeting,
    manager: &Person,
    report: &Person,
    now: DateTime<Utc>,
) -> Result<Option<u32>, StoreError> {
    let away_that_day = |p: &Person| plan::is_away_on(p, m.scheduled_at.with_timezone(&p.tz()).date_naive());
    let (away, partner) = match (away_that_day(manager), away_that_day(report)) {
        (true, _) => (manager, report),
        (false, true) => (report, manager),
        (false, false) => return Ok(None),
    };
    let Some(workspace) = db.workspace(series.workspace_id).await? else {
        return Ok(None);
    };
    let ctx = crate::commands::Ctx {
        db,
        now,
        directory: &super::worker::NoDirectory,
        platform: workspace.platform,
        invocation: "",
        line: "",
    };
    let told = crate::commands::skip_for_away(&ctx, series, m, away, partner)
        .await
        .map_err(super::worker::command_error)?;
    if told.is_none() || away_that_day(partner) {
        return Ok(Some(0));
    }
    let new = NewDelivery {
        workspace_id: series.workspace_id,
        kind: DeliveryKind::Notice,
        subject: format!("away:meeting:{}", m.id),
        slot: m.slot,
        recipient_id: partner.id,
        payload: json!({ "meeting": m.id.0, "series": series.id.0, "away": away.id.0 }),
        due_at: now,
        max_attempts: MAX_ATTEMPTS,
    };
    Ok(Some(u32::from(db.enqueue_delivery(&new, now).await?)))
}

async fn queue(
    db: &Db,
    s: &Series,
    kind: DeliveryKind,
    m: &Meeting,
    to: &Person,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let new = NewDelivery {
        workspace_id: s.workspace_id,
        kind,
        subject: format!("meeting:{}", m.id),
        slot: m.slot,
        recipient_id: to.id,
        payload: json!({ "meeting": m.id.0, "series": s.id.0 }),
        due_at: due,
        max_attempts: MAX_ATTEMPTS,
    };
    db.enqueue_delivery(&new, now).await
}

/// Whether a queued notification still makes sense when it is about to be
/// sent (the catch-up policy after downtime): an agenda only before its
/// meeting, a follow-up only while the meeting is still unmarked.
pub fn still_relevant(kind: DeliveryKind, m: &Meeting, now: DateTime<Utc>) -> bool {
    match kind {
        DeliveryKind::Agenda => m.state.is_pending() && m.scheduled_at > now,
        DeliveryKind::FollowUp => matches!(m.state, MeetingState::Upcoming | MeetingState::Rescheduled),
        _ => true,
    }
}
