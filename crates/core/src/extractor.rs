//! The trait every bookmaker crate implements.

use std::fmt;

use async_trait::async_trait;
use bytes::Bytes;

use crate::error::{Error, Result};
use crate::model::{Event, EventMarkets, MarketSet, Period};

/// The raw bodies of one fetch, in the order [`Capabilities::responses`] names them.
pub type Responses = Vec<Bytes>;

/// What an extractor can extract, declared up front so the runner can list it and the
/// worker can reject a job without a request.
#[derive(Debug, Clone, Copy)]
pub struct Capabilities {
    /// Market kinds it extracts.
    pub markets: MarketSet,
    /// Periods it maps.
    pub periods: &'static [Period],
    /// Sports it lists events for, in lowercase English.
    pub sports: &'static [&'static str],
    /// The responses one event needs, in the order `parse` expects them, for example
    /// `["matchups", "markets"]`. Most bookmakers need one.
    pub responses: &'static [&'static str],
    /// Whether prices come from an exchange (back and lay) rather than a sportsbook.
    pub exchange: bool,
}

/// A bookmaker-specific setting, read from `XTR_<BOOKMAKER>_<NAME>`.
#[derive(Debug, Clone, Copy)]
pub struct SettingSpec {
    /// Name without the prefix, for example `API_KEY`.
    pub name: &'static str,
    /// What it sets, for `--help` style listings and the README.
    pub description: &'static str,
    /// Whether the value is a credential that must never be logged.
    pub secret: bool,
    /// Value used when the variable is unset.
    pub default: Option<&'static str>,
}

/// A bookmaker's extractor: fetches an event's responses and parses them into markets.
///
/// Fetching and parsing are separate so that parsing stays a pure function of the bytes,
/// which `xtr parse`, the tests and the benchmarks call without a network.
#[async_trait]
pub trait Extractor: Send + Sync + fmt::Debug {
    /// Returns the registered bookmaker name, such as `unibet`.
    fn name(&self) -> &'static str;

    /// Returns what this extractor can extract.
    fn capabilities(&self) -> &Capabilities;

    /// Lists the bookmaker's events of a sport (its first sport when `None`).
    ///
    /// # Errors
    ///
    /// Returns transport, status and format errors of the listing request.
    async fn list_events(&self, sport: Option<&str>) -> Result<Vec<Event>>;

    /// Fetches the raw responses that describe one event.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidJob`] for an event id this bookmaker cannot have,
    /// [`Error::MissingSetting`] when a credential or host is not configured, and the
    /// transport and status errors of the requests.
    async fn fetch(&self, event_id: &str, markets: MarketSet) -> Result<Responses>;

    /// Parses responses as the bookmaker sent them into markets, one entry per event
    /// they describe. Kinds outside `markets` are left out.
    ///
    /// # Errors
    ///
    /// Returns [`Error::Malformed`] when a body is not in the bookmaker's format.
    fn parse(&self, bodies: &[&[u8]], markets: MarketSet) -> Result<Vec<EventMarkets>>;

    /// Checks an event id before it goes into a URL. The default accepts 1 to 64 ASCII
    /// letters, digits, `-`, `_` and `.` (but not `.` or `..` alone).
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidJob`] naming the id.
    fn validate_event_id(&self, event_id: &str) -> Result<()> {
        validate_event_id(event_id)
    }

    /// Fetches and parses one event, keeping only markets of the requested kinds.
    ///
    /// # Errors
    ///
    /// Returns the errors of [`Extractor::fetch`] and [`Extractor::parse`], and
    /// [`Error::UnsupportedMarket`] when `markets` names a kind this extractor lacks.
    async fn extract(&self, event_id: &str, markets: MarketSet) -> Result<Vec<EventMarkets>> {
        check_markets(self.name(), self.capabilities(), markets)?;
        self.validate_event_id(event_id)?;
        let bodies = self.fetch(event_id, markets).await?;
        let slices: Vec<&[u8]> = bodies.iter().map(|body| body.as_ref()).collect();
        self.parse(&slices, markets)
    }
}

/// Returns an error unless every kind of `markets` is one the extractor supports.
///
/// # Errors
///
/// Returns [`Error::UnsupportedMarket`] naming the first unsupported kind.
pub fn check_markets(
    bookmaker: &'static str,
    capabilities: &Capabilities,
    markets: MarketSet,
) -> Result<()> {
    match markets.difference(capabilities.markets).iter().next() {
        None => Ok(()),
        Some(kind) => Err(Error::UnsupportedMarket {
            bookmaker,
            kind: kind.to_string(),
            supported: capabilities.markets.to_string(),
        }),
    }
}

/// The longest event id accepted, in bytes.
pub const MAX_EVENT_ID_LEN: usize = 64;

/// Checks that an event id is safe to put into a URL path segment.
///
/// # Errors
///
/// Returns [`Error::InvalidJob`] naming the id (cut to 80 characters).
pub fn validate_event_id(event_id: &str) -> Result<()> {
    let valid_bytes = event_id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if event_id.is_empty()
        || event_id.len() > MAX_EVENT_ID_LEN
        || !valid_bytes
        || event_id == "."
        || event_id == ".."
    {
        let shown: String = event_id.chars().take(80).collect();
        return Err(Error::invalid_job(format!(
            "event id {shown:?} is invalid: expected 1 to {MAX_EVENT_ID_LEN} ASCII letters, \
             digits, '-', '_' or '.', other than '.' or '..'"
        )));
    }
    Ok(())
}

/// Checks that an event id is a decimal number, as most bookmakers' ids are.
///
/// # Errors
///
/// Returns [`Error::InvalidJob`] naming the id.
pub fn validate_numeric_event_id(event_id: &str) -> Result<()> {
    validate_event_id(event_id)?;
    if !event_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid_job(format!(
            "event id {event_id:?} is invalid: expected digits only"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_id_rejects_path_characters() {
        for id in [
            "", "..", ".", "1/2", "1?x=2", "1#x", "a b", "%2e%2e", "é", "1\n",
        ] {
            assert!(validate_event_id(id).is_err(), "{id:?} accepted");
        }
        let long = "9".repeat(MAX_EVENT_ID_LEN + 1);
        assert!(validate_event_id(&long).is_err());
        for id in ["1007519027", "abc-DEF_1.2", "1.123456"] {
            assert!(validate_event_id(id).is_ok(), "{id:?} rejected");
        }
    }

    #[test]
    fn numeric_event_id() {
        assert!(validate_numeric_event_id("1007519027").is_ok());
        let error = validate_numeric_event_id("10a").unwrap_err().to_string();
        assert_eq!(
            error,
            "invalid job: event id \"10a\" is invalid: expected digits only"
        );
    }
}
