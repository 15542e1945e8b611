//! The SBTech sportsdata schema and its mapping into xtr's markets.
//!
//! A body is `{"events": [...], "markets": [...], "regions": [...], "leagues": [...]}`,
//! or the same object under `data`. Markets refer to their event by `eventId`, and one
//! market can offer several lines, each of which becomes its own [`Market`]. Selections
//! are parsed only for markets whose type name xtr maps, so the other markets of an
//! event cost only a scan.
//!
//! Markets map by the exact English name of `marketType` (ASCII case ignored):
//!
//! | Market type name                                   | Kind, period            |
//! |----------------------------------------------------|-------------------------|
//! | `1X2`, `1X2 1st Half`, `1X2 2nd Half`               | 1x2 ft, 1h, 2h          |
//! | `Total Goals`, `... 1st Half`, `... 2nd Half`       | total_goals or asian_total |
//! | `OU`, `OU 1st Half`, `OU 2nd Half`                  | asian_total, every line |
//! | `Asian Handicap`, `... 1st Half`, `... 2nd Half`    | asian_handicap          |
//! | `Draw No Bet`, `... 1st Half`, `... 2nd Half`       | draw_no_bet             |
//! | `Double Chance`, `... 1st Half`, `... 2nd Half`     | double_chance           |
//! | `Both Teams to Score`                              | btts ft                 |
//! | `Both Teams To Score In 1st Half` / `In 2nd Half`   | btts 1h, 2h             |
//!
//! A `Total Goals` market is `total_goals` while all its lines are half goals, and
//! `asian_total` (every line) as soon as one is a quarter or whole goal. Outcomes map by
//! `outcomeType` (`Home`, `Tie`, `Away`, `Over`, `Under`, `Yes`, `No`), never by position,
//! and the asian handicap line is the home selection's `points`. Prices are `trueOdds`,
//! read exactly; the rounded `displayOdds` are never read.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use compact_str::CompactString;
use rust_decimal::Decimal;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use xtr_core::error::Context;
use xtr_core::{
    Error, Event, EventMarkets, Line, Market, MarketKey, MarketKind, MarketSet, Outcome,
    OutcomeName, OutcomeStatus, Period, Price, Result, Timestamp,
};

use crate::NAME;

/// SBTech's sport id of football.
pub const FOOTBALL_SPORT_ID: &str = "1";

/// The `status` of a selection that can be backed now; `Disabled` and every other
/// value are treated as suspended.
const ACTIVE: &str = "Active";

/// A response: its content at the top level or under `data`.
#[derive(Deserialize)]
#[serde(bound(deserialize = "M: Deserialize<'de>"))]
struct Body<'a, M> {
    #[serde(borrow, default)]
    data: Option<Content<'a, M>>,
    #[serde(borrow, default)]
    events: Option<Vec<SbEvent<'a>>>,
    #[serde(default)]
    markets: Option<Vec<M>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "M: Deserialize<'de>"))]
struct Content<'a, M> {
    #[serde(borrow, default)]
    events: Option<Vec<SbEvent<'a>>>,
    #[serde(default)]
    markets: Option<Vec<M>>,
}

impl<'a, M> Body<'a, M> {
    /// Returns the events and markets, wherever the response put them.
    fn into_content(self) -> Option<(Vec<SbEvent<'a>>, Vec<M>)> {
        let (events, markets) = match self.data {
            Some(data) => (data.events, data.markets),
            None => (self.events, self.markets),
        };
        if events.is_none() && markets.is_none() {
            return None;
        }
        Some((events.unwrap_or_default(), markets.unwrap_or_default()))
    }
}

/// A string that borrows from the body unless it contains escapes. serde borrows a
/// `Cow<str>` field marked `borrow`, but not one inside an `Option`; this newtype does.
#[derive(Deserialize)]
struct Str<'a>(#[serde(borrow)] Cow<'a, str>);

fn as_str<'s>(text: &'s Option<Str<'_>>) -> Option<&'s str> {
    text.as_ref().map(|text| text.0.as_ref())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SbEvent<'a> {
    /// A string such as `"22016399"`.
    #[serde(borrow)]
    id: &'a RawValue,
    #[serde(borrow, default)]
    participants: Vec<Participant<'a>>,
    #[serde(default)]
    start_event_date: Option<Timestamp>,
    #[serde(default)]
    is_live: Option<bool>,
    #[serde(default)]
    is_suspended: Option<bool>,
    #[serde(borrow, default)]
    league_name: Option<Str<'a>>,
    #[serde(borrow, default)]
    sport_id: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Participant<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    /// `Home` or `Away`.
    #[serde(borrow, default)]
    venue_role: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct MarketType<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
}

