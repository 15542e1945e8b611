//! The SBTech extractor of xtr, for the sportsdata API that SBTech operators host.
//!
//! Every operator runs the API under its own host and path, so nothing has a default:
//! `XTR_SBTECH_BASE_URL` is the operator's API root and `XTR_SBTECH_EVENT_PATH` the
//! path of one event under it, with `{event}` where the event id goes. The id is
//! inserted as one percent-encoded path segment or query value, never as raw URL text.
//! One event is one request:
//!
//! ```text
//! GET {BASE_URL}/{EVENT_PATH with {event} replaced}
//! Authorization: Bearer {TOKEN}      (only when TOKEN is set)
//! locale: {LOCALE}
//! ```
//!
//! A template is `/`-separated path segments, optionally followed by `?` and
//! `name=value` pairs joined by `&`; percent escapes in it are decoded first. For an
//! operator whose events are at `sportsdata/v2/events?query=$filter=id eq '22016399'`,
//! the template is `sportsdata/v2/events?query=$filter=id eq '{event}'`.
//!
//! Settings, as `XTR_SBTECH_<NAME>` beside the common BASE_URL, PROXY and RATE_LIMIT:
//!
//! | Name         | Default | Meaning                                                  |
//! |--------------|---------|----------------------------------------------------------|
//! | `EVENT_PATH` | none    | template of one event's path, with `{event}`; required   |
//! | `LIST_PATH`  | none    | template of the event listing, `{sport}` optional (1 is football); required to list |
//! | `TOKEN`      | none    | bearer token, sent as `Authorization: Bearer ...`         |
//! | `LOCALE`     | `en`    | the `locale` header; markets map by English names         |
//!
//! A missing base URL or path fails the fetch with [`Error::MissingSetting`]; HTTP 401
//! or 403 fails it with [`Error::MissingSetting`] naming `XTR_SBTECH_TOKEN` when no
//! token is set, and with [`Error::SessionExpired`] when one is. [`parse`] lists the
//! mapped market types.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use xtr_core::config::{BookmakerConfig, BookmakerSpec, HttpSettings};
use xtr_core::error::Context;
use xtr_core::http::header::HeaderValue;
use xtr_core::http::{BookmakerHttp, Request};
use xtr_core::{
    Capabilities, Error, Event, EventMarkets, Extractor, MarketSet, Period, Registry, Responses,
    Result, SettingSpec,
};

#[doc(hidden)]
pub mod fixtures;
pub mod parse;
mod template;

use template::PathTemplate;

/// Registered bookmaker name.
pub const NAME: &str = "sbtech";

/// The settings beyond BASE_URL, PROXY and RATE_LIMIT, read from `XTR_SBTECH_<NAME>`.
pub const SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        name: "EVENT_PATH",
        description: "path of one event under the base URL, with {event} for the event id, \
                      such as sportsdata/v2/events?query=$filter=id eq '{event}'",
        secret: false,
        default: None,
    },
    SettingSpec {
        name: "LIST_PATH",
        description: "path of the event listing under the base URL, with an optional \
                      {sport} for SBTech's sport id (1 is football)",
        secret: false,
        default: None,
    },
    SettingSpec {
        name: "TOKEN",
        description: "bearer token of the operator's API, sent as Authorization: Bearer",
        secret: true,
        default: None,
    },
    SettingSpec {
        name: "LOCALE",
        description: "locale header value; markets are mapped by English names, so keep en",
        secret: false,
        default: Some(DEFAULT_LOCALE),
    },
];

/// The registration of SBTech: no public host, because operators host the API.
pub const SPEC: BookmakerSpec = BookmakerSpec {
    name: NAME,
    default_base_url: None,
    settings: SETTINGS,
};

/// The token variable, for [`Error::SessionExpired`], which takes a static name.
const TOKEN_VARIABLE: &str = "XTR_SBTECH_TOKEN";

const DEFAULT_LOCALE: &str = "en";
const FETCH: &str = "fetch event";
const LIST: &str = "list events";

/// Registers SBTech with the runner's registry.
pub fn register(registry: &mut Registry) {
    registry.register(SPEC, "sbtech", |config, http| {
        Ok(Arc::new(SbtechExtractor::new(config, http)?))
    });
}

/// The extractor of an operator's SBTech sportsdata API.
pub struct SbtechExtractor {
    http: BookmakerHttp,
    capabilities: Capabilities,
    event_path: Option<PathTemplate>,
    event_path_variable: String,
    list_path: Option<PathTemplate>,
    list_path_variable: String,
    /// `Bearer {TOKEN}`, marked sensitive so that `Debug` never shows it.
    authorization: Option<HeaderValue>,
    locale: HeaderValue,
}

impl fmt::Debug for SbtechExtractor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SbtechExtractor")
            .field("http", &self.http)
            .field("event_path", &self.event_path)
            .field("list_path", &self.list_path)
            .field("token_set", &self.authorization.is_some())
            .field("locale", &self.locale)
            .finish_non_exhaustive()
    }
}

