//! One scheduler pass: plan what is due, enqueue it idempotently, then let
//! the worker send what is due now. `oneonone tick` runs exactly one; `serve`
//! runs one on every `ONEONONE_TICK`. The same code path for both.
//!
//! Planning never sends: it only inserts deliveries with a unique key (kind,
//! subject, slot, recipient), so however many passes or replicas run, each
//! notification exists once. Sending is the worker's job (`worker.rs`).

use super::plan;
use crate::domain::model::{DeliveryKind, Meeting, MeetingState, NewDelivery, Person, Series, SeriesState};
use crate::store::{Db, StoreError};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

/// How far ahead meetings are materialized so their agendas can be queued.
const PLAN_AHEAD: Duration = Duration::days(2);
/// Attempts before a delivery is kept as failed.
pub const MAX_ATTEMPTS: u32 = 6;

/// What one pass queued.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Planned {
    pub agendas: u32,
    pub follow_ups: u32,
}

/// Plans every active 1:1: the agenda of its next meeting for both
/// participants, and a follow-up for meetings that ended an hour ago and were
/// neither held nor skipped.
pub async fn plan(db: &Db, now: DateTime<Utc>) -> Result<Planned, StoreError> {
    let mut planned = Planned::default();
    for series in db.active_series().await? {
        let Some(manager) = db.person(series.workspace_id, series.manager_id).await? else {
            continue;
        };
        let Some(report) = db.person(series.workspace_id, series.report_id).await? else {
            continue;
        };
        if let Some(m) = upcoming_meeting(db, &series, now).await? {
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
        for m in db.pending_meetings(series.id).await? {
            let end = m.scheduled_at + Duration::minutes(i64::from(series.duration_minutes));
            if end + Duration::hours(1) > now {
                continue;
            }
            for person in [&manager, &report] {
                if let Some(due) = plan::follow_up_send_at(person, end)
                    && queue(db, &series, DeliveryKind::FollowUp, &m, person, due, now).await?
                {
                    planned.follow_ups += 1;
                }
            }
        }
    }
    Ok(planned)
}

/// The next meeting of an active series within the planning horizon,
/// materialized (idempotently: the slot is unique) so it can be referred to.
async fn upcoming_meeting(db: &Db, s: &Series, now: DateTime<Utc>) -> Result<Option<Meeting>, StoreError> {
    if s.state != SeriesState::Active {
        return Ok(None);
    }
    let lead = Duration::minutes(i64::from(s.lead_minutes));
    if let Some(m) = db
        .pending_meetings(s.id)
        .await?
        .into_iter()
        .find(|m| m.scheduled_at > now)
    {
        return Ok((m.scheduled_at - lead <= now + PLAN_AHEAD).then_some(m));
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
