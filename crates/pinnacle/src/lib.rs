//! The Pinnacle extractor: the guest "arcadia" API that pinnacle.com itself reads.
//!
//! One event takes two GET requests under the base URL (default
//! `https://guest.api.arcadia.pinnacle.com/0.1/`), both with the `X-API-Key` header from
//! `XTR_PINNACLE_API_KEY`:
//!
//! - `matchups/{id}/related`: the matchup, its specials and its matchups of other units;
//! - `matchups/{id}/markets/related/straight`: the prices of all of them.
//!
//! [`parse`](parse::parse) maps them as its module documentation describes.
//!
//! Listing football (`list_events(Some("football"))`, also the default) reads
//! `sports/29/leagues?all=false` and then `leagues/{id}/matchups` of the first
//! `XTR_PINNACLE_MAX_LEAGUES` leagues that have matchups, in the order Pinnacle lists
//! them, leaving out the corners and bookings leagues. `XTR_PINNACLE_LEAGUES`, a
//! comma-separated list of league ids, replaces the league list: then exactly those
//! leagues are read.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use serde::Deserialize;
use xtr_core::config::{BookmakerConfig, BookmakerSpec, HttpSettings};
use xtr_core::error::{Context, Error, Result};
use xtr_core::extractor::validate_numeric_event_id;
use xtr_core::http::header::HeaderValue;
use xtr_core::http::{BookmakerHttp, Request};
use xtr_core::{
    Capabilities, Event, EventMarkets, Extractor, MarketSet, Period, Registry, Responses,
    SettingSpec,
};

#[doc(hidden)]
pub mod fixtures;
pub mod parse;

use parse::{BOOKMAKER, SOCCER_SPORT_ID};

/// The public root of the guest API.
pub const DEFAULT_BASE_URL: &str = "https://guest.api.arcadia.pinnacle.com/0.1/";

/// Leagues read by a listing when `XTR_PINNACLE_LEAGUES` is unset.
const DEFAULT_MAX_LEAGUES: &str = "20";

/// Largest accepted `XTR_PINNACLE_MAX_LEAGUES`: each league costs one request.
const MAX_LEAGUES_LIMIT: usize = 500;

/// The settings of Pinnacle beyond the common ones.
pub const SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        name: "API_KEY",
        description: "value of the X-API-Key header the guest API requires",
        secret: true,
        default: None,
    },
    SettingSpec {
        name: "MAX_LEAGUES",
        description: "football leagues read by a listing, in the order Pinnacle lists them (1 to 500)",
        secret: false,
        default: Some(DEFAULT_MAX_LEAGUES),
    },
    SettingSpec {
        name: "LEAGUES",
        description: "comma-separated league ids a listing reads instead of the league list",
        secret: false,
        default: None,
    },
];

/// The registration of Pinnacle: name, default base URL and settings.
pub const SPEC: BookmakerSpec = BookmakerSpec {
    name: BOOKMAKER,
    default_base_url: Some(DEFAULT_BASE_URL),
    settings: SETTINGS,
};

/// The periods Pinnacle's football markets have.
const PERIODS: &[Period] = &[Period::FullTime, Period::FirstHalf];

/// Registers the Pinnacle extractor.
pub fn register(registry: &mut Registry) {
    registry.register(SPEC, "pinnacle", |config, http| {
        Ok(Arc::new(PinnacleExtractor::new(config, http)?))
    });
}

/// The extractor of Pinnacle's guest API.
pub struct PinnacleExtractor {
    http: BookmakerHttp,
    capabilities: Capabilities,
    /// The `X-API-Key` value, marked sensitive; none when the setting is unset.
    api_key: Option<HeaderValue>,
    api_key_variable: String,
    leagues: Vec<String>,
    max_leagues: usize,
}

impl fmt::Debug for PinnacleExtractor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinnacleExtractor")
            .field("http", &self.http)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("leagues", &self.leagues)
            .field("max_leagues", &self.max_leagues)
            .finish_non_exhaustive()
    }
}

impl PinnacleExtractor {
    /// Builds the extractor from its settings. A missing API key is not an error here:
    /// only fetching needs it.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidConfig`] for an API key that cannot be a header value, a
    /// `MAX_LEAGUES` outside 1 to 500, a `LEAGUES` entry that is not a number, or a proxy
    /// URL the HTTP client rejects.
    pub fn new(config: &BookmakerConfig, http: &HttpSettings) -> Result<Self> {
        let api_key_variable = config.variable("API_KEY");
        let api_key = match config.get("API_KEY") {
            Some(key) => {
                let mut value =
                    HeaderValue::from_str(key.trim()).map_err(|_| Error::InvalidConfig {
                        variable: api_key_variable.clone(),
                        value: "<redacted>".into(),
                        expected: "visible ASCII characters only".into(),
                    })?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };

        let max_leagues_text = config.get("MAX_LEAGUES").unwrap_or(DEFAULT_MAX_LEAGUES);
        let max_leagues = max_leagues_text
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|count| (1..=MAX_LEAGUES_LIMIT).contains(count))
            .ok_or_else(|| Error::InvalidConfig {
                variable: config.variable("MAX_LEAGUES"),
                value: format!("{max_leagues_text:?}"),
                expected: format!("a whole number of leagues from 1 to {MAX_LEAGUES_LIMIT}"),
            })?;

        let mut leagues = Vec::new();
        if let Some(text) = config.get("LEAGUES") {
            for id in text.split(',').map(str::trim).filter(|id| !id.is_empty()) {
                if validate_numeric_event_id(id).is_err() {
                    return Err(Error::InvalidConfig {
                        variable: config.variable("LEAGUES"),
                        value: format!("{text:?}"),
                        expected: "comma-separated numeric league ids such as 1817,1980".into(),
                    });
                }
                if !leagues.iter().any(|known| known == id) {
                    leagues.push(id.to_owned());
                }
            }
        }

        Ok(Self {
            http: BookmakerHttp::new(config, http)?,
            capabilities: Capabilities {
                markets: MarketSet::all(),
                periods: PERIODS,
                sports: &["football"],
                responses: &["matchups", "markets"],
                exchange: false,
            },
            api_key,
            api_key_variable,
            leagues,
            max_leagues,
        })
    }

