//! The schema of Pinnacle's guest "arcadia" API and its mapping into the normalized model.
//!
//! One event needs two bodies: `matchups/{id}/related` (the matchup, its specials and the
//! matchups of other units such as corners) and `matchups/{id}/markets/related/straight`
//! (the prices of all of them). Both are JSON arrays, and [`parse`] distinguishes them by
//! the shape of their first element, so their order does not matter.
//!
//! Which market is what:
//!
//! - Markets of a regular matchup (`type` `matchup`, `units` `Regular`): `moneyline` is
//!   1x2 by `designation`, `spread` is asian handicap whose line is the home price's
//!   `points`, and `total` is `total_goals` on a half-goal line or `asian_total` on a
//!   quarter or whole line. Each market entry holds one line, so main and alternate lines
//!   are separate markets. `team_total` is no kind of this model.
//! - Specials (`type` `special`) whose `parentId` is the regular matchup are mapped by
//!   their exact `special.description` ("Both Teams To Score", "Draw No Bet",
//!   "Double Chance", each also "... 1st Half"), and their prices by `participantId`.
//! - Matchups of other units (corners, bookings) are never the match: their totals and
//!   spreads are left out, as is every other special.
//!
//! `period` 0 is full time and 1 the first half; Pinnacle's football matchups list no
//! other period. Prices are American and pass through [`american_to_decimal`].

use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;

use compact_str::{CompactString, ToCompactString};
use rust_decimal::Decimal;
use serde::de::{self, IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use xtr_core::error::{Context, Error, Result};
use xtr_core::odds::american_to_decimal;
use xtr_core::{
    Event, EventMarkets, Line, Market, MarketKey, MarketKind, MarketSet, Outcome, OutcomeName,
    OutcomeStatus, Period, Price, Timestamp,
};

/// The registered bookmaker name, used in error contexts.
pub(crate) const BOOKMAKER: &str = "pinnacle";

/// Pinnacle's sport id of football ("Soccer").
pub const SOCCER_SPORT_ID: u64 = 29;

/// The `units` of a matchup whose markets are on the match itself, not on corners or
/// bookings.
const REGULAR_UNITS: &str = "Regular";

/// League name endings of the matchups that carry other units. `units` already marks
/// them, and the league name is checked too so that a matchup without `units` cannot pass.
const OTHER_UNIT_LEAGUE_SUFFIXES: [&str; 2] = [" Corners", " Bookings"];

/// Specials mapped to a kind, by exact description, with the `period` their market has.
///
/// Later arcadia responses spell the BTTS descriptions with a question mark, which public
/// client code matches beside the plain spelling. The recordings of 2021 have the plain
/// ones.
const SPECIALS: &[(&str, MarketKind, i64)] = &[
    ("Both Teams To Score", MarketKind::Btts, 0),
    ("Both Teams To Score 1st Half", MarketKind::Btts, 1),
    ("Both Teams To Score?", MarketKind::Btts, 0),
    ("Both Teams To Score? 1st Half", MarketKind::Btts, 1),
    ("Draw No Bet", MarketKind::DrawNoBet, 0),
    ("Draw No Bet 1st Half", MarketKind::DrawNoBet, 1),
    ("Double Chance", MarketKind::DoubleChance, 0),
    ("Double Chance 1st Half", MarketKind::DoubleChance, 1),
];

// ---------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------

/// One entry of `matchups/{id}/related` or `leagues/{id}/matchups`.
///
/// `league` and `participants` stay raw because most entries are specials that no job
/// requests, and a correct-score special has dozens of participants. They are parsed only
/// for the matchups and specials that are mapped.
#[derive(Deserialize)]
pub(crate) struct Matchup<'a> {
    id: u64,
    #[serde(rename = "parentId")]
    parent_id: Option<u64>,
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    units: Option<Cow<'a, str>>,
    #[serde(rename = "isLive", default)]
    is_live: bool,
    /// RFC 3339 text, parsed only for the matchups that become events.
    #[serde(rename = "startTime", borrow)]
    start_time: Option<Cow<'a, str>>,
    #[serde(borrow)]
    league: Option<&'a RawValue>,
    #[serde(borrow)]
    participants: Option<&'a RawValue>,
    #[serde(default, borrow)]
    periods: Vec<PeriodState<'a>>,
    #[serde(borrow)]
    special: Option<Special<'a>>,
}

#[derive(Deserialize)]
struct League<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow)]
    sport: Option<Sport<'a>>,
}

#[derive(Deserialize)]
struct Sport<'a> {
    id: u64,
    #[serde(borrow)]
    name: Cow<'a, str>,
}

