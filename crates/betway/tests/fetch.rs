//! Fetch tests against a local wiremock server: the request shape (method, path and JSON
//! body) is asserted by the mocks' matchers, the fixtures are replayed and snapshots come
//! out.

use std::sync::Arc;

use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use xtr_core::config::Settings;
use xtr_core::{Error, Extractor, MarketKind, MarketSet, Registry, Timestamp, snapshot_records};

const PREMATCH: &[u8] = include_bytes!("fixtures/details_prematch.json");
const LISTING: &[u8] = include_bytes!("fixtures/getevents_listing.json");
const GROUP: &[u8] = include_bytes!("fixtures/getgroup_first_division_a.json");

const DETAILS_PATH: &str = "/api/Events/V2/GetEventDetails";
const EVENT: &str = "8800101";

/// Builds the registered extractor with the given variables.
fn build(extra: &[(&str, &str)]) -> Arc<dyn Extractor> {
    let mut registry = Registry::new();
    xtr_betway::register(&mut registry);
    let env: Vec<_> = extra
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    let settings = Settings::from_env(env, &registry.specs()).unwrap();
    let extractors = registry.build(&settings).unwrap();
    extractors.get("betway").unwrap().clone()
}

/// Builds the extractor with its base URL on `server` and the given other variables.
fn extractor(server: &MockServer, extra: &[(&str, &str)]) -> Arc<dyn Extractor> {
    let base = server.uri();
    let mut variables = vec![("XTR_BETWAY_BASE_URL", base.as_str())];
    variables.extend_from_slice(extra);
    build(&variables)
}

/// Returns the GetEventDetails body with the default jurisdiction ids.
fn details_body(event: u64) -> serde_json::Value {
    json!({
        "EventId": event,
        "LanguageId": 1,
        "ClientTypeId": 2,
        "BrandId": 3,
        "JurisdictionId": 3,
        "ClientIntegratorId": 1,
        "ScoreboardRequest": {"ScoreboardType": 3, "IncidentRequest": {}}
    })
}

async fn mount_details(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path(DETAILS_PATH))
        .and(header("content-type", "application/json"))
        .and(body_json(details_body(8_800_101)))
        .respond_with(ResponseTemplate::new(200).set_body_raw(PREMATCH, "application/json"))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn fetch_posts_details_body() {
    let server = MockServer::start().await;
    mount_details(&server).await;
    let extractor = extractor(&server, &[]);

    let bodies = extractor.fetch(EVENT, MarketSet::all()).await.unwrap();
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0].as_ref(), PREMATCH);
}

#[tokio::test]
async fn extract_gives_snapshots() {
    let server = MockServer::start().await;
    mount_details(&server).await;
    let extractor = extractor(&server, &[]);

    let requested = MarketSet::from_kinds(&[MarketKind::Btts, MarketKind::TotalGoals]);
    let events = extractor.extract(EVENT, requested).await.unwrap();
    assert_eq!(events.len(), 1);
    let observed = Timestamp::parse("2024-03-10T12:00:00Z").unwrap();
    let records = snapshot_records("betway", None, &events[0], requested, observed);
    let suffixes: Vec<_> = records.iter().map(|record| record.key_suffix()).collect();
    assert_eq!(
        suffixes,
        [
            "btts:ft:-",
            "btts:1h:-",
            "btts:2h:-",
            "total_goals:ft:1.5",
            "total_goals:ft:2.5",
            "total_goals:ft:3.5",
        ]
    );

    let json = serde_json::to_value(&records[0]).unwrap();
    assert_eq!(json["bookmaker"], "betway");
    assert_eq!(json["event"]["id"], "8800101");
    assert_eq!(json["event"]["start"], "2024-03-10T15:00:00Z");
    assert_eq!(json["market"]["id"], "400005");
    // The native decimal keeps every digit Betway sent.
    let text = serde_json::to_string(&records[0]).unwrap();
    assert!(text.contains(r#""price":1.615384615384615,"#), "{text}");
}

#[tokio::test]
async fn jurisdiction_ids_from_settings() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(DETAILS_PATH))
        .and(body_json(json!({
            "EventId": 8_800_101,
            "LanguageId": 12,
            "ClientTypeId": 1,
            "BrandId": 5,
            "JurisdictionId": 4,
            "ClientIntegratorId": 2,
            "ScoreboardRequest": {"ScoreboardType": 3, "IncidentRequest": {}}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_raw(PREMATCH, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let extractor = extractor(
        &server,
        &[
            ("XTR_BETWAY_LANGUAGE_ID", "12"),
            ("XTR_BETWAY_CLIENT_TYPE_ID", "1"),
            ("XTR_BETWAY_BRAND_ID", "5"),
            ("XTR_BETWAY_JURISDICTION_ID", "4"),
            ("XTR_BETWAY_CLIENT_INTEGRATOR_ID", "2"),
        ],
    );

    extractor.fetch(EVENT, MarketSet::all()).await.unwrap();
}

#[tokio::test]
async fn not_found_status_is_event_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let extractor = extractor(&server, &[]);

    let error = extractor.fetch("42", MarketSet::all()).await.unwrap_err();
    assert!(
        matches!(&error, Error::EventNotFound { event, .. } if event == "42"),
        "{error:?}"
    );
}

#[tokio::test]
async fn body_without_event_is_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            r#"{"Event":null,"Markets":[],"Outcomes":[],"MethodName":"GetEventDetails","Success":true}"#,
        ))
        .mount(&server)
        .await;
    let extractor = extractor(&server, &[]);

    let error = extractor.fetch("42", MarketSet::all()).await.unwrap_err();
    assert!(matches!(error, Error::EventNotFound { .. }), "{error:?}");
}

#[tokio::test]
async fn server_error_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(DETAILS_PATH))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    mount_details(&server).await;
    let extractor = extractor(&server, &[]);

    let supported = extractor.capabilities().markets;
    let events = extractor.extract(EVENT, supported).await.unwrap();
    assert_eq!(events[0].event.id, EVENT);
}

