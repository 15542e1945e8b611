//! Fetch tests against a local wiremock server: the request shape built from the path
//! templates, replayed fixtures, not-found responses, retries, token errors and the
//! checks that run before any request.

use std::sync::Arc;

use wiremock::matchers::{header, header_exists, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};
use xtr_core::config::Settings;
use xtr_core::{Error, Extractor, MarketKind, MarketSet, Registry, Timestamp, snapshot_records};

const TOKEN: &str = "test-token-123";
const USER_AGENT: &str = "xtr-fetch-test";
const EVENT_PATH: &str =
    "sportsdata/v2/events?query=$filter=id eq '{event}'&includeMarkets=$filter=";

const PREMATCH: &[u8] = include_bytes!("fixtures/event_prematch.json");
const LIVE: &[u8] = include_bytes!("fixtures/event_live_data.json");
const UNKNOWN: &[u8] = include_bytes!("fixtures/event_unknown.json");
const LISTING: &[u8] = include_bytes!("fixtures/events_listing.json");

fn build(env: &[(&str, &str)]) -> Result<Arc<dyn Extractor>, Error> {
    let mut env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    env.push(("XTR_USER_AGENT".to_owned(), USER_AGENT.to_owned()));
    let mut registry = Registry::new();
    xtr_sbtech::register(&mut registry);
    let settings = Settings::from_env(env, &registry.specs())?;
    Ok(Arc::clone(
        registry.build(&settings)?.get("sbtech").unwrap(),
    ))
}

/// Returns an extractor whose base URL is `{server}/operator`, with the event path, a
/// listing path and `extra` settings.
fn extractor(server: &MockServer, extra: &[(&str, &str)]) -> Arc<dyn Extractor> {
    let base = format!("{}/operator", server.uri());
    let mut env = vec![
        ("XTR_SBTECH_BASE_URL", base.as_str()),
        ("XTR_SBTECH_EVENT_PATH", EVENT_PATH),
        (
            "XTR_SBTECH_LIST_PATH",
            "sportsdata/v2/events?query=$filter=sportId eq '{sport}'",
        ),
    ];
    env.extend_from_slice(extra);
    build(&env).unwrap()
}

fn json(body: &[u8]) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_vec(), "application/json")
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

#[tokio::test]
async fn fetch_sends_templated_request() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/operator/sportsdata/v2/events"))
        .and(query_param("query", "$filter=id eq '22016399'"))
        .and(query_param("includeMarkets", "$filter="))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("locale", "en"))
        .and(header("user-agent", USER_AGENT))
        .respond_with(json(PREMATCH))
        .expect(1)
        .mount(&server)
        .await;

    let extractor = extractor(&server, &[("XTR_SBTECH_TOKEN", TOKEN)]);
    let events = extractor
        .extract("22016399", MarketSet::all())
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event.id, "22016399");

    let requested = MarketSet::from_kinds(&[MarketKind::Btts, MarketKind::AsianHandicap]);
    let records = snapshot_records("sbtech", None, &events[0], requested, Timestamp::now());
    let suffixes: Vec<_> = records.iter().map(|r| r.key_suffix()).collect();
    assert_eq!(
        suffixes,
        [
            "asian_handicap:ft:-0.5",
            "asian_handicap:ft:-0.25",
            "asian_handicap:ft:0",
            "asian_handicap:1h:0",
            "btts:ft:-",
            "btts:1h:-",
            "btts:2h:-",
        ]
    );
}

#[tokio::test]
async fn event_id_is_one_encoded_segment() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(PREMATCH))
        .mount(&server)
        .await;
    let extractor = extractor(
        &server,
        &[("XTR_SBTECH_EVENT_PATH", "api/events/{event}/markets")],
    );
    extractor.fetch("22016399", MarketSet::all()).await.unwrap();

    let received = server.received_requests().await.unwrap();
    assert_eq!(
        received[0].url.path(),
        "/operator/api/events/22016399/markets"
    );
    assert_eq!(received[0].url.query(), None);
    assert!(!received[0].headers.contains_key("authorization"));
}

#[tokio::test]
async fn query_value_is_encoded() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(PREMATCH))
        .mount(&server)
        .await;
    extractor(&server, &[])
        .fetch("22016399", MarketSet::all())
        .await
        .unwrap();

    let received = server.received_requests().await.unwrap();
    let query = received[0].url.query().unwrap();
    assert_eq!(
        query,
        "query=%24filter%3Did+eq+%2722016399%27&includeMarkets=%24filter%3D"
    );
}

#[tokio::test]
async fn data_wrapped_response_is_replayed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header_exists("locale"))
        .respond_with(json(LIVE))
        .expect(1)
        .mount(&server)
        .await;
    let events = extractor(&server, &[])
        .extract("21908611", MarketSet::all())
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    assert!(events[0].event.live);
}

#[tokio::test]
async fn http_404_is_event_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    let error = extractor(&server, &[])
        .fetch("22016399", MarketSet::all())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::EventNotFound { event, .. } if event == "22016399"),
        "{error}"
    );
}

