//! Fetch tests against a local wiremock server: the mocks match only the real request
//! shape (method, path, headers and the exact JSON-RPC body), so a request that drifts
//! from it gets wiremock's 404 and fails the test.

use std::sync::Arc;

use serde_json::{Value, json};
use wiremock::matchers::{body_json, body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use xtr_core::config::Settings;
use xtr_core::{Error, Extractor, MarketKind, MarketSet, Registry, Timestamp, snapshot_records};

const CATALOGUE: &[u8] = include_bytes!("fixtures/catalogue.json");
const BOOK: &[u8] = include_bytes!("fixtures/book.json");
const EMPTY_RESULT: &[u8] = include_bytes!("fixtures/empty_result.json");
const PROBE: &[u8] = include_bytes!("fixtures/probe_catalogue.json");
const SESSION_ERROR: &[u8] = include_bytes!("fixtures/session_error.json");
const EVENTS: &[u8] = include_bytes!("fixtures/events.json");

const ENDPOINT: &str = "/exchange/betting/json-rpc/v1";
const APP_KEY: &str = "app-key-7f3a";
const SESSION_TOKEN: &str = "session-token-91bd";
const EVENT_ID: &str = "32510001";

const ALL_CODES: [&str; 22] = [
    "BOTH_TEAMS_TO_SCORE",
    "MATCH_ODDS",
    "HALF_TIME",
    "SECOND_HALF_MATCH_ODDS",
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
    "SECOND_HALF_GOALS_05",
    "SECOND_HALF_GOALS_15",
    "ASIAN_HANDICAP",
    "ALT_TOTAL_GOALS",
    "DRAW_NO_BET",
    "DOUBLE_CHANCE",
];

fn build(env: Vec<(&str, String)>) -> Arc<dyn Extractor> {
    let mut registry = Registry::new();
    xtr_betfair::register(&mut registry);
    let env = env
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value));
    let settings = Settings::from_env(env, &registry.specs()).unwrap();
    let extractors = registry.build(&settings).unwrap();
    Arc::clone(extractors.get("betfair").unwrap())
}

fn base_url(server: &MockServer) -> String {
    format!("{}/exchange/betting/json-rpc/v1", server.uri())
}

fn extractor(server: &MockServer) -> Arc<dyn Extractor> {
    build(vec![
        ("XTR_BETFAIR_BASE_URL", base_url(server)),
        ("XTR_BETFAIR_APP_KEY", APP_KEY.to_owned()),
        ("XTR_BETFAIR_SESSION_TOKEN", SESSION_TOKEN.to_owned()),
    ])
}

/// Builds a mock of one JSON-RPC call with the required headers and exactly `body`.
fn rpc(body: Value) -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path(ENDPOINT))
        .and(header("X-Application", APP_KEY))
        .and(header("X-Authentication", SESSION_TOKEN))
        .and(header("Accept", "application/json"))
        .and(header("Content-Type", "application/json"))
        .and(body_json(body))
}

fn response(body: &[u8]) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_vec(), "application/json")
}

fn catalogue_request(codes: &[&str]) -> Value {
    catalogue_request_of(EVENT_ID, codes)
}

fn catalogue_request_of(event_id: &str, codes: &[&str]) -> Value {
    json!({
        "jsonrpc": "2.0",
        "method": "SportsAPING/v1.0/listMarketCatalogue",
        "params": {
            "filter": {"eventIds": [event_id], "marketTypeCodes": codes},
            "marketProjection": [
                "EVENT",
                "EVENT_TYPE",
                "COMPETITION",
                "MARKET_START_TIME",
                "MARKET_DESCRIPTION",
                "RUNNER_DESCRIPTION",
                "RUNNER_METADATA"
            ],
            "maxResults": 100
        },
        "id": 1
    })
}

fn book_request() -> Value {
    let ids: Vec<String> = (1..=10).map(|n| format!("1.2500000{n:02}")).collect();
    json!({
        "jsonrpc": "2.0",
        "method": "SportsAPING/v1.0/listMarketBook",
        "params": {
            "marketIds": ids,
            "priceProjection": {
                "priceData": ["EX_BEST_OFFERS"],
                "exBestOffersOverrides": {"bestPricesDepth": 1}
            }
        },
        "id": 1
    })
}

