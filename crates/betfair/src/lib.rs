//! The Betfair Exchange extractor of xtr.
//!
//! It reads the API-NG betting API over JSON-RPC: every request is a POST to
//! `XTR_BETFAIR_BASE_URL` (default `https://api.betfair.com/exchange/betting/json-rpc/v1`)
//! with the application key in `X-Application` and the session token in
//! `X-Authentication`. One event takes two calls:
//!
//! 1. `listMarketCatalogue` filtered on the event id and the market type codes of the
//!    requested kinds: market ids, types, runner names and the event.
//! 2. `listMarketBook` of those market ids with the best offers, one level deep:
//!    market and runner statuses, best back and lay prices with their sizes.
//!
//! An exchange quotes both sides, so every outcome carries `back` and `lay`, and its
//! `price` is the best back price. The market types and runner names it maps are listed
//! in the `market_types` module; the mapping rules are in [`parse`].
//!
//! A session token expires unless it is kept alive, and this crate does not log in or
//! keep sessions alive. An expired token fails with [`Error::SessionExpired`] naming
//! `XTR_BETFAIR_SESSION_TOKEN`, so the operator can renew it.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use xtr_core::config::{BookmakerConfig, BookmakerSpec, HttpSettings, SettingValue};
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
mod market_types;
pub mod parse;
mod rpc;

pub use parse::{MarketBook, MarketBookStatus, RunnerBook, RunnerStatus};

/// The registered bookmaker name.
pub const BOOKMAKER: &str = "betfair";

/// The public JSON-RPC endpoint of the global exchange's betting API.
pub const DEFAULT_BASE_URL: &str = "https://api.betfair.com/exchange/betting/json-rpc/v1";

/// Betfair's settings beyond the common ones, as `XTR_BETFAIR_<NAME>`.
pub const SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        name: "APP_KEY",
        description: "application key, sent as X-Application",
        secret: true,
        default: None,
    },
    SettingSpec {
        name: "SESSION_TOKEN",
        description: "session token of a logged-in account, sent as X-Authentication",
        secret: true,
        default: None,
    },
];

const FETCH: &str = "fetch event";
const LIST: &str = "list events";

/// Catalogue fields requested for each market. `EVENT_TYPE` distinguishes a soccer
/// event from another sport's. Every projection but `MARKET_DESCRIPTION` and
/// `RUNNER_METADATA` weighs 0 in Betfair's request limit.
const CATALOGUE_PROJECTION: &[&str] = &[
    "EVENT",
    "EVENT_TYPE",
    "COMPETITION",
    "MARKET_START_TIME",
    "MARKET_DESCRIPTION",
    "RUNNER_DESCRIPTION",
    "RUNNER_METADATA",
];

/// Fields of the probe that distinguishes an unknown event from one without requested
/// markets. All of them weigh 0.
const PROBE_PROJECTION: &[&str] = &["EVENT", "EVENT_TYPE", "COMPETITION", "MARKET_START_TIME"];

/// Maximum markets of one catalogue request. Betfair rejects a request with
/// TOO_MUCH_DATA when the weight of its projections times its markets exceeds 200
/// points. The catalogue weighs 2 per market, so 100 markets weigh 200. The book's best
/// offers weigh 5 per market scaled by depth/3, so 100 markets at depth 1 weigh about
/// 167. The requested types are at most 22 markets per event, the asian ones being one
/// market each.
const MAX_MARKETS: u32 = 100;

/// Levels of each ladder the book returns: the best price only.
const PRICE_DEPTH: u32 = 1;

/// Registers the Betfair extractor.
pub fn register(registry: &mut Registry) {
    registry.register(
        BookmakerSpec {
            name: BOOKMAKER,
            default_base_url: Some(DEFAULT_BASE_URL),
            settings: SETTINGS,
        },
        "betfair",
        |config, http| Ok(Arc::new(BetfairExtractor::new(config, http)?)),
    );
}

/// The Betfair Exchange extractor.
pub struct BetfairExtractor {
    capabilities: Capabilities,
    http: BookmakerHttp,
    app_key: Option<SettingValue>,
    app_key_variable: String,
    session_token: Option<SettingValue>,
    session_token_variable: String,
}

