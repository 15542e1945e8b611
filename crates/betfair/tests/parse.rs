//! Parser tests over the hand-made fixtures: one test per mapping rule.

use serde_json::{Value, json};
use xtr_betfair::fixtures::FIXTURES;
use xtr_betfair::parse::{self, MarketBookStatus, RunnerStatus};
use xtr_core::conformance;
use xtr_core::{
    Error, EventMarkets, ExchangePrice, Line, Market, MarketKind, MarketSet, Outcome, OutcomeName,
    OutcomeStatus, Period, Price, Size,
};

const CATALOGUE: &[u8] = include_bytes!("fixtures/catalogue.json");
const BOOK: &[u8] = include_bytes!("fixtures/book.json");
const IN_PLAY_CATALOGUE: &[u8] = include_bytes!("fixtures/in_play_catalogue.json");
const IN_PLAY_BOOK: &[u8] = include_bytes!("fixtures/in_play_book.json");
const EMPTY_RESULT: &[u8] = include_bytes!("fixtures/empty_result.json");
const PROBE: &[u8] = include_bytes!("fixtures/probe_catalogue.json");
const SESSION_ERROR: &[u8] = include_bytes!("fixtures/session_error.json");
const EVENTS: &[u8] = include_bytes!("fixtures/events.json");

fn parse_one(bodies: &[&[u8]], markets: MarketSet) -> EventMarkets {
    let mut events = parse::parse(bodies, markets).unwrap();
    assert_eq!(events.len(), 1, "{events:#?}");
    events.remove(0)
}

fn parse_match() -> EventMarkets {
    parse_one(&[CATALOGUE, BOOK], MarketSet::all())
}

fn parse_in_play() -> EventMarkets {
    parse_one(&[IN_PLAY_CATALOGUE, IN_PLAY_BOOK], MarketSet::all())
}

fn line(text: &str) -> Line {
    text.parse().unwrap()
}

fn price(text: &str) -> Price {
    text.parse().unwrap()
}

fn level(price_text: &str, size_text: &str) -> ExchangePrice {
    ExchangePrice {
        price: price(price_text),
        size: size_text.parse::<Size>().unwrap(),
    }
}

fn find_market<'a>(
    event: &'a EventMarkets,
    kind: MarketKind,
    period: Period,
    line_text: Option<&str>,
) -> Option<&'a Market> {
    let expected_line = line_text.map(line);
    event.markets.iter().find(|market| {
        market.key.kind == kind && market.key.period == period && market.key.line == expected_line
    })
}

fn market<'a>(
    event: &'a EventMarkets,
    kind: MarketKind,
    period: Period,
    line_text: Option<&str>,
) -> &'a Market {
    find_market(event, kind, period, line_text).unwrap_or_else(|| {
        panic!(
            "no {kind} {period} {line_text:?} market in {:#?}",
            event.markets
        )
    })
}

fn outcome(market: &Market, name: OutcomeName) -> &Outcome {
    market
        .outcomes
        .iter()
        .find(|outcome| outcome.outcome == name)
        .unwrap_or_else(|| panic!("no {name:?} outcome in {market:#?}"))
}

fn names(market: &Market) -> Vec<OutcomeName> {
    market
        .outcomes
        .iter()
        .map(|outcome| outcome.outcome)
        .collect()
}

/// Parses a fixture into a JSON value for tests that change one field.
fn edit(body: &[u8], change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut value: Value = serde_json::from_slice(body).unwrap();
    change(&mut value);
    serde_json::to_vec(&value).unwrap()
}

#[test]
fn event_fields_come_from_catalogue() {
    let event = parse_match().event;
    assert_eq!(event.id, "32510001");
    assert_eq!(event.sport.as_deref(), Some("football"));
    assert_eq!(event.competition.as_deref(), Some("English Premier League"));
    assert_eq!(event.home.as_deref(), Some("Arsenal"));
    assert_eq!(event.away.as_deref(), Some("Chelsea"));
    assert_eq!(event.start.unwrap().to_string(), "2026-03-14T15:00:00Z");
    assert!(!event.live);
}

