//! The schema of Betway's `Events/V2` API and its mapping into the normalized model.
//!
//! A response is normalised: `Event` (GetEventDetails) or `Events` (GetEvents) sits
//! beside `Markets` and `Outcomes`, and they refer to each other by id. A market lists
//! its outcomes as rows of outcome ids.
//!
//! A market's `TypeCName` is shared by markets that are not the same: every
//! win-draw-win time window is `win-draw-win` too, and combinations put `CouponName`
//! "Home" on every outcome. So a market is mapped only when its `TypeCName` and its
//! English `Title` are both one of these:
//!
//! | `TypeCName` | `Title` | kind, period |
//! |---|---|---|
//! | `win-draw-win` | `Win/Draw/Win` | 1x2 ft |
//! | `win-draw-win` | `1st Half - Win/Draw/Win` | 1x2 1h |
//! | `win-draw-win` | `2nd Half - Win/Draw/Win` | 1x2 2h |
//! | `both-teams-to-score` | `Both Teams To Score` | btts ft |
//! | `both-teams-to-score` | `1st Half Both Teams To Score` | btts 1h |
//! | `both-teams-to-score` | `2nd Half Both Teams To Score` | btts 2h |
//! | `goals-over` | `Total Goals {line}` | total_goals ft (half-goal line), asian_total ft (quarter or whole line) |
//!
//! The line of a total is only in its title (`Handicap` is 0). Outcomes are mapped by
//! `CouponName` (Home, Draw, Away) in 1x2 markets and by `BetName` (Yes, No, Over,
//! Under) in the others, and a market whose outcomes are not exactly its kind's, each
//! once, is left out. `OddsDecimal` is Betway's own decimal price and is kept exactly.
//!
//! NOTE: no recording shows the titles of Betway's half-time totals, draw no bet, double
//! chance or asian handicap markets, so those are not mapped.

use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

use compact_str::{CompactString, ToCompactString};
use rust_decimal::Decimal;
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use xtr_core::error::{Context, Error, Result};
use xtr_core::{
    Event, EventMarkets, Line, Market, MarketKey, MarketKind, MarketSet, Outcome, OutcomeName,
    OutcomeStatus, Period, Price, Timestamp,
};

/// The registered bookmaker name, used in error contexts.
pub(crate) const BOOKMAKER: &str = "betway";

/// Betway's category of football.
pub const FOOTBALL_CATEGORY: &str = "soccer";

// ---------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------

/// A GetEventDetails or GetEvents response.
#[derive(Deserialize)]
struct Response<'a> {
    /// GetEventDetails: the event, `Some(None)` when the key is there but `null`.
    #[serde(rename = "Event", default, deserialize_with = "present", borrow)]
    event: Option<Option<EventRow<'a>>>,
    /// GetEvents: the events.
    #[serde(rename = "Events", borrow)]
    events: Option<Vec<EventRow<'a>>>,
    #[serde(rename = "Markets", default, borrow)]
    markets: Option<Vec<MarketRow<'a>>>,
    #[serde(rename = "Outcomes", default, borrow)]
    outcomes: Option<Vec<OutcomeRow<'a>>>,
}

/// Deserializes a field that is present, so that `null` and absence differ.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

#[derive(Deserialize)]
struct EventRow<'a> {
    #[serde(rename = "Id")]
    id: u64,
    #[serde(rename = "HomeTeamName", borrow)]
    home: Option<Cow<'a, str>>,
    #[serde(rename = "AwayTeamName", borrow)]
    away: Option<Cow<'a, str>>,
    /// The competition, such as "First Division A".
    #[serde(rename = "GroupName", borrow)]
    group: Option<Cow<'a, str>>,
    /// The sport, such as `soccer`.
    #[serde(rename = "CategoryCName", borrow)]
    category: Option<Cow<'a, str>>,
    /// Kick-off in milliseconds since the Unix epoch.
    #[serde(rename = "Milliseconds")]
    start_millis: Option<i64>,
    #[serde(rename = "IsLive", default)]
    is_live: bool,
    #[serde(rename = "IsSuspended", default)]
    is_suspended: bool,
    #[serde(rename = "IsOutright", default)]
    is_outright: bool,
}