    fn api_key(&self, operation: &'static str) -> Result<&HeaderValue> {
        self.api_key.as_ref().ok_or_else(|| Error::MissingSetting {
            context: Context::new(BOOKMAKER, operation),
            variable: self.api_key_variable.clone(),
        })
    }

    /// Sends one GET with the API key; a 404 becomes [`Error::EventNotFound`] for `event`.
    async fn get(
        &self,
        operation: &'static str,
        segments: &[&str],
        query: &[(&str, &str)],
        event: &str,
    ) -> Result<Bytes> {
        let key = self.api_key(operation)?.clone();
        let url = self.http.url(operation, segments, query)?;
        let request = Request::get(url).header("X-API-Key", key, true);
        self.http
            .send(operation, request)
            .await
            .map_err(|error| match error {
                Error::Status {
                    context,
                    status: 404,
                    ..
                } => Error::EventNotFound {
                    context,
                    event: event.to_owned(),
                },
                other => other,
            })
    }

    /// Returns the ids of the leagues a listing reads.
    async fn league_ids(&self) -> Result<Vec<String>> {
        if !self.leagues.is_empty() {
            return Ok(self.leagues.clone());
        }
        let sport = SOCCER_SPORT_ID.to_string();
        let operation = "list leagues";
        let body = self
            .get(
                operation,
                &["sports", &sport, "leagues"],
                &[("all", "false")],
                &sport,
            )
            .await?;
        let leagues: Vec<LeagueSummary<'_>> = serde_json::from_slice(&body)
            .map_err(|error| Error::malformed(Context::new(BOOKMAKER, operation), &error))?;
        Ok(leagues
            .iter()
            .filter(|league| league.matchup_count.is_none_or(|count| count > 0))
            .filter(|league| {
                !(league.name.ends_with(" Corners") || league.name.ends_with(" Bookings"))
            })
            .take(self.max_leagues)
            .map(|league| league.id.to_string())
            .collect())
    }
}

/// One entry of `sports/{id}/leagues`.
#[derive(Deserialize)]
struct LeagueSummary<'a> {
    id: u64,
    #[serde(borrow)]
    name: std::borrow::Cow<'a, str>,
    #[serde(rename = "matchupCount")]
    matchup_count: Option<u64>,
}

#[async_trait]
impl Extractor for PinnacleExtractor {
    fn name(&self) -> &'static str {
        BOOKMAKER
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn list_events(&self, sport: Option<&str>) -> Result<Vec<Event>> {
        if let Some(sport) = sport.filter(|sport| !sport.eq_ignore_ascii_case("football")) {
            return Err(Error::invalid_job(format!(
                "sport {sport:?} is not listed by pinnacle: it lists football"
            )));
        }
        let mut seen = HashSet::new();
        let mut events = Vec::new();
        for league in self.league_ids().await? {
            let operation = "list matchups";
            let body = match self
                .get(operation, &["leagues", &league, "matchups"], &[], &league)
                .await
            {
                Ok(body) => body,
                // A league from the list can close before its matchups are read.
                Err(error @ Error::EventNotFound { .. }) => {
                    tracing::warn!(bookmaker = BOOKMAKER, league, error = %error, "League not found, skipping it");
                    continue;
                }
                Err(error) => return Err(error),
            };
            for entry in parse::parse(&[&body], MarketSet::EMPTY)? {
                if seen.insert(entry.event.id.clone()) {
                    events.push(entry.event);
                }
            }
        }
        Ok(events)
    }

    async fn fetch(&self, event_id: &str, _markets: MarketSet) -> Result<Responses> {
        self.validate_event_id(event_id)?;
        let matchups_path = ["matchups", event_id, "related"];
        let markets_path = ["matchups", event_id, "markets", "related", "straight"];
        let matchups = self.get("fetch matchups", &matchups_path, &[], event_id);
        let markets = self.get("fetch markets", &markets_path, &[], event_id);
        let (matchups, markets) = futures::future::try_join(matchups, markets).await?;
        // An empty related list names no matchup at all, so the id is unknown.
        if matchups.trim_ascii() == b"[]" {
            return Err(Error::EventNotFound {
                context: Context::new(BOOKMAKER, "fetch matchups"),
                event: event_id.to_owned(),
            });
        }
        Ok(vec![matchups, markets])
    }

    fn parse(&self, bodies: &[&[u8]], markets: MarketSet) -> Result<Vec<EventMarkets>> {
        parse::parse(bodies, markets)
    }

    fn validate_event_id(&self, event_id: &str) -> Result<()> {
        validate_numeric_event_id(event_id)
    }
}
