//! One behaviour suite for every compiled-in extractor, run on each crate's own
//! fixtures: a new extractor gets these checks by adding its fixtures here.

use std::collections::HashSet;

use xtr_core::config::Settings;
use xtr_core::snapshot::snapshot_records;
use xtr_core::{MarketStatus, OutcomeStatus, Timestamp};

/// A bookmaker name and its crate's fixtures: name and bodies, in `parse` order.
type Suite = (&'static str, Vec<(&'static str, &'static [&'static [u8]])>);

macro_rules! fixtures {
    ($krate:ident) => {
        $krate::fixtures::FIXTURES
            .iter()
            .map(|fixture| (fixture.name, fixture.bodies))
            .collect::<Vec<_>>()
    };
}

fn suites() -> Vec<Suite> {
    let mut suites: Vec<Suite> = Vec::new();
    #[cfg(feature = "kambi")]
    for brand in ["unibet", "888sport", "leovegas"] {
        suites.push((brand, fixtures!(xtr_kambi)));
    }
    #[cfg(feature = "pinnacle")]
    suites.push(("pinnacle", fixtures!(xtr_pinnacle)));
    #[cfg(feature = "betfair")]
    suites.push(("betfair", fixtures!(xtr_betfair)));
    #[cfg(feature = "bwin")]
    suites.push(("bwin", fixtures!(xtr_bwin)));
    #[cfg(feature = "betway")]
    suites.push(("betway", fixtures!(xtr_betway)));
    #[cfg(feature = "sbtech")]
    suites.push(("sbtech", fixtures!(xtr_sbtech)));
    suites
}

fn extractors() -> xtr_core::registry::Extractors {
    let registry = registry();
    let settings = Settings::from_env(Vec::new(), &registry.specs()).expect("default settings");
    registry
        .build(&settings)
        .expect("extractors build without credentials")
}

fn registry() -> xtr_core::Registry {
    let mut registry = xtr_core::Registry::new();
    #[cfg(feature = "kambi")]
    xtr_kambi::register(&mut registry);
    #[cfg(feature = "pinnacle")]
    xtr_pinnacle::register(&mut registry);
    #[cfg(feature = "betfair")]
    xtr_betfair::register(&mut registry);
    #[cfg(feature = "bwin")]
    xtr_bwin::register(&mut registry);
    #[cfg(feature = "betway")]
    xtr_betway::register(&mut registry);
    #[cfg(feature = "sbtech")]
    xtr_sbtech::register(&mut registry);
    registry
}

#[test]
fn every_extractor_has_fixtures() {
    let extractors = extractors();
    let covered: HashSet<_> = suites().into_iter().map(|(name, _)| name).collect();
    for name in extractors.names() {
        assert!(
            covered.contains(name),
            "{name} has no fixtures in the conformance suite"
        );
    }
}

#[test]
fn fixtures_pass_the_behaviour_rules() {
    let extractors = extractors();
    let mut markets_seen = 0;
    for (bookmaker, fixtures) in suites() {
        let extractor = extractors.get(bookmaker).expect("registered");
        let capabilities = extractor.capabilities();
        for (fixture, bodies) in fixtures {
            let which = format!("{bookmaker} fixture {fixture}");
            let events = extractor
                .parse(bodies, capabilities.markets)
                .unwrap_or_else(|error| panic!("{which}: {error}"));

            let problems = xtr_core::conformance::check(&events);
            assert!(problems.is_empty(), "{which}: {problems:#?}");

            let mut ids = HashSet::new();
            for event in &events {
                assert!(
                    ids.insert(event.event.id.clone()),
                    "{which}: event {} twice",
                    event.event.id
                );
                assert!(!event.event.id.is_empty(), "{which}: an event without id");
                for market in &event.markets {
                    markets_seen += 1;
                    assert!(
                        capabilities.markets.contains(market.key.kind),
                        "{which}: kind {} is not in the capabilities",
                        market.key.kind
                    );
                    assert!(
                        capabilities.periods.contains(&market.key.period),
                        "{which}: period {} is not in the capabilities",
                        market.key.period
                    );
                    for outcome in &market.outcomes {
                        if capabilities.exchange {
                            if outcome.status == OutcomeStatus::Open {
                                assert!(
                                    outcome.back.is_some(),
                                    "{which}: an open exchange outcome has a back level"
                                );
                            }
                        } else {
                            assert!(
                                outcome.back.is_none() && outcome.lay.is_none(),
                                "{which}: a sportsbook outcome has no back or lay level"
                            );
                        }
                    }
                }

                // Every record serializes, and prices and lines are written with exact
                // digits: parsing the text back gives the same decimal.
                for record in snapshot_records(
                    bookmaker,
                    None,
                    event,
                    capabilities.markets,
                    Timestamp::now(),
                ) {
                    let json = serde_json::to_string(&record).expect("record serializes");
                    let back: xtr_core::snapshot::Snapshot =
                        serde_json::from_str(&json).expect("record parses");
                    assert_eq!(
                        back.outcomes, record.outcomes,
                        "{which}: outcomes survive JSON"
                    );
                    assert_eq!(
                        back.market.line, record.market.line,
                        "{which}: line survives JSON"
                    );
                    if record.status == MarketStatus::NotOffered {
                        assert!(record.outcomes.is_empty());
                    }
                }
            }
        }
    }
    assert!(
        markets_seen > 0 || suites().is_empty(),
        "the fixtures hold markets"
    );
}

#[test]
fn parse_leaves_out_unrequested_kinds() {
    let extractors = extractors();
    for (bookmaker, fixtures) in suites() {
        let extractor = extractors.get(bookmaker).expect("registered");
        for kind in extractor.capabilities().markets.iter() {
            let only = xtr_core::MarketSet::from_kinds(&[kind]);
            for (fixture, bodies) in &fixtures {
                let events = extractor
                    .parse(bodies, only)
                    .unwrap_or_else(|error| panic!("{bookmaker} {fixture}: {error}"));
                for market in events.iter().flat_map(|event| &event.markets) {
                    assert_eq!(
                        market.key.kind, kind,
                        "{bookmaker} {fixture}: asked only for {kind}"
                    );
                }
            }
        }
    }
}

#[test]
fn garbage_bodies_are_malformed_errors() {
    let extractors = extractors();
    for (bookmaker, fixtures) in suites() {
        let extractor = extractors.get(bookmaker).expect("registered");
        let count = fixtures.first().map_or(1, |(_, bodies)| bodies.len());
        for garbage in [
            &b"<html>Access denied</html>"[..],
            b"",
            b"{\"unterminated\": ",
        ] {
            let bodies = vec![garbage; count];
            match extractor.parse(&bodies, extractor.capabilities().markets) {
                Err(xtr_core::Error::Malformed { .. }) => {}
                other => panic!(
                    "{bookmaker}: {:?} gave {other:?}",
                    String::from_utf8_lossy(garbage)
                ),
            }
        }
    }
}
