//! Conformance tests over the recorded CDS listing in `$XTR_REALDATA/bwin` (default
//! `../shared/realdata`). They print "skipped" and pass when the recording is absent.

use std::sync::Arc;

use xtr_core::config::Settings;
use xtr_core::{
    EventMarkets, Extractor, Line, Market, MarketKind, MarketSet, OutcomeName, OutcomeStatus,
    Period, Price, Registry, Timestamp,
};

const RECORDING: &str = "bwin/cds_fixtures_jupiler.json";

fn extractor() -> Arc<dyn Extractor> {
    let mut registry = Registry::new();
    xtr_bwin::register(&mut registry);
    let settings = Settings::from_env(Vec::new(), &registry.specs()).unwrap();
    Arc::clone(registry.build(&settings).unwrap().get("bwin").unwrap())
}

fn recorded_events() -> Option<Vec<EventMarkets>> {
    let bytes = xtr_core::conformance::read_realdata(env!("CARGO_MANIFEST_DIR"), RECORDING)?;
    let bodies = xtr_core::conformance::unwrap_recording(&bytes);
    let slices: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    Some(extractor().parse(&slices, MarketSet::all()).unwrap())
}

fn event<'e>(events: &'e [EventMarkets], id: &str) -> &'e EventMarkets {
    events
        .iter()
        .find(|event| event.event.id == id)
        .unwrap_or_else(|| panic!("no fixture {id}"))
}

fn market<'e>(
    event: &'e EventMarkets,
    kind: MarketKind,
    period: Period,
    line: Option<&str>,
) -> &'e Market {
    let line = line.map(|text| text.parse::<Line>().unwrap());
    event
        .markets
        .iter()
        .find(|market| {
            market.key.kind == kind && market.key.period == period && market.key.line == line
        })
        .unwrap_or_else(|| panic!("no {kind} {period} {line:?} in {}", event.event.id))
}

fn prices(market: &Market) -> Vec<(OutcomeName, Option<Price>, OutcomeStatus)> {
    market
        .outcomes
        .iter()
        .map(|o| (o.outcome, o.price, o.status))
        .collect()
}

fn open(outcome: OutcomeName, price: &str) -> (OutcomeName, Option<Price>, OutcomeStatus) {
    (outcome, Some(price.parse().unwrap()), OutcomeStatus::Open)
}

#[test]
fn recording_passes_conformance() {
    let Some(events) = recorded_events() else {
        return;
    };
    let problems = xtr_core::conformance::check(&events);
    assert!(problems.is_empty(), "{problems:#?}");
    let ids: Vec<_> = events.iter().map(|e| e.event.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "11248701", "11196904", "11196905", "11196906", "11196907", "11196908"
        ]
    );
    let markets: usize = events.iter().map(|e| e.markets.len()).sum();
    println!("{} fixtures, {markets} markets", events.len());
}

#[test]
fn live_fixture_event_and_prices() {
    let Some(events) = recorded_events() else {
        return;
    };
    let antwerp = event(&events, "11248701");
    assert!(antwerp.event.live);
    assert_eq!(antwerp.event.home.as_deref(), Some("Royal Antwerp FC"));
    assert_eq!(antwerp.event.away.as_deref(), Some("KV Kortrijk"));
    assert_eq!(
        antwerp.event.competition.as_deref(),
        Some("Jupiler Pro League")
    );
    assert_eq!(
        antwerp.event.start,
        Some(Timestamp::parse("2021-03-06T19:45:00Z").unwrap())
    );

    let result = market(antwerp, MarketKind::MatchResult, Period::FullTime, None);
    assert_eq!(result.id.as_deref(), Some("588159663"));
    assert_eq!(
        prices(result),
        [
            open(OutcomeName::Home, "1.55"),
            open(OutcomeName::Draw, "3.3"),
            open(OutcomeName::Away, "6.75"),
        ]
    );
    assert_eq!(result.outcomes[0].id.as_deref(), Some("1702099511"));

    // The 5.5 line's game is suspended while its results are visible.
    let suspended = market(
        antwerp,
        MarketKind::TotalGoals,
        Period::FullTime,
        Some("5.5"),
    );
    assert!(
        suspended
            .outcomes
            .iter()
            .all(|o| o.status == OutcomeStatus::Suspended)
    );
    assert_eq!(suspended.outcomes[0].price, Some("34".parse().unwrap()));

    let over = market(
        antwerp,
        MarketKind::TotalGoals,
        Period::FullTime,
        Some("4.5"),
    );
    assert_eq!(
        prices(over),
        [
            open(OutcomeName::Over, "13"),
            open(OutcomeName::Under, "1.01")
        ]
    );
    let btts = market(antwerp, MarketKind::Btts, Period::FullTime, None);
    assert_eq!(
        prices(btts),
        [open(OutcomeName::Yes, "1.72"), open(OutcomeName::No, "2")]
    );
    let chance = market(antwerp, MarketKind::DoubleChance, Period::FullTime, None);
    assert_eq!(
        prices(chance),
        [
            open(OutcomeName::HomeOrDraw, "1.07"),
            open(OutcomeName::DrawOrAway, "2.3"),
            open(OutcomeName::HomeOrAway, "1.26"),
        ]
    );
}

#[test]
fn prematch_fixture_maps_halves() {
    let Some(events) = recorded_events() else {
        return;
    };
    let mouscron = event(&events, "11196904");
    assert!(!mouscron.event.live);

    let half = market(mouscron, MarketKind::MatchResult, Period::FirstHalf, None);
    assert_eq!(
        prices(half),
        [
            open(OutcomeName::Home, "3.8"),
            open(OutcomeName::Draw, "2.15"),
            open(OutcomeName::Away, "2.6"),
        ]
    );

    let first = market(
        mouscron,
        MarketKind::TotalGoals,
        Period::FirstHalf,
        Some("0.5"),
    );
    assert_eq!(first.id.as_deref(), Some("583135697"));
    assert_eq!(
        prices(first),
        [
            open(OutcomeName::Over, "1.4"),
            open(OutcomeName::Under, "2.75")
        ]
    );

    let second = market(
        mouscron,
        MarketKind::TotalGoals,
        Period::SecondHalf,
        Some("3.5"),
    );
    assert_eq!(
        prices(second),
        [
            open(OutcomeName::Over, "9.75"),
            open(OutcomeName::Under, "1.02")
        ]
    );

    let dnb = market(mouscron, MarketKind::DrawNoBet, Period::FullTime, None);
    assert_eq!(
        prices(dnb),
        [
            open(OutcomeName::Home, "2.45"),
            open(OutcomeName::Away, "1.48")
        ]
    );

    // Match result, half-time result, BTTS, double chance, draw no bet, six full-time
    // lines and four lines of each half.
    assert_eq!(mouscron.markets.len(), 19);
}

#[test]
fn other_games_do_not_leak() {
    let Some(events) = recorded_events() else {
        return;
    };
    let mouscron = event(&events, "11196904");
    // "Match Result and Both Teams to Score", "Handicap 0:1", "Handicap 1:0",
    // "1X2 and Over/Under 2,5" and "1st Goal".
    for id in [
        "583135686",
        "583135690",
        "583135692",
        "583135713",
        "583135717",
    ] {
        assert!(
            mouscron.markets.iter().all(|m| m.id.as_deref() != Some(id)),
            "game {id} leaked"
        );
    }
    for event in &events {
        for market in &event.markets {
            assert!(
                !matches!(
                    market.key.kind,
                    MarketKind::AsianHandicap | MarketKind::AsianTotal
                ),
                "{} has {:?}",
                event.event.id,
                market.key
            );
        }
    }
}
