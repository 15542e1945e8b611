//! The mapping of Kambi's offering bodies into the normalized model.
//!
//! A bet-offer body is `{betOffers: [...], events: [...]}`. Each bet offer names its
//! market by `criterion` (`id` and `englishLabel`), its shape by `betOfferType.id` and
//! its event by `eventId`. Prices (`odds`) and lines (`line`) are integers in
//! thousandths. Listings (`listView`) put events under `events[]`, each either a flat
//! event or `{event: {...}, betOffers: [...]}`.

mod criteria;
mod schema;

use std::collections::HashMap;

use compact_str::CompactString;
use serde::de::DeserializeSeed;
use xtr_core::error::Context;
use xtr_core::{
    Error, Event, EventMarkets, Line, Market, MarketKey, MarketKind, MarketSet, Outcome,
    OutcomeName, OutcomeStatus, Price, Result, Timestamp,
};

use criteria::Family;
use schema::{
    BodySeed, EventEntry, KeptOffer, Listing, OutcomeType, RawOutcome, Text, read_offers,
};

/// The operation named in errors of [`parse_bet_offers`].
const PARSE_OFFERS: &str = "parse bet offers";

/// The operation named in errors of [`parse_event_list`].
const PARSE_LISTING: &str = "parse event listing";

/// Kambi's decimal scale: odds and lines are integers in thousandths.
const SCALE: u32 = 3;

/// 1.0 in Kambi's thousandths: one goal, or decimal odds of 1.0.
const ONE: i64 = 1000;

/// A quarter goal in thousandths, the step of every asian line.
const QUARTER_GOAL: i64 = 250;

/// Checks that a body is UTF-8 once, so that serde_json reads it as text and does not
/// check each string it parses again.
fn body_text(context: impl Fn() -> Context, body: &[u8]) -> Result<&str> {
    std::str::from_utf8(body).map_err(|error| Error::Malformed {
        context: context(),
        detail: format!("the body is not UTF-8: {error}"),
    })
}

/// Writes a Kambi id in decimal. Ids have at most 20 digits, so the text is stored
/// inline in the `CompactString` without an allocation.
fn id_text(id: u64) -> CompactString {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = id;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    let text = std::str::from_utf8(&digits[start..]).unwrap_or_default();
    CompactString::new(text)
}

/// The teams of an event, which asian handicap outcomes are matched against.
#[derive(Default)]
struct Teams<'a> {
    home_id: Option<u64>,
    away_id: Option<u64>,
    home_name: Option<&'a str>,
    away_name: Option<&'a str>,
}

impl<'a> Teams<'a> {
    fn of(entry: &'a EventEntry<'a>) -> Self {
        Self {
            home_id: entry.participants.home,
            away_id: entry.participants.away,
            home_name: entry.home_name.as_ref().map(Text::as_str),
            away_name: entry.away_name.as_ref().map(Text::as_str),
        }
    }

    /// Returns the side of a team outcome: by `participantId` against the event's
    /// participants, else by `participant` against `homeName` / `awayName`.
    fn side(&self, outcome: &RawOutcome<'_>) -> Option<OutcomeName> {
        match (outcome.participant_id, self.home_id, self.away_id) {
            (Some(id), Some(home), Some(away)) if home != away => {
                return side_of(id, home, away);
            }
            _ => {}
        }
        match (outcome.participant.as_ref(), self.home_name, self.away_name) {
            (Some(name), Some(home), Some(away)) if home != away => {
                side_of(name.as_str(), home, away)
            }
            _ => None,
        }
    }
}

/// Returns whether `team` is the home or the away team, if either.
fn side_of<T: PartialEq + Copy>(team: T, home: T, away: T) -> Option<OutcomeName> {
    if team == home {
        Some(OutcomeName::Home)
    } else if team == away {
        Some(OutcomeName::Away)
    } else {
        None
    }
}

