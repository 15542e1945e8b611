//! Fetch tests against a local wiremock server: the request shape is asserted by the
//! mocks' matchers, the fixtures are replayed and snapshots come out.

use std::sync::Arc;

use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};
use xtr_core::config::Settings;
use xtr_core::{Error, Extractor, MarketKind, MarketSet, Registry, Timestamp, snapshot_records};

const PREMATCH_MATCHUPS: &[u8] = include_bytes!("fixtures/prematch_matchups.json");
const PREMATCH_MARKETS: &[u8] = include_bytes!("fixtures/prematch_markets.json");
const LEAGUE_MATCHUPS: &[u8] = include_bytes!("fixtures/league_matchups.json");
const FOOTBALL_LEAGUES: &[u8] = include_bytes!("fixtures/football_leagues.json");

const API_KEY: &str = "test-key-123";
const EVENT: &str = "1500000001";

/// Builds the registered extractor with the given variables, its base URL on `server`.
fn extractor(server: &MockServer, extra: &[(&str, &str)]) -> Arc<dyn Extractor> {
    let mut registry = Registry::new();
    xtr_pinnacle::register(&mut registry);
    let mut env = vec![(
        "XTR_PINNACLE_BASE_URL".to_owned(),
        format!("{}/0.1/", server.uri()),
    )];
    env.extend(
        extra
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned())),
    );
    let settings = Settings::from_env(env, &registry.specs()).unwrap();
    let extractors = registry.build(&settings).unwrap();
    extractors.get("pinnacle").unwrap().clone()
}

fn with_key(server: &MockServer) -> Arc<dyn Extractor> {
    extractor(server, &[("XTR_PINNACLE_API_KEY", API_KEY)])
}

async fn mount_event(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path(format!("/0.1/matchups/{EVENT}/related")))
        .and(header("X-API-Key", API_KEY))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(PREMATCH_MATCHUPS, "application/json"),
        )
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/0.1/matchups/{EVENT}/markets/related/straight"
        )))
        .and(header("X-API-Key", API_KEY))
        .respond_with(ResponseTemplate::new(200).set_body_raw(PREMATCH_MARKETS, "application/json"))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn fetch_sends_both_requests_with_key() {
    let server = MockServer::start().await;
    mount_event(&server).await;
    let extractor = with_key(&server);

    let bodies = extractor.fetch(EVENT, MarketSet::all()).await.unwrap();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0].as_ref(), PREMATCH_MATCHUPS);
    assert_eq!(bodies[1].as_ref(), PREMATCH_MARKETS);
}

#[tokio::test]
async fn extract_gives_snapshots() {
    let server = MockServer::start().await;
    mount_event(&server).await;
    let extractor = with_key(&server);

    let requested = MarketSet::from_kinds(&[MarketKind::Btts, MarketKind::MatchResult]);
    let events = extractor.extract(EVENT, requested).await.unwrap();
    assert_eq!(events.len(), 1);
    let observed = Timestamp::parse("2024-03-10T12:00:00Z").unwrap();
    let records = snapshot_records("pinnacle", None, &events[0], requested, observed);
    let suffixes: Vec<_> = records.iter().map(|record| record.key_suffix()).collect();
    assert_eq!(suffixes, ["btts:ft:-", "btts:1h:-", "1x2:ft:-", "1x2:1h:-"]);

    let json = serde_json::to_value(&records[0]).unwrap();
    assert_eq!(json["bookmaker"], "pinnacle");
    assert_eq!(json["event"]["id"], "1500000001");
    assert_eq!(json["event"]["home"], "Gent");
    assert_eq!(json["market"]["id"], "1500000010");
    assert_eq!(json["status"], "offered");
    assert_eq!(
        json["outcomes"],
        serde_json::json!([
            {"outcome": "yes", "price": 1.8333, "status": "open", "id": "1500000011"},
            {"outcome": "no", "price": 1.9524, "status": "open", "id": "1500000012"}
        ])
    );
}

#[tokio::test]
async fn not_found_status_is_event_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_string(
            r#"{"detail":"Matchup not found","status":404,"title":"Not Found","type":"about:blank"}"#,
        ))
        .mount(&server)
        .await;
    let extractor = with_key(&server);

    let error = extractor.fetch("999", MarketSet::all()).await.unwrap_err();
    assert!(
        matches!(&error, Error::EventNotFound { event, .. } if event == "999"),
        "{error:?}"
    );
}

#[tokio::test]
async fn empty_related_list_is_event_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("[]"))
        .mount(&server)
        .await;
    let extractor = with_key(&server);

    let error = extractor.fetch("999", MarketSet::all()).await.unwrap_err();
    assert!(matches!(error, Error::EventNotFound { .. }), "{error:?}");
}

#[tokio::test]
async fn server_error_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/0.1/matchups/{EVENT}/related")))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    mount_event(&server).await;
    let extractor = with_key(&server);

    let events = extractor.extract(EVENT, MarketSet::all()).await.unwrap();
    assert_eq!(events[0].event.id, EVENT);
}

