//! Parser tests over the hand-made fixtures, one per mapping rule.

use std::sync::Arc;

use xtr_core::config::Settings;
use xtr_core::{
    Error, EventMarkets, Extractor, Line, Market, MarketKind, MarketSet, OutcomeName,
    OutcomeStatus, Period, Price, Registry, Timestamp,
};
use xtr_sbtech::fixtures::FIXTURES;

const OPEN: OutcomeStatus = OutcomeStatus::Open;
const SUSPENDED: OutcomeStatus = OutcomeStatus::Suspended;

fn extractor() -> Arc<dyn Extractor> {
    let mut registry = Registry::new();
    xtr_sbtech::register(&mut registry);
    let settings = Settings::from_env(Vec::new(), &registry.specs()).unwrap();
    Arc::clone(registry.build(&settings).unwrap().get("sbtech").unwrap())
}

fn fixture(name: &str) -> &'static [u8] {
    FIXTURES
        .iter()
        .find(|fixture| fixture.name == name)
        .unwrap_or_else(|| panic!("no fixture {name}"))
        .bodies[0]
}

fn parse(name: &str, markets: MarketSet) -> Vec<EventMarkets> {
    extractor().parse(&[fixture(name)], markets).unwrap()
}

fn prematch() -> EventMarkets {
    let mut events = parse("event_prematch", MarketSet::all());
    assert_eq!(events.len(), 1);
    events.remove(0)
}

fn market<'e>(
    event: &'e EventMarkets,
    kind: MarketKind,
    period: Period,
    line: Option<&str>,
) -> Option<&'e Market> {
    let line = line.map(|text| text.parse::<Line>().unwrap());
    event.markets.iter().find(|market| {
        market.key.kind == kind && market.key.period == period && market.key.line == line
    })
}

fn lines(event: &EventMarkets, kind: MarketKind, period: Period) -> Vec<String> {
    event
        .markets
        .iter()
        .filter(|market| market.key.kind == kind && market.key.period == period)
        .map(|market| market.key.line.unwrap().to_string())
        .collect()
}

fn price(text: &str) -> Option<Price> {
    Some(text.parse().unwrap())
}

/// Returns `(outcome, price, status, id)` of each outcome, in snapshot order.
fn outcomes(market: &Market) -> Vec<(OutcomeName, Option<Price>, OutcomeStatus, Option<&str>)> {
    market
        .outcomes
        .iter()
        .map(|o| (o.outcome, o.price, o.status, o.id.as_deref()))
        .collect()
}

fn prices(market: &Market) -> Vec<(OutcomeName, Option<Price>)> {
    market
        .outcomes
        .iter()
        .map(|o| (o.outcome, o.price))
        .collect()
}

#[test]
fn match_result_maps_outcome_types() {
    let event = prematch();
    let result = market(&event, MarketKind::MatchResult, Period::FullTime, None).unwrap();
    assert_eq!(result.id.as_deref(), Some("1_54121001"));
    assert_eq!(
        outcomes(result),
        [
            (
                OutcomeName::Home,
                price("2.15384615"),
                OPEN,
                Some("0S54121001N3")
            ),
            (OutcomeName::Draw, price("3.5"), OPEN, Some("0S54121001N2")),
            (OutcomeName::Away, price("3.35"), OPEN, Some("0S54121001N1")),
        ]
    );
    let json = serde_json::to_string(&result.outcomes[0].price).unwrap();
    assert_eq!(json, "2.15384615");
}

#[test]
fn match_result_halves() {
    let event = prematch();
    let first = market(&event, MarketKind::MatchResult, Period::FirstHalf, None).unwrap();
    assert_eq!(
        prices(first),
        [
            (OutcomeName::Home, price("2.9")),
            (OutcomeName::Draw, price("2.1")),
            (OutcomeName::Away, price("3.9")),
        ]
    );
    let second = market(&event, MarketKind::MatchResult, Period::SecondHalf, None).unwrap();
    assert_eq!(
        prices(second),
        [
            (OutcomeName::Home, price("2.6")),
            (OutcomeName::Draw, price("2.5")),
            (OutcomeName::Away, price("3.4")),
        ]
    );
}

