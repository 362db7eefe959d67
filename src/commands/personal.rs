//! Commands about the caller: their overview, their action items, their
//! settings and their time away.

use super::format::{format_date, format_instant};
use super::meetings::{action_line, today_for};
use super::resolve::{Actor, inv, meeting_after, next_meeting};
use super::{Ctx, Res, oops};
use crate::domain::command::DateSpec;
use crate::domain::model::{MeetingState, Person, SeriesState};
use crate::domain::reply::{Notice, Outcome, Reply, Text};
use crate::store::StoreError;
use chrono::NaiveTime;
use chrono_tz::Tz;

pub(crate) async fn home(ctx: &Ctx<'_>, actor: &Actor) -> Res<Outcome> {
    let ws = actor.workspace.id;
    let me = &actor.person;
    let tz = me.tz();
    let mut reply = Reply::new().header("Your 1:1s");
    let all = ctx.db.series_for_person(ws, me.id, false).await?;
    if all.is_empty() {
        reply = reply.section(
            Text::new()
                .plain("You don't have any 1:1s yet. If you're a manager, start one with ")
                .code(format!("{}setup @person weekly on monday at 10am", inv(ctx)))
                .plain("; if you'd like one with your manager, ")
                .code(format!("{}request @manager", inv(ctx)))
                .plain(". See everything with ")
                .code(format!("{}help", inv(ctx))),
        );
    } else {
        let mut t = Text::new();
        for (i, s) in all.iter().take(40).enumerate() {
            let Some(pid) = s.partner_of(me.id) else { continue };
            let Some(p) = ctx.db.person(ws, pid).await? else {
                continue;
            };
            if i > 0 {
                t = t.newline();
            }
            let role = if s.manager_id == me.id {
                "your report"
            } else {
                "your manager"
            };
            t = t.bold_user(p.display_name.clone()).plain(format!(" ({role})"));
            match s.state {
                SeriesState::Active => {
                    // Read-only: the overview never creates meetings (it is
                    // rendered in the background after changes).
                    if let Some((at, n)) = peek_next(ctx, s).await? {
                        t = t.plain(format!(
                            " — next {} · {} talking point{}",
                            format_instant(at, tz),
                            n,
                            if n == 1 { "" } else { "s" }
                        ));
                    }
                }
                SeriesState::Paused => t = t.plain(" — paused"),
                SeriesState::Ended => {}
            }
        }
        reply = reply.section(t);
    }
    let items = ctx.db.open_action_items_owned_by(ws, me.id).await?;
    if !items.is_empty() {
        let today = today_for(ctx, me);
        let mut t = Text::new().bold(format!("Your open action items ({})", items.len()));
        for a in items.iter().take(30) {
            t = action_line(t.newline(), a, &me.display_name, today);
        }
        reply = reply.section(t);
    }
    if let Some(until) = me.away_until
        && until >= today_for(ctx, me)
    {
        reply = reply.context(format!(
            "You're away until {}. Say `back` when you return.",
            format_date(until)
        ));
    }
    Ok(reply.into())
}

/// When the next meeting of `s` is and how many points it has, without
/// materializing it.
async fn peek_next(
    ctx: &Ctx<'_>,
    s: &crate::domain::model::Series,
) -> Res<Option<(chrono::DateTime<chrono::Utc>, usize)>> {
    let ends = |at: chrono::DateTime<chrono::Utc>| at + chrono::Duration::minutes(i64::from(s.duration_minutes));
    if let Some(m) = ctx
        .db
        .pending_meetings(s.id)
        .await?
        .into_iter()
        .find(|m| ends(m.scheduled_at) > ctx.now)
    {
        return Ok(Some((m.scheduled_at, ctx.db.talking_points(m.id).await?.len())));
    }
    let after = ctx.now - chrono::Duration::minutes(i64::from(s.duration_minutes));
    let closed: Vec<_> = ctx
        .db
        .closed_meetings(s.id, 60)
        .await?
        .into_iter()
        .map(|m| m.slot)
        .collect();
    let upcoming = crate::domain::schedule::next_occurrences(&s.cadence, s.time, s.tz, s.anchor_date, after, 61);
    Ok(upcoming
        .into_iter()
        .find(|slot| !closed.contains(slot))
        .map(|slot| (slot, 0)))
}