impl SbtechExtractor {
    /// Builds the extractor from SBTech's settings. Missing settings are reported only
    /// when fetching or listing.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidConfig`] for an invalid proxy, path template, token or
    /// locale.
    pub fn new(config: &BookmakerConfig, http: &HttpSettings) -> Result<Self> {
        let template = |name: &str, allowed: &[&str], required: Option<&str>| {
            let Some(text) = config.get(name).filter(|text| !text.trim().is_empty()) else {
                return Ok(None);
            };
            PathTemplate::parse(text, allowed, required)
                .map(Some)
                .map_err(|expected| Error::InvalidConfig {
                    variable: config.variable(name),
                    value: format!("{text:?}"),
                    expected,
                })
        };
        let event_path = template("EVENT_PATH", &["event"], Some("event"))?;
        let list_path = template("LIST_PATH", &["sport"], None)?;

        let authorization = match config.get("TOKEN").map(str::trim).filter(|t| !t.is_empty()) {
            Some(token) => {
                let mut value =
                    HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                        Error::InvalidConfig {
                            variable: config.variable("TOKEN"),
                            value: "<redacted>".into(),
                            expected: "a token of visible ASCII characters".into(),
                        }
                    })?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let locale_text = config
            .get("LOCALE")
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .unwrap_or(DEFAULT_LOCALE);
        let locale = HeaderValue::from_str(locale_text).map_err(|_| Error::InvalidConfig {
            variable: config.variable("LOCALE"),
            value: format!("{locale_text:?}"),
            expected: "a locale such as en".into(),
        })?;

        Ok(Self {
            http: BookmakerHttp::new(config, http)?,
            capabilities: Capabilities {
                markets: MarketSet::all(),
                periods: &Period::ALL,
                sports: &["football"],
                responses: &["event"],
                exchange: false,
            },
            event_path,
            event_path_variable: config.variable("EVENT_PATH"),
            list_path,
            list_path_variable: config.variable("LIST_PATH"),
            authorization,
            locale,
        })
    }

    /// Sends a GET of a rendered template with the locale and token headers, turning
    /// HTTP 401 and 403 into the token error.
    async fn get(
        &self,
        operation: &'static str,
        template: &PathTemplate,
        values: &[(&str, &str)],
    ) -> Result<(url::Url, Result<Bytes>)> {
        let (segments, query) = template.render(values);
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        let query: Vec<(&str, &str)> = query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let url = self.http.url(operation, &segments, &query)?;

        let mut request = Request::get(url.clone()).header("locale", self.locale.clone(), false);
        if let Some(authorization) = &self.authorization {
            request = request.header("authorization", authorization.clone(), true);
        }
        let result = match self.http.send(operation, request).await {
            Err(Error::Status {
                context,
                status: status @ (401 | 403),
                ..
            }) => Err(match self.authorization {
                None => Error::MissingSetting {
                    context,
                    variable: TOKEN_VARIABLE.to_owned(),
                },
                Some(_) => Error::SessionExpired {
                    context,
                    code: format!("HTTP {status}"),
                    variable: TOKEN_VARIABLE,
                },
            }),
            other => other,
        };
        Ok((url, result))
    }
}

fn missing(operation: &'static str, variable: &str) -> Error {
    Error::MissingSetting {
        context: Context::new(NAME, operation),
        variable: variable.to_owned(),
    }
}

#[async_trait]
impl Extractor for SbtechExtractor {
    fn name(&self) -> &'static str {
        NAME
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn list_events(&self, sport: Option<&str>) -> Result<Vec<Event>> {
        let sport = sport.unwrap_or("football");
        if !sport.eq_ignore_ascii_case("football") {
            return Err(Error::invalid_job(format!(
                "sport {sport:?} is not listed by {NAME}: it lists football"
            )));
        }
        let template = self
            .list_path
            .as_ref()
            .ok_or_else(|| missing(LIST, &self.list_path_variable))?;
        let (_, body) = self
            .get(LIST, template, &[("sport", parse::FOOTBALL_SPORT_ID)])
            .await?;
        parse::parse_listing(&body?)
    }

    async fn fetch(&self, event_id: &str, _markets: MarketSet) -> Result<Responses> {
        self.validate_event_id(event_id)?;
        let template = self
            .event_path
            .as_ref()
            .ok_or_else(|| missing(FETCH, &self.event_path_variable))?;
        let (url, body) = self.get(FETCH, template, &[("event", event_id)]).await?;
        let not_found = || Error::EventNotFound {
            context: Context::new(NAME, FETCH).with_url(&url),
            event: event_id.to_owned(),
        };
        let body = match body {
            Ok(body) => body,
            Err(Error::Status { status: 404, .. }) => return Err(not_found()),
            Err(error) => return Err(error),
        };
        // NOTE: an unknown id is taken to return empty lists, as a filter query that
        // matches nothing does; no recording shows SBTech's response to one.
        if !parse::mentions_event(&body, event_id) {
            return Err(not_found());
        }
        Ok(vec![body])
    }

    fn parse(&self, bodies: &[&[u8]], markets: MarketSet) -> Result<Vec<EventMarkets>> {
        let mut events = Vec::new();
        for body in bodies {
            events.extend(parse::parse_body(body, markets)?);
        }
        Ok(events)
    }
}
