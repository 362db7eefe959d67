//! Commands about a 1:1 as a whole: setting it up, pausing, resuming and
//! ending it (manager only), the manager's stats, and asking for a 1:1.

use super::format::{format_instant, format_minutes};
use super::meetings::today_for;
use super::resolve::{Actor, Want, inv, pick_series, resolve_anyone};
use super::{Ctx, Res, oops};
use crate::domain::command::{PersonRef, SetupArgs};
use crate::domain::content;
use crate::domain::model::{MeetingState, SeriesState};
use crate::domain::reply::{Button, Notice, Outcome, Reply, Text};
use crate::domain::schedule;
use crate::store::NewSeries;
use chrono::{Duration, NaiveTime};

const DEFAULT_DURATION_MINUTES: u32 = 30;
const DEFAULT_LEAD_MINUTES: u32 = 24 * 60;
/// Ratings are shown to the manager only as an average over at least this
/// many answers, so no single answer can be read back out of it.
pub(crate) const MIN_RATINGS_FOR_AVERAGE: u32 = 3;

fn default_time() -> NaiveTime {
    NaiveTime::from_hms_opt(10, 0, 0).unwrap_or(NaiveTime::MIN)
}

pub(crate) async fn setup(ctx: &Ctx<'_>, actor: &Actor, args: SetupArgs) -> Res<Outcome> {
    let ws = actor.workspace.id;
    let me = &actor.person;
    let report = resolve_anyone(ctx, actor, &args.partner).await?;
    let tz = args.tz.unwrap_or_else(|| me.tz());
    let time = args.time.unwrap_or_else(default_time);
    let duration = args.duration_minutes.unwrap_or(DEFAULT_DURATION_MINUTES);
    if !(5..=480).contains(&duration) {
        return oops("A 1:1 lasts between 5 minutes and 8 hours, e.g. `for 30m` or `for 1h`.");
    }
    let template = match &args.template {
        None => None,
        Some(name) => match content::builtin_template(name) {
            Some(t) => Some(t.name.to_string()),
            None => match ctx.db.template_by_name(ws, name).await? {
                Some(t) => Some(t.name),
                None => {
                    return oops(
                        Text::new()
                            .plain("There's no template called ")
                            .bold_user(name.clone())
                            .plain(". See them with ")
                            .code(format!("{}templates", inv(ctx))),
                    );
                }
            },
        },
    };
    let today = ctx.now.with_timezone(&tz).date_naive();
    let first = schedule::next_occurrences(&args.cadence, time, tz, today, ctx.now, 3);
    if first.is_empty() {
        return oops("That cadence never produces a date. Try e.g. `weekly on monday`.");
    }

    let existing = ctx.db.series_between(ws, me.id, report.id).await?;
    let updated = existing.is_some();
    let series = match existing {
        Some(s) if s.state != SeriesState::Ended && s.manager_id != me.id => {
            return oops(
                Text::new()
                    .plain("You're the report in this 1:1; only your manager can change its cadence. Ask them, or suggest a change with ")
                    .code(format!("{}request @{}", inv(ctx), report.display_name)),
            );
        }
        Some(mut s) => {
            let cadence_changed = s.cadence != args.cadence || s.time != time || s.tz != tz;
            s.manager_id = me.id;
            s.report_id = report.id;
            s.cadence = args.cadence.clone();
            s.time = time;
            s.tz = tz;
            s.duration_minutes = duration;
            s.template = template.clone();
            s.state = SeriesState::Active;
            if cadence_changed {
                s.anchor_date = today;
            }
            ctx.db.update_series(&s).await?;
            if cadence_changed {
                // Future meetings move to the new cadence, keeping their agendas.
                let pending: Vec<_> = ctx
                    .db
                    .pending_meetings(s.id)
                    .await?
                    .into_iter()
                    .filter(|m| m.scheduled_at > ctx.now && m.state == MeetingState::Upcoming)
                    .collect();
                let slots = schedule::next_occurrences(&s.cadence, s.time, s.tz, s.anchor_date, ctx.now, pending.len());
                let moves: Vec<_> = pending.iter().map(|m| m.id).zip(slots).collect();
                ctx.db.retime_meetings(&moves).await?;
            }
            s
        }
        None => {
            ctx.db
                .create_series(&NewSeries {
                    workspace_id: ws,
                    manager_id: me.id,
                    report_id: report.id,
                    cadence: args.cadence.clone(),
                    time,
                    tz,
                    duration_minutes: duration,
                    template: template.clone(),
                    lead_minutes: DEFAULT_LEAD_MINUTES,
                    anchor_date: today,
                    created_at: ctx.now,
                })
                .await?
        }
    };

    let how = format!(
        "{} at {} ({}), {}",
        schedule::describe(&series.cadence),
        series.time.format("%H:%M"),
        series.tz.name(),
        format_minutes(series.duration_minutes)
    );
    let dates = |tz: chrono_tz::Tz| {
        first
            .iter()
            .map(|t| format!("• {}", format_instant(*t, tz)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut t = Text::new()
        .plain(if updated {
            "Updated your 1:1 with "
        } else {
            "You're set up for a 1:1 with "
        })
        .bold_user(report.display_name.clone())
        .plain(format!(": {how}."));
    if let Some(name) = &template {
        t = t.plain(format!(" Each agenda starts from the “{name}” template."));
    }
    let reply = Reply::text(t)
        .section(Text::new().bold("Next three").newline().plain(dates(me.tz())))
        .context(
            Text::new()
                .plain("Add talking points with ")
                .code(format!("{}add @{} your topic", inv(ctx), report.display_name))
                .plain("; you both see the same agenda."),
        );
    let notice = Notice {
        to: report.id,
        to_external: report.external_id.clone(),
        reply: Reply::text(
            Text::new()
                .bold_user(me.display_name.clone())
                .plain(if updated {
                    " updated your 1:1: "
                } else {
                    " set up a 1:1 with you: "
                })
                .plain(format!("{how}."))
                .newline()
                .plain(format!("Next: {}. ", format_instant(first[0], report.tz())))
                .plain("It's your meeting — add what you'd like to talk about with ")
                .code(format!("{}add your topic", inv(ctx))),
        ),
    };
    Ok(Outcome {
        reply,
        notices: vec![notice],
        ..Outcome::default()
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum StateChange {
    Pause,
    Resume,
    End,
}

pub(crate) async fn set_state(
    ctx: &Ctx<'_>,
    actor: &Actor,
    partner: Option<PersonRef>,
    change: StateChange,
) -> Res<Outcome> {
    let verb = match change {
        StateChange::Pause => "pause",
        StateChange::Resume => "resume",
        StateChange::End => "end",
    };
    let (mut s, p) = pick_series(ctx, actor, partner.as_ref(), Want::NotEnded, verb).await?;
    if s.manager_id != actor.person.id {
        return oops(
            Text::new()
                .plain(format!("Only the manager can {verb} a 1:1; in yours that's "))
                .bold_user(p.display_name.clone())
                .plain("."),
        );
    }
    let (new_state, mine, theirs) = match (change, s.state) {
        (StateChange::Pause, SeriesState::Paused) => return oops("That 1:1 is already paused."),
        (StateChange::Resume, SeriesState::Active) => return oops("That 1:1 is already running."),
        (StateChange::Pause, _) => (SeriesState::Paused, "Paused", "paused"),
        (StateChange::Resume, _) => (SeriesState::Active, "Resumed", "resumed"),
        (StateChange::End, _) => (SeriesState::Ended, "Ended", "ended"),
    };
    s.state = new_state;
    if change == StateChange::Resume {
        // Resume from today: no meetings are invented for the paused weeks.
        s.anchor_date = ctx.now.with_timezone(&s.tz).date_naive();
    }
    ctx.db.update_series(&s).await?;
    let extra = match change {
        StateChange::Pause => " No agendas or nudges until you resume it.",
        StateChange::Resume => " Agendas and nudges are back on.",
        StateChange::End => " Its history stays available with `history`.",
    };
    Ok(Outcome {
        reply: Reply::text(
            Text::new()
                .plain(format!("{mine} your 1:1 with "))
                .bold_user(p.display_name.clone())
                .plain(format!(".{extra}")),
        ),
        notices: vec![Notice {
            to: p.id,
            to_external: p.external_id.clone(),
            reply: Reply::text(
                Text::new()
                    .bold_user(actor.person.display_name.clone())
                    .plain(format!(" {theirs} your 1:1.")),
            ),
        }],
        ..Outcome::default()
    })
}

pub(crate) async fn stats(ctx: &Ctx<'_>, actor: &Actor) -> Res<Outcome> {
    let ws = actor.workspace.id;
    let me = &actor.person;
    let mine: Vec<_> = ctx
        .db
        .series_for_person(ws, me.id, false)
        .await?
        .into_iter()
        .filter(|s| s.manager_id == me.id)
        .collect();
    if mine.is_empty() {
        return oops("`stats` is for managers: you don't manage any 1:1s yet.");
    }
    let since = ctx.now - Duration::days(90);
    let today = today_for(ctx, me);
    let mut reply = Reply::new().header("Your 1:1s as a manager (last 90 days)");
    for s in mine.iter().take(45) {
        let Some(p) = ctx.db.person(ws, s.report_id).await? else {
            continue;
        };
        let st = ctx.db.series_stats(s.id, since, today).await?;
        let mut t = Text::new().bold_user(p.display_name.clone());
        if s.state == SeriesState::Paused {
            t = t.plain(" (paused)");
        }
        t = t.newline().plain(match st.last_held {
            Some(at) => format!("Last held {}", format_instant(at, me.tz())),
            None => "Not held yet".to_string(),
        });
        t = t.plain(format!(" · held {} · skipped {}", st.held, st.skipped));
        t = t.newline().plain(format!(
            "Open action items {} · overdue {}",
            st.open_actions, st.overdue_actions
        ));
        t = t.newline().plain(match st.avg_rating {
            Some(avg) if st.ratings >= MIN_RATINGS_FOR_AVERAGE => {
                format!("Average rating {avg:.1}/5 ({} ratings)", st.ratings)
            }
            _ => format!("Average rating shown from {MIN_RATINGS_FOR_AVERAGE} ratings on"),
        });
        reply = reply.section(t);
    }
    Ok(reply.into())
}

pub(crate) async fn request(ctx: &Ctx<'_>, actor: &Actor, partner: PersonRef, text: Option<String>) -> Res<Outcome> {
    let to = resolve_anyone(ctx, actor, &partner).await?;
    let req = ctx
        .db
        .create_request(actor.workspace.id, actor.person.id, to.id, text.as_deref(), ctx.now)
        .await?;
    let existing = ctx
        .db
        .series_between(actor.workspace.id, actor.person.id, to.id)
        .await?;
    let has_active = existing.as_ref().is_some_and(|s| s.state != SeriesState::Ended);
    let mut t = Text::new()
        .bold_user(actor.person.display_name.clone())
        .plain(if has_active {
            " asks for an extra 1:1 with you."
        } else {
            " would like to have regular 1:1s with you."
        });
    if let Some(x) = &text {
        t = t.newline().plain("“").user(x.clone()).plain("”");
    }
    let button = if has_active {
        Button::new("Schedule an extra meeting", "request_extra", req.id.to_string()).primary()
    } else {
        Button::new("Set up a 1:1", "request_setup", req.id.to_string()).primary()
    };
    let hint = if has_active {
        Text::new().plain("Or move your next one with ").code(format!(
            "{}reschedule @{} tomorrow 2pm",
            inv(ctx),
            actor.person.display_name
        ))
    } else {
        Text::new().plain("Or type ").code(format!(
            "{}setup @{} biweekly on tuesday at 10am",
            inv(ctx),
            actor.person.display_name
        ))
    };
    Ok(Outcome {
        reply: Reply::text(
            Text::new()
                .plain("I've asked ")
                .bold_user(to.display_name.clone())
                .plain(" for a 1:1 and will let you know when it's on the calendar."),
        ),
        notices: vec![Notice {
            to: to.id,
            to_external: to.external_id.clone(),
            reply: Reply::text(t).buttons(vec![button]).context(hint),
        }],
        ..Outcome::default()
    })
}
