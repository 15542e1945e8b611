//! The API-NG schema of `listMarketCatalogue`, `listMarketBook` and `listEvents`
//! responses, and the mapping into the normalized model.
//!
//! A catalogue names each market (`marketId`, `description.marketType`), its runners
//! (`selectionId`, `runnerName`, `handicap`) and its event. A book carries the market's
//! `status` and each runner's `status` and ladders (`ex.availableToBack`,
//! `ex.availableToLay`). The two are joined on `marketId`, and runners on `selectionId`.
//!
//! Rules of the mapping:
//!
//! - Only an `OPEN` market's `ACTIVE` runner with a back price is open; every other
//!   runner of a market that is not `CLOSED` is suspended, keeping its last prices.
//! - `CLOSED` markets are left out, and so are runners that are not `ACTIVE` (removed,
//!   hidden, settled). A market, or a line of a multi-line market, that then lacks an
//!   outcome of its kind is left out whole, because a partial market is not a market.
//! - A market with a runner its type cannot name is left out whole.
//! - `Outcome::price` is the best back price, `back` and `lay` the best levels. A level
//!   of size 0 (such as `{"price": 0, "size": 0}`) or price 1 or less is no offer;
//!   an empty ladder is no price.
//! - Prices, sizes and handicaps are read from the JSON number's text, so they keep
//!   Betfair's exact decimals.

use std::borrow::Cow;
use std::fmt;

use compact_str::{CompactString, ToCompactString};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, IgnoredAny, SeqAccess, Visitor};
use serde_json::value::RawValue;
use xtr_core::error::{Context, Error, Result};
use xtr_core::{
    Event, EventMarkets, ExchangePrice, Line, Market, MarketKey, MarketKind, MarketSet, Outcome,
    OutcomeStatus, Price, Size, Timestamp,
};

use crate::BOOKMAKER;
use crate::market_types::{self, MarketType, Shape, Teams};
use crate::rpc;

/// Betfair's event type id of soccer.
pub(crate) const SOCCER_EVENT_TYPE_ID: &str = "1";

/// The status of a market in `listMarketBook`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MarketBookStatus {
    /// Created but not yet open for betting.
    Inactive,
    /// Open for betting.
    Open,
    /// Temporarily closed, for example while a goal is checked.
    Suspended,
    /// Closed for good: settled or about to be.
    Closed,
    /// A status this crate does not know.
    #[serde(other)]
    Unknown,
}

/// The status of a runner in `listMarketBook`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunnerStatus {
    /// Open for betting while its market is.
    Active,
    /// Settled as a winner.
    Winner,
    /// Settled as a loser.
    Loser,
    /// Settled as placed.
    Placed,
    /// Removed, and its place left vacant.
    RemovedVacant,
    /// Removed from the market.
    Removed,
    /// Hidden, as a line of a line market that is no longer offered.
    Hidden,
    /// A status this crate does not know.
    #[serde(other)]
    Unknown,
}

/// One market of a `listMarketBook` response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketBook {
    /// `marketId`, such as `1.125875153`.
    pub market_id: CompactString,
    /// `status`.
    pub status: MarketBookStatus,
    /// `inplay`: whether the event is under way.
    pub inplay: bool,
    /// `runners`, in Betfair's order.
    pub runners: Vec<RunnerBook>,
}

/// One runner of a `listMarketBook` market with the best level of each ladder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerBook {
    /// `selectionId`.
    pub selection_id: u64,
    /// `handicap`: the line of a runner in a line market, else 0.
    pub handicap: Option<Line>,
    /// `status`.
    pub status: RunnerStatus,
    /// The best level of `ex.availableToBack` that is an offer.
    pub back: Option<ExchangePrice>,
    /// The best level of `ex.availableToLay` that is an offer.
    pub lay: Option<ExchangePrice>,
}

