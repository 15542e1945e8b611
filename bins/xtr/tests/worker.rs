//! The worker end to end: a real `redis-server`, a local Kambi stand-in and the `xtr`
//! binary as a child process.

mod common;

use std::time::Duration;

use common::*;
use fred::prelude::*;
use wiremock::ResponseTemplate;

const GROUP: &str = "btts-worker";
const TIMEOUT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn worker_publishes_snapshots_and_dead_letters_bad_job() {
    let redis = RedisServer::start();
    let client = redis.client().await;
    let kambi = kambi_server(KambiResponder::btts(1630, 2230)).await;
    let stream = "XTR-BTTS_live_stream";

    // Enqueued before any worker exists: the group is created from id 0, so these count.
    let good_a = add_job(
        &client,
        stream,
        &[("bookmaker", "unibet"), ("event", "1007519027")],
    )
    .await;
    let bad = add_job(
        &client,
        stream,
        &[("bookmaker", "nosuchbook"), ("event", "1")],
    )
    .await;
    let good_b = add_job(
        &client,
        stream,
        &[("bookmaker", "unibet"), ("event", "1007519028")],
    )
    .await;

    let mut worker = WorkerProcess::start(&worker_env(&redis, &kambi.uri(), stream));
    wait_drained(&client, stream, GROUP, TIMEOUT).await;

    let results = read_stream(&client, "xtr:odds").await;
    assert_eq!(
        results.len(),
        2,
        "one BTTS snapshot per good job: {results:?}"
    );
    // Jobs of a batch run concurrently, so their results come in completion order.
    for (job, event) in [(&good_a, "1007519027"), (&good_b, "1007519028")] {
        let entry = results
            .iter()
            .find(|entry| entry.1["event"] == event)
            .unwrap_or_else(|| panic!("no result for event {event}"));
        assert_eq!(entry.1["bookmaker"], "unibet");
        assert_eq!(entry.1["event"], event);
        assert_eq!(entry.1["kind"], "btts");
        let snapshot = snapshot(entry);
        assert_eq!(snapshot["schema"], 1);
        assert_eq!(snapshot["job"], job.as_str());
        assert_eq!(snapshot["event"]["id"], event);
        assert_eq!(snapshot["event"]["home"], "Home FC");
        assert_eq!(snapshot["event"]["competition"], "Eliteserien");
        assert_eq!(snapshot["market"]["kind"], "btts");
        assert_eq!(snapshot["market"]["period"], "ft");
        assert_eq!(snapshot["market"]["line"], serde_json::Value::Null);
        assert_eq!(snapshot["status"], "offered");
        assert_eq!(snapshot["outcomes"][0]["outcome"], "yes");
        assert_eq!(snapshot["outcomes"][1]["outcome"], "no");
        // The exact digits: 1630 thousandths is written 1.63.
        assert!(
            entry.1["snapshot"].contains(r#""price":1.63,"#),
            "{}",
            entry.1["snapshot"]
        );
        assert!(
            entry.1["snapshot"].contains(r#""price":2.23,"#),
            "{}",
            entry.1["snapshot"]
        );
    }

    let latest: Option<String> = client
        .get("xtr:latest:unibet:1007519027:btts:ft:-")
        .await
        .unwrap();
    let latest: serde_json::Value =
        serde_json::from_str(&latest.expect("latest key is set")).unwrap();
    assert_eq!(latest["outcomes"][0]["price"], 1.63);
    let ttl: i64 = client
        .ttl("xtr:latest:unibet:1007519027:btts:ft:-")
        .await
        .unwrap();
    assert!(ttl > 86_000 && ttl <= 86_400, "latest TTL {ttl}");

    let dead = read_stream(&client, &format!("{stream}:dead")).await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].1["job"], bad);
    assert_eq!(dead[0].1["bookmaker"], "nosuchbook");
    assert_eq!(dead[0].1["event"], "1");
    assert!(
        dead[0].1["error"].contains("unknown bookmaker \"nosuchbook\""),
        "{}",
        dead[0].1["error"]
    );
    assert!(
        dead[0].1["error"].contains("unibet"),
        "the reason lists the known bookmakers"
    );

    worker.signal(15);
    assert_eq!(worker.wait_exit(TIMEOUT), Some(0), "{}", worker.output());
}

