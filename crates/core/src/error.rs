//! The one error type of extraction, with the context an operator needs to act.
//!
//! URLs in errors are [`SafeUrl`]s: scheme, host, port and path only. Query strings and
//! user information are dropped because bookmakers put keys and tokens there.

use std::fmt;
use std::time::Duration;

use url::Url;

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A URL stripped of user information and query, safe to log.
#[derive(Clone, PartialEq, Eq)]
pub struct SafeUrl(String);

impl SafeUrl {
    /// Returns the scheme, host, port and path of `url`.
    pub fn new(url: &Url) -> Self {
        let mut text = String::with_capacity(url.as_str().len());
        text.push_str(url.scheme());
        text.push_str("://");
        text.push_str(url.host_str().unwrap_or(""));
        if let Some(port) = url.port() {
            text.push(':');
            text.push_str(&port.to_string());
        }
        text.push_str(url.path());
        Self(text)
    }

    /// Returns the text of the URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SafeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SafeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// The bookmaker, operation and URL an error concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// Registered bookmaker name, such as `unibet`.
    pub bookmaker: &'static str,
    /// The operation, such as `fetch event` or `list events`.
    pub operation: &'static str,
    /// The request URL, when the error concerns one.
    pub url: Option<SafeUrl>,
}

impl Context {
    /// Builds a context without a URL.
    pub fn new(bookmaker: &'static str, operation: &'static str) -> Self {
        Self {
            bookmaker,
            operation,
            url: None,
        }
    }

    /// Returns this context with the (stripped) URL of a request.
    #[must_use]
    pub fn with_url(mut self, url: &Url) -> Self {
        self.url = Some(SafeUrl::new(url));
        self
    }
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.bookmaker, self.operation)?;
        if let Some(url) = &self.url {
            write!(f, " ({url})")?;
        }
        Ok(())
    }
}

/// Every way extraction can fail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request did not complete in time.
    #[error("{context}: timed out after {} ms", .after.as_millis())]
    Timeout {
        /// Bookmaker, operation and URL.
        context: Context,
        /// How long it waited.
        after: Duration,
    },

    /// The connection failed or broke before a full response arrived.
    #[error("{context}: connection failed: {message}")]
    Connect {
        /// Bookmaker, operation and URL.
        context: Context,
        /// The transport's description, without the URL.
        message: String,
    },

    /// The server responded with an HTTP error status.
    #[error("{context}: HTTP {status}{}", .retry_after.map(|d| format!(", retry after {} s", d.as_secs())).unwrap_or_default())]
    Status {
        /// Bookmaker, operation and URL.
        context: Context,
        /// HTTP status code.
        status: u16,
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },

    /// The bookmaker does not know the event.
    #[error("{context}: event {event:?} not found")]
    EventNotFound {
        /// Bookmaker, operation and URL.
        context: Context,
        /// The event id that was asked for.
        event: String,
    },

    /// The response was larger than the configured maximum.
    #[error("{context}: response exceeds the maximum of {limit} bytes (XTR_MAX_BODY)")]
    BodyTooLarge {
        /// Bookmaker, operation and URL.
        context: Context,
        /// The maximum, in bytes.
        limit: usize,
    },

    /// The response is not in the format the parser expects.
    #[error("{context}: malformed response: {detail}")]
    Malformed {
        /// Bookmaker, operation and URL.
        context: Context,
        /// The problem, for example serde's message with line and column.
        detail: String,
    },

    /// The bookmaker's extractor does not extract this market kind.
    #[error("{bookmaker} does not support market kind {kind}; it supports {supported}")]
    UnsupportedMarket {
        /// Registered bookmaker name.
        bookmaker: &'static str,
        /// The kind that was asked for.
        kind: String,
        /// The kinds it supports, comma-separated.
        supported: String,
    },

    /// A job entry that cannot be run as written.
    #[error("invalid job: {reason}")]
    InvalidJob {
        /// The problem, naming the field.
        reason: String,
    },

    /// A setting the operation needs is not set.
    #[error("{context}: {variable} is not set")]
    MissingSetting {
        /// Bookmaker, operation and URL.
        context: Context,
        /// The environment variable to set.
        variable: String,
    },

    /// The bookmaker rejected the session or credentials (an expired session token, an
    /// invalid application key).
    #[error("{context}: the credentials were rejected ({code}); renew or correct {variable}")]
    SessionExpired {
        /// Bookmaker, operation and URL.
        context: Context,
        /// The bookmaker's error code.
        code: String,
        /// The environment variable that contains the credential.
        variable: &'static str,
    },

    /// The bookmaker reported a temporary failure inside a successful HTTP response
    /// (an API that responds 200 with an error code such as `SERVICE_BUSY`).
    #[error("{context}: temporarily unavailable ({code}){detail}")]
    Unavailable {
        /// Bookmaker, operation and URL.
        context: Context,
        /// The bookmaker's error code.
        code: String,
        /// Extra detail, empty or starting with ": ".
        detail: String,
    },

    /// The bookmaker rejected the request itself (bad input, too much data): retrying
    /// the same request fails the same way.
    #[error("{context}: the bookmaker rejected the request ({code}){detail}")]
    Rejected {
        /// Bookmaker, operation and URL.
        context: Context,
        /// The bookmaker's error code.
        code: String,
        /// Extra detail, empty or starting with ": ".
        detail: String,
    },

    /// A request URL outside the bookmaker's configured base URL.
    #[error("{context}: refused to request a URL outside the configured base URL {base}")]
    ForbiddenUrl {
        /// Bookmaker, operation and the rejected URL.
        context: Context,
        /// The configured base URL.
        base: SafeUrl,
    },

    /// A configuration value is invalid.
    #[error("invalid {variable}={value}: expected {expected}")]
    InvalidConfig {
        /// The variable or key.
        variable: String,
        /// The value as given, quoted, or `<redacted>` for secrets.
        value: String,
        /// A description of a valid value.
        expected: String,
    },
}

