//! Job entries: what a producer writes to the job stream, and how it is checked.

use xtr_core::extractor::check_markets;
use xtr_core::registry::Extractors;
use xtr_core::{Error, MarketSet};

use crate::redis::Entry;

/// Longest value accepted in the `bookmaker` field, in bytes.
const MAX_BOOKMAKER_LEN: usize = 64;
/// Longest value accepted in the `markets` field, in bytes.
const MAX_MARKETS_LEN: usize = 256;

/// A job, checked against this build's extractors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Registered bookmaker name.
    pub bookmaker: String,
    /// The bookmaker's event id.
    pub event: String,
    /// Market kinds to extract.
    pub markets: MarketSet,
}

/// Shows a field value in an error message: lossy UTF-8, cut to 80 characters.
fn shown(value: &[u8]) -> String {
    let text = String::from_utf8_lossy(value);
    let mut shown: String = text.chars().take(80).collect();
    if text.chars().count() > 80 {
        shown.push('…');
    }
    shown
}

fn text_field<'a>(entry: &'a Entry, name: &str, max: usize) -> Result<&'a str, Error> {
    let value = entry
        .field(name)
        .ok_or_else(|| Error::invalid_job(format!("missing field {name:?}")))?;
    if value.len() > max {
        return Err(Error::invalid_job(format!(
            "field {name:?} is {} bytes long; the maximum is {max}",
            value.len()
        )));
    }
    let text = std::str::from_utf8(value).map_err(|_| {
        Error::invalid_job(format!("field {name:?} is not UTF-8: {:?}", shown(value)))
    })?;
    if text.trim().is_empty() {
        return Err(Error::invalid_job(format!("field {name:?} is empty")));
    }
    Ok(text.trim())
}

impl Job {
    /// Reads and checks a job entry: the bookmaker must be compiled in, the event id
    /// valid for it, and every requested kind supported by it. Without `markets` the job
    /// gets the worker type's kinds that the bookmaker supports.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidJob`] or [`Error::UnsupportedMarket`] with the reason;
    /// such a job can never succeed and goes to the dead-letter stream.
    pub fn parse(
        entry: &Entry,
        extractors: &Extractors,
        default_markets: MarketSet,
    ) -> Result<Job, Error> {
        let bookmaker = text_field(entry, "bookmaker", MAX_BOOKMAKER_LEN)?;
        let extractor = extractors.get(bookmaker).ok_or_else(|| {
            let known: Vec<_> = extractors.names().collect();
            Error::invalid_job(format!(
                "unknown bookmaker {:?}; this build has: {}",
                shown(bookmaker.as_bytes()),
                known.join(", ")
            ))
        })?;

        let event_value = entry
            .field("event")
            .ok_or_else(|| Error::invalid_job("missing field \"event\""))?;
        let event = std::str::from_utf8(event_value).map_err(|_| {
            Error::invalid_job(format!(
                "field \"event\" is not UTF-8: {:?}",
                shown(event_value)
            ))
        })?;
        extractor.validate_event_id(event)?;

        let capabilities = extractor.capabilities();
        let markets = match entry.field("markets") {
            Some(_) => {
                let text = text_field(entry, "markets", MAX_MARKETS_LEN)?;
                let markets = MarketSet::parse_list(text)
                    .map_err(|error| Error::invalid_job(format!("field \"markets\": {error}")))?;
                check_markets(extractor.name(), capabilities, markets)?;
                markets
            }
            None => {
                let markets = default_markets.intersection(capabilities.markets);
                if markets.is_empty() {
                    return Err(Error::UnsupportedMarket {
                        bookmaker: extractor.name(),
                        kind: default_markets.to_string(),
                        supported: capabilities.markets.to_string(),
                    });
                }
                markets
            }
        };

        Ok(Job {
            bookmaker: extractor.name().to_owned(),
            event: event.to_owned(),
            markets,
        })
    }
}