impl std::fmt::Debug for BetfairExtractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |value: &Option<SettingValue>| value.as_ref().map(|_| "<redacted>");
        f.debug_struct("BetfairExtractor")
            .field("http", &self.http)
            .field("app_key", &redacted(&self.app_key))
            .field("session_token", &redacted(&self.session_token))
            .finish()
    }
}

/// The two credential headers of a request, marked sensitive.
struct Credentials {
    app_key: HeaderValue,
    session_token: HeaderValue,
}

impl BetfairExtractor {
    /// Builds the extractor. Credentials are read here but checked only by requests,
    /// so a build without them still registers and parses.
    ///
    /// # Errors
    ///
    /// Returns the errors of [`BookmakerHttp::new`], such as an invalid proxy URL.
    pub fn new(config: &BookmakerConfig, http: &HttpSettings) -> Result<Self> {
        Ok(Self {
            capabilities: Capabilities {
                markets: MarketSet::all(),
                periods: &[Period::FullTime, Period::FirstHalf, Period::SecondHalf],
                sports: &["football"],
                responses: &["catalogue", "book"],
                exchange: true,
            },
            http: BookmakerHttp::new(config, http)?,
            app_key: config.values.get("APP_KEY").cloned(),
            app_key_variable: config.variable("APP_KEY"),
            session_token: config.values.get("SESSION_TOKEN").cloned(),
            session_token_variable: config.variable("SESSION_TOKEN"),
        })
    }

    fn credentials(&self, operation: &'static str) -> Result<Credentials> {
        let header = |value: &Option<SettingValue>, variable: &String| {
            let text = value
                .as_ref()
                .map(SettingValue::expose)
                .map(str::trim)
                .filter(|text| !text.is_empty())
                .ok_or_else(|| Error::MissingSetting {
                    context: Context::new(BOOKMAKER, operation),
                    variable: variable.clone(),
                })?;
            let mut header = HeaderValue::from_str(text).map_err(|_| Error::InvalidConfig {
                variable: variable.clone(),
                value: "<redacted>".into(),
                expected: "printable ASCII text, as Betfair issues it".into(),
            })?;
            header.set_sensitive(true);
            Ok::<_, Error>(header)
        };
        Ok(Credentials {
            app_key: header(&self.app_key, &self.app_key_variable)?,
            session_token: header(&self.session_token, &self.session_token_variable)?,
        })
    }

    /// Returns the context of an operation's errors, with the endpoint URL.
    fn context(&self, operation: &'static str) -> Result<Context> {
        let url = self.http.url(operation, &[], &[])?;
        Ok(Context::new(BOOKMAKER, operation).with_url(&url))
    }

    /// Sends one JSON-RPC call and returns the response after checking it is no error.
    async fn call(
        &self,
        operation: &'static str,
        credentials: &Credentials,
        body: Bytes,
    ) -> Result<Bytes> {
        // The configuration gives the base URL a trailing slash, which `url` drops
        // before appending segments. Appending one empty segment puts the slash back,
        // so the request URL is the base itself and passes the base-URL check.
        let url = self.http.url(operation, &[], &[])?;
        let context = Context::new(BOOKMAKER, operation).with_url(&url);
        let request = Request::post_json(url, body)
            .header("X-Application", credentials.app_key.clone(), true)
            .header("X-Authentication", credentials.session_token.clone(), true)
            .header(
                "Accept",
                HeaderValue::from_static("application/json"),
                false,
            );
        // NOTE: API-NG returns API errors with HTTP 200 and a JSON-RPC error, which
        // `check_response` maps. A non-2xx status comes back as `Error::Status` without
        // its body, because `BookmakerHttp::send` does not return error bodies.
        let response = self.http.send(operation, request).await?;
        rpc::check_response(&response, || context.clone())?;
        Ok(response)
    }