#[derive(Deserialize)]
struct Participant<'a> {
    /// Present on specials' participants, which the prices refer to.
    id: Option<u64>,
    #[serde(borrow)]
    name: Cow<'a, str>,
    /// `home`, `away` or `neutral`.
    #[serde(borrow)]
    alignment: Option<Cow<'a, str>>,
}

/// The state of one period of a matchup.
#[derive(Deserialize)]
struct PeriodState<'a> {
    period: i64,
    /// `open` while the period takes bets.
    #[serde(borrow)]
    status: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Special<'a> {
    #[serde(borrow)]
    description: Cow<'a, str>,
}

/// One entry of `markets/related/straight`: one market with one line.
#[derive(Deserialize)]
pub(crate) struct MarketEntry<'a> {
    #[serde(rename = "matchupId")]
    matchup_id: u64,
    period: i64,
    /// `moneyline`, `spread`, `total` or `team_total`.
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    /// Such as `s;0;ou;2.5`: unique within its matchup.
    #[serde(borrow)]
    key: Cow<'a, str>,
    /// `open` while the market takes bets; absent in older responses.
    #[serde(borrow)]
    status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    prices: Vec<PriceEntry<'a>>,
}

#[derive(Deserialize)]
struct PriceEntry<'a> {
    /// `home`, `away`, `draw`, `over` or `under` on a regular matchup's markets.
    #[serde(borrow)]
    designation: Option<Cow<'a, str>>,
    /// The participant of a special the price is for.
    #[serde(rename = "participantId")]
    participant_id: Option<u64>,
    /// Handicap or total line, as sent.
    #[serde(borrow)]
    points: Option<&'a RawValue>,
    /// American odds, as sent; `null` when no price is shown.
    #[serde(borrow)]
    price: Option<&'a RawValue>,
}

/// One body, distinguished by the shape of its first element.
pub(crate) enum Body<'a> {
    /// `[]`: fits either role, and describes nothing.
    Empty,
    /// The matchups body.
    Matchups(Vec<Matchup<'a>>),
    /// The markets body.
    Markets(Vec<MarketEntry<'a>>),
}

/// The fields that distinguish a market element from a matchup element.
#[derive(Deserialize)]
struct ElementProbe {
    #[serde(rename = "matchupId")]
    matchup_id: Option<IgnoredAny>,
    participants: Option<IgnoredAny>,
}

impl<'de> Deserialize<'de> for Body<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(BodyVisitor)
    }
}

struct BodyVisitor;

impl<'de> Visitor<'de> for BodyVisitor {
    type Value = Body<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON array of arcadia matchups or of straight markets")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Body<'de>, A::Error> {
        let Some(first) = seq.next_element::<&'de RawValue>()? else {
            return Ok(Body::Empty);
        };
        let probe: ElementProbe = serde_json::from_str(first.get()).map_err(de::Error::custom)?;
        if probe.matchup_id.is_some() {
            let mut entries = Vec::with_capacity(seq.size_hint().unwrap_or(64) + 1);
            entries.push(serde_json::from_str(first.get()).map_err(de::Error::custom)?);
            while let Some(entry) = seq.next_element()? {
                entries.push(entry);
            }
            Ok(Body::Markets(entries))
        } else if probe.participants.is_some() {
            let mut matchups = Vec::with_capacity(seq.size_hint().unwrap_or(64) + 1);
            matchups.push(serde_json::from_str(first.get()).map_err(de::Error::custom)?);
            while let Some(matchup) = seq.next_element()? {
                matchups.push(matchup);
            }
            Ok(Body::Matchups(matchups))
        } else {
            Err(de::Error::custom(
                "the first element has neither `matchupId` (a market) nor `participants` (a matchup)",
            ))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Mapping
// ---------------------------------------------------------------------------------------

fn parse_context() -> Context {
    Context::new(BOOKMAKER, "parse response")
}

fn malformed(detail: impl Into<String>) -> Error {
    Error::Malformed {
        context: parse_context(),
        detail: detail.into(),
    }
}

/// Parses one body into a [`Body`].
pub(crate) fn parse_body(body: &[u8]) -> Result<Body<'_>> {
    serde_json::from_slice(body).map_err(|error| Error::malformed(parse_context(), &error))
}

