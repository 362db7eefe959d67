//! The `oneonone` binary: parses the subcommand and hands over to the library.

use clap::{Parser, Subcommand};
use oneonone::{app, clock::Clock, config::RawConfig, console, http, store::Db, teams, telemetry};
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
}

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
        Cmd::TeamsPackage { .. } => Ok(()), // handled in `main`: no runtime needed
    }
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
