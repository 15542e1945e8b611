//! The bwin extractor of xtr, for the Entain CDS betting-offer API.
//!
//! CDS serves bwin and the other Entain brands; only the host differs, so another brand
//! is one `XTR_BWIN_BASE_URL` away. One event is one request:
//!
//! ```text
//! GET {base}/{API_PATH}/fixture-view?x-bwin-accessid={ACCESS_ID}&lang={LANG}
//!     &country={COUNTRY}&userCountry={COUNTRY}&offerMapping={OFFER_MAPPING}&state=Latest
//!     &fixtureIds={event}
//! ```
//!
//! The access id is the public key of the brand's web client, not a credential, but
//! CDS rejects requests without it, so fetching without `XTR_BWIN_ACCESS_ID` fails with
//! [`Error::MissingSetting`]. Event ids are fixture ids: digits (`11248701`), optionally
//! prefixed by a source number and a colon (`2:11248701`).
//!
//! Markets are mapped by the game's exact English name and category, so `LANG` must stay
//! `en` for markets to come out; [`parse`] lists the names. CDS has no asian handicap
//! among the recorded games (its "Handicap 0:1" is three-way), so this extractor does
//! not offer that kind.
//!
//! Settings, as `XTR_BWIN_<NAME>` beside the common BASE_URL, PROXY and RATE_LIMIT:
//!
//! | Name            | Default                | Meaning                                   |
//! |-----------------|------------------------|-------------------------------------------|
//! | `ACCESS_ID`     | none, required         | the `x-bwin-accessid` query value         |
//! | `LANG`          | `en`                   | the `lang` query value                    |
//! | `COUNTRY`       | `GB`                   | the `country` and `userCountry` values    |
//! | `OFFER_MAPPING` | `All`                  | the `offerMapping` value of fixture-view  |
//! | `API_PATH`      | `cds-api/bettingoffer` | the API's path under the base URL         |
//! | `EXTRA_QUERY`   | none                   | `name=value&...` pairs added or replaced  |
//!
//! Listing requests `{base}/{API_PATH}/fixtures` with `sportIds=4` (football), 50
//! fixtures a page, for at most 40 pages.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use xtr_core::config::{BookmakerConfig, BookmakerSpec, HttpSettings};
use xtr_core::error::Context;
use xtr_core::http::{BookmakerHttp, Request};
use xtr_core::{
    Capabilities, Error, Event, EventMarkets, Extractor, MarketKind, MarketSet, Period, Registry,
    Responses, Result, SettingSpec,
};

#[doc(hidden)]
pub mod fixtures;
pub mod parse;

/// Registered bookmaker name.
pub const NAME: &str = "bwin";

/// Public host of bwin's CDS API.
pub const DEFAULT_BASE_URL: &str = "https://sports.bwin.com";

/// The settings beyond BASE_URL, PROXY and RATE_LIMIT, read from `XTR_BWIN_<NAME>`.
pub const SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        name: "ACCESS_ID",
        description: "public x-bwin-accessid of the brand's web client; required to fetch",
        secret: false,
        default: None,
    },
    SettingSpec {
        name: "LANG",
        description: "lang query value; markets are mapped by English names, so keep en",
        secret: false,
        default: Some(DEFAULT_LANG),
    },
    SettingSpec {
        name: "COUNTRY",
        description: "country and userCountry query values, an ISO 3166 code such as GB",
        secret: false,
        default: Some(DEFAULT_COUNTRY),
    },
    SettingSpec {
        name: "OFFER_MAPPING",
        description: "offerMapping query value of fixture-view requests (All lists every game)",
        secret: false,
        default: Some(DEFAULT_OFFER_MAPPING),
    },
    SettingSpec {
        name: "API_PATH",
        description: "path of the betting-offer API under the base URL",
        secret: false,
        default: Some(DEFAULT_API_PATH),
    },
    SettingSpec {
        name: "EXTRA_QUERY",
        description: "query pairs added to every request, or replacing a default one, \
                      as name=value&name=value",
        secret: false,
        default: None,
    },
];

/// The registration of bwin: its name, public host and settings.
pub const SPEC: BookmakerSpec = BookmakerSpec {
    name: NAME,
    default_base_url: Some(DEFAULT_BASE_URL),
    settings: SETTINGS,
};

const DEFAULT_LANG: &str = "en";
const DEFAULT_COUNTRY: &str = "GB";
const DEFAULT_OFFER_MAPPING: &str = "All";
const DEFAULT_API_PATH: &str = "cds-api/bettingoffer";

/// Query names that xtr sets itself and `EXTRA_QUERY` may not replace.
const RESERVED_QUERY_NAMES: &[&str] =
    &["x-bwin-accessid", "fixtureIds", "sportIds", "skip", "take"];

