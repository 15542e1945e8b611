//! Kambi's offering schema and its mapping into the normalized model.
//!
//! A bet-offer body is `{betOffers: [...], events: [...]}`. Each bet offer names its
//! market by `criterion` (`id` and `englishLabel`), its shape by `betOfferType.id` and
//! its event by `eventId`. Prices (`odds`) and lines (`line`) are integers in
//! thousandths. Listings (`listView`) put events under `events[]`, each either a flat
//! event or `{event: {...}, betOffers: [...]}`.
//!
//! Parsing is two-staged for speed: the offers are read with borrowed fields while each
//! offer's `outcomes` stay unparsed as a [`RawValue`]; only offers whose criterion maps to
//! a requested kind have their outcomes parsed.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use compact_str::{CompactString, ToCompactString};
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde_json::value::RawValue;
use xtr_core::error::Context;
use xtr_core::{
    Error, Event, EventMarkets, Line, Market, MarketKey, MarketKind, MarketSet, Outcome,
    OutcomeName, OutcomeStatus, Period, Price, Result, Timestamp,
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

// ---------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------

/// A bet-offer body, or a listing body when it has only `events`.
#[derive(Deserialize)]
struct Body<'a> {
    #[serde(borrow, rename = "betOffers")]
    bet_offers: Option<Vec<BetOffer<'a>>>,
    #[serde(borrow)]
    events: Option<Vec<EventEntry<'a>>>,
    #[serde(borrow)]
    error: Option<ApiError<'a>>,
}

/// Kambi's error object, `{"error": {"status": 404, "message": "..."}}`.
#[derive(Deserialize)]
struct ApiError<'a> {
    status: Option<u16>,
    #[serde(borrow)]
    message: Option<Cow<'a, str>>,
}

/// A listing body: `{events: [...]}`.
#[derive(Deserialize)]
struct Listing<'a> {
    #[serde(borrow)]
    events: Vec<EventEntry<'a>>,
}

/// One bet offer: a market of one event with one line.
#[derive(Deserialize)]
struct BetOffer<'a> {
    id: u64,
    #[serde(rename = "eventId")]
    event_id: u64,
    #[serde(borrow)]
    criterion: Option<Criterion<'a>>,
    #[serde(rename = "betOfferType")]
    offer_type: Option<OfferType>,
    /// Parsed only when the criterion maps to a requested kind.
    #[serde(borrow)]
    outcomes: Option<&'a RawValue>,
    #[serde(default)]
    suspended: bool,
}

/// The market identity of a bet offer.
#[derive(Deserialize)]
struct Criterion<'a> {
    id: Option<u64>,
    #[serde(borrow, rename = "englishLabel")]
    english_label: Option<Cow<'a, str>>,
}

/// The shape of a bet offer (2 match, 6 over/under, 7 asian handicap, ...).
#[derive(Deserialize)]
struct OfferType {
    id: Option<u32>,
}

/// One outcome of a bet offer.
#[derive(Deserialize)]
struct RawOutcome<'a> {
    id: Option<u64>,
    /// Decimal odds in thousandths; absent on some suspended outcomes.
    odds: Option<i64>,
    /// The outcome's line in thousandths: goals for totals, this side's handicap for
    /// asian handicap.
    line: Option<i64>,
    #[serde(borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    participant: Option<Cow<'a, str>>,
    #[serde(rename = "participantId")]
    participant_id: Option<u64>,
    #[serde(borrow)]
    status: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "changedDate")]
    changed_date: Option<Cow<'a, str>>,
}

/// An item of `events[]`: a flat event, or `{event, betOffers}` in listings. One struct
/// reads both, because the wrapped form's keys (`event`, `betOffers`) never occur in a
/// flat event.
#[derive(Deserialize)]
struct EventEntry<'a> {
    id: Option<u64>,
    #[serde(borrow, rename = "homeName")]
    home_name: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "awayName")]
    away_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    start: Option<Cow<'a, str>>,
    #[serde(borrow)]
    group: Option<Cow<'a, str>>,
    #[serde(borrow)]
    sport: Option<Cow<'a, str>>,
    #[serde(borrow)]
    state: Option<Cow<'a, str>>,
    /// Whether `tags` holds `COMPETITION`, Kambi's mark of an outright.
    #[serde(default, rename = "tags", deserialize_with = "has_competition_tag")]
    outright: bool,
    #[serde(default)]
    participants: Vec<Participant>,
    #[serde(borrow)]
    event: Option<Box<EventEntry<'a>>>,
    #[serde(borrow, default, rename = "betOffers")]
    bet_offers: Vec<BetOffer<'a>>,
}

