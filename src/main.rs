//! The `oneonone` binary: parses the subcommand and hands over to the library.

use clap::{Parser, Subcommand};
use oneonone::{app, clock::Clock, config::RawConfig, console, http, lifecycle, store::Db, teams, telemetry};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "oneonone", version, about = "Slack and Teams bot for good 1:1 meetings")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the HTTP service (Slack webhooks, health).
    Serve {
        #[command(flatten)]
        config: RawConfig,
    },
    /// Apply the database migrations and exit.
    Migrate {
        #[command(flatten)]
        config: RawConfig,
    },
    /// Run exactly one scheduler pass and exit (for cron-style deployments and tests).
    Tick {
        /// Run the pass as if the clock read this instant (RFC 3339).
        #[arg(long)]
        now: Option<String>,
        #[command(flatten)]
        config: RawConfig,
    },
    /// Probe a running `serve` (GET /healthz): exit 0 if healthy, 1 if not.
    ///
    /// For container health checks: the image has no shell or curl. Healthy is a
    /// 2xx answer before the probe's timeout (3 s).
    Healthcheck {
        /// The URL to probe [default: /healthz on ONEONONE_LISTEN, on loopback if that is 0.0.0.0 or [::]]
        #[arg(long)]
        url: Option<String>,
        /// The listen address of the server to probe, as given to `serve`
        #[arg(long, env = "ONEONONE_LISTEN")]
        listen: Option<String>,
    },
    /// A local playground: type commands, see the replies. No chat workspace needed.
    Console(console::ConsoleArgs),
    /// Build the Teams app package (manifest and icons in a zip) for your Azure Bot.
    TeamsPackage {
        /// The Azure Bot's Microsoft App ID (a GUID).
        #[arg(long, env = "MICROSOFT_APP_ID")]
        app_id: String,
        /// Where to write the zip.
        #[arg(long, default_value = "oneonone-teams.zip")]
        out: PathBuf,
        /// A directory with your own manifest.json and icons (default: the ones built in).
        #[arg(long)]
        manifests: Option<PathBuf>,
    },
    /// Write a workspace's data, or one person's, as JSON (README "Backups and your data").
    ///
    /// Without --person: every 1:1, meeting, talking point, comment, action item and
    /// rating of the workspace, and nobody's private notes (they are private). With
    /// --person: only that person's 1:1s, with their own private notes and ratings.
    Export {
        /// The workspace: Slack team id (T…), Teams tenant id, console name, or numeric id.
        #[arg(long)]
        workspace: String,
        /// The person: Slack user id (U…), Teams id (29:…) or Entra object id, e-mail, or numeric id.
        #[arg(long)]
        person: Option<String>,
        /// Write to this file (atomically: a temporary file, then a rename) instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        config: RawConfig,
    },
    /// Erase a person for good (right to erasure), keeping their partners' own data.
    ///
    /// In one transaction: their private notes, ratings, comments, talking points,
    /// action items they own, meeting requests, notification records and Teams
    /// conversation reference are deleted; a talking point of theirs under which the
    /// partner commented keeps its place with its text removed; action items they gave
    /// the partner stay the partner's; their 1:1s end and stay in the partner's history
    /// with "a former member" on the other side; name, e-mail, platform id and settings
    /// are erased. Asks first unless --yes; running it again changes nothing.
    PurgePerson {
        /// The workspace: Slack team id (T…), Teams tenant id, console name, or numeric id.
        #[arg(long)]
        workspace: String,
        /// The person: Slack user id (U…), Teams id (29:…) or Entra object id, e-mail, or
        /// numeric id (once erased, a person is found by numeric id only).
        #[arg(long)]
        person: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        config: RawConfig,
    },
    /// Copy a live SQLite database into a new file (VACUUM INTO); PostgreSQL: use pg_dump.
    Backup {
        /// The new backup file (must not exist).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        config: RawConfig,
    },
}

