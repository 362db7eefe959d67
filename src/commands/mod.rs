//! The command layer: carries out a parsed [`Command`] for a verified caller
//! against the store, and answers with a platform-neutral [`Outcome`].
//!
//! It sits between the pure `domain` (which imports no I/O) and the adapters:
//! it depends on `domain` and `store`, never on Slack, Teams or HTTP. The
//! platform's user directory (Slack `users.info`, the console's names) comes in
//! through the [`Directory`] seam. STYLE.md sketches this as `domain::apply`;
//! we keep `domain` free of the store instead and say so in ARCHITECTURE.md.
//!
//! Every object a command names is looked up inside the caller's workspace and
//! re-checked against the caller: only the two participants of a 1:1 see or
//! change it, private notes only their author, cadence and state only the manager.
//! A person's mistake is a helpful reply, never an error.

mod format;
mod library;
mod meetings;
pub mod objects;
mod personal;
mod resolve;
mod series;

pub use format::{format_date, format_instant};
pub use personal::{away_notice, skip_for_away};
pub use resolve::{
    Actor, Directory, DirectoryError, DirectoryFuture, reads_with_caller, resolve_actor, resolve_caller,
    resolve_caller_in_known_workspace,
};

use crate::domain::command::Command;
use crate::domain::model::Platform;
use crate::domain::reply::{Outcome, Reply, Text};
use crate::store::{Db, StoreError};
use crate::telemetry::metrics::{self, CommandOutcome};
use chrono::{DateTime, Utc};

/// Everything a command needs besides the caller and the command.
pub struct Ctx<'a> {
    pub db: &'a Db,
    pub now: DateTime<Utc>,
    pub directory: &'a dyn Directory,
    pub platform: Platform,
    /// How the product is invoked on this platform, for help texts
    /// (`/oneonone` in Slack, nothing in Teams and the console).
    pub invocation: &'a str,
    /// The command line as typed (for "which 1:1?" buttons that re-run it).
    pub line: &'a str,
}

/// Why a command did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Something on our side failed (database, directory); the person sees a
    /// generic apology, the cause is logged once by the adapter.
    #[error("store failure")]
    Store(#[from] StoreError),
    #[error("directory failure")]
    Directory(#[source] DirectoryError),
}

/// Internal control flow: a person's mistake (answered with a reply) or a failure.
pub(crate) enum Fail {
    User(Reply),
    Internal(CommandError),
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::Internal(CommandError::Store(e))
    }
}

impl From<CommandError> for Fail {
    fn from(e: CommandError) -> Self {
        Fail::Internal(e)
    }
}

pub(crate) type Res<T> = Result<T, Fail>;

/// A person's mistake: a short explanation, optionally with the usage to try.
pub(crate) fn oops<T>(t: impl Into<Text>) -> Res<T> {
    Err(Fail::User(Reply::text(t)))
}

