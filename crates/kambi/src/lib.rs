//! The Kambi extractor of xtr.
//!
//! Kambi runs the sportsbook of Unibet, 888sport, LeoVegas and other brands behind one
//! public JSON API, `{base}/offering/v2018/{brand}/...`, where `brand` is a short code
//! such as `ub`. Each brand is registered as a bookmaker of its own (platform `kambi`),
//! configured by `XTR_<BOOKMAKER>_BRAND`, `_LANG` and `_MARKET`.
//!
//! Requests:
//!
//! - one event: `GET {base}/offering/v2018/{brand}/betoffer/event/{id}.json?lang=..&market=..&includeParticipants=true`
//!   (HTTP 404 is [`Error::EventNotFound`]);
//! - listings: `GET {base}/offering/v2018/{brand}/listView/{sport}.json?lang=..&market=..`.
//!
//! Markets are mapped by `criterion.id` and `criterion.englishLabel` (see
//! [`parse_bet_offers`]); odds and lines are Kambi's integers in thousandths, read
//! exactly.

use std::sync::Arc;

use async_trait::async_trait;
use xtr_core::config::{BookmakerConfig, BookmakerSpec, HttpSettings};
use xtr_core::error::Context;
use xtr_core::extractor::validate_numeric_event_id;
use xtr_core::http::{BookmakerHttp, Request};
use xtr_core::{
    Capabilities, Error, Event, EventMarkets, Extractor, MarketSet, Period, Registry, Responses,
    Result, SettingSpec,
};

#[doc(hidden)]
pub mod fixtures;
mod parse;

pub use parse::{parse_bet_offers, parse_event_list};

/// Kambi's public offering host, the default `XTR_<BOOKMAKER>_BASE_URL` of every brand.
pub const DEFAULT_BASE_URL: &str = "https://eu-offering-api.kambicdn.com";

/// The platform name every Kambi brand is registered with.
pub const PLATFORM: &str = "kambi";

/// Default of `XTR_<BOOKMAKER>_LANG`.
pub const DEFAULT_LANG: &str = "en_GB";

/// Default of `XTR_<BOOKMAKER>_MARKET`.
pub const DEFAULT_MARKET: &str = "GB";

/// The sport listed when `list_events` is given none.
pub const DEFAULT_SPORT: &str = "football";

const FETCH_EVENT: &str = "fetch event";
const LIST_EVENTS: &str = "list events";

/// A Kambi brand registered as a bookmaker.
#[derive(Debug, Clone, Copy)]
pub struct Brand {
    /// Registered bookmaker name, such as `unibet`.
    pub bookmaker: &'static str,
    /// Default brand code, the `{brand}` path segment, such as `ub`.
    pub code: &'static str,
    settings: &'static [SettingSpec],
}

/// Returns the settings of a brand whose code defaults to `code`.
const fn brand_settings(code: &'static str) -> [SettingSpec; 3] {
    [
        SettingSpec {
            name: "BRAND",
            description: "Kambi brand code, the {brand} segment of offering/v2018/{brand}/...",
            secret: false,
            default: Some(code),
        },
        SettingSpec {
            name: "LANG",
            description: "lang query parameter of every request, such as en_GB",
            secret: false,
            default: Some(DEFAULT_LANG),
        },
        SettingSpec {
            name: "MARKET",
            description: "market query parameter of every request, a country code such as GB",
            secret: false,
            default: Some(DEFAULT_MARKET),
        },
    ]
}

const UNIBET_SETTINGS: [SettingSpec; 3] = brand_settings("ub");
const SPORT888_SETTINGS: [SettingSpec; 3] = brand_settings("888");
const LEOVEGAS_SETTINGS: [SettingSpec; 3] = brand_settings("leo");

/// The brands [`register`] registers. `888` and `leo` are the codes that other public
/// Kambi clients use in their URLs; set `XTR_<BOOKMAKER>_BRAND` for another one, such as
/// a country site's.
pub const BRANDS: &[Brand] = &[
    Brand {
        bookmaker: "unibet",
        code: "ub",
        settings: &UNIBET_SETTINGS,
    },
    Brand {
        bookmaker: "888sport",
        code: "888",
        settings: &SPORT888_SETTINGS,
    },
    Brand {
        bookmaker: "leovegas",
        code: "leo",
        settings: &LEOVEGAS_SETTINGS,
    },
];

/// Registers every brand of [`BRANDS`], each as its own bookmaker of platform `kambi`.
pub fn register(registry: &mut Registry) {
    for brand in BRANDS {
        registry.register(
            BookmakerSpec {
                name: brand.bookmaker,
                default_base_url: Some(DEFAULT_BASE_URL),
                settings: brand.settings,
            },
            PLATFORM,
            |config, http| Ok(Arc::new(KambiExtractor::new(config, http)?)),
        );
    }
}

/// The extractor of one Kambi brand.
#[derive(Debug)]
pub struct KambiExtractor {
    name: &'static str,
    /// Brand code; none only for a bookmaker outside [`BRANDS`] without `BRAND` set.
    brand: Option<String>,
    brand_variable: String,
    lang: String,
    market: String,
    http: BookmakerHttp,
    capabilities: Capabilities,
}