/// One market. SBTech may send `marketType` before or after `selections`, so the
/// selections are parsed while the market is read when the type is known and mapped,
/// kept raw when the type comes later, and skipped when it maps to nothing.
struct SbMarket<'a> {
    id: &'a RawValue,
    event_id: &'a RawValue,
    type_name: Cow<'a, str>,
    is_suspended: bool,
    /// The bet-slip text; live markets prefix it with the score, as in `[2 : 2] OU`.
    betslip_line: Option<Str<'a>>,
    selections: Selections<'a>,
}

enum Selections<'a> {
    Parsed(Vec<Selection<'a>>),
    Deferred(&'a RawValue),
    Skipped,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum MarketField {
    Id,
    EventId,
    MarketType,
    IsSuspended,
    BetslipLine,
    Selections,
    #[serde(other)]
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for SbMarket<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_map(MarketVisitor(PhantomData))
    }
}

struct MarketVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for MarketVisitor<'a> {
    type Value = SbMarket<'a>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an SBTech market object")
    }

    fn visit_map<M: MapAccess<'de>>(
        self,
        mut map: M,
    ) -> std::result::Result<SbMarket<'a>, M::Error> {
        let mut id = None;
        let mut event_id = None;
        let mut market_type: Option<MarketType<'a>> = None;
        let mut is_suspended = None;
        let mut betslip_line = None;
        let mut selections = None;
        while let Some(field) = map.next_key::<MarketField>()? {
            match field {
                MarketField::Id => id = Some(map.next_value()?),
                MarketField::EventId => event_id = Some(map.next_value()?),
                MarketField::MarketType => market_type = Some(map.next_value()?),
                MarketField::IsSuspended => is_suspended = map.next_value()?,
                MarketField::BetslipLine => betslip_line = map.next_value()?,
                MarketField::Selections => {
                    selections = Some(match &market_type {
                        None => Selections::Deferred(map.next_value()?),
                        Some(kind) if market_spec(&kind.name).is_some() => {
                            Selections::Parsed(map.next_value()?)
                        }
                        Some(_) => {
                            map.next_value::<IgnoredAny>()?;
                            Selections::Skipped
                        }
                    });
                }
                MarketField::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let market_type = market_type.ok_or_else(|| de::Error::missing_field("marketType"))?;
        Ok(SbMarket {
            id: id.ok_or_else(|| de::Error::missing_field("id"))?,
            event_id: event_id.ok_or_else(|| de::Error::missing_field("eventId"))?,
            type_name: market_type.name,
            is_suspended: is_suspended.unwrap_or(false),
            betslip_line,
            selections: selections.unwrap_or(Selections::Skipped),
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Selection<'a> {
    #[serde(borrow)]
    id: &'a RawValue,
    #[serde(borrow, default)]
    outcome_type: Option<Str<'a>>,
    /// The line: goals for totals, the selection's own handicap for asian handicap.
    #[serde(borrow, default)]
    points: Option<&'a RawValue>,
    #[serde(borrow, default)]
    status: Option<Str<'a>>,
    #[serde(default)]
    is_disabled: Option<bool>,
    /// The precise decimal price, a JSON number read as text so no digit is lost.
    #[serde(borrow, default)]
    true_odds: Option<&'a RawValue>,
}

/// A market with its event id only, for the not-found check.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MarketEventId<'a> {
    #[serde(borrow)]
    event_id: &'a RawValue,
}

/// The outcome layout of a mapped market type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    MatchResult,
    Btts,
    /// Goal totals; `asian` marks a market whose every line is an asian total.
    Totals {
        asian: bool,
    },
    AsianHandicap,
    DrawNoBet,
    DoubleChance,
}

/// The market type names xtr maps. Combinations ("Both To Score No Draw", "Match
/// Winner & Both Teams To Score") and team markets share words with these and are left
/// out because only exact names match.
// NOTE: the recordings show only "1X2", "OU" and "Asian Handicap", so the other names
// are unconfirmed. The "1st Half" and "2nd Half" forms follow the pattern of
// "1X2 2nd Half".
const MARKET_SPECS: &[(&str, Shape, Period)] = &[
    ("1X2", Shape::MatchResult, Period::FullTime),
    ("1X2 1st Half", Shape::MatchResult, Period::FirstHalf),
    ("1X2 2nd Half", Shape::MatchResult, Period::SecondHalf),
    (
        "Total Goals",
        Shape::Totals { asian: false },
        Period::FullTime,
    ),
    (
        "Total Goals 1st Half",
        Shape::Totals { asian: false },
        Period::FirstHalf,
    ),
    (
        "Total Goals 2nd Half",
        Shape::Totals { asian: false },
        Period::SecondHalf,
    ),
    ("OU", Shape::Totals { asian: true }, Period::FullTime),
    (
        "OU 1st Half",
        Shape::Totals { asian: true },
        Period::FirstHalf,
    ),
    (
        "OU 2nd Half",
        Shape::Totals { asian: true },
        Period::SecondHalf,
    ),
    ("Asian Handicap", Shape::AsianHandicap, Period::FullTime),
    (
        "Asian Handicap 1st Half",
        Shape::AsianHandicap,
        Period::FirstHalf,
    ),
    (
        "Asian Handicap 2nd Half",
        Shape::AsianHandicap,
        Period::SecondHalf,
    ),
    ("Draw No Bet", Shape::DrawNoBet, Period::FullTime),
    ("Draw No Bet 1st Half", Shape::DrawNoBet, Period::FirstHalf),
    ("Draw No Bet 2nd Half", Shape::DrawNoBet, Period::SecondHalf),
    ("Double Chance", Shape::DoubleChance, Period::FullTime),
    (
        "Double Chance 1st Half",
        Shape::DoubleChance,
        Period::FirstHalf,
    ),
    (
        "Double Chance 2nd Half",
        Shape::DoubleChance,
        Period::SecondHalf,
    ),
    ("Both Teams to Score", Shape::Btts, Period::FullTime),
    (
        "Both Teams To Score In 1st Half",
        Shape::Btts,
        Period::FirstHalf,
    ),
    (
        "Both Teams To Score In 2nd Half",
        Shape::Btts,
        Period::SecondHalf,
    ),
];

fn market_spec(type_name: &str) -> Option<(Shape, Period)> {
    let name = type_name.trim();
    MARKET_SPECS
        .iter()
        .find(|(spec, _, _)| spec.eq_ignore_ascii_case(name))
        .map(|(_, shape, period)| (*shape, *period))
}

fn context() -> Context {
    Context::new(NAME, "parse event")
}

fn malformed(error: &serde_json::Error) -> Error {
    Error::malformed(context(), error)
}

fn missing_content() -> Error {
    Error::Malformed {
        context: context(),
        detail: "expected `events` and `markets`, at the top level or under `data`".into(),
    }
}

/// Parses a sportsdata response into one entry per event it lists, plus one per event
/// that only its markets name, keeping only markets of the kinds in `markets`.
///
/// # Errors
///
/// Returns [`Error::Malformed`] when the body is not SBTech JSON with `events` or
/// `markets`.
pub fn parse_body(body: &[u8], markets: MarketSet) -> Result<Vec<EventMarkets>> {
    let body: Body<'_, SbMarket<'_>> = serde_json::from_slice(body).map_err(|e| malformed(&e))?;
    let (events, sb_markets) = body.into_content().ok_or_else(missing_content)?;

    let mut output = Vec::with_capacity(events.len());
    let mut suspended = Vec::with_capacity(events.len());
    let mut index: HashMap<CompactString, usize> = HashMap::with_capacity(events.len());
    for sb_event in &events {
        let event = event(sb_event)?;
        index.entry(event.id.clone()).or_insert(output.len());
        suspended.push(sb_event.is_suspended.unwrap_or(false));
        output.push(EventMarkets {
            event,
            markets: Vec::new(),
        });
    }

    for market in &sb_markets {
        let Some((shape, period)) = market_spec(&market.type_name) else {
            continue;
        };
        let event_id = id_text(market.event_id)?;
        let position = match index.get(&event_id) {
            Some(position) => *position,
            None => {
                index.insert(event_id.clone(), output.len());
                suspended.push(false);
                output.push(EventMarkets {
                    event: Event::with_id(event_id),
                    markets: Vec::new(),
                });
                output.len() - 1
            }
        };
        let spec = MarketSpec {
            shape,
            period,
            event_suspended: suspended[position],
        };
        for mapped in map_market(market, spec, markets)? {
            let target = &mut output[position].markets;
            // Two markets with one key would publish two snapshots for one market; the
            // first one listed wins.
            if target.iter().all(|existing| existing.key != mapped.key) {
                target.push(mapped);
            }
        }
    }
    Ok(output)
}

/// Returns whether a response lists `event_id` as an event or as a market's event.
/// Bodies that are not SBTech JSON return `true`, so that parsing reports them as
/// malformed rather than as an unknown event.
pub fn mentions_event(body: &[u8], event_id: &str) -> bool {
    let Ok(body) = serde_json::from_slice::<Body<'_, MarketEventId<'_>>>(body) else {
        return true;
    };
    let Some((events, markets)) = body.into_content() else {
        return true;
    };
    let matches = |raw: &RawValue| id_text(raw).is_ok_and(|id| id == event_id);
    events.iter().any(|event| matches(event.id)) || markets.iter().any(|m| matches(m.event_id))
}

/// Parses an event listing into its football events, skipping the markets. Events
/// without a `sportId` are kept.
///
/// # Errors
///
/// Returns [`Error::Malformed`] when the body is not an SBTech listing.
pub fn parse_listing(body: &[u8]) -> Result<Vec<Event>> {
    let body: Body<'_, IgnoredAny> = serde_json::from_slice(body)
        .map_err(|error| Error::malformed(Context::new(NAME, "parse listing"), &error))?;
    let (events, _) = body.into_content().ok_or_else(missing_content)?;
    let mut listed = Vec::with_capacity(events.len());
    for sb_event in &events {
        if sb_event.sport_id.is_none() || is_football(sb_event)? {
            listed.push(event(sb_event)?);
        }
    }
    Ok(listed)
}

fn is_football(sb_event: &SbEvent<'_>) -> Result<bool> {
    match sb_event.sport_id {
        Some(raw) => Ok(id_text(raw)? == FOOTBALL_SPORT_ID),
        None => Ok(false),
    }
}

fn event(sb_event: &SbEvent<'_>) -> Result<Event> {
    let team = |role: &str| {
        let mut teams = sb_event
            .participants
            .iter()
            .filter(|p| as_str(&p.venue_role).is_some_and(|r| r.eq_ignore_ascii_case(role)));
        match (teams.next(), teams.next()) {
            (Some(team), None) => Some(team.name.clone().into_owned()),
            _ => None,
        }
    };
    let (home, away) = match (team("Home"), team("Away")) {
        (Some(home), Some(away)) if home != away => (Some(home), Some(away)),
        _ => (None, None),
    };
    let football = is_football(sb_event)?;
    Ok(Event {
        id: id_text(sb_event.id)?,
        sport: football.then(|| CompactString::const_new("football")),
        competition: as_str(&sb_event.league_name).map(str::to_owned),
        home,
        away,
        start: sb_event.start_event_date,
        live: sb_event.is_live.unwrap_or(false),
    })
}

/// Returns the text of an id sent as a JSON string or number.
fn id_text(raw: &RawValue) -> Result<CompactString> {
    let text = raw.get();
    let Some(quoted) = text
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    else {
        return Ok(CompactString::from(text));
    };
    if !quoted.contains('\\') {
        return Ok(CompactString::from(quoted));
    }
    let id: Cow<'_, str> = serde_json::from_str(text).map_err(|e| malformed(&e))?;
    Ok(CompactString::from(id.as_ref()))
}

/// Reads `trueOdds` exactly; odds of 1 or less are no price.
fn price(raw: Option<&RawValue>) -> Option<Price> {
    let text = raw?.get().trim_matches('"');
    let price = Price::from_str(text).ok()?;
    (price > Price::from_scaled(1, 0)).then_some(price)
}

/// Reads `points` as a line that is a multiple of a quarter goal.
fn points(raw: Option<&RawValue>) -> Option<Line> {
    let text = raw?.get().trim_matches('"');
    let line = Line::from_str(text).ok()?;
    (line.value() * Decimal::from(4))
        .fract()
        .is_zero()
        .then_some(line)
}

fn is_half_goal(line: Line) -> bool {
    line.value().fract().abs() == Decimal::new(5, 1)
}

/// The layout and period of a mapped market, and whether its event is suspended.
#[derive(Clone, Copy)]
struct MarketSpec {
    shape: Shape,
    period: Period,
    event_suspended: bool,
}

/// One selection read as an outcome of a line (`None` for kinds without one).
struct Read {
    line: Option<Line>,
    outcome: Outcome,
}

/// Maps one market into one [`Market`] per complete line, leaving out lines whose
/// selections cannot be mapped with certainty and kinds that are not requested.
fn map_market(market: &SbMarket<'_>, spec: MarketSpec, markets: MarketSet) -> Result<Vec<Market>> {
    let wanted = match spec.shape {
        Shape::Totals { .. } => {
            markets.contains(MarketKind::TotalGoals) || markets.contains(MarketKind::AsianTotal)
        }
        shape => markets.contains(fixed_kind(shape)),
    };
    if !wanted {
        return Ok(Vec::new());
    }
    // NOTE: a live asian handicap whose bet-slip text starts with the score, as in
    // "[1 : 0] Asian Handicap", may settle on the goals after the bet (the Asian in-play
    // rule) rather than on the full-time score, so it is left out.
    let live_score_prefix = as_str(&market.betslip_line).is_some_and(|line| line.starts_with('['));
    if spec.shape == Shape::AsianHandicap && live_score_prefix {
        return Ok(Vec::new());
    }

    let deferred;
    let selections: &[Selection<'_>] = match &market.selections {
        Selections::Parsed(selections) => selections,
        Selections::Deferred(raw) => {
            deferred =
                serde_json::from_str::<Vec<Selection<'_>>>(raw.get()).map_err(|e| malformed(&e))?;
            &deferred
        }
        Selections::Skipped => return Ok(Vec::new()),
    };

    let market_open = !market.is_suspended && !spec.event_suspended;
    let mut reads = Vec::with_capacity(selections.len());
    for selection in selections {
        let Some((name, line)) = read_selection(spec.shape, selection) else {
            // One unreadable selection may belong to any line, so none is trusted.
            return Ok(Vec::new());
        };
        let open = market_open
            && as_str(&selection.status) == Some(ACTIVE)
            && !selection.is_disabled.unwrap_or(false);
        let status = if open {
            OutcomeStatus::Open
        } else {
            OutcomeStatus::Suspended
        };
        let outcome = Outcome::new(
            name,
            price(selection.true_odds),
            status,
            Some(id_text(selection.id)?),
        );
        reads.push(Read { line, outcome });
    }

    let kind = match spec.shape {
        Shape::Totals { asian } => {
            let all_half = reads.iter().all(|read| read.line.is_some_and(is_half_goal));
            if asian || !all_half {
                MarketKind::AsianTotal
            } else {
                MarketKind::TotalGoals
            }
        }
        shape => fixed_kind(shape),
    };
    if !markets.contains(kind) {
        return Ok(Vec::new());
    }
    let market_id = id_text(market.id)?;
    Ok(group_lines(kind, spec.period, &market_id, reads))
}

fn fixed_kind(shape: Shape) -> MarketKind {
    match shape {
        Shape::MatchResult => MarketKind::MatchResult,
        Shape::Btts => MarketKind::Btts,
        Shape::Totals { .. } => MarketKind::TotalGoals,
        Shape::AsianHandicap => MarketKind::AsianHandicap,
        Shape::DrawNoBet => MarketKind::DrawNoBet,
        Shape::DoubleChance => MarketKind::DoubleChance,
    }
}

/// Splits the selections into one market per line, keeping only lines with exactly
/// the outcomes the kind requires and a price on every open outcome.
fn group_lines(
    kind: MarketKind,
    period: Period,
    market_id: &CompactString,
    mut reads: Vec<Read>,
) -> Vec<Market> {
    reads.sort_by_key(|read| read.line);
    let mut mapped = Vec::new();
    let mut reads = reads.into_iter().peekable();
    while let Some(first) = reads.next() {
        let line = first.line;
        let mut outcomes = vec![first.outcome];
        while let Some(next) = reads.next_if(|read| read.line == line) {
            outcomes.push(next.outcome);
        }
        if let Some(market) = line_market(kind, period, line, market_id, outcomes) {
            mapped.push(market);
        }
    }
    mapped
}

fn line_market(
    kind: MarketKind,
    period: Period,
    line: Option<Line>,
    market_id: &CompactString,
    outcomes: Vec<Outcome>,
) -> Option<Market> {
    let expected = kind.outcomes();
    let complete = outcomes.len() == expected.len()
        && expected
            .iter()
            .all(|name| outcomes.iter().filter(|o| o.outcome == *name).count() == 1);
    let priced = outcomes
        .iter()
        .all(|o| o.status != OutcomeStatus::Open || o.price.is_some());
    if !complete || !priced || line.is_some() != kind.has_line() {
        return None;
    }
    let key = match line {
        Some(line) => MarketKey::with_line(kind, period, line),
        None => MarketKey::new(kind, period),
    };
    let mut market = Market {
        key,
        id: Some(market_id.clone()),
        outcomes,
        changed_at: None,
    };
    market.sort_outcomes();
    Some(market)
}

/// Reads a selection's outcome and, for kinds with a line, the market line it belongs
/// to: the goals line for totals and the home team's handicap for asian handicap.
fn read_selection(shape: Shape, selection: &Selection<'_>) -> Option<(OutcomeName, Option<Line>)> {
    let outcome_type = as_str(&selection.outcome_type)?.trim();
    let is = |name: &str| outcome_type.eq_ignore_ascii_case(name);
    match shape {
        Shape::MatchResult => {
            let name = if is("Home") {
                OutcomeName::Home
            } else if is("Tie") {
                OutcomeName::Draw
            } else if is("Away") {
                OutcomeName::Away
            } else {
                return None;
            };
            Some((name, None))
        }
        Shape::Btts => {
            let name = if is("Yes") {
                OutcomeName::Yes
            } else if is("No") {
                OutcomeName::No
            } else {
                return None;
            };
            Some((name, None))
        }
        Shape::DrawNoBet => {
            let name = if is("Home") {
                OutcomeName::Home
            } else if is("Away") {
                OutcomeName::Away
            } else {
                return None;
            };
            Some((name, None))
        }
        Shape::DoubleChance => double_chance(outcome_type).map(|name| (name, None)),
        Shape::Totals { .. } => {
            let name = if is("Over") {
                OutcomeName::Over
            } else if is("Under") {
                OutcomeName::Under
            } else {
                return None;
            };
            let line = points(selection.points)?;
            (!line.value().is_sign_negative()).then_some((name, Some(line)))
        }
        Shape::AsianHandicap => {
            let points = points(selection.points)?;
            if is("Home") {
                Some((OutcomeName::Home, Some(points)))
            } else if is("Away") {
                Some((OutcomeName::Away, Some(points.negated())))
            } else {
                None
            }
        }
    }
}

/// Reads a double-chance outcome type. The recordings hold no double-chance market, so
/// any type made of exactly two of the words Home, Tie (or Draw) and Away, optionally
/// joined by "Or" (`HomeOrTie`, `TieAway`), is read, as are `1X`, `X2` and `12`. Any
/// other type leaves the market out.
fn double_chance(outcome_type: &str) -> Option<OutcomeName> {
    match outcome_type.to_ascii_uppercase().as_str() {
        "1X" => return Some(OutcomeName::HomeOrDraw),
        "X2" => return Some(OutcomeName::DrawOrAway),
        "12" => return Some(OutcomeName::HomeOrAway),
        _ => {}
    }
    let mut rest = outcome_type;
    let mut sides = [false; 3];
    let mut count = 0;
    while !rest.is_empty() {
        if count == 1 {
            rest = strip_word(rest, "Or").unwrap_or(rest);
        }
        let (side, tail) = [("Home", 0), ("Tie", 1), ("Draw", 1), ("Away", 2)]
            .iter()
            .find_map(|(word, side)| strip_word(rest, word).map(|tail| (*side, tail)))?;
        if sides[side] || count == 2 {
            return None;
        }
        sides[side] = true;
        count += 1;
        rest = tail;
    }
    match sides {
        [true, true, false] => Some(OutcomeName::HomeOrDraw),
        [false, true, true] => Some(OutcomeName::DrawOrAway),
        [true, false, true] => Some(OutcomeName::HomeOrAway),
        _ => None,
    }
}

/// Strips `word` from the start of `text`, ignoring ASCII case.
fn strip_word<'t>(text: &'t str, word: &str) -> Option<&'t str> {
    let head = text.get(..word.len())?;
    head.eq_ignore_ascii_case(word).then(|| &text[word.len()..])
}