impl Error {
    /// Returns whether the same request may succeed later: timeouts, connection
    /// failures, HTTP 429 and 5xx are transient. Everything else fails the same way
    /// every time and should not be retried.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Timeout { .. } | Error::Connect { .. } | Error::Unavailable { .. } => true,
            Error::Status { status, .. } => *status == 429 || (500..=599).contains(status),
            _ => false,
        }
    }

    /// Returns the delay the server asked for, when it sent `Retry-After`.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Returns the bookmaker the error concerns, when it concerns one.
    pub fn bookmaker(&self) -> Option<&'static str> {
        match self {
            Error::Timeout { context, .. }
            | Error::Connect { context, .. }
            | Error::Status { context, .. }
            | Error::EventNotFound { context, .. }
            | Error::BodyTooLarge { context, .. }
            | Error::Malformed { context, .. }
            | Error::MissingSetting { context, .. }
            | Error::SessionExpired { context, .. }
            | Error::Unavailable { context, .. }
            | Error::Rejected { context, .. }
            | Error::ForbiddenUrl { context, .. } => Some(context.bookmaker),
            Error::UnsupportedMarket { bookmaker, .. } => Some(bookmaker),
            Error::InvalidJob { .. } | Error::InvalidConfig { .. } => None,
        }
    }

    /// Returns a short stable name of the variant, for metrics and dead-letter fields.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Timeout { .. } => "timeout",
            Error::Connect { .. } => "connect",
            Error::Status { .. } => "http_status",
            Error::EventNotFound { .. } => "event_not_found",
            Error::BodyTooLarge { .. } => "body_too_large",
            Error::Malformed { .. } => "malformed",
            Error::UnsupportedMarket { .. } => "unsupported_market",
            Error::InvalidJob { .. } => "invalid_job",
            Error::MissingSetting { .. } => "missing_setting",
            Error::SessionExpired { .. } => "session_expired",
            Error::Unavailable { .. } => "unavailable",
            Error::Rejected { .. } => "rejected",
            Error::ForbiddenUrl { .. } => "forbidden_url",
            Error::InvalidConfig { .. } => "invalid_config",
        }
    }

    /// Builds a [`Error::Malformed`] from a serde_json error, keeping its line and column.
    pub fn malformed(context: Context, error: &serde_json::Error) -> Self {
        Error::Malformed {
            context,
            detail: error.to_string(),
        }
    }

    /// Builds an [`Error::InvalidJob`].
    pub fn invalid_job(reason: impl Into<String>) -> Self {
        Error::InvalidJob {
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> Context {
        let url = Url::parse("https://user:pw@api.example/v1/event/1.json?key=secret").unwrap();
        Context::new("unibet", "fetch event").with_url(&url)
    }

    #[test]
    fn safe_url_drops_query_and_credentials() {
        let text = context().to_string();
        assert_eq!(
            text,
            "unibet fetch event (https://api.example/v1/event/1.json)"
        );
        assert!(!text.contains("secret"));
        assert!(!text.contains("pw"));
    }

    #[test]
    fn transient_classification() {
        let status = |status| Error::Status {
            context: context(),
            status,
            retry_after: None,
        };
        assert!(status(429).is_transient());
        assert!(status(500).is_transient());
        assert!(status(503).is_transient());
        assert!(!status(404).is_transient());
        assert!(!status(400).is_transient());
        let timeout = Error::Timeout {
            context: context(),
            after: Duration::from_secs(5),
        };
        assert!(timeout.is_transient());
        assert!(
            Error::Connect {
                context: context(),
                message: "refused".into()
            }
            .is_transient()
        );
        assert!(!Error::invalid_job("missing field event").is_transient());
        let malformed = Error::Malformed {
            context: context(),
            detail: "expected value".into(),
        };
        assert!(!malformed.is_transient());
        let not_found = Error::EventNotFound {
            context: context(),
            event: "1".into(),
        };
        assert!(!not_found.is_transient());
    }

    #[test]
    fn status_message_names_retry_after() {
        let error = Error::Status {
            context: context(),
            status: 429,
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(
            error.to_string(),
            "unibet fetch event (https://api.example/v1/event/1.json): HTTP 429, retry after 3 s"
        );
    }
}