/// One entry of a catalogue or book result. Both lists share this struct so that one
/// pass reads either; an entry with `marketName` is a catalogue entry, one with
/// `status` a book entry.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResultItem<'a> {
    #[serde(borrow)]
    market_id: Option<Cow<'a, str>>,
    market_name: Option<IgnoredAny>,
    #[serde(borrow)]
    description: Option<Description<'a>>,
    #[serde(borrow)]
    event: Option<EventInfo<'a>>,
    #[serde(borrow)]
    event_type: Option<EventTypeInfo<'a>>,
    #[serde(borrow)]
    competition: Option<CompetitionInfo<'a>>,
    market_start_time: Option<Timestamp>,
    status: Option<MarketBookStatus>,
    inplay: Option<bool>,
    #[serde(borrow, default)]
    runners: Vec<RunnerItem<'a>>,
}

impl ResultItem<'_> {
    fn market_id(&self) -> &str {
        self.market_id.as_deref().unwrap_or_default()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Description<'a> {
    #[serde(borrow)]
    market_type: Cow<'a, str>,
    #[serde(borrow)]
    betting_type: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventInfo<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    open_date: Option<Timestamp>,
}

#[derive(Deserialize)]
struct EventTypeInfo<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct CompetitionInfo<'a> {
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
}

/// A runner of a catalogue entry (name, no prices) or of a book entry (status and
/// ladders, no name).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunnerItem<'a> {
    selection_id: u64,
    #[serde(borrow)]
    runner_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    handicap: Option<&'a RawValue>,
    status: Option<RunnerStatus>,
    ex: Option<Exchange>,
}

impl RunnerItem<'_> {
    /// Returns the handicap, or `None` when it is absent or not a decimal.
    fn handicap(&self) -> Option<Line> {
        self.handicap
            .and_then(|raw| decimal(raw.get()))
            .map(Line::new)
    }

    fn back(&self) -> Option<ExchangePrice> {
        self.ex.as_ref().and_then(|ex| ex.available_to_back?.0)
    }

    fn lay(&self) -> Option<ExchangePrice> {
        self.ex.as_ref().and_then(|ex| ex.available_to_lay?.0)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Exchange {
    available_to_back: Option<BestLevel>,
    available_to_lay: Option<BestLevel>,
}

/// The first level of a ladder that is an offer. Betfair sorts each ladder best first,
/// so that level is the best price; the levels after it are skipped unparsed.
#[derive(Clone, Copy)]
struct BestLevel(Option<ExchangePrice>);

impl<'de> Deserialize<'de> for BestLevel {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(LadderVisitor)
    }
}

struct LadderVisitor;

impl<'de> Visitor<'de> for LadderVisitor {
    type Value = BestLevel;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a ladder of {price, size} levels")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<BestLevel, A::Error> {
        let mut best = None;
        while best.is_none() {
            let Some(level) = seq.next_element::<Level<'de>>()? else {
                break;
            };
            best = level.offer().map_err(de::Error::custom)?;
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(BestLevel(best))
    }
}

#[derive(Deserialize)]
struct Level<'a> {
    #[serde(borrow)]
    price: &'a RawValue,
    #[serde(borrow)]
    size: &'a RawValue,
}

impl Level<'_> {
    /// Returns the level as an offer, `None` when its size is 0 or its price 1 or less.
    fn offer(&self) -> Result<Option<ExchangePrice>, String> {
        let invalid = |what: &str, raw: &RawValue| format!("invalid {what} {}", raw.get());
        let price = decimal(self.price.get()).ok_or_else(|| invalid("price", self.price))?;
        let size = decimal(self.size.get()).ok_or_else(|| invalid("size", self.size))?;
        if price <= Decimal::ONE || size <= Decimal::ZERO {
            return Ok(None);
        }
        Ok(Some(ExchangePrice {
            price: Price::new(price),
            size: Size::new(size),
        }))
    }
}