fn probe_request(event_id: &str) -> Value {
    json!({
        "jsonrpc": "2.0",
        "method": "SportsAPING/v1.0/listMarketCatalogue",
        "params": {
            "filter": {"eventIds": [event_id]},
            "marketProjection": ["EVENT", "EVENT_TYPE", "COMPETITION", "MARKET_START_TIME"],
            "maxResults": 1
        },
        "id": 1
    })
}

/// Mounts a mock that any request matches and that expects none, for tests where no
/// request may be sent.
async fn no_requests(server: &MockServer) {
    Mock::given(method("POST"))
        .respond_with(response(EMPTY_RESULT))
        .expect(0)
        .mount(server)
        .await;
}

#[tokio::test]
async fn fetch_sends_catalogue_then_book() {
    let server = MockServer::start().await;
    rpc(catalogue_request(&ALL_CODES))
        .respond_with(response(CATALOGUE))
        .expect(1)
        .mount(&server)
        .await;
    rpc(book_request())
        .respond_with(response(BOOK))
        .expect(1)
        .mount(&server)
        .await;

    let extractor = extractor(&server);
    let responses = extractor.fetch(EVENT_ID, MarketSet::all()).await.unwrap();
    assert_eq!(responses.len(), 2);
    assert_eq!(responses[0].as_ref(), CATALOGUE);
    assert_eq!(responses[1].as_ref(), BOOK);
}