#[derive(Deserialize)]
struct MarketRow<'a> {
    #[serde(rename = "Id")]
    id: u64,
    #[serde(rename = "EventId")]
    event_id: u64,
    #[serde(rename = "Title", borrow)]
    title: Cow<'a, str>,
    #[serde(rename = "TypeCName", borrow)]
    type_cname: Option<Cow<'a, str>>,
    #[serde(rename = "IsSuspended", default)]
    is_suspended: bool,
    /// Rows of outcome ids.
    #[serde(rename = "Outcomes", default)]
    outcomes: Vec<Vec<u64>>,
}

#[derive(Deserialize)]
struct OutcomeRow<'a> {
    #[serde(rename = "Id")]
    id: u64,
    #[serde(rename = "MarketId")]
    market_id: Option<u64>,
    /// Yes, No, Over, Under, or a team's name.
    #[serde(rename = "BetName", borrow)]
    bet_name: Option<Cow<'a, str>>,
    /// Home, Draw or Away in a win-draw-win market.
    #[serde(rename = "CouponName", borrow)]
    coupon_name: Option<Cow<'a, str>>,
    /// The decimal price as sent, read from its text so that no digit is lost.
    #[serde(rename = "OddsDecimal", borrow)]
    odds: Option<&'a RawValue>,
    #[serde(rename = "IsActive", default = "yes")]
    is_active: bool,
    #[serde(rename = "IsDisplay", default = "yes")]
    is_display: bool,
}

fn yes() -> bool {
    true
}

// ---------------------------------------------------------------------------------------
// Mapping
// ---------------------------------------------------------------------------------------

fn parse_context() -> Context {
    Context::new(BOOKMAKER, "parse response")
}

/// Returns an error unless the body is a JSON object. serde would also read a struct
/// from a JSON array, by position, which no Betway response is.
fn require_object(body: &[u8]) -> Result<()> {
    match body.iter().find(|byte| !byte.is_ascii_whitespace()) {
        Some(b'{') => Ok(()),
        _ => Err(Error::Malformed {
            context: parse_context(),
            detail: "expected a JSON object with `Event` or `Events`".into(),
        }),
    }
}

/// Parses one body into a [`Response`].
fn parse_response(body: &[u8]) -> Result<Response<'_>> {
    require_object(body)?;
    serde_json::from_slice(body).map_err(|error| Error::malformed(parse_context(), &error))
}

/// The fields that show whether a response names an event, read without the markets.
#[derive(Deserialize)]
struct EventProbe {
    #[serde(rename = "Event")]
    event: Option<IgnoredAny>,
    #[serde(rename = "Events")]
    events: Option<Vec<IgnoredAny>>,
}

/// Returns whether a GetEventDetails or GetEvents body names at least one event.
///
/// # Errors
///
/// Returns [`Error::Malformed`] when the body is not a JSON object.
pub(crate) fn names_an_event(body: &[u8]) -> Result<bool> {
    require_object(body)?;
    let probe: EventProbe =
        serde_json::from_slice(body).map_err(|error| Error::malformed(parse_context(), &error))?;
    Ok(probe.event.is_some() || probe.events.is_some_and(|events| !events.is_empty()))
}

/// Parses GetEventDetails or GetEvents bodies into one entry per event they describe.
/// Outright events, which have no home and away team, are left out.
///
/// # Errors
///
/// Returns [`Error::Malformed`] when there is no body, or when a body is not a JSON
/// object with an `Event` or `Events` field in Betway's schema.
pub fn parse(bodies: &[&[u8]], requested: MarketSet) -> Result<Vec<EventMarkets>> {
    if bodies.is_empty() {
        return Err(Error::Malformed {
            context: parse_context(),
            detail: "expected a GetEventDetails or GetEvents body, got none".into(),
        });
    }
    let mut events = Vec::new();
    for body in bodies {
        let response = parse_response(body)?;
        map_response(response, requested, &mut events)?;
    }
    Ok(events)
}

