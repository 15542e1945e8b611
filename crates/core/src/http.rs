//! The HTTP client every extractor uses.
//!
//! It enforces three rules so that no extractor can forget them. Requests stay under
//! the bookmaker's configured base URL, redirects included. Bodies larger than
//! `XTR_MAX_BODY` are rejected while they stream in, before they are buffered. The
//! bookmaker's rate limit is respected. Transient failures are retried with exponential
//! backoff and jitter, honouring `Retry-After`; the caller bounds the total time.

use std::num::NonZeroU32;
use std::sync::{Arc, Once, OnceLock};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use secrecy::ExposeSecret;
use url::Url;

use crate::config::{BookmakerConfig, HttpSettings};

use crate::error::{Context, Error, Result, SafeUrl};
use crate::record::{Recorder, Recording};
pub use reqwest::Method;
pub use reqwest::header;

/// Attempts of one request, the first included, when failures are transient.
pub const MAX_ATTEMPTS: u32 = 4;

/// First retry delay; each later one doubles, with up to 50% jitter.
const RETRY_BASE_DELAY: Duration = Duration::from_millis(200);

/// Longest `Retry-After` honoured; a longer one is treated as this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Redirects followed, each of which must stay under the base URL.
const MAX_REDIRECTS: usize = 3;

static CRYPTO_PROVIDER: Once = Once::new();