/// Returns the normalized name of an outcome of a family's offer, by Kambi's outcome
/// type (or participant, for asian handicap), never by position.
fn outcome_name(
    family: Family,
    outcome: &RawOutcome<'_>,
    teams: &Teams<'_>,
) -> Option<OutcomeName> {
    use OutcomeType as T;
    let name = match (family, outcome.kind) {
        (Family::AsianHandicap, _) => return teams.side(outcome),
        (Family::Btts, T::Yes) => OutcomeName::Yes,
        (Family::Btts, T::No) => OutcomeName::No,
        (Family::MatchResult | Family::DrawNoBet, T::One) => OutcomeName::Home,
        (Family::MatchResult, T::Cross) => OutcomeName::Draw,
        (Family::MatchResult | Family::DrawNoBet, T::Two) => OutcomeName::Away,
        (Family::GoalTotals | Family::AsianTotals, T::Over) => OutcomeName::Over,
        (Family::GoalTotals | Family::AsianTotals, T::Under) => OutcomeName::Under,
        (Family::DoubleChance, T::OneOrCross) => OutcomeName::HomeOrDraw,
        (Family::DoubleChance, T::CrossOrTwo) => OutcomeName::DrawOrAway,
        (Family::DoubleChance, T::OneOrTwo) => OutcomeName::HomeOrAway,
        _ => return None,
    };
    Some(name)
}

/// A mapped bet offer, before goal totals are split into `total_goals` and
/// `asian_total` by the lines of their whole criterion.
struct Candidate {
    /// Index of the event's entry in the output.
    slot: usize,
    criterion_id: Option<u64>,
    family: Family,
    /// The market's line in Kambi's thousandths.
    line: Option<i64>,
    market: Market,
}

/// Maps one kept bet offer, or returns `None` when its outcomes do not form a complete
/// market with one valid line.
fn map_offer(
    offer: &KeptOffer,
    raw: &[RawOutcome<'_>],
    slot: usize,
    teams: &Teams<'_>,
) -> Option<Candidate> {
    if offer.overflow {
        return None;
    }
    let family = offer.spec.family;
    let kind = family.kind();
    let mut line: Option<i64> = None;
    let mut outcomes = Vec::with_capacity(kind.outcomes().len());
    for outcome in raw {
        let name = outcome_name(family, outcome, teams)?;
        if kind.has_line() {
            // Totals carry the goals line on each outcome. Asian handicap outcomes carry
            // their own side's handicap, so the away side's is negated into the home line.
            let own = outcome.line?;
            let home_line = if name == OutcomeName::Away { -own } else { own };
            if line.is_some_and(|seen| seen != home_line) {
                return None;
            }
            line = Some(home_line);
        }
        outcomes.push(map_outcome(name, outcome, offer.suspended));
    }
    if line.is_some_and(|value| !valid_line(family, value)) {
        return None;
    }

    let mut market = Market {
        key: MarketKey {
            kind,
            period: offer.spec.period,
            line: line.map(|value| Line::from_scaled(value, SCALE)),
        },
        id: Some(id_text(offer.id)),
        outcomes,
        changed_at: latest_change(raw.iter()),
    };
    market.sort_outcomes();
    let complete = market
        .outcomes
        .iter()
        .map(|outcome| outcome.outcome)
        .eq(kind.outcomes().iter().copied());
    complete.then_some(Candidate {
        slot,
        criterion_id: offer.criterion_id,
        family,
        line,
        market,
    })
}

/// Builds an outcome. Anything but an `OPEN` outcome of an open offer is suspended, and
/// so is an outcome without a price above 1.0, because it cannot be backed.
fn map_outcome(name: OutcomeName, outcome: &RawOutcome<'_>, offer_suspended: bool) -> Outcome {
    let price = outcome
        .odds
        .filter(|odds| *odds > ONE)
        .map(|odds| Price::from_scaled(odds, SCALE));
    let status = if outcome.open && !offer_suspended && price.is_some() {
        OutcomeStatus::Open
    } else {
        OutcomeStatus::Suspended
    };
    let id = outcome.id.map(id_text);
    Outcome::new(name, price, status, id)
}

/// Returns the latest `changedDate` of the outcomes.
///
/// Kambi writes UTC times as `2021-05-30T07:08:09Z`, whose text order is time order, so
/// only the latest text is parsed. When any time has another form, every time is parsed.
fn latest_change<'o, 'a: 'o>(
    outcomes: impl Iterator<Item = &'o RawOutcome<'a>> + Clone,
) -> Option<Timestamp> {
    let texts = outcomes.filter_map(|outcome| outcome.changed_date.as_ref().map(Text::as_str));
    let canonical = |text: &str| text.len() == "2021-05-30T07:08:09Z".len() && text.ends_with('Z');
    if texts.clone().all(canonical) {
        return texts.max().and_then(|text| Timestamp::parse(text).ok());
    }
    texts.filter_map(|text| Timestamp::parse(text).ok()).max()
}