#[test]
fn total_goals_splits_half_lines() {
    let event = prematch();
    assert_eq!(
        lines(&event, MarketKind::TotalGoals, Period::FullTime),
        ["1.5", "2.5"]
    );
    let two_and_half = market(
        &event,
        MarketKind::TotalGoals,
        Period::FullTime,
        Some("2.5"),
    )
    .unwrap();
    assert_eq!(two_and_half.id.as_deref(), Some("18_54121004"));
    assert_eq!(
        prices(two_and_half),
        [
            (OutcomeName::Over, price("1.95")),
            (OutcomeName::Under, price("1.85"))
        ]
    );
    assert_eq!(
        lines(&event, MarketKind::TotalGoals, Period::FirstHalf),
        ["0.5", "1.5"]
    );
}

#[test]
fn ou_lines_are_all_asian_totals() {
    let event = prematch();
    assert_eq!(
        lines(&event, MarketKind::AsianTotal, Period::FullTime),
        ["2.25", "2.5", "2.75", "3"]
    );
    let quarter = market(
        &event,
        MarketKind::AsianTotal,
        Period::FullTime,
        Some("2.75"),
    )
    .unwrap();
    assert_eq!(quarter.id.as_deref(), Some("3_54121006"));
    assert_eq!(
        prices(quarter),
        [
            (OutcomeName::Over, price("1.97605342")),
            (OutcomeName::Under, price("1.75682203")),
        ]
    );
    let half = market(
        &event,
        MarketKind::AsianTotal,
        Period::FullTime,
        Some("2.5"),
    )
    .unwrap();
    assert_eq!(half.outcomes[0].price, price("1.77782679"));
}

#[test]
fn disabled_selection_is_suspended() {
    let event = prematch();
    let three = market(&event, MarketKind::AsianTotal, Period::FullTime, Some("3")).unwrap();
    assert_eq!(
        outcomes(three),
        [
            (
                OutcomeName::Over,
                price("2.3"),
                SUSPENDED,
                Some("0S54121006N24")
            ),
            (
                OutcomeName::Under,
                price("1.6"),
                OPEN,
                Some("0S54121006N25")
            ),
        ]
    );
}

#[test]
fn open_selection_without_price_drops_line() {
    let event = prematch();
    assert_eq!(
        lines(&event, MarketKind::AsianTotal, Period::SecondHalf),
        ["1"]
    );
}

#[test]
fn asian_handicap_line_is_home_points() {
    let event = prematch();
    assert_eq!(
        lines(&event, MarketKind::AsianHandicap, Period::FullTime),
        ["-0.5", "-0.25", "0"]
    );
    let quarter = market(
        &event,
        MarketKind::AsianHandicap,
        Period::FullTime,
        Some("-0.25"),
    )
    .unwrap();
    assert_eq!(
        outcomes(quarter),
        [
            (
                OutcomeName::Home,
                price("1.8103942"),
                OPEN,
                Some("0S54121008N31")
            ),
            (
                OutcomeName::Away,
                price("1.94869219"),
                OPEN,
                Some("0S54121008N32")
            ),
        ]
    );
    let half = market(
        &event,
        MarketKind::AsianHandicap,
        Period::FullTime,
        Some("-0.5"),
    )
    .unwrap();
    assert_eq!(
        prices(half),
        [
            (OutcomeName::Home, price("2.08289713")),
            (OutcomeName::Away, price("1.71312296")),
        ]
    );
    let first = market(
        &event,
        MarketKind::AsianHandicap,
        Period::FirstHalf,
        Some("0"),
    )
    .unwrap();
    assert_eq!(first.outcomes[0].price, price("1.85"));
}

