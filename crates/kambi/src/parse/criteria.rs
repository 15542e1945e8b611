//! The table of Kambi criteria that map to normalized market kinds.

use xtr_core::{MarketKind, MarketSet, Period};

/// A group of Kambi criteria that map to one normalized kind (or, for goal totals, to
/// one of two kinds depending on the lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
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

    /// Returns the kind of the family's markets; goal totals may later turn asian.
    pub(super) fn kind(self) -> MarketKind {
        match self {
            Family::Btts => MarketKind::Btts,
            Family::MatchResult => MarketKind::MatchResult,
            Family::GoalTotals => MarketKind::TotalGoals,
            Family::AsianTotals => MarketKind::AsianTotal,
            Family::AsianHandicap => MarketKind::AsianHandicap,
            Family::DrawNoBet => MarketKind::DrawNoBet,
            Family::DoubleChance => MarketKind::DoubleChance,
        }
    }

    /// Returns whether any kind the family can produce is in `markets`.
    fn is_requested(self, markets: MarketSet) -> bool {
        markets.contains(self.kind())
            || (self == Family::GoalTotals && markets.contains(MarketKind::AsianTotal))
    }
}

/// A Kambi market the extractor maps.
#[derive(Debug)]
pub(super) struct CriterionSpec {
    /// `criterion.englishLabel`, compared ignoring ASCII case.
    label: &'static str,
    /// `criterion.id` as seen in Kambi's football offering, when known.
    id: Option<u64>,
    pub(super) family: Family,
    pub(super) period: Period,
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

/// Finds the mapped market of a bet offer whose kinds are in `markets`.
///
/// A known `criterion.id` selects its entry, unless the English label names something
/// else; an unknown id maps by its English label alone. The offer's `betOfferType.id`
/// must then have the entry's shape, so a label never maps an offer of another shape.
pub(super) fn classify(
    criterion_id: Option<u64>,
    label: Option<&str>,
    offer_type: Option<u32>,
    markets: MarketSet,
) -> Option<&'static CriterionSpec> {
    let by_id = criterion_id.and_then(|id| CRITERIA.iter().find(|spec| spec.id == Some(id)));
    let spec = match (by_id, label) {
        (Some(spec), Some(label)) if !spec.label.eq_ignore_ascii_case(label) => return None,
        (Some(spec), _) => spec,
        (None, Some(label)) => CRITERIA
            .iter()
            .find(|spec| spec.label.eq_ignore_ascii_case(label))?,
        (None, None) => return None,
    };
    let shaped = spec.family.accepts(offer_type?);
    (shaped && spec.family.is_requested(markets)).then_some(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_id_with_other_label_is_rejected() {
        let all = MarketSet::all();
        assert!(classify(Some(1001159926), Some("Total Goals"), Some(6), all).is_some());
        assert!(classify(Some(1001159926), Some("Total Goals by Molde"), Some(6), all).is_none());
        assert!(classify(Some(1001159926), None, Some(6), all).is_some());
    }

    #[test]
    fn shape_must_match() {
        let all = MarketSet::all();
        assert!(classify(None, Some("Asian Handicap"), Some(7), all).is_some());
        assert!(classify(None, Some("Asian Handicap"), Some(1), all).is_none());
        assert!(classify(None, Some("Asian Handicap"), None, all).is_none());
    }

    #[test]
    fn goal_totals_requested_by_either_kind() {
        let asian = MarketSet::from_kinds(&[MarketKind::AsianTotal]);
        assert!(classify(None, Some("Total Goals"), Some(6), asian).is_some());
        let btts = MarketSet::from_kinds(&[MarketKind::Btts]);
        assert!(classify(None, Some("Total Goals"), Some(6), btts).is_none());
    }
}