impl<'a> EventEntry<'a> {
    /// Returns the event itself: the inner `event` of a wrapped item, else the item.
    fn event(&self) -> &EventEntry<'a> {
        self.event.as_deref().unwrap_or(self)
    }

    /// Returns whether the entry is a match: not tagged `COMPETITION`, with two teams.
    fn is_match(&self) -> bool {
        !self.outright && self.home_name.is_some() && self.away_name.is_some()
    }
}

/// A team of an event.
#[derive(Deserialize)]
struct Participant {
    #[serde(rename = "participantId")]
    id: Option<u64>,
    #[serde(default)]
    home: bool,
}

/// Reads `tags` as whether it contains `COMPETITION`, without collecting the tags.
fn has_competition_tag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    struct TagsVisitor;

    impl<'de> Visitor<'de> for TagsVisitor {
        type Value = bool;

        fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            formatter.write_str("a list of tags")
        }

        fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
            Ok(false)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
            let mut found = false;
            while let Some(tag) = seq.next_element::<Cow<'de, str>>()? {
                found |= tag == "COMPETITION";
            }
            Ok(found)
        }
    }

    deserializer.deserialize_any(TagsVisitor)
}

// ---------------------------------------------------------------------------------------
// Market identity
// ---------------------------------------------------------------------------------------

/// A group of Kambi criteria that map to one normalized kind (or, for goal totals, to
/// one of two kinds depending on the lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Btts,
    MatchResult,
    /// "Total Goals": `total_goals` when every line of the criterion is a half goal,
    /// else `asian_total`.
    GoalTotals,
    /// "Asian Total": always `asian_total`.
    AsianTotals,
    AsianHandicap,
    DrawNoBet,
    DoubleChance,
}

impl Family {
    /// Returns whether a bet offer of this `betOfferType.id` has the family's shape.
    fn accepts(self, offer_type: u32) -> bool {
        match self {
            Family::Btts => offer_type == 18,
            Family::MatchResult | Family::DrawNoBet => offer_type == 2,
            Family::GoalTotals | Family::AsianTotals => matches!(offer_type, 6 | 21),
            Family::AsianHandicap => offer_type == 7,
            Family::DoubleChance => offer_type == 12,
        }
    }

    /// Returns whether any kind the family can produce is in `markets`.
    fn is_requested(self, markets: MarketSet) -> bool {
        match self {
            Family::Btts => markets.contains(MarketKind::Btts),
            Family::MatchResult => markets.contains(MarketKind::MatchResult),
            Family::GoalTotals => {
                markets.contains(MarketKind::TotalGoals) || markets.contains(MarketKind::AsianTotal)
            }
            Family::AsianTotals => markets.contains(MarketKind::AsianTotal),
            Family::AsianHandicap => markets.contains(MarketKind::AsianHandicap),
            Family::DrawNoBet => markets.contains(MarketKind::DrawNoBet),
            Family::DoubleChance => markets.contains(MarketKind::DoubleChance),
        }
    }
}

/// A Kambi market the extractor maps.
struct CriterionSpec {
    /// `criterion.englishLabel`, compared ignoring ASCII case.
    label: &'static str,
    /// `criterion.id` as seen in Kambi's football offering, when known.
    id: Option<u64>,
    family: Family,
    period: Period,
}

const fn spec(
    label: &'static str,
    id: Option<u64>,
    family: Family,
    period: Period,
) -> CriterionSpec {
    CriterionSpec {
        label,
        id,
        family,
        period,
    }
}

