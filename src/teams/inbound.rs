//! `POST /api/messages`: every activity the Bot Connector sends. The JWT is
//! verified (reference §1) before anything in the body is acted on — only
//! `channelId` and `serviceUrl` are read first, because the check needs them.
//! A failure is `401` with nothing stored.
//!
//! - `message` in personal chat: a line of the command grammar (the bot's
//!   @mention stripped, people's mentions as `<@29:…>`), answered in the chat.
//! - `installationUpdate` / `conversationUpdate`: the conversation reference
//!   is stored (or marked removed), and deliveries that waited for the
//!   install become due.
//! - `invoke` `adaptiveCard/action` (a card click), or the `Action.Submit`
//!   fallback (a `message` with a `value`): the same id-addressed operations
//!   as Slack's buttons, re-checked against the caller; the card is replaced
//!   by its new state (the invoke response, or a PUT for the fallback).
//! - `messageReaction` 👍 (`like`) on a posted agenda: attendance confirmed.
//! - anything else: `200`, ignored (an unknown invoke: `501`, as botbuilder does).

use super::TeamsAppState;
use super::actions::{self, Click};
use super::activity::Activity;
use super::cards::{self, CardContext};
use super::sender::message_activity;
use crate::commands::objects::{ObjectAction, agenda_view};
use crate::commands::{
    self, Actor, Ctx, Directory, DirectoryFuture, parse_error_reply, reads_with_caller, resolve_caller,
};
use crate::domain::grammar;
use crate::domain::model::{Platform, Profile, Workspace};
use crate::domain::reply::Outcome;
use crate::domain::reply::Reply;
use crate::store::CallerWith;
use crate::store::SeenConversation;
use crate::teams::connector::{RetryPolicy, with_retries};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::HashMap;

/// The two root fields the token check needs, read before anything else.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Root {
    channel_id: Option<String>,
    service_url: Option<String>,
}