#[test]
fn match_odds_maps_teams_and_draw() {
    let event = parse_match();
    let market = market(&event, MarketKind::MatchResult, Period::FullTime, None);
    assert_eq!(market.id.as_deref(), Some("1.250000001"));
    assert_eq!(
        names(market),
        [OutcomeName::Home, OutcomeName::Draw, OutcomeName::Away]
    );

    let home = outcome(market, OutcomeName::Home);
    assert_eq!(home.id.as_deref(), Some("1096"));
    assert_eq!(home.price, Some(price("2.12")));
    assert_eq!(home.status, OutcomeStatus::Open);
    assert_eq!(home.back, Some(level("2.12", "1520.37")));
    assert_eq!(home.lay, Some(level("2.14", "873.1")));

    let draw = outcome(market, OutcomeName::Draw);
    assert_eq!(draw.id.as_deref(), Some("58805"));
    assert_eq!(draw.price, Some(price("3.45")));
    assert_eq!(draw.lay, Some(level("3.5", "330.12")));

    let away = outcome(market, OutcomeName::Away);
    assert_eq!(away.id.as_deref(), Some("55190"));
    assert_eq!(away.price, Some(price("3.75")));
}

#[test]
fn half_time_is_first_half_result() {
    let event = parse_match();
    let market = market(&event, MarketKind::MatchResult, Period::FirstHalf, None);
    assert_eq!(market.id.as_deref(), Some("1.250000002"));
    assert_eq!(outcome(market, OutcomeName::Home).price, Some(price("2.9")));
    assert_eq!(
        outcome(market, OutcomeName::Draw).price,
        Some(price("2.26"))
    );
    assert_eq!(outcome(market, OutcomeName::Away).price, Some(price("4.6")));
}

#[test]
fn btts_maps_yes_and_no() {
    let event = parse_match();
    let market = market(&event, MarketKind::Btts, Period::FullTime, None);
    assert_eq!(market.id.as_deref(), Some("1.250000003"));
    let yes = outcome(market, OutcomeName::Yes);
    assert_eq!(yes.id.as_deref(), Some("30610"));
    assert_eq!(yes.back, Some(level("1.83", "950.2")));
    assert_eq!(yes.lay, Some(level("1.85", "410")));
    assert_eq!(outcome(market, OutcomeName::No).price, Some(price("2.16")));
}

#[test]
fn over_under_line_comes_from_type_code() {
    let event = parse_match();
    let full_time = market(
        &event,
        MarketKind::TotalGoals,
        Period::FullTime,
        Some("2.5"),
    );
    assert_eq!(full_time.id.as_deref(), Some("1.250000004"));
    assert_eq!(
        outcome(full_time, OutcomeName::Over).price,
        Some(price("1.97"))
    );
    assert_eq!(
        outcome(full_time, OutcomeName::Under).price,
        Some(price("2.02"))
    );

    let first_half = market(
        &event,
        MarketKind::TotalGoals,
        Period::FirstHalf,
        Some("0.5"),
    );
    assert_eq!(first_half.id.as_deref(), Some("1.250000005"));
    assert_eq!(
        outcome(first_half, OutcomeName::Over).price,
        Some(price("1.46"))
    );
    assert_eq!(
        outcome(first_half, OutcomeName::Under).price,
        Some(price("3.1"))
    );
}

#[test]
fn asian_handicap_line_is_home_handicap() {
    let event = parse_match();
    let lines: Vec<String> = event
        .markets
        .iter()
        .filter(|market| market.key.kind == MarketKind::AsianHandicap)
        .map(|market| market.key.line.unwrap().key_text())
        .collect();
    assert_eq!(lines, ["-0.75", "-0.5", "-0.25", "0"]);

    let quarter = market(
        &event,
        MarketKind::AsianHandicap,
        Period::FullTime,
        Some("-0.25"),
    );
    assert_eq!(quarter.id.as_deref(), Some("1.250000006"));
    let home = outcome(quarter, OutcomeName::Home);
    assert_eq!(home.back, Some(level("1.83", "300")));
    assert_eq!(home.lay, Some(level("1.86", "200")));
    let away = outcome(quarter, OutcomeName::Away);
    assert_eq!(away.back, Some(level("2.18", "250")));

    let level_ball = market(
        &event,
        MarketKind::AsianHandicap,
        Period::FullTime,
        Some("0"),
    );
    assert_eq!(
        outcome(level_ball, OutcomeName::Home).price,
        Some(price("1.55"))
    );
    assert_eq!(
        outcome(level_ball, OutcomeName::Away).price,
        Some(price("2.7"))
    );
}