#[tokio::test]
async fn missing_base_url_is_missing_setting() {
    let extractor = build(&[]);
    let error = extractor.fetch(EVENT, MarketSet::all()).await.unwrap_err();
    match error {
        Error::MissingSetting { variable, .. } => assert_eq!(variable, "XTR_BETWAY_BASE_URL"),
        other => panic!("expected MissingSetting, got {other:?}"),
    }
    let error = extractor.list_events(None).await.unwrap_err();
    assert!(matches!(error, Error::MissingSetting { .. }), "{error:?}");
}

#[tokio::test]
async fn invalid_event_id_sends_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(PREMATCH, "application/json"))
        .expect(0)
        .mount(&server)
        .await;
    let extractor = extractor(&server, &[]);

    for id in ["../1", "1,2", "abc", "", "99999999999999999999"] {
        let error = extractor.fetch(id, MarketSet::all()).await.unwrap_err();
        assert!(
            matches!(error, Error::InvalidJob { .. }),
            "{id:?}: {error:?}"
        );
    }
}

#[tokio::test]
async fn list_reads_group_then_events() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/Events/V2/GetGroup"))
        .and(body_json(json!({
            "LanguageId": 1,
            "ClientTypeId": 2,
            "BrandId": 3,
            "JurisdictionId": 3,
            "ClientIntegratorId": 1,
            "CategoryCName": "soccer",
            "SubCategoryCName": "belgium",
            "GroupCName": "first-division-a",
            "PremiumOnly": false
        })))
        .respond_with(ResponseTemplate::new(200).set_body_raw(GROUP, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/Events/V2/GetEvents"))
        .and(body_json(json!({
            "LanguageId": 1,
            "ClientTypeId": 2,
            "BrandId": 3,
            "JurisdictionId": 3,
            "ClientIntegratorId": 1,
            "ExternalIds": [8_800_401, 8_800_402, 8_800_499],
            "MarketCName": "win-draw-win",
            "ScoreboardRequest": {"ScoreboardType": 3, "IncidentRequest": {}}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_raw(LISTING, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let extractor = extractor(&server, &[]);

    let events = extractor.list_events(Some("football")).await.unwrap();
    let ids: Vec<_> = events.iter().map(|event| event.id.as_str()).collect();
    assert_eq!(ids, ["8800401", "8800402"]);
    assert_eq!(events[0].home.as_deref(), Some("Cercle Brugge"));
}

#[tokio::test]
async fn list_reads_event_summaries() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/Events/V2/GetGroup"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            r#"{"EventSummaries":[{"EventId":8800402,"IsOutright":false},
                {"EventId":8800499,"IsOutright":true}],"Success":true}"#,
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/Events/V2/GetEvents"))
        .and(wiremock::matchers::body_partial_json(
            json!({"ExternalIds": [8_800_402]}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_raw(LISTING, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let extractor = extractor(
        &server,
        &[("XTR_BETWAY_GROUPS", "belgium/first-division-a")],
    );

    let events = extractor.list_events(None).await.unwrap();
    assert_eq!(events.len(), 2);
}

#[tokio::test]
async fn empty_group_sends_no_getevents() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/Events/V2/GetGroup"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"Categories":[]}"#))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/Events/V2/GetEvents"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(LISTING, "application/json"))
        .expect(0)
        .mount(&server)
        .await;
    let extractor = extractor(
        &server,
        &[(
            "XTR_BETWAY_GROUPS",
            "belgium/first-division-a, england/premier-league",
        )],
    );

    assert_eq!(extractor.list_events(None).await.unwrap(), []);
}

#[tokio::test]
async fn list_other_sport_rejected() {
    let server = MockServer::start().await;
    let extractor = extractor(&server, &[]);
    let error = extractor.list_events(Some("tennis")).await.unwrap_err();
    assert!(matches!(error, Error::InvalidJob { .. }), "{error:?}");
}

#[tokio::test]
async fn invalid_settings_rejected() {
    let mut registry = Registry::new();
    xtr_betway::register(&mut registry);
    let cases = [
        ("XTR_BETWAY_BRAND_ID", "three"),
        ("XTR_BETWAY_JURISDICTION_ID", "-1"),
        ("XTR_BETWAY_GROUPS", "belgium"),
        ("XTR_BETWAY_GROUPS", "Belgium/First Division A"),
    ];
    for (name, value) in cases {
        let env = vec![(name.to_owned(), value.to_owned())];
        let settings = Settings::from_env(env, &registry.specs()).unwrap();
        match registry.build(&settings) {
            Err(Error::InvalidConfig { variable, .. }) => assert_eq!(variable, name),
            other => panic!("{name}={value:?}: expected InvalidConfig, got {other:?}"),
        }
    }
}
