//! `/healthz` (the process is up) and `/readyz` (the database answers and is migrated).

use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.db.ping().await {
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
        Ok(()) => match state.db.is_migrated().await {
            Ok(true) => (StatusCode::OK, "ready"),
            Ok(false) => (StatusCode::SERVICE_UNAVAILABLE, "database not migrated"),
            Err(e) => {
                tracing::warn!(error = %e, "readiness: migration check failed");
                (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
            }
        },
    }
}