#[test]
fn goal_lines_are_asian_totals() {
    let event = parse_match();
    let lines: Vec<String> = event
        .markets
        .iter()
        .filter(|market| market.key.kind == MarketKind::AsianTotal)
        .map(|market| market.key.line.unwrap().key_text())
        .collect();
    assert_eq!(lines, ["2.25", "2.5", "2.75"]);
    let quarter = market(
        &event,
        MarketKind::AsianTotal,
        Period::FullTime,
        Some("2.25"),
    );
    assert_eq!(quarter.id.as_deref(), Some("1.250000007"));
    assert_eq!(
        outcome(quarter, OutcomeName::Over).price,
        Some(price("1.98"))
    );
    assert_eq!(
        outcome(quarter, OutcomeName::Under).price,
        Some(price("1.95"))
    );
    assert_eq!(
        outcome(quarter, OutcomeName::Over).id.as_deref(),
        Some("6307")
    );
}

#[test]
fn odds_goal_lines_are_left_out() {
    // A goal lines market with half-goal lines only and no asian betting type is not
    // marked as asian, so it is no asian total (and no standard total either).
    let catalogue = edit(CATALOGUE, |value| {
        let market = &mut value["result"][6];
        market["description"]["bettingType"] = json!("ODDS");
        let runners = market["runners"].as_array_mut().unwrap();
        runners.retain(|runner| runner["handicap"] == json!(2.5));
    });
    let event = parse_one(&[&catalogue, BOOK], MarketSet::all());
    assert!(
        event
            .markets
            .iter()
            .all(|market| market.key.kind != MarketKind::AsianTotal),
        "{:#?}",
        event.markets
    );
}

#[test]
fn draw_no_bet_maps_team_names() {
    let event = parse_match();
    let market = market(&event, MarketKind::DrawNoBet, Period::FullTime, None);
    assert_eq!(market.id.as_deref(), Some("1.250000008"));
    assert_eq!(names(market), [OutcomeName::Home, OutcomeName::Away]);
    assert_eq!(
        outcome(market, OutcomeName::Home).price,
        Some(price("1.54"))
    );
    assert_eq!(
        outcome(market, OutcomeName::Away).price,
        Some(price("2.72"))
    );
}

#[test]
fn double_chance_maps_runner_names() {
    let event = parse_match();
    let market = market(&event, MarketKind::DoubleChance, Period::FullTime, None);
    assert_eq!(market.id.as_deref(), Some("1.250000009"));
    assert_eq!(
        names(market),
        [
            OutcomeName::HomeOrDraw,
            OutcomeName::DrawOrAway,
            OutcomeName::HomeOrAway
        ]
    );
    assert_eq!(
        outcome(market, OutcomeName::HomeOrDraw).price,
        Some(price("1.32"))
    );
    assert_eq!(
        outcome(market, OutcomeName::DrawOrAway).price,
        Some(price("1.8"))
    );
    assert_eq!(
        outcome(market, OutcomeName::HomeOrAway).price,
        Some(price("1.34"))
    );
}

#[test]
fn unmapped_types_are_left_out() {
    let event = parse_match();
    // The 14 markets are 1x2 ft and 1h, btts, two totals, four asian handicap lines,
    // three asian totals, draw no bet and double chance. Correct score is not mapped.
    assert_eq!(event.markets.len(), 14, "{:#?}", event.markets);
    assert!(
        event
            .markets
            .iter()
            .all(|market| market.id.as_deref() != Some("1.250000010"))
    );
}

#[test]
fn unrequested_kinds_are_left_out() {
    let event = parse_one(
        &[CATALOGUE, BOOK],
        MarketSet::from_kinds(&[MarketKind::Btts]),
    );
    assert_eq!(event.markets.len(), 1);
    assert_eq!(event.markets[0].key.kind, MarketKind::Btts);
}

#[test]
fn body_order_does_not_matter() {
    let forward = parse::parse(&[CATALOGUE, BOOK], MarketSet::all()).unwrap();
    let backward = parse::parse(&[BOOK, CATALOGUE], MarketSet::all()).unwrap();
    assert_eq!(forward, backward);
}

#[test]
fn catalogue_without_book_has_no_markets() {
    let event = parse_one(&[CATALOGUE], MarketSet::all());
    assert_eq!(event.event.id, "32510001");
    assert!(event.markets.is_empty());
}