pub async fn messages(State(st): State<TeamsAppState>, headers: HeaderMap, body: Bytes) -> Response {
    let root: Root = serde_json::from_slice(&body).unwrap_or_default();
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if let Err(e) = st
        .teams
        .auth
        .verify(authorization, root.channel_id.as_deref(), root.service_url.as_deref())
        .await
    {
        tracing::warn!(reason = %e, "Teams request refused");
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Ok(activity) = serde_json::from_slice::<Activity>(&body) else {
        return (StatusCode::BAD_REQUEST, "not a Bot Framework activity").into_response();
    };
    let service_url = root.service_url.unwrap_or_default();
    if !st.teams.config.trusted_service_urls.is_trusted(&service_url) {
        // Verified, but we would never send our token there: store nothing.
        tracing::warn!(service_url = %service_url, "Teams activity from an untrusted service URL ignored");
        return StatusCode::OK.into_response();
    }
    let result = match activity.kind.as_str() {
        "message" if activity.value.is_some() && activity.command_line().is_empty() => {
            submit(&st, &activity, &service_url).await
        }
        "message" => message(&st, &activity, &service_url).await,
        "installationUpdate" => installation(&st, &activity, &service_url).await,
        "conversationUpdate" => conversation_update(&st, &activity, &service_url).await,
        "invoke" if activity.name.as_deref() == Some("adaptiveCard/action") => {
            return match invoke(&st, &activity, &service_url).await {
                Ok(body) => axum::Json(body).into_response(),
                Err(e) => {
                    tracing::error!(error = %e, "Teams card action failed");
                    axum::Json(serde_json::json!({
                        "statusCode": 500,
                        "type": "application/vnd.microsoft.error",
                        "value": {"code": "InternalError", "message": "Something went wrong on our side; nothing was changed."},
                    }))
                    .into_response()
                }
            };
        }
        "invoke" => return StatusCode::NOT_IMPLEMENTED.into_response(),
        "messageReaction" => reaction(&st, &activity, &service_url).await,
        _ => Ok(()),
    };
    match result {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => {
            tracing::error!(error = %e, cause = ?std::error::Error::source(&e), "Teams activity failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The directory behind a Teams activity: the sender's profile as the
/// activity tells it, and the people it mentions (Teams has no `users.info`
/// for the bot; a person unknown to both is not found).
struct ActivityDirectory<'a> {
    activity: &'a Activity,
    mentions: HashMap<String, String>,
}

impl Directory for ActivityDirectory<'_> {
    fn profile<'a>(&'a self, _: &'a Workspace, user: &'a str) -> DirectoryFuture<'a> {
        Box::pin(async move {
            let a = self.activity;
            if user == a.from.id {
                return Ok(Some(Profile {
                    external_id: user.to_string(),
                    display_name: a.from.name.clone().unwrap_or_else(|| user.to_string()),
                    tz: a.time_zone(),
                    ..Profile::default()
                }));
            }
            Ok(self.mentions.get(user).map(|name| Profile {
                external_id: user.to_string(),
                display_name: name.clone(),
                ..Profile::default()
            }))
        })
    }
}

/// The workspace (tenant) and person behind an activity, with their
/// conversation reference refreshed, and what `with` asks to be read
/// beside them (see [`reads_with_caller`]).
async fn actor_with(
    st: &TeamsAppState,
    ctx: &Ctx<'_>,
    activity: &Activity,
    service_url: &str,
    with: CallerWith,
) -> Result<Option<Actor>, commands::CommandError> {
    let (Some(tenant), false) = (activity.tenant_id(), activity.from.id.is_empty()) else {
        return Ok(None);
    };
    let name = activity.from.name.clone().unwrap_or_default();
    let actor = resolve_caller(ctx, tenant, "", &activity.from.id, &name, with).await?;
    let person = &actor.person;
    let now = st.app.clock.now();
    ctx.db
        .saw_teams_conversation(
            &SeenConversation {
                person_id: person.id,
                service_url,
                conversation_id: activity
                    .is_personal()
                    .then_some(activity.conversation.id.as_str())
                    .filter(|c| !c.is_empty()),
                tenant_id: tenant,
                aad_object_id: activity.from.aad_object_id.as_deref(),
            },
            now,
        )
        .await?;
    // Whatever waited for this person to install the app can go now.
    ctx.db.wake_deliveries_for(person.id, now).await?;
    Ok(Some(actor))
}

/// [`actor_with`] reading nothing beside the caller.
async fn actor(
    st: &TeamsAppState,
    ctx: &Ctx<'_>,
    activity: &Activity,
    service_url: &str,
) -> Result<Option<Actor>, commands::CommandError> {
    actor_with(st, ctx, activity, service_url, CallerWith::Nothing).await
}

fn ctx<'a>(st: &'a TeamsAppState, directory: &'a ActivityDirectory<'a>, line: &'a str) -> Ctx<'a> {
    Ctx {
        db: &st.app.db,
        now: st.app.clock.now(),
        directory,
        platform: Platform::Teams,
        invocation: "",
        line,
    }
}

async fn message(st: &TeamsAppState, activity: &Activity, service_url: &str) -> Result<(), commands::CommandError> {
    if !activity.is_personal() {
        // A 1:1 bot answers only in its personal chat.
        return Ok(());
    }
    let line = activity.command_line();
    let directory = ActivityDirectory {
        activity,
        mentions: activity.mentions(),
    };
    let ctx = ctx(st, &directory, &line);
    let parsed = grammar::parse(&line);
    // A command on the caller's only 1:1 has it read with the caller.
    let with = reads_with_caller(parsed.as_ref().ok(), ctx.now);
    let Some(actor) = actor_with(st, &ctx, activity, service_url, with).await? else {
        return Ok(());
    };
    let outcome = match parsed {
        Ok(command) => commands::apply(&ctx, &actor, command).await?,
        Err(e) => parse_error_reply(ctx.invocation, &e).into(),
    };
    let conversation = activity.conversation.id.as_str();
    let sent = with_retries(&RetryPolicy::interactive(), || {
        let body = message_activity(&outcome.reply);
        async move {
            match activity.id.as_deref() {
                Some(id) => st.teams.connector.reply(service_url, conversation, id, &body).await,
                None => st.teams.connector.send(service_url, conversation, &body).await,
            }
        }
    })
    .await;
    match sent {
        Ok(activity_id) => {
            if let Some(meeting) = outcome.agenda {
                ctx.db
                    .record_posted_agenda(meeting, actor.person.id, conversation, &activity_id, ctx.now)
                    .await?;
            }
        }
        Err(e) => tracing::warn!(error = %e, "Teams reply not delivered"),
    }
    after(st, &actor, outcome).await
}

/// Carries out a card click for the caller and returns the card that
/// replaces the clicked one.
async fn click(
    st: &TeamsAppState,
    activity: &Activity,
    service_url: &str,
) -> Result<Option<serde_json::Value>, commands::CommandError> {
    let Some(action) = activity.value.as_ref().and_then(cards::read_action) else {
        return Ok(None);
    };
    let directory = ActivityDirectory {
        activity,
        mentions: HashMap::new(),
    };
    let line = match actions::classify(&action) {
        Click::Line(line) => Some(line),
        // The original line, re-run for the chosen 1:1 (only the caller's own).
        Click::PickPartner(_, line) => Some(line),
        _ => None,
    };
    let ctx = ctx(st, &directory, line.as_deref().unwrap_or_default());
    let Some(actor) = actor(st, &ctx, activity, service_url).await? else {
        return Ok(None);
    };
    let outcome = match actions::classify(&action) {
        Click::SetupForm(request) => return Ok(Some(setup_form(&ctx, &actor, request).await?)),
        Click::PickPartner(sid, line) => {
            let partner = match ctx.db.series(actor.workspace.id, sid).await? {
                Some(series) => match series.partner_of(actor.person.id) {
                    Some(pid) => ctx.db.person(actor.workspace.id, pid).await?,
                    None => None,
                },
                None => None,
            };
            match partner {
                Some(partner) => {
                    let line = line.trim();
                    let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
                    run_line(&ctx, &actor, &format!("{word} <@{}> {rest}", partner.external_id)).await?
                }
                None => crate::commands::objects::stale().into(),
            }
        }
        Click::Line(line) => run_line(&ctx, &actor, &line).await?,
        click => actions::apply(&ctx, &actor, click).await?,
    };
    // The clicked card was an agenda: show its new state, with what happened on top.
    let agenda = match activity.replied_to() {
        Some(id) => match ctx.db.posted_agenda_at(&activity.conversation.id, id).await? {
            Some(posted) => agenda_view(&ctx, &actor, posted.meeting_id).await?,
            None => None,
        },
        None => None,
    };
    let reply = actions::replace_card(&outcome, agenda);
    after(st, &actor, outcome).await?;
    Ok(Some(cards::card(&reply, &CardContext::default())))
}

/// The set-up form, over the people the bot knows in this tenant.
async fn setup_form(
    ctx: &Ctx<'_>,
    actor: &Actor,
    request: Option<crate::domain::model::RequestId>,
) -> Result<serde_json::Value, commands::CommandError> {
    let people: Vec<(String, String)> = ctx
        .db
        .people_in(actor.workspace.id, 200)
        .await?
        .into_iter()
        .filter(|p| p.id != actor.person.id)
        .map(|p| (p.display_name, p.external_id))
        .collect();
    // Answering "please set up a 1:1 with me": only a request to the caller counts.
    let mut preselect = None;
    if let Some(rid) = request
        && let Some(req) = ctx.db.request(actor.workspace.id, rid).await?
        && req.to_id == actor.person.id
        && let Some(from) = ctx.db.person(actor.workspace.id, req.from_id).await?
    {
        preselect = Some(from.external_id);
    }
    Ok(super::forms::setup_card(
        &people,
        preselect.as_deref(),
        actor.person.tz().name(),
    ))
}

async fn run_line(ctx: &Ctx<'_>, actor: &Actor, line: &str) -> Result<Outcome, commands::CommandError> {
    match grammar::parse(line) {
        Ok(command) => commands::apply(ctx, actor, command).await,
        Err(e) => Ok(parse_error_reply(ctx.invocation, &e).into()),
    }
}

/// `adaptiveCard/action`: the answer is the replacement card.
async fn invoke(
    st: &TeamsAppState,
    activity: &Activity,
    service_url: &str,
) -> Result<serde_json::Value, commands::CommandError> {
    Ok(match click(st, activity, service_url).await? {
        Some(card) => super::forms::card_response(&card),
        None => cards::invoke_message("That button is no longer valid. Say `help` to see what I can do."),
    })
}

/// The `Action.Submit` fallback of an older client: the same click, and the
/// clicked card is updated in place.
async fn submit(st: &TeamsAppState, activity: &Activity, service_url: &str) -> Result<(), commands::CommandError> {
    let Some(card) = click(st, activity, service_url).await? else {
        return Ok(());
    };
    let body = super::forms::card_activity(&card);
    let conversation = activity.conversation.id.as_str();
    let sent = match activity.replied_to() {
        Some(id) => st
            .teams
            .connector
            .update(service_url, conversation, id, &body)
            .await
            .map(|_| ()),
        None => st
            .teams
            .connector
            .send(service_url, conversation, &body)
            .await
            .map(|_| ()),
    };
    if let Err(e) = sent {
        tracing::warn!(error = %e, "Teams card not updated");
    }
    Ok(())
}

/// 👍 (`like`) on a posted agenda card confirms attendance.
async fn reaction(st: &TeamsAppState, activity: &Activity, service_url: &str) -> Result<(), commands::CommandError> {
    let liked = activity
        .reactions_added
        .iter()
        .any(|r| r.get("type").and_then(serde_json::Value::as_str) == Some("like"));
    let Some(replied_to) = activity.replied_to() else {
        return Ok(());
    };
    if !liked {
        return Ok(());
    }
    let directory = ActivityDirectory {
        activity,
        mentions: HashMap::new(),
    };
    let ctx = ctx(st, &directory, "");
    let Some(posted) = ctx.db.posted_agenda_at(&activity.conversation.id, replied_to).await? else {
        return Ok(());
    };
    let Some(actor) = actor(st, &ctx, activity, service_url).await? else {
        return Ok(());
    };
    let outcome =
        crate::commands::objects::apply_to(&ctx, &actor, ObjectAction::ConfirmAttendance(posted.meeting_id)).await?;
    after(st, &actor, outcome).await
}

/// What every change does after answering: notices to the other people it
/// concerns, and the posted agenda cards of changed 1:1s updated in place.
async fn after(st: &TeamsAppState, actor: &Actor, outcome: Outcome) -> Result<(), commands::CommandError> {
    for n in outcome.notices {
        let Some(to) = st.app.db.person(actor.workspace.id, n.to).await? else {
            continue;
        };
        if let Err(e) = st.teams.sender.deliver(&actor.workspace, &to, &n.reply).await {
            tracing::warn!(error = %e, "Teams notice not delivered");
        }
    }
    if !outcome.changed.is_empty() {
        refresh(st, actor, &outcome.changed).await?;
    }
    Ok(())
}

/// Updates every posted agenda card of `changed` (the last two weeks') to
/// its current state, for each person it was posted to.
pub async fn refresh(
    st: &TeamsAppState,
    actor: &Actor,
    changed: &[crate::domain::model::SeriesId],
) -> Result<(), commands::CommandError> {
    let db = &st.app.db;
    let now = st.app.clock.now();
    let directory = super::NoDirectory;
    for sid in changed {
        for posted in db
            .posted_agendas_for_series(*sid, now - chrono::Duration::days(14))
            .await?
        {
            let Some(person) = db.person(actor.workspace.id, posted.person_id).await? else {
                continue;
            };
            let Some(reference) = db.teams_conversation(person.id).await? else {
                continue;
            };
            let ctx = Ctx {
                db,
                now,
                directory: &directory,
                platform: Platform::Teams,
                invocation: "",
                line: "",
            };
            let viewer = Actor::new(actor.workspace.clone(), person);
            let Some(agenda) = agenda_view(&ctx, &viewer, posted.meeting_id).await? else {
                continue;
            };
            if let Err(e) = st
                .teams
                .connector
                .update(
                    &reference.service_url,
                    &posted.channel,
                    &posted.ts,
                    &message_activity(&agenda),
                )
                .await
            {
                tracing::warn!(error = %e, "posted Teams agenda not updated");
            }
        }
    }
    Ok(())
}

async fn installation(
    st: &TeamsAppState,
    activity: &Activity,
    service_url: &str,
) -> Result<(), commands::CommandError> {
    let directory = ActivityDirectory {
        activity,
        mentions: HashMap::new(),
    };
    let ctx = ctx(st, &directory, "");
    match activity.action.as_deref() {
        Some("remove") | Some("remove-upgrade") => {
            let Some(tenant) = activity.tenant_id() else {
                return Ok(());
            };
            let Some(ws) = ctx.db.workspace_by_external(Platform::Teams, tenant).await? else {
                return Ok(());
            };
            if let Some(p) = ctx.db.person_by_external(ws.id, &activity.from.id).await? {
                ctx.db.teams_not_installed(p.id, "the app was removed", ctx.now).await?;
            }
            Ok(())
        }
        _ => {
            if let Some(actor) = actor(st, &ctx, activity, service_url).await? {
                welcome(st, activity, service_url, &actor).await;
            }
            Ok(())
        }
    }
}

async fn conversation_update(
    st: &TeamsAppState,
    activity: &Activity,
    service_url: &str,
) -> Result<(), commands::CommandError> {
    let bot = activity.recipient.id.as_str();
    let directory = ActivityDirectory {
        activity,
        mentions: HashMap::new(),
    };
    let ctx = ctx(st, &directory, "");
    if activity.members_added.iter().any(|m| m.id == bot) && activity.is_personal() {
        actor(st, &ctx, activity, service_url).await?;
    }
    if activity.members_removed.iter().any(|m| m.id == bot)
        && let Some(tenant) = activity.tenant_id()
        && let Some(ws) = ctx.db.workspace_by_external(Platform::Teams, tenant).await?
        && let Some(p) = ctx.db.person_by_external(ws.id, &activity.from.id).await?
    {
        ctx.db
            .teams_not_installed(p.id, "the bot was removed from the chat", ctx.now)
            .await?;
    }
    Ok(())
}

/// A first hello after the install, so the person knows what the bot does.
async fn welcome(st: &TeamsAppState, activity: &Activity, service_url: &str, actor: &Actor) {
    let reply = Reply::new().header("Hi! I keep your 1:1s on track.").section(
        "I'll post each 1:1's shared agenda here before the meeting and remind you of open action items. \
             Say `help` to see what I can do, or `setup @person weekly on monday at 10:00` to start a 1:1.",
    );
    let conversation = activity.conversation.id.as_str();
    if conversation.is_empty() {
        return;
    }
    if let Err(e) = st
        .teams
        .connector
        .send(service_url, conversation, &message_activity(&reply))
        .await
    {
        tracing::warn!(error = %e, person = %actor.person.id, "Teams welcome not delivered");
    }
}
