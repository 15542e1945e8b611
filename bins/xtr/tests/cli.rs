//! The offline and single-fetch commands: `extract`, `parse`, `events`, `extractors`.

mod common;

use common::*;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect()
}

#[tokio::test]
async fn extract_fetches_from_configured_base_url() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/offering/v2018/ub/betoffer/event/1007519027.json"))
        .and(query_param("lang", "en_GB"))
        .and(query_param("market", "GB"))
        .respond_with(ResponseTemplate::new(200).set_body_string(kambi_event(
            "1007519027",
            1630,
            2230,
        )))
        .expect(1)
        .mount(&server)
        .await;

    let output = xtr(
        &["extract", "unibet", "1007519027", "--market", "btts,1x2"],
        &[("XTR_UNIBET_BASE_URL", server.uri())],
    )
    .output()
    .expect("xtr runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let records = json_lines(&output.stdout);
    let kinds: Vec<_> = records
        .iter()
        .map(|r| r["market"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["btts", "1x2"]);
    assert_eq!(records[0]["job"], serde_json::Value::Null);
    assert_eq!(records[0]["bookmaker"], "unibet");
    assert_eq!(records[0]["outcomes"][0]["price"], 1.63);
    assert_eq!(records[1]["outcomes"][2]["outcome"], "away");
    assert_eq!(records[1]["outcomes"][2]["price"], 3.3);
}

#[tokio::test]
async fn extract_without_market_prints_every_supported_kind() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string(kambi_event("5", 1630, 2230)))
        .mount(&server)
        .await;
    let output = xtr(
        &["extract", "unibet", "5"],
        &[("XTR_UNIBET_BASE_URL", server.uri())],
    )
    .output()
    .expect("xtr runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let records = json_lines(&output.stdout);
    let offered: Vec<_> = records
        .iter()
        .filter(|r| r["status"] == "offered")
        .map(|r| r["market"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(offered, ["btts", "1x2"]);
    let not_offered = records
        .iter()
        .filter(|r| r["status"] == "not_offered")
        .count();
    assert_eq!(
        not_offered, 5,
        "every other supported kind is reported as a gap"
    );
}

#[test]
fn extract_reports_http_errors_clearly() {
    let output = xtr(
        &["extract", "unibet", "1"],
        // Nothing listens on port 9 of loopback.
        &[
            ("XTR_UNIBET_BASE_URL", "http://127.0.0.1:9".to_owned()),
            ("XTR_HTTP_TIMEOUT", "1".to_owned()),
        ],
    )
    .output()
    .expect("xtr runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unibet fetch event"), "{stderr}");
    assert!(stderr.contains("connection failed"), "{stderr}");
}

#[test]
fn unknown_bookmaker_lists_known_ones() {
    let output = xtr(&["parse", "nosuchbook", "x.json"], &[])
        .output()
        .expect("xtr runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unknown bookmaker \"nosuchbook\""),
        "{stderr}"
    );
    assert!(stderr.contains("unibet"), "{stderr}");
}

#[test]
fn parse_reads_saved_body() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("event.json");
    std::fs::write(&file, kambi_event("31", 1630, 2230)).unwrap();
    let output = xtr(
        &[
            "parse",
            "unibet",
            file.to_str().unwrap(),
            "--market",
            "btts",
        ],
        &[],
    )
    .output()
    .expect("xtr runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let records = json_lines(&output.stdout);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["event"]["id"], "31");
    assert_eq!(records[0]["market"]["id"], "531");
    assert_eq!(records[0]["outcomes"][0]["id"], "631");
}

#[test]
fn parse_rejects_unsupported_market_option() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("event.json");
    std::fs::write(&file, kambi_event("31", 1630, 2230)).unwrap();
    let output = xtr(
        &[
            "parse",
            "unibet",
            file.to_str().unwrap(),
            "--market",
            "corners",
        ],
        &[],
    )
    .output()
    .expect("xtr runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("invalid market kind \"corners\""),
        "{stderr}"
    );
}

#[test]
fn parse_reports_malformed_body() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("block.html");
    std::fs::write(&file, "<html>Access denied</html>").unwrap();
    let output = xtr(&["parse", "unibet", file.to_str().unwrap()], &[])
        .output()
        .expect("xtr runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("malformed"), "{stderr}");
}

/// Reads a Kambi recording from `XTR_REALDATA` and writes the raw response (without the
/// recorder's wrapper) to a file, as a real client would have saved it.
fn realdata_body(dir: &std::path::Path, name: &str) -> Option<std::path::PathBuf> {
    let bytes =
        xtr_core::conformance::read_realdata(env!("CARGO_MANIFEST_DIR"), &format!("kambi/{name}"))?;
    let body = xtr_core::conformance::unwrap_recording(&bytes).remove(0);
    let file = dir.join(name);
    std::fs::write(&file, body).unwrap();
    Some(file)
}

#[test]
fn parse_unibet_recording_prints_expected_markets() {
    let dir = tempfile::tempdir().unwrap();
    let Some(file) = realdata_body(
        dir.path(),
        "pvt_betoffer_event_molde_mjondalen_wrapped.json",
    ) else {
        return;
    };
    let output = xtr(&["parse", "unibet", file.to_str().unwrap()], &[])
        .output()
        .expect("xtr runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let records = json_lines(&output.stdout);
    let find = |kind: &str, period: &str| {
        records
            .iter()
            .filter(|r| r["market"]["kind"] == kind && r["market"]["period"] == period)
            .collect::<Vec<_>>()
    };
    for period in ["ft", "1h", "2h"] {
        assert_eq!(
            find("btts", period).len(),
            1,
            "one BTTS market for {period}"
        );
        assert_eq!(find("1x2", period).len(), 1, "one 1X2 market for {period}");
    }
    let btts = find("btts", "ft")[0];
    assert_eq!(btts["event"]["id"], "1007519027");
    assert_eq!(btts["event"]["home"], "Mjøndalen");
    assert_eq!(btts["event"]["away"], "Molde");
    assert_eq!(btts["outcomes"][0]["outcome"], "yes");
    assert_eq!(btts["outcomes"][1]["outcome"], "no");
    assert!(
        !find("total_goals", "ft").is_empty(),
        "match totals are present"
    );
    for record in find("total_goals", "ft") {
        let line = record["market"]["line"].as_f64().unwrap();
        assert_eq!(
            line.fract().abs(),
            0.5,
            "total_goals lines are half goals: {line}"
        );
    }
    assert!(
        !find("asian_handicap", "ft").is_empty(),
        "asian handicap is present"
    );
    let kinds = [
        "btts",
        "1x2",
        "total_goals",
        "asian_total",
        "asian_handicap",
        "draw_no_bet",
        "double_chance",
    ];
    for record in &records {
        assert!(kinds.contains(&record["market"]["kind"].as_str().unwrap()));
        if record["status"] == "offered" {
            assert!(!record["outcomes"].as_array().unwrap().is_empty());
        }
    }
}

#[test]
fn extractors_lists_this_build() {
    let output = xtr(&["extractors", "--json"], &[])
        .output()
        .expect("xtr runs");
    assert!(output.status.success());
    let list: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let names: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["bookmaker"].as_str().unwrap().to_owned())
        .collect();
    for name in ["unibet", "888sport", "leovegas"] {
        assert!(names.contains(&name.to_owned()), "{names:?}");
    }
    let unibet = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["bookmaker"] == "unibet")
        .unwrap();
    assert_eq!(unibet["platform"], "kambi");
    assert!(
        unibet["markets"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("btts"))
    );
    assert!(
        unibet["variables"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("XTR_UNIBET_BASE_URL"))
    );
}
