//! `POST /slack/events`: the Events API. Verified before anything is parsed,
//! deduplicated by `event_id` (Slack's retries never double an effect), and
//! answered at once; the work happens after the answer.
//!
//! Handled: the URL handshake; DMs to the bot (the `/oneonone` grammar, with
//! `agenda` posted as a live agenda message); replies in the thread of a
//! posted agenda (a talking point by their author); reactions on a posted
//! agenda (✅ attend, ⏭️/❌ skip after a confirm, 🔁 reschedule); App Home;
//! uninstall and token revocation.

use super::inbound::run_text;
use super::sync::{ctx, post_agenda, publish_home, refresh};
use super::{SlackAppState, SlackDirectory, deliver_notices, render};
use crate::commands::objects::{ObjectAction, apply_to, meeting_of};
use crate::commands::{Actor, resolve_caller, resolve_caller_in_known_workspace};
use crate::domain::grammar::MAX_TEXT_CHARS;
use crate::domain::model::Category;
use crate::domain::reply::{Button, Reply, Text};
use crate::slack::verify::VerifiedSlackBody;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// Reactions that mean "I'll be there", "let's skip" and "let's move it".
const ATTEND: &[&str] = &["white_check_mark", "heavy_check_mark"];
const SKIP: &[&str] = &[
    "black_right_pointing_double_triangle_with_vertical_bar",
    "next_track_button",
    "x",
];
const RESCHEDULE: &[&str] = &["repeat"];

pub(crate) fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

pub async fn events(State(st): State<SlackAppState>, VerifiedSlackBody { body }: VerifiedSlackBody) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "malformed event").into_response();
    };
    match s(&v, &["type"]) {
        Some("url_verification") => {
            let challenge = s(&v, &["challenge"]).unwrap_or_default().to_string();
            ([(axum::http::header::CONTENT_TYPE, "text/plain")], challenge).into_response()
        }
        Some("event_callback") => {
            let (Some(event_id), Some(team_id)) = (s(&v, &["event_id"]), s(&v, &["team_id"])) else {
                return (StatusCode::BAD_REQUEST, "event without id").into_response();
            };
            // Slack retries (X-Slack-Retry-Num) carry the same event_id: act once.
            match st.app.db.first_sight_of_event(event_id, st.app.clock.now()).await {
                Ok(true) => {}
                Ok(false) => return StatusCode::OK.into_response(),
                Err(e) => {
                    tracing::error!(error = %e, "event dedupe failed");
                    return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
                }
            }
            let team_id = team_id.to_string();
            let event = v.get("event").cloned().unwrap_or(Value::Null);
            let slack = st.slack.clone();
            slack.after_answer(handle_event(st, team_id, event)).await;
            StatusCode::OK.into_response()
        }
        _ => StatusCode::OK.into_response(),
    }
}

async fn handle_event(st: SlackAppState, team_id: String, event: Value) {
    match s(&event, &["type"]) {
        Some("message") => on_message(&st, &team_id, &event).await,
        Some("reaction_added") => on_reaction(&st, &team_id, &event).await,
        Some("app_home_opened") => {
            let Some(user) = s(&event, &["user"]) else { return };
            if s(&event, &["tab"]).is_some_and(|t| t != "home") {
                return;
            }
            let directory = SlackDirectory { slack: &st.slack };
            let ctx = ctx(&st, &directory, "");
            let found = async {
                let actor = resolve_caller(&ctx, &team_id, "", user, user, crate::store::CallerWith::Nothing).await?;
                Ok::<_, crate::commands::CommandError>((actor.workspace, actor.person))
            }
            .await;
            match found {
                Ok((ws, person)) => {
                    // From now on their Home follows every change (`sync::refresh`).
                    if let Err(e) = st.app.db.mark_home_opened(person.id, st.app.clock.now()).await {
                        tracing::warn!(error = %e, "App Home opening not recorded");
                    }
                    publish_home(&st, &ws, person).await
                }
                Err(e) => tracing::warn!(error = %e, "App Home: caller not resolved"),
            }
        }
        // Either may come first (Slack sends both on an uninstall); deleting
        // is idempotent. We hold bot tokens only, so a revocation that lists
        // only user tokens changes nothing.
        Some("app_uninstalled") => st.slack.forget_workspace(&team_id).await,
        Some("tokens_revoked") => {
            let bots = event["tokens"]["bot"].as_array().is_some_and(|b| !b.is_empty());
            if bots {
                st.slack.forget_workspace(&team_id).await;
            }
        }
        _ => {}
    }
}

/// The caller of an event: the workspace must be known (the bot has been
/// used there), the person is created or refreshed on the way.
async fn caller(st: &SlackAppState, team_id: &str, user: &str) -> Option<Actor> {
    let directory = SlackDirectory { slack: &st.slack };
    let ctx = ctx(st, &directory, "");
    resolve_caller_in_known_workspace(&ctx, team_id, user).await.ok()?
}

async fn on_message(st: &SlackAppState, team_id: &str, event: &Value) {
    // Only plain messages from people in a DM with the bot; never our own
    // (bot_id) nor edits, deletions and other subtypes.
    let is_dm = s(event, &["channel_type"]) == Some("im");
    let from_person = event.get("bot_id").is_none() && event.get("subtype").is_none();
    let (Some(user), Some(channel), Some(ts)) = (s(event, &["user"]), s(event, &["channel"]), s(event, &["ts"])) else {
        return;
    };
    if !is_dm || !from_person {
        return;
    }
    // The same message can come again under another event_id: key on channel + ts too.
    match st
        .app
        .db
        .first_sight_of_event(&format!("msg:{channel}:{ts}"), st.app.clock.now())
        .await
    {
        Ok(true) => {}
        _ => return,
    }
    let text = s(event, &["text"]).unwrap_or_default();
    match s(event, &["thread_ts"]) {
        Some(parent) if parent != ts => thread_reply(st, team_id, user, channel, parent, ts, text).await,
        _ => dm_command(st, team_id, user, channel, text).await,
    }
}

