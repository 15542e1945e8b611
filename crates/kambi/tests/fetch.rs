//! Fetch tests against a local wiremock server: the mocks' matchers assert the request
//! shape, the fixtures are replayed, and the parsed snapshots are checked.

use std::sync::Arc;

use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};
use xtr_core::config::{BookmakerSpec, Settings};
use xtr_core::registry::Extractors;
use xtr_core::{
    Error, Extractor, MarketKind, MarketSet, MarketStatus, Registry, Timestamp, snapshot_records,
};
use xtr_kambi::KambiExtractor;
use xtr_kambi::fixtures::bodies;

const EVENT_ID: &str = "1007519027";
const EVENT_PATH: &str = "/offering/v2018/ub/betoffer/event/1007519027.json";

fn registry() -> Registry {
    let mut registry = Registry::new();
    xtr_kambi::register(&mut registry);
    registry
}

fn build(env: &[(&str, &str)]) -> Result<Extractors, Error> {
    let registry = registry();
    let env = env
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()));
    let settings = Settings::from_env(env, &registry.specs())?;
    registry.build(&settings)
}

fn unibet(base_url: &str) -> Arc<dyn Extractor> {
    let extractors = build(&[("XTR_UNIBET_BASE_URL", base_url)]).expect("extractors build");
    extractors
        .get("unibet")
        .expect("unibet is registered")
        .clone()
}

fn event_body() -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "application/json")
        .set_body_bytes(bodies("event_full")[0])
}

async fn request_count(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .map_or(0, |requests| requests.len())
}

#[test]
fn brands_registered_as_bookmakers() {
    let registry = registry();
    let names: Vec<&str> = registry
        .registrations()
        .iter()
        .map(|registration| registration.spec.name)
        .collect();
    assert_eq!(names, ["888sport", "leovegas", "unibet"]);
    for registration in registry.registrations() {
        assert_eq!(registration.platform, "kambi");
        assert_eq!(
            registration.spec.default_base_url,
            Some("https://eu-offering-api.kambicdn.com")
        );
        let settings: Vec<(&str, Option<&str>)> = registration
            .spec
            .settings
            .iter()
            .map(|setting| (setting.name, setting.default))
            .collect();
        let brand = match registration.spec.name {
            "unibet" => "ub",
            "888sport" => "888",
            _ => "leo",
        };
        assert_eq!(
            settings,
            [
                ("BRAND", Some(brand)),
                ("LANG", Some("en_GB")),
                ("MARKET", Some("GB"))
            ]
        );
    }
}

#[tokio::test]
async fn fetch_event_and_snapshot() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(EVENT_PATH))
        .and(query_param("lang", "en_GB"))
        .and(query_param("market", "GB"))
        .and(query_param("includeParticipants", "true"))
        .respond_with(event_body())
        .expect(1)
        .mount(&server)
        .await;

    let extractor = unibet(&server.uri());
    let requested = MarketSet::from_kinds(&[MarketKind::Btts, MarketKind::AsianHandicap]);
    let events = extractor.extract(EVENT_ID, requested).await.unwrap();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.event.id, EVENT_ID);

    let observed = Timestamp::parse("2021-06-12T10:00:00Z").unwrap();
    let records = snapshot_records("unibet", None, event, requested, observed);
    // 3 btts periods and 4 asian handicap lines, every one offered.
    assert_eq!(records.len(), 7);
    assert!(
        records
            .iter()
            .all(|record| record.status == MarketStatus::Offered)
    );
    let suffixes: Vec<String> = records.iter().map(|record| record.key_suffix()).collect();
    assert_eq!(
        suffixes,
        [
            "btts:ft:-",
            "btts:1h:-",
            "btts:2h:-",
            "asian_handicap:ft:-0.25",
            "asian_handicap:ft:0",
            "asian_handicap:ft:0.75",
            "asian_handicap:1h:-0.5"
        ]
    );
    let json = serde_json::to_string(&records[0]).unwrap();
    let expected_market = r#""market":{"kind":"btts","period":"ft","line":null,"id":"2400000001"}"#;
    assert!(json.contains(expected_market), "{json}");
    let expected_outcomes = concat!(
        r#""outcomes":[{"outcome":"yes","price":1.7,"status":"open","id":"3100000002"},"#,
        r#"{"outcome":"no","price":2.1,"status":"open","id":"3100000001"}]"#
    );
    assert!(json.contains(expected_outcomes), "{json}");
    assert!(
        json.contains(r#""changed_at":"2021-06-12T09:15:00Z""#),
        "{json}"
    );
}