/// Fixtures per listing page, the page size bwin's web client requests.
const LISTING_PAGE_SIZE: u64 = 50;

/// Listing pages fetched at most, which bounds one listing to 2,000 fixtures.
const LISTING_MAX_PAGES: u64 = 40;

const FETCH: &str = "fetch event";
const LIST: &str = "list events";

/// Registers bwin with the runner's registry.
pub fn register(registry: &mut Registry) {
    registry.register(SPEC, "entain-cds", |config, http| {
        Ok(Arc::new(BwinExtractor::new(config, http)?))
    });
}

/// The extractor of the Entain CDS API.
pub struct BwinExtractor {
    http: BookmakerHttp,
    capabilities: Capabilities,
    access_id: Option<String>,
    access_id_variable: String,
    lang: String,
    country: String,
    offer_mapping: String,
    api_path: Vec<String>,
    extra_query: Vec<(String, String)>,
}

impl fmt::Debug for BwinExtractor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BwinExtractor")
            .field("http", &self.http)
            .field("access_id_set", &self.access_id.is_some())
            .field("lang", &self.lang)
            .field("country", &self.country)
            .field("offer_mapping", &self.offer_mapping)
            .field("api_path", &self.api_path)
            .finish_non_exhaustive()
    }
}

impl BwinExtractor {
    /// Builds the extractor from bwin's settings. A missing access id is reported only
    /// when fetching.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidConfig`] for an invalid proxy, `API_PATH` or
    /// `EXTRA_QUERY`.
    pub fn new(config: &BookmakerConfig, http: &HttpSettings) -> Result<Self> {
        let setting = |name: &str, default: &str| {
            config
                .get(name)
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .unwrap_or(default)
                .to_owned()
        };
        let api_path = parse_api_path(config, &setting("API_PATH", DEFAULT_API_PATH))?;
        let extra_query = parse_extra_query(config, config.get("EXTRA_QUERY").unwrap_or(""))?;
        Ok(Self {
            http: BookmakerHttp::new(config, http)?,
            capabilities: Capabilities {
                markets: MarketSet::from_kinds(&[
                    MarketKind::Btts,
                    MarketKind::MatchResult,
                    MarketKind::TotalGoals,
                    MarketKind::AsianTotal,
                    MarketKind::DrawNoBet,
                    MarketKind::DoubleChance,
                ]),
                periods: &Period::ALL,
                sports: &["football"],
                responses: &["fixture-view"],
                exchange: false,
            },
            access_id: config
                .get("ACCESS_ID")
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned),
            access_id_variable: config.variable("ACCESS_ID"),
            lang: setting("LANG", DEFAULT_LANG),
            country: setting("COUNTRY", DEFAULT_COUNTRY),
            offer_mapping: setting("OFFER_MAPPING", DEFAULT_OFFER_MAPPING),
            api_path,
            extra_query,
        })
    }

    fn access_id(&self, operation: &'static str) -> Result<&str> {
        self.access_id
            .as_deref()
            .ok_or_else(|| Error::MissingSetting {
                context: Context::new(NAME, operation),
                variable: self.access_id_variable.clone(),
            })
    }

    /// Returns the query pairs every request starts with, then lets `EXTRA_QUERY`
    /// replace or extend them.
    fn query<'s>(
        &'s self,
        access_id: &'s str,
        specific: &[(&'s str, &'s str)],
    ) -> Vec<(&'s str, &'s str)> {
        let mut query = vec![
            ("x-bwin-accessid", access_id),
            ("lang", self.lang.as_str()),
            ("country", self.country.as_str()),
            ("userCountry", self.country.as_str()),
        ];
        query.extend_from_slice(specific);
        for (name, value) in &self.extra_query {
            match query.iter_mut().find(|(existing, _)| existing == name) {
                Some(pair) => pair.1 = value,
                None => query.push((name, value)),
            }
        }
        query
    }

    fn url(
        &self,
        operation: &'static str,
        endpoint: &str,
        query: &[(&str, &str)],
    ) -> Result<url::Url> {
        let mut segments: Vec<&str> = self.api_path.iter().map(String::as_str).collect();
        segments.push(endpoint);
        self.http.url(operation, &segments, query)
    }
}

fn parse_api_path(config: &BookmakerConfig, text: &str) -> Result<Vec<String>> {
    let segments: Vec<String> = text
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(str::to_owned)
        .collect();
    if segments
        .iter()
        .any(|segment| segment == "." || segment == "..")
    {
        return Err(Error::InvalidConfig {
            variable: config.variable("API_PATH"),
            value: format!("{text:?}"),
            expected: "a path without . or .. segments, such as cds-api/bettingoffer".into(),
        });
    }
    Ok(segments)
}

