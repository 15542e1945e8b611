//! Conformance over the real arcadia responses in `XTR_REALDATA` (default
//! `../shared/realdata`): a matchups body and a markets body of Charleroi - Club Brugge.
//! Each test prints "skipped: ..." and passes when the recordings are absent.

use xtr_core::conformance::{check, read_realdata};
use xtr_core::{
    EventMarkets, Line, Market, MarketKind, MarketSet, OutcomeName, OutcomeStatus, Period, Price,
    Timestamp,
};
use xtr_pinnacle::parse::parse;

const MATCHUPS: &str = "pinnacle/arcadia_matchups_related_charleroi_brugge.json";
const MARKETS: &str = "pinnacle/arcadia_markets_related_straight_charleroi_brugge.json";

fn recordings() -> Option<(Vec<u8>, Vec<u8>)> {
    let dir = env!("CARGO_MANIFEST_DIR");
    Some((read_realdata(dir, MATCHUPS)?, read_realdata(dir, MARKETS)?))
}

fn parsed() -> Option<EventMarkets> {
    let (matchups, markets) = recordings()?;
    let mut events = parse(&[&matchups, &markets], MarketSet::all()).unwrap();
    assert_eq!(events.len(), 1, "the corners matchup is not an event");
    Some(events.remove(0))
}

fn market(
    event: &EventMarkets,
    kind: MarketKind,
    period: Period,
    line: Option<&str>,
) -> Option<Market> {
    let line = line.map(|text| text.parse::<Line>().unwrap());
    event
        .markets
        .iter()
        .find(|market| {
            market.key.kind == kind && market.key.period == period && market.key.line == line
        })
        .cloned()
}

fn prices(market: &Market) -> Vec<(OutcomeName, Price)> {
    market
        .outcomes
        .iter()
        .map(|outcome| (outcome.outcome, outcome.price.unwrap()))
        .collect()
}

fn price(text: &str) -> Price {
    text.parse().unwrap()
}

fn lines(event: &EventMarkets, kind: MarketKind, period: Period) -> Vec<String> {
    event
        .markets
        .iter()
        .filter(|market| market.key.kind == kind && market.key.period == period)
        .map(|market| market.key.line.unwrap().key_text())
        .collect()
}

#[test]
fn recording_passes_conformance() {
    let Some(event) = parsed() else { return };
    let problems = check(std::slice::from_ref(&event));
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(
        event
            .markets
            .iter()
            .flat_map(|market| &market.outcomes)
            .all(|outcome| outcome.status == OutcomeStatus::Open)
    );
}

#[test]
fn recording_event_fields() {
    let Some(entry) = parsed() else { return };
    let event = entry.event;
    assert_eq!(event.id, "1279182807");
    assert_eq!(event.home.as_deref(), Some("Charleroi"));
    assert_eq!(event.away.as_deref(), Some("Club Brugge"));
    assert_eq!(
        event.competition.as_deref(),
        Some("Belgium - First Division A")
    );
    assert_eq!(event.sport.as_deref(), Some("football"));
    assert_eq!(
        event.start,
        Some(Timestamp::parse("2021-03-12T19:45:00Z").unwrap())
    );
    assert!(!event.live);
}

#[test]
fn recording_match_results() {
    let Some(event) = parsed() else { return };
    let full_time = market(&event, MarketKind::MatchResult, Period::FullTime, None).unwrap();
    // +598, +268 and -169.
    assert_eq!(
        prices(&full_time),
        [
            (OutcomeName::Home, price("6.98")),
            (OutcomeName::Draw, price("3.68")),
            (OutcomeName::Away, price("1.5917")),
        ]
    );
    let first_half = market(&event, MarketKind::MatchResult, Period::FirstHalf, None).unwrap();
    assert_eq!(
        prices(&first_half),
        [
            (OutcomeName::Home, price("6.13")),
            (OutcomeName::Draw, price("2.39")),
            (OutcomeName::Away, price("2.15")),
        ]
    );
}

#[test]
fn recording_handicaps_without_corners() {
    let Some(event) = parsed() else { return };
    assert_eq!(
        lines(&event, MarketKind::AsianHandicap, Period::FullTime),
        ["0.5", "0.75", "1", "1.25", "1.5"]
    );
    assert_eq!(
        lines(&event, MarketKind::AsianHandicap, Period::FirstHalf),
        ["0", "0.25", "0.5", "0.75", "1"]
    );
    // Charleroi +1 at -116 against +101; the corners line +1 (+165) does not leak in.
    let main = market(
        &event,
        MarketKind::AsianHandicap,
        Period::FullTime,
        Some("1"),
    )
    .unwrap();
    assert_eq!(main.id.as_deref(), Some("s;0;s;1.0"));
    assert_eq!(
        prices(&main),
        [
            (OutcomeName::Home, price("1.8621")),
            (OutcomeName::Away, price("2.01"))
        ]
    );
    let alternate = market(
        &event,
        MarketKind::AsianHandicap,
        Period::FullTime,
        Some("1.5"),
    )
    .unwrap();
    assert_eq!(alternate.outcomes[0].price, Some(price("1.5128")));
}

