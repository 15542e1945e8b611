//! Parser tests over the hand-made fixtures, one per mapping rule.

use std::sync::Arc;

use xtr_bwin::fixtures::FIXTURES;
use xtr_core::config::Settings;
use xtr_core::{
    Error, EventMarkets, Extractor, Line, Market, MarketKind, MarketSet, OutcomeName,
    OutcomeStatus, Period, Price, Registry, Timestamp,
};

fn extractor() -> Arc<dyn Extractor> {
    let mut registry = Registry::new();
    xtr_bwin::register(&mut registry);
    let settings = Settings::from_env(Vec::new(), &registry.specs()).unwrap();
    Arc::clone(registry.build(&settings).unwrap().get("bwin").unwrap())
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

fn parse_one(name: &str) -> EventMarkets {
    let mut events = parse(name, MarketSet::all());
    assert_eq!(events.len(), 1, "{name} holds one fixture");
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

const OPEN: OutcomeStatus = OutcomeStatus::Open;
const SUSPENDED: OutcomeStatus = OutcomeStatus::Suspended;

#[test]
fn match_result_maps_markers_and_names() {
    let event = parse_one("fixture_view_prematch");
    let result = market(&event, MarketKind::MatchResult, Period::FullTime, None).unwrap();
    assert_eq!(result.id.as_deref(), Some("600000002"));
    assert_eq!(
        outcomes(result),
        [
            (
                OutcomeName::Home,
                price("2.08333333"),
                OPEN,
                Some("700000005")
            ),
            (OutcomeName::Draw, price("3.4"), OPEN, Some("700000006")),
            (OutcomeName::Away, price("3.25"), OPEN, Some("700000004")),
        ]
    );
}

#[test]
fn price_keeps_every_digit() {
    let event = parse_one("fixture_view_prematch");
    let result = market(&event, MarketKind::MatchResult, Period::FullTime, None).unwrap();
    let json = serde_json::to_string(&result.outcomes[0].price).unwrap();
    assert_eq!(json, "2.08333333");
}

#[test]
fn half_time_result_is_first_half() {
    let event = parse_one("fixture_view_prematch");
    let result = market(&event, MarketKind::MatchResult, Period::FirstHalf, None).unwrap();
    assert_eq!(result.id.as_deref(), Some("600000003"));
    let prices: Vec<_> = result
        .outcomes
        .iter()
        .map(|o| (o.outcome, o.price))
        .collect();
    assert_eq!(
        prices,
        [
            (OutcomeName::Home, price("2.75")),
            (OutcomeName::Draw, price("2.1")),
            (OutcomeName::Away, price("3.6")),
        ]
    );
}

#[test]
fn btts_maps_each_period() {
    let event = parse_one("fixture_view_prematch");
    let cases = [
        (Period::FullTime, "600000004", "1.72", "2"),
        (Period::FirstHalf, "600000005", "4.5", "1.18"),
        (Period::SecondHalf, "600000006", "3.1", "1.33"),
    ];
    for (period, id, yes, no) in cases {
        let btts = market(&event, MarketKind::Btts, period, None)
            .unwrap_or_else(|| panic!("no btts {period}"));
        assert_eq!(btts.id.as_deref(), Some(id), "{period}");
        let prices: Vec<_> = btts.outcomes.iter().map(|o| (o.outcome, o.price)).collect();
        assert_eq!(
            prices,
            [(OutcomeName::Yes, price(yes)), (OutcomeName::No, price(no))],
            "{period}"
        );
    }
}

#[test]
fn total_goals_one_market_per_line() {
    let event = parse_one("fixture_view_prematch");
    let cases = [
        (Period::FullTime, "2.5", "600000007", "1.95", "1.8"),
        (Period::FullTime, "1.5", "600000008", "1.3", "3.4"),
        (Period::FirstHalf, "0.5", "600000010", "1.36", "3"),
        (Period::SecondHalf, "1.5", "600000011", "2.15", "1.65"),
    ];
    for (period, line, id, over, under) in cases {
        let totals = market(&event, MarketKind::TotalGoals, period, Some(line))
            .unwrap_or_else(|| panic!("no total goals {period} {line}"));
        assert_eq!(totals.id.as_deref(), Some(id), "{period} {line}");
        let prices: Vec<_> = totals
            .outcomes
            .iter()
            .map(|o| (o.outcome, o.price))
            .collect();
        assert_eq!(
            prices,
            [
                (OutcomeName::Over, price(over)),
                (OutcomeName::Under, price(under))
            ],
            "{period} {line}"
        );
    }
    let count = event
        .markets
        .iter()
        .filter(|m| m.key.kind == MarketKind::TotalGoals)
        .count();
    assert_eq!(count, 4);
}

#[test]
fn whole_goal_line_is_asian_total() {
    let event = parse_one("fixture_view_prematch");
    let asian = market(&event, MarketKind::AsianTotal, Period::FullTime, Some("3")).unwrap();
    assert_eq!(asian.id.as_deref(), Some("600000009"));
    assert_eq!(asian.outcomes[0].price, price("2.6"));
    assert_eq!(asian.outcomes[1].price, price("1.48"));
    assert!(market(&event, MarketKind::TotalGoals, Period::FullTime, Some("3")).is_none());
}

#[test]
fn double_chance_reads_both_sides() {
    let event = parse_one("fixture_view_prematch");
    let chance = market(&event, MarketKind::DoubleChance, Period::FullTime, None).unwrap();
    assert_eq!(
        outcomes(chance),
        [
            (
                OutcomeName::HomeOrDraw,
                price("1.3"),
                OPEN,
                Some("700000027")
            ),
            (
                OutcomeName::DrawOrAway,
                price("1.55"),
                OPEN,
                Some("700000026")
            ),
            (
                OutcomeName::HomeOrAway,
                price("1.33"),
                OPEN,
                Some("700000028")
            ),
        ]
    );
}

#[test]
fn draw_no_bet_maps_teams() {
    let event = parse_one("fixture_view_prematch");
    let dnb = market(&event, MarketKind::DrawNoBet, Period::FullTime, None).unwrap();
    assert_eq!(
        outcomes(dnb),
        [
            (OutcomeName::Home, price("1.5"), OPEN, Some("700000029")),
            (OutcomeName::Away, price("2.45"), OPEN, Some("700000030")),
        ]
    );
}

#[test]
fn similar_names_are_left_out() {
    let event = parse_one("fixture_view_prematch");
    let mut ids: Vec<_> = event
        .markets
        .iter()
        .map(|m| m.id.as_deref().unwrap())
        .collect();
    ids.sort_unstable();
    let expected: Vec<String> = (2..=13).map(|n| format!("6000000{n:02}")).collect();
    assert_eq!(ids, expected);
}

#[test]
fn other_category_is_left_out() {
    let event = parse_one("fixture_view_prematch");
    assert!(
        event
            .markets
            .iter()
            .all(|m| m.id.as_deref() != Some("600000001"))
    );
}

#[test]
fn suspended_game_suspends_outcomes() {
    let event = parse_one("fixture_view_live");
    let totals = market(
        &event,
        MarketKind::TotalGoals,
        Period::FullTime,
        Some("4.5"),
    )
    .unwrap();
    assert_eq!(
        outcomes(totals),
        [
            (OutcomeName::Over, price("13"), SUSPENDED, Some("700000053")),
            (
                OutcomeName::Under,
                price("1.01"),
                SUSPENDED,
                Some("700000054")
            ),
        ]
    );
    let open = market(
        &event,
        MarketKind::TotalGoals,
        Period::FullTime,
        Some("3.5"),
    )
    .unwrap();
    assert!(open.outcomes.iter().all(|o| o.status == OPEN));
}

#[test]
fn suspended_result_has_no_price_of_one() {
    let event = parse_one("fixture_view_live");
    let result = market(&event, MarketKind::MatchResult, Period::FullTime, None).unwrap();
    assert_eq!(
        outcomes(result),
        [
            (OutcomeName::Home, price("1.55"), OPEN, Some("700000050")),
            (OutcomeName::Draw, None, SUSPENDED, Some("700000051")),
            (OutcomeName::Away, price("6.75"), OPEN, Some("700000052")),
        ]
    );
    let btts = market(&event, MarketKind::Btts, Period::FullTime, None).unwrap();
    assert_eq!(btts.outcomes[1].status, SUSPENDED);
    assert_eq!(btts.outcomes[1].price, price("2"));
}

#[test]
fn open_result_without_price_drops_market() {
    let event = parse_one("fixture_view_live");
    assert!(market(&event, MarketKind::DrawNoBet, Period::FullTime, None).is_none());
}

#[test]
fn unknown_team_label_drops_market() {
    let event = parse_one("fixture_view_live");
    assert!(market(&event, MarketKind::DoubleChance, Period::FullTime, None).is_none());
}

#[test]
fn shared_short_names_need_markers() {
    let events = parse("fixtures_listing", MarketSet::all());
    let brugge = &events[0];
    let result = market(brugge, MarketKind::MatchResult, Period::FullTime, None).unwrap();
    let prices: Vec<_> = result
        .outcomes
        .iter()
        .map(|o| (o.outcome, o.price))
        .collect();
    assert_eq!(
        prices,
        [
            (OutcomeName::Home, price("1.26")),
            (OutcomeName::Draw, price("6.25")),
            (OutcomeName::Away, price("10")),
        ]
    );
    assert!(market(brugge, MarketKind::MatchResult, Period::FirstHalf, None).is_none());
}

#[test]
fn event_fields_come_from_fixture() {
    let prematch = parse_one("fixture_view_prematch").event;
    assert_eq!(prematch.id, "11200001");
    assert_eq!(prematch.sport.as_deref(), Some("football"));
    assert_eq!(prematch.competition.as_deref(), Some("Jupiler Pro League"));
    assert_eq!(prematch.home.as_deref(), Some("KRC Genk"));
    assert_eq!(prematch.away.as_deref(), Some("Standard de Liège"));
    assert_eq!(
        prematch.start,
        Some(Timestamp::parse("2021-03-19T19:45:00Z").unwrap())
    );
    assert!(!prematch.live);

    let live = parse_one("fixture_view_live").event;
    assert_eq!(live.id, "2:11248701");
    assert!(live.live);
}

#[test]
fn listing_yields_every_fixture() {
    let events = parse("fixtures_listing", MarketSet::all());
    let ids: Vec<_> = events.iter().map(|e| e.event.id.as_str()).collect();
    assert_eq!(ids, ["11196905", "11196908"]);
    assert_eq!(events[1].event.home.as_deref(), Some("AA Gent"));
    assert_eq!(events[1].event.away.as_deref(), Some("KV Oostende"));
    assert!(events[1].markets.is_empty());
}

#[test]
fn listing_parses_events_only() {
    let page = xtr_bwin::parse::parse_listing(fixture("fixtures_listing")).unwrap();
    assert_eq!(page.total_count, Some(2));
    assert_eq!(page.events.len(), 2);
    assert_eq!(page.events[0].away.as_deref(), Some("Cercle Brugge KSV"));
}

#[test]
fn unrequested_kinds_are_left_out() {
    let btts_only = MarketSet::from_kinds(&[MarketKind::Btts]);
    let events = parse("fixture_view_prematch", btts_only);
    let kinds: Vec<_> = events[0].markets.iter().map(|m| m.key.kind).collect();
    assert_eq!(kinds, [MarketKind::Btts; 3]);

    let asian_only = MarketSet::from_kinds(&[MarketKind::AsianTotal]);
    let events = parse("fixture_view_prematch", asian_only);
    assert_eq!(events[0].markets.len(), 1);
    assert_eq!(events[0].markets[0].key.kind, MarketKind::AsianTotal);
}

#[test]
fn null_fixture_gives_no_event() {
    let body = include_bytes!("fixtures/fixture_view_unknown.json");
    assert!(xtr_bwin::parse::is_missing_fixture(body));
    let events = extractor().parse(&[body], MarketSet::all()).unwrap();
    assert!(events.is_empty());
    assert!(!xtr_bwin::parse::is_missing_fixture(fixture(
        "fixture_view_live"
    )));
}

#[test]
fn results_before_name_are_parsed() {
    let body = br#"{"fixture": {"id": "5", "participants": [], "games": [
        {"results": [{"id": 2, "odds": 1.8, "name": {"value": "Yes"}, "visibility": "Visible"},
                     {"id": 3, "odds": 1.9, "name": {"value": "No"}, "visibility": "Visible"}],
         "id": 1, "name": {"value": "Both Teams to Score"}, "categoryId": 261,
         "visibility": "Visible"},
        {"results": [{"id": 5, "odds": 4.1, "name": {"value": "Yes"}, "visibility": "Visible"}],
         "id": 4, "name": {"value": "Both teams to score and over 3,5"}, "categoryId": 261,
         "visibility": "Visible"}]}}"#;
    let events = extractor().parse(&[body], MarketSet::all()).unwrap();
    assert_eq!(events[0].markets.len(), 1);
    let btts = &events[0].markets[0];
    assert_eq!(btts.id.as_deref(), Some("1"));
    assert_eq!(btts.outcomes[0].price, price("1.8"));
    assert_eq!(btts.outcomes[1].price, price("1.9"));
}

#[test]
fn malformed_bodies_are_rejected() {
    let bodies: [&[u8]; 4] = [
        b"<html>blocked</html>",
        b"{}",
        br#"{"fixture": {"id": "1", "games": [{"id": 1, "name": 3, "results": []}]}}"#,
        br#"{"fixture": {"id": "1", "games": [{"id": 1, "name": {"value": "Match Result"},
            "categoryId": 25, "visibility": "Visible", "results": [{"odds": 2}]}]}}"#,
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