fn parse_extra_query(config: &BookmakerConfig, text: &str) -> Result<Vec<(String, String)>> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(text.trim().as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    let reserved = pairs.iter().find(|(name, _)| {
        name.is_empty()
            || RESERVED_QUERY_NAMES
                .iter()
                .any(|reserved| reserved.eq_ignore_ascii_case(name))
    });
    if let Some((name, _)) = reserved {
        return Err(Error::InvalidConfig {
            variable: config.variable("EXTRA_QUERY"),
            value: format!("{text:?}"),
            expected: format!(
                "name=value pairs joined by &, without an empty name or {name:?}, which xtr \
                 sets itself ({})",
                RESERVED_QUERY_NAMES.join(", ")
            ),
        });
    }
    Ok(pairs)
}

/// Checks a CDS fixture id: 1 to 20 digits, optionally prefixed by a source number
/// and a colon.
///
/// # Errors
///
/// Returns [`Error::InvalidJob`] naming the id.
pub fn validate_fixture_id(event_id: &str) -> Result<()> {
    let digits = |part: &str| {
        !part.is_empty() && part.len() <= 20 && part.bytes().all(|b| b.is_ascii_digit())
    };
    let valid = match event_id.split_once(':') {
        Some((source, number)) => digits(source) && digits(number),
        None => digits(event_id),
    };
    if valid {
        return Ok(());
    }
    let quoted: String = event_id.chars().take(80).collect();
    Err(Error::invalid_job(format!(
        "event id {quoted:?} is invalid: expected a bwin fixture id of digits such as \
         11248701, optionally prefixed by a source number and a colon (2:11248701)"
    )))
}

#[async_trait]
impl Extractor for BwinExtractor {
    fn name(&self) -> &'static str {
        NAME
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    fn validate_event_id(&self, event_id: &str) -> Result<()> {
        validate_fixture_id(event_id)
    }

    async fn list_events(&self, sport: Option<&str>) -> Result<Vec<Event>> {
        let sport = sport.unwrap_or("football");
        if !sport.eq_ignore_ascii_case("football") {
            return Err(Error::invalid_job(format!(
                "sport {sport:?} is not listed by {NAME}: it lists football"
            )));
        }
        let access_id = self.access_id(LIST)?;
        let sport_id = parse::FOOTBALL_SPORT_ID.to_string();
        let take = LISTING_PAGE_SIZE.to_string();
        let mut events = Vec::new();
        for page in 0..LISTING_MAX_PAGES {
            let skip = (page * LISTING_PAGE_SIZE).to_string();
            let query = self.query(
                access_id,
                &[
                    ("fixtureTypes", "Standard"),
                    ("state", "Latest"),
                    ("offerMapping", "Filtered"),
                    ("offerCategories", "Gridable"),
                    ("fixtureCategories", "Gridable,NonGridable,Other"),
                    ("sportIds", &sport_id),
                    ("skip", &skip),
                    ("take", &take),
                    ("sortBy", "Tags"),
                ],
            );
            let url = self.url(LIST, "fixtures", &query)?;
            let body = self.http.send(LIST, Request::get(url)).await?;
            let listing = parse::parse_listing(&body)?;
            let received = listing.events.len() as u64;
            events.extend(listing.events);
            let listed_all = listing
                .total_count
                .is_some_and(|total| events.len() as u64 >= total);
            if received < LISTING_PAGE_SIZE || listed_all {
                return Ok(events);
            }
        }
        tracing::warn!(
            bookmaker = NAME,
            listed = events.len(),
            "Listing stopped after {LISTING_MAX_PAGES} pages; later fixtures are left out"
        );
        Ok(events)
    }

    async fn fetch(&self, event_id: &str, _markets: MarketSet) -> Result<Responses> {
        self.validate_event_id(event_id)?;
        let access_id = self.access_id(FETCH)?;
        let query = self.query(
            access_id,
            &[
                ("offerMapping", self.offer_mapping.as_str()),
                ("state", "Latest"),
                ("fixtureIds", event_id),
            ],
        );
        let url = self.url(FETCH, "fixture-view", &query)?;
        let not_found = || Error::EventNotFound {
            context: Context::new(NAME, FETCH).with_url(&url),
            event: event_id.to_owned(),
        };
        let body = match self.http.send(FETCH, Request::get(url.clone())).await {
            Ok(body) => body,
            Err(Error::Status { status: 404, .. }) => return Err(not_found()),
            Err(error) => return Err(error),
        };
        // NOTE: a `null` fixture is taken as CDS's answer for an unknown id; the
        // recordings hold no such answer, so other "not found" shapes may exist.
        if parse::is_missing_fixture(&body) {
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