#[test]
fn prices_serialize_exactly() {
    let event = parse_match();
    let market = market(&event, MarketKind::MatchResult, Period::FullTime, None);
    let json = serde_json::to_string(outcome(market, OutcomeName::Home)).unwrap();
    assert_eq!(
        json,
        r#"{"outcome":"home","price":2.12,"status":"open","id":"1096","back":{"price":2.12,"size":1520.37},"lay":{"price":2.14,"size":873.1}}"#
    );
}

#[test]
fn suspended_market_keeps_last_prices() {
    let event = parse_in_play();
    let market = market(&event, MarketKind::MatchResult, Period::FullTime, None);
    assert_eq!(market.id.as_deref(), Some("1.250000101"));
    for outcome in &market.outcomes {
        assert_eq!(outcome.status, OutcomeStatus::Suspended, "{outcome:?}");
        assert!(outcome.price.is_some(), "{outcome:?}");
    }
    let home = outcome(market, OutcomeName::Home);
    assert_eq!(home.price, Some(price("1.9")));
    assert_eq!(home.lay, Some(level("1.92", "140")));
}

#[test]
fn in_play_book_marks_event_live() {
    let event = parse_in_play();
    assert!(event.event.live);
    assert_eq!(
        event.event.competition.as_deref(),
        Some("English Championship")
    );
    assert_eq!(event.event.home.as_deref(), Some("Leeds"));
}

#[test]
fn open_market_in_play_is_open() {
    let event = parse_in_play();
    let market = market(&event, MarketKind::MatchResult, Period::FirstHalf, None);
    let away = outcome(market, OutcomeName::Away);
    assert_eq!(away.status, OutcomeStatus::Open);
    assert_eq!(away.back, Some(level("7.6", "12")));
}

#[test]
fn removed_runner_leaves_market_out() {
    let event = parse_in_play();
    assert!(find_market(&event, MarketKind::Btts, Period::FullTime, None).is_none());
}

#[test]
fn zero_level_and_empty_ladder_are_no_price() {
    let event = parse_in_play();
    let market = market(
        &event,
        MarketKind::TotalGoals,
        Period::FullTime,
        Some("2.5"),
    );
    let under = outcome(market, OutcomeName::Under);
    assert_eq!(under.price, None);
    assert_eq!(under.back, None);
    assert_eq!(under.lay, Some(level("1.57", "35.2")));
    assert_eq!(under.status, OutcomeStatus::Suspended);
    let over = outcome(market, OutcomeName::Over);
    assert_eq!(over.price, None);
    assert_eq!(over.back, None);
    assert_eq!(over.lay, None);
    assert_eq!(over.status, OutcomeStatus::Suspended);
}

#[test]
fn closed_market_is_left_out() {
    let event = parse_in_play();
    assert!(
        find_market(
            &event,
            MarketKind::TotalGoals,
            Period::FullTime,
            Some("0.5")
        )
        .is_none()
    );
}

#[test]
fn hidden_runner_leaves_its_line_out() {
    let event = parse_in_play();
    assert!(
        find_market(
            &event,
            MarketKind::AsianHandicap,
            Period::FullTime,
            Some("-0.5")
        )
        .is_none()
    );
    let remaining = market(
        &event,
        MarketKind::AsianHandicap,
        Period::FullTime,
        Some("-0.25"),
    );
    assert_eq!(
        outcome(remaining, OutcomeName::Home).price,
        Some(price("1.96"))
    );
    assert_eq!(
        outcome(remaining, OutcomeName::Away).price,
        Some(price("1.98"))
    );
}

#[test]
fn unknown_runner_leaves_market_out() {
    let catalogue = edit(CATALOGUE, |value| {
        value["result"][7]["runners"][1]["runnerName"] = json!("Tottenham");
    });
    let event = parse_one(&[&catalogue, BOOK], MarketSet::all());
    assert!(find_market(&event, MarketKind::DrawNoBet, Period::FullTime, None).is_none());
    assert!(find_market(&event, MarketKind::MatchResult, Period::FullTime, None).is_some());
}

#[test]
fn other_sports_have_no_markets() {
    let catalogue = edit(CATALOGUE, |value| {
        for market in value["result"].as_array_mut().unwrap() {
            market["eventType"] = json!({"id": "7522", "name": "Basketball"});
        }
    });
    let event = parse_one(&[&catalogue, BOOK], MarketSet::all());
    assert_eq!(event.event.sport.as_deref(), Some("basketball"));
    assert!(event.markets.is_empty());
}

