//! Parser tests on the hand-made fixtures: one test per mapping rule, with the expected
//! values written out.

use xtr_core::conformance::check;
use xtr_core::{
    Error, EventMarkets, Line, Market, MarketKey, MarketKind, MarketSet, OutcomeName,
    OutcomeStatus, Period, Price, Timestamp,
};
use xtr_kambi::fixtures::{FIXTURES, bodies};
use xtr_kambi::{parse_bet_offers, parse_event_list};

use MarketKind::{
    AsianHandicap, AsianTotal, Btts, DoubleChance, DrawNoBet, MatchResult, TotalGoals,
};
use OutcomeName::{Away, Draw, DrawOrAway, Home, HomeOrAway, HomeOrDraw, No, Over, Under, Yes};
use Period::{FirstHalf, FullTime, SecondHalf};

fn parse_fixture(name: &str, markets: MarketSet) -> Vec<EventMarkets> {
    parse_bet_offers("unibet", bodies(name)[0], markets).expect("fixture parses")
}

/// Returns the single event of the `event_full` fixture with every kind requested.
fn full_event() -> EventMarkets {
    let mut events = parse_fixture("event_full", MarketSet::all());
    assert_eq!(events.len(), 1);
    events.remove(0)
}

fn line(text: &str) -> Line {
    text.parse().expect("line text")
}

fn price(text: &str) -> Option<Price> {
    Some(text.parse().expect("price text"))
}

fn key(kind: MarketKind, period: Period, line_text: Option<&str>) -> MarketKey {
    match line_text {
        Some(text) => MarketKey::with_line(kind, period, line(text)),
        None => MarketKey::new(kind, period),
    }
}

fn find<'a>(
    event: &'a EventMarkets,
    kind: MarketKind,
    period: Period,
    line_text: Option<&str>,
) -> &'a Market {
    let wanted = key(kind, period, line_text);
    event
        .markets
        .iter()
        .find(|market| market.key == wanted)
        .unwrap_or_else(|| panic!("no market {wanted:?} in {:#?}", event.markets))
}

/// Returns `(outcome, price, status, id)` of each outcome, in order.
fn outcomes(market: &Market) -> Vec<(OutcomeName, Option<Price>, OutcomeStatus, &str)> {
    market
        .outcomes
        .iter()
        .map(|outcome| {
            (
                outcome.outcome,
                outcome.price,
                outcome.status,
                outcome.id.as_deref().unwrap_or("-"),
            )
        })
        .collect()
}

fn open(
    name: OutcomeName,
    price_text: &str,
    id: &'static str,
) -> (OutcomeName, Option<Price>, OutcomeStatus, &'static str) {
    (name, price(price_text), OutcomeStatus::Open, id)
}

fn market_ids(event: &EventMarkets) -> Vec<&str> {
    event
        .markets
        .iter()
        .map(|market| market.id.as_deref().unwrap_or("-"))
        .collect()
}

fn keys_of(event: &EventMarkets, kind: MarketKind) -> Vec<MarketKey> {
    event
        .markets
        .iter()
        .filter(|market| market.key.kind == kind)
        .map(|market| market.key)
        .collect()
}

#[test]
fn event_fields() {
    let event = full_event().event;
    assert_eq!(event.id, "1007519027");
    assert_eq!(event.sport.as_deref(), Some("football"));
    assert_eq!(event.competition.as_deref(), Some("Eliteserien"));
    assert_eq!(event.home.as_deref(), Some("Rosenborg"));
    assert_eq!(event.away.as_deref(), Some("Viking"));
    assert_eq!(
        event.start,
        Some(Timestamp::parse("2021-06-12T16:00:00Z").unwrap())
    );
    assert!(!event.live);
}