/// Reads a JSON number's text exactly; the exponent form (`1.0E7`) is accepted too.
fn decimal(text: &str) -> Option<Decimal> {
    Decimal::from_str_exact(text)
        .or_else(|_| Decimal::from_scientific(text))
        .ok()
}

fn context() -> Context {
    Context::new(BOOKMAKER, "parse")
}

fn malformed(detail: impl Into<String>) -> Error {
    Error::Malformed {
        context: context(),
        detail: detail.into(),
    }
}

/// Parses catalogue and book responses, in any order, into one entry per event the
/// catalogues name.
///
/// A catalogue market without a book entry is left out because its prices are
/// unknown, and a book entry without a catalogue market is left out because its type
/// is unknown. An event whose catalogue entries are all of unmapped or unrequested
/// types has no markets, so the worker publishes `not_offered` for it.
///
/// # Errors
///
/// Returns [`Error::Malformed`] when a body is not a JSON-RPC response of
/// `listMarketCatalogue` or `listMarketBook`, and the error the API reported when a
/// body is a JSON-RPC error ([`Error::SessionExpired`] for an expired session).
pub fn parse(bodies: &[&[u8]], markets: MarketSet) -> Result<Vec<EventMarkets>> {
    let (catalogue, mut books) = read_bodies(bodies)?;
    books.sort_unstable_by(|a, b| a.market_id().cmp(b.market_id()));

    let mut events: Vec<EventMarkets> = Vec::new();
    for item in &catalogue {
        let Some(info) = &item.event else {
            continue;
        };
        let index = event_index(&mut events, item, info);
        let Ok(found) = books.binary_search_by(|book| book.market_id().cmp(item.market_id()))
        else {
            continue;
        };
        let book = &books[found];
        let EventMarkets {
            event,
            markets: out,
        } = &mut events[index];
        event.live |= book.inplay == Some(true);

        let Some(market_type) = item
            .description
            .as_ref()
            .and_then(|description| market_types::find(&description.market_type))
        else {
            continue;
        };
        if !markets.contains(market_type.kind) || !is_soccer(item) {
            continue;
        }
        let teams = match (&event.home, &event.away) {
            (Some(home), Some(away)) => Some(Teams { home, away }),
            _ => None,
        };
        map_market(market_type, item, book, teams, out);
    }

    for entry in &mut events {
        entry.markets.sort_by_key(|market| market.key);
        // Two catalogue markets claiming one key would be ambiguous; the first is kept.
        entry.markets.dedup_by_key(|market| market.key);
    }
    Ok(events)
}

/// Reads every body and sorts its entries into catalogue entries (with `marketName`)
/// and book entries (with `status`).
fn read_bodies<'a>(bodies: &[&'a [u8]]) -> Result<(Vec<ResultItem<'a>>, Vec<ResultItem<'a>>)> {
    let mut catalogue = Vec::new();
    let mut books = Vec::new();
    for body in bodies {
        let items: Vec<ResultItem<'a>> = rpc::read_result(body, context)?;
        for item in items {
            if item.market_id.is_none() {
                return Err(malformed("a result entry has no marketId"));
            }
            if item.market_name.is_some() {
                catalogue.push(item);
            } else if item.status.is_some() {
                books.push(item);
            } else {
                return Err(malformed(format!(
                    "result entry {} is neither a market catalogue (no marketName) nor a market book (no status)",
                    item.market_id()
                )));
            }
        }
    }
    Ok((catalogue, books))
}

/// Returns the index of the catalogue entry's event in `events`, adding the event when
/// it is new and filling fields it lacked when it is not.
fn event_index(
    events: &mut Vec<EventMarkets>,
    item: &ResultItem<'_>,
    info: &EventInfo<'_>,
) -> usize {
    if let Some(index) = events.iter().position(|entry| entry.event.id == info.id) {
        fill_event(&mut events[index].event, item);
        return index;
    }
    events.push(EventMarkets {
        event: new_event(item, info),
        markets: Vec::new(),
    });
    events.len() - 1
}