#[tokio::test]
async fn event_without_market_publishes_not_offered() {
    let redis = RedisServer::start();
    let client = redis.client().await;
    let kambi = kambi_server(KambiResponder::with(|id| {
        ResponseTemplate::new(200).set_body_string(kambi_event_without_btts(id))
    }))
    .await;
    let stream = "jobs";
    add_job(&client, stream, &[("bookmaker", "unibet"), ("event", "42")]).await;
    let mut worker = WorkerProcess::start(&worker_env(&redis, &kambi.uri(), stream));
    wait_drained(&client, stream, GROUP, TIMEOUT).await;

    let results = read_stream(&client, "xtr:odds").await;
    assert_eq!(results.len(), 1, "{results:?}");
    let snapshot = snapshot(&results[0]);
    assert_eq!(snapshot["status"], "not_offered");
    assert_eq!(snapshot["market"]["kind"], "btts");
    assert_eq!(snapshot["market"]["period"], "ft");
    assert_eq!(snapshot["outcomes"], serde_json::json!([]));
    assert_eq!(snapshot["event"]["home"], "Home FC");
    let latest: Option<String> = client.get("xtr:latest:unibet:42:btts:ft:-").await.unwrap();
    assert!(latest.is_some());
    worker.signal(15);
    assert_eq!(worker.wait_exit(TIMEOUT), Some(0));
}

#[tokio::test]
async fn unchanged_outcomes_refresh_latest_only() {
    let redis = RedisServer::start();
    let client = redis.client().await;
    let odds = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(1630));
    let served = odds.clone();
    let kambi = kambi_server(KambiResponder::with(move |id| {
        let yes = served.load(std::sync::atomic::Ordering::SeqCst);
        ResponseTemplate::new(200).set_body_string(kambi_event(id, yes, 2230))
    }))
    .await;
    let stream = "jobs";
    let mut worker = WorkerProcess::start(&worker_env(&redis, &kambi.uri(), stream));
    let latest_key = "xtr:latest:unibet:77:btts:ft:-";

    add_job(&client, stream, &[("bookmaker", "unibet"), ("event", "77")]).await;
    wait_drained(&client, stream, GROUP, TIMEOUT).await;
    let first: String = client.get(latest_key).await.unwrap();

    add_job(&client, stream, &[("bookmaker", "unibet"), ("event", "77")]).await;
    wait_drained(&client, stream, GROUP, TIMEOUT).await;
    let second: String = client.get(latest_key).await.unwrap();
    assert_eq!(
        read_stream(&client, "xtr:odds").await.len(),
        1,
        "same outcomes: no new entry"
    );
    assert_ne!(
        first, second,
        "the latest value is refreshed (new job id and observed_at)"
    );

    odds.store(1700, std::sync::atomic::Ordering::SeqCst);
    add_job(&client, stream, &[("bookmaker", "unibet"), ("event", "77")]).await;
    wait_drained(&client, stream, GROUP, TIMEOUT).await;
    let results = read_stream(&client, "xtr:odds").await;
    assert_eq!(results.len(), 2, "changed price: a new entry");
    assert_eq!(snapshot(&results[1])["outcomes"][0]["price"], 1.7);
    worker.signal(15);
    assert_eq!(worker.wait_exit(TIMEOUT), Some(0));
}

