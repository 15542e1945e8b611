//! Parser tests: one per mapping rule, over the hand-made fixtures.

use xtr_core::conformance::check;
use xtr_core::{
    Error, EventMarkets, Line, Market, MarketKind, MarketSet, OutcomeName, OutcomeStatus, Period,
    Price, Timestamp,
};
use xtr_pinnacle::fixtures::FIXTURES;
use xtr_pinnacle::parse::parse;

const PREMATCH_MATCHUPS: &[u8] = include_bytes!("fixtures/prematch_matchups.json");
const PREMATCH_MARKETS: &[u8] = include_bytes!("fixtures/prematch_markets.json");
const LIVE_MATCHUPS: &[u8] = include_bytes!("fixtures/live_matchups.json");
const LIVE_MARKETS: &[u8] = include_bytes!("fixtures/live_markets.json");
const LEAGUE_MATCHUPS: &[u8] = include_bytes!("fixtures/league_matchups.json");

fn prematch() -> EventMarkets {
    let mut events = parse(&[PREMATCH_MATCHUPS, PREMATCH_MARKETS], MarketSet::all()).unwrap();
    assert_eq!(events.len(), 1, "one regular matchup");
    events.remove(0)
}

fn live() -> EventMarkets {
    let mut events = parse(&[LIVE_MATCHUPS, LIVE_MARKETS], MarketSet::all()).unwrap();
    assert_eq!(events.len(), 1, "one regular matchup");
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

fn lines(event: &EventMarkets, kind: MarketKind, period: Period) -> Vec<String> {
    event
        .markets
        .iter()
        .filter(|market| market.key.kind == kind && market.key.period == period)
        .map(|market| market.key.line.unwrap().key_text())
        .collect()
}

#[test]
fn event_from_regular_matchup() {
    let event = prematch().event;
    assert_eq!(event.id, "1500000001");
    assert_eq!(event.home.as_deref(), Some("Gent"));
    assert_eq!(event.away.as_deref(), Some("Anderlecht"));
    assert_eq!(
        event.competition.as_deref(),
        Some("Belgium - First Division A")
    );
    assert_eq!(event.sport.as_deref(), Some("football"));
    assert_eq!(
        event.start,
        Some(Timestamp::parse("2024-03-10T15:00:00Z").unwrap())
    );
    assert!(!event.live);
}

#[test]
fn moneyline_is_match_result() {
    let event = prematch();
    let full_time = market(&event, MarketKind::MatchResult, Period::FullTime, None);
    assert_eq!(
        prices(&full_time),
        [
            (OutcomeName::Home, price("2.5")),
            (OutcomeName::Draw, price("3.4")),
            (OutcomeName::Away, price("2.75")),
        ]
    );
    let first_half = market(&event, MarketKind::MatchResult, Period::FirstHalf, None);
    assert_eq!(
        prices(&first_half),
        [
            (OutcomeName::Home, price("3.2")),
            (OutcomeName::Draw, price("2.25")),
            (OutcomeName::Away, price("3.6")),
        ]
    );
}

#[test]
fn american_prices_round_half_up() {
    let event = prematch();
    // -105 is 1 + 100/105 = 1.95238..., -140 is 1.714285...
    let handicap = market(
        &event,
        MarketKind::AsianHandicap,
        Period::FullTime,
        Some("-0.25"),
    );
    assert_eq!(
        prices(&handicap),
        [
            (OutcomeName::Home, price("1.9524")),
            (OutcomeName::Away, price("1.9524"))
        ]
    );
    let level = market(
        &event,
        MarketKind::AsianHandicap,
        Period::FullTime,
        Some("0"),
    );
    assert_eq!(
        prices(&level),
        [
            (OutcomeName::Home, price("1.7143")),
            (OutcomeName::Away, price("2.18"))
        ]
    );
}

#[test]
fn spread_line_is_home_points() {
    let event = prematch();
    assert_eq!(
        lines(&event, MarketKind::AsianHandicap, Period::FullTime),
        ["-0.5", "-0.25", "0"]
    );
    let alternate = market(
        &event,
        MarketKind::AsianHandicap,
        Period::FullTime,
        Some("-0.5"),
    );
    assert_eq!(
        prices(&alternate),
        [
            (OutcomeName::Home, price("2.08")),
            (OutcomeName::Away, price("1.8"))
        ]
    );
    let first_half = market(
        &event,
        MarketKind::AsianHandicap,
        Period::FirstHalf,
        Some("0"),
    );
    assert_eq!(
        prices(&first_half),
        [
            (OutcomeName::Home, price("1.8333")),
            (OutcomeName::Away, price("2"))
        ]
    );
}

#[test]
fn half_goal_totals_are_total_goals() {
    let event = prematch();
    assert_eq!(
        lines(&event, MarketKind::TotalGoals, Period::FullTime),
        ["1.5", "2.5"]
    );
    assert_eq!(
        lines(&event, MarketKind::TotalGoals, Period::FirstHalf),
        ["0.5"]
    );
    let main = market(
        &event,
        MarketKind::TotalGoals,
        Period::FullTime,
        Some("2.5"),
    );
    assert_eq!(
        prices(&main),
        [
            (OutcomeName::Over, price("1.9091")),
            (OutcomeName::Under, price("1.9804"))
        ]
    );
    let alternate = market(
        &event,
        MarketKind::TotalGoals,
        Period::FullTime,
        Some("1.5"),
    );
    assert_eq!(
        prices(&alternate),
        [
            (OutcomeName::Over, price("1.3333")),
            (OutcomeName::Under, price("3.4"))
        ]
    );
}

#[test]
fn quarter_and_whole_totals_are_asian() {
    let event = prematch();
    assert_eq!(
        lines(&event, MarketKind::AsianTotal, Period::FullTime),
        ["2.75", "3"]
    );
    assert_eq!(
        lines(&event, MarketKind::AsianTotal, Period::FirstHalf),
        ["1"]
    );
    let quarter = market(
        &event,
        MarketKind::AsianTotal,
        Period::FullTime,
        Some("2.75"),
    );
    assert_eq!(
        prices(&quarter),
        [
            (OutcomeName::Over, price("2.2")),
            (OutcomeName::Under, price("1.6897"))
        ]
    );
    let whole = market(&event, MarketKind::AsianTotal, Period::FirstHalf, Some("1"));
    assert_eq!(
        prices(&whole),
        [
            (OutcomeName::Over, price("1.8696")),
            (OutcomeName::Under, price("1.9524"))
        ]
    );
}

#[test]
fn team_totals_left_out() {
    let event = prematch();
    // The away team total on 0.5 has no match total beside it.
    assert!(
        find(
            &event,
            MarketKind::TotalGoals,
            Period::FullTime,
            Some("0.5")
        )
        .is_none()
    );
    // The home team total on 1.5 shares its line with the match total, whose prices win.
    let total = market(
        &event,
        MarketKind::TotalGoals,
        Period::FullTime,
        Some("1.5"),
    );
    assert_eq!(total.id.as_deref(), Some("s;0;ou;1.5"));
    assert_eq!(total.outcomes[0].price, price("1.3333"));
}

#[test]
fn corners_matchup_left_out() {
    let event = prematch();
    assert!(
        find(
            &event,
            MarketKind::TotalGoals,
            Period::FullTime,
            Some("10.5")
        )
        .is_none()
    );
    assert!(
        find(
            &event,
            MarketKind::TotalGoals,
            Period::FirstHalf,
            Some("4.5")
        )
        .is_none()
    );
    assert!(
        find(
            &event,
            MarketKind::AsianHandicap,
            Period::FullTime,
            Some("-1.5")
        )
        .is_none()
    );
    // The corners moneyline and 2.5 total come first in the body; the match's own win.
    let result = market(&event, MarketKind::MatchResult, Period::FullTime, None);
    assert_eq!(result.outcomes[0].price, price("2.5"));
    let total = market(
        &event,
        MarketKind::TotalGoals,
        Period::FullTime,
        Some("2.5"),
    );
    assert_eq!(total.outcomes[0].price, price("1.9091"));
}

#[test]
fn btts_from_specials_by_participant() {
    let event = prematch();
    let full_time = market(&event, MarketKind::Btts, Period::FullTime, None);
    assert_eq!(full_time.id.as_deref(), Some("1500000010"));
    assert_eq!(
        prices(&full_time),
        [
            (OutcomeName::Yes, price("1.8333")),
            (OutcomeName::No, price("1.9524"))
        ]
    );
    let ids: Vec<_> = full_time.outcomes.iter().map(|o| o.id.as_deref()).collect();
    assert_eq!(ids, [Some("1500000011"), Some("1500000012")]);

    // The first-half prices are listed No first; the participant ids decide.
    let first_half = market(&event, MarketKind::Btts, Period::FirstHalf, None);
    assert_eq!(first_half.id.as_deref(), Some("1500000020"));
    assert_eq!(
        prices(&first_half),
        [
            (OutcomeName::Yes, price("4")),
            (OutcomeName::No, price("1.2222"))
        ]
    );
}

#[test]
fn btts_lookalikes_left_out() {
    let event = prematch();
    let btts: Vec<_> = event
        .markets
        .iter()
        .filter(|market| market.key.kind == MarketKind::Btts)
        .map(|market| market.id.clone().unwrap())
        .collect();
    // Not "Both To Score/Total Goals", "Either Team To Score" or "Gent To Score".
    assert_eq!(btts, ["1500000010", "1500000020"]);
}

#[test]
fn draw_no_bet_by_team_name() {
    let event = prematch();
    let full_time = market(&event, MarketKind::DrawNoBet, Period::FullTime, None);
    assert_eq!(
        prices(&full_time),
        [
            (OutcomeName::Home, price("1.6061")),
            (OutcomeName::Away, price("2.25"))
        ]
    );
    let first_half = market(&event, MarketKind::DrawNoBet, Period::FirstHalf, None);
    assert_eq!(
        prices(&first_half),
        [
            (OutcomeName::Home, price("1.9091")),
            (OutcomeName::Away, price("1.8696"))
        ]
    );
    let ids: Vec<_> = first_half
        .outcomes
        .iter()
        .map(|o| o.id.as_deref())
        .collect();
    assert_eq!(ids, [Some("1500000041"), Some("1500000042")]);
}

#[test]
fn double_chance_by_team_names() {
    let event = prematch();
    let full_time = market(&event, MarketKind::DoubleChance, Period::FullTime, None);
    assert_eq!(
        prices(&full_time),
        [
            (OutcomeName::HomeOrDraw, price("1.3333")),
            (OutcomeName::DrawOrAway, price("1.625")),
            (OutcomeName::HomeOrAway, price("1.3571")),
        ]
    );
    let first_half = market(&event, MarketKind::DoubleChance, Period::FirstHalf, None);
    assert_eq!(
        prices(&first_half),
        [
            (OutcomeName::HomeOrDraw, price("1.2222")),
            (OutcomeName::DrawOrAway, price("1.2857")),
            (OutcomeName::HomeOrAway, price("2.4")),
        ]
    );
}

#[test]
fn three_way_handicap_not_match_result() {
    let event = prematch();
    let results: Vec<_> = event
        .markets
        .iter()
        .filter(|market| market.key.kind == MarketKind::MatchResult)
        .map(|market| market.id.clone().unwrap())
        .collect();
    assert_eq!(results, ["s;0;m", "s;1;m"]);
}

#[test]
fn markets_unique_and_sorted() {
    let event = prematch();
    let keys: Vec<_> = event.markets.iter().map(|market| market.key).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted);
    // 2 match results, 4 handicaps, 3 + 3 totals, 2 btts, 2 draw no bet, 2 double chance.
    assert_eq!(keys.len(), 18);
}

