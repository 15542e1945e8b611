//! Conformance tests over the recorded Kambi responses in `$XTR_REALDATA/kambi` (default
//! `../shared/realdata`). Each test prints "skipped: ..." and passes when its recording
//! is absent.

use std::collections::HashMap;

use xtr_core::conformance::{check, read_realdata, unwrap_recording};
use xtr_core::{
    EventMarkets, Market, MarketKey, MarketKind, MarketSet, OutcomeName, OutcomeStatus, Period,
    Price, Timestamp,
};
use xtr_kambi::{parse_bet_offers, parse_event_list};

use MarketKind::{
    AsianHandicap, AsianTotal, Btts, DoubleChance, DrawNoBet, MatchResult, TotalGoals,
};
use OutcomeName::{Away, Draw, DrawOrAway, Home, HomeOrAway, HomeOrDraw, No, Over, Under, Yes};
use Period::{FirstHalf, FullTime, SecondHalf};

const MOLDE: &str = "kambi/pvt_betoffer_event_molde_mjondalen_wrapped.json";
const JUPILER_MATCH: &str = "kambi/pvt_betoffer_jupiler_match.json";
const JUPILER_OU: &str = "kambi/pvt_betoffer_jupiler_ou_wrapped.json";
const SMALL: &str = "kambi/pvt_betoffer_small_handicap_total.json";
const EVENTS: &str = "kambi/pvt_events_jupiler.json";
const EVENTS_WRAPPED: &str = "kambi/pvt_events_jupiler_wrapped.json";

/// Every recording of the folder.
const ALL: [&str; 6] = [
    MOLDE,
    JUPILER_MATCH,
    JUPILER_OU,
    SMALL,
    EVENTS,
    EVENTS_WRAPPED,
];

/// Returns the raw responses of a recording, unwrapped, or `None` when it is absent.
fn load(file: &str) -> Option<Vec<Vec<u8>>> {
    let bytes = read_realdata(env!("CARGO_MANIFEST_DIR"), file)?;
    Some(unwrap_recording(&bytes))
}

fn parse_all(bodies: &[Vec<u8>]) -> Vec<Vec<EventMarkets>> {
    bodies
        .iter()
        .map(|body| parse_bet_offers("unibet", body, MarketSet::all()).expect("recording parses"))
        .collect()
}

fn line_key(kind: MarketKind, period: Period, line: Option<&str>) -> MarketKey {
    match line {
        Some(text) => MarketKey::with_line(kind, period, text.parse().unwrap()),
        None => MarketKey::new(kind, period),
    }
}

fn find<'a>(
    event: &'a EventMarkets,
    kind: MarketKind,
    period: Period,
    line: Option<&str>,
) -> &'a Market {
    let wanted = line_key(kind, period, line);
    event
        .markets
        .iter()
        .find(|market| market.key == wanted)
        .unwrap_or_else(|| panic!("event {}: no market {wanted:?}", event.event.id))
}

fn price(text: &str) -> Option<Price> {
    Some(text.parse().unwrap())
}

/// Returns `(outcome, price, id)` of each outcome, asserting each is open.
fn open_outcomes(market: &Market) -> Vec<(OutcomeName, Option<Price>, &str)> {
    market
        .outcomes
        .iter()
        .map(|outcome| {
            assert_eq!(outcome.status, OutcomeStatus::Open, "{market:?}");
            (
                outcome.outcome,
                outcome.price,
                outcome.id.as_deref().unwrap_or("-"),
            )
        })
        .collect()
}

fn count(event: &EventMarkets, kind: MarketKind, period: Period) -> usize {
    event
        .markets
        .iter()
        .filter(|market| market.key.kind == kind && market.key.period == period)
        .count()
}

fn assert_conforms(file: &str, events: &[EventMarkets]) {
    let problems = check(events);
    assert!(problems.is_empty(), "{file}: {problems:#?}");
}