#[tokio::test]
async fn bad_jobs_end_as_dead_letters_with_reasons() {
    let redis = RedisServer::start();
    let client = redis.client().await;
    let kambi = kambi_server(KambiResponder::with(|id| {
        if id == "404" {
            ResponseTemplate::new(404)
        } else if id == "500000" {
            ResponseTemplate::new(200).set_body_string("<html>blocked</html>")
        } else {
            ResponseTemplate::new(200).set_body_string(kambi_event(id, 1630, 2230))
        }
    }))
    .await;
    let stream = "jobs";
    let huge = "9".repeat(100_000);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("event", "1")], "missing field \"bookmaker\""),
        (vec![("bookmaker", "unibet")], "missing field \"event\""),
        (
            vec![
                ("bookmaker", "unibet"),
                ("event", "1"),
                ("markets", "corners"),
            ],
            "invalid market kind \"corners\"",
        ),
        (
            vec![("bookmaker", "unibet"), ("event", "../../admin")],
            "event id \"../../admin\" is invalid",
        ),
        (
            vec![("bookmaker", "unibet"), ("event", "1?host=evil.example")],
            "is invalid",
        ),
        (
            vec![("bookmaker", "unibet"), ("event", "http://evil.example/x")],
            "is invalid",
        ),
        (
            vec![("bookmaker", "unibet"), ("event", huge.as_str())],
            "is invalid",
        ),
        (vec![("bookmaker", "unibet"), ("event", "404")], "not found"),
        (
            vec![("bookmaker", "unibet"), ("event", "500000")],
            "malformed",
        ),
    ];
    let mut ids = Vec::new();
    for (fields, _) in &cases {
        ids.push(add_job(&client, stream, fields).await);
    }
    let good = add_job(&client, stream, &[("bookmaker", "unibet"), ("event", "5")]).await;

    let mut worker = WorkerProcess::start(&worker_env(&redis, &kambi.uri(), stream));
    wait_drained(&client, stream, GROUP, TIMEOUT).await;

    let dead = read_stream(&client, &format!("{stream}:dead")).await;
    assert_eq!(dead.len(), cases.len(), "{dead:#?}");
    for ((_, expected), id) in cases.iter().zip(&ids) {
        let letter = dead
            .iter()
            .find(|(_, fields)| &fields["job"] == id)
            .unwrap_or_else(|| panic!("no dead letter for job {id}"));
        assert!(
            letter.1["error"].contains(expected),
            "job {id}: expected {expected:?} in {:?}",
            letter.1["error"]
        );
        assert!(letter.1["error"].len() < 2000, "reasons stay short");
        for value in letter.1.values() {
            assert!(value.len() < 5000, "copied fields are cut");
        }
    }
    // Only the good job and the 404 and HTML ones reached the stand-in: ids that a URL
    // path must not carry were rejected before any request.
    assert_eq!(kambi.received_requests().await.unwrap().len(), 3);

    let results = read_stream(&client, "xtr:odds").await;
    assert_eq!(results.len(), 1);
    assert_eq!(snapshot(&results[0])["job"], good.as_str());
    worker.signal(15);
    assert_eq!(worker.wait_exit(TIMEOUT), Some(0));
}

#[tokio::test]
async fn job_markets_field_selects_kinds() {
    let redis = RedisServer::start();
    let client = redis.client().await;
    let kambi = kambi_server(KambiResponder::btts(1630, 2230)).await;
    let stream = "jobs";
    add_job(
        &client,
        stream,
        &[
            ("bookmaker", "unibet"),
            ("event", "9"),
            ("markets", "1x2,asian_handicap"),
        ],
    )
    .await;
    let mut worker = WorkerProcess::start(&worker_env(&redis, &kambi.uri(), stream));
    wait_drained(&client, stream, GROUP, TIMEOUT).await;
    let results = read_stream(&client, "xtr:odds").await;
    let kinds: Vec<_> = results
        .iter()
        .map(|entry| entry.1["kind"].clone())
        .collect();
    assert_eq!(kinds, ["1x2", "asian_handicap"], "{results:?}");
    assert_eq!(snapshot(&results[0])["outcomes"][0]["price"], 2.1);
    assert_eq!(snapshot(&results[1])["status"], "not_offered");
    worker.signal(15);
    assert_eq!(worker.wait_exit(TIMEOUT), Some(0));
}

#[tokio::test]
async fn sigterm_finishes_in_flight_batch() {
    let redis = RedisServer::start();
    let client = redis.client().await;
    let kambi = kambi_server(KambiResponder::with(|id| {
        ResponseTemplate::new(200)
            .set_body_string(kambi_event(id, 1630, 2230))
            .set_delay(Duration::from_millis(1500))
    }))
    .await;
    let stream = "jobs";
    // Both jobs exist before the worker's first read, so they form one batch.
    add_job(&client, stream, &[("bookmaker", "unibet"), ("event", "1")]).await;
    add_job(&client, stream, &[("bookmaker", "unibet"), ("event", "2")]).await;
    let mut worker = WorkerProcess::start(&worker_env(&redis, &kambi.uri(), stream));
    wait_until(TIMEOUT, "both jobs in flight", || async {
        group_state(&client, stream, GROUP)
            .await
            .is_some_and(|state| state.pending == 2)
    })
    .await;

    worker.signal(15);
    assert_eq!(worker.wait_exit(TIMEOUT), Some(0), "{}", worker.output());
    let state = group_state(&client, stream, GROUP).await.unwrap();
    assert_eq!(
        state.pending, 0,
        "the in-flight batch finished and was acknowledged"
    );
    assert_eq!(read_stream(&client, "xtr:odds").await.len(), 2);
    assert!(
        worker.output().contains("Stop signal received"),
        "{}",
        worker.output()
    );
}

#[tokio::test]
async fn invalid_setting_fails_at_start_with_its_name() {
    let output = xtr(&["worker"], &[("XTRTYPE", "corner-worker".to_owned())])
        .output()
        .expect("xtr runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("invalid XTRTYPE=\"corner-worker\""),
        "{stderr}"
    );
    assert!(stderr.contains("btts-worker, 1x2-worker"), "{stderr}");
}