/// An event being mapped.
struct EventBuilder {
    event: Event,
    suspended: bool,
    markets: Vec<Market>,
}

fn map_response(
    response: Response<'_>,
    requested: MarketSet,
    output: &mut Vec<EventMarkets>,
) -> Result<()> {
    if response.event.is_none() && response.events.is_none() {
        return Err(Error::Malformed {
            context: parse_context(),
            detail: "the body has neither an `Event` nor an `Events` field".into(),
        });
    }
    let rows = response
        .event
        .flatten()
        .into_iter()
        .chain(response.events.unwrap_or_default());

    let mut events: Vec<EventBuilder> = Vec::new();
    let mut event_index: HashMap<u64, usize> = HashMap::new();
    for row in rows {
        let Some(event) = event(&row)? else { continue };
        if let Entry::Vacant(slot) = event_index.entry(row.id) {
            slot.insert(events.len());
            events.push(EventBuilder {
                event,
                suspended: row.is_suspended,
                markets: Vec::new(),
            });
        }
    }

    let outcomes = response.outcomes.unwrap_or_default();
    let outcome_index: HashMap<u64, &OutcomeRow<'_>> = outcomes
        .iter()
        .map(|outcome| (outcome.id, outcome))
        .collect();
    for row in response.markets.iter().flatten() {
        let Some(&index) = event_index.get(&row.event_id) else {
            continue;
        };
        let builder = &mut events[index];
        if let Some(market) = market(row, &outcome_index, builder.suspended, requested) {
            builder.markets.push(market);
        }
    }

    output.extend(events.into_iter().map(|mut builder| {
        // Stable sort: of two markets with one key, the first in the body stays.
        builder.markets.sort_by_key(|market| market.key);
        builder.markets.dedup_by_key(|market| market.key);
        EventMarkets {
            event: builder.event,
            markets: builder.markets,
        }
    }));
    Ok(())
}

/// Returns the event of a match, or `None` for an outright.
fn event(row: &EventRow<'_>) -> Result<Option<Event>> {
    let (Some(home), Some(away)) = (&row.home, &row.away) else {
        return Ok(None);
    };
    if row.is_outright || home.is_empty() || away.is_empty() {
        return Ok(None);
    }
    let start = match row.start_millis {
        Some(millis) => {
            let time = chrono::DateTime::from_timestamp_millis(millis).ok_or_else(|| {
                Error::Malformed {
                    context: parse_context(),
                    detail: format!("event {}: Milliseconds {millis} is out of range", row.id),
                }
            })?;
            Some(Timestamp(time))
        }
        None => None,
    };
    let sport = row.category.as_deref().map(|category| {
        if category == FOOTBALL_CATEGORY {
            CompactString::const_new("football")
        } else {
            CompactString::from(category)
        }
    });
    Ok(Some(Event {
        id: row.id.to_compact_string(),
        sport,
        competition: row.group.as_deref().map(str::to_owned),
        home: Some(home.clone().into_owned()),
        away: Some(away.clone().into_owned()),
        start,
        live: row.is_live,
    }))
}

