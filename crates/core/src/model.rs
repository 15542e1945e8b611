//! The normalized model: one market means the same thing for every bookmaker.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use compact_str::CompactString;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::decimal::{Line, Price, Size};

/// The kind of a market, independent of the bookmaker that offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MarketKind {
    /// Both teams to score: `yes` / `no`.
    #[serde(rename = "btts")]
    Btts,
    /// Match result: `home` / `draw` / `away`.
    #[serde(rename = "1x2")]
    MatchResult,
    /// The standard over/under on the match's goals with half-goal lines. Team totals,
    /// corners, cards and time windows are other markets.
    #[serde(rename = "total_goals")]
    TotalGoals,
    /// A goals total the bookmaker marks as Asian, or one that offers any quarter or
    /// whole-goal line. Every line of such a market is an asian total.
    #[serde(rename = "asian_total")]
    AsianTotal,
    /// Asian handicap: `home` / `away`, the line is the home team's handicap.
    #[serde(rename = "asian_handicap")]
    AsianHandicap,
    /// Draw no bet: `home` / `away`, stakes returned on a draw.
    #[serde(rename = "draw_no_bet")]
    DrawNoBet,
    /// Double chance: `1x` / `x2` / `12`.
    #[serde(rename = "double_chance")]
    DoubleChance,
}

impl MarketKind {
    /// Every kind, in the order the documentation lists them.
    pub const ALL: [MarketKind; 7] = [
        MarketKind::Btts,
        MarketKind::MatchResult,
        MarketKind::TotalGoals,
        MarketKind::AsianTotal,
        MarketKind::AsianHandicap,
        MarketKind::DrawNoBet,
        MarketKind::DoubleChance,
    ];

    /// Returns the name used in jobs, snapshots and Redis keys.
    pub fn as_str(self) -> &'static str {
        match self {
            MarketKind::Btts => "btts",
            MarketKind::MatchResult => "1x2",
            MarketKind::TotalGoals => "total_goals",
            MarketKind::AsianTotal => "asian_total",
            MarketKind::AsianHandicap => "asian_handicap",
            MarketKind::DrawNoBet => "draw_no_bet",
            MarketKind::DoubleChance => "double_chance",
        }
    }

    /// Returns the outcomes a complete market of this kind has, in snapshot order.
    pub fn outcomes(self) -> &'static [OutcomeName] {
        use OutcomeName::*;
        match self {
            MarketKind::Btts => &[Yes, No],
            MarketKind::MatchResult => &[Home, Draw, Away],
            MarketKind::TotalGoals | MarketKind::AsianTotal => &[Over, Under],
            MarketKind::AsianHandicap | MarketKind::DrawNoBet => &[Home, Away],
            MarketKind::DoubleChance => &[HomeOrDraw, DrawOrAway, HomeOrAway],
        }
    }

    /// Returns whether markets of this kind carry a line.
    pub fn has_line(self) -> bool {
        matches!(
            self,
            MarketKind::TotalGoals | MarketKind::AsianTotal | MarketKind::AsianHandicap
        )
    }
}

impl fmt::Display for MarketKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing a market kind, period or worker type from text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {value:?}: expected one of {expected}")]
pub struct ParseNameError {
    what: &'static str,
    value: String,
    expected: String,
}

fn parse_name<T: Copy>(
    what: &'static str,
    text: &str,
    all: &[T],
    name: impl Fn(T) -> &'static str,
) -> Result<T, ParseNameError> {
    let wanted = text.trim();
    all.iter()
        .copied()
        .find(|item| name(*item).eq_ignore_ascii_case(wanted))
        .ok_or_else(|| ParseNameError {
            what,
            value: text.to_owned(),
            expected: all
                .iter()
                .map(|item| name(*item))
                .collect::<Vec<_>>()
                .join(", "),
        })
}

impl FromStr for MarketKind {
    type Err = ParseNameError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_name("market kind", text, &MarketKind::ALL, MarketKind::as_str)
    }
}

/// A set of market kinds, small enough to copy.
#[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct MarketSet(u8);

impl MarketSet {
    /// The set with no kinds.
    pub const EMPTY: MarketSet = MarketSet(0);

    /// Returns the set of every kind.
    pub const fn all() -> Self {
        Self::from_kinds(&MarketKind::ALL)
    }

    /// Returns the set of the given kinds.
    pub const fn from_kinds(kinds: &[MarketKind]) -> Self {
        let mut set = Self::EMPTY;
        let mut index = 0;
        while index < kinds.len() {
            set = set.with(kinds[index]);
            index += 1;
        }
        set
    }

