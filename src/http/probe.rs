//! `oneonone healthcheck`: one `GET /healthz` against a running `serve`, for
//! container health checks. The runtime image (distroless) has no shell and no
//! curl, so the binary probes itself: exit 0 when the answer is a 2xx, 1 when
//! it is anything else, or nothing within [`PROBE_TIMEOUT`].
//!
//! A client only: it owns no state and uses nothing of the service but the
//! rustls provider that every `reqwest::Client` in the process needs.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// How long one probe waits for the answer (connect included). The
/// Dockerfile's `HEALTHCHECK --timeout` is longer, so a slow server is
/// reported by us, with a reason, rather than killed by Docker.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Why the service is not healthy, in one line.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("--url: {0}")]
    BadUrl(String),
    #[error("cannot build the HTTP client")]
    Client(#[source] reqwest::Error),
    #[error("GET {url}: no answer")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("GET {url}: {status}")]
    Unhealthy { url: String, status: reqwest::StatusCode },
}

/// The `/healthz` URL of a server listening on `listen`. A server listening
/// on every address (`0.0.0.0`, `[::]`) is probed on loopback: inside a
/// container that is the server itself.
pub fn healthz_url(listen: SocketAddr) -> String {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}/healthz", SocketAddr::new(ip, listen.port()))
}

/// One GET of `url` (plain `http://`); `Ok` with the status when it is a 2xx.
pub async fn probe(url: &str, timeout: Duration) -> Result<reqwest::StatusCode, ProbeError> {
    let parsed = url::Url::parse(url).map_err(|e| ProbeError::BadUrl(format!("not a URL ({e})")))?;
    if parsed.scheme() != "http" {
        return Err(ProbeError::BadUrl(
            "expected a plain http:// URL (the probe talks to the server directly, not through TLS)".into(),
        ));
    }
    crate::teams::connector::install_crypto_provider();
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        // A redirect is an answer, not health; a proxy from the environment
        // would probe something else than this server.
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .map_err(ProbeError::Client)?;
    let response = client
        .get(parsed)
        .send()
        .await
        .map_err(|source| ProbeError::Unreachable {
            url: url.to_string(),
            source: source.without_url(),
        })?;
    let status = response.status();
    if status.is_success() {
        Ok(status)
    } else {
        Err(ProbeError::Unhealthy {
            url: url.to_string(),
            status,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_on_every_address_is_probed_on_loopback() {
        let url = |s: &str| healthz_url(s.parse().unwrap());
        assert_eq!(url("0.0.0.0:3000"), "http://127.0.0.1:3000/healthz");
        assert_eq!(url("[::]:8080"), "http://[::1]:8080/healthz");
        assert_eq!(url("10.0.0.5:3000"), "http://10.0.0.5:3000/healthz");
        assert_eq!(url("[fd00::1]:3000"), "http://[fd00::1]:3000/healthz");
    }

    #[tokio::test]
    async fn only_plain_http_urls_are_probed() {
        for url in ["https://127.0.0.1:3000/healthz", "127.0.0.1:3000", "not a url"] {
            let err = probe(url, PROBE_TIMEOUT).await.unwrap_err();
            assert!(matches!(err, ProbeError::BadUrl(_)), "{url}: {err}");
            assert!(err.to_string().starts_with("--url: "), "{err}");
        }
    }
}
