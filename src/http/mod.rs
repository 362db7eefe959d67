//! The HTTP surface: the router, its layers (trace span named by the matched
//! route, body limit, timeout), health and readiness, and the one `ApiError`.

mod health;
pub mod probe;

use crate::clock::Clock;
use crate::slack::SlackState;
use crate::store::Db;
use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::time::Duration;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Bodies over this are refused with 413 (SPEC §3).
pub const MAX_BODY_BYTES: usize = 1 << 20;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub clock: Clock,
}

pub fn router(state: AppState, slack: Option<SlackState>, teams: Option<crate::teams::TeamsState>) -> Router {
    let mut router = Router::new()
        .route("/healthz", axum::routing::get(health::healthz))
        .route("/readyz", axum::routing::get(health::readyz))
        .with_state(state.clone());
    if let Some(slack) = slack {
        router = router.merge(crate::slack::routes(state.clone(), slack));
    }
    if let Some(teams) = teams {
        router = router.merge(crate::teams::routes(state, teams));
    }
    router
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            Duration::from_secs(10),
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let route = req
                .extensions()
                .get::<MatchedPath>()
                .map_or("unmatched", |p| p.as_str())
                .to_string();
            tracing::info_span!("request", http.method = %req.method(), http.route = %route)
        }))
}

/// A failure on our side. The cause is logged once here; the caller gets a
/// constant body that reveals nothing.
#[derive(Debug)]
pub struct ApiError(pub anyhow::Error);

impl<E: Into<anyhow::Error>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        tracing::error!(error = format!("{:#}", self.0), "request failed");
        (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
    }
}