/// Every criterion the extractor maps. Labels are exact: "Both Teams to Score in both
/// halves", "Draw and both teams to score", "Total Goals by <team>", "Total Corners",
/// "Handicap" (two-way, type 1) and "First Goal. No Goal, No Bet" match no entry.
const CRITERIA: &[CriterionSpec] = &[
    spec(
        "Both Teams To Score",
        Some(1001642858),
        Family::Btts,
        Period::FullTime,
    ),
    spec(
        "Both Teams To Score - 1st Half",
        Some(1001642863),
        Family::Btts,
        Period::FirstHalf,
    ),
    spec(
        "Both Teams To Score - 2nd Half",
        Some(1001642868),
        Family::Btts,
        Period::SecondHalf,
    ),
    spec(
        "Full Time",
        Some(1001159858),
        Family::MatchResult,
        Period::FullTime,
    ),
    spec(
        "Half Time",
        Some(1000316018),
        Family::MatchResult,
        Period::FirstHalf,
    ),
    spec(
        "2nd Half",
        Some(1001159826),
        Family::MatchResult,
        Period::SecondHalf,
    ),
    spec(
        "Total Goals",
        Some(1001159926),
        Family::GoalTotals,
        Period::FullTime,
    ),
    spec(
        "Total Goals - 1st Half",
        Some(1001159532),
        Family::GoalTotals,
        Period::FirstHalf,
    ),
    spec(
        "Total Goals - 2nd Half",
        Some(1001243173),
        Family::GoalTotals,
        Period::SecondHalf,
    ),
    spec(
        "Asian Total",
        Some(1002244276),
        Family::AsianTotals,
        Period::FullTime,
    ),
    spec(
        "Asian Total - 1st Half",
        Some(1002558602),
        Family::AsianTotals,
        Period::FirstHalf,
    ),
    spec(
        "Asian Total - 2nd Half",
        None,
        Family::AsianTotals,
        Period::SecondHalf,
    ),
    spec(
        "Asian Handicap",
        Some(1002275572),
        Family::AsianHandicap,
        Period::FullTime,
    ),
    spec(
        "Asian Handicap - 1st Half",
        Some(1002275573),
        Family::AsianHandicap,
        Period::FirstHalf,
    ),
    spec(
        "Asian Handicap - 2nd Half",
        None,
        Family::AsianHandicap,
        Period::SecondHalf,
    ),
    spec(
        "Draw No Bet",
        Some(1001159666),
        Family::DrawNoBet,
        Period::FullTime,
    ),
    spec(
        "Draw No Bet - 1st Half",
        Some(1001159884),
        Family::DrawNoBet,
        Period::FirstHalf,
    ),
    spec(
        "Draw No Bet - 2nd Half",
        Some(1001421321),
        Family::DrawNoBet,
        Period::SecondHalf,
    ),
    spec(
        "Double Chance",
        Some(1001159922),
        Family::DoubleChance,
        Period::FullTime,
    ),
    spec(
        "Double Chance - 1st Half",
        Some(1001159668),
        Family::DoubleChance,
        Period::FirstHalf,
    ),
    spec(
        "Double Chance - 2nd Half",
        Some(1001421320),
        Family::DoubleChance,
        Period::SecondHalf,
    ),
];

/// Finds the mapped market of a bet offer.
///
/// A known `criterion.id` selects its entry, unless the English label names something
/// else; an unknown id maps by its English label alone. The offer's `betOfferType.id`
/// must then have the entry's shape, so a label never maps an offer of another shape.
fn classify(offer: &BetOffer<'_>) -> Option<&'static CriterionSpec> {
    let criterion = offer.criterion.as_ref()?;
    let label = criterion.english_label.as_deref();
    let by_id = criterion
        .id
        .and_then(|id| CRITERIA.iter().find(|spec| spec.id == Some(id)));
    let spec = match (by_id, label) {
        (Some(spec), Some(label)) if !spec.label.eq_ignore_ascii_case(label) => return None,
        (Some(spec), _) => spec,
        (None, Some(label)) => CRITERIA
            .iter()
            .find(|spec| spec.label.eq_ignore_ascii_case(label))?,
        (None, None) => return None,
    };
    let offer_type = offer.offer_type.as_ref()?.id?;
    spec.family.accepts(offer_type).then_some(spec)
}

// ---------------------------------------------------------------------------------------
// Mapping
// ---------------------------------------------------------------------------------------

/// What an asian handicap outcome is compared with to tell home from away.
#[derive(Default)]
struct Teams<'a> {
    home_id: Option<u64>,
    away_id: Option<u64>,
    home_name: Option<&'a str>,
    away_name: Option<&'a str>,
}

