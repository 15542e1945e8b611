//! The Betfair market type codes this crate maps, and how their runners name outcomes.
//!
//! Betfair identifies a football market by `description.marketType` (`MATCH_ODDS`,
//! `OVER_UNDER_25`, ...) and its runners by `selectionId` with an English `runnerName`.
//! Team runners carry the team's name exactly as the event name `"Home v Away"` spells
//! it, so home and away are distinguished by name, never by `sortPriority`.

use xtr_core::{Line, MarketKind, MarketSet, OutcomeName, Period};

/// Betfair's fixed selection id of "The Draw" in match odds markets.
pub(crate) const DRAW_SELECTION_ID: u64 = 58805;

/// The naming scheme of a market type's runners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Runners `Yes` and `No`.
    YesNo,
    /// Runners named after the two teams, and `The Draw`.
    MatchResult,
    /// Runners named after the two teams.
    TwoTeams,
    /// Runners `Home or Draw`, `Draw or Away` and `Home or Away`.
    DoubleChance,
    /// Runners `Under N.5 Goals` and `Over N.5 Goals`; the line, in tenths of a goal,
    /// comes from the type code (`OVER_UNDER_25` is 2.5).
    OverUnder {
        /// The line times ten.
        tenths: i64,
    },
    /// Runners named after the two teams, one runner per team and handicap. The home
    /// runner's handicap is the line, and the away runner of that line has its negation.
    AsianHandicap,
    /// Runners `Under` and `Over`, one per line, whose handicap is the goals line.
    GoalLines,
}

/// A market type code and what it maps to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MarketType {
    /// Betfair's `marketType` code.
    pub(crate) code: &'static str,
    /// The kind it maps to.
    pub(crate) kind: MarketKind,
    /// The period it settles on.
    pub(crate) period: Period,
    /// Naming scheme of its runners.
    pub(crate) shape: Shape,
}

const fn market(code: &'static str, kind: MarketKind, period: Period, shape: Shape) -> MarketType {
    MarketType {
        code,
        kind,
        period,
        shape,
    }
}

const fn total(code: &'static str, period: Period, tenths: i64) -> MarketType {
    market(
        code,
        MarketKind::TotalGoals,
        period,
        Shape::OverUnder { tenths },
    )
}

/// Every market type this crate maps. Codes not listed here (correct score, team
/// totals, corners, cards, three-way handicaps `TEAM_A_1`, ...) are left out.
///
/// NOTE: the recorded `listMarketTypes` response lists every code here except
/// `SECOND_HALF_MATCH_ODDS`, `SECOND_HALF_GOALS_05`, `SECOND_HALF_GOALS_15` and
/// `ALT_TOTAL_GOALS`; their runner names are assumed to follow the full-time markets.
/// A runner that does not match its shape leaves its market out, so a wrong assumption
/// loses those markets but never mislabels one.
pub(crate) const MARKET_TYPES: &[MarketType] = &[
    market(
        "BOTH_TEAMS_TO_SCORE",
        MarketKind::Btts,
        Period::FullTime,
        Shape::YesNo,
    ),
    market(
        "MATCH_ODDS",
        MarketKind::MatchResult,
        Period::FullTime,
        Shape::MatchResult,
    ),
    market(
        "HALF_TIME",
        MarketKind::MatchResult,
        Period::FirstHalf,
        Shape::MatchResult,
    ),
    market(
        "SECOND_HALF_MATCH_ODDS",
        MarketKind::MatchResult,
        Period::SecondHalf,
        Shape::MatchResult,
    ),
    total("OVER_UNDER_05", Period::FullTime, 5),
    total("OVER_UNDER_15", Period::FullTime, 15),
    total("OVER_UNDER_25", Period::FullTime, 25),
    total("OVER_UNDER_35", Period::FullTime, 35),
    total("OVER_UNDER_45", Period::FullTime, 45),
    total("OVER_UNDER_55", Period::FullTime, 55),
    total("OVER_UNDER_65", Period::FullTime, 65),
    total("OVER_UNDER_75", Period::FullTime, 75),
    total("OVER_UNDER_85", Period::FullTime, 85),
    total("FIRST_HALF_GOALS_05", Period::FirstHalf, 5),
    total("FIRST_HALF_GOALS_15", Period::FirstHalf, 15),
    total("FIRST_HALF_GOALS_25", Period::FirstHalf, 25),
    total("SECOND_HALF_GOALS_05", Period::SecondHalf, 5),
    total("SECOND_HALF_GOALS_15", Period::SecondHalf, 15),
    market(
        "ASIAN_HANDICAP",
        MarketKind::AsianHandicap,
        Period::FullTime,
        Shape::AsianHandicap,
    ),
    market(
        "ALT_TOTAL_GOALS",
        MarketKind::AsianTotal,
        Period::FullTime,
        Shape::GoalLines,
    ),
    market(
        "DRAW_NO_BET",
        MarketKind::DrawNoBet,
        Period::FullTime,
        Shape::TwoTeams,
    ),
    market(
        "DOUBLE_CHANCE",
        MarketKind::DoubleChance,
        Period::FullTime,
        Shape::DoubleChance,
    ),
];