    /// Returns this set with `kind` added.
    #[must_use]
    pub const fn with(self, kind: MarketKind) -> Self {
        Self(self.0 | Self::bit(kind))
    }

    /// Returns whether the set contains `kind`.
    pub const fn contains(self, kind: MarketKind) -> bool {
        self.0 & Self::bit(kind) != 0
    }

    /// Returns the kinds in both sets.
    #[must_use]
    pub fn intersection(self, other: MarketSet) -> Self {
        Self(self.0 & other.0)
    }

    /// Returns the kinds of `self` that `other` lacks.
    #[must_use]
    pub fn difference(self, other: MarketSet) -> Self {
        Self(self.0 & !other.0)
    }

    /// Returns whether the set has no kinds.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Iterates over the kinds in documentation order.
    pub fn iter(self) -> impl Iterator<Item = MarketKind> {
        MarketKind::ALL
            .into_iter()
            .filter(move |kind| self.contains(*kind))
    }

    /// Parses a comma-separated list of kinds such as `btts,1x2`.
    ///
    /// # Errors
    ///
    /// Returns an error naming the first unknown kind, or when the list names none.
    pub fn parse_list(text: &str) -> Result<Self, ParseNameError> {
        let mut set = Self::EMPTY;
        for name in text
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
        {
            set = set.with(name.parse()?);
        }
        if set.is_empty() {
            return Err(ParseNameError {
                what: "market list",
                value: text.to_owned(),
                expected: MarketKind::ALL.map(MarketKind::as_str).join(", "),
            });
        }
        Ok(set)
    }

    const fn bit(kind: MarketKind) -> u8 {
        1 << (kind as u8)
    }
}

impl fmt::Debug for MarketSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl fmt::Display for MarketSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for kind in self.iter() {
            if !first {
                f.write_str(",")?;
            }
            f.write_str(kind.as_str())?;
            first = false;
        }
        Ok(())
    }
}

/// The part of the match a market settles on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Period {
    /// Full time: regular time including stoppage time, no extra time.
    #[serde(rename = "ft")]
    FullTime,
    /// First half.
    #[serde(rename = "1h")]
    FirstHalf,
    /// Second half.
    #[serde(rename = "2h")]
    SecondHalf,
}

impl Period {
    /// Every period.
    pub const ALL: [Period; 3] = [Period::FullTime, Period::FirstHalf, Period::SecondHalf];

    /// Returns the name used in snapshots and Redis keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::FullTime => "ft",
            Period::FirstHalf => "1h",
            Period::SecondHalf => "2h",
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Period {
    type Err = ParseNameError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_name("period", text, &Period::ALL, Period::as_str)
    }
}

/// The identity of a market within one event: kind, period and line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MarketKey {
    /// Market kind.
    pub kind: MarketKind,
    /// Period the market settles on.
    pub period: Period,
    /// Goals line for totals, the home team's handicap for asian handicap, else none.
    pub line: Option<Line>,
}

impl MarketKey {
    /// Builds a key without a line.
    pub fn new(kind: MarketKind, period: Period) -> Self {
        Self {
            kind,
            period,
            line: None,
        }
    }

    /// Builds a key with a line.
    pub fn with_line(kind: MarketKind, period: Period, line: Line) -> Self {
        Self {
            kind,
            period,
            line: Some(line),
        }
    }
}

/// The name of an outcome, fixed by the market kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum OutcomeName {
    /// Yes, in a yes/no market.
    #[serde(rename = "yes")]
    Yes,
    /// No, in a yes/no market.
    #[serde(rename = "no")]
    No,
    /// The home team.
    #[serde(rename = "home")]
    Home,
    /// The draw.
    #[serde(rename = "draw")]
    Draw,
    /// The away team.
    #[serde(rename = "away")]
    Away,
    /// Over the line.
    #[serde(rename = "over")]
    Over,
    /// Under the line.
    #[serde(rename = "under")]
    Under,
    /// Home or draw (double chance).
    #[serde(rename = "1x")]
    HomeOrDraw,
    /// Draw or away (double chance).
    #[serde(rename = "x2")]
    DrawOrAway,
    /// Home or away (double chance).
    #[serde(rename = "12")]
    HomeOrAway,
}

impl OutcomeName {
    /// Returns the name used in snapshots.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeName::Yes => "yes",
            OutcomeName::No => "no",
            OutcomeName::Home => "home",
            OutcomeName::Draw => "draw",
            OutcomeName::Away => "away",
            OutcomeName::Over => "over",
            OutcomeName::Under => "under",
            OutcomeName::HomeOrDraw => "1x",
            OutcomeName::DrawOrAway => "x2",
            OutcomeName::HomeOrAway => "12",
        }
    }
}

