//! Fetch tests against a local wiremock server: the request shape, replayed fixtures,
//! not-found responses, retries and the checks that run before any request.

use std::sync::Arc;

use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};
use xtr_core::config::Settings;
use xtr_core::{Error, Extractor, MarketKind, MarketSet, Registry, Timestamp, snapshot_records};

const ACCESS_ID: &str = "test-access-id";
const USER_AGENT: &str = "xtr-fetch-test";

const PREMATCH: &[u8] = include_bytes!("fixtures/fixture_view_prematch.json");
const LIVE: &[u8] = include_bytes!("fixtures/fixture_view_live.json");
const UNKNOWN: &[u8] = include_bytes!("fixtures/fixture_view_unknown.json");
const LISTING: &[u8] = include_bytes!("fixtures/fixtures_listing.json");

fn extractor(server: &MockServer, extra: &[(&str, &str)]) -> Arc<dyn Extractor> {
    let mut env = vec![
        ("XTR_BWIN_BASE_URL".to_owned(), server.uri()),
        ("XTR_USER_AGENT".to_owned(), USER_AGENT.to_owned()),
    ];
    env.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let mut registry = Registry::new();
    xtr_bwin::register(&mut registry);
    let settings = Settings::from_env(env, &registry.specs()).unwrap();
    Arc::clone(registry.build(&settings).unwrap().get("bwin").unwrap())
}

fn with_access_id(server: &MockServer) -> Arc<dyn Extractor> {
    extractor(server, &[("XTR_BWIN_ACCESS_ID", ACCESS_ID)])
}

fn json(body: &[u8]) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_vec(), "application/json")
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

#[tokio::test]
async fn fetch_sends_fixture_view_request() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/cds-api/bettingoffer/fixture-view"))
        .and(query_param("x-bwin-accessid", ACCESS_ID))
        .and(query_param("lang", "en"))
        .and(query_param("country", "GB"))
        .and(query_param("userCountry", "GB"))
        .and(query_param("offerMapping", "All"))
        .and(query_param("state", "Latest"))
        .and(query_param("fixtureIds", "2:11248701"))
        .and(header("user-agent", USER_AGENT))
        .respond_with(json(LIVE))
        .expect(1)
        .mount(&server)
        .await;

    let extractor = with_access_id(&server);
    let supported = extractor.capabilities().markets;
    let events = extractor.extract("2:11248701", supported).await.unwrap();

    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event.id, "2:11248701");
    let requested = MarketSet::from_kinds(&[MarketKind::MatchResult, MarketKind::DrawNoBet]);
    let records = snapshot_records("bwin", None, &events[0], requested, Timestamp::now());
    let suffixes: Vec<_> = records.iter().map(|r| r.key_suffix()).collect();
    assert_eq!(suffixes, ["1x2:ft:-", "draw_no_bet:ft:-"]);
    assert_eq!(records[0].outcomes.len(), 3);
    assert!(
        records[1].outcomes.is_empty(),
        "the live fixture's draw no bet is left out"
    );
}

#[tokio::test]
async fn fetch_query_is_exactly_the_documented_one() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(PREMATCH))
        .mount(&server)
        .await;
    with_access_id(&server)
        .fetch("11200001", MarketSet::all())
        .await
        .unwrap();

    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    let pairs: Vec<(String, String)> = received[0]
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let expected = [
        ("x-bwin-accessid", ACCESS_ID),
        ("lang", "en"),
        ("country", "GB"),
        ("userCountry", "GB"),
        ("offerMapping", "All"),
        ("state", "Latest"),
        ("fixtureIds", "11200001"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    assert_eq!(pairs, expected);
}

#[tokio::test]
async fn settings_change_the_request() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/brand/bettingoffer/fixture-view"))
        .and(query_param("lang", "en"))
        .and(query_param("country", "BE"))
        .and(query_param("userCountry", "BE"))
        .and(query_param("offerMapping", "Filtered"))
        .and(query_param("state", "Live"))
        .and(query_param("fixtureTypes", "Standard"))
        .and(query_param("fixtureIds", "11200001"))
        .respond_with(json(PREMATCH))
        .expect(1)
        .mount(&server)
        .await;

    let base = format!("{}/brand", server.uri());
    let extractor = extractor(
        &server,
        &[
            ("XTR_BWIN_BASE_URL", &base),
            ("XTR_BWIN_ACCESS_ID", ACCESS_ID),
            ("XTR_BWIN_COUNTRY", "BE"),
            ("XTR_BWIN_OFFER_MAPPING", "Filtered"),
            ("XTR_BWIN_API_PATH", "bettingoffer"),
            ("XTR_BWIN_EXTRA_QUERY", "state=Live&fixtureTypes=Standard"),
        ],
    );
    let bodies = extractor.fetch("11200001", MarketSet::all()).await.unwrap();
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0].as_ref(), PREMATCH);
}