pub(crate) async fn actions(ctx: &Ctx<'_>, actor: &Actor) -> Res<Outcome> {
    let me = &actor.person;
    let items = ctx.db.open_action_items_owned_by(actor.workspace.id, me.id).await?;
    if items.is_empty() {
        return Ok(Reply::text("You have no open action items. 🎉").into());
    }
    let today = today_for(ctx, me);
    let mut t = Text::new().bold(format!("Your open action items ({})", items.len()));
    for a in items.iter().take(100) {
        t = action_line(t.newline(), a, &me.display_name, today);
    }
    Ok(Reply::text(t)
        .context(
            Text::new()
                .plain("Mark one done with ")
                .code(format!("{}complete N", inv(ctx))),
        )
        .into())
}

pub(crate) async fn complete(ctx: &Ctx<'_>, actor: &Actor, item: i64) -> Res<Outcome> {
    let not_found = || {
        oops::<Outcome>(
            Text::new()
                .plain(format!(
                    "I couldn't find action item #{item} in your 1:1s. See yours with "
                ))
                .code(format!("{}actions", inv(ctx))),
        )
    };
    let Some(a) = ctx.db.action_item(crate::domain::model::ActionItemId(item)).await? else {
        return not_found();
    };
    // Re-check against the caller: the item's 1:1 must be theirs, in their workspace.
    let Some(s) = ctx.db.series(actor.workspace.id, a.series_id).await? else {
        return not_found();
    };
    if !s.is_participant(actor.person.id) {
        return not_found();
    }
    if !ctx.db.complete_action_item(a.id, ctx.now).await? {
        return oops(format!("Action item #{item} is already done."));
    }
    let mut outcome: Outcome = Reply::text(Text::new().plain(format!("Done: #{} ", a.id)).user(a.text.clone())).into();
    if a.owner_id != actor.person.id
        && let Some(owner) = ctx.db.person(actor.workspace.id, a.owner_id).await?
    {
        outcome.notices.push(Notice {
            to: owner.id,
            to_external: owner.external_id.clone(),
            reply: Reply::text(
                Text::new()
                    .bold_user(actor.person.display_name.clone())
                    .plain(format!(" marked your action item #{} done: ", a.id))
                    .user(a.text.clone()),
            ),
        });
    }
    Ok(outcome)
}

fn settings_text(p: &Person) -> Text {
    Text::new()
        .bold("Your settings")
        .newline()
        .plain(format!("Time zone: {}", p.tz().name()))
        .plain(if p.tz_override.is_some() {
            " (set by you)"
        } else {
            " (from your chat profile)"
        })
        .newline()
        .plain(format!(
            "Working hours: {}–{}",
            p.work_start.format("%H:%M"),
            p.work_end.format("%H:%M")
        ))
        .newline()
        .plain(format!("Nudges: {}", if p.nudges { "on" } else { "off" }))
}

pub(crate) async fn settings(
    ctx: &Ctx<'_>,
    actor: &Actor,
    tz: Option<Tz>,
    hours: Option<(NaiveTime, NaiveTime)>,
    nudges: Option<bool>,
) -> Res<Outcome> {
    let mut p = actor.person.clone();
    if tz.is_none() && hours.is_none() && nudges.is_none() {
        return Ok(Reply::text(settings_text(&p))
            .context(Text::new().plain("Change them with ").code(format!(
                "{}settings tz Europe/Berlin hours 09:00-17:30 nudges on",
                inv(ctx)
            )))
            .into());
    }
    if let Some(tz) = tz {
        p.tz_override = Some(tz);
    }
    if let Some((start, end)) = hours {
        if start >= end {
            return oops("Working hours must start before they end, e.g. `hours 09:00-17:30`.");
        }
        p.work_start = start;
        p.work_end = end;
    }
    if let Some(n) = nudges {
        p.nudges = n;
    }
    ctx.db.save_person_settings(&p).await?;
    Ok(Reply::text(Text::new().plain("Saved. ").newline())
        .section(settings_text(&p))
        .into())
}

