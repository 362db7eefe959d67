//! `GET /metrics` (Prometheus text format), the layer that counts and times
//! every request by its route template, and the request-id rules.
//!
//! `/metrics` is served on the service's own port, as SPEC §3 lists it. It
//! shows counts only (no user text, ids or paths), but operators should keep
//! it off the internet: let the reverse proxy or ingress route only `/slack/*`
//! and `/api/messages` publicly (see README "Monitoring").

use super::AppState;
use crate::domain::model::{DeliveryKind, DeliveryState};
use crate::telemetry::metrics::{self as m, Snapshot};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::{Duration, Instant};

/// The header that carries a request's id, in and out.
pub const REQUEST_ID: &str = "x-request-id";

/// Counts and times one request under its matched route template; a path
/// that matched no route is counted as "unmatched", never by its raw path.
pub async fn track(req: Request, next: Next) -> Response {
    // The template is kept as axum keeps it (a shared string): no copy.
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = method_label(req.method());
    let started = Instant::now();
    let res = next.run(req).await;
    let route = route.as_ref().map_or("unmatched", |p| p.as_str());
    m::http_request(route, method, res.status().as_u16(), started.elapsed());
    res
}

/// The method label of a request: a standard method, or "other" (a client
/// may send any token as a method, and labels must stay a closed set).
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

/// Drops an incoming `x-request-id` (from a proxy, or anyone) unless it is a
/// single short value of safe characters; the next layer then makes a new
/// one. The id goes into every log line of the request and back to the
/// caller, so it must not be able to forge log structure or grow without bound.
pub fn drop_unsafe_request_id(mut req: Request) -> Request {
    let headers = req.headers_mut();
    let mut values = headers.get_all(REQUEST_ID).iter();
    let keep = match (values.next(), values.next()) {
        (Some(v), None) => is_safe_request_id(v),
        (None, _) => true,
        (Some(_), Some(_)) => false,
    };
    if !keep {
        headers.remove(REQUEST_ID);
    }
    req
}

/// 1 to 64 characters of `A-Z a-z 0-9 - _ .` (a UUID, a proxy's trace id).
pub fn is_safe_request_id(v: &HeaderValue) -> bool {
    let b = v.as_bytes();
    (1..=64).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// Scrapes are one at a time: the database-derived gauges are set and
/// rendered together, so a scrape shows this app's database even when one
/// process runs several apps (the tests).
static SCRAPE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `GET /metrics`: the counters and histograms recorded so far, plus gauges
/// read now (queue by state, scheduler lag, pool use). A database that does
/// not answer leaves those gauges as they were and is logged; the rest is
/// still served, so the scrape itself shows the outage in request errors.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let handle = m::handle();
    let _one = SCRAPE.lock().await;
    match snapshot(&state).await {
        Ok(s) => m::set_gauges(&s),
        Err(e) => tracing::warn!(error = %e, "metrics: cannot read the delivery queue"),
    }
    let body = handle.render();
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn snapshot(state: &AppState) -> Result<Snapshot, crate::store::StoreError> {
    let pool = state.db.pool_stats();
    let now = state.clock.now();
    let counts = state.db.delivery_counts().await?;
    let mut deliveries = Vec::with_capacity(DeliveryKind::ALL.len() * DeliveryState::ALL.len());
    // Every pair, zeros included: a state that empties must read 0, not its last value.
    for kind in DeliveryKind::ALL {
        for st in DeliveryState::ALL {
            let n = counts
                .iter()
                .find(|(k, s, _)| *k == kind && *s == st)
                .map_or(0, |(_, _, n)| *n);
            deliveries.push((kind.as_str(), st.as_str(), n));
        }
    }
    let lag = match state.db.oldest_due_pending(now).await? {
        Some(due) => (now - due).to_std().unwrap_or(Duration::ZERO),
        None => Duration::ZERO,
    };
    Ok(Snapshot {
        deliveries,
        lag,
        pool_in_use: pool.in_use,
        pool_idle: pool.idle,
        pool_max: pool.max,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_http_methods_share_one_label() {
        let custom = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&custom), "other");
        assert_eq!(method_label(&Method::POST), "POST");
    }

    #[test]
    fn only_short_plain_request_ids_are_kept() {
        for ok in [
            "abc",
            "0f8e1f6c-9a7c-4c2e-8f4e-3c1d2b5a6e7f",
            "1-5759e988-bd862e3f.e1be_x",
            &"a".repeat(64),
        ] {
            assert!(is_safe_request_id(&HeaderValue::from_str(ok).unwrap()), "{ok}");
        }
        for bad in [
            "",
            "a b",
            "id\"},{\"level\":\"ERROR",
            "<script>",
            "é",
            "a/b",
            &"a".repeat(65),
        ] {
            let v = HeaderValue::from_bytes(bad.as_bytes()).unwrap();
            assert!(!is_safe_request_id(&v), "{bad:?}");
        }
    }

    #[test]
    fn a_repeated_request_id_header_is_dropped() {
        let mut req = Request::new(axum::body::Body::empty());
        req.headers_mut().append(REQUEST_ID, HeaderValue::from_static("one"));
        req.headers_mut().append(REQUEST_ID, HeaderValue::from_static("two"));
        assert!(drop_unsafe_request_id(req).headers().get(REQUEST_ID).is_none());
        let mut req = Request::new(axum::body::Body::empty());
        req.headers_mut().insert(REQUEST_ID, HeaderValue::from_static("one"));
        assert_eq!(drop_unsafe_request_id(req).headers()[REQUEST_ID], "one");
    }
}