#[test]
fn btts_three_periods() {
    let event = full_event();
    let ft = find(&event, Btts, FullTime, None);
    assert_eq!(ft.id.as_deref(), Some("2400000001"));
    assert_eq!(
        outcomes(ft),
        [
            open(Yes, "1.7", "3100000002"),
            open(No, "2.1", "3100000001")
        ]
    );

    let first = find(&event, Btts, FirstHalf, None);
    assert_eq!(first.id.as_deref(), Some("2400000002"));
    assert_eq!(
        outcomes(first),
        [
            open(Yes, "4.2", "3100000003"),
            open(No, "1.22", "3100000004")
        ]
    );

    let second = find(&event, Btts, SecondHalf, None);
    assert_eq!(second.id.as_deref(), Some("2400000003"));
    assert_eq!(
        outcomes(second),
        [
            open(Yes, "3.1", "3100000006"),
            open(No, "1.33", "3100000005")
        ]
    );
}

#[test]
fn changed_at_is_latest_outcome_change() {
    let event = full_event();
    let ft = find(&event, Btts, FullTime, None);
    assert_eq!(
        ft.changed_at,
        Some(Timestamp::parse("2021-06-12T09:15:00Z").unwrap())
    );
}

#[test]
fn btts_combinations_excluded() {
    let event = full_event();
    let btts = keys_of(&event, Btts);
    assert_eq!(
        btts,
        [
            key(Btts, FullTime, None),
            key(Btts, FirstHalf, None),
            key(Btts, SecondHalf, None)
        ]
    );
    let ids = market_ids(&event);

    // In both halves, draw and btts, team to win and btts, team to score in a half.
    for id in ["2400000004", "2400000005", "2400000006", "2400000037"] {
        assert!(!ids.contains(&id), "offer {id} leaked into {ids:?}");
    }
}

#[test]
fn match_result_three_periods() {
    let event = full_event();
    let ft = find(&event, MatchResult, FullTime, None);
    assert_eq!(ft.id.as_deref(), Some("2400000007"));
    assert_eq!(
        outcomes(ft),
        [
            open(Home, "1.8", "3100000014"),
            open(Draw, "3.7", "3100000015"),
            open(Away, "4.1", "3100000013")
        ]
    );

    let first = find(&event, MatchResult, FirstHalf, None);
    assert_eq!(first.id.as_deref(), Some("2400000008"));
    assert_eq!(
        outcomes(first),
        [
            open(Home, "2.45", "3100000016"),
            open(Draw, "2.2", "3100000017"),
            open(Away, "4.6", "3100000018")
        ]
    );

    let second = find(&event, MatchResult, SecondHalf, None);
    assert_eq!(second.id.as_deref(), Some("2400000009"));
    assert_eq!(
        outcomes(second),
        [
            open(Home, "2.3", "3100000020"),
            open(Draw, "2.6", "3100000019"),
            open(Away, "4", "3100000021")
        ]
    );
}

#[test]
fn total_goals_one_market_per_line() {
    let event = full_event();
    assert_eq!(
        keys_of(&event, TotalGoals),
        [
            key(TotalGoals, FullTime, Some("2.5")),
            key(TotalGoals, FullTime, Some("3.5")),
            key(TotalGoals, FullTime, Some("4.5")),
            key(TotalGoals, FirstHalf, Some("0.5")),
            key(TotalGoals, FirstHalf, Some("1.5")),
        ]
    );
    let main = find(&event, TotalGoals, FullTime, Some("2.5"));
    assert_eq!(main.id.as_deref(), Some("2400000010"));
    assert_eq!(
        outcomes(main),
        [
            open(Over, "1.85", "3100000022"),
            open(Under, "1.95", "3100000023")
        ]
    );

    let under_first = find(&event, TotalGoals, FullTime, Some("3.5"));
    assert_eq!(
        outcomes(under_first),
        [
            open(Over, "2.9", "3100000025"),
            open(Under, "1.4", "3100000024")
        ]
    );

    let half = find(&event, TotalGoals, FirstHalf, Some("0.5"));
    assert_eq!(half.id.as_deref(), Some("2400000013"));
    assert_eq!(
        outcomes(half),
        [
            open(Over, "1.33", "3100000028"),
            open(Under, "3.3", "3100000029")
        ]
    );
}

#[test]
fn suspended_outcome_without_odds() {
    let event = full_event();
    let market = find(&event, TotalGoals, FullTime, Some("4.5"));
    assert_eq!(market.id.as_deref(), Some("2400000012"));
    assert_eq!(
        outcomes(market),
        [
            open(Over, "6", "3100000026"),
            (Under, None, OutcomeStatus::Suspended, "3100000027")
        ]
    );
}