/// Whether an outcome can be backed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    /// Open for betting at its price.
    Open,
    /// Temporarily closed; the price, when present, is the last one offered.
    Suspended,
}

/// Whether the event offers a market of the requested kind at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarketStatus {
    /// The market exists; its outcomes are listed.
    Offered,
    /// The event has no market of this kind; the snapshot has no outcomes.
    NotOffered,
}

/// The best price level of one side of an exchange's order book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ExchangePrice {
    /// Decimal odds of the level.
    pub price: Price,
    /// Stake available at that price.
    pub size: Size,
}

/// One selection of a market with its price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Normalized outcome name.
    pub outcome: OutcomeName,
    /// Decimal odds; none when the bookmaker shows no price (often while suspended). On an
    /// exchange this is the best back price.
    pub price: Option<Price>,
    /// Whether the outcome can be backed now.
    pub status: OutcomeStatus,
    /// The bookmaker's own id of the outcome.
    pub id: Option<CompactString>,
    /// Exchanges only: the best back level (price and available size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub back: Option<ExchangePrice>,
    /// Exchanges only: the best lay level (price and available size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lay: Option<ExchangePrice>,
}

impl Outcome {
    /// Builds a sportsbook outcome.
    pub fn new(
        outcome: OutcomeName,
        price: Option<Price>,
        status: OutcomeStatus,
        id: Option<CompactString>,
    ) -> Self {
        Self {
            outcome,
            price,
            status,
            id,
            back: None,
            lay: None,
        }
    }
}

/// A point in time in UTC, serialized as RFC 3339 with a `Z` suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    /// Returns the current time.
    pub fn now() -> Self {
        Self(Utc::now())
    }

    /// Parses RFC 3339 text with any offset and converts it to UTC.
    ///
    /// # Errors
    ///
    /// Returns chrono's error when the text is not RFC 3339.
    pub fn parse(text: &str) -> Result<Self, chrono::ParseError> {
        DateTime::parse_from_rfc3339(text).map(|time| Self(time.with_timezone(&Utc)))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // AutoSi prints fractions only when the time has them, so a bookmaker's
        // whole-second time is not padded with `.000`.
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A sporting event as the bookmaker lists it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Event {
    /// The bookmaker's event id.
    pub id: CompactString,
    /// Sport, in lowercase English (`football`).
    pub sport: Option<CompactString>,
    /// Competition or league name.
    pub competition: Option<String>,
    /// Home team.
    pub home: Option<String>,
    /// Away team.
    pub away: Option<String>,
    /// Kick-off time.
    pub start: Option<Timestamp>,
    /// Whether the event is in play.
    pub live: bool,
}

impl Event {
    /// Builds an event that only has an id, for bodies that name nothing else.
    pub fn with_id(id: impl Into<CompactString>) -> Self {
        Self {
            id: id.into(),
            ..Self::default()
        }
    }
}

/// One market of an event with its outcomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Market {
    /// Kind, period and line.
    pub key: MarketKey,
    /// The bookmaker's own market id.
    pub id: Option<CompactString>,
    /// Outcomes in the order of [`MarketKind::outcomes`].
    pub outcomes: Vec<Outcome>,
    /// The bookmaker's time of the last change to the market, when it gives one.
    pub changed_at: Option<Timestamp>,
}

impl Market {
    /// Sorts the outcomes into the kind's canonical order, so that snapshots compare
    /// equal whatever order the bookmaker sent them in.
    pub fn sort_outcomes(&mut self) {
        let order = self.key.kind.outcomes();
        self.outcomes.sort_by_key(|outcome| {
            order
                .iter()
                .position(|name| *name == outcome.outcome)
                .unwrap_or(usize::MAX)
        });
    }
}

/// The markets one response holds for one event.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EventMarkets {
    /// The event.
    pub event: Event,
    /// Its markets, at most one per market key.
    pub markets: Vec<Market>,
}

/// The kind of worker: the consumer group's name, and the markets it extracts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WorkerType {
    /// `btts-worker`: both teams to score.
    Btts,
    /// `1x2-worker`: match result.
    MatchResult,
    /// `totals-worker`: match goal totals.
    Totals,
    /// `ah-worker`: asian handicap.
    AsianHandicap,
    /// `dnb-worker`: draw no bet.
    DrawNoBet,
    /// `dc-worker`: double chance.
    DoubleChance,
    /// `all-markets-worker`: every kind.
    AllMarkets,
}