/// Carries out `cmd` for `actor`. `Ok` covers both success and a person's
/// mistake (with a helpful reply); `Err` is a failure on our side.
pub async fn apply(ctx: &Ctx<'_>, actor: &Actor, cmd: Command) -> Result<Outcome, CommandError> {
    let cmd_name = cmd.name();
    tracing::debug!(command.name = cmd_name, person.id = %actor.person.id, "command");
    let res = match cmd {
        Command::Home => personal::home(ctx, actor).await,
        Command::Help { topic } => Ok(library::help(ctx, topic.as_deref()).into()),
        Command::Setup(args) => series::setup(ctx, actor, args).await,
        Command::Add {
            partner,
            category,
            text,
        } => meetings::add(ctx, actor, partner, category, text).await,
        Command::Agenda { partner } => meetings::agenda(ctx, actor, partner).await,
        Command::Comment { partner, point, text } => meetings::comment(ctx, actor, partner, point, text).await,
        Command::Action {
            partner,
            text,
            due,
            owner,
        } => meetings::action(ctx, actor, partner, text, due, owner).await,
        Command::Actions => personal::actions(ctx, actor).await,
        Command::Complete { item } => personal::complete(ctx, actor, item).await,
        Command::Note { partner, text } => meetings::note(ctx, actor, partner, text).await,
        Command::Held { partner } => meetings::held(ctx, actor, partner).await,
        Command::Skip { partner, reason } => meetings::skip(ctx, actor, partner, reason).await,
        Command::Reschedule { partner, when } => meetings::reschedule(ctx, actor, partner, when).await,
        Command::History { partner, count } => meetings::history(ctx, actor, partner, count).await,
        Command::Pause { partner } => series::set_state(ctx, actor, partner, series::StateChange::Pause).await,
        Command::Resume { partner } => series::set_state(ctx, actor, partner, series::StateChange::Resume).await,
        Command::End { partner } => series::set_state(ctx, actor, partner, series::StateChange::End).await,
        Command::Questions { category } => Ok(library::questions(category).into()),
        Command::Templates => library::templates(ctx, actor).await,
        Command::TemplateShow { name } => library::template_show(ctx, actor, &name).await,
        Command::TemplateNew { name, items } => library::template_new(ctx, actor, &name, items).await,
        Command::TemplateDelete { name } => library::template_delete(ctx, actor, &name).await,
        Command::Stats => series::stats(ctx, actor).await,
        Command::Settings { tz, hours, nudges } => personal::settings(ctx, actor, tz, hours, nudges).await,
        Command::Away { until } => personal::away(ctx, actor, until).await,
        Command::Back => personal::back(ctx, actor).await,
        Command::Request { partner, text } => series::request(ctx, actor, partner, text).await,
    };
    let mutates = matches!(
        cmd_name,
        "setup"
            | "add"
            | "comment"
            | "action"
            | "complete"
            | "note"
            | "held"
            | "skip"
            | "reschedule"
            | "pause"
            | "resume"
            | "end"
            | "away"
            | "back"
            | "settings"
    );
    let (result, counted) = match res {
        Ok(outcome) => match mark_changed(ctx, actor, mutates, outcome).await {
            Ok(outcome) => (Ok(outcome), CommandOutcome::Ok),
            Err(e) => (Err(e), CommandOutcome::Error),
        },
        Err(Fail::User(reply)) => (Ok(reply.into()), CommandOutcome::Refused),
        Err(Fail::Internal(e)) => (Err(e), CommandOutcome::Error),
    };
    metrics::command(cmd_name, ctx.platform, counted);
    result
}

/// After a successful command: the 1:1s it changed are planned again by the
/// scheduler's next pass (and refreshed where they are shown).
async fn mark_changed(
    ctx: &Ctx<'_>,
    actor: &Actor,
    mutates: bool,
    mut outcome: Outcome,
) -> Result<Outcome, CommandError> {
    // A change the command did not pin to one 1:1 refreshes all of the caller's.
    if mutates && outcome.changed.is_empty() {
        outcome.changed = ctx
            .db
            .series_for_person(actor.workspace.id, actor.person.id, false)
            .await?
            .into_iter()
            .map(|s| s.id)
            .collect();
    }
    // The scheduler plans changed 1:1s again on its next pass.
    if !outcome.changed_marked {
        ctx.db.touch_series(&outcome.changed).await?;
    }
    Ok(outcome)
}

/// The reply for text that could not be parsed: what was wrong, the usage, an example.
pub fn parse_error_reply(ctx_invocation: &str, err: &crate::domain::command::ParseError) -> Reply {
    let example = adapt_example(ctx_invocation, err.example);
    Reply::new().section(Text::new().user(err.message.clone())).context(
        Text::new()
            .plain("Usage: ")
            .code(format!("{}{}", prefix(ctx_invocation), err.usage))
            .newline()
            .plain("Example: ")
            .code(example),
    )
}

fn prefix(invocation: &str) -> String {
    if invocation.is_empty() {
        String::new()
    } else {
        format!("{invocation} ")
    }
}

/// Examples are written for Slack (`/oneonone add …`); elsewhere drop the slash command.
pub(crate) fn adapt_example(invocation: &str, example: &str) -> String {
    match example.strip_prefix("/oneonone ") {
        Some(rest) => format!("{}{rest}", prefix(invocation)),
        None => example.to_string(),
    }
}