#[tokio::test]
async fn unknown_event_is_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(EVENT_PATH))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_string(r#"{"error":{"status":404,"message":"Not found"}}"#),
        )
        .mount(&server)
        .await;

    let error = unibet(&server.uri())
        .fetch(EVENT_ID, MarketSet::all())
        .await
        .unwrap_err();
    match &error {
        Error::EventNotFound { context, event } => {
            assert_eq!(event, EVENT_ID);
            assert_eq!(context.bookmaker, "unibet");
            assert_eq!(context.operation, "fetch event");
        }
        other => panic!("expected EventNotFound, got {other:?}"),
    }
    assert!(!error.is_transient());
    // A 404 is final: no retry.
    let requests = server.received_requests().await.unwrap_or_default();
    let received: Vec<String> = requests
        .iter()
        .map(|request| format!("{} {}", request.method, request.url))
        .collect();
    assert_eq!(requests.len(), 1, "{received:?}");
}

#[tokio::test]
async fn server_error_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(EVENT_PATH))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(EVENT_PATH))
        .respond_with(event_body())
        .with_priority(2)
        .mount(&server)
        .await;

    let events = unibet(&server.uri())
        .extract(EVENT_ID, MarketSet::from_kinds(&[MarketKind::Btts]))
        .await
        .unwrap();
    assert_eq!(events[0].markets.len(), 3);
    assert_eq!(request_count(&server).await, 2);
}

#[tokio::test]
async fn invalid_event_id_sends_nothing() {
    let server = MockServer::start().await;
    let extractor = unibet(&server.uri());
    for id in ["10a", "1/2", "..", "", "1007519027.json", "1%2F2"] {
        let error = extractor.fetch(id, MarketSet::all()).await.unwrap_err();
        assert!(matches!(error, Error::InvalidJob { .. }), "{id:?}: {error}");
        let error = extractor.extract(id, MarketSet::all()).await.unwrap_err();
        assert!(matches!(error, Error::InvalidJob { .. }), "{id:?}: {error}");
    }
    assert_eq!(request_count(&server).await, 0);
}

#[tokio::test]
async fn base_url_path_prefix_is_kept() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/kambi{EVENT_PATH}")))
        .and(query_param("lang", "en_GB"))
        .and(query_param("market", "GB"))
        .respond_with(event_body())
        .expect(1)
        .mount(&server)
        .await;

    let extractor = unibet(&format!("{}/kambi", server.uri()));
    let responses = extractor.fetch(EVENT_ID, MarketSet::all()).await.unwrap();
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0].as_ref(), bodies("event_full")[0]);
}

#[tokio::test]
async fn brand_lang_market_configurable() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/offering/v2018/888/betoffer/event/1007519027.json"))
        .and(query_param("lang", "sv_SE"))
        .and(query_param("market", "SE"))
        .respond_with(event_body())
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/offering/v2018/leoes/betoffer/event/1007519027.json"))
        .and(query_param("lang", "en_GB"))
        .and(query_param("market", "GB"))
        .respond_with(event_body())
        .expect(1)
        .mount(&server)
        .await;

    let uri = server.uri();
    let extractors = build(&[
        ("XTR_888SPORT_BASE_URL", &uri),
        ("XTR_888SPORT_LANG", "sv_SE"),
        ("XTR_888SPORT_MARKET", "SE"),
        ("XTR_LEOVEGAS_BASE_URL", &uri),
        ("XTR_LEOVEGAS_BRAND", "leoes"),
    ])
    .unwrap();
    for name in ["888sport", "leovegas"] {
        let extractor = extractors.get(name).unwrap();
        assert_eq!(extractor.name(), name);
        let events = extractor.extract(EVENT_ID, MarketSet::all()).await.unwrap();
        assert_eq!(events[0].markets.len(), 25, "{name}");
    }
}