#[test]
fn probe_gives_event_without_markets() {
    let event = parse_one(&[EMPTY_RESULT, PROBE], MarketSet::all());
    assert_eq!(event.event.id, "32510003");
    assert_eq!(event.event.home.as_deref(), Some("Wolves"));
    assert_eq!(event.event.away.as_deref(), Some("Fulham"));
    assert_eq!(
        event.event.competition.as_deref(),
        Some("English Premier League")
    );
    assert!(event.markets.is_empty());
}

#[test]
fn empty_results_describe_no_event() {
    let events = parse::parse(&[EMPTY_RESULT, EMPTY_RESULT], MarketSet::all()).unwrap();
    assert!(events.is_empty());
}

#[test]
fn session_error_is_session_expired() {
    let error = parse::parse(&[SESSION_ERROR], MarketSet::all()).unwrap_err();
    let Error::SessionExpired { code, variable, .. } = &error else {
        panic!("expected SessionExpired, got {error:?}");
    };
    assert_eq!(code, "INVALID_SESSION_INFORMATION");
    assert_eq!(*variable, "XTR_BETFAIR_SESSION_TOKEN");
    assert!(
        error
            .to_string()
            .contains("renew or correct XTR_BETFAIR_SESSION_TOKEN"),
        "{error}"
    );
}

#[test]
fn other_bodies_are_malformed() {
    let cases: [&[u8]; 5] = [
        b"<html>Service unavailable</html>",
        b"[]",
        br#"{"jsonrpc":"2.0","result":{"marketId":"1.1"},"id":1}"#,
        br#"{"jsonrpc":"2.0","result":[{"marketId":"1.1"}],"id":1}"#,
        br#"{"jsonrpc":"2.0","result":[{"marketId":"1.1","status":"OPEN","runners":[{"selectionId":1,"status":"ACTIVE","ex":{"availableToBack":[{"price":"x","size":1}]}}]}],"id":1}"#,
    ];
    for body in cases {
        let error = parse::parse(&[body], MarketSet::all()).unwrap_err();
        assert_eq!(error.kind(), "malformed", "{error}");
    }
}

#[test]
fn market_book_parses_alone() {
    let books = parse::parse_market_book(IN_PLAY_BOOK).unwrap();
    assert_eq!(books.len(), 6);
    let match_odds = &books[0];
    assert_eq!(match_odds.market_id, "1.250000101");
    assert_eq!(match_odds.status, MarketBookStatus::Suspended);
    assert!(match_odds.inplay);
    let closed = &books[3];
    assert_eq!(closed.status, MarketBookStatus::Closed);
    assert_eq!(closed.runners[1].status, RunnerStatus::Winner);
    let handicap = &books[4];
    assert_eq!(handicap.runners[1].status, RunnerStatus::Hidden);
    assert_eq!(handicap.runners[1].handicap, Some(line("0.5")));
    assert_eq!(handicap.runners[0].back, Some(level("2.3", "90")));
}

#[test]
fn market_book_rejects_catalogue() {
    let error = parse::parse_market_book(CATALOGUE).unwrap_err();
    assert_eq!(error.kind(), "malformed");
}

#[test]
fn event_list_splits_team_names() {
    let events = parse::parse_event_list(EVENTS).unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(events[0].id, "32510001");
    assert_eq!(events[0].sport.as_deref(), Some("football"));
    assert_eq!(events[0].home.as_deref(), Some("Arsenal"));
    assert_eq!(events[0].away.as_deref(), Some("Chelsea"));
    assert_eq!(events[0].start.unwrap().to_string(), "2026-03-14T15:00:00Z");
    assert_eq!(events[2].id, "30101920");
    assert_eq!(events[2].home, None);
    assert_eq!(events[2].away, None);
    assert!(
        conformance::check(
            &events
                .into_iter()
                .map(|event| EventMarkets {
                    event,
                    markets: Vec::new()
                })
                .collect::<Vec<_>>()
        )
        .is_empty()
    );
}

#[test]
fn fixtures_pass_conformance() {
    for fixture in FIXTURES {
        let events = parse::parse(fixture.bodies, MarketSet::all()).unwrap();
        assert!(!events.is_empty(), "{}", fixture.name);
        let problems = conformance::check(&events);
        assert!(problems.is_empty(), "{}: {problems:#?}", fixture.name);
    }
}