    fn catalogue_body(event_id: &str, codes: &[&str], projection: &[&str], max: u32) -> Bytes {
        let params = rpc::CatalogueParams {
            filter: rpc::MarketFilter {
                event_ids: &[event_id],
                market_type_codes: codes,
                ..rpc::MarketFilter::default()
            },
            market_projection: projection,
            max_results: max,
        };
        rpc::RpcRequest::new(rpc::LIST_MARKET_CATALOGUE, params).to_bytes()
    }
}

/// The `marketId` of a catalogue entry, the only field the fetch needs.
#[derive(serde::Deserialize)]
struct MarketId<'a> {
    #[serde(rename = "marketId", borrow)]
    market_id: std::borrow::Cow<'a, str>,
}

#[async_trait]
impl Extractor for BetfairExtractor {
    fn name(&self) -> &'static str {
        BOOKMAKER
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn list_events(&self, sport: Option<&str>) -> Result<Vec<Event>> {
        if let Some(sport) = sport.filter(|sport| !sport.eq_ignore_ascii_case("football")) {
            return Err(Error::invalid_job(format!(
                "sport {sport:?} is not supported by {BOOKMAKER}: it lists football only"
            )));
        }
        let credentials = self.credentials(LIST)?;
        let params = rpc::EventsParams {
            filter: rpc::MarketFilter {
                event_type_ids: &[parse::SOCCER_EVENT_TYPE_ID],
                ..rpc::MarketFilter::default()
            },
        };
        let body = rpc::RpcRequest::new(rpc::LIST_EVENTS, params).to_bytes();
        let response = self.call(LIST, &credentials, body).await?;
        parse::parse_event_list(&response)
    }

    /// Fetches the catalogue of the event's requested market types and the book of
    /// those markets.
    ///
    /// NOTE: an empty catalogue does not distinguish an unknown event from an event
    /// without markets of the requested types. A second catalogue call without the type
    /// filter (one market, event fields only) decides. When it is empty too, the event
    /// is not found. Otherwise the responses are the empty catalogue and that probe,
    /// which parse into the event with no markets, so the worker publishes
    /// `not_offered`.
    async fn fetch(&self, event_id: &str, markets: MarketSet) -> Result<Responses> {
        self.validate_event_id(event_id)?;
        let credentials = self.credentials(FETCH)?;
        let context = self.context(FETCH)?;
        let codes = market_types::type_codes(markets);

        let mut responses = Vec::with_capacity(2);
        if !codes.is_empty() {
            let body = Self::catalogue_body(event_id, &codes, CATALOGUE_PROJECTION, MAX_MARKETS);
            let catalogue = self.call(FETCH, &credentials, body).await?;
            let book_body = {
                let entries: Vec<MarketId<'_>> = rpc::read_result(&catalogue, || context.clone())?;
                let ids: Vec<&str> = entries
                    .iter()
                    .map(|entry| entry.market_id.as_ref())
                    .collect();
                let params = rpc::BookParams {
                    market_ids: &ids,
                    price_projection: rpc::PriceProjection::best_offers(PRICE_DEPTH),
                };
                (!ids.is_empty())
                    .then(|| rpc::RpcRequest::new(rpc::LIST_MARKET_BOOK, params).to_bytes())
            };
            responses.push(catalogue);
            if let Some(body) = book_body {
                let book = self.call(FETCH, &credentials, body).await?;
                responses.push(book);
                return Ok(responses);
            }
        }

        let body = Self::catalogue_body(event_id, &[], PROBE_PROJECTION, 1);
        let probe = self.call(FETCH, &credentials, body).await?;
        let found: Vec<MarketId<'_>> = rpc::read_result(&probe, || context.clone())?;
        if found.is_empty() {
            return Err(Error::EventNotFound {
                context,
                event: event_id.to_owned(),
            });
        }
        tracing::debug!(
            bookmaker = BOOKMAKER,
            event_id,
            "Event has no markets of the requested types"
        );
        responses.push(probe);
        Ok(responses)
    }

    fn parse(&self, bodies: &[&[u8]], markets: MarketSet) -> Result<Vec<EventMarkets>> {
        parse::parse(bodies, markets)
    }

    /// Betfair event ids are decimal numbers.
    fn validate_event_id(&self, event_id: &str) -> Result<()> {
        validate_numeric_event_id(event_id)
    }
}