/// Returns whether a line in thousandths is one the family's kinds can carry: goal
/// totals are never negative, and every line is a multiple of a quarter goal.
fn valid_line(family: Family, line: i64) -> bool {
    let totals = matches!(family, Family::GoalTotals | Family::AsianTotals);
    line % QUARTER_GOAL == 0 && !(totals && line < 0)
}

/// Returns whether a line in thousandths is a half goal (0.5, 1.5, ...).
fn is_half_goal(line: i64) -> bool {
    line.rem_euclid(ONE) == ONE / 2
}

/// An event of the output and the teams its asian handicap outcomes are matched with.
struct Slot<'a> {
    event: Event,
    teams: Teams<'a>,
}

/// Builds the normalized event of an `events[]` entry, or `None` when it has no id.
fn build_event(entry: &EventEntry<'_>) -> Option<Event> {
    let id = entry.id?;
    // An outright names no away team, and an event names both teams or neither.
    let (home, away) = match (&entry.home_name, &entry.away_name) {
        (Some(home), Some(away)) => (
            Some(home.as_str().to_owned()),
            Some(away.as_str().to_owned()),
        ),
        _ => (None, None),
    };
    let sport = entry.sport.as_ref().map(|sport| {
        sport
            .as_str()
            .chars()
            .map(|c| c.to_ascii_lowercase())
            .collect::<CompactString>()
    });
    Some(Event {
        id: id_text(id),
        sport,
        competition: entry.group.as_ref().map(|group| group.as_str().to_owned()),
        home,
        away,
        start: entry
            .start
            .as_ref()
            .and_then(|text| Timestamp::parse(text.as_str()).ok()),
        live: entry
            .state
            .as_ref()
            .is_some_and(|state| state.as_str() == "STARTED"),
    })
}

/// Parses one Kambi bet-offer body into the markets of each event it describes.
///
/// Every event of `events[]` gets an entry, in order, even without mapped markets. Bet
/// offers of an event that `events[]` lacks, or of a body without `events[]`, give an
/// entry with only the id from `eventId`. Listing bodies (`events[]` of
/// `{event, betOffers}`) are read the same way. Markets are sorted by key; where two
/// offers give the same key, the first in the body is kept. Kinds outside `markets` are
/// left out.
///
/// Markets map by `criterion.id` and `criterion.englishLabel`, checked against the
/// offer's `betOfferType.id`: "Both Teams To Score" (and its halves) is btts, "Full
/// Time" / "Half Time" / "2nd Half" are 1x2, "Total Goals" (and its halves) is
/// total goals unless the criterion offers a quarter or whole line, "Asian Total" is
/// asian total, "Asian Handicap" (type 7) is asian handicap with the home team's line,
/// and "Draw No Bet" and "Double Chance" map to their kinds. Combinations, team totals,
/// corners, cards and the two-way "Handicap" are left out.
///
/// # Errors
///
/// Returns [`Error::Malformed`] when the body is not UTF-8 JSON in Kambi's schema, has
/// neither `betOffers` nor `events`, or is Kambi's error object.
pub fn parse_bet_offers(
    bookmaker: &'static str,
    body: &[u8],
    markets: MarketSet,
) -> Result<Vec<EventMarkets>> {
    let context = || Context::new(bookmaker, PARSE_OFFERS);
    let malformed = |error: serde_json::Error| Error::malformed(context(), &error);
    let text = body_text(context, body)?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let mut body = BodySeed { markets }
        .deserialize(&mut deserializer)
        .map_err(malformed)?;
    deserializer.end().map_err(malformed)?;
    if !body.has_offers && body.events.is_none() {
        let detail = match &body.error {
            Some(error) => format!(
                "Kambi returned an error (status {}): {}",
                error
                    .status
                    .map_or_else(|| "none".to_owned(), |status| status.to_string()),
                error.message.as_ref().map_or("no message", Text::as_str)
            ),
            None => "expected a Kambi body with betOffers or events".to_owned(),
        };
        return Err(Error::Malformed {
            context: context(),
            detail,
        });
    }

    let entries = body.events.as_deref().unwrap_or_default();
    for entry in entries {
        if let Some(raw) = entry.bet_offers {
            read_offers(raw.get(), markets, &mut body.offers).map_err(malformed)?;
        }
    }

    let mut slots: Vec<Slot<'_>> = Vec::with_capacity(entries.len() + 1);
    let mut slot_of: HashMap<u64, usize> = HashMap::with_capacity(entries.len() + 1);
    for entry in entries {
        let inner = entry.event();
        let (Some(id), Some(event)) = (inner.id, build_event(inner)) else {
            continue;
        };
        slot_of.entry(id).or_insert(slots.len());
        slots.push(Slot {
            event,
            teams: Teams::of(inner),
        });
    }
    // Every event the body has offers of gets an entry, whatever the kinds requested.
    for &event_id in &body.offers.event_ids {
        slot_of.entry(event_id).or_insert_with(|| {
            slots.push(Slot {
                event: Event::with_id(id_text(event_id)),
                teams: Teams::default(),
            });
            slots.len() - 1
        });
    }

    let mut candidates = Vec::with_capacity(body.offers.kept.len());
    for offer in &body.offers.kept {
        let Some(&slot) = slot_of.get(&offer.event_id) else {
            continue;
        };
        let raw = body.offers.outcomes_of(offer);
        candidates.extend(map_offer(offer, raw, slot, &slots[slot].teams));
    }

    let mut events: Vec<EventMarkets> = slots
        .into_iter()
        .map(|slot| EventMarkets {
            event: slot.event,
            markets: Vec::new(),
        })
        .collect();
    for (slot, market) in finish_markets(candidates, markets) {
        events[slot].markets.push(market);
    }
    Ok(events)
}