#[test]
fn whole_line_makes_criterion_asian() {
    let event = full_event();

    // "Total Goals - 2nd Half" offers 1.5 and 1.0, so both lines are asian totals.
    assert!(
        keys_of(&event, TotalGoals)
            .iter()
            .all(|key| key.period != SecondHalf)
    );

    let whole = find(&event, AsianTotal, SecondHalf, Some("1"));
    assert_eq!(whole.id.as_deref(), Some("2400000016"));
    assert_eq!(
        outcomes(whole),
        [
            open(Over, "1.57", "3100000034"),
            open(Under, "2.35", "3100000035")
        ]
    );

    let half = find(&event, AsianTotal, SecondHalf, Some("1.5"));
    assert_eq!(half.id.as_deref(), Some("2400000015"));
    assert_eq!(
        outcomes(half),
        [
            open(Over, "2.15", "3100000032"),
            open(Under, "1.66", "3100000033")
        ]
    );
}

#[test]
fn asian_total_lines() {
    let event = full_event();
    assert_eq!(
        keys_of(&event, AsianTotal),
        [
            key(AsianTotal, FullTime, Some("2.25")),
            key(AsianTotal, FullTime, Some("2.5")),
            key(AsianTotal, SecondHalf, Some("1")),
            key(AsianTotal, SecondHalf, Some("1.5")),
        ]
    );

    let quarter = find(&event, AsianTotal, FullTime, Some("2.25"));
    assert_eq!(quarter.id.as_deref(), Some("2400000017"));
    assert_eq!(
        outcomes(quarter),
        [
            open(Over, "1.66", "3100000036"),
            open(Under, "2.2", "3100000037")
        ]
    );

    // Kambi's "Asian Total" is asian even on a half line, next to the plain 2.5 total.
    let half = find(&event, AsianTotal, FullTime, Some("2.5"));
    assert_eq!(half.id.as_deref(), Some("2400000018"));
    assert_eq!(
        outcomes(half),
        [
            open(Over, "1.86", "3100000039"),
            open(Under, "1.96", "3100000038")
        ]
    );

    let plain = find(&event, TotalGoals, FullTime, Some("2.5"));
    assert_eq!(plain.id.as_deref(), Some("2400000010"));
}

#[test]
fn asian_handicap_home_lines() {
    let event = full_event();
    assert_eq!(
        keys_of(&event, AsianHandicap),
        [
            key(AsianHandicap, FullTime, Some("-0.25")),
            key(AsianHandicap, FullTime, Some("0")),
            key(AsianHandicap, FullTime, Some("0.75")),
            key(AsianHandicap, FirstHalf, Some("-0.5")),
        ]
    );

    let quarter = find(&event, AsianHandicap, FullTime, Some("-0.25"));
    assert_eq!(quarter.id.as_deref(), Some("2400000019"));
    assert_eq!(quarter.key.line.unwrap().key_text(), "-0.25");
    assert_eq!(
        outcomes(quarter),
        [
            open(Home, "1.9", "3100000040"),
            open(Away, "1.95", "3100000041")
        ]
    );

    let level = find(&event, AsianHandicap, FullTime, Some("0"));
    assert_eq!(
        outcomes(level),
        [
            open(Home, "1.55", "3100000044"),
            open(Away, "2.45", "3100000045")
        ]
    );
}

#[test]
fn asian_handicap_away_listed_first() {
    let event = full_event();

    // The away outcome comes first with its own line -0.75, so home is +0.75.
    let market = find(&event, AsianHandicap, FullTime, Some("0.75"));
    assert_eq!(market.id.as_deref(), Some("2400000020"));
    assert_eq!(
        outcomes(market),
        [
            open(Home, "1.48", "3100000043"),
            open(Away, "2.6", "3100000042")
        ]
    );

    let half = find(&event, AsianHandicap, FirstHalf, Some("-0.5"));
    assert_eq!(half.id.as_deref(), Some("2400000022"));
    assert_eq!(
        outcomes(half),
        [
            open(Home, "2.3", "3100000047"),
            open(Away, "1.62", "3100000046")
        ]
    );
}