#[test]
fn live_flag_from_matchup() {
    let event = live().event;
    assert_eq!(event.id, "1500000201");
    assert!(event.live);
    assert_eq!(event.home.as_deref(), Some("Club Brugge"));
}

#[test]
fn offline_period_suspends_its_markets() {
    let event = live();
    let first_half = market(&event, MarketKind::MatchResult, Period::FirstHalf, None);
    for outcome in &first_half.outcomes {
        assert_eq!(
            outcome.status,
            OutcomeStatus::Suspended,
            "{:?}",
            outcome.outcome
        );
    }
    assert_eq!(first_half.outcomes[0].price, price("4"));
}

#[test]
fn closed_market_status_suspends() {
    let event = live();
    let total = market(
        &event,
        MarketKind::TotalGoals,
        Period::FullTime,
        Some("3.5"),
    );
    assert_eq!(
        prices(&total),
        [
            (OutcomeName::Over, price("2.05")),
            (OutcomeName::Under, price("1.8"))
        ]
    );
    for outcome in &total.outcomes {
        assert_eq!(outcome.status, OutcomeStatus::Suspended);
    }
}

#[test]
fn null_price_is_suspended() {
    let event = live();
    let result = market(&event, MarketKind::MatchResult, Period::FullTime, None);
    let statuses: Vec<_> = result
        .outcomes
        .iter()
        .map(|outcome| (outcome.outcome, outcome.price, outcome.status))
        .collect();
    assert_eq!(
        statuses,
        [
            (OutcomeName::Home, price("1.8333"), OutcomeStatus::Open),
            (OutcomeName::Draw, price("3.5"), OutcomeStatus::Open),
            (OutcomeName::Away, None, OutcomeStatus::Suspended),
        ]
    );
}