/// Returns the mapping of a `marketType` code, when this crate maps it.
pub(crate) fn find(code: &str) -> Option<&'static MarketType> {
    MARKET_TYPES.iter().find(|market| market.code == code)
}

/// Returns the type codes of the requested kinds, for the catalogue filter.
pub(crate) fn type_codes(markets: MarketSet) -> Vec<&'static str> {
    MARKET_TYPES
        .iter()
        .filter(|market| markets.contains(market.kind))
        .map(|market| market.code)
        .collect()
}

/// The two team names of an event, from its name `"Home v Away"`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Teams<'a> {
    pub(crate) home: &'a str,
    pub(crate) away: &'a str,
}

/// Splits a Betfair event name `"Home v Away"` into its teams; outrights and other
/// events without ` v ` have none.
pub(crate) fn split_event_name(name: &str) -> Option<(&str, &str)> {
    let (home, away) = name.split_once(" v ")?;
    let (home, away) = (home.trim(), away.trim());
    (!home.is_empty() && !away.is_empty() && home != away).then_some((home, away))
}

/// Returns the outcome a runner stands for, or `None` when its name does not fit the
/// market's shape.
pub(crate) fn runner_outcome(
    shape: Shape,
    name: &str,
    selection_id: u64,
    teams: Option<Teams<'_>>,
) -> Option<OutcomeName> {
    let name = name.trim();
    match shape {
        Shape::YesNo => match_word(name, &[("Yes", OutcomeName::Yes), ("No", OutcomeName::No)]),
        Shape::MatchResult => {
            if selection_id == DRAW_SELECTION_ID || name.eq_ignore_ascii_case("The Draw") {
                return Some(OutcomeName::Draw);
            }
            // Half-time markets may suffix the team name with " (HT)".
            let team = strip_suffix_ignore_case(name, " (HT)").unwrap_or(name);
            team_outcome(team, teams?)
        }
        Shape::TwoTeams | Shape::AsianHandicap => team_outcome(name, teams?),
        Shape::DoubleChance => match_word(
            name,
            &[
                ("Home or Draw", OutcomeName::HomeOrDraw),
                ("Draw or Away", OutcomeName::DrawOrAway),
                ("Home or Away", OutcomeName::HomeOrAway),
            ],
        ),
        Shape::OverUnder { tenths } => over_under_outcome(name, Line::from_scaled(tenths, 1)),
        Shape::GoalLines => match_word(
            name,
            &[("Over", OutcomeName::Over), ("Under", OutcomeName::Under)],
        ),
    }
}

/// Returns the line of a runner's market: the code's line for over/under, the handicap
/// (negated for the away runner) for asian handicap, the handicap for goal lines, and
/// none for kinds without a line. `None` inside means the line is unknown.
pub(crate) fn runner_line(
    shape: Shape,
    outcome: OutcomeName,
    handicap: Option<Line>,
) -> Option<Option<Line>> {
    match shape {
        Shape::OverUnder { tenths } => Some(Some(Line::from_scaled(tenths, 1))),
        Shape::AsianHandicap => {
            let handicap = handicap?;
            let line = if outcome == OutcomeName::Away {
                handicap.negated()
            } else {
                handicap
            };
            Some(Some(line))
        }
        Shape::GoalLines => Some(Some(handicap?)),
        Shape::YesNo | Shape::MatchResult | Shape::TwoTeams | Shape::DoubleChance => Some(None),
    }
}

fn match_word(name: &str, words: &[(&str, OutcomeName)]) -> Option<OutcomeName> {
    words
        .iter()
        .find(|(word, _)| name.eq_ignore_ascii_case(word))
        .map(|(_, outcome)| *outcome)
}

