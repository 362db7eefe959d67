//! `POST /slack/interactivity`: button clicks and selects (`block_actions`),
//! modal submissions (`view_submission`) and the "Add to 1:1 agenda" message
//! shortcut. Verified before parsing; answered within Slack's 3 seconds.
//!
//! Every id in a value or `private_metadata` goes through
//! `commands::objects`, which re-checks it against the verified caller: a
//! forged or stale value gets "no longer valid" and changes nothing.

use super::events::s;
use super::inbound::run_text;
use super::modals::{self, Submission, SubmissionError};
use super::sync::{ctx, refresh};
use super::{SlackAppState, SlackDirectory, deliver_notices, render};
use crate::commands::objects::{ObjectAction, apply_to, meeting_of, stale, try_apply_to};
use crate::commands::{self, Actor, CommandError, format_instant, resolve_caller_in_known_workspace};
use crate::domain::command::{Command, PersonRef, SetupArgs};
use crate::domain::model::{ActionItemId, MeetingId, RequestId, SeriesId, SeriesState, TalkingPointId};
use crate::domain::reply::{Outcome, Reply};
use crate::slack::verify::VerifiedSlackBody;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use slack_morphism::prelude::SlackView;

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
    let (Some(team_id), Some(user_id)) = (
        s(&p, &["team", "id"]).or_else(|| s(&p, &["user", "team_id"])),
        s(&p, &["user", "id"]),
    ) else {
        return (StatusCode::BAD_REQUEST, "interaction without team or user").into_response();
    };
    let (team_id, user_id) = (team_id.to_string(), user_id.to_string());
    match s(&p, &["type"]) {
        Some("block_actions") => {
            let slack = st.slack.clone();
            slack.after_answer(block_action(st, team_id, user_id, p)).await;
            StatusCode::OK.into_response()
        }
        Some("view_submission") => view_submission(&st, &team_id, &user_id, &p).await,
        Some("message_action") if s(&p, &["callback_id"]) == Some(super::catalog::MESSAGE_SHORTCUT_CALLBACK) => {
            let slack = st.slack.clone();
            slack.after_answer(shortcut(st, team_id, user_id, p)).await;
            StatusCode::OK.into_response()
        }
        // view_closed, other shortcuts: nothing to do, and Slack wants a 200.
        _ => StatusCode::OK.into_response(),
    }
}

/// The verified caller, if their workspace has used the bot before.
async fn caller(st: &SlackAppState, team_id: &str, user_id: &str) -> Result<Option<Actor>, CommandError> {
    let directory = SlackDirectory { slack: &st.slack };
    let ctx = ctx(st, &directory, "");
    resolve_caller_in_known_workspace(&ctx, team_id, user_id).await
}

fn apology(e: &CommandError) -> Reply {
    tracing::error!(error = %e, cause = ?std::error::Error::source(e), "interaction failed");
    Reply::text("Sorry — something went wrong on our side and nothing was changed. Please try again.")
}

fn id<T>(value: &str, f: fn(i64) -> T) -> Option<T> {
    value.trim().parse::<i64>().ok().map(f)
}

