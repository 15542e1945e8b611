//! Behaviour checks every extractor's output must pass, whatever the bookmaker.
//!
//! Each bookmaker crate runs [`check`] over what it parses from its fixtures and from
//! the recordings in `XTR_REALDATA`, and the runner's conformance suite runs it over
//! every compiled-in extractor, so a new extractor gets these checks for free.

use std::collections::HashSet;

use rust_decimal::Decimal;

use crate::model::{EventMarkets, MarketKind, OutcomeStatus};

/// Returns every rule the parsed events break, one message each; empty when all hold.
///
/// The rules: each market has exactly the outcomes its kind requires, in canonical
/// order; prices are above 1.0; an open outcome has a price; no two markets of an event
/// share a market key; kinds with a line have one and others have none; total-goals
/// lines are half goals, asian lines quarter goals; an event names both teams or
/// neither, and not the same team twice; exchange levels have a price above 1.0 and a
/// positive size.
pub fn check(events: &[EventMarkets]) -> Vec<String> {
    let mut problems = Vec::new();
    for event in events {
        let id = &event.event.id;
        match (&event.event.home, &event.event.away) {
            (Some(home), Some(away)) if home == away => {
                problems.push(format!("event {id}: home and away are both {home:?}"));
            }
            (Some(_), None) | (None, Some(_)) => {
                problems.push(format!("event {id}: only one team is named"));
            }
            _ => {}
        }

        let mut keys = HashSet::new();
        for market in &event.markets {
            let key = market.key;
            let name = format!(
                "event {id} market {} {} {}",
                key.kind,
                key.period,
                key.line
                    .map_or_else(|| "-".to_owned(), |line| line.to_string())
            );
            if !keys.insert(key) {
                problems.push(format!("{name}: market key appears twice"));
            }

            let names: Vec<_> = market.outcomes.iter().map(|o| o.outcome).collect();
            if names != key.kind.outcomes() {
                problems.push(format!(
                    "{name}: outcomes {names:?}, expected {:?}",
                    key.kind.outcomes()
                ));
            }

            match (key.kind.has_line(), key.line) {
                (true, None) => {
                    problems.push(format!("{name}: a {} market needs a line", key.kind));
                }
                (false, Some(_)) => {
                    problems.push(format!("{name}: a {} market has no line", key.kind));
                }
                (true, Some(line)) => {
                    let value = line.value();
                    let step = match key.kind {
                        MarketKind::TotalGoals => Decimal::new(5, 1),
                        _ => Decimal::new(25, 2),
                    };
                    if !(value / step).fract().is_zero() {
                        problems.push(format!("{name}: line {line} is not a multiple of {step}"));
                    }
                    if key.kind == MarketKind::TotalGoals
                        && (value.fract().abs() != Decimal::new(5, 1))
                    {
                        problems.push(format!(
                            "{name}: total goals line {line} is not a half goal"
                        ));
                    }
                    if key.kind != MarketKind::AsianHandicap && value.is_sign_negative() {
                        problems.push(format!("{name}: negative total line {line}"));
                    }
                }
                (false, None) => {}
            }

            for outcome in &market.outcomes {
                let which = format!("{name} outcome {}", outcome.outcome.as_str());
                if let Some(price) = outcome.price {
                    if price.value() <= Decimal::ONE {
                        problems.push(format!("{which}: price {price} is not above 1.0"));
                    }
                } else if outcome.status == OutcomeStatus::Open {
                    problems.push(format!("{which}: open but has no price"));
                }
                for (side, level) in [("back", outcome.back), ("lay", outcome.lay)] {
                    if let Some(level) = level {
                        if level.price.value() <= Decimal::ONE {
                            problems.push(format!(
                                "{which}: {side} price {} is not above 1.0",
                                level.price
                            ));
                        }
                        if level.size.value() <= Decimal::ZERO {
                            problems.push(format!(
                                "{which}: {side} size {} is not positive",
                                level.size
                            ));
                        }
                    }
                }
            }
        }
    }
    problems
}