impl<'a> Teams<'a> {
    fn of(entry: &'a EventEntry<'a>) -> Self {
        let participant = |home: bool| {
            entry
                .participants
                .iter()
                .find(|participant| participant.home == home)
                .and_then(|participant| participant.id)
        };
        Self {
            home_id: participant(true),
            away_id: participant(false),
            home_name: entry.home_name.as_deref(),
            away_name: entry.away_name.as_deref(),
        }
    }

    /// Returns the side of a team outcome: by `participantId` against the event's
    /// participants, else by `participant` against `homeName` / `awayName`.
    fn side(&self, outcome: &RawOutcome<'_>) -> Option<OutcomeName> {
        if let (Some(id), Some(home), Some(away)) =
            (outcome.participant_id, self.home_id, self.away_id)
        {
            if home != away {
                return match id {
                    _ if id == home => Some(OutcomeName::Home),
                    _ if id == away => Some(OutcomeName::Away),
                    _ => None,
                };
            }
        }
        let name = outcome.participant.as_deref()?;
        match (self.home_name, self.away_name) {
            (Some(home), Some(away)) if home != away => match name {
                _ if name == home => Some(OutcomeName::Home),
                _ if name == away => Some(OutcomeName::Away),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Returns the normalized name of an outcome of a family's offer, by Kambi's outcome
/// type (or participant, for asian handicap), never by position.
fn outcome_name(
    family: Family,
    outcome: &RawOutcome<'_>,
    teams: &Teams<'_>,
) -> Option<OutcomeName> {
    if family == Family::AsianHandicap {
        return teams.side(outcome);
    }
    let kind = outcome.kind.as_deref()?;
    let name = match (family, kind) {
        (Family::Btts, "OT_YES") => OutcomeName::Yes,
        (Family::Btts, "OT_NO") => OutcomeName::No,
        (Family::MatchResult | Family::DrawNoBet, "OT_ONE") => OutcomeName::Home,
        (Family::MatchResult, "OT_CROSS") => OutcomeName::Draw,
        (Family::MatchResult | Family::DrawNoBet, "OT_TWO") => OutcomeName::Away,
        (Family::GoalTotals | Family::AsianTotals, "OT_OVER") => OutcomeName::Over,
        (Family::GoalTotals | Family::AsianTotals, "OT_UNDER") => OutcomeName::Under,
        (Family::DoubleChance, "OT_ONE_OR_CROSS") => OutcomeName::HomeOrDraw,
        (Family::DoubleChance, "OT_CROSS_OR_TWO") => OutcomeName::DrawOrAway,
        (Family::DoubleChance, "OT_ONE_OR_TWO") => OutcomeName::HomeOrAway,
        _ => return None,
    };
    Some(name)
}

/// A mapped bet offer, before goal totals are split into `total_goals` and
/// `asian_total` by the lines of their whole criterion.
struct Candidate {
    criterion_id: Option<u64>,
    family: Family,
    /// The market's line in Kambi's thousandths.
    line: Option<i64>,
    market: Market,
}

/// Maps one bet offer whose criterion is `spec`, or returns `None` when its outcomes do
/// not form a complete market with one valid line.
///
/// # Errors
///
/// Returns [`Error::Malformed`] when the outcomes are not Kambi outcomes.
fn map_offer(
    bookmaker: &'static str,
    offer: &BetOffer<'_>,
    spec: &CriterionSpec,
    teams: &Teams<'_>,
) -> Result<Option<Candidate>> {
    let Some(raw) = offer.outcomes else {
        return Ok(None);
    };
    let parsed: Vec<RawOutcome<'_>> = serde_json::from_str(raw.get())
        .map_err(|error| Error::malformed(Context::new(bookmaker, PARSE_OFFERS), &error))?;

    let kind = match spec.family {
        Family::Btts => MarketKind::Btts,
        Family::MatchResult => MarketKind::MatchResult,
        // Corrected per criterion once every offer of the event has been read.
        Family::GoalTotals => MarketKind::TotalGoals,
        Family::AsianTotals => MarketKind::AsianTotal,
        Family::AsianHandicap => MarketKind::AsianHandicap,
        Family::DrawNoBet => MarketKind::DrawNoBet,
        Family::DoubleChance => MarketKind::DoubleChance,
    };
    let mut line: Option<i64> = None;
    let mut changed_at: Option<Timestamp> = None;
    let mut outcomes = Vec::with_capacity(parsed.len());
    for outcome in &parsed {
        let Some(name) = outcome_name(spec.family, outcome, teams) else {
            return Ok(None);
        };
        if kind.has_line() {
            // Totals carry the goals line on each outcome; asian handicap carries each
            // side's own handicap, so the away side's is negated into the home line.
            let Some(own) = outcome.line else {
                return Ok(None);
            };
            let home_line = if name == OutcomeName::Away { -own } else { own };
            if line.is_some_and(|seen| seen != home_line) {
                return Ok(None);
            }
            line = Some(home_line);
        }
        if let Some(time) = outcome
            .changed_date
            .as_deref()
            .and_then(|text| Timestamp::parse(text).ok())
        {
            changed_at = changed_at.max(Some(time));
        }
        outcomes.push(map_outcome(name, outcome, offer.suspended));
    }

    let line = match line {
        Some(value) if !valid_line(spec.family, value) => return Ok(None),
        other => other,
    };
    let mut market = Market {
        key: MarketKey {
            kind,
            period: spec.period,
            line: line.map(|value| Line::from_scaled(value, SCALE)),
        },
        id: Some(offer.id.to_compact_string()),
        outcomes,
        changed_at,
    };
    market.sort_outcomes();
    let complete = market
        .outcomes
        .iter()
        .map(|outcome| outcome.outcome)
        .eq(kind.outcomes().iter().copied());
    if !complete {
        return Ok(None);
    }
    Ok(Some(Candidate {
        criterion_id: offer.criterion.as_ref().and_then(|criterion| criterion.id),
        family: spec.family,
        line,
        market,
    }))
}

/// Builds an outcome. Anything but an `OPEN` outcome of an open offer is suspended, and
/// so is an outcome without a price above 1.0, because it cannot be backed.
fn map_outcome(name: OutcomeName, outcome: &RawOutcome<'_>, offer_suspended: bool) -> Outcome {
    let price = outcome
        .odds
        .filter(|odds| *odds > ONE)
        .map(|odds| Price::from_scaled(odds, SCALE));
    let open = !offer_suspended && outcome.status.as_deref() == Some("OPEN") && price.is_some();
    let status = if open {
        OutcomeStatus::Open
    } else {
        OutcomeStatus::Suspended
    };
    let id = outcome.id.map(|id| id.to_compact_string());
    Outcome::new(name, price, status, id)
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

/// The markets being collected for one event.
struct Slot<'a> {
    event: Event,
    teams: Teams<'a>,
    candidates: Vec<Candidate>,
}

/// Builds the normalized event of an `events[]` entry; `None` without an id.
fn build_event(entry: &EventEntry<'_>) -> Option<Event> {
    let id = entry.id?;
    // An outright names no away team, and an event names both teams or neither.
    let (home, away) = match (&entry.home_name, &entry.away_name) {
        (Some(home), Some(away)) => (Some(home.to_string()), Some(away.to_string())),
        _ => (None, None),
    };
    Some(Event {
        id: id.to_compact_string(),
        sport: entry.sport.as_deref().map(|sport| {
            sport
                .chars()
                .map(|c| c.to_ascii_lowercase())
                .collect::<CompactString>()
        }),
        competition: entry.group.as_deref().map(str::to_owned),
        home,
        away,
        start: entry
            .start
            .as_deref()
            .and_then(|text| Timestamp::parse(text).ok()),
        live: entry.state.as_deref() == Some("STARTED"),
    })
}

/// Parses one Kambi bet-offer body into the markets of each event it describes.
///
/// Every event of `events[]` gets an entry, in order, even without mapped markets; bet
/// offers of an event that `events[]` lacks (or a body without `events[]`) get an entry
/// with only the id from `eventId`. Listing bodies (`events[]` of `{event, betOffers}`)
/// are read the same way. Markets are sorted by key; where two offers give the same key,
/// the first in the body is kept. Kinds outside `markets` are left out.
///
/// # Errors
///
/// Returns [`Error::Malformed`] when the body is not JSON in Kambi's schema, has neither
/// `betOffers` nor `events`, or is Kambi's error object.
pub fn parse_bet_offers(
    bookmaker: &'static str,
    body: &[u8],
    markets: MarketSet,
) -> Result<Vec<EventMarkets>> {
    let context = || Context::new(bookmaker, PARSE_OFFERS);
    let body: Body<'_> =
        serde_json::from_slice(body).map_err(|error| Error::malformed(context(), &error))?;
    if body.bet_offers.is_none() && body.events.is_none() {
        let detail = match &body.error {
            Some(error) => format!(
                "Kambi returned an error (status {}): {}",
                error
                    .status
                    .map_or_else(|| "none".to_owned(), |s| s.to_string()),
                error.message.as_deref().unwrap_or("no message")
            ),
            None => "expected a Kambi body with betOffers or events".to_owned(),
        };
        return Err(Error::Malformed {
            context: context(),
            detail,
        });
    }

    let entries = body.events.as_deref().unwrap_or_default();
    let mut slots: Vec<Slot<'_>> = Vec::with_capacity(entries.len() + 1);
    let mut slot_of: HashMap<u64, usize> = HashMap::with_capacity(entries.len() + 1);
    for entry in entries {
        let inner = entry.event();
        let Some(event) = build_event(inner) else {
            continue;
        };
        if let Some(id) = inner.id {
            slot_of.entry(id).or_insert(slots.len());
        }
        slots.push(Slot {
            event,
            teams: Teams::of(inner),
            candidates: Vec::new(),
        });
    }

    let top_level = body.bet_offers.as_deref().unwrap_or_default();
    let wrapped = entries.iter().flat_map(|entry| entry.bet_offers.iter());
    for offer in top_level.iter().chain(wrapped) {
        // Every event the body has offers of gets an entry, whatever the kinds requested.
        let index = *slot_of.entry(offer.event_id).or_insert_with(|| {
            slots.push(Slot {
                event: Event::with_id(offer.event_id.to_compact_string()),
                teams: Teams::default(),
                candidates: Vec::new(),
            });
            slots.len() - 1
        });
        let Some(spec) = classify(offer).filter(|spec| spec.family.is_requested(markets)) else {
            continue;
        };
        let slot = &mut slots[index];
        if let Some(candidate) = map_offer(bookmaker, offer, spec, &slot.teams)? {
            slot.candidates.push(candidate);
        }
    }

    Ok(slots
        .into_iter()
        .map(|slot| EventMarkets {
            event: slot.event,
            markets: finish_markets(slot.candidates, markets),
        })
        .collect())
}

/// Splits goal totals by their criterion's lines, keeps the requested kinds, sorts the
/// markets by key and drops later duplicates of a key.
fn finish_markets(mut candidates: Vec<Candidate>, markets: MarketSet) -> Vec<Market> {
    // A "Total Goals" criterion that offers any quarter or whole line is an asian total
    // in all its lines, so the decision needs every offer of the criterion.
    let mut asian_criteria: Vec<Option<u64>> = Vec::new();
    for candidate in &candidates {
        let non_half = candidate.line.is_some_and(|line| !is_half_goal(line));
        if candidate.family == Family::GoalTotals
            && non_half
            && !asian_criteria.contains(&candidate.criterion_id)
        {
            asian_criteria.push(candidate.criterion_id);
        }
    }
    for candidate in &mut candidates {
        if candidate.family == Family::GoalTotals
            && asian_criteria.contains(&candidate.criterion_id)
        {
            candidate.market.key.kind = MarketKind::AsianTotal;
        }
    }

    let mut result: Vec<Market> = candidates
        .into_iter()
        .map(|candidate| candidate.market)
        .filter(|market| markets.contains(market.key.kind))
        .collect();
    // Stable, so the first offer of a key in the body stays first and is the one kept.
    result.sort_by_key(|market| market.key);
    result.dedup_by_key(|market| market.key);
    result
}

/// Parses a Kambi event listing (`listView`) into its matches. Entries tagged
/// `COMPETITION` or without `awayName` are outrights and are left out.
///
/// # Errors
///
/// Returns [`Error::Malformed`] when the body is not JSON with an `events` list.
pub fn parse_event_list(bookmaker: &'static str, body: &[u8]) -> Result<Vec<Event>> {
    let listing: Listing<'_> = serde_json::from_slice(body)
        .map_err(|error| Error::malformed(Context::new(bookmaker, PARSE_LISTING), &error))?;
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
    fn line_validity() {
        assert!(valid_line(Family::AsianHandicap, -250));
        assert!(!valid_line(Family::GoalTotals, -500));
        assert!(!valid_line(Family::AsianTotals, 2100));
        assert!(valid_line(Family::AsianTotals, 2000));
    }
}
