//! Keeping what people see in Slack in step with the data: after any change
//! to a 1:1, every posted copy of its agendas is updated in place
//! (`chat.update`) and both participants' App Home is republished (for those
//! who have opened it). Runs after the request was answered; failures are
//! logged and never undo the change.

use super::{SlackAppState, SlackDirectory, render};
use crate::commands::objects::agenda_view;
use crate::commands::{self, Actor, Ctx};
use crate::domain::command::Command;
use crate::domain::model::{ActionItem, MeetingId, Person, Platform, SeriesId, Workspace};
use crate::domain::reply::{Button, Reply};
use chrono::Duration;

/// Posted agendas older than this are left alone: nobody scrolls back to them.
const REFRESH_WINDOW_DAYS: i64 = 21;

pub(crate) fn ctx<'a>(st: &'a SlackAppState, directory: &'a SlackDirectory<'a>, line: &'a str) -> Ctx<'a> {
    Ctx {
        db: &st.app.db,
        now: st.app.clock.now(),
        directory,
        platform: Platform::Slack,
        invocation: "/oneonone",
        line,
    }
}

/// After a refresh of a 1:1, further changes to it wait this long and are
/// then shown together: a busy 1:1 (both people adding points, a burst of
/// clicks) costs one `chat.update` and `views.publish` per person a second,
/// not one per change.
pub const REFRESH_SPACING: std::time::Duration = std::time::Duration::from_secs(1);

/// Refreshes every posted agenda and home view touched by changes to `changed`,
/// in a task of its own: this only marks the 1:1s and returns.
///
/// A 1:1 whose refresh is already under way (or just finished, within
/// [`REFRESH_SPACING`]) is only marked changed: that refresh runs once more
/// afterwards and reads the data as it is then, so the last change is always
/// shown and a burst of changes is shown once.
pub fn refresh(st: &SlackAppState, team_id: &str, changed: &[SeriesId]) {
    let mut mine: Vec<SeriesId> = {
        let mut refreshing = st.slack.refreshing();
        changed
            .iter()
            .filter(|s| match refreshing.get_mut(&(team_id.to_owned(), **s)) {
                Some(again) => {
                    *again = true;
                    false
                }
                None => {
                    refreshing.insert((team_id.to_owned(), **s), false);
                    true
                }
            })
            .copied()
            .collect()
    };
    if mine.is_empty() {
        return;
    }
    // Its own task, so a caller holding a slot of the after-answer work
    // (`SlackState::after_answer`) does not keep it through the spacing.
    let (st, team_id) = (st.clone(), team_id.to_owned());
    let background = st.slack.background.clone();
    background.spawn(tracing::Instrument::in_current_span(async move {
        while !mine.is_empty() {
            // Boxed: the refresh's state machine is large and exists only
            // while it runs; the task itself stays small through the spacing
            // (a 1:1 changed every second keeps its task alive for good).
            if let Err(e) = Box::pin(try_refresh(&st, &team_id, &mine)).await {
                tracing::warn!(error = %e, "refresh after a change failed");
            }
            tokio::time::sleep(REFRESH_SPACING).await;
            let mut refreshing = st.slack.refreshing();
            mine.retain(|s| {
                let key = (team_id.clone(), *s);
                match refreshing.get_mut(&key) {
                    Some(again) if *again => {
                        *again = false;
                        true
                    }
                    _ => {
                        refreshing.remove(&key);
                        false
                    }
                }
            });
        }
    }));
}

async fn try_refresh(st: &SlackAppState, team_id: &str, changed: &[SeriesId]) -> anyhow::Result<()> {
    let Some(token) = st.slack.token_for(team_id).await else {
        return Ok(());
    };
    let directory = SlackDirectory { slack: &st.slack };
    let ctx = ctx(st, &directory, "");
    let since = ctx.now - Duration::days(REFRESH_WINDOW_DAYS);
    let Some(targets) = ctx.db.refresh_targets(Platform::Slack, team_id, changed, since).await? else {
        return Ok(());
    };
    let ws = targets.workspace;
    for (posted, person) in targets.agendas {
        let actor = Actor::new(ws.clone(), person);
        let Some(reply) = agenda_view(&ctx, &actor, posted.meeting_id).await? else {
            continue;
        };
        if let Err(e) = st
            .slack
            .api
            .update_message(&token, team_id, &posted.channel, &posted.ts, render::message(reply))
            .await
        {
            tracing::warn!(error = %e, meeting.id = %posted.meeting_id, "posted agenda not updated");
        }
    }
    // Only a Home someone has opened shows anything to refresh; the others
    // are built when first opened (`app_home_opened`).
    for person in targets.homes {
        publish_home(st, &ws, person).await;
    }
    Ok(())
}

/// The App Home of `person`: their 1:1s, open action items and a set-up button.
pub async fn publish_home(st: &SlackAppState, ws: &Workspace, person: Person) {
    let Some(token) = st.slack.token_for(&ws.external_id).await else {
        return;
    };
    let directory = SlackDirectory { slack: &st.slack };
    let ctx = ctx(st, &directory, "");
    let user = person.external_id.clone();
    let actor = Actor::new(ws.clone(), person);
    let items = match ctx
        .db
        .open_action_items_owned_by(actor.workspace.id, actor.person.id)
        .await
    {
        Ok(items) => items,
        Err(e) => {
            tracing::warn!(error = %e, "home view not built");
            return;
        }
    };
    let reply = match commands::apply(&ctx, &actor, Command::Home).await {
        Ok(o) => home_view(o.reply, &items),
        Err(e) => {
            tracing::warn!(error = %e, "home view not built");
            return;
        }
    };
    if let Err(e) = st
        .slack
        .api
        .publish_home(&token, &ws.external_id, &user, render::home_blocks(reply))
        .await
    {
        tracing::warn!(error = %e, "App Home not published");
    }
}

/// The home reply plus what only makes sense on the Home tab: completing
/// one's action items and setting up a 1:1.
fn home_view(reply: Reply, items: &[ActionItem]) -> Reply {
    let options = items
        .iter()
        .map(|a| (format!("#{} {}", a.id, a.text), a.id.to_string()))
        .collect();
    reply
        .select("Complete an action item…", "ai_complete", options)
        .divider()
        .buttons(vec![Button::new("Set up a 1:1", "open_setup", "home").primary()])
}

/// Posts `reply` (the agenda of `meeting`) to `person` in `channel` and
/// remembers it, so reactions, thread replies and later updates find it.
pub async fn post_agenda(
    st: &SlackAppState,
    team_id: &str,
    channel: &str,
    person: &Person,
    meeting: MeetingId,
    reply: &Reply,
) {
    let Some(token) = st.slack.token_for(team_id).await else {
        return;
    };
    match st
        .slack
        .api
        .post_message(&token, team_id, channel, render::message(reply.clone()))
        .await
    {
        Ok(ts) => {
            if let Err(e) = st
                .app
                .db
                .record_posted_agenda(meeting, person.id, channel, &ts, st.app.clock.now())
                .await
            {
                tracing::warn!(error = %e, "posted agenda not recorded");
            }
        }
        Err(e) => tracing::warn!(error = %e, "agenda not posted"),
    }
}