/// mimalloc: less time in the allocator than glibc's on the request paths
/// (BENCHMARKS.md), and freed memory goes back to the system sooner.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Cmd::TeamsPackage { app_id, out, manifests } = &cli.command {
        return teams_package(app_id, out, manifests.as_deref());
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        // The operator's request cannot be carried out as given: exit 2, like a usage error.
        Err(e) if e.downcast_ref::<lifecycle::Refusal>().is_some() => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Cmd::Serve { config } => {
            let config = config.into_config()?;
            telemetry::init(config.log_format);
            let app = app::App::build(config, Clock::system()).await?;
            app.run_until_stopped(app::shutdown_signal()).await
        }
        Cmd::Migrate { config } => {
            let url = config.database_url()?;
            telemetry::init(config.log_format()?);
            let db = Db::connect(&url).await?;
            db.migrate().await?;
            tracing::info!(db.engine = db.engine(), "migrations applied");
            db.close().await;
            Ok(())
        }
        Cmd::Tick { now, config } => {
            let config = config.into_config()?;
            telemetry::init(config.log_format);
            let now = match now {
                Some(s) => chrono::DateTime::parse_from_rfc3339(&s)
                    .map_err(|e| anyhow::anyhow!("--now: expected RFC 3339 like 2026-11-30T09:00:00Z ({e})"))?
                    .with_timezone(&chrono::Utc),
                None => Clock::system().now(),
            };
            app::tick(config, now).await
        }
        Cmd::Healthcheck { url, listen } => {
            let url = match url {
                Some(url) => url,
                None => http::probe::healthz_url(
                    RawConfig {
                        listen,
                        ..RawConfig::default()
                    }
                    .listen()?,
                ),
            };
            let status = http::probe::probe(&url, http::probe::PROBE_TIMEOUT).await?;
            println!("GET {url}: {status}");
            Ok(())
        }
        Cmd::Console(args) => console::run(args).await,
        Cmd::Export {
            workspace,
            person,
            out,
            config,
        } => {
            let db = open_migrated(&config).await?;
            let ws = lifecycle::find_workspace(&db, &workspace).await?;
            let person = match person {
                Some(p) => Some(lifecycle::find_person(&db, &ws, &p).await?),
                None => None,
            };
            let export = lifecycle::export(&db, &ws, person.as_ref(), Clock::system().now()).await?;
            db.close().await;
            let mut json = serde_json::to_vec_pretty(&export)?;
            json.push(b'\n');
            match out {
                Some(path) => lifecycle::write_atomically(&path, &json),
                None => {
                    use std::io::Write;
                    std::io::stdout().write_all(&json)?;
                    Ok(())
                }
            }
        }
        Cmd::PurgePerson {
            workspace,
            person,
            yes,
            config,
        } => {
            let db = open_migrated(&config).await?;
            let ws = lifecycle::find_workspace(&db, &workspace).await?;
            let p = lifecycle::find_person(&db, &ws, &person).await?;
            if !yes {
                use tokio::io::AsyncBufReadExt;
                eprint!("{}", lifecycle::purge_question(&ws, &p));
                let mut answer = String::new();
                tokio::io::BufReader::new(tokio::io::stdin())
                    .read_line(&mut answer)
                    .await?;
                if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                    eprintln!(); // a terminal echoed the answer and its newline; a pipe did not
                }
                if !lifecycle::confirmed(&answer) {
                    return Err(lifecycle::Refusal::NotConfirmed.into());
                }
            }
            let summary = lifecycle::purge(&db, &ws, &p).await?;
            db.close().await;
            println!("{summary}");
            Ok(())
        }
        Cmd::Backup { out, config } => {
            let db = open_migrated(&config).await?;
            let summary = lifecycle::backup(&db, &out).await;
            db.close().await;
            println!("{}", summary?);
            Ok(())
        }
        Cmd::TeamsPackage { .. } => Ok(()), // handled in `main`: no runtime needed
    }
}

/// The database of `config` for an operator's command: logs on stderr (stdout
/// may carry an export), and a database that was never migrated is an error.
async fn open_migrated(config: &RawConfig) -> anyhow::Result<Db> {
    let url = config.database_url()?;
    telemetry::init(config.log_format()?);
    let db = Db::connect(&url).await?;
    if !db.is_migrated().await? {
        db.close().await;
        anyhow::bail!("the database is not migrated (or not oneonone's): run `oneonone migrate` first");
    }
    Ok(db)
}

/// Writes the Teams app package; a refusal is one line and exit code 2, like a usage error.
fn teams_package(app_id: &str, out: &Path, manifests: Option<&Path>) -> ExitCode {
    let built = match manifests {
        Some(dir) => teams::package::build_package(dir, app_id, out),
        None => teams::package::build_bundled_package(app_id, out),
    };
    match built {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {:#}", anyhow::Error::from(e));
            ExitCode::from(2)
        }
    }
}
