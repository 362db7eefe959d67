//! Operations on one named object — a meeting, talking point or action item —
//! as they arrive from buttons, selects, modals, reactions and thread replies.
//!
//! The id came from a client and is not trusted: every operation first looks
//! the object up inside the caller's workspace and checks that the caller is a
//! participant of its 1:1. A forged, foreign or stale id gets the same
//! "no longer valid" answer (so nothing leaks about other 1:1s) and changes
//! nothing.

use super::meetings::{agenda_reply, hold, move_to, points_text, rating_buttons, skip_one};
use super::resolve::{Actor, next_meeting};
use super::{CommandError, Ctx, Fail, Res, oops};
use crate::domain::model::{
    ActionItemId, Category, Meeting, MeetingId, MeetingState, Person, PointState, Series, SeriesId, SeriesState,
    TalkingPointId,
};
use crate::domain::reply::{Outcome, Reply, Text};
use crate::domain::schedule;
use chrono::{NaiveDate, NaiveTime};

/// Something a person did to one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectAction {
    ShowAgenda(MeetingId),
    /// Every talking point of a meeting, when the agenda lists only the first ones.
    ShowAllPoints(MeetingId),
    MarkDiscussed(TalkingPointId),
    /// Removes a talking point from the agenda (a stuck topic let go).
    DropPoint(TalkingPointId),
    CompleteItem(ActionItemId),
    Hold(MeetingId),
    Skip(MeetingId, Option<String>),
    /// A local date and time in the caller's zone.
    Reschedule(MeetingId, NaiveDate, NaiveTime),
    AddPoint(MeetingId, Category, String),
    /// A point for the next meeting of a 1:1 (the message shortcut).
    AddPointToSeries(SeriesId, Category, String),
    /// Text, the owner's platform user id, an optional due date.
    AddAction(MeetingId, String, String, Option<NaiveDate>),
    AddNote(MeetingId, String),
    ConfirmAttendance(MeetingId),
    Rate(MeetingId, u8, Option<String>),
    /// One more meeting of a 1:1 besides its cadence, at a local date and
    /// time of the caller (answering a `request`).
    ExtraMeeting(SeriesId, NaiveDate, NaiveTime),
}

/// The answer for an id that is not (or no longer) the caller's to act on.
pub fn stale() -> Reply {
    Reply::text("That's no longer valid — the 1:1 may have changed. Run the command again.")
}

/// Carries out `action` for `actor`. A forged or stale id is answered with
/// [`stale`]; a person's mistake with a helpful reply; `Err` is our failure.
pub async fn apply_to(ctx: &Ctx<'_>, actor: &Actor, action: ObjectAction) -> Result<Outcome, CommandError> {
    Ok(try_apply_to(ctx, actor, action).await?.unwrap_or_else(Outcome::from))
}

/// Like [`apply_to`], but tells success (`Ok(Ok(..))`) from a refusal or a
/// person's mistake (`Ok(Err(reply))`), for forms that must stay open then.
pub async fn try_apply_to(
    ctx: &Ctx<'_>,
    actor: &Actor,
    action: ObjectAction,
) -> Result<Result<Outcome, Reply>, CommandError> {
    match run(ctx, actor, action).await {
        Ok(o) => {
            // The scheduler plans changed 1:1s again on its next pass.
            ctx.db.touch_series(&o.changed).await?;
            Ok(Ok(o))
        }
        Err(Fail::User(r)) => Ok(Err(r)),
        Err(Fail::Internal(e)) => Err(e),
    }
}

/// A meeting, its 1:1 and the caller's partner in it — only if the caller is
/// a participant of that 1:1 in their own workspace.
pub async fn meeting_of(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: MeetingId,
) -> Result<Option<(Series, Person, Meeting)>, CommandError> {
    let Some(m) = ctx.db.meeting(id).await? else {
        return Ok(None);
    };
    let Some(s) = ctx.db.series(actor.workspace.id, m.series_id).await? else {
        return Ok(None);
    };
    let Some(pid) = s.partner_of(actor.person.id) else {
        return Ok(None);
    };
    let Some(p) = ctx.db.person(actor.workspace.id, pid).await? else {
        return Ok(None);
    };
    Ok(Some((s, p, m)))
}

async fn checked(ctx: &Ctx<'_>, actor: &Actor, id: MeetingId) -> Res<(Series, Person, Meeting)> {
    meeting_of(ctx, actor, id).await?.ok_or_else(|| Fail::User(stale()))
}

/// The caller's updated view of the agenda of `m`, flagged as an agenda.
async fn agenda_outcome(ctx: &Ctx<'_>, actor: &Actor, s: &Series, p: &Person, m: &Meeting) -> Res<Outcome> {
    // Re-read: the caller's change may have altered the meeting itself.
    let m = ctx.db.meeting(m.id).await?.unwrap_or_else(|| m.clone());
    let reply = agenda_reply(ctx, &actor.person, p, s, &m, None).await?;
    Ok(Outcome {
        reply,
        changed: vec![s.id],
        agenda: Some(m.id),
        ..Outcome::default()
    })
}