#[test]
fn asian_handicap_by_participant_name() {
    let events = parse_fixture("several_events", MarketSet::all());

    let lillestrom = &events[1];
    assert_eq!(lillestrom.event.home.as_deref(), Some("Lillestrøm"));

    // The event has no participants[], so sides come from homeName and awayName.
    let market = find(lillestrom, AsianHandicap, FullTime, Some("-0.25"));
    assert_eq!(market.id.as_deref(), Some("2400100004"));
    assert_eq!(
        outcomes(market),
        [
            open(Home, "1.99", "3100000091"),
            open(Away, "1.83", "3100000090")
        ]
    );
}

#[test]
fn two_way_handicap_excluded() {
    let event = full_event();
    let ids = market_ids(&event);
    assert!(!ids.contains(&"2400000023"), "{ids:?}");

    // Neither the two-way handicap nor the 3-way handicap gives a -1 / +1 line.
    for text in ["-1", "1"] {
        let wanted = key(AsianHandicap, FullTime, Some(text));
        assert!(event.markets.iter().all(|market| market.key != wanted));
    }
}

#[test]
fn team_corner_card_totals_excluded() {
    let event = full_event();
    let mut total_ids: Vec<&str> = event
        .markets
        .iter()
        .filter(|market| matches!(market.key.kind, TotalGoals | AsianTotal))
        .map(|market| market.id.as_deref().unwrap())
        .collect();
    total_ids.sort_unstable();
    assert_eq!(
        total_ids,
        [
            "2400000010",
            "2400000011",
            "2400000012",
            "2400000013",
            "2400000014",
            "2400000015",
            "2400000016",
            "2400000017",
            "2400000018"
        ]
    );
}

#[test]
fn draw_no_bet_three_periods() {
    let event = full_event();
    let ft = find(&event, DrawNoBet, FullTime, None);
    assert_eq!(ft.id.as_deref(), Some("2400000028"));
    assert_eq!(
        outcomes(ft),
        [
            open(Home, "1.35", "3100000058"),
            open(Away, "3", "3100000059")
        ]
    );

    let first = find(&event, DrawNoBet, FirstHalf, None);
    assert_eq!(first.id.as_deref(), Some("2400000029"));
    assert_eq!(
        outcomes(first),
        [
            open(Home, "1.4", "3100000061"),
            open(Away, "2.85", "3100000060")
        ]
    );

    let second = find(&event, DrawNoBet, SecondHalf, None);
    assert_eq!(second.id.as_deref(), Some("2400000030"));
    assert_eq!(keys_of(&event, DrawNoBet).len(), 3);
}

#[test]
fn first_goal_no_bet_excluded() {
    let event = full_event();
    let ids = market_ids(&event);
    assert!(!ids.contains(&"2400000031"), "{ids:?}");
}

#[test]
fn double_chance_periods() {
    let event = full_event();
    let ft = find(&event, DoubleChance, FullTime, None);
    assert_eq!(ft.id.as_deref(), Some("2400000032"));
    assert_eq!(
        outcomes(ft),
        [
            open(HomeOrDraw, "1.2", "3100000067"),
            open(DrawOrAway, "1.9", "3100000068"),
            open(HomeOrAway, "1.3", "3100000066")
        ]
    );

    let first = find(&event, DoubleChance, FirstHalf, None);
    assert_eq!(first.id.as_deref(), Some("2400000033"));
}

#[test]
fn suspended_offer_suspends_outcomes() {
    let event = full_event();

    let second = find(&event, DoubleChance, SecondHalf, None);
    assert_eq!(second.id.as_deref(), Some("2400000034"));
    let suspended = OutcomeStatus::Suspended;
    assert_eq!(
        outcomes(second),
        [
            (HomeOrDraw, price("1.17"), suspended, "3100000073"),
            (DrawOrAway, price("1.62"), suspended, "3100000074"),
            (HomeOrAway, price("1.45"), suspended, "3100000072")
        ]
    );
}

#[test]
fn markets_of_full_event() {
    let event = full_event();

    // 3 btts, 3 1x2, 5 total goals, 4 asian totals, 4 asian handicaps, 3 dnb, 3 dc.
    assert_eq!(event.markets.len(), 25, "{:#?}", event.markets);
}