#[tokio::test]
async fn malformed_body_is_reported() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(EVENT_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>maintenance</html>"))
        .mount(&server)
        .await;

    let error = unibet(&server.uri())
        .extract(EVENT_ID, MarketSet::all())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Malformed { .. }), "{error}");
}

#[tokio::test]
async fn list_events_default_sport() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/offering/v2018/ub/listView/football.json"))
        .and(query_param("lang", "en_GB"))
        .and(query_param("market", "GB"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(bodies("listview_football")[0]))
        .expect(1)
        .mount(&server)
        .await;

    let events = unibet(&server.uri()).list_events(None).await.unwrap();
    let ids: Vec<&str> = events.iter().map(|event| event.id.as_str()).collect();
    // The outright between the two matches is left out.
    assert_eq!(ids, ["1009400001", "1009400003"]);
    assert_eq!(events[0].home.as_deref(), Some("Celtic"));
}

#[tokio::test]
async fn list_events_named_sport() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/offering/v2018/ub/listView/ice_hockey.json"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(bodies("listing_flat")[0]))
        .expect(1)
        .mount(&server)
        .await;

    let extractor = unibet(&server.uri());
    let events = extractor.list_events(Some("ice_hockey")).await.unwrap();
    assert_eq!(events.len(), 2);
    let error = extractor.list_events(Some("ice/hockey")).await.unwrap_err();
    assert!(matches!(error, Error::InvalidJob { .. }), "{error}");
    assert_eq!(request_count(&server).await, 1);
}

#[tokio::test]
async fn missing_brand_names_variable() {
    let server = MockServer::start().await;
    // A bookmaker outside the built-in brands has no default brand code.
    let spec = BookmakerSpec {
        name: "betsson",
        default_base_url: None,
        settings: &[],
    };
    let uri = server.uri();
    let settings = Settings::from_env([("XTR_BETSSON_BASE_URL".to_owned(), uri)], &[spec]).unwrap();
    let config = &settings.bookmakers["betsson"];
    let extractor = KambiExtractor::new(config, &settings.http).unwrap();
    assert_eq!(extractor.brand(), None);
    let error = extractor
        .fetch(EVENT_ID, MarketSet::all())
        .await
        .unwrap_err();
    match &error {
        Error::MissingSetting { variable, .. } => assert_eq!(variable, "XTR_BETSSON_BRAND"),
        other => panic!("expected MissingSetting, got {other:?}"),
    }
    assert_eq!(request_count(&server).await, 0);
}

#[test]
fn empty_brand_falls_back_to_default() {
    let registry = registry();
    let settings = Settings::from_env(
        [("XTR_UNIBET_BRAND".to_owned(), String::new())],
        &registry.specs(),
    )
    .unwrap();
    let extractor = KambiExtractor::new(&settings.bookmakers["unibet"], &settings.http).unwrap();
    assert_eq!(extractor.brand(), Some("ub"));
}

#[test]
fn invalid_brand_rejected_at_build() {
    let error = build(&[("XTR_UNIBET_BRAND", "ub/../x")]).unwrap_err();
    match &error {
        Error::InvalidConfig { variable, .. } => assert_eq!(variable, "XTR_UNIBET_BRAND"),
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
    let error = build(&[("XTR_LEOVEGAS_MARKET", "G B")]).unwrap_err();
    assert!(error.to_string().contains("XTR_LEOVEGAS_MARKET"), "{error}");
}