#[tokio::test]
async fn missing_key_is_missing_setting() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("[]"))
        .expect(0)
        .mount(&server)
        .await;
    let extractor = extractor(&server, &[]);

    let error = extractor.fetch(EVENT, MarketSet::all()).await.unwrap_err();
    match error {
        Error::MissingSetting { variable, .. } => assert_eq!(variable, "XTR_PINNACLE_API_KEY"),
        other => panic!("expected MissingSetting, got {other:?}"),
    }
}

#[tokio::test]
async fn invalid_event_id_sends_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("[]"))
        .expect(0)
        .mount(&server)
        .await;
    let extractor = with_key(&server);

    for id in ["../1", "1/markets", "abc", ""] {
        let error = extractor.fetch(id, MarketSet::all()).await.unwrap_err();
        assert!(
            matches!(error, Error::InvalidJob { .. }),
            "{id:?}: {error:?}"
        );
    }
}

#[tokio::test]
async fn key_not_in_debug_output() {
    let server = MockServer::start().await;
    let extractor = with_key(&server);
    let debug = format!("{extractor:?}");
    assert!(!debug.contains(API_KEY), "{debug}");
}

#[tokio::test]
async fn list_reads_leagues_then_matchups() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/0.1/sports/29/leagues"))
        .and(query_param("all", "false"))
        .and(header("X-API-Key", API_KEY))
        .respond_with(ResponseTemplate::new(200).set_body_raw(FOOTBALL_LEAGUES, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/0.1/leagues/1817/matchups"))
        .and(header("X-API-Key", API_KEY))
        .respond_with(ResponseTemplate::new(200).set_body_raw(LEAGUE_MATCHUPS, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    // The Premier League is in the list but closed before its matchups were read.
    Mock::given(method("GET"))
        .and(path("/0.1/leagues/1981/matchups"))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    let extractor = with_key(&server);

    let events = extractor.list_events(Some("football")).await.unwrap();
    let ids: Vec<_> = events.iter().map(|event| event.id.as_str()).collect();
    assert_eq!(ids, ["1500000301", "1500000401"]);
    assert_eq!(
        events[0].competition.as_deref(),
        Some("Belgium - First Division A")
    );
    // The corners league (6486) and the league without matchups (1980) were not read.
    // A request to either would have found no mock, so the listing would have failed.
}

#[tokio::test]
async fn list_limits_leagues() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/0.1/sports/29/leagues"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(FOOTBALL_LEAGUES, "application/json"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/0.1/leagues/1817/matchups"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(LEAGUE_MATCHUPS, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let extractor = extractor(
        &server,
        &[
            ("XTR_PINNACLE_API_KEY", API_KEY),
            ("XTR_PINNACLE_MAX_LEAGUES", "1"),
        ],
    );

    let events = extractor.list_events(None).await.unwrap();
    assert_eq!(events.len(), 2);
}

#[tokio::test]
async fn list_named_leagues_only() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/0.1/leagues/1817/matchups"))
        .and(header("X-API-Key", API_KEY))
        .respond_with(ResponseTemplate::new(200).set_body_raw(LEAGUE_MATCHUPS, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    // A league named twice is read once; no league list is requested.
    let extractor = extractor(
        &server,
        &[
            ("XTR_PINNACLE_API_KEY", API_KEY),
            ("XTR_PINNACLE_LEAGUES", "1817, 1817"),
        ],
    );

    let events = extractor.list_events(Some("football")).await.unwrap();
    assert_eq!(events.len(), 2);
}

#[tokio::test]
async fn list_other_sport_rejected() {
    let server = MockServer::start().await;
    let extractor = with_key(&server);
    let error = extractor.list_events(Some("tennis")).await.unwrap_err();
    assert!(matches!(error, Error::InvalidJob { .. }), "{error:?}");
}

#[tokio::test]
async fn invalid_settings_rejected() {
    let server = MockServer::start().await;
    let mut registry = Registry::new();
    xtr_pinnacle::register(&mut registry);
    let cases = [
        ("XTR_PINNACLE_MAX_LEAGUES", "0"),
        ("XTR_PINNACLE_MAX_LEAGUES", "many"),
        ("XTR_PINNACLE_LEAGUES", "1817,premier"),
        ("XTR_PINNACLE_API_KEY", "bad\nkey"),
    ];
    for (name, value) in cases {
        let env = vec![
            ("XTR_PINNACLE_BASE_URL".to_owned(), server.uri()),
            (name.to_owned(), value.to_owned()),
        ];
        let settings = Settings::from_env(env, &registry.specs()).unwrap();
        match registry.build(&settings) {
            Err(Error::InvalidConfig { variable, .. }) => assert_eq!(variable, name),
            other => panic!("{name}={value:?}: expected InvalidConfig, got {other:?}"),
        }
    }
}