#[test]
fn unpaired_handicap_line_is_dropped() {
    let event = prematch();
    assert!(
        market(
            &event,
            MarketKind::AsianHandicap,
            Period::FullTime,
            Some("-0.75")
        )
        .is_none()
    );
}

#[test]
fn draw_no_bet_maps_home_and_away() {
    let event = prematch();
    let dnb = market(&event, MarketKind::DrawNoBet, Period::FullTime, None).unwrap();
    assert_eq!(
        prices(dnb),
        [
            (OutcomeName::Home, price("1.55")),
            (OutcomeName::Away, price("2.35"))
        ]
    );
}

#[test]
fn suspended_market_suspends_selections() {
    let event = prematch();
    let dnb = market(&event, MarketKind::DrawNoBet, Period::SecondHalf, None).unwrap();
    assert_eq!(
        outcomes(dnb),
        [
            (
                OutcomeName::Home,
                price("1.7"),
                SUSPENDED,
                Some("0S54121020N61")
            ),
            (
                OutcomeName::Away,
                price("2.1"),
                SUSPENDED,
                Some("0S54121020N62")
            ),
        ]
    );
}

#[test]
fn double_chance_maps_compound_types() {
    let event = prematch();
    let chance = market(&event, MarketKind::DoubleChance, Period::FullTime, None).unwrap();
    assert_eq!(
        prices(chance),
        [
            (OutcomeName::HomeOrDraw, price("1.3")),
            (OutcomeName::DrawOrAway, price("1.6")),
            (OutcomeName::HomeOrAway, price("1.32")),
        ]
    );
}

#[test]
fn unknown_outcome_type_drops_market() {
    let event = prematch();
    assert!(market(&event, MarketKind::DoubleChance, Period::FirstHalf, None).is_none());
}

#[test]
fn double_chance_type_forms() {
    let body = |types: [&str; 3]| {
        let selections: Vec<_> = types
            .iter()
            .enumerate()
            .map(|(n, outcome)| {
                serde_json::json!({"id": n.to_string(), "outcomeType": outcome,
                    "trueOdds": 1.5, "status": "Active", "points": null})
            })
            .collect();
        serde_json::to_vec(&serde_json::json!({"events": [], "markets": [{"id": "m",
            "eventId": "7", "marketType": {"id": "61", "name": "Double Chance"},
            "isSuspended": false, "selections": selections}]}))
        .unwrap()
    };
    let expected = [
        OutcomeName::HomeOrDraw,
        OutcomeName::DrawOrAway,
        OutcomeName::HomeOrAway,
    ];
    let forms = [
        ["1X", "X2", "12"],
        ["HomeTie", "TieAway", "HomeAway"],
        ["HomeOrDraw", "DrawOrAway", "AwayOrHome"],
        ["homeortie", "awayortie", "homeoraway"],
    ];
    for types in forms {
        let events = extractor()
            .parse(&[&body(types)], MarketSet::all())
            .unwrap();
        let names: Vec<_> = events[0].markets[0]
            .outcomes
            .iter()
            .map(|o| o.outcome)
            .collect();
        assert_eq!(names, expected, "{types:?}");
    }
    for types in [
        ["HomeHome", "X2", "12"],
        ["HomeTieAway", "X2", "12"],
        ["Home", "Tie", "Away"],
    ] {
        let events = extractor()
            .parse(&[&body(types)], MarketSet::all())
            .unwrap();
        assert!(events[0].markets.is_empty(), "{types:?}");
    }
}

#[test]
fn btts_maps_each_period() {
    let event = prematch();
    let cases = [
        (Period::FullTime, "158_54121012", "1.7", "2.05"),
        (Period::FirstHalf, "2935_54121013", "4.2", "1.2"),
        (Period::SecondHalf, "2936_54121014", "3.25", "1.3"),
    ];
    for (period, id, yes, no) in cases {
        let btts = market(&event, MarketKind::Btts, period, None)
            .unwrap_or_else(|| panic!("no btts {period}"));
        assert_eq!(btts.id.as_deref(), Some(id), "{period}");
        assert_eq!(
            prices(btts),
            [(OutcomeName::Yes, price(yes)), (OutcomeName::No, price(no))],
            "{period}"
        );
    }
}