#[tokio::test]
async fn empty_lists_are_event_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(UNKNOWN))
        .expect(1)
        .mount(&server)
        .await;
    let error = extractor(&server, &[])
        .fetch("22016399", MarketSet::all())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::EventNotFound { .. }), "{error}");
}

#[tokio::test]
async fn server_errors_are_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(json(PREMATCH))
        .expect(1)
        .mount(&server)
        .await;
    let events = extractor(&server, &[])
        .extract("22016399", MarketSet::all())
        .await
        .unwrap();
    assert_eq!(events[0].event.id, "22016399");
    assert_eq!(requests(&server).await, 3);
}

#[tokio::test]
async fn persistent_server_error_is_returned() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let error = extractor(&server, &[])
        .fetch("22016399", MarketSet::all())
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Status { status: 503, .. }),
        "{error}"
    );
    assert_eq!(
        requests(&server).await,
        xtr_core::http::MAX_ATTEMPTS as usize
    );
}

#[tokio::test]
async fn unauthorized_without_token_names_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    let error = extractor(&server, &[])
        .fetch("22016399", MarketSet::all())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::MissingSetting { variable, .. } if variable == "XTR_SBTECH_TOKEN"),
        "{error}"
    );
}

#[tokio::test]
async fn rejected_token_is_session_expired() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403))
        .expect(1)
        .mount(&server)
        .await;
    let extractor = extractor(&server, &[("XTR_SBTECH_TOKEN", TOKEN)]);
    let error = extractor
        .fetch("22016399", MarketSet::all())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            Error::SessionExpired {
                variable: "XTR_SBTECH_TOKEN",
                ..
            }
        ),
        "{error}"
    );
    assert!(!error.to_string().contains(TOKEN), "{error}");
    assert!(!format!("{extractor:?}").contains(TOKEN));
}

#[tokio::test]
async fn missing_base_url_is_reported() {
    let extractor = build(&[("XTR_SBTECH_EVENT_PATH", EVENT_PATH)]).unwrap();
    let error = extractor
        .fetch("22016399", MarketSet::all())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::MissingSetting { variable, .. } if variable == "XTR_SBTECH_BASE_URL"),
        "{error}"
    );
}

#[tokio::test]
async fn missing_paths_are_reported() {
    let server = MockServer::start().await;
    let extractor = build(&[("XTR_SBTECH_BASE_URL", &server.uri())]).unwrap();
    let error = extractor
        .fetch("22016399", MarketSet::all())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::MissingSetting { variable, .. } if variable == "XTR_SBTECH_EVENT_PATH"),
        "{error}"
    );
    let error = extractor.list_events(None).await.unwrap_err();
    assert!(
        matches!(&error, Error::MissingSetting { variable, .. } if variable == "XTR_SBTECH_LIST_PATH"),
        "{error}"
    );
    assert_eq!(requests(&server).await, 0);
}

#[tokio::test]
async fn invalid_path_templates_are_rejected() {
    let cases = [
        ("XTR_SBTECH_EVENT_PATH", "sportsdata/events"),
        ("XTR_SBTECH_EVENT_PATH", "events/{id}"),
        ("XTR_SBTECH_EVENT_PATH", "../events/{event}"),
        ("XTR_SBTECH_EVENT_PATH", "https://other.example/{event}"),
        ("XTR_SBTECH_LIST_PATH", "events/{event}"),
    ];
    for (variable, template) in cases {
        let error = build(&[(variable, template)]).unwrap_err();
        assert!(
            matches!(&error, Error::InvalidConfig { variable: name, .. } if name == variable),
            "{variable}={template}: {error}"
        );
    }
}

#[tokio::test]
async fn invalid_event_ids_send_nothing() {
    let server = MockServer::start().await;
    let extractor = extractor(&server, &[]);
    for id in ["", "..", "1/2", "1'2", "1 or 1", "1&x=2", "1?x", "%31", "é"] {
        let error = extractor.fetch(id, MarketSet::all()).await.unwrap_err();
        assert!(matches!(error, Error::InvalidJob { .. }), "{id:?}: {error}");
    }
    assert_eq!(requests(&server).await, 0);
}

#[tokio::test]
async fn list_events_sends_listing_request() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/operator/sportsdata/v2/events"))
        .and(query_param("query", "$filter=sportId eq '1'"))
        .and(header("locale", "nl"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(json(LISTING))
        .expect(1)
        .mount(&server)
        .await;
    let extractor = extractor(
        &server,
        &[("XTR_SBTECH_TOKEN", TOKEN), ("XTR_SBTECH_LOCALE", "nl")],
    );
    let events = extractor.list_events(Some("football")).await.unwrap();
    let ids: Vec<_> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["21908613", "21908614"]);
    assert_eq!(events[1].away.as_deref(), Some("KV Mechelen"));
}

#[tokio::test]
async fn list_events_rejects_other_sports() {
    let server = MockServer::start().await;
    let error = extractor(&server, &[])
        .list_events(Some("tennis"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidJob { .. }), "{error}");
    assert_eq!(requests(&server).await, 0);
}