#[tokio::test]
async fn extract_publishes_snapshots() {
    let server = MockServer::start().await;
    rpc(catalogue_request(&ALL_CODES))
        .respond_with(response(CATALOGUE))
        .mount(&server)
        .await;
    rpc(book_request())
        .respond_with(response(BOOK))
        .mount(&server)
        .await;

    let extractor = extractor(&server);
    let events = extractor.extract(EVENT_ID, MarketSet::all()).await.unwrap();
    assert_eq!(events.len(), 1);
    let observed = Timestamp::parse("2026-03-14T14:00:00Z").unwrap();
    let records = snapshot_records("betfair", None, &events[0], MarketSet::all(), observed);
    let suffixes: Vec<String> = records.iter().map(|record| record.key_suffix()).collect();
    assert_eq!(
        suffixes,
        [
            "btts:ft:-",
            "1x2:ft:-",
            "1x2:1h:-",
            "total_goals:ft:2.5",
            "total_goals:1h:0.5",
            "asian_total:ft:2.25",
            "asian_total:ft:2.5",
            "asian_total:ft:2.75",
            "asian_handicap:ft:-0.75",
            "asian_handicap:ft:-0.5",
            "asian_handicap:ft:-0.25",
            "asian_handicap:ft:0",
            "draw_no_bet:ft:-",
            "double_chance:ft:-",
        ]
    );
    let btts = serde_json::to_string(&records[0]).unwrap();
    assert!(btts.contains(r#""bookmaker":"betfair""#), "{btts}");
    assert!(
        btts.contains(r#""market":{"kind":"btts","period":"ft","line":null,"id":"1.250000003"}"#),
        "{btts}"
    );
    assert!(
        btts.contains(r#"{"outcome":"yes","price":1.83,"status":"open","id":"30610","back":{"price":1.83,"size":950.2},"lay":{"price":1.85,"size":410}}"#),
        "{btts}"
    );
}

#[tokio::test]
async fn requested_kinds_pick_type_codes() {
    let server = MockServer::start().await;
    let codes = ["BOTH_TEAMS_TO_SCORE", "DRAW_NO_BET"];
    rpc(catalogue_request(&codes))
        .respond_with(response(EMPTY_RESULT))
        .expect(1)
        .mount(&server)
        .await;
    rpc(probe_request(EVENT_ID))
        .respond_with(response(PROBE))
        .expect(1)
        .mount(&server)
        .await;

    let extractor = extractor(&server);
    let markets = MarketSet::from_kinds(&[MarketKind::Btts, MarketKind::DrawNoBet]);
    let events = extractor.extract(EVENT_ID, markets).await.unwrap();
    // The event exists but offers neither kind: it comes back without markets, and the
    // worker publishes both kinds as not offered.
    assert_eq!(events.len(), 1);
    assert!(events[0].markets.is_empty());
    let records = snapshot_records("betfair", None, &events[0], markets, Timestamp::now());
    assert_eq!(records.len(), 2);
    for record in &records {
        assert_eq!(record.status, xtr_core::MarketStatus::NotOffered);
    }
}

#[tokio::test]
async fn unknown_event_is_not_found() {
    let server = MockServer::start().await;
    let codes = ["MATCH_ODDS", "HALF_TIME", "SECOND_HALF_MATCH_ODDS"];
    rpc(catalogue_request_of("99999999", &codes))
        .respond_with(response(EMPTY_RESULT))
        .expect(1)
        .mount(&server)
        .await;
    rpc(probe_request("99999999"))
        .respond_with(response(EMPTY_RESULT))
        .expect(1)
        .mount(&server)
        .await;

    let extractor = extractor(&server);
    let markets = MarketSet::from_kinds(&[MarketKind::MatchResult]);
    let error = extractor.fetch("99999999", markets).await.unwrap_err();
    let Error::EventNotFound { event, .. } = &error else {
        panic!("expected EventNotFound, got {error:?}");
    };
    assert_eq!(event, "99999999");
}

#[tokio::test]
async fn expired_session_names_token_variable() {
    let server = MockServer::start().await;
    rpc(catalogue_request(&ALL_CODES))
        .respond_with(response(SESSION_ERROR))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(body_partial_json(
        json!({"method": "SportsAPING/v1.0/listMarketBook"}),
    ))
    .respond_with(response(BOOK))
    .expect(0)
    .mount(&server)
    .await;

    let extractor = extractor(&server);
    let error = extractor
        .fetch(EVENT_ID, MarketSet::all())
        .await
        .unwrap_err();
    let Error::SessionExpired { code, variable, .. } = &error else {
        panic!("expected SessionExpired, got {error:?}");
    };
    assert_eq!(code, "INVALID_SESSION_INFORMATION");
    assert_eq!(*variable, "XTR_BETFAIR_SESSION_TOKEN");
    assert!(!error.is_transient());
    let message = error.to_string();
    assert!(!message.contains(SESSION_TOKEN), "{message}");
    assert!(!message.contains(APP_KEY), "{message}");
}

#[tokio::test]
async fn busy_exchange_is_transient() {
    let server = MockServer::start().await;
    let busy = br#"{"jsonrpc":"2.0","error":{"code":-32099,"message":"ANGX-0010","data":{"APINGException":{"requestUUID":"x","errorCode":"SERVICE_BUSY","errorDetails":""},"exceptionname":"APINGException"}},"id":1}"#;
    rpc(catalogue_request(&ALL_CODES))
        .respond_with(response(busy))
        .expect(1)
        .mount(&server)
        .await;

    let extractor = extractor(&server);
    let error = extractor
        .fetch(EVENT_ID, MarketSet::all())
        .await
        .unwrap_err();
    assert!(error.is_transient(), "{error:?}");
    assert!(error.to_string().contains("SERVICE_BUSY"), "{error}");
}

#[tokio::test]
async fn server_error_is_retried() {
    let server = MockServer::start().await;
    rpc(catalogue_request(&ALL_CODES))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    rpc(catalogue_request(&ALL_CODES))
        .respond_with(response(CATALOGUE))
        .expect(1)
        .mount(&server)
        .await;
    rpc(book_request())
        .respond_with(response(BOOK))
        .expect(1)
        .mount(&server)
        .await;

    let extractor = extractor(&server);
    let responses = extractor.fetch(EVENT_ID, MarketSet::all()).await.unwrap();
    assert_eq!(responses.len(), 2);
}

#[tokio::test]
async fn http_404_is_a_status_error() {
    // Every call goes to one endpoint, so a 404 means a wrong base URL rather than an
    // unknown event: it stays an HTTP status error and is not retried.
    let server = MockServer::start().await;
    rpc(catalogue_request(&ALL_CODES))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;

    let extractor = extractor(&server);
    let error = extractor
        .fetch(EVENT_ID, MarketSet::all())
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Status { status: 404, .. }),
        "{error:?}"
    );
    assert!(!error.is_transient());
}

#[tokio::test]
async fn missing_app_key_names_variable() {
    let server = MockServer::start().await;
    no_requests(&server).await;
    let extractor = build(vec![
        ("XTR_BETFAIR_BASE_URL", base_url(&server)),
        ("XTR_BETFAIR_SESSION_TOKEN", SESSION_TOKEN.to_owned()),
    ]);
    let error = extractor
        .fetch(EVENT_ID, MarketSet::all())
        .await
        .unwrap_err();
    let Error::MissingSetting { variable, .. } = &error else {
        panic!("expected MissingSetting, got {error:?}");
    };
    assert_eq!(variable, "XTR_BETFAIR_APP_KEY");
}

#[tokio::test]
async fn missing_session_token_names_variable() {
    let server = MockServer::start().await;
    no_requests(&server).await;
    let extractor = build(vec![
        ("XTR_BETFAIR_BASE_URL", base_url(&server)),
        ("XTR_BETFAIR_APP_KEY", APP_KEY.to_owned()),
    ]);
    let error = extractor
        .fetch(EVENT_ID, MarketSet::all())
        .await
        .unwrap_err();
    let Error::MissingSetting { variable, .. } = &error else {
        panic!("expected MissingSetting, got {error:?}");
    };
    assert_eq!(variable, "XTR_BETFAIR_SESSION_TOKEN");
    let error = extractor.list_events(None).await.unwrap_err();
    assert_eq!(error.kind(), "missing_setting");
}

#[tokio::test]
async fn invalid_event_id_sends_nothing() {
    let server = MockServer::start().await;
    no_requests(&server).await;
    let extractor = extractor(&server);
    for id in ["", "abc", "1.250000001", "../1", "32510001/x", "3251 0001"] {
        let error = extractor.fetch(id, MarketSet::all()).await.unwrap_err();
        assert_eq!(error.kind(), "invalid_job", "{id:?}: {error:?}");
        let error = extractor.extract(id, MarketSet::all()).await.unwrap_err();
        assert_eq!(error.kind(), "invalid_job", "{id:?}: {error:?}");
    }
}

#[tokio::test]
async fn list_events_asks_for_soccer() {
    let server = MockServer::start().await;
    rpc(json!({
        "jsonrpc": "2.0",
        "method": "SportsAPING/v1.0/listEvents",
        "params": {"filter": {"eventTypeIds": ["1"]}},
        "id": 1
    }))
    .respond_with(response(EVENTS))
    .expect(2)
    .mount(&server)
    .await;

    let extractor = extractor(&server);
    let events = extractor.list_events(None).await.unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(events[1].id, "32510002");
    assert_eq!(events[1].home.as_deref(), Some("Leeds"));
    assert_eq!(events[1].away.as_deref(), Some("Burnley"));
    let events = extractor.list_events(Some("football")).await.unwrap();
    assert_eq!(events.len(), 3);
}

#[tokio::test]
async fn list_events_rejects_other_sports() {
    let server = MockServer::start().await;
    no_requests(&server).await;
    let extractor = extractor(&server);
    let error = extractor.list_events(Some("tennis")).await.unwrap_err();
    assert_eq!(error.kind(), "invalid_job");
    assert!(error.to_string().contains("\"tennis\""), "{error}");
}

#[tokio::test]
async fn debug_output_hides_credentials() {
    let server = MockServer::start().await;
    let extractor = extractor(&server);
    let debug_text = format!("{extractor:?}");
    assert!(!debug_text.contains(APP_KEY), "{debug_text}");
    assert!(!debug_text.contains(SESSION_TOKEN), "{debug_text}");
    assert!(debug_text.contains("<redacted>"), "{debug_text}");
}

#[test]
fn capabilities_declare_an_exchange() {
    let extractor = build(Vec::new());
    let capabilities = extractor.capabilities();
    assert!(capabilities.exchange);
    assert_eq!(capabilities.markets, MarketSet::all());
    assert_eq!(capabilities.responses, ["catalogue", "book"]);
    assert_eq!(capabilities.sports, ["football"]);
    assert_eq!(extractor.name(), "betfair");
}