#[test]
fn special_market_of_other_period_left_out() {
    let event = live();
    // "Both Teams To Score 1st Half" priced as period 0 is not a first-half market.
    assert!(find(&event, MarketKind::Btts, Period::FirstHalf, None).is_none());
    assert!(find(&event, MarketKind::Btts, Period::FullTime, None).is_some());
}

#[test]
fn unmirrored_spread_left_out() {
    let event = live();
    assert_eq!(
        lines(&event, MarketKind::AsianHandicap, Period::FullTime),
        ["-0.75"]
    );
}

#[test]
fn invalid_american_price_leaves_market_out() {
    let event = live();
    assert!(
        find(
            &event,
            MarketKind::TotalGoals,
            Period::FullTime,
            Some("4.5")
        )
        .is_none()
    );
}

#[test]
fn requested_kinds_only() {
    let requested = MarketSet::from_kinds(&[MarketKind::Btts, MarketKind::AsianTotal]);
    let events = parse(&[PREMATCH_MATCHUPS, PREMATCH_MARKETS], requested).unwrap();
    let kinds: Vec<_> = events[0]
        .markets
        .iter()
        .map(|market| market.key.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            MarketKind::Btts,
            MarketKind::Btts,
            MarketKind::AsianTotal,
            MarketKind::AsianTotal,
            MarketKind::AsianTotal,
        ]
    );
}

