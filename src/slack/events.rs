//! `POST /slack/events` (Events API) and `POST /slack/interactivity` (button
//! clicks). Both are verified before anything is parsed and answer at once;
//! the work that calls Slack happens after the answer.
//!
//! What is handled here: the URL handshake, DMs to the bot (the same grammar
//! as the slash command), App Home, clean-up events, rating buttons, the
//! "which 1:1?" buttons and the request buttons. Every object id in a button
//! is re-checked against the verified caller.

use super::inbound::run_text;
use super::{SlackAppState, SlackDirectory, deliver_notices, render};
use crate::commands::{self, Ctx, resolve_actor};
use crate::domain::model::{MeetingId, MeetingState, Platform, RequestId, SeriesId};
use crate::domain::reply::{Reply, Text};
use crate::slack::verify::VerifiedSlackBody;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
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
            let now = st.app.clock.now();
            match st.app.db.first_sight_of_event(event_id, now).await {
                Ok(true) => {}
                Ok(false) => return StatusCode::OK.into_response(),
                Err(e) => {
                    tracing::error!(error = %e, "event dedupe failed");
                    return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
                }
            }
            let team_id = team_id.to_string();
            let event = v.get("event").cloned().unwrap_or(Value::Null);
            tokio::spawn(async move { handle_event(st, team_id, event).await });
            StatusCode::OK.into_response()
        }
        _ => StatusCode::OK.into_response(),
    }
}

