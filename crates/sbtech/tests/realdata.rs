//! Conformance tests over the recorded sportsdata responses in `$XTR_REALDATA/sbtech`
//! (default `../shared/realdata`). They print "skipped" and pass when a recording is
//! absent.

use std::sync::Arc;

use xtr_core::config::Settings;
use xtr_core::{
    EventMarkets, Extractor, Line, Market, MarketKind, MarketSet, OutcomeName, OutcomeStatus,
    Period, Price, Registry, Timestamp,
};

const BETOFFERS: &str = "sbtech/sbtech_betoffers_genk_standard.json";
const EVENTS: &str = "sbtech/sbtech_events_jupiler.json";

fn extractor() -> Arc<dyn Extractor> {
    let mut registry = Registry::new();
    xtr_sbtech::register(&mut registry);
    let settings = Settings::from_env(Vec::new(), &registry.specs()).unwrap();
    Arc::clone(registry.build(&settings).unwrap().get("sbtech").unwrap())
}

fn recorded_events(recording: &str) -> Option<Vec<EventMarkets>> {
    let bytes = xtr_core::conformance::read_realdata(env!("CARGO_MANIFEST_DIR"), recording)?;
    let bodies = xtr_core::conformance::unwrap_recording(&bytes);
    let slices: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    Some(extractor().parse(&slices, MarketSet::all()).unwrap())
}

fn event<'e>(events: &'e [EventMarkets], id: &str) -> &'e EventMarkets {
    events
        .iter()
        .find(|event| event.event.id == id)
        .unwrap_or_else(|| panic!("no event {id}"))
}

fn market<'e>(event: &'e EventMarkets, kind: MarketKind, line: Option<&str>) -> &'e Market {
    let line = line.map(|text| text.parse::<Line>().unwrap());
    event
        .markets
        .iter()
        .find(|m| m.key.kind == kind && m.key.period == Period::FullTime && m.key.line == line)
        .unwrap_or_else(|| panic!("no {kind} {line:?} in {}", event.event.id))
}

fn lines(event: &EventMarkets, kind: MarketKind) -> Vec<String> {
    event
        .markets
        .iter()
        .filter(|m| m.key.kind == kind)
        .map(|m| m.key.line.unwrap().to_string())
        .collect()
}

fn prices(market: &Market) -> Vec<(OutcomeName, Option<Price>, OutcomeStatus)> {
    market
        .outcomes
        .iter()
        .map(|o| (o.outcome, o.price, o.status))
        .collect()
}

fn with(
    outcome: OutcomeName,
    price: &str,
    status: OutcomeStatus,
) -> (OutcomeName, Option<Price>, OutcomeStatus) {
    (outcome, Some(price.parse().unwrap()), status)
}

fn open(outcome: OutcomeName, price: &str) -> (OutcomeName, Option<Price>, OutcomeStatus) {
    with(outcome, price, OutcomeStatus::Open)
}

#[test]
fn recordings_pass_conformance() {
    for (recording, expected_events) in [(BETOFFERS, 11), (EVENTS, 15)] {
        let Some(events) = recorded_events(recording) else {
            continue;
        };
        let problems = xtr_core::conformance::check(&events);
        assert!(problems.is_empty(), "{recording}: {problems:#?}");
        assert_eq!(events.len(), expected_events, "{recording}");
        let markets: usize = events.iter().map(|e| e.markets.len()).sum();
        println!("{recording}: {} events, {markets} markets", events.len());
    }
}

#[test]
fn betoffers_prices_and_lines() {
    let Some(events) = recorded_events(BETOFFERS) else {
        return;
    };
    let genk = event(&events, "22016399");
    assert_eq!(genk.event.home.as_deref(), Some("Genk"));
    assert_eq!(genk.event.away.as_deref(), Some("Standard Liege"));
    assert_eq!(
        genk.event.competition.as_deref(),
        Some("Belgium - Jupiler Pro League")
    );
    assert_eq!(
        genk.event.start,
        Some(Timestamp::parse("2021-03-19T19:45:00Z").unwrap())
    );
    assert!(!genk.event.live);

    let result = market(genk, MarketKind::MatchResult, None);
    assert_eq!(result.id.as_deref(), Some("1_54121069"));
    assert_eq!(
        prices(result),
        [
            open(OutcomeName::Home, "2.15"),
            open(OutcomeName::Draw, "3.5"),
            open(OutcomeName::Away, "3.35"),
        ]
    );

    // "OU" with 2.5 and 2.75 lines: both are asian totals.
    assert_eq!(lines(genk, MarketKind::AsianTotal), ["2.5", "2.75"]);
    assert!(lines(genk, MarketKind::TotalGoals).is_empty());
    let half = market(genk, MarketKind::AsianTotal, Some("2.5"));
    assert_eq!(
        prices(half),
        [
            open(OutcomeName::Over, "1.77782679"),
            open(OutcomeName::Under, "1.95013763")
        ]
    );

    assert_eq!(lines(genk, MarketKind::AsianHandicap), ["-0.5", "-0.25"]);
    let quarter = market(genk, MarketKind::AsianHandicap, Some("-0.25"));
    assert_eq!(
        prices(quarter),
        [
            open(OutcomeName::Home, "1.8103942"),
            open(OutcomeName::Away, "1.94869219")
        ]
    );
    assert_eq!(quarter.outcomes[0].id.as_deref(), Some("0HC54121069N25_1"));
}