/// Parses the matchups body and, when given, the markets body, in either order, into one
/// entry per regular matchup.
///
/// # Errors
///
/// Returns [`Error::Malformed`] when a body is not an arcadia array, when there are no
/// bodies or more than two, or when both bodies have the same shape.
pub fn parse(bodies: &[&[u8]], requested: MarketSet) -> Result<Vec<EventMarkets>> {
    if bodies.is_empty() || bodies.len() > 2 {
        return Err(malformed(format!(
            "expected the matchups body and the markets body, got {} bodies",
            bodies.len()
        )));
    }
    let mut matchups = None;
    let mut entries = None;
    for body in bodies {
        match parse_body(body)? {
            Body::Empty => {}
            Body::Matchups(list) => {
                if matchups.replace(list).is_some() {
                    return Err(malformed("two matchups bodies and no markets body"));
                }
            }
            Body::Markets(list) => {
                if entries.replace(list).is_some() {
                    return Err(malformed("two markets bodies and no matchups body"));
                }
            }
        }
    }
    map_events(
        &matchups.unwrap_or_default(),
        &entries.unwrap_or_default(),
        requested,
    )
}

/// A regular matchup being mapped into an event.
struct EventBuilder<'a> {
    event: Event,
    home: Cow<'a, str>,
    away: Cow<'a, str>,
    periods: &'a [PeriodState<'a>],
    markets: Vec<Market>,
}

/// A special that maps to a requested kind.
struct SpecialBuilder<'a> {
    event: usize,
    kind: MarketKind,
    period: i64,
    participants: Vec<Participant<'a>>,
    periods: &'a [PeriodState<'a>],
}

fn map_events(
    matchups: &[Matchup<'_>],
    entries: &[MarketEntry<'_>],
    requested: MarketSet,
) -> Result<Vec<EventMarkets>> {
    let mut events: Vec<EventBuilder<'_>> = Vec::new();
    let mut event_index: HashMap<u64, usize> = HashMap::new();
    for matchup in matchups {
        if let Some(builder) = regular_event(matchup)? {
            // A body that lists a matchup twice describes one event.
            if let Entry::Vacant(slot) = event_index.entry(matchup.id) {
                slot.insert(events.len());
                events.push(builder);
            }
        }
    }

    let mut specials: HashMap<u64, SpecialBuilder<'_>> = HashMap::new();
    for matchup in matchups.iter().filter(|matchup| matchup.kind == "special") {
        let Some(&event) = matchup.parent_id.and_then(|id| event_index.get(&id)) else {
            continue;
        };
        let Some((kind, period)) = special_kind(matchup) else {
            continue;
        };
        if !requested.contains(kind) {
            continue;
        }
        specials.insert(
            matchup.id,
            SpecialBuilder {
                event,
                kind,
                period,
                participants: participants(matchup)?,
                periods: &matchup.periods,
            },
        );
    }

    for entry in entries {
        if let Some(&index) = event_index.get(&entry.matchup_id) {
            let builder = &mut events[index];
            if let Some(market) = regular_market(entry, builder.periods, requested) {
                builder.markets.push(market);
            }
        } else if let Some(special) = specials.get(&entry.matchup_id) {
            let builder = &events[special.event];
            let market = special_market(entry, special, &builder.home, &builder.away);
            if let Some(market) = market {
                events[special.event].markets.push(market);
            }
        }
    }

    Ok(events
        .into_iter()
        .map(|mut builder| {
            // Stable sort: of two entries with one key, the first in the body stays.
            builder.markets.sort_by_key(|market| market.key);
            builder.markets.dedup_by_key(|market| market.key);
            EventMarkets {
                event: builder.event,
                markets: builder.markets,
            }
        })
        .collect())
}

/// Returns the event of a regular matchup with both teams, or `None` for every other
/// entry.
///
/// NOTE: a regular matchup with a `parentId`, which is how Pinnacle's other APIs list the
/// live copy of a pre-match event, becomes an event of its own. No recording shows
/// whether arcadia lists live matches that way.
fn regular_event<'a>(matchup: &'a Matchup<'a>) -> Result<Option<EventBuilder<'a>>> {
    if matchup.kind != "matchup" || matchup.units.as_deref().is_some_and(|u| u != REGULAR_UNITS) {
        return Ok(None);
    }
    let league: Option<League<'_>> = match matchup.league {
        Some(raw) => Some(
            serde_json::from_str(raw.get())
                .map_err(|error| Error::malformed(parse_context(), &error))?,
        ),
        None => None,
    };
    if let Some(league) = &league
        && OTHER_UNIT_LEAGUE_SUFFIXES
            .iter()
            .any(|suffix| league.name.ends_with(suffix))
    {
        return Ok(None);
    }

    let mut home = None;
    let mut away = None;
    for participant in participants(matchup)? {
        match participant.alignment.as_deref() {
            Some("home") => home = Some(participant.name),
            Some("away") => away = Some(participant.name),
            _ => {}
        }
    }
    let (Some(home), Some(away)) = (home, away) else {
        return Ok(None);
    };

    let sport = league
        .as_ref()
        .and_then(|league| league.sport.as_ref())
        .map(|sport| {
            if sport.id == SOCCER_SPORT_ID {
                CompactString::const_new("football")
            } else {
                CompactString::from(sport.name.to_lowercase())
            }
        });
    let start = match matchup.start_time.as_deref() {
        Some(text) => Some(Timestamp::parse(text).map_err(|error| {
            malformed(format!(
                "matchup {}: invalid startTime {text:?}: {error}",
                matchup.id
            ))
        })?),
        None => None,
    };
    let event = Event {
        id: matchup.id.to_compact_string(),
        sport,
        competition: league.map(|league| league.name.into_owned()),
        home: Some(home.clone().into_owned()),
        away: Some(away.clone().into_owned()),
        start,
        live: matchup.is_live,
    };
    Ok(Some(EventBuilder {
        event,
        home,
        away,
        periods: &matchup.periods,
        markets: Vec::new(),
    }))
}

fn participants<'a>(matchup: &Matchup<'a>) -> Result<Vec<Participant<'a>>> {
    match matchup.participants {
        Some(raw) => serde_json::from_str(raw.get())
            .map_err(|error| Error::malformed(parse_context(), &error)),
        None => Ok(Vec::new()),
    }
}

