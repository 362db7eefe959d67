//! The HTTP surface: the router, its layers (request id, trace span named by
//! the matched route, metrics, timeout, body limit), health and readiness,
//! `/metrics`, and the one `ApiError`.

mod health;
pub mod metrics;
pub mod probe;

use crate::clock::Clock;
use crate::slack::SlackState;
use crate::store::Db;
use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::time::Duration;
use tower::util::MapRequestLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
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
    // Install the metrics recorder before the first request is counted.
    crate::telemetry::metrics::handle();
    let mut router = Router::new()
        .route("/healthz", axum::routing::get(health::healthz))
        .route("/readyz", axum::routing::get(health::readyz))
        .route("/metrics", axum::routing::get(metrics::metrics))
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
        // Outside the timeout, so a 504 is counted too.
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let route = req
                .extensions()
                .get::<MatchedPath>()
                .map_or("unmatched", |p| p.as_str());
            // Set by the layers below (outer); safe to log by construction.
            let id = req
                .headers()
                .get(metrics::REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            tracing::info_span!("request", http.method = %req.method(), http.route = %route, request_id = %id)
        }))
        // Request ids, outermost: an unsafe incoming id is dropped, a missing
        // one made (a UUID), and the id is echoed on the response.
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(MapRequestLayer::new(metrics::drop_unsafe_request_id))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LogFormat;
    use axum::body::Body;
    use std::sync::{Arc, Mutex};
    use tower::ServiceExt;
    use tracing_subscriber::EnvFilter;

    /// A log writer into memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    impl Captured {
        /// A capture installed as this thread's subscriber (as `init` builds
        /// it) until the guard is dropped.
        fn install(format: LogFormat, filter: &str, ansi: bool) -> (Captured, tracing::subscriber::DefaultGuard) {
            let logs = Captured::default();
            let subscriber = crate::telemetry::subscriber(format, EnvFilter::new(filter), logs.clone(), ansi);
            (logs, tracing::subscriber::set_default(subscriber))
        }

        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }

        fn lines(&self) -> Vec<serde_json::Value> {
            self.text()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
                .collect()
        }
    }

    /// `GET /readyz`, with this `x-request-id` if any.
    fn readyz(request_id: Option<&str>) -> Request {
        let mut req = Request::builder().uri("/readyz");
        if let Some(id) = request_id {
            req = req.header("x-request-id", id);
        }
        req.body(Body::empty()).unwrap()
    }

    /// The `request_id` of the request span among a JSON line's spans.
    fn request_id(line: &serde_json::Value) -> Option<&str> {
        line["spans"]
            .as_array()?
            .iter()
            .find(|s| s["name"] == "request")
            .and_then(|s| s["request_id"].as_str())
    }

    /// The router on a closed database: `/readyz` then logs a warning from
    /// inside the handler.
    async fn app_that_warns_on_readyz() -> Router {
        let db = crate::store::testing::fresh_sqlite().await;
        let clock = Clock::frozen(chrono::DateTime::from_timestamp(1_796_000_000, 0).unwrap());
        let app = router(AppState { db: db.clone(), clock }, None, None);
        db.close().await;
        app
    }

    #[tokio::test]
    async fn json_log_lines_of_a_request_carry_its_request_id() {
        let app = app_that_warns_on_readyz().await;
        let (logs, _scope) = Captured::install(LogFormat::Json, "debug", false);

        let res = app.clone().oneshot(readyz(Some("edge-42"))).await.unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers()["x-request-id"], "edge-42");
        let res = app.oneshot(readyz(None)).await.unwrap();
        let made = res.headers()["x-request-id"].to_str().unwrap().to_string();
        assert_eq!(made.len(), 36, "a UUID: {made}");

        let lines = logs.lines();
        let warnings: Vec<_> = lines
            .iter()
            .filter(|l| l["message"] == "readiness: database unreachable")
            .collect();
        assert_eq!(warnings.len(), 2, "{lines:#?}");
        assert_eq!(request_id(warnings[0]), Some("edge-42"), "{}", warnings[0]);
        assert_eq!(request_id(warnings[1]), Some(made.as_str()), "{}", warnings[1]);
        // The innermost span is shown too, with the route and the id.
        assert_eq!(warnings[0]["span"]["http.route"], "/readyz");
        assert_eq!(warnings[0]["span"]["request_id"], "edge-42");
        // Every line logged inside a request span carries an id.
        for l in lines.iter().filter(|l| l["spans"].is_array()) {
            assert!(request_id(l).is_some(), "{l}");
        }
    }

    /// Text logs carry the request's span too, and colour codes only when
    /// asked for (`init` asks only when stderr is a terminal).
    #[tokio::test]
    async fn text_log_lines_name_their_request_and_are_plain_unless_colours_are_asked_for() {
        let app = app_that_warns_on_readyz().await;
        for ansi in [false, true] {
            let (logs, _scope) = Captured::install(LogFormat::Text, "info", ansi);
            app.clone().oneshot(readyz(Some("edge-7"))).await.unwrap();
            let text = logs.text();
            let line = text
                .lines()
                .find(|l| l.contains("readiness: database unreachable"))
                .unwrap_or_else(|| panic!("no warning logged: {text}"));
            assert!(line.contains("edge-7"), "{line}");
            assert_eq!(line.contains('\x1b'), ansi, "{line:?}");
        }
    }
}