fn team_outcome(name: &str, teams: Teams<'_>) -> Option<OutcomeName> {
    if name.eq_ignore_ascii_case(teams.home) {
        Some(OutcomeName::Home)
    } else if name.eq_ignore_ascii_case(teams.away) {
        Some(OutcomeName::Away)
    } else {
        None
    }
}

/// Reads `Over 2.5 Goals` or `Under 2.5 Goals`, accepting only the market's own line.
fn over_under_outcome(name: &str, line: Line) -> Option<OutcomeName> {
    let (outcome, rest) = if let Some(rest) = strip_prefix_ignore_case(name, "Over ") {
        (OutcomeName::Over, rest)
    } else {
        (
            OutcomeName::Under,
            strip_prefix_ignore_case(name, "Under ")?,
        )
    };
    let number = strip_suffix_ignore_case(rest, " Goals")?;
    (number.parse::<Line>().ok()? == line).then_some(outcome)
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

fn strip_suffix_ignore_case<'a>(text: &'a str, suffix: &str) -> Option<&'a str> {
    let start = text.len().checked_sub(suffix.len())?;
    let tail = text.get(start..)?;
    tail.eq_ignore_ascii_case(suffix).then(|| &text[..start])
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEAMS: Teams<'static> = Teams {
        home: "Arsenal",
        away: "Chelsea",
    };

    #[test]
    fn codes_follow_requested_kinds() {
        let codes = type_codes(MarketSet::from_kinds(&[MarketKind::Btts]));
        assert_eq!(codes, ["BOTH_TEAMS_TO_SCORE"]);
        let totals = type_codes(MarketSet::from_kinds(&[MarketKind::TotalGoals]));
        assert_eq!(totals.len(), 14);
        assert!(totals.contains(&"OVER_UNDER_85"));
        assert!(totals.contains(&"FIRST_HALF_GOALS_25"));
        assert!(type_codes(MarketSet::EMPTY).is_empty());
    }

    #[test]
    fn event_name_splits_on_v() {
        assert_eq!(
            split_event_name("Arsenal v Chelsea"),
            Some(("Arsenal", "Chelsea"))
        );
        assert_eq!(split_event_name("Austrian Bundesliga"), None);
        assert_eq!(split_event_name("Arsenal v Arsenal"), None);
    }

    #[test]
    fn match_result_runners() {
        let shape = Shape::MatchResult;
        assert_eq!(
            runner_outcome(shape, "The Draw", 1, Some(TEAMS)),
            Some(OutcomeName::Draw)
        );
        assert_eq!(
            runner_outcome(shape, "Draw", DRAW_SELECTION_ID, Some(TEAMS)),
            Some(OutcomeName::Draw)
        );
        assert_eq!(
            runner_outcome(shape, "Chelsea (HT)", 2, Some(TEAMS)),
            Some(OutcomeName::Away)
        );
        assert_eq!(runner_outcome(shape, "Arsenal", 3, None), None);
        assert_eq!(runner_outcome(shape, "Spurs", 4, Some(TEAMS)), None);
    }

    #[test]
    fn over_under_runner_needs_its_line() {
        let shape = Shape::OverUnder { tenths: 25 };
        assert_eq!(
            runner_outcome(shape, "Over 2.5 Goals", 1, None),
            Some(OutcomeName::Over)
        );
        assert_eq!(
            runner_outcome(shape, "under 2.5 goals", 1, None),
            Some(OutcomeName::Under)
        );
        assert_eq!(runner_outcome(shape, "Over 3.5 Goals", 1, None), None);
        assert_eq!(runner_outcome(shape, "Over 2.5 Corners", 1, None), None);
    }

    #[test]
    fn asian_handicap_line_is_home_handicap() {
        let handicap = Some(Line::from_scaled(25, 2));
        let line = runner_line(Shape::AsianHandicap, OutcomeName::Away, handicap);
        assert_eq!(line, Some(Some(Line::from_scaled(-25, 2))));
        let line = runner_line(Shape::AsianHandicap, OutcomeName::Home, handicap);
        assert_eq!(line, Some(Some(Line::from_scaled(25, 2))));
        assert_eq!(
            runner_line(Shape::AsianHandicap, OutcomeName::Home, None),
            None
        );
        let zero = Some(Line::from_scaled(0, 1));
        let line = runner_line(Shape::AsianHandicap, OutcomeName::Away, zero).flatten();
        assert_eq!(line.map(Line::key_text).as_deref(), Some("0"));
    }
}