#[tokio::test]
async fn record_dir_keeps_responses_and_parse_failures() {
    let redis = RedisServer::start();
    let client = redis.client().await;
    let kambi = kambi_server(KambiResponder::with(|id| {
        if id == "666" {
            ResponseTemplate::new(200).set_body_string("<html>blocked</html>")
        } else {
            ResponseTemplate::new(200).set_body_string(kambi_event(id, 1630, 2230))
        }
    }))
    .await;
    let stream = "jobs";
    let records = tempfile::tempdir().unwrap();
    let mut env = worker_env(&redis, &kambi.uri(), stream);
    env.push(("XTR_RECORD_DIR", records.path().display().to_string()));
    add_job(&client, stream, &[("bookmaker", "unibet"), ("event", "1")]).await;
    add_job(
        &client,
        stream,
        &[("bookmaker", "unibet"), ("event", "666")],
    )
    .await;
    let mut worker = WorkerProcess::start(&env);
    wait_drained(&client, stream, GROUP, TIMEOUT).await;
    worker.signal(15);
    assert_eq!(worker.wait_exit(TIMEOUT), Some(0));

    let bodies = |dir: std::path::PathBuf| -> Vec<std::path::PathBuf> {
        let mut found: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "body"))
            .collect();
        found.sort();
        found
    };
    let recorded = bodies(records.path().join("unibet"));
    assert_eq!(
        recorded.len(),
        2,
        "every response is recorded: {recorded:?}"
    );
    let failed = bodies(records.path().join("failed").join("unibet"));
    assert_eq!(
        failed.len(),
        1,
        "the body that broke the parser is kept apart"
    );
    assert_eq!(
        std::fs::read_to_string(&failed[0]).unwrap(),
        "<html>blocked</html>"
    );
    let meta = std::fs::read_to_string(failed[0].with_extension("meta.json")).unwrap();
    assert!(meta.contains("malformed"), "{meta}");

    // A recording is a test input at once: xtr parse reads it as it is.
    let good = recorded
        .iter()
        .find(|path| std::fs::read_to_string(path).unwrap().contains("betOffers"))
        .expect("the good response was recorded");
    let output = xtr(
        &[
            "parse",
            "unibet",
            good.to_str().unwrap(),
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
    assert!(String::from_utf8_lossy(&output.stdout).contains(r#""price":1.63"#));
}

#[tokio::test]
async fn repeated_errors_are_logged_once_per_window() {
    let redis = RedisServer::start();
    let client = redis.client().await;
    let kambi = kambi_server(KambiResponder::with(|_| ResponseTemplate::new(404))).await;
    let stream = "jobs";
    for event in 1..=30 {
        add_job(
            &client,
            stream,
            &[("bookmaker", "unibet"), ("event", &event.to_string())],
        )
        .await;
    }
    let mut worker = WorkerProcess::start(&worker_env(&redis, &kambi.uri(), stream));
    wait_drained(&client, stream, GROUP, TIMEOUT).await;
    worker.signal(15);
    assert_eq!(worker.wait_exit(TIMEOUT), Some(0));
    assert_eq!(
        read_stream(&client, &format!("{stream}:dead")).await.len(),
        30
    );
    let output = worker.output();
    let warnings = output
        .lines()
        .filter(|line| {
            line.contains("WARN") && line.contains("Job moved to the dead-letter stream")
        })
        .count();
    assert_eq!(
        warnings, 1,
        "30 identical dead letters, one warning:\n{output}"
    );
}

#[tokio::test]
async fn worker_waits_for_redis_at_start() {
    let mut redis = RedisServer::start();
    let kambi = kambi_server(KambiResponder::btts(1630, 2230)).await;
    let stream = "jobs";
    redis.kill();
    let mut worker = WorkerProcess::start(&worker_env(&redis, &kambi.uri(), stream));
    wait_for_log(&worker, "Connecting to Redis failed, retrying", TIMEOUT).await;
    assert!(
        worker.is_running(),
        "the worker keeps waiting: {}",
        worker.output()
    );

    redis.start_again();
    let client = redis.client().await;
    add_job(&client, stream, &[("bookmaker", "unibet"), ("event", "3")]).await;
    wait_drained(&client, stream, GROUP, TIMEOUT).await;
    assert_eq!(read_stream(&client, "xtr:odds").await.len(), 1);
    worker.signal(15);
    assert_eq!(worker.wait_exit(TIMEOUT), Some(0), "{}", worker.output());
}