async fn dm_command(st: &SlackAppState, team_id: &str, user: &str, channel: &str, text: &str) {
    let outcome = match run_text(st, team_id, "", user, user, text).await {
        Ok(o) => o,
        Err(apology) => apology.into(),
    };
    deliver_notices(st.slack.clone(), team_id.to_string(), outcome.notices.clone());
    match (outcome.agenda, caller(st, team_id, user).await) {
        // An agenda asked for in the DM is posted as a live agenda message.
        (Some(meeting), Some(actor)) => post_agenda(st, team_id, channel, &actor.person, meeting, &outcome.reply).await,
        _ => {
            let Some(token) = st.slack.token_for(team_id).await else {
                tracing::warn!("cannot answer a DM: no Slack bot token configured");
                return;
            };
            if let Err(e) = st
                .slack
                .api
                .post_message(&token, team_id, channel, render::message(outcome.reply))
                .await
            {
                tracing::warn!(error = %e, "DM answer not sent");
            }
        }
    }
    refresh(st, team_id, &outcome.changed);
}

/// A reply in the thread of a posted agenda becomes a talking point by its
/// author (if a participant); the bot acknowledges it with a ✅ reaction.
async fn thread_reply(
    st: &SlackAppState,
    team_id: &str,
    user: &str,
    channel: &str,
    parent: &str,
    ts: &str,
    text: &str,
) {
    let Ok(Some(posted)) = st.app.db.posted_agenda_at(channel, parent).await else {
        return;
    };
    let text = super::inbound::unescape(text.trim());
    if text.is_empty() || text.chars().count() > MAX_TEXT_CHARS {
        return;
    }
    let Some(actor) = caller(st, team_id, user).await else {
        return;
    };
    let directory = SlackDirectory { slack: &st.slack };
    let ctx = ctx(st, &directory, "");
    // Others (not in this 1:1) are ignored, silently: it is their thread too.
    if !matches!(meeting_of(&ctx, &actor, posted.meeting_id).await, Ok(Some(_))) {
        return;
    }
    match apply_to(
        &ctx,
        &actor,
        ObjectAction::AddPoint(posted.meeting_id, Category::Other, text),
    )
    .await
    {
        Ok(outcome) if outcome.agenda.is_some() => {
            if let Some(token) = st.slack.token_for(team_id).await
                && let Err(e) = st
                    .slack
                    .api
                    .add_reaction(&token, team_id, channel, ts, "white_check_mark")
                    .await
            {
                tracing::warn!(error = %e, "thread reply not acknowledged");
            }
            refresh(st, team_id, &outcome.changed);
        }
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "thread reply not added"),
    }
}

/// Reactions on a posted agenda message: ✅ confirms attendance, ⏭️/❌ asks
/// to skip (a confirm button before it counts), 🔁 offers rescheduling.
/// Reactions anywhere else are ignored.
async fn on_reaction(st: &SlackAppState, team_id: &str, event: &Value) {
    let (Some(user), Some(name)) = (s(event, &["user"]), s(event, &["reaction"])) else {
        return;
    };
    if s(event, &["item", "type"]) != Some("message") {
        return;
    }
    let (Some(channel), Some(ts)) = (s(event, &["item", "channel"]), s(event, &["item", "ts"])) else {
        return;
    };
    let Ok(Some(posted)) = st.app.db.posted_agenda_at(channel, ts).await else {
        return;
    };
    let Some(actor) = caller(st, team_id, user).await else {
        return;
    };
    let directory = SlackDirectory { slack: &st.slack };
    let ctx = ctx(st, &directory, "");
    let Ok(Some((_, partner, m))) = meeting_of(&ctx, &actor, posted.meeting_id).await else {
        return;
    };
    if !m.state.is_pending() {
        return;
    }
    let id = m.id.to_string();
    let when = crate::commands::format_instant(m.scheduled_at, actor.person.tz());
    let prompt = if ATTEND.contains(&name) {
        match apply_to(&ctx, &actor, ObjectAction::ConfirmAttendance(m.id)).await {
            Ok(outcome) => refresh(st, team_id, &outcome.changed),
            Err(e) => tracing::error!(error = %e, "attendance not recorded"),
        }
        return;
    } else if SKIP.contains(&name) {
        Reply::text(
            Text::new()
                .plain("Skip your 1:1 with ")
                .bold_user(partner.display_name.clone())
                .plain(format!(
                    " on {when}? Open talking points move to the next one and they'll be told."
                )),
        )
        .buttons(vec![
            Button::new("Skip it", "confirm_skip", id).danger(),
            Button::new("Keep it", "dismiss", "keep"),
        ])
    } else if RESCHEDULE.contains(&name) {
        Reply::text(
            Text::new()
                .plain("Move your 1:1 with ")
                .bold_user(partner.display_name.clone())
                .plain(format!(" on {when}?")),
        )
        .buttons(vec![
            Button::new("Reschedule…", "open_reschedule", id).primary(),
            Button::new("Keep it", "dismiss", "keep"),
        ])
    } else {
        return;
    };
    let Some(token) = st.slack.token_for(team_id).await else {
        return;
    };
    if let Err(e) = st
        .slack
        .api
        .post_message(&token, team_id, channel, render::message(prompt))
        .await
    {
        tracing::warn!(error = %e, "reaction prompt not sent");
    }
}