#[test]
fn requested_kinds_only() {
    let btts = parse_fixture("event_full", MarketSet::from_kinds(&[Btts]));
    assert!(btts[0].markets.iter().all(|market| market.key.kind == Btts));
    assert_eq!(btts[0].markets.len(), 3);

    // The whole 2nd-half line is still seen, so its criterion stays asian and is left
    // out of a total_goals request.
    let totals = parse_fixture("event_full", MarketSet::from_kinds(&[TotalGoals]));
    assert_eq!(
        keys_of(&totals[0], TotalGoals),
        keys_of(&full_event(), TotalGoals)
    );
    assert_eq!(totals[0].markets.len(), 5);

    let asian = parse_fixture("event_full", MarketSet::from_kinds(&[AsianTotal]));
    assert_eq!(keys_of(&asian[0], AsianTotal).len(), 4);
    assert_eq!(asian[0].markets.len(), 4);
}

#[test]
fn several_events_in_one_body() {
    let events = parse_fixture("several_events", MarketSet::all());
    let ids: Vec<&str> = events.iter().map(|event| event.event.id.as_str()).collect();
    assert_eq!(
        ids,
        ["1009200001", "1009200002", "1009200003", "1009200004"]
    );

    let bodo = &events[0];
    assert_eq!(bodo.event.home.as_deref(), Some("Bodø/Glimt"));
    assert_eq!(bodo.event.away.as_deref(), Some("Brann"));
    assert_eq!(market_ids(bodo), ["2400100003", "2400100001", "2400100005"]);
    assert_eq!(
        outcomes(find(bodo, MatchResult, FullTime, None)),
        [
            open(Home, "1.5", "3100000082"),
            open(Draw, "4.3", "3100000083"),
            open(Away, "5.6", "3100000084")
        ]
    );

    let lillestrom = &events[1];
    assert!(lillestrom.event.live);
    assert_eq!(market_ids(lillestrom), ["2400100002", "2400100004"]);
    assert_eq!(
        outcomes(find(lillestrom, MatchResult, FullTime, None)),
        [
            open(Home, "2.6", "3100000087"),
            open(Draw, "3.2", "3100000086"),
            open(Away, "2.7", "3100000085")
        ]
    );

    // Listed in events[] without offers.
    let stabaek = &events[2];
    assert_eq!(stabaek.event.home.as_deref(), Some("Stabæk"));
    assert!(stabaek.markets.is_empty());

    // Offers of an event that events[] lacks: the id only.
    let unlisted = &events[3];
    assert_eq!(unlisted.event.home, None);
    assert_eq!(unlisted.event.start, None);
    assert_eq!(market_ids(unlisted), ["2400100006"]);
}

#[test]
fn body_without_events() {
    let events = parse_fixture("offers_without_events", MarketSet::all());
    let ids: Vec<&str> = events.iter().map(|event| event.event.id.as_str()).collect();
    assert_eq!(ids, ["1009300001", "1009300002"]);

    let wales = &events[0];
    assert_eq!(wales.event.home, None);
    assert_eq!(wales.event.away, None);
    assert_eq!(wales.event.start, None);
    assert_eq!(wales.event.sport, None);
    assert_eq!(
        outcomes(find(wales, MatchResult, FullTime, None)),
        [
            open(Home, "6.4", "3100000097"),
            open(Draw, "4.1", "3100000098"),
            open(Away, "1.55", "3100000099")
        ]
    );
    assert_eq!(
        outcomes(find(wales, TotalGoals, FullTime, Some("2.5"))),
        [
            open(Over, "1.9", "3100000100"),
            open(Under, "1.9", "3100000101")
        ]
    );
    assert_eq!(wales.markets.len(), 2);

    // A two-way handicap, and an asian handicap whose sides cannot be matched to home
    // and away without the event's teams.
    assert!(events[1].markets.is_empty(), "{:#?}", events[1].markets);
}