fn special_kind(matchup: &Matchup<'_>) -> Option<(MarketKind, i64)> {
    let description = matchup.special.as_ref()?.description.as_ref();
    SPECIALS
        .iter()
        .find(|(name, _, _)| *name == description)
        .map(|(_, kind, period)| (*kind, *period))
}

fn period_of(code: i64) -> Option<Period> {
    match code {
        0 => Some(Period::FullTime),
        1 => Some(Period::FirstHalf),
        _ => None,
    }
}

/// Returns whether the market or its matchup's period is closed for betting.
fn is_suspended(entry: &MarketEntry<'_>, periods: &[PeriodState<'_>]) -> bool {
    let market_closed = entry
        .status
        .as_deref()
        .is_some_and(|status| status != "open");
    let period_closed = periods
        .iter()
        .filter(|state| state.period == entry.period)
        .any(|state| {
            state
                .status
                .as_deref()
                .is_some_and(|status| status != "open")
        });
    market_closed || period_closed
}

/// Converts a raw American price, giving `Ok(None)` for a missing or `null` price. A value
/// that is not valid American odds gives `Err(())`, and its market is left out.
fn convert_price(raw: Option<&RawValue>) -> Result<Option<Price>, ()> {
    let Some(raw) = raw.filter(|raw| raw.get() != "null") else {
        return Ok(None);
    };
    let american = Decimal::from_str_exact(raw.get()).map_err(|_| ())?;
    american_to_decimal(american).map(Some).map_err(|_| ())
}

fn parse_line(raw: Option<&RawValue>) -> Option<Line> {
    raw.filter(|raw| raw.get() != "null")?.get().parse().ok()
}

fn outcome(
    name: OutcomeName,
    price: Option<&RawValue>,
    suspended: bool,
    id: Option<CompactString>,
) -> Option<Outcome> {
    let price = convert_price(price).ok()?;
    // An outcome without a price cannot be backed, whatever the market's status is.
    let status = if suspended || price.is_none() {
        OutcomeStatus::Suspended
    } else {
        OutcomeStatus::Open
    };
    Some(Outcome::new(name, price, status, id))
}

/// Builds a market when its outcomes are exactly the kind's, each once.
fn complete_market(key: MarketKey, id: CompactString, outcomes: Vec<Outcome>) -> Option<Market> {
    let mut market = Market {
        key,
        id: Some(id),
        outcomes,
        changed_at: None,
    };
    market.sort_outcomes();
    let names = market.outcomes.iter().map(|outcome| outcome.outcome);
    names
        .eq(key.kind.outcomes().iter().copied())
        .then_some(market)
}

fn is_multiple_of(line: Line, step: Decimal) -> bool {
    (line.value() / step).fract().is_zero()
}