impl KambiExtractor {
    /// Builds the extractor of the brand named by `config.name`. An empty setting counts
    /// as unset, so its default applies.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidConfig`] when `BRAND`, `LANG` or `MARKET` contains
    /// anything but ASCII letters, digits, `_` and `-`, and the errors of
    /// [`BookmakerHttp::new`].
    pub fn new(config: &BookmakerConfig, http: &HttpSettings) -> Result<Self> {
        let default_code = BRANDS
            .iter()
            .find(|brand| brand.bookmaker == config.name)
            .map(|brand| brand.code);
        let brand = setting(config, "BRAND")?
            .or(default_code)
            .map(str::to_owned);
        let lang = setting(config, "LANG")?.unwrap_or(DEFAULT_LANG).to_owned();
        let market = setting(config, "MARKET")?
            .unwrap_or(DEFAULT_MARKET)
            .to_owned();
        Ok(Self {
            name: config.name,
            brand,
            brand_variable: config.variable("BRAND"),
            lang,
            market,
            http: BookmakerHttp::new(config, http)?,
            capabilities: Capabilities {
                markets: MarketSet::all(),
                periods: &Period::ALL,
                sports: &[DEFAULT_SPORT],
                responses: &["betoffer"],
                exchange: false,
            },
        })
    }

    /// Returns the brand code, the `{brand}` path segment.
    pub fn brand(&self) -> Option<&str> {
        self.brand.as_deref()
    }

    fn brand_or_missing(&self, operation: &'static str) -> Result<&str> {
        self.brand.as_deref().ok_or_else(|| Error::MissingSetting {
            context: Context::new(self.name, operation),
            variable: self.brand_variable.clone(),
        })
    }
}

/// Reads a setting that goes into a URL, treating an empty value as unset.
fn setting<'c>(config: &'c BookmakerConfig, name: &str) -> Result<Option<&'c str>> {
    let Some(value) = config
        .get(name)
        .map(str::trim)
        .filter(|value| !value.is_empty())
    else {
        return Ok(None);
    };
    let valid = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'));
    if !valid {
        return Err(Error::InvalidConfig {
            variable: config.variable(name),
            value: format!("{value:?}"),
            expected: "ASCII letters, digits, '_' or '-', such as ub, en_GB or GB".into(),
        });
    }
    Ok(Some(value))
}

/// Checks a sport before it goes into the listing path, such as `football`.
fn validate_sport(sport: &str) -> Result<()> {
    let valid = !sport.is_empty()
        && sport.len() <= 64
        && sport
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-'));
    if valid {
        Ok(())
    } else {
        let truncated: String = sport.chars().take(80).collect();
        Err(Error::invalid_job(format!(
            "sport {truncated:?} is invalid: expected 1 to 64 lowercase ASCII letters, digits, \
             '_' or '-', such as football"
        )))
    }
}

#[async_trait]
impl Extractor for KambiExtractor {
    fn name(&self) -> &'static str {
        self.name
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn list_events(&self, sport: Option<&str>) -> Result<Vec<Event>> {
        let sport = sport.unwrap_or(DEFAULT_SPORT);
        validate_sport(sport)?;
        let brand = self.brand_or_missing(LIST_EVENTS)?;
        let file = format!("{sport}.json");
        let url = self.http.url(
            LIST_EVENTS,
            &["offering", "v2018", brand, "listView", &file],
            &[("lang", &self.lang), ("market", &self.market)],
        )?;
        let body = self.http.send(LIST_EVENTS, Request::get(url)).await?;
        parse_event_list(self.name, &body)
    }

    async fn fetch(&self, event_id: &str, _markets: MarketSet) -> Result<Responses> {
        self.validate_event_id(event_id)?;
        let brand = self.brand_or_missing(FETCH_EVENT)?;
        let file = format!("{event_id}.json");
        let url = self.http.url(
            FETCH_EVENT,
            &["offering", "v2018", brand, "betoffer", "event", &file],
            &[
                ("lang", &self.lang),
                ("market", &self.market),
                // Kambi's own web clients send this. Asian handicap outcomes are matched
                // to home and away by their participantId and the event's participants.
                ("includeParticipants", "true"),
            ],
        )?;
        match self.http.send(FETCH_EVENT, Request::get(url)).await {
            Ok(body) => Ok(vec![body]),
            Err(Error::Status {
                context,
                status: 404,
                ..
            }) => Err(Error::EventNotFound {
                context,
                event: event_id.to_owned(),
            }),
            Err(error) => Err(error),
        }
    }

    fn parse(&self, bodies: &[&[u8]], markets: MarketSet) -> Result<Vec<EventMarkets>> {
        let mut events = Vec::new();
        for body in bodies {
            events.extend(parse_bet_offers(self.name, body, markets)?);
        }
        Ok(events)
    }

    fn validate_event_id(&self, event_id: &str) -> Result<()> {
        validate_numeric_event_id(event_id)
    }
}