/// Receives the bookmaker, HTTP status (none when no response arrived) and duration of
/// every request attempt, for metrics.
pub type RequestObserver = Arc<dyn Fn(&'static str, Option<u16>, Duration) + Send + Sync>;

static REQUEST_OBSERVER: OnceLock<RequestObserver> = OnceLock::new();

/// Installs the process-wide request observer; later calls are ignored, because metrics
/// are registered once per process.
pub fn set_request_observer(observer: RequestObserver) {
    let _ = REQUEST_OBSERVER.set(observer);
}

fn observe_request(bookmaker: &'static str, status: Option<u16>, started: std::time::Instant) {
    if let Some(observer) = REQUEST_OBSERVER.get() {
        observer(bookmaker, status, started.elapsed());
    }
}

/// Installs rustls' ring provider once per process, because reqwest is built without a
/// provider of its own (aws-lc-rs would add minutes to every build).
pub fn install_crypto_provider() {
    CRYPTO_PROVIDER.call_once(|| {
        // An error means another provider was installed first, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// One request to send: method, URL, headers and body.
#[derive(Debug)]
pub struct Request {
    /// HTTP method.
    pub method: Method,
    /// Full URL, built with [`BookmakerHttp::url`].
    pub url: Url,
    /// Extra headers.
    pub headers: HeaderMap,
    /// Body, for POST requests.
    pub body: Option<Bytes>,
}

impl Request {
    /// Builds a GET request.
    pub fn get(url: Url) -> Self {
        Self {
            method: Method::GET,
            url,
            headers: HeaderMap::new(),
            body: None,
        }
    }

    /// Builds a POST request with a JSON body.
    pub fn post_json(url: Url, body: Bytes) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(
            reqwest::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Self {
            method: Method::POST,
            url,
            headers,
            body: Some(body),
        }
    }

    /// Adds a header; a value marked sensitive is never shown by `Debug`.
    #[must_use]
    pub fn header(mut self, name: &'static str, mut value: HeaderValue, sensitive: bool) -> Self {
        value.set_sensitive(sensitive);
        self.headers.insert(name, value);
        self
    }
}

/// A bookmaker's HTTP client: its base URL, proxy, rate limit and body cap.
#[derive(Clone)]
pub struct BookmakerHttp {
    bookmaker: &'static str,
    base: Option<Url>,
    base_variable: String,
    client: reqwest::Client,
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
    max_body: usize,
    request_timeout: Duration,
    recorder: Option<Arc<Recorder>>,
}

impl std::fmt::Debug for BookmakerHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BookmakerHttp")
            .field("bookmaker", &self.bookmaker)
            .field("base", &self.base.as_ref().map(SafeUrl::new))
            .field("rate_limited", &self.limiter.is_some())
            .field("max_body", &self.max_body)
            .finish_non_exhaustive()
    }
}

impl BookmakerHttp {
    /// Builds the client of one bookmaker.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidConfig`] when the proxy URL is rejected by reqwest.
    pub fn new(config: &BookmakerConfig, settings: &HttpSettings) -> Result<Self> {
        install_crypto_provider();
        let base = config.base_url.clone();
        let base_for_redirects = base.clone();
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            let inside = base_for_redirects
                .as_ref()
                .is_some_and(|base| is_under(base, attempt.url()));
            if attempt.previous().len() >= MAX_REDIRECTS || !inside {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });

        let mut builder = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .redirect(policy);
        if let Some(proxy) = &config.proxy {
            let proxy =
                reqwest::Proxy::all(proxy.expose_secret()).map_err(|_| Error::InvalidConfig {
                    variable: config.variable("PROXY"),
                    value: "<redacted>".into(),
                    expected: "a proxy URL such as http://host:3128".into(),
                })?;
            builder = builder.proxy(proxy);
        } else {
            builder = builder.no_proxy();
        }
        let client = builder.build().map_err(|error| Error::InvalidConfig {
            variable: config.variable("BASE_URL"),
            value: "<client>".into(),
            expected: format!("settings reqwest accepts: {}", error.without_url()),
        })?;

        let limiter = config
            .rate_limit
            .map(|per_second| Arc::new(RateLimiter::direct(quota(per_second))));

        Ok(Self {
            bookmaker: config.name,
            base,
            base_variable: config.variable("BASE_URL"),
            client,
            limiter,
            max_body: settings.max_body,
            request_timeout: settings.request_timeout,
            recorder: settings
                .record_dir
                .as_ref()
                .map(|dir| Arc::new(Recorder::new(dir.clone(), settings.record_max_files))),
        })
    }

    /// Returns the bookmaker name.
    pub fn bookmaker(&self) -> &'static str {
        self.bookmaker
    }

    /// Returns whether a rate limit is configured.
    pub fn has_rate_limit(&self) -> bool {
        self.limiter.is_some()
    }

    /// Returns the base URL.
    ///
    /// # Errors
    ///
    /// Returns [`Error::MissingSetting`] naming `XTR_<BOOKMAKER>_BASE_URL` when the
    /// bookmaker has no public host and none is configured.
    pub fn base(&self, operation: &'static str) -> Result<&Url> {
        self.base.as_ref().ok_or_else(|| Error::MissingSetting {
            context: Context::new(self.bookmaker, operation),
            variable: self.base_variable.clone(),
        })
    }

    /// Builds a URL under the base: each segment is percent-encoded as one path
    /// segment, so an id can never add a segment, climb out with `..` or start a query.
    ///
    /// # Errors
    ///
    /// Returns [`Error::MissingSetting`] when no base URL is configured.
    pub fn url(
        &self,
        operation: &'static str,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<Url> {
        let mut url = self.base(operation)?.clone();
        {
            let mut path = url
                .path_segments_mut()
                .map_err(|()| Error::MissingSetting {
                    context: Context::new(self.bookmaker, operation),
                    variable: self.base_variable.clone(),
                })?;
            path.pop_if_empty();
            for segment in segments {
                path.push(segment);
            }
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// Sends a request and returns the body of a 2xx response, retrying transient
    /// failures up to [`MAX_ATTEMPTS`] times.
    ///
    /// # Errors
    ///
    /// Returns [`Error::ForbiddenUrl`] for a URL outside the base, [`Error::Status`] for
    /// a non-2xx status (404 included: the extractor decides what a 404 means),
    /// [`Error::BodyTooLarge`], [`Error::Timeout`] and [`Error::Connect`].
    pub async fn send(&self, operation: &'static str, request: Request) -> Result<Bytes> {
        let mut attempt = 1;
        loop {
            match self.send_once(operation, &request).await {
                Ok(body) => return Ok(body),
                Err(error) if error.is_transient() && attempt < MAX_ATTEMPTS => {
                    let delay = retry_delay(attempt, error.retry_after());
                    tracing::warn!(
                        bookmaker = self.bookmaker,
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        error = %error,
                        "Bookmaker request failed, retrying"
                    );
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    async fn send_once(&self, operation: &'static str, request: &Request) -> Result<Bytes> {
        let context = Context::new(self.bookmaker, operation).with_url(&request.url);
        let base = self.base(operation)?;
        if !is_under(base, &request.url) {
            return Err(Error::ForbiddenUrl {
                context,
                base: SafeUrl::new(base),
            });
        }
        if let Some(limiter) = &self.limiter {
            limiter.until_ready().await;
        }

        let mut builder = self
            .client
            .request(request.method.clone(), request.url.clone())
            .headers(request.headers.clone());
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let started = std::time::Instant::now();
        let response = match builder.send().await {
            Ok(response) => response,
            Err(error) => {
                observe_request(self.bookmaker, None, started);
                return Err(self.transport_error(context, &error));
            }
        };
        let status = response.status();
        let retry_after = parse_retry_after(response.headers());
        let response_headers = self.recorder.as_ref().map(|_| response.headers().clone());
        let body = self.read_body(context.clone(), response).await;
        observe_request(self.bookmaker, Some(status.as_u16()), started);
        let body = body?;
        if let (Some(recorder), Some(response_headers)) = (&self.recorder, &response_headers) {
            // NOTE: the write is synchronous; recording is a diagnostic mode, and a
            // body of at most XTR_MAX_BODY bytes takes milliseconds to write.
            recorder.record(&Recording {
                bookmaker: self.bookmaker,
                operation,
                method: request.method.as_str(),
                url: &request.url,
                request_headers: &request.headers,
                status: status.as_u16(),
                response_headers,
                body: &body,
            });
        }
        if !status.is_success() {
            return Err(Error::Status {
                context,
                status: status.as_u16(),
                retry_after: retry_after.filter(|_| {
                    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
                }),
            });
        }
        Ok(body)
    }

    /// Reads the body chunk by chunk, failing as soon as it passes the cap, so an
    /// oversized or endless response costs at most the cap in memory.
    async fn read_body(&self, context: Context, mut response: reqwest::Response) -> Result<Bytes> {
        let too_large = |context| Error::BodyTooLarge {
            context,
            limit: self.max_body,
        };
        if response
            .content_length()
            .is_some_and(|length| length > self.max_body as u64)
        {
            return Err(too_large(context));
        }
        let capacity = response
            .content_length()
            .map_or(64 * 1024, |length| length as usize);
        let mut body = BytesMut::with_capacity(capacity.min(self.max_body));
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| self.transport_error(context.clone(), &error))?
        {
            if body.len() + chunk.len() > self.max_body {
                return Err(too_large(context));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }

    fn transport_error(&self, context: Context, error: &reqwest::Error) -> Error {
        if error.is_timeout() {
            Error::Timeout {
                context,
                after: self.request_timeout,
            }
        } else {
            Error::Connect {
                context,
                message: describe_transport_error(error),
            }
        }
    }
}

/// Describes a reqwest error without its URL but with its causes, so the message reads
/// "connection refused" rather than only "error sending request".
fn describe_transport_error(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut message = error.to_string();
    if let Some(url) = error.url() {
        message = message.replace(&format!(" for url ({url})"), "");
        message = message.replace(url.as_str(), "<url>");
    }
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// Returns whether `url` has the base's origin and lies under its path. The base path
/// itself without its trailing slash counts as under it, so an API whose endpoint is
/// the base URL (one JSON-RPC URL) can be called as configured.
pub fn is_under(base: &Url, url: &Url) -> bool {
    let path = url.path();
    let inside = path.starts_with(base.path()) || path == base.path().trim_end_matches('/');
    url.origin() == base.origin() && inside && url.username().is_empty() && url.password().is_none()
}

fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?;
    // Only the delay-seconds form; the HTTP-date form is rare in APIs and falls back
    // to the exponential delay.
    let seconds: u64 = text.trim().parse().ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

/// Returns the delay before attempt `attempt + 1`: the server's `Retry-After` when given,
/// else 200 ms doubled per attempt, each with up to 50% random jitter so that workers
/// that failed together do not retry together.
fn retry_delay(attempt: u32, retry_after: Option<Duration>) -> Duration {
    let base = retry_after.unwrap_or_else(|| RETRY_BASE_DELAY * 2u32.pow(attempt - 1));
    let jitter = base.mul_f64(fastrand::f64() * 0.5);
    base + jitter
}

/// Returns a rate limit of `per_second` requests spaced at least `1 / per_second`
/// apart, so no window of one second contains more than `per_second` requests. The
/// default burst of `per_second` would let a window that starts with a full burst contain
/// almost twice as many.
pub fn quota(per_second: NonZeroU32) -> Quota {
    Quota::per_second(per_second).allow_burst(NonZeroU32::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_under_checks_origin_and_path() {
        let base = Url::parse("https://api.example/v1/").unwrap();
        assert!(is_under(
            &base,
            &Url::parse("https://api.example/v1/x").unwrap()
        ));
        assert!(!is_under(
            &base,
            &Url::parse("https://api.example/v2/x").unwrap()
        ));
        assert!(is_under(
            &base,
            &Url::parse("https://api.example/v1").unwrap()
        ));
        assert!(!is_under(
            &base,
            &Url::parse("https://api.example/v10").unwrap()
        ));
        assert!(!is_under(
            &base,
            &Url::parse("http://api.example/v1/x").unwrap()
        ));
        assert!(!is_under(
            &base,
            &Url::parse("https://evil.example/v1/x").unwrap()
        ));
        assert!(!is_under(
            &base,
            &Url::parse("https://api.example:8443/v1/x").unwrap()
        ));
        assert!(!is_under(
            &base,
            &Url::parse("https://u:p@api.example/v1/x").unwrap()
        ));
    }

    #[test]
    fn rate_limit_spaces_requests_without_burst() {
        let limiter = RateLimiter::direct(quota(NonZeroU32::new(5).unwrap()));
        assert!(limiter.check().is_ok());
        assert!(
            limiter.check().is_err(),
            "a second request at once is over 5 per second"
        );
    }

    #[test]
    fn retry_delay_grows_and_honours_retry_after() {
        for attempt in 1..4 {
            let delay = retry_delay(attempt, None);
            let base = RETRY_BASE_DELAY * 2u32.pow(attempt - 1);
            assert!(delay >= base, "{delay:?}");
            assert!(delay <= base.mul_f64(1.5), "{delay:?}");
        }
        let delay = retry_delay(1, Some(Duration::from_secs(2)));
        assert!(delay >= Duration::from_secs(2), "{delay:?}");
        assert!(delay <= Duration::from_secs(3), "{delay:?}");
    }
}
