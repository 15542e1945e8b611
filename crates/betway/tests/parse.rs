//! Parser tests: one per mapping rule, over the hand-made fixtures.

use xtr_betway::fixtures::FIXTURES;
use xtr_betway::parse::parse;
use xtr_core::conformance::check;
use xtr_core::{
    Error, EventMarkets, Line, Market, MarketKind, MarketSet, OutcomeName, OutcomeStatus, Period,
    Price, Timestamp,
};

const PREMATCH: &[u8] = include_bytes!("fixtures/details_prematch.json");
const LIVE: &[u8] = include_bytes!("fixtures/details_live.json");
const EVENT_SUSPENDED: &[u8] = include_bytes!("fixtures/details_event_suspended.json");
const LISTING: &[u8] = include_bytes!("fixtures/getevents_listing.json");

fn only_event(body: &[u8]) -> EventMarkets {
    let mut events = parse(&[body], MarketSet::all()).unwrap();
    assert_eq!(events.len(), 1, "one event");
    events.remove(0)
}

fn find(
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

fn market(event: &EventMarkets, kind: MarketKind, period: Period, line: Option<&str>) -> Market {
    find(event, kind, period, line).unwrap_or_else(|| {
        let keys: Vec<_> = event.markets.iter().map(|market| market.key).collect();
        panic!("no {kind} {period} {line:?} market; markets: {keys:?}")
    })
}

fn price(text: &str) -> Option<Price> {
    Some(text.parse().unwrap())
}

fn prices(market: &Market) -> Vec<(OutcomeName, Option<Price>)> {
    market
        .outcomes
        .iter()
        .map(|outcome| (outcome.outcome, outcome.price))
        .collect()
}

fn statuses(market: &Market) -> Vec<OutcomeStatus> {
    market
        .outcomes
        .iter()
        .map(|outcome| outcome.status)
        .collect()
}

fn market_ids(event: &EventMarkets) -> Vec<&str> {
    event
        .markets
        .iter()
        .map(|market| market.id.as_deref().unwrap())
        .collect()
}

#[test]
fn event_from_details() {
    let event = only_event(PREMATCH).event;
    assert_eq!(event.id, "8800101");
    assert_eq!(event.home.as_deref(), Some("KRC Genk"));
    assert_eq!(event.away.as_deref(), Some("Standard Liege"));
    assert_eq!(event.competition.as_deref(), Some("First Division A"));
    assert_eq!(event.sport.as_deref(), Some("football"));
    assert_eq!(
        event.start,
        Some(Timestamp::parse("2024-03-10T15:00:00Z").unwrap())
    );
    assert!(!event.live);
}

#[test]
fn win_draw_win_by_coupon_name() {
    let event = only_event(PREMATCH);
    let full_time = market(&event, MarketKind::MatchResult, Period::FullTime, None);
    assert_eq!(full_time.id.as_deref(), Some("400001"));
    assert_eq!(
        prices(&full_time),
        [
            (OutcomeName::Home, price("1.8")),
            (OutcomeName::Draw, price("3.75")),
            (OutcomeName::Away, price("4.333333333333333")),
        ]
    );
    let ids: Vec<_> = full_time.outcomes.iter().map(|o| o.id.as_deref()).collect();
    assert_eq!(ids, [Some("900001"), Some("900002"), Some("900003")]);
}

#[test]
fn win_draw_win_halves_by_title() {
    let event = only_event(PREMATCH);
    let first_half = market(&event, MarketKind::MatchResult, Period::FirstHalf, None);
    assert_eq!(first_half.id.as_deref(), Some("400002"));
    assert_eq!(
        prices(&first_half),
        [
            (OutcomeName::Home, price("2.5")),
            (OutcomeName::Draw, price("2.2")),
            (OutcomeName::Away, price("4.8")),
        ]
    );
    let second_half = market(&event, MarketKind::MatchResult, Period::SecondHalf, None);
    assert_eq!(second_half.id.as_deref(), Some("400003"));
    assert_eq!(second_half.outcomes[2].price, price("4.2"));
}

#[test]
fn time_window_win_draw_win_left_out() {
    let event = only_event(PREMATCH);
    let results: Vec<_> = event
        .markets
        .iter()
        .filter(|market| market.key.kind == MarketKind::MatchResult)
        .map(|market| market.id.as_deref().unwrap())
        .collect();
    // Not 400004 "Win/Draw/Win Between 1 - 15 Mins", nor the 400008 combination.
    assert_eq!(results, ["400001", "400002", "400003"]);
}

#[test]
fn btts_by_bet_name_and_title() {
    let event = only_event(PREMATCH);
    let full_time = market(&event, MarketKind::Btts, Period::FullTime, None);
    assert_eq!(
        prices(&full_time),
        [
            (OutcomeName::Yes, price("1.615384615384615")),
            (OutcomeName::No, price("2.2")),
        ]
    );
    let first_half = market(&event, MarketKind::Btts, Period::FirstHalf, None);
    assert_eq!(
        prices(&first_half),
        [
            (OutcomeName::Yes, price("4.5")),
            (OutcomeName::No, price("1.2"))
        ]
    );
    let second_half = market(&event, MarketKind::Btts, Period::SecondHalf, None);
    assert_eq!(
        prices(&second_half),
        [
            (OutcomeName::Yes, price("3.4")),
            (OutcomeName::No, price("1.3"))
        ]
    );
}

#[test]
fn combinations_left_out() {
    let event = only_event(PREMATCH);
    let ids = market_ids(&event);
    assert!(
        !ids.contains(&"400008"),
        "win-draw-win combination: {ids:?}"
    );
    assert!(!ids.contains(&"400009"), "btts combination: {ids:?}");
}

#[test]
fn total_line_from_title() {
    let event = only_event(PREMATCH);
    let main = market(
        &event,
        MarketKind::TotalGoals,
        Period::FullTime,
        Some("2.5"),
    );
    assert_eq!(main.id.as_deref(), Some("400010"));
    assert_eq!(
        prices(&main),
        [
            (OutcomeName::Over, price("1.85")),
            (OutcomeName::Under, price("1.95"))
        ]
    );
    let low = market(
        &event,
        MarketKind::TotalGoals,
        Period::FullTime,
        Some("1.5"),
    );
    assert_eq!(
        prices(&low),
        [
            (OutcomeName::Over, price("1.3")),
            (OutcomeName::Under, price("3.4"))
        ]
    );
}

#[test]
fn whole_line_total_is_asian() {
    let event = only_event(PREMATCH);
    let whole = market(&event, MarketKind::AsianTotal, Period::FullTime, Some("3"));
    assert_eq!(whole.id.as_deref(), Some("400013"));
    assert_eq!(
        prices(&whole),
        [
            (OutcomeName::Over, price("2.4")),
            (OutcomeName::Under, price("1.55"))
        ]
    );
    let live = only_event(LIVE);
    let quarter = market(
        &live,
        MarketKind::AsianTotal,
        Period::FullTime,
        Some("2.25"),
    );
    assert_eq!(quarter.id.as_deref(), Some("410004"));
}

#[test]
fn other_totals_left_out() {
    let event = only_event(PREMATCH);
    let ids = market_ids(&event);
    for id in ["400014", "400015", "400016"] {
        assert!(
            !ids.contains(&id),
            "{id} (team, window or corners total): {ids:?}"
        );
    }
}

#[test]
fn unmapped_kinds_left_out() {
    let event = only_event(PREMATCH);
    let ids = market_ids(&event);
    assert!(!ids.contains(&"400017"), "double chance: {ids:?}");
    // 3 match results, 3 btts, 3 total goals and 1 asian total.
    assert_eq!(event.markets.len(), 10);
}

#[test]
fn inactive_outcome_is_suspended() {
    let event = only_event(PREMATCH);
    let second_half = market(&event, MarketKind::MatchResult, Period::SecondHalf, None);
    assert_eq!(
        statuses(&second_half),
        [
            OutcomeStatus::Open,
            OutcomeStatus::Suspended,
            OutcomeStatus::Open
        ]
    );
    assert_eq!(second_half.outcomes[1].price, price("2.6"));
}

#[test]
fn suspended_market_keeps_prices() {
    let event = only_event(PREMATCH);
    let total = market(
        &event,
        MarketKind::TotalGoals,
        Period::FullTime,
        Some("3.5"),
    );
    assert_eq!(
        statuses(&total),
        [OutcomeStatus::Suspended, OutcomeStatus::Suspended]
    );
    assert_eq!(
        prices(&total),
        [
            (OutcomeName::Over, price("2.9")),
            (OutcomeName::Under, price("1.4"))
        ]
    );
}

#[test]
fn live_flags_and_statuses() {
    let event = only_event(LIVE);
    assert!(event.event.live);

    let result = market(&event, MarketKind::MatchResult, Period::FullTime, None);
    assert_eq!(
        prices(&result),
        [
            (OutcomeName::Home, price("1.5")),
            (OutcomeName::Draw, price("4")),
            (OutcomeName::Away, None),
        ]
    );
    assert_eq!(
        statuses(&result),
        [
            OutcomeStatus::Open,
            OutcomeStatus::Open,
            OutcomeStatus::Suspended
        ]
    );

    let btts = market(&event, MarketKind::Btts, Period::FullTime, None);
    assert_eq!(
        statuses(&btts),
        [OutcomeStatus::Suspended, OutcomeStatus::Suspended]
    );

    // An outcome that is not displayed cannot be backed.
    let total = market(
        &event,
        MarketKind::TotalGoals,
        Period::FullTime,
        Some("3.5"),
    );
    assert_eq!(
        statuses(&total),
        [OutcomeStatus::Open, OutcomeStatus::Suspended]
    );
}

#[test]
fn suspended_event_suspends_all() {
    let event = only_event(EVENT_SUSPENDED);
    let result = market(&event, MarketKind::MatchResult, Period::FullTime, None);
    assert_eq!(statuses(&result), [OutcomeStatus::Suspended; 3]);
    assert_eq!(result.outcomes[0].price, price("2.6"));
}

#[test]
fn getevents_lists_matches() {
    let events = parse(&[LISTING], MarketSet::all()).unwrap();
    let ids: Vec<_> = events.iter().map(|entry| entry.event.id.as_str()).collect();
    // The outright 8800499 has no teams and is left out.
    assert_eq!(ids, ["8800401", "8800402"]);
    let result = market(&events[1], MarketKind::MatchResult, Period::FullTime, None);
    assert_eq!(
        prices(&result),
        [
            (OutcomeName::Home, price("1.44")),
            (OutcomeName::Draw, price("4.75")),
            (OutcomeName::Away, price("6.5")),
        ]
    );
}

#[test]
fn requested_kinds_only() {
    let requested = MarketSet::from_kinds(&[MarketKind::Btts]);
    let events = parse(&[PREMATCH], requested).unwrap();
    let kinds: Vec<_> = events[0]
        .markets
        .iter()
        .map(|market| market.key.kind)
        .collect();
    assert_eq!(kinds, [MarketKind::Btts; 3]);
}

#[test]
fn several_bodies_give_several_events() {
    let events = parse(&[PREMATCH, LIVE], MarketSet::all()).unwrap();
    let ids: Vec<_> = events.iter().map(|entry| entry.event.id.as_str()).collect();
    assert_eq!(ids, ["8800101", "8800202"]);
}

#[test]
fn null_event_describes_nothing() {
    let body = br#"{"Event": null, "Markets": [], "Outcomes": [], "Success": false}"#;
    assert_eq!(parse(&[body], MarketSet::all()).unwrap(), []);
}

#[test]
fn markets_unique_and_sorted() {
    let event = only_event(PREMATCH);
    let keys: Vec<_> = event.markets.iter().map(|market| market.key).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted);
}

#[test]
fn malformed_bodies_rejected() {
    let cases: [(&[&[u8]], &str); 7] = [
        (&[b"[]"], "expected a JSON object"),
        (&[br#"[null, null, null, null]"#], "expected a JSON object"),
        (&[b"{}"], "neither an `Event` nor an `Events`"),
        (&[b"<html>"], "expected a JSON object"),
        (&[b"{\"Event\": "], "EOF while parsing"),
        (
            &[br#"{"Event": null, "Markets": 5}"#],
            "invalid type: integer",
        ),
        (&[], "got none"),
    ];
    for (bodies, expected) in cases {
        match parse(bodies, MarketSet::all()) {
            Err(Error::Malformed { detail, .. }) => {
                assert!(detail.contains(expected), "{expected:?} not in {detail:?}");
            }
            other => panic!("{expected:?}: expected Malformed, got {other:?}"),
        }
    }
}

#[test]
fn fixtures_pass_conformance() {
    for fixture in FIXTURES {
        let events = parse(fixture.bodies, MarketSet::all()).unwrap();
        assert!(!events.is_empty(), "{}: no event", fixture.name);
        let problems = check(&events);
        assert!(problems.is_empty(), "{}: {problems:#?}", fixture.name);
    }
}