/// Parses a `listMarketBook` response into each market's status and each runner's best
/// levels, whatever the market type. Unlike [`parse`], which needs the catalogue to
/// name markets, this reads the book alone, for checks and tools.
///
/// # Errors
///
/// Returns [`Error::Malformed`] when the body is not a `listMarketBook` response, and the
/// API's error when it is a JSON-RPC error.
pub fn parse_market_book(body: &[u8]) -> Result<Vec<MarketBook>> {
    let items: Vec<ResultItem<'_>> = rpc::read_result(body, context)?;
    items
        .into_iter()
        .map(|item| {
            let (Some(market_id), Some(status)) = (&item.market_id, item.status) else {
                return Err(malformed(
                    "a listMarketBook entry lacks its marketId or status",
                ));
            };
            let runners = item
                .runners
                .iter()
                .map(|runner| RunnerBook {
                    selection_id: runner.selection_id,
                    handicap: runner.handicap(),
                    status: runner.status.unwrap_or(RunnerStatus::Unknown),
                    back: runner.back(),
                    lay: runner.lay(),
                })
                .collect();
            Ok(MarketBook {
                market_id: CompactString::from(market_id.as_ref()),
                status,
                inplay: item.inplay.unwrap_or(false),
                runners,
            })
        })
        .collect()
}

#[derive(Deserialize)]
struct EventResult<'a> {
    #[serde(borrow)]
    event: EventInfo<'a>,
}

/// Parses a `listEvents` response of soccer events (the listing filters on event type 1).
/// Betfair names a match `"Home v Away"`; events named otherwise, such as a league's
/// outright markets, have no teams.
///
/// NOTE: `listEvents` does not say whether an event is in play, so `live` is false.
///
/// # Errors
///
/// Returns [`Error::Malformed`] when the body is not a `listEvents` response, and the
/// API's error when it is a JSON-RPC error.
pub fn parse_event_list(body: &[u8]) -> Result<Vec<Event>> {
    let context = || Context::new(BOOKMAKER, "list events");
    let items: Vec<EventResult<'_>> = rpc::read_result(body, context)?;
    Ok(items
        .iter()
        .map(|item| {
            let (home, away) = teams_of(&item.event);
            Event {
                id: CompactString::from(item.event.id.as_ref()),
                sport: Some(CompactString::const_new("football")),
                competition: None,
                home,
                away,
                start: item.event.open_date,
                live: false,
            }
        })
        .collect())
}

fn teams_of(info: &EventInfo<'_>) -> (Option<String>, Option<String>) {
    match info
        .name
        .as_deref()
        .and_then(market_types::split_event_name)
    {
        Some((home, away)) => (Some(home.to_owned()), Some(away.to_owned())),
        None => (None, None),
    }
}

fn new_event(item: &ResultItem<'_>, info: &EventInfo<'_>) -> Event {
    let (home, away) = teams_of(info);
    let mut event = Event {
        id: CompactString::from(info.id.as_ref()),
        sport: None,
        competition: None,
        home,
        away,
        start: info.open_date,
        live: false,
    };
    fill_event(&mut event, item);
    event
}

/// Fills the event fields one catalogue entry may carry and an earlier one lacked.
fn fill_event(event: &mut Event, item: &ResultItem<'_>) {
    if event.sport.is_none() {
        event.sport = item.event_type.as_ref().and_then(sport_name);
    }
    if event.competition.is_none() {
        event.competition = item
            .competition
            .as_ref()
            .and_then(|competition| competition.name.as_deref())
            .map(str::to_owned);
    }
    if event.start.is_none() {
        event.start = item.market_start_time;
    }
}