#[test]
fn similar_market_types_are_left_out() {
    let event = prematch();
    let mut ids: Vec<_> = event
        .markets
        .iter()
        .map(|m| m.id.as_deref().unwrap())
        .collect();
    ids.dedup();
    let expected = [
        "1_54121001",
        "1_54121002",
        "1_54121003",
        "18_54121004",
        "18_54121005",
        "3_54121006",
        "3_54121007",
        "2_54121008",
        "2_54121009",
        "2_54121010",
        "61_54121011",
        "158_54121012",
        "2935_54121013",
        "2936_54121014",
        "2_54121020",
    ];
    assert_eq!(ids, expected);
}

#[test]
fn event_fields_come_from_event() {
    let event = prematch().event;
    assert_eq!(event.id, "22016399");
    assert_eq!(event.sport.as_deref(), Some("football"));
    assert_eq!(
        event.competition.as_deref(),
        Some("Belgium - Jupiler Pro League")
    );
    assert_eq!(event.home.as_deref(), Some("Genk"));
    assert_eq!(event.away.as_deref(), Some("Standard Liège"));
    assert_eq!(
        event.start,
        Some(Timestamp::parse("2021-03-19T19:45:00Z").unwrap())
    );
    assert!(!event.live);
}

#[test]
fn data_wrapper_is_accepted() {
    let events = parse("event_live_data", MarketSet::all());
    let ids: Vec<_> = events.iter().map(|e| e.event.id.as_str()).collect();
    assert_eq!(ids, ["21908611", "21908612"]);
    assert!(events[0].event.live);
    assert_eq!(events[0].event.home.as_deref(), Some("Antwerp"));
}

#[test]
fn selections_before_type_are_parsed() {
    let events = parse("event_live_data", MarketSet::all());
    let antwerp = &events[0];
    assert_eq!(
        lines(antwerp, MarketKind::AsianTotal, Period::FullTime),
        ["1.5", "1.75"]
    );
    let quarter = market(
        antwerp,
        MarketKind::AsianTotal,
        Period::FullTime,
        Some("1.75"),
    )
    .unwrap();
    assert_eq!(
        prices(quarter),
        [
            (OutcomeName::Over, price("2.40926781")),
            (OutcomeName::Under, price("1.5959073")),
        ]
    );
}

#[test]
fn live_score_handicap_is_left_out() {
    let events = parse("event_live_data", MarketSet::all());
    assert!(
        events[0]
            .markets
            .iter()
            .all(|m| m.key.kind != MarketKind::AsianHandicap)
    );
}

#[test]
fn disabled_market_has_no_price_of_one() {
    let events = parse("event_live_data", MarketSet::all());
    let result = market(&events[0], MarketKind::MatchResult, Period::FullTime, None).unwrap();
    assert_eq!(
        outcomes(result),
        [
            (
                OutcomeName::Home,
                price("1.6"),
                SUSPENDED,
                Some("0S54068003N72")
            ),
            (
                OutcomeName::Draw,
                price("3.75"),
                SUSPENDED,
                Some("0S54068003N73")
            ),
            (OutcomeName::Away, None, SUSPENDED, Some("0S54068003N74")),
        ]
    );
}

#[test]
fn suspended_event_suspends_markets() {
    let events = parse("event_live_data", MarketSet::all());
    let btts = market(&events[1], MarketKind::Btts, Period::FullTime, None).unwrap();
    assert_eq!(
        outcomes(btts),
        [
            (
                OutcomeName::Yes,
                price("2.2"),
                SUSPENDED,
                Some("0S54068004N75")
            ),
            (
                OutcomeName::No,
                price("1.62"),
                SUSPENDED,
                Some("0S54068004N76")
            ),
        ]
    );
}