#[test]
fn body_order_does_not_matter() {
    let forward = parse(&[PREMATCH_MATCHUPS, PREMATCH_MARKETS], MarketSet::all()).unwrap();
    let reversed = parse(&[PREMATCH_MARKETS, PREMATCH_MATCHUPS], MarketSet::all()).unwrap();
    assert_eq!(forward, reversed);
}

#[test]
fn league_body_lists_regular_matchups() {
    let events = parse(&[LEAGUE_MATCHUPS], MarketSet::all()).unwrap();
    let teams: Vec<_> = events
        .iter()
        .map(|entry| {
            (
                entry.event.id.as_str(),
                entry.event.home.as_deref().unwrap(),
                entry.event.away.as_deref().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        teams,
        [
            ("1500000301", "Standard Liege", "Mechelen"),
            ("1500000401", "Cercle Brugge", "Westerlo"),
        ]
    );
    assert!(events.iter().all(|entry| entry.markets.is_empty()));
}

#[test]
fn empty_bodies_describe_nothing() {
    assert_eq!(parse(&[b"[]", b" [ ] "], MarketSet::all()).unwrap(), []);
    let events = parse(&[PREMATCH_MATCHUPS, b"[]"], MarketSet::all()).unwrap();
    assert_eq!(events.len(), 1);
    assert!(events[0].markets.is_empty());
}

#[test]
fn malformed_bodies_rejected() {
    let bad_time: &[u8] = br#"[{"id": 1, "type": "matchup", "units": "Regular",
        "startTime": "soon", "participants": [
        {"alignment": "home", "name": "A"}, {"alignment": "away", "name": "B"}]}]"#;
    let cases: [(&[&[u8]], &str); 8] = [
        (&[bad_time], "invalid startTime \"soon\""),
        (&[b"{\"status\": 404}"], "expected a JSON array"),
        (&[b"not json"], "expected"),
        (&[b"[1, 2]"], "invalid type"),
        (&[b"[{\"id\": 1}]"], "neither `matchupId`"),
        (
            &[PREMATCH_MATCHUPS, PREMATCH_MATCHUPS],
            "two matchups bodies",
        ),
        (&[], "got 0 bodies"),
        (&[b"[]", b"[]", b"[]"], "got 3 bodies"),
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