/// Splits goal totals by their criterion's lines, keeps the requested kinds, and
/// returns the markets with their event's index, sorted by event and key, without
/// later duplicates of a key.
fn finish_markets(mut candidates: Vec<Candidate>, markets: MarketSet) -> Vec<(usize, Market)> {
    // A "Total Goals" criterion that offers any quarter or whole line is an asian total
    // in all its lines, so the decision needs every offer of the criterion.
    let mut asian_criteria: Vec<(usize, Option<u64>)> = Vec::new();
    for candidate in &candidates {
        let criterion = (candidate.slot, candidate.criterion_id);
        let non_half = candidate.line.is_some_and(|line| !is_half_goal(line));
        if candidate.family == Family::GoalTotals
            && non_half
            && !asian_criteria.contains(&criterion)
        {
            asian_criteria.push(criterion);
        }
    }
    for candidate in &mut candidates {
        let criterion = (candidate.slot, candidate.criterion_id);
        if candidate.family == Family::GoalTotals && asian_criteria.contains(&criterion) {
            candidate.market.key.kind = MarketKind::AsianTotal;
        }
    }

    let mut result: Vec<(usize, Market)> = candidates
        .into_iter()
        .filter(|candidate| markets.contains(candidate.market.key.kind))
        .map(|candidate| (candidate.slot, candidate.market))
        .collect();
    // Stable, so the first offer of a key in the body stays first and is the one kept.
    result.sort_by_key(|(slot, market)| (*slot, market.key));
    result.dedup_by_key(|(slot, market)| (*slot, market.key));
    result
}

/// Parses a Kambi event listing (`listView`) into its matches. Entries tagged
/// `COMPETITION` or without `awayName` are outrights and are left out.
///
/// # Errors
///
/// Returns [`Error::Malformed`] when the body is not UTF-8 JSON with an `events` list.
pub fn parse_event_list(bookmaker: &'static str, body: &[u8]) -> Result<Vec<Event>> {
    let context = || Context::new(bookmaker, PARSE_LISTING);
    let text = body_text(context, body)?;
    let listing: Listing<'_> =
        serde_json::from_str(text).map_err(|error| Error::malformed(context(), &error))?;
    Ok(listing
        .events
        .iter()
        .map(EventEntry::event)
        .filter(|entry| entry.is_match())
        .filter_map(build_event)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_goal_lines() {
        for line in [500, 1500, 2500, -500] {
            assert!(is_half_goal(line), "{line}");
        }
        for line in [0, 1000, 2250, 2750, 3000] {
            assert!(!is_half_goal(line), "{line}");
        }
    }

    #[test]
    fn id_text_digits() {
        for id in [0, 7, 10, 2265745367, u64::MAX] {
            assert_eq!(id_text(id), id.to_string());
        }
    }

    #[test]
    fn line_validity() {
        assert!(valid_line(Family::AsianHandicap, -250));
        assert!(!valid_line(Family::GoalTotals, -500));
        assert!(!valid_line(Family::AsianTotals, 2100));
        assert!(valid_line(Family::AsianTotals, 2000));
    }
}
