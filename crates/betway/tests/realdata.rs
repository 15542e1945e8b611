//! Conformance over the real GetEvents response in `XTR_REALDATA` (default
//! `../shared/realdata`): six Belgian first-division events with their win-draw-win
//! market. Each test prints "skipped: ..." and passes when the recording is absent.

use xtr_betway::parse::parse;
use xtr_core::conformance::{check, read_realdata};
use xtr_core::{
    EventMarkets, MarketKind, MarketSet, OutcomeName, OutcomeStatus, Period, Price, Timestamp,
};

const LISTING: &str = "betway/getevents_jupiler.json";

fn parsed() -> Option<Vec<EventMarkets>> {
    let body = read_realdata(env!("CARGO_MANIFEST_DIR"), LISTING)?;
    Some(parse(&[&body], MarketSet::all()).unwrap())
}

fn price(text: &str) -> Option<Price> {
    Some(text.parse().unwrap())
}

#[test]
fn recording_passes_conformance() {
    let Some(events) = parsed() else { return };
    let problems = check(&events);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn recording_lists_six_events() {
    let Some(events) = parsed() else { return };
    let ids: Vec<_> = events.iter().map(|entry| entry.event.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "7265422", "7265436", "7265445", "7265454", "7265460", "7265866"
        ]
    );
    let first = &events[0].event;
    assert_eq!(first.home.as_deref(), Some("Royal Antwerp"));
    assert_eq!(first.away.as_deref(), Some("Kortrijk"));
    assert_eq!(first.competition.as_deref(), Some("First Division A"));
    assert_eq!(first.sport.as_deref(), Some("football"));
    // Milliseconds 1615059900000 is the listed "03/06/2021" "19:45".
    assert_eq!(
        first.start,
        Some(Timestamp::parse("2021-03-06T19:45:00Z").unwrap())
    );
    assert!(first.live);
    assert!(!events[1].event.live);
}

#[test]
fn recording_has_only_match_results() {
    let Some(events) = parsed() else { return };
    for entry in &events {
        let keys: Vec<_> = entry.markets.iter().map(|market| market.key).collect();
        assert_eq!(keys.len(), 1, "event {}: {keys:?}", entry.event.id);
        assert_eq!(keys[0].kind, MarketKind::MatchResult);
        assert_eq!(keys[0].period, Period::FullTime);
        assert!(
            entry.markets[0]
                .outcomes
                .iter()
                .all(|outcome| outcome.status == OutcomeStatus::Open)
        );
    }
}

#[test]
fn recording_prices_and_ids() {
    let Some(events) = parsed() else { return };
    let antwerp = &events[0].markets[0];
    assert_eq!(antwerp.id.as_deref(), Some("176189818"));
    let rows: Vec<_> = antwerp
        .outcomes
        .iter()
        .map(|outcome| (outcome.outcome, outcome.price, outcome.id.as_deref()))
        .collect();
    assert_eq!(
        rows,
        [
            (OutcomeName::Home, price("1.6"), Some("691042513")),
            (OutcomeName::Draw, price("3.25"), Some("691042514")),
            (OutcomeName::Away, price("6"), Some("691042515")),
        ]
    );

    // Club Brugge - SV Zulte Waregem: a three-decimal price is kept as sent.
    let brugge = &events[2];
    assert_eq!(brugge.event.home.as_deref(), Some("Club Brugge"));
    let prices: Vec<_> = brugge.markets[0].outcomes.iter().map(|o| o.price).collect();
    assert_eq!(prices, [price("1.286"), price("6"), price("9")]);
}

#[test]
fn recording_markets_stay_with_their_event() {
    let Some(events) = parsed() else { return };
    let gent = &events[5];
    assert_eq!(gent.event.home.as_deref(), Some("Gent"));
    assert_eq!(gent.markets[0].id.as_deref(), Some("176251352"));
    let ids: Vec<_> = gent.markets[0]
        .outcomes
        .iter()
        .map(|outcome| outcome.id.as_deref().unwrap())
        .collect();
    assert_eq!(ids, ["691279746", "691279747", "691279748"]);
}