async fn handle_event(st: SlackAppState, team_id: String, event: Value) {
    match s(&event, &["type"]) {
        Some("message") => {
            // Only plain messages from people in a DM with the bot; never our own
            // (bot_id) nor edits, deletions and other subtypes.
            let is_dm = s(&event, &["channel_type"]) == Some("im");
            let from_person = event.get("bot_id").is_none() && event.get("subtype").is_none();
            let in_thread = event.get("thread_ts").is_some_and(|t| t.as_str() != s(&event, &["ts"]));
            let (Some(user), Some(channel), Some(ts)) =
                (s(&event, &["user"]), s(&event, &["channel"]), s(&event, &["ts"]))
            else {
                return;
            };
            if !is_dm || !from_person || in_thread {
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
            let text = s(&event, &["text"]).unwrap_or_default();
            let reply = match run_text(&st, &team_id, "", user, user, text).await {
                Ok(outcome) => {
                    deliver_notices(st.slack.clone(), team_id.clone(), outcome.notices);
                    outcome.reply
                }
                Err(apology) => apology,
            };
            let Some(token) = st.slack.token_for(&team_id).cloned() else {
                tracing::warn!("cannot answer a DM: no Slack bot token configured");
                return;
            };
            if let Err(e) = st
                .slack
                .api
                .post_message(&token, &team_id, channel, render::message(&reply))
                .await
            {
                tracing::warn!(error = %e, "DM answer not sent");
            }
        }
        Some("app_home_opened") => {
            let Some(user) = s(&event, &["user"]) else { return };
            if s(&event, &["tab"]).is_some_and(|t| t != "home") {
                return;
            }
            let reply = match run_text(&st, &team_id, "", user, user, "home").await {
                Ok(o) => o.reply,
                Err(apology) => apology,
            };
            let Some(token) = st.slack.token_for(&team_id).cloned() else {
                return;
            };
            if let Err(e) = st
                .slack
                .api
                .publish_home(&token, &team_id, user, render::home_blocks(&reply))
                .await
            {
                tracing::warn!(error = %e, "App Home not published");
            }
        }
        Some("app_uninstalled") | Some("tokens_revoked") => {
            // Single-workspace mode keeps no stored tokens; the OAuth install
            // flow (a later issue) deletes the workspace's tokens here.
            tracing::info!(slack.team = %team_id, "Slack app uninstalled or tokens revoked");
        }
        _ => {}
    }
}

pub async fn interactivity(State(st): State<SlackAppState>, VerifiedSlackBody { body }: VerifiedSlackBody) -> Response {
    #[derive(serde::Deserialize)]
    struct Form {
        payload: String,
    }
    let Ok(form) = serde_urlencoded::from_bytes::<Form>(&body) else {
        return (StatusCode::BAD_REQUEST, "malformed interaction").into_response();
    };
    let Ok(p) = serde_json::from_str::<Value>(&form.payload) else {
        return (StatusCode::BAD_REQUEST, "malformed interaction").into_response();
    };
    if s(&p, &["type"]) != Some("block_actions") {
        // Modals, shortcuts and view submissions arrive with the interactivity
        // issue; acknowledge so Slack does not show an error.
        return StatusCode::OK.into_response();
    }
    let (Some(team_id), Some(user_id)) = (s(&p, &["team", "id"]), s(&p, &["user", "id"])) else {
        return (StatusCode::BAD_REQUEST, "interaction without team or user").into_response();
    };
    let Some(action) = p.get("actions").and_then(|a| a.get(0)) else {
        return StatusCode::OK.into_response();
    };
    let action_id = s(action, &["action_id"]).unwrap_or_default().to_string();
    let value = s(action, &["value"]).unwrap_or_default().to_string();
    let response_url = s(&p, &["response_url"]).map(str::to_string);
    let team_id = team_id.to_string();
    let user_id = user_id.to_string();
    tokio::spawn(async move {
        let reply = match button(&st, &team_id, &user_id, &action_id, &value).await {
            Ok(r) => r,
            Err(apology) => apology,
        };
        if let Some(url) = response_url
            && let Err(e) = st.slack.api.respond(&url, render::message(&reply), true).await
        {
            tracing::warn!(error = %e, "button answer not sent");
        }
    });
    StatusCode::OK.into_response()
}

fn stale() -> Reply {
    Reply::text("That button is no longer valid. Try the command again.")
}

fn internal(e: commands::CommandError) -> Reply {
    tracing::error!(error = %e, cause = ?std::error::Error::source(&e), "button failed");
    Reply::text("Sorry — something went wrong on our side. Please try again.")
}

/// Carries out one button click for the verified caller.
async fn button(
    st: &SlackAppState,
    team_id: &str,
    user_id: &str,
    action_id: &str,
    value: &str,
) -> Result<Reply, Reply> {
    let directory = SlackDirectory { slack: &st.slack };
    let ctx = Ctx {
        db: &st.app.db,
        now: st.app.clock.now(),
        directory: &directory,
        platform: Platform::Slack,
        invocation: "/oneonone",
        line: "",
    };
    // A click can only come from a workspace that has used the bot before.
    let Some(workspace) = ctx
        .db
        .workspace_by_external(Platform::Slack, team_id)
        .await
        .map_err(|e| internal(e.into()))?
    else {
        return Ok(stale());
    };
    let person = resolve_actor(&ctx, &workspace, user_id, user_id)
        .await
        .map_err(internal)?;
    let actor = commands::Actor { workspace, person };
    // Repeated buttons in one block carry a `#N` suffix (Slack wants unique ids).
    match render::action_name(action_id) {
        "pick_partner" => {
            // value: "<series id>:<the original command line>"
            let Some((sid, line)) = value.split_once(':') else {
                return Ok(stale());
            };
            let Ok(sid) = sid.parse::<i64>() else {
                return Ok(stale());
            };
            let Some(partner) = partner_in(&ctx, &actor, SeriesId(sid)).await.map_err(internal)? else {
                return Ok(stale());
            };
            let (word, rest) = line.trim().split_once(' ').unwrap_or((line.trim(), ""));
            let text = format!("{word} <@{partner}> {rest}");
            let outcome = run_text(st, team_id, "", user_id, user_id, &text).await?;
            deliver_notices(st.slack.clone(), team_id.to_string(), outcome.notices);
            Ok(outcome.reply)
        }
        "rate" => rate(&ctx, &actor, value).await.map_err(internal),
        "request_setup" | "request_extra" => answer_request(&ctx, &actor, action_id, value).await.map_err(internal),
        _ => Ok(stale()),
    }
}

async fn rate(ctx: &Ctx<'_>, actor: &commands::Actor, value: &str) -> Result<Reply, commands::CommandError> {
    let Some((mid, score)) = value.split_once(':') else {
        return Ok(stale());
    };
    let (Ok(mid), Ok(score)) = (mid.parse::<i64>(), score.parse::<u8>()) else {
        return Ok(stale());
    };
    if !(1..=5).contains(&score) {
        return Ok(stale());
    }
    let Some(m) = ctx.db.meeting(MeetingId(mid)).await? else {
        return Ok(stale());
    };
    // Re-check: the meeting's 1:1 is in the caller's workspace and the caller is in it.
    let Some(series) = ctx.db.series(actor.workspace.id, m.series_id).await? else {
        return Ok(stale());
    };
    if !series.is_participant(actor.person.id) || m.state != MeetingState::Held {
        return Ok(stale());
    }
    ctx.db
        .upsert_rating(m.id, actor.person.id, score, None, ctx.now)
        .await?;
    Ok(Reply::text(format!(
        "Thanks — you rated this 1:1 {score}/5. Only averages are ever shown."
    )))
}

async fn answer_request(
    ctx: &Ctx<'_>,
    actor: &commands::Actor,
    action_id: &str,
    value: &str,
) -> Result<Reply, commands::CommandError> {
    let Ok(rid) = value.parse::<i64>() else {
        return Ok(stale());
    };
    let Some(req) = ctx.db.request(actor.workspace.id, RequestId(rid)).await? else {
        return Ok(stale());
    };
    if req.to_id != actor.person.id {
        return Ok(stale());
    }
    let Some(from) = ctx.db.person(actor.workspace.id, req.from_id).await? else {
        return Ok(stale());
    };
    let cmd = if action_id == "request_setup" {
        format!("/oneonone setup <@{}> biweekly on tuesday at 10am", from.external_id)
    } else {
        format!("/oneonone reschedule <@{}> tomorrow at 2pm", from.external_id)
    };
    Ok(Reply::text(
        Text::new()
            .plain("Pick a time that suits you both and type it, for example: ")
            .code(cmd),
    ))
}

/// The partner's platform id in series `sid`, if the caller is a participant.
async fn partner_in(
    ctx: &Ctx<'_>,
    actor: &commands::Actor,
    sid: SeriesId,
) -> Result<Option<String>, commands::CommandError> {
    let Some(series) = ctx.db.series(actor.workspace.id, sid).await? else {
        return Ok(None);
    };
    let Some(pid) = series.partner_of(actor.person.id) else {
        return Ok(None);
    };
    Ok(ctx.db.person(actor.workspace.id, pid).await?.map(|p| p.external_id))
}