#[test]
fn betoffers_away_favourite_handicap() {
    let Some(events) = recorded_events(BETOFFERS) else {
        return;
    };
    let charleroi = event(&events, "22039720");
    assert_eq!(
        lines(charleroi, MarketKind::AsianTotal),
        ["2.25", "2.5", "2.75"]
    );
    assert_eq!(
        lines(charleroi, MarketKind::AsianHandicap),
        ["0.75", "1", "1.25"]
    );
    let line = market(charleroi, MarketKind::AsianHandicap, Some("0.75"));
    assert_eq!(
        prices(line),
        [
            open(OutcomeName::Home, "2.15365"),
            open(OutcomeName::Away, "1.73208563")
        ]
    );
    let brugge = event(&events, "22016406");
    assert_eq!(brugge.markets.len(), 1);
}

#[test]
fn live_event_is_suspended() {
    let Some(events) = recorded_events(EVENTS) else {
        return;
    };
    let antwerp = event(&events, "21908611");
    assert!(antwerp.event.live);
    assert_eq!(antwerp.event.home.as_deref(), Some("Antwerp"));

    let suspended = OutcomeStatus::Suspended;
    let result = market(antwerp, MarketKind::MatchResult, None);
    assert_eq!(
        prices(result),
        [
            with(OutcomeName::Home, "4.9", suspended),
            with(OutcomeName::Draw, "1.95238096", suspended),
            with(OutcomeName::Away, "2.95", suspended),
        ]
    );
    assert_eq!(lines(antwerp, MarketKind::AsianTotal), ["4.5", "4.75", "5"]);
    let total = market(antwerp, MarketKind::AsianTotal, Some("4.75"));
    assert_eq!(
        prices(total),
        [
            with(OutcomeName::Over, "1.86150142", suspended),
            with(OutcomeName::Under, "1.98229458", suspended),
        ]
    );
    // "[2 : 2] Asian Handicap" may settle on the goals after the bet, so it is left out.
    assert!(lines(antwerp, MarketKind::AsianHandicap).is_empty());
}

#[test]
fn events_listing_prices() {
    let Some(events) = recorded_events(EVENTS) else {
        return;
    };
    let mouscron = event(&events, "21908613");
    assert!(!mouscron.event.live);
    let result = market(mouscron, MarketKind::MatchResult, None);
    assert_eq!(
        prices(result),
        [
            open(OutcomeName::Home, "3.7"),
            open(OutcomeName::Draw, "3.65"),
            open(OutcomeName::Away, "2.05"),
        ]
    );
    assert_eq!(
        lines(mouscron, MarketKind::AsianTotal),
        ["2.25", "2.5", "2.75"]
    );
    assert_eq!(
        lines(mouscron, MarketKind::AsianHandicap),
        ["0.25", "0.5", "0.75"]
    );
    let line = market(mouscron, MarketKind::AsianHandicap, Some("0.5"));
    assert_eq!(
        prices(line),
        [
            open(OutcomeName::Home, "1.84144665"),
            open(OutcomeName::Away, "2.00555393")
        ]
    );

    let listed = xtr_sbtech::parse::parse_listing(
        &xtr_core::conformance::read_realdata(env!("CARGO_MANIFEST_DIR"), EVENTS).unwrap(),
    )
    .unwrap();
    assert_eq!(listed.len(), 15);
    assert!(
        listed
            .iter()
            .all(|e| e.sport.as_deref() == Some("football"))
    );
}

#[test]
fn nothing_else_leaks() {
    for recording in [BETOFFERS, EVENTS] {
        let Some(events) = recorded_events(recording) else {
            continue;
        };
        for event in &events {
            for market in &event.markets {
                let id = market.id.as_deref().unwrap();
                let type_prefix = id.split('_').next().unwrap();
                let expected = match market.key.kind {
                    MarketKind::MatchResult => "1",
                    MarketKind::AsianHandicap => "2",
                    MarketKind::AsianTotal => "3",
                    other => panic!("{recording}: unexpected {other} in {}", event.event.id),
                };
                assert_eq!(type_prefix, expected, "{recording}: {id}");
                assert_eq!(market.key.period, Period::FullTime, "{recording}: {id}");
            }
        }
    }
}
