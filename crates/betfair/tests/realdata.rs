//! Conformance tests over the real JSON-RPC responses recorded under `XTR_REALDATA`
//! (default `../shared/realdata`), folder `betfair`. Each test prints "skipped: ..." and
//! passes when its recording is absent.
//!
//! No recording holds a football market's prices: the catalogues are a soccer outright
//! (`WINNER`) and a politics market, the book is an in-play horse race. So these tests
//! check the schema as far as it goes (events, statuses, ladders) and that nothing of a
//! market this crate does not map leaks into the output.

use serde_json::Value;
use xtr_betfair::parse::{self, MarketBookStatus, RunnerStatus};
use xtr_core::conformance::{self, read_realdata};
use xtr_core::{ExchangePrice, MarketSet, Price, Size};

fn recording(file: &str) -> Option<Vec<u8>> {
    read_realdata(env!("CARGO_MANIFEST_DIR"), &format!("betfair/{file}"))
}

fn level(price: &str, size: &str) -> ExchangePrice {
    ExchangePrice {
        price: price.parse::<Price>().unwrap(),
        size: size.parse::<Size>().unwrap(),
    }
}

#[test]
fn outright_catalogue_has_no_mapped_markets() {
    let (Some(catalogue), Some(book)) = (
        recording("list_market_catalogue.json"),
        recording("list_market_book.json"),
    ) else {
        return;
    };
    let events = parse::parse(&[&catalogue, &book], MarketSet::all()).unwrap();
    println!("parsed {events:#?}");
    assert_eq!(events.len(), 1);
    let event = &events[0].event;
    assert_eq!(event.id, "606287");
    assert_eq!(event.sport.as_deref(), Some("football"));
    assert_eq!(event.competition.as_deref(), Some("Austrian Bundesliga"));
    // "Austrian Bundesliga" is the league's outright event, not a match.
    assert_eq!(event.home, None);
    assert_eq!(event.away, None);
    assert_eq!(event.start.unwrap().to_string(), "2005-03-07T14:30:00Z");
    // The book's market 1.125875153 is not in this catalogue, so it cannot mark the
    // event in play, and the WINNER market maps to no kind.
    assert!(!event.live);
    assert!(events[0].markets.is_empty());
    assert!(conformance::check(&events).is_empty());
}

#[test]
fn catalogue_names_each_event() {
    let Some(catalogue) = recording("list_market_catalogue_no_ero.json") else {
        return;
    };
    let events = parse::parse(&[&catalogue], MarketSet::all()).unwrap();
    let summary: Vec<_> = events
        .iter()
        .map(|entry| (entry.event.id.as_str(), entry.event.sport.as_deref()))
        .collect();
    println!("events {summary:?}");
    assert_eq!(
        summary,
        [("606287", Some("football")), ("28180290", Some("politics"))]
    );
    assert_eq!(events[1].event.competition.as_deref(), Some("UK - Brexit"));
    assert_eq!(
        events[1].event.start.unwrap().to_string(),
        "2019-03-29T00:00:00Z"
    );
    assert!(events.iter().all(|entry| entry.markets.is_empty()));
    assert!(conformance::check(&events).is_empty());
}

