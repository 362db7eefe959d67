//! Builds the service from a `Config`: connects and migrates the database,
//! binds the listener, assembles the router. `main` and the tests build the
//! same `App` (tests on port 0 with a frozen clock and a fake Slack).

use crate::clock::Clock;
use crate::config::Config;
use crate::http;
use crate::slack;
use crate::store::Db;
use anyhow::Context;
use std::future::Future;
use tokio::net::TcpListener;

pub struct App {
    listener: TcpListener,
    router: axum::Router,
    db: Db,
    port: u16,
}

impl App {
    pub async fn build(config: Config, clock: Clock) -> anyhow::Result<App> {
        let db = Db::connect(&config.database_url)
            .await
            .with_context(|| format!("cannot open the database ({})", redact_url(&config.database_url)))?;
        App::with_db(config, db, clock).await
    }

    /// Builds the app on an already opened database (tests hand in a fresh one).
    pub async fn with_db(config: Config, db: Db, clock: Clock) -> anyhow::Result<App> {
        db.migrate().await.context("cannot apply the database migrations")?;

        let slack = match &config.slack {
            Some(sc) => Some(slack::SlackState::new(sc, clock.clone())?),
            None => {
                tracing::warn!("Slack is off: SLACK_SIGNING_SECRET is not set");
                None
            }
        };
        let router = http::router(
            http::AppState {
                db: db.clone(),
                clock: clock.clone(),
            },
            slack,
        );
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {} (ONEONONE_LISTEN)", config.listen))?;
        let port = listener.local_addr()?.port();
        tracing::info!(%port, db.engine = db.engine(), "oneonone is ready");
        Ok(App {
            listener,
            router,
            db,
            port,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .context("the HTTP server stopped with an error")?;
        self.db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received, shutting down"),
        _ = term => tracing::info!("SIGTERM received, shutting down"),
    }
}

/// A database URL without its password, for error messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_passwords_are_redacted() {
        assert_eq!(super::redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