/// Returns the kind, period and line of a market, by its type and English title.
fn identify(type_cname: &str, title: &str) -> Option<(MarketKind, Period, Option<Line>)> {
    let (kind, period) = match (type_cname, title) {
        ("win-draw-win", "Win/Draw/Win") => (MarketKind::MatchResult, Period::FullTime),
        ("win-draw-win", "1st Half - Win/Draw/Win") => (MarketKind::MatchResult, Period::FirstHalf),
        ("win-draw-win", "2nd Half - Win/Draw/Win") => {
            (MarketKind::MatchResult, Period::SecondHalf)
        }
        ("both-teams-to-score", "Both Teams To Score") => (MarketKind::Btts, Period::FullTime),
        ("both-teams-to-score", "1st Half Both Teams To Score") => {
            (MarketKind::Btts, Period::FirstHalf)
        }
        ("both-teams-to-score", "2nd Half Both Teams To Score") => {
            (MarketKind::Btts, Period::SecondHalf)
        }
        ("goals-over", _) => {
            // Only "Total Goals 2.5": a team's, a half's or a time window's total has
            // more words in its title and fails to parse as a line.
            let line: Line = title.strip_prefix("Total Goals ")?.parse().ok()?;
            let value = line.value();
            if value.is_sign_negative() {
                return None;
            }
            let kind = if value.fract() == Decimal::new(5, 1) {
                MarketKind::TotalGoals
            } else if (value / Decimal::new(25, 2)).fract().is_zero() {
                MarketKind::AsianTotal
            } else {
                return None;
            };
            return Some((kind, Period::FullTime, Some(line)));
        }
        _ => return None,
    };
    Some((kind, period, None))
}

fn outcome_name(kind: MarketKind, outcome: &OutcomeRow<'_>) -> Option<OutcomeName> {
    match kind {
        MarketKind::MatchResult => match outcome.coupon_name.as_deref()? {
            "Home" => Some(OutcomeName::Home),
            "Draw" => Some(OutcomeName::Draw),
            "Away" => Some(OutcomeName::Away),
            _ => None,
        },
        MarketKind::Btts => match outcome.bet_name.as_deref()? {
            "Yes" => Some(OutcomeName::Yes),
            "No" => Some(OutcomeName::No),
            _ => None,
        },
        MarketKind::TotalGoals | MarketKind::AsianTotal => match outcome.bet_name.as_deref()? {
            "Over" => Some(OutcomeName::Over),
            "Under" => Some(OutcomeName::Under),
            _ => None,
        },
        _ => None,
    }
}

/// Reads `OddsDecimal` exactly. A missing or `null` price, or one of 1 or less, gives `None`.
fn price(raw: Option<&RawValue>) -> Option<Price> {
    let price: Price = raw?.get().parse().ok()?;
    (price.value() > Decimal::ONE).then_some(price)
}

fn market(
    row: &MarketRow<'_>,
    outcomes: &HashMap<u64, &OutcomeRow<'_>>,
    event_suspended: bool,
    requested: MarketSet,
) -> Option<Market> {
    let (kind, period, line) = identify(row.type_cname.as_deref()?, &row.title)?;
    if !requested.contains(kind) {
        return None;
    }
    let suspended = event_suspended || row.is_suspended;

    let mut mapped = Vec::with_capacity(3);
    for id in row.outcomes.iter().flatten() {
        let outcome = outcomes.get(id)?;
        if outcome.market_id.is_some_and(|market| market != row.id) {
            return None;
        }
        let name = outcome_name(kind, outcome)?;
        let price = price(outcome.odds);
        let closed = suspended || !outcome.is_active || !outcome.is_display || price.is_none();
        let status = if closed {
            OutcomeStatus::Suspended
        } else {
            OutcomeStatus::Open
        };
        mapped.push(Outcome::new(
            name,
            price,
            status,
            Some(id.to_compact_string()),
        ));
    }

    let key = MarketKey { kind, period, line };
    let mut market = Market {
        key,
        id: Some(row.id.to_compact_string()),
        outcomes: mapped,
        changed_at: None,
    };
    market.sort_outcomes();
    // A combination puts one coupon name on several outcomes, so duplicates or gaps mean
    // the market is not the kind its title names.
    let names = market.outcomes.iter().map(|outcome| outcome.outcome);
    names.eq(kind.outcomes().iter().copied()).then_some(market)
}