/// What a click or select asks for, from its action id and value.
enum Click {
    Object(ObjectAction),
    OpenModal(&'static str, MeetingId),
    OpenSetup,
    OpenRateComment(MeetingId, u8),
    OpenExtra(SeriesId),
    PickPartner(SeriesId, String),
    Request(&'static str, RequestId),
    Dismiss,
    Stale,
}

fn classify(action_id: &str, value: &str) -> Click {
    let obj = |a: Option<ObjectAction>| a.map_or(Click::Stale, Click::Object);
    match render::action_name(action_id) {
        "tp_discussed" => obj(id(value, TalkingPointId).map(ObjectAction::MarkDiscussed)),
        "ai_complete" => obj(id(value, ActionItemId).map(ObjectAction::CompleteItem)),
        "show_all_points" => obj(id(value, MeetingId).map(ObjectAction::ShowAllPoints)),
        "tp_drop" => obj(id(value, TalkingPointId).map(ObjectAction::DropPoint)),
        "open_extra" => id(value, SeriesId).map_or(Click::Stale, Click::OpenExtra),
        "meeting_held" => obj(id(value, MeetingId).map(ObjectAction::Hold)),
        "meeting_skip" | "confirm_skip" => obj(id(value, MeetingId).map(|m| ObjectAction::Skip(m, None))),
        "rate" => {
            let Some((m, score)) = value.split_once(':') else {
                return Click::Stale;
            };
            match (id(m, MeetingId), score.parse::<u8>()) {
                (Some(m), Ok(score)) => Click::Object(ObjectAction::Rate(m, score, None)),
                _ => Click::Stale,
            }
        }
        "open_add_point" => id(value, MeetingId).map_or(Click::Stale, |m| Click::OpenModal("add_point", m)),
        "open_add_action" => id(value, MeetingId).map_or(Click::Stale, |m| Click::OpenModal("add_action", m)),
        "open_note" => id(value, MeetingId).map_or(Click::Stale, |m| Click::OpenModal("add_note", m)),
        "open_reschedule" => id(value, MeetingId).map_or(Click::Stale, |m| Click::OpenModal("reschedule", m)),
        "open_setup" => Click::OpenSetup,
        "open_rate_comment" => match value.split_once(':') {
            Some((m, score)) => match (id(m, MeetingId), score.parse::<u8>()) {
                (Some(m), Ok(score)) => Click::OpenRateComment(m, score),
                _ => Click::Stale,
            },
            None => Click::Stale,
        },
        "pick_partner" => match value.split_once(':') {
            Some((sid, line)) => {
                id(sid, SeriesId).map_or(Click::Stale, |sid| Click::PickPartner(sid, line.to_string()))
            }
            None => Click::Stale,
        },
        "request_setup" => id(value, RequestId).map_or(Click::Stale, |r| Click::Request("setup", r)),
        "request_extra" => id(value, RequestId).map_or(Click::Stale, |r| Click::Request("extra", r)),
        "dismiss" => Click::Dismiss,
        _ => Click::Stale,
    }
}

async fn block_action(st: SlackAppState, team_id: String, user_id: String, p: Value) {
    let Some(action) = p.get("actions").and_then(|a| a.get(0)) else {
        return;
    };
    let action_id = s(action, &["action_id"]).unwrap_or_default();
    // A button carries `value`; a select carries `selected_option.value`.
    let value = s(action, &["value"])
        .or_else(|| s(action, &["selected_option", "value"]))
        .unwrap_or_default();
    let trigger_id = s(&p, &["trigger_id"]).unwrap_or_default();
    let response_url = s(&p, &["response_url"]);
    let ephemeral = p
        .pointer("/container/is_ephemeral")
        .and_then(Value::as_bool)
        .unwrap_or(false);

    let outcome: Outcome = match answer(&st, &team_id, &user_id, classify(action_id, value), trigger_id).await {
        Ok(Some(o)) => o,
        Ok(None) => return, // a modal opened: nothing to say
        Err(e) => apology(&e).into(),
    };
    deliver_notices(st.slack.clone(), team_id.clone(), outcome.notices.clone());
    // Where to answer: an ephemeral message is replaced in place; a posted
    // agenda is updated by `refresh` (unless the answer is something else,
    // which then follows it); the Home tab has no response_url: a DM.
    let updated_in_place = outcome.agenda.is_some() && !ephemeral;
    if !updated_in_place && !outcome.reply.blocks.is_empty() {
        match response_url {
            Some(url) => {
                if let Err(e) = st
                    .slack
                    .api
                    .respond(
                        url,
                        render::message(outcome.reply),
                        ephemeral && outcome.agenda.is_some(),
                    )
                    .await
                {
                    tracing::warn!(error = %e, "answer to a click not sent");
                }
            }
            None => dm(&st, &team_id, &user_id, &outcome.reply).await,
        }
    }
    refresh(&st, &team_id, &outcome.changed);
}

async fn dm(st: &SlackAppState, team_id: &str, user_id: &str, reply: &Reply) {
    let Some(token) = st.slack.token_for(team_id).await else {
        return;
    };
    let sent = async {
        let channel = st.slack.api.open_dm(&token, team_id, user_id).await?;
        st.slack
            .api
            .post_message(&token, team_id, &channel, render::message(reply.clone()))
            .await
    }
    .await;
    if let Err(e) = sent {
        tracing::warn!(error = %e, "direct message not sent");
    }
}

/// Carries out one click for the verified caller. `Ok(None)`: a modal opened.
async fn answer(
    st: &SlackAppState,
    team_id: &str,
    user_id: &str,
    click: Click,
    trigger_id: &str,
) -> Result<Option<Outcome>, CommandError> {
    let Some(actor) = caller(st, team_id, user_id).await? else {
        return Ok(Some(stale().into()));
    };
    let directory = SlackDirectory { slack: &st.slack };
    let ctx = ctx(st, &directory, "");
    match click {
        Click::Object(action) => apply_to(&ctx, &actor, action).await.map(Some),
        Click::Stale => Ok(Some(stale().into())),
        Click::Dismiss => Ok(Some(Reply::text("OK — nothing changed.").into())),
        Click::OpenModal(kind, meeting) => {
            let Some((series, partner, m)) = meeting_of(&ctx, &actor, meeting).await? else {
                return Ok(Some(stale().into()));
            };
            if !m.state.is_pending() && kind != "add_note" {
                return Ok(Some(stale().into()));
            }
            if series.state != SeriesState::Active && kind != "add_note" {
                return Ok(Some(Reply::text("This 1:1 is paused or ended.").into()));
            }
            let tz = actor.person.tz();
            let context = format!(
                "1:1 with {} · {}",
                partner.display_name,
                format_instant(m.scheduled_at, tz)
            );
            let view = match kind {
                "add_point" => modals::add_point_modal(m.id, &context),
                "add_action" => modals::add_action_modal(
                    m.id,
                    &context,
                    (&actor.person.external_id, &actor.person.display_name),
                    (&partner.external_id, &partner.display_name),
                ),
                "add_note" => modals::note_modal(m.id, &context),
                _ => modals::reschedule_modal(m.id, &context, m.scheduled_at.with_timezone(&tz).naive_local()),
            };
            open(st, team_id, trigger_id, view).await
        }
        Click::OpenRateComment(meeting, score) => {
            let Some((_, _, m)) = meeting_of(&ctx, &actor, meeting).await? else {
                return Ok(Some(stale().into()));
            };
            open(st, team_id, trigger_id, modals::rate_comment_modal(m.id, score)).await
        }
        Click::OpenExtra(sid) => {
            let Some(series) = ctx.db.series(actor.workspace.id, sid).await? else {
                return Ok(Some(stale().into()));
            };
            let Some(pid) = series.partner_of(actor.person.id) else {
                return Ok(Some(stale().into()));
            };
            let Some(partner) = ctx.db.person(actor.workspace.id, pid).await? else {
                return Ok(Some(stale().into()));
            };
            let context = format!("Extra 1:1 with {}", partner.display_name);
            let initial = (ctx.now + chrono::Duration::days(1))
                .with_timezone(&actor.person.tz())
                .naive_local();
            open(
                st,
                team_id,
                trigger_id,
                modals::extra_meeting_modal(series.id, &context, initial),
            )
            .await
        }
        Click::OpenSetup => {
            let names = template_names(&ctx, &actor).await?;
            open(
                st,
                team_id,
                trigger_id,
                modals::setup_modal(None, actor.person.tz(), &names),
            )
            .await
        }
        Click::PickPartner(sid, line) => {
            // The original line, re-run for the chosen 1:1 (only the caller's own).
            let Some(series) = ctx.db.series(actor.workspace.id, sid).await? else {
                return Ok(Some(stale().into()));
            };
            let Some(pid) = series.partner_of(actor.person.id) else {
                return Ok(Some(stale().into()));
            };
            let Some(partner) = ctx.db.person(actor.workspace.id, pid).await? else {
                return Ok(Some(stale().into()));
            };
            let line = line.trim();
            let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
            let text = format!("{word} <@{}> {rest}", partner.external_id);
            Ok(Some(
                run_text(st, team_id, "", user_id, user_id, &text)
                    .await
                    .unwrap_or_else(Outcome::from),
            ))
        }
        Click::Request(kind, rid) => {
            let Some(req) = ctx.db.request(actor.workspace.id, rid).await? else {
                return Ok(Some(stale().into()));
            };
            if req.to_id != actor.person.id {
                return Ok(Some(stale().into()));
            }
            let Some(from) = ctx.db.person(actor.workspace.id, req.from_id).await? else {
                return Ok(Some(stale().into()));
            };
            if kind == "setup" {
                let names = template_names(&ctx, &actor).await?;
                let view = modals::setup_modal(Some(&from.external_id), actor.person.tz(), &names);
                return open(st, team_id, trigger_id, view).await;
            }
            // An extra meeting of the 1:1 they already have.
            let Some(series) = ctx
                .db
                .series_between(actor.workspace.id, actor.person.id, from.id)
                .await?
            else {
                return Ok(Some(stale().into()));
            };
            let context = format!("Extra 1:1 with {}", from.display_name);
            let initial = (ctx.now + chrono::Duration::days(1))
                .with_timezone(&actor.person.tz())
                .naive_local();
            open(
                st,
                team_id,
                trigger_id,
                modals::extra_meeting_modal(series.id, &context, initial),
            )
            .await
        }
    }
}

async fn open(
    st: &SlackAppState,
    team_id: &str,
    trigger_id: &str,
    view: SlackView,
) -> Result<Option<Outcome>, CommandError> {
    let Some(token) = st.slack.token_for(team_id).await else {
        return Ok(Some(
            Reply::text("The bot has no Slack token configured, so it cannot open forms.").into(),
        ));
    };
    match st.slack.api.open_view(&token, team_id, trigger_id, view).await {
        Ok(()) => Ok(None),
        Err(e) => {
            tracing::warn!(error = %e, "modal not opened");
            Ok(Some(
                Reply::text("I couldn't open that form (Slack said no). Try again, or use the text command.").into(),
            ))
        }
    }
}

/// A submitted modal: re-checked, applied, and answered within 3 s — with
/// `response_action: errors` on the right field when something is wrong.
async fn view_submission(st: &SlackAppState, team_id: &str, user_id: &str, p: &Value) -> Response {
    let submission = match modals::read_submission(p) {
        Ok(sub) => sub,
        Err(SubmissionError::Fields(errors)) => return Json(modals::errors_response(&errors)).into_response(),
        // Not one of ours, or metadata that does not parse: close it.
        Err(_) => return StatusCode::OK.into_response(),
    };
    let main_block = submission_main_block(&submission);
    let result = async {
        let Some(actor) = caller(st, team_id, user_id).await? else {
            return Ok(Err(stale()));
        };
        let directory = SlackDirectory { slack: &st.slack };
        let ctx = ctx(st, &directory, "");
        match submission {
            Submission::Setup {
                report,
                cadence,
                time,
                duration_minutes,
                tz,
                template,
            } => {
                let cmd = Command::Setup(SetupArgs {
                    partner: PersonRef::Mention(report),
                    cadence,
                    time: Some(time),
                    duration_minutes: Some(duration_minutes),
                    tz: Some(tz),
                    template,
                });
                // A set-up that took effect always changes its 1:1; anything
                // else is an answer to show on the form.
                let outcome = commands::apply(&ctx, &actor, cmd).await?;
                Ok(if outcome.changed.is_empty() {
                    Err(outcome.reply)
                } else {
                    Ok(outcome)
                })
            }
            other => try_apply_to(&ctx, &actor, to_action(other)).await,
        }
    }
    .await;
    // A refusal or a mistake is said on the form itself, which stays open.
    let outcome = match result {
        Ok(Ok(o)) => o,
        Ok(Err(reply)) => return form_error(main_block, &reply),
        Err(e) => return form_error(main_block, &apology(&e)),
    };
    let (st, team_id, user_id) = (st.clone(), team_id.to_string(), user_id.to_string());
    let slack = st.slack.clone();
    slack
        .after_answer(async move {
            deliver_notices(st.slack.clone(), team_id.clone(), outcome.notices.clone());
            if outcome.agenda.is_none() {
                dm(&st, &team_id, &user_id, &outcome.reply).await;
            }
            refresh(&st, &team_id, &outcome.changed);
        })
        .await;
    StatusCode::OK.into_response()
}

fn to_action(sub: Submission) -> ObjectAction {
    match sub {
        Submission::AddPoint {
            meeting,
            category,
            text,
        } => ObjectAction::AddPoint(meeting, category, text),
        Submission::AddAction {
            meeting,
            text,
            owner,
            due,
        } => ObjectAction::AddAction(meeting, text, owner, due),
        Submission::Note { meeting, text } => ObjectAction::AddNote(meeting, text),
        Submission::Reschedule { meeting, date, time } => ObjectAction::Reschedule(meeting, date, time),
        Submission::AddToAgenda {
            series, category, text, ..
        } => ObjectAction::AddPointToSeries(series, category, text),
        Submission::ExtraMeeting { series, date, time } => ObjectAction::ExtraMeeting(series, date, time),
        Submission::RateComment {
            meeting,
            score,
            comment,
        } => ObjectAction::Rate(meeting, score, comment),
        // Set-up is a command, handled before; keep the compiler honest.
        Submission::Setup { .. } => ObjectAction::ShowAgenda(MeetingId(0)),
    }
}

/// The workspace's own template names, offered in the set-up form.
async fn template_names(ctx: &crate::commands::Ctx<'_>, actor: &Actor) -> Result<Vec<String>, CommandError> {
    Ok(ctx
        .db
        .templates(actor.workspace.id)
        .await?
        .into_iter()
        .map(|t| t.name)
        .collect())
}

fn form_error(block: &'static str, reply: &Reply) -> Response {
    Json(modals::errors_response(&modals::FieldErrors(vec![(
        block,
        reply.to_plain(),
    )])))
    .into_response()
}

/// The block a general problem with a submission is shown under: the field
/// the person most likely has to change.
fn submission_main_block(sub: &Submission) -> &'static str {
    match sub {
        Submission::Reschedule { .. } | Submission::ExtraMeeting { .. } => modals::field::DATE,
        Submission::Setup { .. } => modals::field::REPORT,
        Submission::AddToAgenda { .. } => modals::field::SERIES,
        Submission::AddAction { .. } => modals::field::OWNER,
        Submission::RateComment { .. } => modals::field::COMMENT,
        _ => modals::field::TEXT,
    }
}

/// The message shortcut: a modal to put someone's message on one of the
/// caller's 1:1 agendas, prefilled with its text and a link to it.
async fn shortcut(st: SlackAppState, team_id: String, user_id: String, p: Value) {
    let trigger_id = s(&p, &["trigger_id"]).unwrap_or_default().to_string();
    // The modal decodes Slack's escapes itself.
    let raw_text = s(&p, &["message", "text"]).unwrap_or_default().to_string();
    let channel = s(&p, &["channel", "id"]).unwrap_or_default().to_string();
    let ts = s(&p, &["message", "ts"])
        .or_else(|| s(&p, &["message_ts"]))
        .unwrap_or_default()
        .to_string();
    let source = (!channel.is_empty() && !ts.is_empty()).then(|| modals::MessageRef {
        channel: channel.clone(),
        ts: ts.clone(),
    });
    let result = async {
        let Some(actor) = caller(&st, &team_id, &user_id).await? else {
            return Ok(None);
        };
        let directory = SlackDirectory { slack: &st.slack };
        let ctx = ctx(&st, &directory, "");
        let mut choices = Vec::new();
        for series in ctx
            .db
            .series_for_person(actor.workspace.id, actor.person.id, false)
            .await?
        {
            if series.state != SeriesState::Active {
                continue;
            }
            let Some(pid) = series.partner_of(actor.person.id) else {
                continue;
            };
            if let Some(p) = ctx.db.person(actor.workspace.id, pid).await? {
                choices.push((series.id, p.display_name));
            }
        }
        Ok::<_, CommandError>(Some((actor, choices)))
    }
    .await;
    let (_actor, choices) = match result {
        Ok(Some(x)) => x,
        Ok(None) => return,
        Err(e) => {
            apology(&e);
            return;
        }
    };
    if choices.is_empty() {
        let reply = Reply::text("You don't have an active 1:1 yet, so there's no agenda to add this to.");
        if let Some(url) = s(&p, &["response_url"]) {
            let _ = st.slack.api.respond(url, render::message(reply), false).await;
        }
        return;
    }
    let Some(token) = st.slack.token_for(&team_id).await else {
        return;
    };
    let permalink = match st.slack.api.permalink(&token, &team_id, &channel, &ts).await {
        Ok(link) => Some(link),
        Err(e) => {
            tracing::warn!(error = %e, "no permalink for the shortcut's message");
            None
        }
    };
    if let Err(e) = st
        .slack
        .api
        .open_view(
            &token,
            &team_id,
            &trigger_id,
            modals::add_to_agenda_modal(&choices, &raw_text, permalink.as_deref(), source.as_ref()),
        )
        .await
    {
        tracing::warn!(error = %e, "shortcut modal not opened");
    }
}