#[test]
fn outcome_order_does_not_matter() {
    let body = bodies("event_full")[0];
    let mut value: serde_json::Value = serde_json::from_slice(body).unwrap();
    for offer in value["betOffers"].as_array_mut().unwrap() {
        offer["outcomes"].as_array_mut().unwrap().reverse();
    }
    let reversed = serde_json::to_vec(&value).unwrap();
    let events = parse_bet_offers("unibet", &reversed, MarketSet::all()).unwrap();
    assert_eq!(events, [full_event()]);
}

#[test]
fn offer_order_does_not_matter() {
    let body = bodies("event_full")[0];
    let mut value: serde_json::Value = serde_json::from_slice(body).unwrap();
    value["betOffers"].as_array_mut().unwrap().reverse();
    let reversed = serde_json::to_vec(&value).unwrap();
    let events = parse_bet_offers("unibet", &reversed, MarketSet::all()).unwrap();
    assert_eq!(events, [full_event()]);
}

#[test]
fn first_offer_of_a_key_wins() {
    let body = br#"{"betOffers": [
        {"id": 11, "eventId": 7, "criterion": {"id": 1001159858, "englishLabel": "Full Time"},
         "betOfferType": {"id": 2}, "outcomes": [
            {"id": 1, "type": "OT_ONE", "odds": 2000, "status": "OPEN"},
            {"id": 2, "type": "OT_CROSS", "odds": 3000, "status": "OPEN"},
            {"id": 3, "type": "OT_TWO", "odds": 4000, "status": "OPEN"}]},
        {"id": 12, "eventId": 7, "criterion": {"id": 1001159858, "englishLabel": "Full Time"},
         "betOfferType": {"id": 2}, "outcomes": [
            {"id": 4, "type": "OT_ONE", "odds": 2100, "status": "OPEN"},
            {"id": 5, "type": "OT_CROSS", "odds": 3100, "status": "OPEN"},
            {"id": 6, "type": "OT_TWO", "odds": 4100, "status": "OPEN"}]}
    ]}"#;
    let events = parse_bet_offers("unibet", body, MarketSet::all()).unwrap();
    assert_eq!(market_ids(&events[0]), ["11"]);
}

#[test]
fn incomplete_or_inconsistent_offers_left_out() {
    let offer = |criterion: &str, offer_type: u32, outcomes: &str| {
        format!(
            r#"{{"betOffers": [{{"id": 21, "eventId": 7, "criterion": {criterion},
               "betOfferType": {{"id": {offer_type}}}, "outcomes": {outcomes}}}]}}"#
        )
    };
    let btts = r#"{"id": 1001642858, "englishLabel": "Both Teams To Score"}"#;
    let totals = r#"{"id": 1001159926, "englishLabel": "Total Goals"}"#;
    let cases = [
        // yes without no
        offer(
            btts,
            18,
            r#"[{"id": 1, "type": "OT_YES", "odds": 1800, "status": "OPEN"}]"#,
        ),
        // yes twice
        offer(
            btts,
            18,
            r#"[{"id": 1, "type": "OT_YES", "odds": 1800, "status": "OPEN"},
                {"id": 2, "type": "OT_YES", "odds": 1900, "status": "OPEN"}]"#,
        ),
        // an outcome type the market does not have
        offer(
            btts,
            18,
            r#"[{"id": 1, "type": "OT_YES", "odds": 1800, "status": "OPEN"},
                {"id": 2, "type": "OT_NO", "odds": 1900, "status": "OPEN"},
                {"id": 3, "type": "OT_UNTYPED", "odds": 9000, "status": "OPEN"}]"#,
        ),
        // the right label with the shape of another market
        offer(
            btts,
            2,
            r#"[{"id": 1, "type": "OT_YES", "odds": 1800, "status": "OPEN"},
                {"id": 2, "type": "OT_NO", "odds": 1900, "status": "OPEN"}]"#,
        ),
        // a known criterion id whose label names another market
        offer(
            r#"{"id": 1001159926, "englishLabel": "Total Goals by Brann"}"#,
            6,
            r#"[{"id": 1, "type": "OT_OVER", "odds": 1800, "line": 1500, "status": "OPEN"},
                {"id": 2, "type": "OT_UNDER", "odds": 1900, "line": 1500, "status": "OPEN"}]"#,
        ),
        // two lines in one offer
        offer(
            totals,
            6,
            r#"[{"id": 1, "type": "OT_OVER", "odds": 1800, "line": 2500, "status": "OPEN"},
                {"id": 2, "type": "OT_UNDER", "odds": 1900, "line": 3500, "status": "OPEN"}]"#,
        ),
        // a line that is not a quarter goal
        offer(
            totals,
            6,
            r#"[{"id": 1, "type": "OT_OVER", "odds": 1800, "line": 2400, "status": "OPEN"},
                {"id": 2, "type": "OT_UNDER", "odds": 1900, "line": 2400, "status": "OPEN"}]"#,
        ),
        // a total without a line
        offer(
            totals,
            6,
            r#"[{"id": 1, "type": "OT_OVER", "odds": 1800, "status": "OPEN"},
                {"id": 2, "type": "OT_UNDER", "odds": 1900, "status": "OPEN"}]"#,
        ),
    ];
    for body in &cases {
        let events = parse_bet_offers("unibet", body.as_bytes(), MarketSet::all()).unwrap();
        assert_eq!(events.len(), 1, "{body}");
        assert!(
            events[0].markets.is_empty(),
            "{body}: {:#?}",
            events[0].markets
        );
    }
}