#[test]
fn suspended_book_reads_statuses_and_best_levels() {
    let Some(book) = recording("list_market_book.json") else {
        return;
    };
    let markets = parse::parse_market_book(&book).unwrap();
    println!("parsed {markets:#?}");
    assert_eq!(markets.len(), 1);
    let market = &markets[0];
    assert_eq!(market.market_id, "1.125875153");
    assert_eq!(market.status, MarketBookStatus::Suspended);
    assert!(market.inplay);
    let ids: Vec<u64> = market
        .runners
        .iter()
        .map(|runner| runner.selection_id)
        .collect();
    assert_eq!(ids, [8665860, 8565296, 7853158, 5699181, 6526662, 464226]);

    // A back ladder led by 21.0 for 2.0 and no lay offers at all.
    let first = &market.runners[0];
    assert_eq!(first.status, RunnerStatus::Active);
    assert_eq!(first.back, Some(level("21", "2")));
    assert_eq!(first.lay, None);
    assert_eq!(first.handicap, Some("0".parse().unwrap()));

    // No back offers, a lay ladder led by 1.14 for 127.85.
    let third = &market.runners[2];
    assert_eq!(third.back, None);
    assert_eq!(third.lay, Some(level("1.14", "127.85")));

    // Its back ladder contains a level of size 0.0 further down. The best level is the
    // first one, 1000.0 for 3.0.
    let fifth = &market.runners[4];
    assert_eq!(fifth.back, Some(level("1000", "3")));

    let removed = &market.runners[5];
    assert_eq!(removed.status, RunnerStatus::Removed);
    assert_eq!(removed.back, None);
    assert_eq!(removed.lay, None);

    for runner in &market.runners {
        for side in [runner.back, runner.lay].into_iter().flatten() {
            assert!(
                side.price.value() > rust_decimal::Decimal::ONE,
                "{runner:?}"
            );
            assert!(
                side.size.value() > rust_decimal::Decimal::ZERO,
                "{runner:?}"
            );
        }
    }
}

#[test]
fn book_without_catalogue_maps_nothing() {
    let Some(book) = recording("list_market_book.json") else {
        return;
    };
    let events = parse::parse(&[&book], MarketSet::all()).unwrap();
    assert!(events.is_empty(), "{events:#?}");
}

#[test]
fn runner_book_without_ladders_has_no_price() {
    let Some(book) = recording("list_runner_book.json") else {
        return;
    };
    let markets = parse::parse_market_book(&book).unwrap();
    println!("parsed {markets:#?}");
    assert_eq!(markets.len(), 1);
    assert_eq!(markets[0].market_id, "1.156770587");
    assert_eq!(markets[0].status, MarketBookStatus::Open);
    assert!(markets[0].inplay);
    let runner = &markets[0].runners[0];
    assert_eq!(runner.selection_id, 47999);
    assert_eq!(runner.status, RunnerStatus::Active);
    assert_eq!(runner.back, None);
    assert_eq!(runner.lay, None);
}

#[test]
fn market_types_list_the_mapped_codes() {
    let Some(types) = recording("list_market_types.json") else {
        return;
    };
    let value: Value = serde_json::from_slice(&types).unwrap();
    let recorded: Vec<&str> = value["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["marketType"].as_str().unwrap())
        .collect();
    println!("recorded codes {recorded:?}");
    let mapped = [
        "BOTH_TEAMS_TO_SCORE",
        "MATCH_ODDS",
        "HALF_TIME",
        "OVER_UNDER_05",
        "OVER_UNDER_15",
        "OVER_UNDER_25",
        "OVER_UNDER_35",
        "OVER_UNDER_45",
        "OVER_UNDER_55",
        "OVER_UNDER_65",
        "OVER_UNDER_75",
        "OVER_UNDER_85",
        "FIRST_HALF_GOALS_05",
        "FIRST_HALF_GOALS_15",
        "FIRST_HALF_GOALS_25",
        "ASIAN_HANDICAP",
        "DRAW_NO_BET",
        "DOUBLE_CHANCE",
    ];
    for code in mapped {
        assert!(recorded.contains(&code), "{code} is not a recorded code");
    }

    // A listMarketTypes response is neither a catalogue nor a book.
    let error = parse::parse(&[&types], MarketSet::all()).unwrap_err();
    assert_eq!(error.kind(), "malformed");
}

#[test]
fn event_listing_reads_ids_and_dates() {
    let Some(listing) = recording("list_events.json") else {
        return;
    };
    let events = parse::parse_event_list(&listing).unwrap();
    let ids: Vec<&str> = events.iter().map(|event| event.id.as_str()).collect();
    println!("listed {ids:?}");
    assert_eq!(
        ids,
        [
            "27867922", "27866801", "27868203", "27868139", "27868138", "27868361", "27868197"
        ]
    );
    assert_eq!(events[0].start.unwrap().to_string(), "2016-07-29T12:50:00Z");
    // Race meetings such as "Thirsk 29th Jul" have no " v ", so no teams.
    assert!(
        events
            .iter()
            .all(|event| event.home.is_none() && event.away.is_none())
    );
}