impl WorkerType {
    /// Every worker type.
    pub const ALL: [WorkerType; 7] = [
        WorkerType::Btts,
        WorkerType::MatchResult,
        WorkerType::Totals,
        WorkerType::AsianHandicap,
        WorkerType::DrawNoBet,
        WorkerType::DoubleChance,
        WorkerType::AllMarkets,
    ];

    /// Returns the name, which is also the consumer group's name.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkerType::Btts => "btts-worker",
            WorkerType::MatchResult => "1x2-worker",
            WorkerType::Totals => "totals-worker",
            WorkerType::AsianHandicap => "ah-worker",
            WorkerType::DrawNoBet => "dnb-worker",
            WorkerType::DoubleChance => "dc-worker",
            WorkerType::AllMarkets => "all-markets-worker",
        }
    }

    /// Returns the market kinds a job gets when it names none.
    pub fn markets(self) -> MarketSet {
        match self {
            WorkerType::Btts => MarketSet::from_kinds(&[MarketKind::Btts]),
            WorkerType::MatchResult => MarketSet::from_kinds(&[MarketKind::MatchResult]),
            WorkerType::Totals => MarketSet::from_kinds(&[MarketKind::TotalGoals]),
            WorkerType::AsianHandicap => MarketSet::from_kinds(&[MarketKind::AsianHandicap]),
            WorkerType::DrawNoBet => MarketSet::from_kinds(&[MarketKind::DrawNoBet]),
            WorkerType::DoubleChance => MarketSet::from_kinds(&[MarketKind::DoubleChance]),
            WorkerType::AllMarkets => MarketSet::all(),
        }
    }
}

impl fmt::Display for WorkerType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for WorkerType {
    type Err = ParseNameError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_name("worker type", text, &WorkerType::ALL, WorkerType::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn market_kind_names_round_trip() {
        for kind in MarketKind::ALL {
            assert_eq!(kind.as_str().parse::<MarketKind>().unwrap(), kind);
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
    }

    #[test]
    fn unknown_market_kind_lists_valid_ones() {
        let error = "corners".parse::<MarketKind>().unwrap_err().to_string();
        assert!(error.contains("\"corners\""), "{error}");
        assert!(error.contains("btts, 1x2, total_goals"), "{error}");
    }

    #[test]
    fn market_list_parses_and_rejects() {
        let set = MarketSet::parse_list("btts, 1x2").unwrap();
        assert!(set.contains(MarketKind::Btts));
        assert!(set.contains(MarketKind::MatchResult));
        assert!(!set.contains(MarketKind::TotalGoals));
        assert_eq!(set.to_string(), "btts,1x2");
        assert!(MarketSet::parse_list("btts,corners").is_err());
        assert!(MarketSet::parse_list(" , ").is_err());
    }

    #[test]
    fn worker_types_map_to_markets() {
        assert_eq!(
            "btts-worker".parse::<WorkerType>().unwrap().markets(),
            MarketSet::from_kinds(&[MarketKind::Btts])
        );
        assert_eq!(
            "totals-worker".parse::<WorkerType>().unwrap().markets(),
            MarketSet::from_kinds(&[MarketKind::TotalGoals])
        );
        assert_eq!(WorkerType::AllMarkets.markets(), MarketSet::all());
        let error = "corner-worker"
            .parse::<WorkerType>()
            .unwrap_err()
            .to_string();
        assert!(error.contains("btts-worker, 1x2-worker, totals-worker, ah-worker"));
    }

    #[test]
    fn timestamp_keeps_whole_seconds() {
        let time = Timestamp::parse("2021-05-30T13:00:00Z").unwrap();
        assert_eq!(
            serde_json::to_string(&time).unwrap(),
            "\"2021-05-30T13:00:00Z\""
        );
        let offset = Timestamp::parse("2021-05-30T15:00:00+02:00").unwrap();
        assert_eq!(offset, time);
    }

    #[test]
    fn outcomes_sort_into_kind_order() {
        let mut market = Market {
            key: MarketKey::new(MarketKind::MatchResult, Period::FullTime),
            id: None,
            outcomes: vec![
                Outcome::new(OutcomeName::Away, None, OutcomeStatus::Open, None),
                Outcome::new(OutcomeName::Home, None, OutcomeStatus::Open, None),
                Outcome::new(OutcomeName::Draw, None, OutcomeStatus::Open, None),
            ],
            changed_at: None,
        };
        market.sort_outcomes();
        let names: Vec<_> = market.outcomes.iter().map(|o| o.outcome).collect();
        assert_eq!(
            names,
            [OutcomeName::Home, OutcomeName::Draw, OutcomeName::Away]
        );
    }
}
