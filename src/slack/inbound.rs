//! `POST /slack/commands`: the `/oneonone` slash command. Verified on the raw
//! bytes by the `VerifiedSlackBody` extractor before the form is parsed.

use super::{SlackAppState, SlackDirectory, deliver_notices, render};
use crate::commands::{self, Ctx, parse_error_reply, reads_with_caller, resolve_caller};
use crate::domain::grammar;
use crate::domain::model::Platform;
use crate::domain::reply::{Outcome, Reply};
use crate::slack::verify::VerifiedSlackBody;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// The fields of a slash command we use (Slack sends more).
#[derive(Debug, Deserialize)]
pub struct SlashCommand {
    pub team_id: String,
    #[serde(default)]
    pub team_domain: String,
    pub user_id: String,
    #[serde(default)]
    pub user_name: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub response_url: String,
}

pub async fn slash_command(State(st): State<SlackAppState>, VerifiedSlackBody { body }: VerifiedSlackBody) -> Response {
    let Ok(cmd) = serde_urlencoded::from_bytes::<SlashCommand>(&body) else {
        return (StatusCode::BAD_REQUEST, "malformed slash command").into_response();
    };
    match run_text(
        &st,
        &cmd.team_id,
        &cmd.team_domain,
        &cmd.user_id,
        &cmd.user_name,
        &cmd.text,
    )
    .await
    {
        Ok(outcome) => {
            deliver_notices(st.slack.clone(), cmd.team_id.clone(), outcome.notices);
            // Marks the 1:1s changed and returns; the refresh runs after the answer.
            super::sync::refresh(&st, &cmd.team_id, &outcome.changed);
            render::CommandResponse::new(outcome.reply).into_response()
        }
        Err(reply) => render::CommandResponse::new(reply).into_response(),
    }
}

/// Runs one line of the grammar for a Slack user: shared by the slash command
/// and DMs to the bot. `Err` carries the apology for a failure on our side
/// (logged here, once).
pub async fn run_text(
    st: &SlackAppState,
    team_id: &str,
    team_name: &str,
    user_id: &str,
    user_name: &str,
    text: &str,
) -> Result<Outcome, Reply> {
    let directory = SlackDirectory { slack: &st.slack };
    let ctx = Ctx {
        db: &st.app.db,
        now: st.app.clock.now(),
        directory: &directory,
        platform: Platform::Slack,
        invocation: "/oneonone",
        line: text,
    };
    let result = async {
        let parsed = grammar::parse(&unescape(text));
        // A command on the caller's only 1:1 has it read with the caller.
        let with = reads_with_caller(parsed.as_ref().ok(), ctx.now);
        let actor = resolve_caller(&ctx, team_id, team_name, user_id, user_name, with).await?;
        match parsed {
            Ok(command) => commands::apply(&ctx, &actor, command).await,
            Err(e) => Ok(parse_error_reply(ctx.invocation, &e).into()),
        }
    }
    .await;
    result.map_err(|e: commands::CommandError| {
        tracing::error!(error = %e, cause = ?std::error::Error::source(&e), "command failed");
        Reply::text("Sorry — something went wrong on our side and nothing was changed. Please try again in a moment.")
    })
}

/// Slack escapes `&`, `<` and `>` in the text it sends (`&amp;`, `&lt;`,
/// `&gt;`); we store what the person typed and escape again when showing it.
/// `&amp;` goes last so `&amp;lt;` becomes `&lt;`, not `<`.
pub fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    #[test]
    fn slack_escapes_are_undone_once() {
        assert_eq!(super::unescape("a &amp; b &lt;c&gt; &amp;lt;"), "a & b <c> &lt;");
    }
}