/// Reads a recording from `XTR_REALDATA` (default `../shared/realdata`, relative to the
/// workspace root), or returns `None` after printing why it was skipped.
///
/// `crate_dir` is the caller's `env!("CARGO_MANIFEST_DIR")`; the default folder is
/// resolved against the workspace root two levels above it.
pub fn read_realdata(crate_dir: &str, relative: &str) -> Option<Vec<u8>> {
    let root = match std::env::var_os("XTR_REALDATA") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => std::path::Path::new(crate_dir).join("../../../shared/realdata"),
    };
    let path = root.join(relative);
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(error) => {
            println!(
                "skipped: recording {} not readable ({error}); set XTR_REALDATA to the folder of recordings",
                path.display()
            );
            None
        }
    }
}

/// Removes the `{"provider", "data", ...}` wrapper some recordings carry, returning the
/// raw response (or, when `data` is a list, each raw response). A real client never
/// receives the wrapper.
///
/// # Panics
///
/// Panics when the bytes are not JSON, because a recording that is not JSON is a
/// broken test input.
pub fn unwrap_recording(bytes: &[u8]) -> Vec<Vec<u8>> {
    let value: serde_json::Value = serde_json::from_slice(bytes).expect("recording is JSON");
    match value {
        serde_json::Value::Object(mut map)
            if map.contains_key("provider") && map.contains_key("data") =>
        {
            match map.remove("data") {
                Some(serde_json::Value::Array(items)) => items
                    .iter()
                    .map(|item| serde_json::to_vec(item).expect("JSON serializes"))
                    .collect(),
                Some(data) => vec![serde_json::to_vec(&data).expect("JSON serializes")],
                None => Vec::new(),
            }
        }
        _ => vec![bytes.to_vec()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decimal::{Line, Price};
    use crate::model::{Event, Market, MarketKey, Outcome, OutcomeName, Period};

    fn outcome(name: OutcomeName, price: Option<&str>, status: OutcomeStatus) -> Outcome {
        Outcome::new(name, price.map(|p| p.parse().unwrap()), status, None)
    }

    fn event(markets: Vec<Market>) -> EventMarkets {
        EventMarkets {
            event: Event {
                id: "1".into(),
                home: Some("A".into()),
                away: Some("B".into()),
                ..Event::default()
            },
            markets,
        }
    }

    fn totals(line: &str) -> Market {
        Market {
            key: MarketKey::with_line(
                MarketKind::TotalGoals,
                Period::FullTime,
                line.parse::<Line>().unwrap(),
            ),
            id: None,
            outcomes: vec![
                outcome(OutcomeName::Over, Some("1.9"), OutcomeStatus::Open),
                outcome(OutcomeName::Under, Some("1.9"), OutcomeStatus::Open),
            ],
            changed_at: None,
        }
    }

    #[test]
    fn valid_market_passes() {
        assert!(check(&[event(vec![totals("2.5")])]).is_empty());
    }

    #[test]
    fn each_rule_is_reported() {
        let mut wrong_outcomes = totals("2.5");
        wrong_outcomes.outcomes.pop();
        let mut low_price = totals("1.5");
        low_price.outcomes[0].price = Some(Price::from_scaled(1, 0));
        let mut open_without_price = totals("3.5");
        open_without_price.outcomes[1].price = None;
        let cases = [
            (vec![totals("2.5"), totals("2.5")], "appears twice"),
            (vec![wrong_outcomes], "outcomes"),
            (vec![totals("2.25")], "not a multiple of 0.5"),
            (vec![totals("3")], "not a half goal"),
            (vec![low_price], "not above 1.0"),
            (vec![open_without_price], "open but has no price"),
        ];
        for (markets, expected) in cases {
            let problems = check(&[event(markets)]);
            assert!(
                problems.iter().any(|p| p.contains(expected)),
                "{expected}: {problems:?}"
            );
        }
    }

    #[test]
    fn suspended_outcome_may_lack_price() {
        let mut market = totals("2.5");
        market.outcomes[0] = outcome(OutcomeName::Over, None, OutcomeStatus::Suspended);
        assert!(check(&[event(vec![market])]).is_empty());
    }

    #[test]
    fn same_team_twice_is_reported() {
        let mut bad = event(vec![]);
        bad.event.away = Some("A".into());
        assert!(!check(&[bad]).is_empty());
    }
}
