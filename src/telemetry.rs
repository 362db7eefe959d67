//! Logging and metrics set-up, in one place: `tracing` with `RUST_LOG`
//! filtering, text for people and JSON for log pipelines
//! (`ONEONONE_LOG_FORMAT=json`); Prometheus metrics in [`metrics`].
//!
//! In JSON every line carries the spans it happened in (`span` for the
//! innermost, `spans` for all of them, outermost first), so a line logged
//! while answering a request carries that request's `request_id` (set by the
//! HTTP layer from `x-request-id`), whichever inner span it was logged in.
//! Rule for every log line in the crate: never a request body, token or signature.

pub mod metrics;

use crate::config::LogFormat;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal: a log file or pipeline gets
    // plain text (and formatting each request's span costs less without them).
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // try_init: a second call (tests, the console) is harmless.
    let _ = subscriber(format, filter, std::io::stderr, ansi).try_init();
}

/// The subscriber `init` installs, writing to `writer` (tests capture it),
/// text with ANSI colours when `ansi`.
pub fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    writer: W,
    ansi: bool,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(ansi);
    match format {
        LogFormat::Text => Box::new(builder.finish()),
        LogFormat::Json => Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(true)
                .finish(),
        ),
    }
}