/// Maps one market of a regular matchup.
fn regular_market(
    entry: &MarketEntry<'_>,
    periods: &[PeriodState<'_>],
    requested: MarketSet,
) -> Option<Market> {
    let period = period_of(entry.period)?;
    let suspended = is_suspended(entry, periods);
    match entry.kind.as_ref() {
        "moneyline" => {
            if !requested.contains(MarketKind::MatchResult) {
                return None;
            }
            let mut outcomes = Vec::with_capacity(3);
            for price in &entry.prices {
                let name = match price.designation.as_deref()? {
                    "home" => OutcomeName::Home,
                    "draw" => OutcomeName::Draw,
                    "away" => OutcomeName::Away,
                    _ => return None,
                };
                outcomes.push(outcome(name, price.price, suspended, None)?);
            }
            let key = MarketKey::new(MarketKind::MatchResult, period);
            complete_market(key, CompactString::from(entry.key.as_ref()), outcomes)
        }
        "spread" => {
            if !requested.contains(MarketKind::AsianHandicap) {
                return None;
            }
            let mut outcomes = Vec::with_capacity(2);
            let mut home_line = None;
            let mut away_line = None;
            for price in &entry.prices {
                let line = parse_line(price.points)?;
                let name = match price.designation.as_deref()? {
                    "home" => {
                        home_line = Some(line);
                        OutcomeName::Home
                    }
                    "away" => {
                        away_line = Some(line);
                        OutcomeName::Away
                    }
                    _ => return None,
                };
                outcomes.push(outcome(name, price.price, suspended, None)?);
            }
            // The line is the home team's handicap; the away side must mirror it.
            let line = home_line?;
            if away_line != Some(line.negated()) || !is_multiple_of(line, Decimal::new(25, 2)) {
                return None;
            }
            let key = MarketKey::with_line(MarketKind::AsianHandicap, period, line);
            complete_market(key, CompactString::from(entry.key.as_ref()), outcomes)
        }
        "total" => {
            let mut outcomes = Vec::with_capacity(2);
            let mut over_line = None;
            let mut under_line = None;
            for price in &entry.prices {
                let line = parse_line(price.points)?;
                let name = match price.designation.as_deref()? {
                    "over" => {
                        over_line = Some(line);
                        OutcomeName::Over
                    }
                    "under" => {
                        under_line = Some(line);
                        OutcomeName::Under
                    }
                    _ => return None,
                };
                outcomes.push(outcome(name, price.price, suspended, None)?);
            }
            let line = over_line?;
            if under_line != Some(line) || line.value().is_sign_negative() {
                return None;
            }
            let kind = if line.value().fract() == Decimal::new(5, 1) {
                MarketKind::TotalGoals
            } else if is_multiple_of(line, Decimal::new(25, 2)) {
                MarketKind::AsianTotal
            } else {
                return None;
            };
            if !requested.contains(kind) {
                return None;
            }
            let key = MarketKey::with_line(kind, period, line);
            complete_market(key, CompactString::from(entry.key.as_ref()), outcomes)
        }
        _ => None,
    }
}

/// Maps a special's participant name to an outcome of its kind.
fn special_outcome_name(
    kind: MarketKind,
    name: &str,
    home: &str,
    away: &str,
) -> Option<OutcomeName> {
    match kind {
        MarketKind::Btts => match name {
            "Yes" => Some(OutcomeName::Yes),
            "No" => Some(OutcomeName::No),
            _ => None,
        },
        MarketKind::DrawNoBet if home != away => {
            if name == home {
                Some(OutcomeName::Home)
            } else if name == away {
                Some(OutcomeName::Away)
            } else {
                None
            }
        }
        MarketKind::DoubleChance if home != away => {
            // Participants are named "{home} or Draw", "Draw or {away}" and
            // "{home} or {away}".
            if name.strip_suffix(" or Draw") == Some(home) {
                Some(OutcomeName::HomeOrDraw)
            } else if name.strip_prefix("Draw or ") == Some(away) {
                Some(OutcomeName::DrawOrAway)
            } else if name
                .strip_prefix(home)
                .and_then(|rest| rest.strip_prefix(" or "))
                == Some(away)
            {
                Some(OutcomeName::HomeOrAway)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Maps the moneyline market of a mapped special.
fn special_market(
    entry: &MarketEntry<'_>,
    special: &SpecialBuilder<'_>,
    home: &str,
    away: &str,
) -> Option<Market> {
    // The description names the period; a market of another period is not this one.
    if entry.kind != "moneyline" || entry.period != special.period {
        return None;
    }
    let period = period_of(special.period)?;
    let suspended = is_suspended(entry, special.periods);
    let mut outcomes = Vec::with_capacity(3);
    for price in &entry.prices {
        let participant_id = price.participant_id?;
        let participant = special
            .participants
            .iter()
            .find(|participant| participant.id == Some(participant_id))?;
        let name = special_outcome_name(special.kind, &participant.name, home, away)?;
        let id = Some(participant_id.to_compact_string());
        outcomes.push(outcome(name, price.price, suspended, id)?);
    }
    let key = MarketKey::new(special.kind, period);
    complete_market(key, entry.matchup_id.to_compact_string(), outcomes)
}