/// Where new points go when the meeting they were aimed at is over: the next one.
async fn open_meeting(ctx: &Ctx<'_>, s: &Series, m: Meeting) -> Res<Meeting> {
    if m.state.is_pending() {
        return Ok(m);
    }
    if s.state != SeriesState::Active {
        return oops("This 1:1 is paused or ended, so its agenda can't change.");
    }
    next_meeting(ctx, s).await
}

async fn run(ctx: &Ctx<'_>, actor: &Actor, action: ObjectAction) -> Res<Outcome> {
    match action {
        ObjectAction::ShowAgenda(id) => {
            let (s, p, m) = checked(ctx, actor, id).await?;
            agenda_outcome(ctx, actor, &s, &p, &m).await
        }
        ObjectAction::ShowAllPoints(id) => {
            let (_, p, m) = checked(ctx, actor, id).await?;
            let points = ctx.db.talking_points(m.id).await?;
            let comments = ctx.db.comments_for_meeting(m.id).await?;
            let when = super::format_instant(m.scheduled_at, actor.person.tz());
            Ok(Reply::new()
                .header(format!("All talking points · 1:1 with {}", p.display_name))
                .context(when)
                .section(points_text(&points, &comments, &actor.person, &p, usize::MAX))
                .into())
        }
        ObjectAction::MarkDiscussed(tp_id) => {
            let Some(tp) = ctx.db.talking_point(tp_id).await? else {
                return Err(Fail::User(stale()));
            };
            let (s, p, m) = checked(ctx, actor, tp.meeting_id).await?;
            if !m.state.is_pending() {
                return Err(Fail::User(stale()));
            }
            ctx.db.set_point_state(tp.id, PointState::Discussed).await?;
            agenda_outcome(ctx, actor, &s, &p, &m).await
        }
        ObjectAction::DropPoint(tp_id) => {
            let Some(tp) = ctx.db.talking_point(tp_id).await? else {
                return Err(Fail::User(stale()));
            };
            let (s, p, m) = checked(ctx, actor, tp.meeting_id).await?;
            if !m.state.is_pending() {
                return Err(Fail::User(stale()));
            }
            ctx.db.delete_talking_point(tp.id).await?;
            agenda_outcome(ctx, actor, &s, &p, &m).await
        }
        ObjectAction::CompleteItem(item_id) => {
            let Some(a) = ctx.db.action_item(item_id).await? else {
                return Err(Fail::User(stale()));
            };
            let (s, p, _) = checked(ctx, actor, a.meeting_id).await?;
            ctx.db.complete_action_item(a.id, ctx.now).await?;
            let m = next_meeting(ctx, &s).await?;
            agenda_outcome(ctx, actor, &s, &p, &m).await
        }
        ObjectAction::Hold(id) => {
            let (s, p, m) = checked(ctx, actor, id).await?;
            if !m.state.is_pending() {
                return oops("That meeting was already marked held or skipped.");
            }
            if m.scheduled_at - ctx.now > chrono::Duration::hours(12) {
                return oops("That 1:1 hasn't happened yet — mark it held once it has.");
            }
            hold(ctx, actor, &s, &p, &m).await
        }
        ObjectAction::Skip(id, reason) => {
            let (s, p, m) = checked(ctx, actor, id).await?;
            if !m.state.is_pending() {
                return oops("That meeting was already marked held or skipped.");
            }
            skip_one(ctx, actor, &s, &p, &m, reason).await
        }
        ObjectAction::Reschedule(id, date, time) => {
            let (s, p, m) = checked(ctx, actor, id).await?;
            if !m.state.is_pending() {
                return oops("That meeting was already marked held or skipped.");
            }
            let at = schedule::localize(actor.person.tz(), date, time);
            move_to(ctx, actor, &s, &p, &m, at).await
        }
        ObjectAction::AddPoint(id, category, text) => {
            let (s, p, m) = checked(ctx, actor, id).await?;
            let m = open_meeting(ctx, &s, m).await?;
            ctx.db
                .add_talking_point(m.id, actor.person.id, category, &text, ctx.now)
                .await?;
            agenda_outcome(ctx, actor, &s, &p, &m).await
        }
        ObjectAction::AddPointToSeries(sid, category, text) => {
            let Some(s) = ctx.db.series(actor.workspace.id, sid).await? else {
                return Err(Fail::User(stale()));
            };
            let Some(pid) = s.partner_of(actor.person.id) else {
                return Err(Fail::User(stale()));
            };
            let Some(p) = ctx.db.person(actor.workspace.id, pid).await? else {
                return Err(Fail::User(stale()));
            };
            if s.state != SeriesState::Active {
                return oops("This 1:1 is paused or ended, so its agenda can't change.");
            }
            let m = next_meeting(ctx, &s).await?;
            ctx.db
                .add_talking_point(m.id, actor.person.id, category, &text, ctx.now)
                .await?;
            agenda_outcome(ctx, actor, &s, &p, &m).await
        }
        ObjectAction::AddAction(id, text, owner, due) => {
            let (s, p, m) = checked(ctx, actor, id).await?;
            let owner = if owner == actor.person.external_id {
                actor.person.clone()
            } else if owner == p.external_id {
                p.clone()
            } else {
                return oops("An action item's owner is one of the two people in the 1:1.");
            };
            let today = ctx.now.with_timezone(&actor.person.tz()).date_naive();
            if due.is_some_and(|d| d < today) {
                return oops("That due date is in the past.");
            }
            let m = open_meeting(ctx, &s, m).await?;
            ctx.db
                .add_action_item(s.id, m.id, owner.id, actor.person.id, &text, due, ctx.now)
                .await?;
            agenda_outcome(ctx, actor, &s, &p, &m).await
        }
        ObjectAction::AddNote(id, text) => {
            let (s, p, m) = checked(ctx, actor, id).await?;
            ctx.db.add_private_note(m.id, actor.person.id, &text, ctx.now).await?;
            agenda_outcome(ctx, actor, &s, &p, &m).await
        }
        ObjectAction::ExtraMeeting(sid, date, time) => {
            let Some(s) = ctx.db.series(actor.workspace.id, sid).await? else {
                return Err(Fail::User(stale()));
            };
            let Some(pid) = s.partner_of(actor.person.id) else {
                return Err(Fail::User(stale()));
            };
            let Some(p) = ctx.db.person(actor.workspace.id, pid).await? else {
                return Err(Fail::User(stale()));
            };
            if s.state != SeriesState::Active {
                return oops("This 1:1 is paused or ended; resume it first.");
            }
            let at = schedule::localize(actor.person.tz(), date, time);
            if at <= ctx.now {
                return oops("That time has already passed — pick one that's still ahead.");
            }
            if at - ctx.now > chrono::Duration::days(366) {
                return oops("That's more than a year away — pick a date within the next year.");
            }
            // An extra meeting is a meeting on its own slot: the cadence goes on around it.
            let (m, created) = ctx.db.insert_meeting(s.id, at, at).await?;
            if !created {
                return oops("There's already a meeting of this 1:1 at that time.");
            }
            let mine = Reply::text(
                Text::new()
                    .plain("Extra 1:1 with ")
                    .bold_user(p.display_name.clone())
                    .plain(format!(
                        " on {}. I've let them know.",
                        super::format_instant(m.scheduled_at, actor.person.tz())
                    )),
            );
            let theirs = Reply::text(Text::new().bold_user(actor.person.display_name.clone()).plain(format!(
                " scheduled an extra 1:1 with you on {}.",
                super::format_instant(m.scheduled_at, p.tz())
            )));
            Ok(super::meetings::told(mine, &p, theirs, s.id))
        }
        ObjectAction::ConfirmAttendance(id) => {
            let (s, p, m) = checked(ctx, actor, id).await?;
            if !m.state.is_pending() {
                return Err(Fail::User(stale()));
            }
            ctx.db.confirm_attendance(m.id, actor.person.id, ctx.now).await?;
            agenda_outcome(ctx, actor, &s, &p, &m).await
        }
        ObjectAction::Rate(id, score, comment) => {
            let (_, _, m) = checked(ctx, actor, id).await?;
            if m.state != MeetingState::Held || !(1..=5).contains(&score) {
                return Err(Fail::User(stale()));
            }
            ctx.db
                .upsert_rating(m.id, actor.person.id, score, comment.as_deref(), ctx.now)
                .await?;
            let thanks = Reply::text(Text::new().plain(format!(
                "Thanks — you rated this 1:1 {score}/5. Only averages are ever shown, never single answers."
            )));
            let reply = if comment.is_some() {
                thanks.context("Your comment is saved with your rating.")
            } else {
                thanks.buttons(vec![crate::domain::reply::Button::new(
                    "Add a comment",
                    "open_rate_comment",
                    format!("{}:{score}", m.id),
                )])
            };
            Ok(reply.into())
        }
    }
}

/// Rating buttons, re-exported for adapters that build their own prompts.
pub fn rating_prompt(m: &Meeting) -> Reply {
    Reply::text("How useful was this 1:1? (1 = not at all, 5 = very) Only aggregates are ever shown.")
        .buttons(rating_buttons(m))
}

/// `viewer`'s rendering of the agenda of meeting `id`, if they are in its 1:1.
pub async fn agenda_view(ctx: &Ctx<'_>, actor: &Actor, id: MeetingId) -> Result<Option<Reply>, CommandError> {
    let Some((s, p, m)) = meeting_of(ctx, actor, id).await? else {
        return Ok(None);
    };
    Ok(Some(agenda_reply(ctx, &actor.person, &p, &s, &m, None).await?))
}