/// Returns the English label of every bet offer of a body, by offer id.
fn offer_labels(body: &[u8]) -> HashMap<String, String> {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap();
    value["betOffers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|offer| {
            (
                offer["id"].to_string(),
                offer["criterion"]["englishLabel"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect()
}

/// Returns the Kambi labels a market of this kind and period may come from.
fn allowed_labels(kind: MarketKind, period: Period) -> &'static [&'static str] {
    match (kind, period) {
        (Btts, FullTime) => &["Both Teams To Score"],
        (Btts, FirstHalf) => &["Both Teams To Score - 1st Half"],
        (Btts, SecondHalf) => &["Both Teams To Score - 2nd Half"],
        (MatchResult, FullTime) => &["Full Time"],
        (MatchResult, FirstHalf) => &["Half Time"],
        (MatchResult, SecondHalf) => &["2nd Half"],
        (TotalGoals, FullTime) => &["Total Goals"],
        (TotalGoals, FirstHalf) => &["Total Goals - 1st Half"],
        (TotalGoals, SecondHalf) => &["Total Goals - 2nd Half"],
        (AsianTotal, FullTime) => &["Asian Total", "Total Goals"],
        (AsianTotal, FirstHalf) => &["Asian Total - 1st Half", "Total Goals - 1st Half"],
        (AsianTotal, SecondHalf) => &["Asian Total - 2nd Half", "Total Goals - 2nd Half"],
        (AsianHandicap, FullTime) => &["Asian Handicap"],
        (AsianHandicap, FirstHalf) => &["Asian Handicap - 1st Half"],
        (AsianHandicap, SecondHalf) => &["Asian Handicap - 2nd Half"],
        (DrawNoBet, FullTime) => &["Draw No Bet"],
        (DrawNoBet, FirstHalf) => &["Draw No Bet - 1st Half"],
        (DrawNoBet, SecondHalf) => &["Draw No Bet - 2nd Half"],
        (DoubleChance, FullTime) => &["Double Chance"],
        (DoubleChance, FirstHalf) => &["Double Chance - 1st Half"],
        (DoubleChance, SecondHalf) => &["Double Chance - 2nd Half"],
    }
}

/// Asserts that every market comes from an offer of its own Kambi market.
fn assert_no_leaks(file: &str, body: &[u8], events: &[EventMarkets]) {
    let labels = offer_labels(body);
    for event in events {
        for market in &event.markets {
            let id = market.id.as_deref().expect("market id");
            let label = labels
                .get(id)
                .map(String::as_str)
                .unwrap_or("<unknown offer>");
            assert!(
                allowed_labels(market.key.kind, market.key.period).contains(&label),
                "{file}: offer {id} {label:?} mapped to {:?}",
                market.key
            );
        }
    }
}

#[test]
fn molde_event_fields() {
    let Some(bodies) = load(MOLDE) else { return };
    let events = parse_all(&bodies).remove(0);
    assert_eq!(events.len(), 1);
    let event = &events[0].event;
    assert_eq!(event.id, "1007519027");
    assert_eq!(event.sport.as_deref(), Some("football"));
    assert_eq!(event.competition.as_deref(), Some("Eliteserien"));
    assert_eq!(event.home.as_deref(), Some("Mjøndalen"));
    assert_eq!(event.away.as_deref(), Some("Molde"));
    assert_eq!(
        event.start,
        Some(Timestamp::parse("2021-05-30T13:00:00Z").unwrap())
    );
    assert!(!event.live);
}

#[test]
fn molde_btts_three_periods() {
    let Some(bodies) = load(MOLDE) else { return };
    let events = parse_all(&bodies).remove(0);
    let event = &events[0];
    let ft = find(event, Btts, FullTime, None);
    assert_eq!(ft.id.as_deref(), Some("2265745367"));
    assert_eq!(
        open_outcomes(ft),
        [
            (Yes, price("1.63"), "2923349982"),
            (No, price("2.23"), "2923350002")
        ]
    );
    assert_eq!(
        ft.changed_at,
        Some(Timestamp::parse("2021-05-30T07:08:09Z").unwrap())
    );

    let first = find(event, Btts, FirstHalf, None);
    assert_eq!(first.id.as_deref(), Some("2265745381"));
    assert_eq!(
        open_outcomes(first),
        [
            (Yes, price("4.1"), "2923350035"),
            (No, price("1.21"), "2923350059")
        ]
    );

    let second = find(event, Btts, SecondHalf, None);
    assert_eq!(second.id.as_deref(), Some("2265745388"));
    assert_eq!(
        open_outcomes(second),
        [
            (Yes, price("3"), "2923350069"),
            (No, price("1.34"), "2923350082")
        ]
    );

    // The combinations (in both halves, draw and btts, team to win and btts) stay out.
    let btts = event.markets.iter().filter(|m| m.key.kind == Btts).count();
    assert_eq!(btts, 3);
}

#[test]
fn molde_match_result_dnb_dc() {
    let Some(bodies) = load(MOLDE) else { return };
    let events = parse_all(&bodies).remove(0);
    let event = &events[0];
    let ft = find(event, MatchResult, FullTime, None);
    assert_eq!(ft.id.as_deref(), Some("2265369700"));
    assert_eq!(
        open_outcomes(ft),
        [
            (Home, price("5.3"), "2922065669"),
            (Draw, price("4.2"), "2922065670"),
            (Away, price("1.6"), "2922065671")
        ]
    );

    let half = find(event, MatchResult, FirstHalf, None);
    assert_eq!(half.id.as_deref(), Some("2265745411"));
    assert_eq!(
        open_outcomes(half),
        [
            (Home, price("5"), "2923350135"),
            (Draw, price("2.43"), "2923350141"),
            (Away, price("2.06"), "2923350149")
        ]
    );

    let second = find(event, MatchResult, SecondHalf, None);
    assert_eq!(second.id.as_deref(), Some("2265745324"));

    let dnb = find(event, DrawNoBet, FullTime, None);
    assert_eq!(dnb.id.as_deref(), Some("2265745308"));
    assert_eq!(
        open_outcomes(dnb),
        [
            (Home, price("4.2"), "2923349801"),
            (Away, price("1.24"), "2923349807")
        ]
    );
    assert_eq!(count(event, DrawNoBet, FirstHalf), 1);
    assert_eq!(count(event, DrawNoBet, SecondHalf), 1);

    let dc = find(event, DoubleChance, FullTime, None);
    assert_eq!(dc.id.as_deref(), Some("2265745506"));
    assert_eq!(
        open_outcomes(dc),
        [
            (HomeOrDraw, price("2.38"), "2923350395"),
            (DrawOrAway, price("1.17"), "2923350410"),
            (HomeOrAway, price("1.24"), "2923350403")
        ]
    );
    assert_eq!(count(event, DoubleChance, FirstHalf), 1);
    assert_eq!(count(event, DoubleChance, SecondHalf), 1);
}

#[test]
fn molde_goal_totals() {
    let Some(bodies) = load(MOLDE) else { return };
    let events = parse_all(&bodies).remove(0);
    let event = &events[0];
    assert_eq!(count(event, TotalGoals, FullTime), 7);
    assert_eq!(count(event, TotalGoals, FirstHalf), 4);
    assert_eq!(count(event, TotalGoals, SecondHalf), 4);
    for line in ["0.5", "1.5", "2.5", "3.5", "4.5", "5.5", "6.5"] {
        find(event, TotalGoals, FullTime, Some(line));
    }
    let main = find(event, TotalGoals, FullTime, Some("2.5"));
    assert_eq!(main.id.as_deref(), Some("2265745300"));
    assert_eq!(
        open_outcomes(main),
        [
            (Over, price("1.6"), "2923349789"),
            (Under, price("2.35"), "2923349792")
        ]
    );

    // Under 6.5 is suspended without odds and stays in the market.
    let high = find(event, TotalGoals, FullTime, Some("6.5"));
    assert_eq!(high.id.as_deref(), Some("2265745328"));
    assert_eq!(high.outcomes[0].price, price("20"));
    assert_eq!(high.outcomes[0].status, OutcomeStatus::Open);
    assert_eq!(high.outcomes[1].outcome, Under);
    assert_eq!(high.outcomes[1].price, None);
    assert_eq!(high.outcomes[1].status, OutcomeStatus::Suspended);
    assert_eq!(high.outcomes[1].id.as_deref(), Some("2923349853"));
}

#[test]
fn molde_asian_totals() {
    let Some(bodies) = load(MOLDE) else { return };
    let events = parse_all(&bodies).remove(0);
    let event = &events[0];
    assert_eq!(count(event, AsianTotal, FullTime), 20);
    assert_eq!(count(event, AsianTotal, FirstHalf), 8);

    let quarter = find(event, AsianTotal, FullTime, Some("2.25"));
    assert_eq!(quarter.id.as_deref(), Some("2265745337"));
    assert_eq!(
        open_outcomes(quarter),
        [
            (Over, price("1.42"), "2923349868"),
            (Under, price("2.88"), "2923349873")
        ]
    );

    let whole = find(event, AsianTotal, FullTime, Some("3"));
    assert_eq!(whole.id.as_deref(), Some("2265745363"));
    assert_eq!(
        open_outcomes(whole),
        [
            (Over, price("1.98"), "2923349955"),
            (Under, price("1.82"), "2923349961")
        ]
    );

    // Kambi's "Asian Total" 2.5 is its own market next to "Total Goals" 2.5.
    let half = find(event, AsianTotal, FullTime, Some("2.5"));
    assert_eq!(half.id.as_deref(), Some("2265745445"));
}

#[test]
fn molde_asian_handicap() {
    let Some(bodies) = load(MOLDE) else { return };
    let events = parse_all(&bodies).remove(0);
    let event = &events[0];
    assert_eq!(count(event, AsianHandicap, FullTime), 20);
    assert_eq!(count(event, AsianHandicap, FirstHalf), 10);

    // Home Mjøndalen +0.25, listed first.
    let plus = find(event, AsianHandicap, FullTime, Some("0.25"));
    assert_eq!(plus.id.as_deref(), Some("2265745346"));
    assert_eq!(
        open_outcomes(plus),
        [
            (Home, price("2.95"), "2923349887"),
            (Away, price("1.41"), "2923349894")
        ]
    );

    let minus = find(event, AsianHandicap, FullTime, Some("-0.25"));
    assert_eq!(minus.id.as_deref(), Some("2265745539"));
    assert_eq!(
        open_outcomes(minus),
        [
            (Home, price("4.8"), "2923350511"),
            (Away, price("1.2"), "2923350518")
        ]
    );

    let level = find(event, AsianHandicap, FirstHalf, Some("0"));
    assert_eq!(level.id.as_deref(), Some("2265745524"));
    assert_eq!(
        open_outcomes(level),
        [
            (Home, price("3.3"), "2923350456"),
            (Away, price("1.3"), "2923350462")
        ]
    );

    // The "Cards Handicap" (two-way, type 1) is not an asian handicap.
    assert!(
        event
            .markets
            .iter()
            .all(|market| market.id.as_deref() != Some("2265990637"))
    );
}

#[test]
fn molde_nothing_leaks() {
    let Some(bodies) = load(MOLDE) else { return };
    let events = parse_all(&bodies).remove(0);

    // 3 btts, 3 1x2, 15 total goals, 28 asian totals, 30 asian handicaps, 3 dnb, 3 dc.
    assert_eq!(events[0].markets.len(), 85);
    assert_no_leaks(MOLDE, &bodies[0], &events);
    assert_conforms(MOLDE, &events);
}

#[test]
fn jupiler_match_events() {
    let Some(bodies) = load(JUPILER_MATCH) else {
        return;
    };
    let events = parse_all(&bodies).remove(0);
    assert_eq!(events.len(), 20);
    let charleroi = &events[0];
    assert_eq!(charleroi.event.id, "1007407954");
    assert_eq!(
        charleroi.event.home.as_deref(),
        Some("Sporting de Charleroi")
    );
    assert_eq!(charleroi.event.away.as_deref(), Some("Club Brugge"));
    assert_eq!(
        charleroi.event.start,
        Some(Timestamp::parse("2021-03-12T19:45:00Z").unwrap())
    );
    let ft = find(charleroi, MatchResult, FullTime, None);
    assert_eq!(ft.id.as_deref(), Some("2253162921"));
    assert_eq!(
        open_outcomes(ft),
        [
            (Home, price("6.75"), "2881027811"),
            (Draw, price("3.55"), "2881027813"),
            (Away, price("1.58"), "2881027814")
        ]
    );

    let dnb = find(charleroi, DrawNoBet, FullTime, None);
    assert_eq!(dnb.id.as_deref(), Some("2253162965"));
    assert_eq!(
        open_outcomes(dnb),
        [
            (Home, price("5.2"), "2881027939"),
            (Away, price("1.18"), "2881027940")
        ]
    );

    // 3 1x2 and 3 dnb; first and last goal "No Goal, No Bet" stay out.
    assert_eq!(charleroi.markets.len(), 6);

    let markets = |kind: MarketKind| -> usize {
        events
            .iter()
            .flat_map(|event| &event.markets)
            .filter(|market| market.key.kind == kind)
            .count()
    };
    assert_eq!(markets(MatchResult), 42);
    assert_eq!(markets(DrawNoBet), 33);
    assert_no_leaks(JUPILER_MATCH, &bodies[0], &events);
    assert_conforms(JUPILER_MATCH, &events);
}

#[test]
fn jupiler_over_under_lines() {
    let Some(bodies) = load(JUPILER_OU) else {
        return;
    };
    assert_eq!(bodies.len(), 2);
    let parsed = parse_all(&bodies);
    assert_eq!(parsed[0].len(), 20);
    let events = &parsed[1];
    assert_eq!(events.len(), 11);

    let totals: usize = events
        .iter()
        .flat_map(|event| &event.markets)
        .filter(|market| market.key.kind == TotalGoals)
        .count();

    // 71 full-time, 38 first-half and 44 second-half offers, all on half-goal lines;
    // team, corner and card totals stay out.
    assert_eq!(totals, 153);
    let all: usize = events.iter().map(|event| event.markets.len()).sum();
    assert_eq!(all, 153);

    let charleroi = &events[0];
    assert_eq!(charleroi.event.id, "1007407954");
    let main = find(charleroi, TotalGoals, FullTime, Some("2.5"));
    assert_eq!(main.id.as_deref(), Some("2253162881"));
    assert_eq!(
        open_outcomes(main),
        [
            (Over, price("1.87"), "2881027679"),
            (Under, price("1.94"), "2881027681")
        ]
    );

    let first = find(charleroi, TotalGoals, FirstHalf, Some("2.5"));
    assert_eq!(first.id.as_deref(), Some("2253162815"));
    assert_eq!(first.outcomes[0].price, price("7"));

    let second = find(charleroi, TotalGoals, SecondHalf, Some("1.5"));
    assert_eq!(second.id.as_deref(), Some("2253163004"));
    assert_eq!(
        open_outcomes(second),
        [
            (Over, price("2.06"), "2881028055"),
            (Under, price("1.7"), "2881028054")
        ]
    );

    let waasland = events
        .iter()
        .find(|event| event.event.id == "1007294175")
        .expect("event 1007294175");

    let high = find(waasland, TotalGoals, FullTime, Some("6.5"));
    assert_eq!(high.id.as_deref(), Some("2253552010"));
    assert_eq!(high.outcomes[1].price, None);
    assert_eq!(high.outcomes[1].status, OutcomeStatus::Suspended);
    assert_eq!(high.outcomes[1].id.as_deref(), Some("2882398964"));

    for (body, events) in bodies.iter().zip(&parsed) {
        assert_no_leaks(JUPILER_OU, body, events);
        assert_conforms(JUPILER_OU, events);
    }
}

#[test]
fn small_body_without_events() {
    let Some(bodies) = load(SMALL) else { return };
    let events = parse_all(&bodies).remove(0);
    let ids: Vec<&str> = events.iter().map(|event| event.event.id.as_str()).collect();
    assert_eq!(ids, ["1006478884", "1007031368"]);
    let turkey = &events[0];
    assert_eq!(turkey.event.home, None);
    assert_eq!(turkey.event.start, None);
    let ft = find(turkey, MatchResult, FullTime, None);
    assert_eq!(ft.id.as_deref(), Some("2234427563"));
    assert_eq!(
        open_outcomes(ft),
        [
            (Home, price("8.8"), "2822018315"),
            (Draw, price("4"), "2822018316"),
            (Away, price("1.47"), "2822018317")
        ]
    );

    let total = find(turkey, TotalGoals, FullTime, Some("2.5"));
    assert_eq!(total.id.as_deref(), Some("2234427478"));
    assert_eq!(
        open_outcomes(total),
        [
            (Over, price("2.12"), "2822017986"),
            (Under, price("1.72"), "2822017994")
        ]
    );
    assert_eq!(turkey.markets.len(), 2);

    // Lille-Angers has only a two-way "Handicap", which is not an asian handicap.
    assert!(events[1].markets.is_empty(), "{:#?}", events[1].markets);
    assert_conforms(SMALL, &events);
}

#[test]
fn event_listing_matches() {
    let Some(bodies) = load(EVENTS) else { return };
    let events = parse_event_list("unibet", &bodies[0]).unwrap();
    assert_eq!(events.len(), 15);
    let live: Vec<&str> = events
        .iter()
        .filter(|event| event.live)
        .map(|event| event.id.as_str())
        .collect();
    assert_eq!(live, ["1007294165"]);
    assert_eq!(events[0].home.as_deref(), Some("Royal Antwerp FC"));
    assert_eq!(events[0].away.as_deref(), Some("Kortrijk"));
    assert_eq!(events[0].competition.as_deref(), Some("Jupiler Pro League"));
    assert_eq!(events[0].sport.as_deref(), Some("football"));
}

#[test]
fn wrapped_listing_leaves_out_outrights() {
    let Some(bodies) = load(EVENTS_WRAPPED) else {
        return;
    };
    let events = parse_event_list("unibet", &bodies[0]).unwrap();

    // 27 entries, of which 7 are outrights tagged COMPETITION without awayName.
    assert_eq!(events.len(), 20);
    assert!(events.iter().all(|event| event.away.is_some()));
    assert!(events.iter().all(|event| event.id != "1006599893"));
    assert_eq!(events[0].id, "1007407954");
    assert_eq!(events[0].home.as_deref(), Some("Sporting de Charleroi"));
}

#[test]
fn every_recording_conforms() {
    for file in ALL {
        let Some(bodies) = load(file) else { continue };
        for events in parse_all(&bodies) {
            assert!(!events.is_empty(), "{file}");
            assert_conforms(file, &events);
            let markets: usize = events.iter().map(|event| event.markets.len()).sum();
            println!("{file}: {} events, {markets} markets", events.len());
        }
    }
}