#[test]
fn markets_join_events_by_id() {
    let events = parse("events_listing", MarketSet::all());
    let ids: Vec<_> = events.iter().map(|e| e.event.id.as_str()).collect();
    assert_eq!(ids, ["21908613", "21908614", "21908690", "21908650"]);
    let anderlecht = market(&events[1], MarketKind::MatchResult, Period::FullTime, None).unwrap();
    assert_eq!(anderlecht.id.as_deref(), Some("1_53893502"));
    assert_eq!(anderlecht.outcomes[0].price, price("1.90909091"));
    assert!(events[2].markets.is_empty());
    assert_eq!(events[2].event.sport, None);
}

#[test]
fn market_of_unlisted_event_keeps_id() {
    let events = parse("events_listing", MarketSet::all());
    let unlisted = &events[3];
    assert_eq!(unlisted.event.id, "21908650");
    assert_eq!(unlisted.event.home, None);
    assert_eq!(unlisted.markets.len(), 1);
    assert_eq!(unlisted.markets[0].outcomes[0].price, price("2.4"));
}

#[test]
fn listing_keeps_football_events() {
    let events = xtr_sbtech::parse::parse_listing(fixture("events_listing")).unwrap();
    let ids: Vec<_> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["21908613", "21908614"]);
    assert_eq!(events[0].home.as_deref(), Some("Mouscron Peruwelz"));
}

#[test]
fn unrequested_kinds_are_left_out() {
    let handicap_only = MarketSet::from_kinds(&[MarketKind::AsianHandicap]);
    let events = parse("event_prematch", handicap_only);
    assert_eq!(events[0].markets.len(), 4);
    assert!(
        events[0]
            .markets
            .iter()
            .all(|m| m.key.kind == MarketKind::AsianHandicap)
    );

    let totals_only = MarketSet::from_kinds(&[MarketKind::TotalGoals]);
    let events = parse("event_prematch", totals_only);
    assert_eq!(
        lines(&events[0], MarketKind::TotalGoals, Period::FullTime),
        ["1.5", "2.5"]
    );
    assert_eq!(events[0].markets.len(), 4);
}

#[test]
fn event_mention_check() {
    let prematch = fixture("event_prematch");
    assert!(xtr_sbtech::parse::mentions_event(prematch, "22016399"));
    assert!(!xtr_sbtech::parse::mentions_event(prematch, "22016400"));
    let listing = fixture("events_listing");
    assert!(xtr_sbtech::parse::mentions_event(listing, "21908650"));
    let unknown = include_bytes!("fixtures/event_unknown.json");
    assert!(!xtr_sbtech::parse::mentions_event(unknown, "22016399"));
    assert!(
        extractor()
            .parse(&[unknown], MarketSet::all())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn malformed_bodies_are_rejected() {
    let bodies: [&[u8]; 5] = [
        b"<html>blocked</html>",
        b"{}",
        br#"{"data": null}"#,
        br#"{"events": [{"participants": []}], "markets": []}"#,
        br#"{"events": [], "markets": [{"id": "1_1", "eventId": "7",
            "marketType": {"name": "1X2"}, "selections": [{"outcomeType": "Home"}]}]}"#,
    ];
    for body in bodies {
        let error = extractor().parse(&[body], MarketSet::all()).unwrap_err();
        assert!(
            matches!(error, Error::Malformed { .. }),
            "{}: {error}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn conformance_holds_on_every_fixture() {
    let extractor = extractor();
    for fixture in FIXTURES {
        let events = extractor.parse(fixture.bodies, MarketSet::all()).unwrap();
        assert!(!events.is_empty(), "{}", fixture.name);
        let problems = xtr_core::conformance::check(&events);
        assert!(problems.is_empty(), "{}: {problems:#?}", fixture.name);
    }
}