/// Away: no agenda posts or nudges until the date; the caller's meetings in
/// that time are skipped with reason "away", their points roll over, and each
/// partner is told once.
pub(crate) async fn away(ctx: &Ctx<'_>, actor: &Actor, until: DateSpec) -> Res<Outcome> {
    let mut me = actor.person.clone();
    let today = today_for(ctx, &me);
    let until = until.resolve(today);
    if until < today {
        return oops(format!("{} is in the past.", format_date(until)));
    }
    if (until - today).num_days() > 366 {
        return oops("That's more than a year away — pick a return date within the next year.");
    }
    me.away_until = Some(until);
    ctx.db.save_person_settings(&me).await?;
    let tz = me.tz();
    let mut notices = Vec::new();
    let mut skipped_total = 0;
    for s in ctx.db.series_for_person(actor.workspace.id, me.id, false).await? {
        if s.state != SeriesState::Active {
            continue;
        }
        let Some(pid) = s.partner_of(me.id) else { continue };
        let Some(partner) = ctx.db.person(actor.workspace.id, pid).await? else {
            continue;
        };
        let mut skipped = Vec::new();
        // Bounded: at most a year of weekly meetings.
        for _ in 0..60 {
            let m = next_meeting(ctx, &s).await?;
            if m.scheduled_at.with_timezone(&tz).date_naive() > until {
                break;
            }
            let next = meeting_after(ctx, &s, &m).await?;
            match ctx
                .db
                .close_meeting(m.id, MeetingState::Skipped, Some("away"), ctx.now, Some(next.id))
                .await
            {
                Ok(_) => skipped.push(m.scheduled_at),
                Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if !skipped.is_empty() {
            skipped_total += skipped.len();
            notices.push(Notice {
                to: partner.id,
                to_external: partner.external_id.clone(),
                reply: away_notice(&me, &partner, until, &skipped),
            });
        }
    }
    Ok(Outcome {
        reply: Reply::text(format!(
            "Enjoy your time away! No agendas or nudges until {}. {} meeting{} skipped, partners told. Say `back` if you return early.",
            format_date(until),
            skipped_total,
            if skipped_total == 1 { "" } else { "s" },
        )),
        notices,
        ..Outcome::default()
    })
}

pub(crate) async fn back(ctx: &Ctx<'_>, actor: &Actor) -> Res<Outcome> {
    let mut me = actor.person.clone();
    if me.away_until.is_none() {
        return Ok(Reply::text("You weren't marked away. Nothing to change.").into());
    }
    me.away_until = None;
    ctx.db.save_person_settings(&me).await?;
    Ok(Reply::text("Welcome back! Agendas and nudges are on again.").into())
}

/// A meeting that appeared after its participant said `away` (set up or moved
/// into the time away): skipped with reason "away" like the ones `away`
/// skipped, its open points rolling over to the next meeting. Returns the
/// partner's notice text (the partner is told by the caller), or `None` if
/// nobody is away that day or the meeting was closed meanwhile.
pub async fn skip_for_away(
    ctx: &Ctx<'_>,
    s: &crate::domain::model::Series,
    m: &crate::domain::model::Meeting,
    away: &Person,
    partner: &Person,
) -> Result<Option<Reply>, super::CommandError> {
    let Some(until) = away.away_until else { return Ok(None) };
    let next = match meeting_after(ctx, s, m).await {
        Ok(next) => next,
        Err(super::Fail::Internal(e)) => return Err(e),
        Err(super::Fail::User(_)) => return Ok(None),
    };
    match ctx
        .db
        .close_meeting(m.id, MeetingState::Skipped, Some("away"), ctx.now, Some(next.id))
        .await
    {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => return Ok(None),
        Err(e) => return Err(super::CommandError::Store(e)),
    }
    Ok(Some(away_notice(away, partner, until, &[m.scheduled_at])))
}

/// "Maria is away until …, so your 1:1 on … is skipped."
pub fn away_notice(
    away: &Person,
    partner: &Person,
    until: chrono::NaiveDate,
    skipped: &[chrono::DateTime<chrono::Utc>],
) -> Reply {
    let dates: Vec<String> = skipped.iter().map(|t| format_instant(*t, partner.tz())).collect();
    Reply::text(Text::new().bold_user(away.display_name.clone()).plain(format!(
        " is away until {}, so your 1:1{} on {} {} skipped. Open talking points move to the next one.",
        format_date(until),
        if skipped.len() == 1 { "" } else { "s" },
        dates.join(", "),
        if skipped.len() == 1 { "is" } else { "are" },
    )))
}