#[tokio::test]
async fn reserved_extra_query_is_rejected() {
    let server = MockServer::start().await;
    let mut registry = Registry::new();
    xtr_bwin::register(&mut registry);
    let env = vec![
        ("XTR_BWIN_BASE_URL".to_owned(), server.uri()),
        ("XTR_BWIN_EXTRA_QUERY".to_owned(), "fixtureIds=1".to_owned()),
    ];
    let settings = Settings::from_env(env, &registry.specs()).unwrap();
    let error = registry.build(&settings).unwrap_err();
    assert!(
        matches!(&error, Error::InvalidConfig { variable, .. } if variable == "XTR_BWIN_EXTRA_QUERY"),
        "{error}"
    );
}

#[tokio::test]
async fn http_404_is_event_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    let error = with_access_id(&server)
        .fetch("11200001", MarketSet::all())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::EventNotFound { event, .. } if event == "11200001"),
        "{error}"
    );
    assert!(!error.to_string().contains(ACCESS_ID), "{error}");
}

#[tokio::test]
async fn null_fixture_is_event_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(UNKNOWN))
        .expect(1)
        .mount(&server)
        .await;
    let error = with_access_id(&server)
        .fetch("11200001", MarketSet::all())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::EventNotFound { .. }), "{error}");
}

#[tokio::test]
async fn server_errors_are_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(json(PREMATCH))
        .expect(1)
        .mount(&server)
        .await;
    let extractor = with_access_id(&server);
    let supported = extractor.capabilities().markets;
    let events = extractor.extract("11200001", supported).await.unwrap();
    assert_eq!(events[0].event.id, "11200001");
    assert_eq!(requests(&server).await, 3);
}

#[tokio::test]
async fn persistent_server_error_is_returned() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let error = with_access_id(&server)
        .fetch("11200001", MarketSet::all())
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Status { status: 500, .. }),
        "{error}"
    );
    assert_eq!(
        requests(&server).await,
        xtr_core::http::MAX_ATTEMPTS as usize
    );
}

#[tokio::test]
async fn missing_access_id_is_reported() {
    let server = MockServer::start().await;
    let extractor = extractor(&server, &[]);
    let error = extractor
        .fetch("11200001", MarketSet::all())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::MissingSetting { variable, .. } if variable == "XTR_BWIN_ACCESS_ID"),
        "{error}"
    );
    let error = extractor.list_events(None).await.unwrap_err();
    assert!(matches!(error, Error::MissingSetting { .. }), "{error}");
    assert_eq!(requests(&server).await, 0);
}

#[tokio::test]
async fn invalid_event_ids_send_nothing() {
    let server = MockServer::start().await;
    let extractor = with_access_id(&server);
    for id in [
        "", "abc", "1/2", "1:2:3", "..", "1 2", ":1", "1:", "1&x=2", "1%3A2", "٣",
    ] {
        let error = extractor.fetch(id, MarketSet::all()).await.unwrap_err();
        assert!(matches!(error, Error::InvalidJob { .. }), "{id:?}: {error}");
    }
    let long = "9".repeat(21);
    assert!(extractor.fetch(&long, MarketSet::all()).await.is_err());
    assert_eq!(requests(&server).await, 0);
}

#[tokio::test]
async fn list_events_sends_listing_request() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/cds-api/bettingoffer/fixtures"))
        .and(query_param("x-bwin-accessid", ACCESS_ID))
        .and(query_param("lang", "en"))
        .and(query_param("country", "GB"))
        .and(query_param("sportIds", "4"))
        .and(query_param("fixtureTypes", "Standard"))
        .and(query_param("state", "Latest"))
        .and(query_param("skip", "0"))
        .and(query_param("take", "50"))
        .respond_with(json(LISTING))
        .expect(1)
        .mount(&server)
        .await;
    let events = with_access_id(&server)
        .list_events(Some("football"))
        .await
        .unwrap();
    let ids: Vec<_> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["11196905", "11196908"]);
    assert_eq!(events[0].home.as_deref(), Some("Club Brugge"));
    assert_eq!(events[0].sport.as_deref(), Some("football"));
}

#[tokio::test]
async fn list_events_follows_pages() {
    let server = MockServer::start().await;
    let page = |first: usize, count: usize| {
        let fixtures: Vec<_> = (first..first + count)
            .map(|n| serde_json::json!({"id": n.to_string(), "participants": [], "games": []}))
            .collect();
        serde_json::to_vec(&serde_json::json!({"fixtures": fixtures, "totalCount": 60})).unwrap()
    };
    Mock::given(method("GET"))
        .and(query_param("skip", "0"))
        .respond_with(json(&page(0, 50)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("skip", "50"))
        .respond_with(json(&page(50, 10)))
        .expect(1)
        .mount(&server)
        .await;
    let events = with_access_id(&server).list_events(None).await.unwrap();
    assert_eq!(events.len(), 60);
    assert_eq!(events[59].id, "59");
}

#[tokio::test]
async fn list_events_rejects_other_sports() {
    let server = MockServer::start().await;
    let error = with_access_id(&server)
        .list_events(Some("tennis"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidJob { .. }), "{error}");
    assert_eq!(requests(&server).await, 0);
}