#[test]
fn outcomes_before_criterion_are_read() {
    // Kambi sends criterion and betOfferType first, but a body that does not is read too.
    let body = br#"{"betOffers": [
        {"outcomes": [
            {"id": 2, "type": "OT_NO", "odds": 2050, "status": "OPEN"},
            {"id": 1, "type": "OT_YES", "odds": 1750, "status": "OPEN"}],
         "id": 41, "eventId": 7,
         "criterion": {"id": 1001642858, "englishLabel": "Both Teams To Score"},
         "betOfferType": {"id": 18}},
        {"outcomes": [
            {"id": 3, "type": "OT_OVER", "odds": 1900, "line": 2500, "status": "OPEN"},
            {"id": 4, "type": "OT_UNDER", "odds": 1900, "line": 2500, "status": "OPEN"}],
         "betOfferType": {"id": 6},
         "criterion": {"id": 1001159529, "englishLabel": "Total Cards"},
         "id": 42, "eventId": 7}
    ]}"#;
    let events = parse_bet_offers("unibet", body, MarketSet::all()).unwrap();
    assert_eq!(market_ids(&events[0]), ["41"]);
    assert_eq!(
        outcomes(&events[0].markets[0]),
        [open(Yes, "1.75", "1"), open(No, "2.05", "2")]
    );
}

#[test]
fn more_outcomes_than_market_has_left_out() {
    let body = br#"{"betOffers": [{"id": 51, "eventId": 7,
        "criterion": {"id": 1001159858, "englishLabel": "Full Time"},
        "betOfferType": {"id": 2}, "outcomes": [
            {"id": 1, "type": "OT_ONE", "odds": 2000, "status": "OPEN"},
            {"id": 2, "type": "OT_CROSS", "odds": 3000, "status": "OPEN"},
            {"id": 3, "type": "OT_TWO", "odds": 4000, "status": "OPEN"},
            {"id": 4, "type": "OT_TWO", "odds": 4100, "status": "OPEN"}]}]}"#;
    let events = parse_bet_offers("unibet", body, MarketSet::all()).unwrap();
    assert!(events[0].markets.is_empty(), "{:#?}", events[0].markets);
}

#[test]
fn label_maps_unknown_criterion_id() {
    let body = br#"{"betOffers": [{"id": 31, "eventId": 7,
        "criterion": {"id": 1999999999, "englishLabel": "both teams to score - 2nd half"},
        "betOfferType": {"id": 18}, "outcomes": [
            {"id": 1, "type": "OT_YES", "odds": 2500, "status": "OPEN"},
            {"id": 2, "type": "OT_NO", "odds": 1500, "status": "OPEN"}]}]}"#;
    let events = parse_bet_offers("unibet", body, MarketSet::all()).unwrap();
    let market = find(&events[0], Btts, SecondHalf, None);
    assert_eq!(market.id.as_deref(), Some("31"));
}