fn sport_name(event_type: &EventTypeInfo<'_>) -> Option<CompactString> {
    if event_type.id == SOCCER_EVENT_TYPE_ID {
        return Some(CompactString::const_new("football"));
    }
    event_type
        .name
        .as_deref()
        .map(|name| CompactString::from(name.to_lowercase()))
}

/// Returns whether the entry is a soccer market; an entry without `eventType` is
/// trusted, because the catalogue request filters on the event.
fn is_soccer(item: &ResultItem<'_>) -> bool {
    item.event_type
        .as_ref()
        .is_none_or(|event_type| event_type.id == SOCCER_EVENT_TYPE_ID)
}

/// Maps one catalogue market and its book into one market per line, pushed to `out`.
/// Returns `None` when the market is left out whole.
fn map_market(
    market_type: &MarketType,
    catalogue: &ResultItem<'_>,
    book: &ResultItem<'_>,
    teams: Option<Teams<'_>>,
    out: &mut Vec<Market>,
) -> Option<()> {
    let status = book.status?;
    if status == MarketBookStatus::Closed {
        return None;
    }
    let open = status == MarketBookStatus::Open;

    let mut lines: Vec<(Option<Line>, Vec<Outcome>)> = Vec::new();
    for runner in &book.runners {
        if runner.status != Some(RunnerStatus::Active) {
            continue;
        }
        let name = catalogue
            .runners
            .iter()
            .find(|entry| entry.selection_id == runner.selection_id)?
            .runner_name
            .as_deref()?;
        let outcome =
            market_types::runner_outcome(market_type.shape, name, runner.selection_id, teams)?;
        let line = market_types::runner_line(market_type.shape, outcome, runner.handicap())?;

        let back = runner.back();
        let built = Outcome {
            outcome,
            price: back.map(|level| level.price),
            status: if open && back.is_some() {
                OutcomeStatus::Open
            } else {
                OutcomeStatus::Suspended
            },
            id: Some(runner.selection_id.to_compact_string()),
            back,
            lay: runner.lay(),
        };
        match lines.iter_mut().find(|(known, _)| *known == line) {
            Some((_, outcomes)) => outcomes.push(built),
            None => lines.push((line, vec![built])),
        }
    }

    if market_type.shape == Shape::GoalLines && !is_asian_total(catalogue) {
        return None;
    }

    let market_id = CompactString::from(catalogue.market_id());
    for (line, outcomes) in lines {
        if line.is_some_and(|line| !valid_line(market_type.kind, line)) {
            continue;
        }
        let mut market = Market {
            key: MarketKey {
                kind: market_type.kind,
                period: market_type.period,
                line,
            },
            id: Some(market_id.clone()),
            outcomes,
            changed_at: None,
        };
        market.sort_outcomes();
        let names = market.outcomes.iter().map(|outcome| outcome.outcome);
        if names.eq(market_type.kind.outcomes().iter().copied()) {
            out.push(market);
        }
    }
    Some(())
}

/// Returns whether a goal lines market is an asian total: Betfair marks it with an
/// asian betting type, or one of its runners has a quarter or whole-goal line.
fn is_asian_total(catalogue: &ResultItem<'_>) -> bool {
    let asian_type = catalogue
        .description
        .as_ref()
        .and_then(|description| description.betting_type.as_deref())
        .is_some_and(|betting_type| betting_type.starts_with("ASIAN_HANDICAP"));
    asian_type
        || catalogue.runners.iter().any(|runner| {
            runner
                .handicap()
                .is_some_and(|line| line.value().fract().abs() != Decimal::new(5, 1))
        })
}

/// Returns whether a line is one the kind can have: asian lines are quarter goals, and
/// totals are not negative.
fn valid_line(kind: MarketKind, line: Line) -> bool {
    let quarter = (line.value() / Decimal::new(25, 2)).fract().is_zero();
    match kind {
        MarketKind::AsianHandicap => quarter,
        MarketKind::AsianTotal => quarter && line.value() > Decimal::ZERO,
        _ => true,
    }
}
