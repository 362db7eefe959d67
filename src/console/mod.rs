//! `oneonone console`: a local playground. Reads commands from stdin, one per
//! line (the same grammar as `/oneonone`, mentions written `@name`), applies
//! them through the same command layer and store, and prints the replies as
//! text. `:as NAME` switches who is typing. Nobody needs a Slack workspace to
//! see the product work on the embedded SQLite default.

mod render;

pub use render::to_text;

use crate::commands::{self, Actor, Ctx, Directory, DirectoryFuture, parse_error_reply, resolve_actor};
use crate::config::RawConfig;
use crate::domain::grammar;
use crate::domain::model::{Platform, Profile, Workspace};
use crate::store::Db;
use anyhow::Context;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tokio::io::{AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};

#[derive(Debug, Clone, clap::Args)]
pub struct ConsoleArgs {
    /// Name of the local workspace to play in.
    #[arg(long, default_value = "playground")]
    pub workspace: String,
    /// Who you are (a name; other people appear when you mention them as @name).
    #[arg(long = "as", default_value = "me")]
    pub user: String,
    /// Time zone of the people created in this session.
    #[arg(long, default_value = "UTC")]
    pub tz: String,
    /// Pretend the clock reads this instant (RFC 3339), for reproducible sessions.
    #[arg(long)]
    pub now: Option<String>,
    #[command(flatten)]
    pub config: RawConfig,
}

/// Everyone in the console is whoever they are called; their zone is the session's.
struct ConsoleDirectory {
    tz: Tz,
}

impl Directory for ConsoleDirectory {
    fn profile<'a>(&'a self, _workspace: &'a Workspace, external_id: &'a str) -> DirectoryFuture<'a> {
        Box::pin(async move {
            Ok(Some(Profile {
                external_id: external_id.to_string(),
                display_name: external_id.to_string(),
                email: None,
                tz: Some(self.tz),
                is_bot: false,
                deleted: false,
            }))
        })
    }
}

/// `@name` becomes the mention form `<@name>` the grammar understands; e-mail
/// addresses are left alone.
pub fn mentions_to_platform_form(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut chars = line.char_indices().peekable();
    let mut prev: Option<char> = None;
    while let Some((i, c)) = chars.next() {
        let starts_word = prev.is_none_or(char::is_whitespace);
        if c == '@' && starts_word {
            let rest = &line[i + 1..];
            let name: String = rest
                .chars()
                .take_while(|ch| ch.is_alphanumeric() || matches!(ch, '.' | '_' | '-'))
                .collect();
            let name = name.trim_end_matches(['.', '-']);
            if !name.is_empty() {
                out.push_str(&format!("<@{name}>"));
                for _ in 0..name.chars().count() {
                    chars.next();
                }
                prev = name.chars().last();
                continue;
            }
        }
        out.push(c);
        prev = Some(c);
    }
    out
}

pub async fn run(args: ConsoleArgs) -> anyhow::Result<()> {
    let tz: Tz = args
        .tz
        .parse()
        .map_err(|_| anyhow::anyhow!("--tz: unknown time zone {:?}", args.tz))?;
    let now = match &args.now {
        Some(s) => Some(
            DateTime::parse_from_rfc3339(s)
                .with_context(|| format!("--now: expected RFC 3339 like 2026-11-30T09:00:00Z, got {s:?}"))?
                .with_timezone(&Utc),
        ),
        None => None,
    };
    let db = Db::connect(&args.config.database_url()?)
        .await
        .context("cannot open the database")?;
    db.migrate().await.context("cannot apply the database migrations")?;
    let mut out = tokio::io::stdout();
    let stdin = BufReader::new(tokio::io::stdin());
    let result = session(&db, &args.workspace, &args.user, tz, now, stdin, &mut out).await;
    db.close().await;
    result
}

/// Runs a console session over any line source; used by `run` and by tests.
pub async fn session<R, W>(
    db: &Db,
    workspace: &str,
    user: &str,
    tz: Tz,
    now: Option<DateTime<Utc>>,
    input: R,
    out: &mut W,
) -> anyhow::Result<()>
where
    R: tokio::io::AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let directory = ConsoleDirectory { tz };
    let ws = db.ensure_workspace(Platform::Console, workspace, workspace).await?;
    let mut me = user.trim_start_matches('@').to_string();
    let mut lines = input.lines();
    out.write_all(format!("oneonone console — workspace {:?}, you are @{me}. Type `help`, `:as NAME` to switch person, Ctrl-D to quit.\n", ws.name).as_bytes()).await?;
    while let Some(line) = lines.next_line().await? {
        let line = line.trim();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        if let Some(name) = line.strip_prefix(":as ") {
            me = name.trim().trim_start_matches('@').to_string();
            out.write_all(format!("(you are now @{me})\n").as_bytes()).await?;
            continue;
        }
        let text = mentions_to_platform_form(line.strip_prefix("/oneonone").unwrap_or(line).trim());
        let ctx = Ctx {
            db,
            now: now.unwrap_or_else(Utc::now),
            directory: &directory,
            platform: Platform::Console,
            invocation: "",
            line: &text,
        };
        let person = resolve_actor(&ctx, &ws, &me, &me).await?;
        let actor = Actor::new(ws.clone(), person);
        let outcome = match grammar::parse(&text) {
            Ok(cmd) => commands::apply(&ctx, &actor, cmd).await?,
            Err(e) => parse_error_reply("", &e).into(),
        };
        let mut shown = format!("@{me}> {line}\n{}\n", indent(&to_text(&outcome.reply)));
        for n in &outcome.notices {
            shown.push_str(&format!(
                "  → DM to @{}:\n{}\n",
                n.to_external,
                indent(&indent(&to_text(&n.reply)))
            ));
        }
        shown.push('\n');
        out.write_all(shown.as_bytes()).await?;
        out.flush().await?;
    }
    Ok(())
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_names_become_mentions_but_email_addresses_do_not() {
        assert_eq!(
            mentions_to_platform_form("add @rahul #goals x"),
            "add <@rahul> #goals x"
        );
        assert_eq!(
            mentions_to_platform_form("setup @anna.k weekly on mon"),
            "setup <@anna.k> weekly on mon"
        );
        assert_eq!(
            mentions_to_platform_form("request bob@example.com"),
            "request bob@example.com"
        );
        assert_eq!(mentions_to_platform_form("add hi @"), "add hi @");
        assert_eq!(mentions_to_platform_form("add @rahul. done"), "add <@rahul>. done");
    }
}