#[test]
fn listing_body_yields_markets() {
    let events = parse_fixture("listview_football", MarketSet::all());
    let ids: Vec<&str> = events.iter().map(|event| event.event.id.as_str()).collect();
    assert_eq!(ids, ["1009400001", "1009400002", "1009400003"]);
    assert_eq!(market_ids(&events[0]), ["2400300001"]);

    // The outright names one "team": an event names both or neither.
    assert_eq!(events[1].event.home, None);
    assert_eq!(events[1].event.away, None);
    assert!(events[1].markets.is_empty());
    assert_eq!(
        outcomes(find(&events[2], MatchResult, FullTime, None)),
        [
            open(Home, "2.5", "3100000109"),
            open(Draw, "3.3", "3100000110"),
            open(Away, "2.9", "3100000111")
        ]
    );
}

#[test]
fn event_list_wrapped_entries() {
    let events = parse_event_list("unibet", bodies("listview_football")[0]).unwrap();
    assert_eq!(events.len(), 2);
    let celtic = &events[0];
    assert_eq!(celtic.id, "1009400001");
    assert_eq!(celtic.sport.as_deref(), Some("football"));
    assert_eq!(celtic.competition.as_deref(), Some("Premiership"));
    assert_eq!(celtic.home.as_deref(), Some("Celtic"));
    assert_eq!(celtic.away.as_deref(), Some("Rangers"));
    assert_eq!(
        celtic.start,
        Some(Timestamp::parse("2021-08-29T11:00:00Z").unwrap())
    );
    assert!(!celtic.live);
    assert_eq!(events[1].id, "1009400003");
    assert!(events[1].live);
}

#[test]
fn event_list_flat_entries() {
    let events = parse_event_list("unibet", bodies("listing_flat")[0]).unwrap();
    let ids: Vec<&str> = events.iter().map(|event| event.id.as_str()).collect();

    // The entry without awayName is an outright even without the COMPETITION tag.
    assert_eq!(ids, ["1009500001", "1009500002"]);

    // A start with an offset is converted to UTC.
    assert_eq!(
        events[1].start.map(|start| start.to_string()).as_deref(),
        Some("2021-06-20T16:00:00Z")
    );
    assert_eq!(events[1].away.as_deref(), Some("Strømsgodset"));
}

#[test]
fn malformed_bodies_rejected() {
    let cases: [&[u8]; 6] = [
        b"not json",
        b"[]",
        b"{}",
        br#"{"betOffers": 5}"#,
        br#"{"betOffers": [{"id": "x", "eventId": 1}]}"#,
        br#"{"betOffers": [{"id": 1, "eventId": 7,
            "criterion": {"id": 1001159858, "englishLabel": "Full Time"},
            "betOfferType": {"id": 2}, "outcomes": [{"id": 1, "odds": "high"}]}]}"#,
    ];
    for body in cases {
        let error = parse_bet_offers("unibet", body, MarketSet::all()).unwrap_err();
        assert!(
            matches!(error, Error::Malformed { .. }),
            "{}: {error}",
            String::from_utf8_lossy(body)
        );
        assert!(
            error.to_string().starts_with("unibet parse bet offers"),
            "{error}"
        );
    }
}

#[test]
fn kambi_error_body_is_malformed() {
    let body = br#"{"error": {"status": 404, "message": "Event not found"}}"#;
    let error = parse_bet_offers("unibet", body, MarketSet::all()).unwrap_err();
    assert!(matches!(error, Error::Malformed { .. }), "{error}");
    assert!(error.to_string().contains("Event not found"), "{error}");
}

#[test]
fn event_list_needs_events() {
    let error = parse_event_list("unibet", br#"{"betOffers": []}"#).unwrap_err();
    assert!(matches!(error, Error::Malformed { .. }), "{error}");
    assert!(
        error.to_string().starts_with("unibet parse event listing"),
        "{error}"
    );
}

#[test]
fn fixtures_pass_conformance() {
    for fixture in FIXTURES {
        for body in fixture.bodies {
            let events = parse_bet_offers("unibet", body, MarketSet::all()).unwrap();
            assert!(!events.is_empty(), "{}", fixture.name);
            let problems = check(&events);
            assert!(problems.is_empty(), "{}: {problems:#?}", fixture.name);
        }
    }
}