#[test]
fn recording_totals_split_by_line() {
    let Some(event) = parsed() else { return };
    assert_eq!(
        lines(&event, MarketKind::TotalGoals, Period::FullTime),
        ["1.5", "2.5", "3.5", "4.5"]
    );
    assert_eq!(
        lines(&event, MarketKind::AsianTotal, Period::FullTime),
        ["2", "2.25", "2.75", "3"]
    );

    assert_eq!(
        lines(&event, MarketKind::TotalGoals, Period::FirstHalf),
        ["0.5", "1.5"]
    );
    assert_eq!(
        lines(&event, MarketKind::AsianTotal, Period::FirstHalf),
        ["0.75", "1", "1.25"]
    );

    let main = market(
        &event,
        MarketKind::TotalGoals,
        Period::FullTime,
        Some("2.5"),
    )
    .unwrap();
    assert_eq!(
        prices(&main),
        [
            (OutcomeName::Over, price("1.8929")),
            (OutcomeName::Under, price("1.9615"))
        ]
    );

    // The corners totals (9.5 full time; 4, 4.5 and 5 in the first half) are not goals.
    assert!(
        market(
            &event,
            MarketKind::TotalGoals,
            Period::FullTime,
            Some("9.5")
        )
        .is_none()
    );
    assert!(
        market(
            &event,
            MarketKind::TotalGoals,
            Period::FirstHalf,
            Some("4.5")
        )
        .is_none()
    );
    assert!(market(&event, MarketKind::AsianTotal, Period::FirstHalf, Some("4")).is_none());
}

#[test]
fn recording_specials() {
    let Some(event) = parsed() else { return };
    let btts = market(&event, MarketKind::Btts, Period::FullTime, None).unwrap();
    assert_eq!(btts.id.as_deref(), Some("1279183525"));
    assert_eq!(
        prices(&btts),
        [
            (OutcomeName::Yes, price("1.9259")),
            (OutcomeName::No, price("1.9091"))
        ]
    );
    assert_eq!(btts.outcomes[0].id.as_deref(), Some("1279183526"));
    let btts_half = market(&event, MarketKind::Btts, Period::FirstHalf, None).unwrap();
    assert_eq!(btts_half.id.as_deref(), Some("1279183221"));
    assert_eq!(
        prices(&btts_half),
        [
            (OutcomeName::Yes, price("5.2")),
            (OutcomeName::No, price("1.16"))
        ]
    );

    let draw_no_bet = market(&event, MarketKind::DrawNoBet, Period::FullTime, None).unwrap();
    assert_eq!(
        prices(&draw_no_bet),
        [
            (OutcomeName::Home, price("5.2")),
            (OutcomeName::Away, price("1.1667"))
        ]
    );
    let draw_no_bet_half = market(&event, MarketKind::DrawNoBet, Period::FirstHalf, None).unwrap();
    assert_eq!(
        prices(&draw_no_bet_half),
        [
            (OutcomeName::Home, price("3.7")),
            (OutcomeName::Away, price("1.2778"))
        ]
    );

    let double_chance = market(&event, MarketKind::DoubleChance, Period::FullTime, None).unwrap();
    assert_eq!(
        prices(&double_chance),
        [
            (OutcomeName::HomeOrDraw, price("2.42")),
            (OutcomeName::DrawOrAway, price("1.1212")),
            (OutcomeName::HomeOrAway, price("1.303")),
        ]
    );
    let double_chance_half =
        market(&event, MarketKind::DoubleChance, Period::FirstHalf, None).unwrap();
    assert_eq!(
        prices(&double_chance_half),
        [
            (OutcomeName::HomeOrDraw, price("1.7246")),
            (OutcomeName::DrawOrAway, price("1.1379")),
            (OutcomeName::HomeOrAway, price("1.5882")),
        ]
    );
}

#[test]
fn recording_market_count() {
    let Some(event) = parsed() else { return };
    // 2 match results, 10 handicaps, 13 totals, and one full-time and one first-half
    // market each of btts, draw no bet and double chance. The 35 other specials
    // (3-way handicaps, combinations, correct scores, team goals) and the corners
    // matchup add nothing.
    assert_eq!(event.markets.len(), 31);
}

#[test]
fn recording_order_does_not_matter() {
    let Some((matchups, markets)) = recordings() else {
        return;
    };
    let forward = parse(&[&matchups, &markets], MarketSet::all()).unwrap();
    let reversed = parse(&[&markets, &matchups], MarketSet::all()).unwrap();
    assert_eq!(forward, reversed);
}
