//! The operations surface end to end: `/metrics`, `/healthz` and `/readyz` of a running
//! worker, and the `health`, `status`, `dead` and `enqueue` commands, each test against
//! its own `redis-server` and Kambi stand-in.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::process::{Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::*;
use fred::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::ResponseTemplate;

const GROUP: &str = "btts-worker";
const TIMEOUT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------
// A minimal HTTP client and a parser of the Prometheus text exposition format.

/// One HTTP response: status code, `Content-Type` and body.
#[derive(Debug)]
struct HttpResponse {
    status: u16,
    content_type: String,
    body: String,
}

/// Sends `GET path` over HTTP/1.1 with `Connection: close` and reads the whole response.
async fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<HttpResponse> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;

    let text = String::from_utf8(raw).map_err(|error| std::io::Error::other(error.to_string()))?;
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("no end of headers in {text:?}")))?;

    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status line in {head:?}")))?;

    let mut content_type = String::new();
    for line in lines {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        assert!(
            !name.eq_ignore_ascii_case("transfer-encoding"),
            "this client reads only bodies with Content-Length: {head}"
        );
        if name.eq_ignore_ascii_case("content-type") {
            content_type = value.trim().to_owned();
        }
    }
    Ok(HttpResponse {
        status,
        content_type,
        body: body.to_owned(),
    })
}

/// Returns the response of `path`, panicking when the request fails.
async fn get(addr: SocketAddr, path: &str) -> HttpResponse {
    http_get(addr, path)
        .await
        .unwrap_or_else(|error| panic!("GET {path} on {addr} failed: {error}"))
}

/// One sample's identity: metric name and its labels, sorted.
type SampleKey = (String, BTreeMap<String, String>);

/// A parsed exposition: every sample's value and every family's declared type.
#[derive(Debug, Default)]
struct Exposition {
    samples: HashMap<SampleKey, f64>,
    types: HashMap<String, String>,
}

impl Exposition {
    /// Returns the value of the sample `name{labels}` with exactly these labels.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let labels = labels
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect();
        self.samples.get(&(name.to_owned(), labels)).copied()
    }

    /// Returns the sum of every sample named `name`, whatever its labels.
    fn sum(&self, name: &str) -> f64 {
        self.samples
            .iter()
            .filter(|((sample, _), _)| sample == name)
            .map(|(_, value)| value)
            .sum()
    }

    /// Returns the label sets of every sample named `name`.
    fn label_sets(&self, name: &str) -> Vec<BTreeMap<String, String>> {
        let mut sets: Vec<_> = self
            .samples
            .keys()
            .filter(|(sample, _)| sample == name)
            .map(|(_, labels)| labels.clone())
            .collect();
        sets.sort();
        sets
    }
}

/// The suffixes a sample name may add to its family's name.
const SAMPLE_SUFFIXES: &[&str] = &["", "_total", "_created", "_bucket", "_count", "_sum"];

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_name_char(c: char) -> bool {
    is_name_start(c) || c.is_ascii_digit()
}

/// Reads a metric or label name at the start of `text` and returns it with the rest.
fn take_name(text: &str) -> Result<(&str, &str), String> {
    if !text.starts_with(is_name_start) {
        return Err(format!("expected a name at {text:?}"));
    }
    let end = text.find(|c| !is_name_char(c)).unwrap_or(text.len());
    Ok(text.split_at(end))
}

/// Reads `{name="value",...}` at the start of `text` and returns the labels with the rest.
fn take_labels(text: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut labels = BTreeMap::new();
    let Some(mut rest) = text.strip_prefix('{') else {
        return Ok((labels, text));
    };
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            return Ok((labels, after));
        }
        let (name, after_name) = take_name(rest)?;
        let mut chars = after_name
            .strip_prefix("=\"")
            .ok_or_else(|| format!("expected =\" after label {name} at {after_name:?}"))?
            .char_indices();
        let mut value = String::new();
        let consumed = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, '\\')) => value.push('\\'),
                    other => return Err(format!("invalid escape {other:?} in label {name}")),
                },
                Some((at, '"')) => break at + 1,
                Some((_, c)) => value.push(c),
                None => return Err(format!("unterminated value of label {name}")),
            }
        };
        let after_value = &after_name[2 + consumed..];
        if labels.insert(name.to_owned(), value).is_some() {
            return Err(format!("label {name} given twice"));
        }
        rest = after_value.strip_prefix(',').unwrap_or(after_value);
    }
}

/// Parses the text exposition format (OpenMetrics 1.0 and Prometheus 0.0.4): `# TYPE`
/// lines, samples with optional labels and timestamp, and the final `# EOF`. Rejects
/// duplicate samples, samples of undeclared families and text after `# EOF`.
fn parse_exposition(text: &str) -> Result<Exposition, String> {
    let mut exposition = Exposition::default();
    let mut ended = false;
    for line in text.lines() {
        if ended {
            return Err(format!("text after # EOF: {line:?}"));
        }
        if line == "# EOF" {
            ended = true;
            continue;
        }
        if let Some(comment) = line.strip_prefix("# ") {
            let mut parts = comment.splitn(3, ' ');
            let keyword = parts.next().unwrap_or("");
            let family = parts.next().unwrap_or("");
            let rest = parts.next().unwrap_or("");
            if keyword == "TYPE" {
                let known = [
                    "counter",
                    "gauge",
                    "histogram",
                    "summary",
                    "info",
                    "stateset",
                    "unknown",
                ];
                if !known.contains(&rest) {
                    return Err(format!("unknown type {rest:?} of {family}"));
                }
                exposition.types.insert(family.to_owned(), rest.to_owned());
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        let (name, rest) = take_name(line)?;
        let (labels, rest) = take_labels(rest)?;
        let rest = rest
            .strip_prefix(' ')
            .ok_or_else(|| format!("expected a space before the value in {line:?}"))?;
        let mut fields = rest.split(' ');
        let value_text = fields.next().unwrap_or("");
        let value: f64 = value_text
            .parse()
            .map_err(|_| format!("invalid value {value_text:?} in {line:?}"))?;
        if let Some(timestamp) = fields.next() {
            timestamp
                .parse::<f64>()
                .map_err(|_| format!("invalid timestamp {timestamp:?} in {line:?}"))?;
        }
        if fields.next().is_some() {
            return Err(format!("extra fields in {line:?}"));
        }
        let declared = SAMPLE_SUFFIXES.iter().any(|suffix| {
            name.strip_suffix(suffix)
                .is_some_and(|family| exposition.types.contains_key(family))
        });
        if !declared {
            return Err(format!("sample {name} has no # TYPE line before it"));
        }
        if exposition
            .samples
            .insert((name.to_owned(), labels), value)
            .is_some()
        {
            return Err(format!("duplicate sample in {line:?}"));
        }
    }
    if !ended {
        return Err("no # EOF line at the end".to_owned());
    }
    Ok(exposition)
}

#[test]
fn exposition_parser_reads_labels_and_rejects_junk() {
    let text = "# HELP a_total A.\n# TYPE a counter\na_total{x=\"1\",y=\"q\\\"u\\\\o\\nte\"} 3\n\
                # TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 2 1700000000\n# EOF\n";
    let exposition = parse_exposition(text).unwrap();
    assert_eq!(
        exposition.value("a_total", &[("x", "1"), ("y", "q\"u\\o\nte")]),
        Some(3.0)
    );
    assert_eq!(exposition.value("a_total", &[("x", "1")]), None);
    assert_eq!(exposition.value("h_bucket", &[("le", "+Inf")]), Some(2.0));
    assert_eq!(exposition.value("h_count", &[]), Some(2.0));
    assert_eq!(exposition.types["h"], "histogram");

    for (junk, why) in [
        ("# TYPE a counter\na_total 1\n", "no # EOF"),
        (
            "# TYPE a counter\na_total 1\na_total 2\n# EOF\n",
            "duplicate",
        ),
        ("b_total 1\n# EOF\n", "undeclared family"),
        ("# TYPE a counter\na_total one\n# EOF\n", "invalid value"),
        (
            "# TYPE a counter\na_total{x=1} 1\n# EOF\n",
            "unquoted label",
        ),
        (
            "# TYPE a counter\na_total{x=\"1} 1\n# EOF\n",
            "unterminated label",
        ),
        ("# TYPE a counter\n# EOF\na_total 1\n", "text after # EOF"),
    ] {
        assert!(parse_exposition(junk).is_err(), "accepted {why}: {junk:?}");
    }
}

// ---------------------------------------------------------------------------------
// Shared set-up.

/// Returns the address of a free loopback port, for `XTR_HTTP_ADDR`.
fn free_http_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], free_port()))
}

/// Reads and parses `/metrics`, checking the status and the content type.
async fn scrape(addr: SocketAddr) -> Exposition {
    let response = get(addr, "/metrics").await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert!(
        response
            .content_type
            .starts_with("application/openmetrics-text"),
        "content type {:?}",
        response.content_type
    );
    parse_exposition(&response.body).unwrap_or_else(|error| panic!("{error}:\n{}", response.body))
}

/// Polls `/metrics` until `done` holds, then returns that exposition. On timeout it
/// panics with the last exposition and the worker's log.
async fn wait_metrics(
    worker: &WorkerProcess,
    addr: SocketAddr,
    description: &str,
    done: impl Fn(&Exposition) -> bool,
) -> Exposition {
    let started = Instant::now();
    loop {
        let response = http_get(addr, "/metrics").await;
        if let Ok(response) = &response
            && let Ok(exposition) = parse_exposition(&response.body)
            && done(&exposition)
        {
            return exposition;
        }
        assert!(
            started.elapsed() < TIMEOUT,
            "timed out after {TIMEOUT:?} waiting for {description}; last: {response:?}; worker log:\n{}",
            worker.output()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls `path` until its status is `status`, then returns the response. On timeout
/// it panics with the last response and the worker's log.
async fn wait_status(
    worker: &WorkerProcess,
    addr: SocketAddr,
    path: &str,
    status: u16,
    timeout: Duration,
) -> HttpResponse {
    let started = Instant::now();
    loop {
        let response = http_get(addr, path).await;
        match response {
            Ok(response) if response.status == status => return response,
            other => assert!(
                started.elapsed() < timeout,
                "timed out after {timeout:?} waiting for {path} to return {status}; last: \
                 {other:?}; worker log:\n{}",
                worker.output()
            ),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Returns the environment of the command-line tools for the test Redis.
fn cli_env(redis: &RedisServer, stream: &str) -> Vec<(&'static str, String)> {
    vec![
        ("STREAM", stream.to_owned()),
        ("REDIS_HOST", "127.0.0.1".to_owned()),
        ("REDIS_PORT", redis.port.to_string()),
    ]
}

/// Runs `xtr args` to completion on a blocking thread, with `stdin` as its input
/// (standard input is empty and not a terminal either way).
async fn run_xtr(args: &[&str], env: &[(&str, String)], stdin: Option<&str>) -> Output {
    let mut command = xtr(args, env);
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let input = stdin.unwrap_or("").to_owned();
    tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().expect("xtr starts");
        let mut pipe = child.stdin.take().expect("stdin pipe");
        std::io::Write::write_all(&mut pipe, input.as_bytes()).expect("write stdin");
        drop(pipe);
        child.wait_with_output().expect("xtr runs")
    })
    .await
    .expect("the blocking task")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Adds a dead letter as the worker writes it: the job's fields, then its own.
async fn add_dead_letter(
    client: &Client,
    stream: &str,
    job: &[(&str, &str)],
    error: &str,
) -> String {
    let mut fields = job.to_vec();
    fields.extend([
        ("error", error),
        ("job", "1-0"),
        ("error_kind", "event_not_found"),
        ("deliveries", "1"),
    ]);
    add_job(client, &format!("{stream}:dead"), &fields).await
}

// ---------------------------------------------------------------------------------
// /metrics

/// Every metric of the README's table with its type. Families are named without the
/// `_total` that counters' samples add.
const METRIC_FAMILIES: &[(&str, &str)] = &[
    ("xtr_jobs", "counter"),
    ("xtr_job_duration_seconds", "histogram"),
    ("xtr_bookmaker_request_duration_seconds", "histogram"),
    ("xtr_empty_extractions", "counter"),
    ("xtr_jobs_reclaimed", "counter"),
    ("xtr_jobs_trimmed_pending", "counter"),
    ("xtr_jobs_duplicate", "counter"),
    ("xtr_jobs_in_flight", "gauge"),
    ("xtr_group_pending", "gauge"),
    ("xtr_group_lag", "gauge"),
    ("xtr_redis_reconnects", "counter"),
    ("xtr_snapshots_published", "counter"),
    ("xtr_snapshots_unchanged", "counter"),
    ("xtr_snapshots_repeated", "counter"),
    ("xtr_consumers_removed", "counter"),
];

/// Returns a Kambi body of an event that exists but offers nothing at all.
fn kambi_event_without_offers(event_id: &str) -> String {
    format!(
        r#"{{"betOffers":[],"events":[{{"id":{event_id},"homeName":"Home FC","awayName":"Away FC",
"start":"2021-05-30T13:00:00Z","group":"Eliteserien","sport":"FOOTBALL","state":"NOT_STARTED"}}]}}"#
    )
}

/// Returns a 503 whose `Retry-After: 0` requests an immediate retry, so the client's
/// attempts (four per job run) follow each other without waiting.
fn unavailable() -> ResponseTemplate {
    ResponseTemplate::new(503).insert_header("retry-after", "0")
}

#[tokio::test]
async fn metrics_count_scripted_jobs_exactly() {
    let redis = RedisServer::start();
    let client = redis.client().await;
    // Event 6 is unavailable for its first run (four attempts) and then recovers.
    let requests_for_6 = AtomicU32::new(0);
    let kambi = kambi_server(KambiResponder::with(move |id| match id {
        "3" => ResponseTemplate::new(200).set_body_string(kambi_event_without_btts(id)),
        "4" => ResponseTemplate::new(200).set_body_string(kambi_event_without_offers(id)),
        "404" => ResponseTemplate::new(404),
        "5" => ResponseTemplate::new(200).set_body_string("<html>blocked</html>"),
        "6" if requests_for_6.fetch_add(1, Ordering::SeqCst) < 4 => unavailable(),
        "7" => unavailable(),
        _ => ResponseTemplate::new(200).set_body_string(kambi_event(id, 1630, 2230)),
    }))
    .await;
    let stream = "jobs";
    let addr = free_http_addr();
    let mut env = worker_env(&redis, &kambi.uri(), stream);
    env.extend([
        ("XTR_HTTP_ADDR", addr.to_string()),
        // A job left pending by a 503 runs again after 3.1 s, and its second delivery
        // is its last. The deadline leaves a loaded machine time for every good job.
        ("XTR_MAX_DELIVERIES", "2".to_owned()),
        ("XTR_JOB_DEADLINE", "3".to_owned()),
        ("XTR_CLAIM_IDLE", "3.1".to_owned()),
        ("XTR_MAINTENANCE_INTERVAL", "0.1".to_owned()),
    ]);

    let script: &[&[(&str, &str)]] = &[
        &[("bookmaker", "unibet"), ("event", "1")], // ok, published
        &[("bookmaker", "unibet"), ("event", "2")], // ok, published
        &[("bookmaker", "unibet"), ("event", "3")], // not offered (no BTTS), published
        &[("bookmaker", "unibet"), ("event", "4")], // not offered, empty, published
        &[("bookmaker", "unibet"), ("event", "404")], // dead letter: not found
        &[("bookmaker", "unibet"), ("event", "5")], // dead letter: malformed body
        &[("bookmaker", "unibet"), ("event", "6")], // retried once, then ok, published
        &[("bookmaker", "unibet"), ("event", "7")], // retried once, then dead letter
        &[("bookmaker", "nosuchbook"), ("event", "1")], // dead letter, bookmaker "-"
    ];
    for fields in script {
        add_job(&client, stream, fields).await;
    }
    let mut worker = WorkerProcess::start(&env);
    wait_drained(&client, stream, GROUP, TIMEOUT).await;
    // Jobs are counted after their results are stored, so wait for the counter too.
    wait_metrics(&worker, addr, "the first nine jobs", |metrics| {
        metrics.sum("xtr_jobs_total") == 11.0
    })
    .await;

    // The same odds again: the latest value is refreshed, nothing is published.
    add_job(&client, stream, &[("bookmaker", "unibet"), ("event", "1")]).await;
    wait_drained(&client, stream, GROUP, TIMEOUT).await;
    wait_metrics(
        &worker,
        addr,
        "the re-extraction and a group sample",
        |metrics| {
            metrics.sum("xtr_jobs_total") == 12.0
                && metrics.value("xtr_group_pending", &[]) == Some(0.0)
                && metrics.value("xtr_group_lag", &[]) == Some(0.0)
        },
    )
    .await;
    let metrics = scrape(addr).await;

    for (family, kind) in METRIC_FAMILIES {
        assert_eq!(
            metrics.types.get(*family).map(String::as_str),
            Some(*kind),
            "# TYPE of {family}"
        );
    }

    // The dead letters' reasons explain most miscounts.
    let dead_letters: Vec<String> = read_stream(&client, &format!("{stream}:dead"))
        .await
        .into_iter()
        .map(|(_, fields)| format!("{}: {}", fields["event"], fields["error"]))
        .collect();
    let jobs = |bookmaker: &str, outcome: &str| {
        metrics.value(
            "xtr_jobs_total",
            &[("bookmaker", bookmaker), ("outcome", outcome)],
        )
    };
    assert_eq!(
        jobs("unibet", "ok"),
        Some(4.0),
        "events 1, 2, 6 and 1 again: {dead_letters:?}"
    );
    assert_eq!(
        jobs("unibet", "not_offered"),
        Some(2.0),
        "events 3 and 4: {dead_letters:?}"
    );
    assert_eq!(
        jobs("unibet", "retried"),
        Some(2.0),
        "events 6 and 7, once each: {dead_letters:?}"
    );
    assert_eq!(
        jobs("unibet", "dead_lettered"),
        Some(3.0),
        "events 404, 5 and 7: {dead_letters:?}"
    );
    assert_eq!(
        jobs("-", "dead_lettered"),
        Some(1.0),
        "the unknown bookmaker: {dead_letters:?}"
    );
    assert_eq!(
        metrics.label_sets("xtr_jobs_total").len(),
        5,
        "no other series"
    );

    let durations = |bookmaker: &str| {
        metrics.value(
            "xtr_job_duration_seconds_count",
            &[("bookmaker", bookmaker)],
        )
    };
    assert_eq!(durations("unibet"), Some(11.0));
    assert_eq!(durations("-"), Some(1.0));
    assert_eq!(
        metrics.value(
            "xtr_job_duration_seconds_bucket",
            &[("bookmaker", "unibet"), ("le", "+Inf")]
        ),
        Some(11.0)
    );

    let requests = |class: &str| {
        metrics.value(
            "xtr_bookmaker_request_duration_seconds_count",
            &[("bookmaker", "unibet"), ("status_class", class)],
        )
    };
    // 2xx: events 1, 2, 3, 4, 5, 6 (second run) and 1 again. 5xx: four attempts for
    // each of the two runs of event 7 and for the first run of event 6.
    assert_eq!(requests("2xx"), Some(7.0));
    assert_eq!(requests("4xx"), Some(1.0));
    assert_eq!(requests("5xx"), Some(12.0));
    assert_eq!(
        metrics
            .label_sets("xtr_bookmaker_request_duration_seconds_count")
            .len(),
        3
    );
    assert_eq!(kambi.received_requests().await.unwrap().len(), 20);

    // Events 1, 2, 3 (not offered), 4 (not offered) and 6; event 1 again is unchanged.
    assert_eq!(
        metrics.value("xtr_snapshots_published_total", &[]),
        Some(5.0)
    );
    assert_eq!(
        metrics.value("xtr_snapshots_unchanged_total", &[]),
        Some(1.0)
    );
    assert_eq!(
        metrics.value("xtr_snapshots_repeated_total", &[]),
        Some(0.0)
    );
    assert_eq!(read_stream(&client, "xtr:odds").await.len(), 5);
    // Events 3 and 4: the extractor returns only the requested kinds, so an event
    // without BTTS is an empty extraction for a BTTS worker.
    assert_eq!(
        metrics.value("xtr_empty_extractions_total", &[("bookmaker", "unibet")]),
        Some(2.0)
    );
    assert_eq!(metrics.label_sets("xtr_empty_extractions_total").len(), 1);
    // Events 6 and 7 after their first runs, and nothing else.
    assert_eq!(metrics.value("xtr_jobs_reclaimed_total", &[]), Some(2.0));
    assert_eq!(
        metrics.value("xtr_jobs_trimmed_pending_total", &[]),
        Some(0.0)
    );
    assert_eq!(metrics.value("xtr_jobs_duplicate_total", &[]), Some(0.0));
    assert_eq!(metrics.value("xtr_jobs_in_flight", &[]), Some(0.0));
    assert_eq!(metrics.value("xtr_consumers_removed_total", &[]), Some(0.0));
    assert_eq!(
        read_stream(&client, &format!("{stream}:dead")).await.len(),
        4
    );

    for (name, _labels) in metrics.samples.keys() {
        assert!(name.starts_with("xtr_"), "{name} lacks the xtr_ prefix");
    }
    for labels in metrics.samples.keys().map(|(_, labels)| labels) {
        for label in labels.keys() {
            assert!(
                ["bookmaker", "outcome", "status_class", "le"].contains(&label.as_str()),
                "unexpected label {label}"
            );
        }
    }

    worker.signal(15);
    assert_eq!(worker.wait_exit(TIMEOUT), Some(0), "{}", worker.output());
}

// ---------------------------------------------------------------------------------
// /healthz and /readyz

#[tokio::test]
async fn readyz_follows_redis_outage() {
    let mut redis = RedisServer::start();
    let kambi = kambi_server(KambiResponder::btts(1630, 2230)).await;
    let stream = "jobs";
    let addr = free_http_addr();
    let mut env = worker_env(&redis, &kambi.uri(), stream);
    env.push(("XTR_HTTP_ADDR", addr.to_string()));
    let mut worker = WorkerProcess::start(&env);

    let ready = wait_status(&worker, addr, "/readyz", 200, TIMEOUT).await;
    assert_eq!(ready.body, "ready\n");
    assert_eq!(get(addr, "/healthz").await.status, 200);
    let reconnects_before = scrape(addr)
        .await
        .value("xtr_redis_reconnects_total", &[])
        .expect("reconnect counter");

    // NOTE: the worker notices the outage only when its blocked XREADGROUP times out,
    // about XTR_BLOCK + 10 s after the kill, which is most of this test's run time.
    redis.kill();
    let not_ready = wait_status(&worker, addr, "/readyz", 503, TIMEOUT).await;
    assert_eq!(not_ready.body, "not ready: Redis not connected\n");
    let healthz = get(addr, "/healthz").await;
    assert_eq!(
        healthz.status, 200,
        "an outage alone does not fail liveness: {}",
        healthz.body
    );
    assert!(healthz.body.starts_with("ok: "), "{}", healthz.body);

    // The restarted server has no data: the worker recreates its group and is ready.
    // NOTE: the Redis client's reconnect delay and the worker's retry backoff both grow
    // to 10 s or more during the outage, so recovery can take that long again.
    redis.restart();
    let ready = wait_status(&worker, addr, "/readyz", 200, Duration::from_secs(45)).await;
    assert_eq!(ready.body, "ready\n");
    assert_eq!(get(addr, "/healthz").await.status, 200);
    // The reader and the writer connection each reconnected once.
    let metrics = wait_metrics(&worker, addr, "two reconnections", |metrics| {
        metrics.value("xtr_redis_reconnects_total", &[]) >= Some(reconnects_before + 2.0)
    })
    .await;
    assert_eq!(
        metrics.value("xtr_redis_reconnects_total", &[]),
        Some(reconnects_before + 2.0)
    );

    let client = redis.client().await;
    add_job(&client, stream, &[("bookmaker", "unibet"), ("event", "1")]).await;
    wait_drained(&client, stream, GROUP, TIMEOUT).await;
    assert_eq!(
        read_stream(&client, "xtr:odds").await.len(),
        1,
        "ready means working"
    );

    worker.signal(15);
    assert_eq!(worker.wait_exit(TIMEOUT), Some(0), "{}", worker.output());
}

#[tokio::test]
async fn reconnect_counter_starts_at_zero() {
    let redis = RedisServer::start();
    let kambi = kambi_server(KambiResponder::btts(1630, 2230)).await;
    let addr = free_http_addr();
    let mut env = worker_env(&redis, &kambi.uri(), "jobs");
    env.push(("XTR_HTTP_ADDR", addr.to_string()));
    let mut worker = WorkerProcess::start(&env);
    wait_status(&worker, addr, "/readyz", 200, TIMEOUT).await;

    // The first connection of each client is not a reconnection.
    let metrics = scrape(addr).await;
    assert_eq!(metrics.value("xtr_redis_reconnects_total", &[]), Some(0.0));

    worker.signal(15);
    assert_eq!(worker.wait_exit(TIMEOUT), Some(0), "{}", worker.output());
}

#[tokio::test]
async fn readyz_reports_draining_after_sigterm() {
    let redis = RedisServer::start();
    let client = redis.client().await;
    let kambi = kambi_server(KambiResponder::with(|id| {
        ResponseTemplate::new(200)
            .set_body_string(kambi_event(id, 1630, 2230))
            .set_delay(Duration::from_millis(1500))
    }))
    .await;
    let stream = "jobs";
    let addr = free_http_addr();
    let mut env = worker_env(&redis, &kambi.uri(), stream);
    env.push(("XTR_HTTP_ADDR", addr.to_string()));
    let mut worker = WorkerProcess::start(&env);
    wait_status(&worker, addr, "/readyz", 200, TIMEOUT).await;

    add_job(&client, stream, &[("bookmaker", "unibet"), ("event", "1")]).await;
    wait_metrics(&worker, addr, "the job in flight", |metrics| {
        metrics.value("xtr_jobs_in_flight", &[]) == Some(1.0)
    })
    .await;

    worker.signal(15);
    let draining = wait_status(&worker, addr, "/readyz", 503, Duration::from_secs(5)).await;
    assert_eq!(draining.body, "not ready: draining\n");
    assert!(
        read_stream(&client, "xtr:odds").await.is_empty(),
        "draining was reported while the slow job still ran"
    );
    let healthz = get(addr, "/healthz").await;
    assert_eq!(healthz.status, 200, "draining is alive: {}", healthz.body);

    assert_eq!(worker.wait_exit(TIMEOUT), Some(0), "{}", worker.output());
    assert_eq!(
        read_stream(&client, "xtr:odds").await.len(),
        1,
        "the in-flight job finished"
    );
    assert_eq!(
        group_state(&client, stream, GROUP).await.unwrap().pending,
        0
    );
    assert!(
        http_get(addr, "/readyz").await.is_err(),
        "nothing listens after exit"
    );
}

// ---------------------------------------------------------------------------------
// xtr health

#[tokio::test]
async fn health_command_exit_codes() {
    let redis = RedisServer::start();
    let kambi = kambi_server(KambiResponder::btts(1630, 2230)).await;
    let addr = free_http_addr();
    let mut env = worker_env(&redis, &kambi.uri(), "jobs");
    env.push(("XTR_HTTP_ADDR", addr.to_string()));
    let mut worker = WorkerProcess::start(&env);
    wait_status(&worker, addr, "/healthz", 200, TIMEOUT).await;

    // The image sets 0.0.0.0:<port>; the command reaches it through loopback.
    let all_interfaces = format!("0.0.0.0:{}", addr.port());
    let healthy = run_xtr(&["health"], &[("XTR_HTTP_ADDR", all_interfaces)], None).await;
    assert_eq!(healthy.status.code(), Some(0), "{}", stderr(&healthy));
    let healthy = run_xtr(&["health", "--addr", &addr.to_string()], &[], None).await;
    assert_eq!(healthy.status.code(), Some(0), "{}", stderr(&healthy));

    worker.signal(15);
    assert_eq!(worker.wait_exit(TIMEOUT), Some(0), "{}", worker.output());
    let nothing = run_xtr(&["health"], &[("XTR_HTTP_ADDR", addr.to_string())], None).await;
    assert_eq!(nothing.status.code(), Some(1));
    assert!(
        stderr(&nothing).contains(&format!("cannot connect to {addr}")),
        "{}",
        stderr(&nothing)
    );

    let stuck = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::path("/healthz"))
        .respond_with(ResponseTemplate::new(503).set_body_string("stuck\n"))
        .mount(&stuck)
        .await;
    let unhealthy = run_xtr(
        &["health", "--addr", &stuck.address().to_string()],
        &[],
        None,
    )
    .await;
    assert_eq!(unhealthy.status.code(), Some(1));
    assert!(
        stderr(&unhealthy).contains("HTTP 503"),
        "{}",
        stderr(&unhealthy)
    );

    let unset = run_xtr(&["health"], &[], None).await;
    assert_eq!(unset.status.code(), Some(1));
    assert!(
        stderr(&unset).contains("XTR_HTTP_ADDR"),
        "{}",
        stderr(&unset)
    );
}

// ---------------------------------------------------------------------------------
// xtr status

/// The known state of [`status_fixture`].
struct StatusFixture {
    redis: RedisServer,
    job_ids: Vec<String>,
    dead_ids: Vec<String>,
}

/// Builds a job stream of five entries with two groups: `btts-worker`, where consumer
/// `busy` read two entries and `idle` (created first, read nothing) has been idle at
/// least 300 ms, and `1x2-worker`, which read nothing. Three dead letters.
async fn status_fixture() -> StatusFixture {
    let redis = RedisServer::start();
    let client = redis.client().await;
    let stream = "jobs";
    let mut job_ids = Vec::new();
    for event in ["1", "2", "3", "4", "5"] {
        job_ids.push(
            add_job(
                &client,
                stream,
                &[("bookmaker", "unibet"), ("event", event)],
            )
            .await,
        );
    }
    let _: Value = client
        .xgroup_create(stream, GROUP, "0", false)
        .await
        .unwrap();
    let _: Value = client
        .xgroup_create(stream, "1x2-worker", "0", false)
        .await
        .unwrap();
    let _: Value = client
        .xgroup_createconsumer(stream, GROUP, "idle")
        .await
        .unwrap();
    wait_until(TIMEOUT, "consumer idle to be idle 300 ms", || async {
        xtr_worker::maintenance::consumers(&client, stream, GROUP)
            .await
            .unwrap()
            .iter()
            .any(|consumer| consumer.name == "idle" && consumer.idle_ms >= 300)
    })
    .await;
    let _: Value = client
        .xreadgroup(GROUP, "busy", Some(2), None, false, stream, ">")
        .await
        .unwrap();

    let mut dead_ids = Vec::new();
    for (event, reason) in [
        ("404", "unibet event \"404\" not found"),
        ("5", "malformed unibet response: expected a Kambi body"),
        ("7", "delivered 5 times without completing"),
    ] {
        dead_ids.push(
            add_dead_letter(
                &client,
                stream,
                &[("bookmaker", "unibet"), ("event", event)],
                reason,
            )
            .await,
        );
    }
    StatusFixture {
        redis,
        job_ids,
        dead_ids,
    }
}

#[tokio::test]
async fn status_prints_streams_groups_and_dead_letters() {
    let fixture = status_fixture().await;
    let output = run_xtr(
        &["status", "--dead", "2"],
        &cli_env(&fixture.redis, "jobs"),
        None,
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();

    assert_eq!(lines[0], "stream jobs: 5 entries");
    // Redis lists groups and consumers in name order (observed with Redis 7.0).
    assert_eq!(
        lines[1],
        "  group 1x2-worker: pending 0, lag 5, last delivered 0-0"
    );
    let btts = format!(
        "  group btts-worker: pending 2, lag 3, last delivered {}",
        fixture.job_ids[1]
    );
    assert_eq!(lines[2], btts);
    let seconds = |line: &str, prefix: &str| -> f64 {
        line.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(" s"))
            .and_then(|number| number.parse().ok())
            .unwrap_or_else(|| panic!("expected {prefix:?} and seconds, got {line:?}"))
    };
    let busy = seconds(lines[3], "    consumer busy: pending 2, idle ");
    let idle = seconds(lines[4], "    consumer idle: pending 0, idle ");
    assert!(idle >= 0.3, "{}", lines[4]);
    assert!(busy < idle, "{} / {}", lines[3], lines[4]);
    assert_eq!(lines[5], "dead letters jobs:dead: 3");
    // Newest first, with their reasons.
    let newest = format!(
        "  {} job 1-0 unibet 7: delivered 5 times without completing",
        fixture.dead_ids[2]
    );
    assert_eq!(lines[6], newest);
    let second = format!(
        "  {} job 1-0 unibet 5: malformed unibet response: expected a Kambi body",
        fixture.dead_ids[1]
    );
    assert_eq!(lines[7], second);
    assert_eq!(lines.len(), 8, "{text}");
}

#[tokio::test]
async fn status_json_matches_redis_state() {
    let fixture = status_fixture().await;
    let output = run_xtr(
        &["status", "--json"],
        &cli_env(&fixture.redis, "jobs"),
        None,
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).expect("status is JSON");

    assert_eq!(status["stream"], "jobs");
    assert_eq!(status["length"], 5);
    let groups = status["groups"].as_array().expect("groups");
    assert_eq!(groups.len(), 2);
    // Redis lists groups in name order (observed with Redis 7.0).
    assert_eq!(groups[0]["name"], "1x2-worker");
    assert_eq!(groups[0]["pending"], 0);
    assert_eq!(groups[0]["lag"], 5);
    assert_eq!(groups[0]["consumers"], serde_json::json!([]));
    let groups = &groups[1..];
    assert_eq!(groups[0]["name"], GROUP);
    assert_eq!(groups[0]["pending"], 2);
    assert_eq!(groups[0]["lag"], 3);
    assert_eq!(groups[0]["last_delivered_id"], fixture.job_ids[1].as_str());
    let consumers = groups[0]["consumers"].as_array().expect("consumers");
    let consumer = |name: &str| {
        consumers
            .iter()
            .find(|consumer| consumer["name"] == name)
            .unwrap_or_else(|| panic!("no consumer {name} in {consumers:?}"))
    };
    assert_eq!(consumer("busy")["pending"], 2);
    assert_eq!(consumer("idle")["pending"], 0);
    let idle_ms = |name: &str| consumer(name)["idle_ms"].as_u64().expect("idle_ms");
    assert!(idle_ms("idle") >= 300, "{consumers:?}");
    assert!(idle_ms("busy") < idle_ms("idle"), "{consumers:?}");
    assert_eq!(consumers.len(), 2);

    assert_eq!(status["dead_letter_stream"], "jobs:dead");
    assert_eq!(status["dead_letters"], 3);
    let newest = status["newest_dead_letters"]
        .as_array()
        .expect("newest dead letters");
    let ids: Vec<&str> = newest
        .iter()
        .map(|letter| letter["id"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = fixture.dead_ids.iter().rev().map(String::as_str).collect();
    assert_eq!(ids, expected, "newest first; the default shows up to 5");
    assert_eq!(newest[0]["event"], "7");
    assert_eq!(newest[0]["bookmaker"], "unibet");
    assert_eq!(newest[0]["job"], "1-0");
    assert_eq!(newest[0]["error"], "delivered 5 times without completing");
    assert_eq!(newest[0]["error_kind"], "event_not_found");
    assert_eq!(newest[0]["deliveries"], "1");
}

#[tokio::test]
async fn status_of_missing_stream_is_empty() {
    let redis = RedisServer::start();
    let output = run_xtr(&["status", "--json"], &cli_env(&redis, "nothing"), None).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).expect("status is JSON");
    assert_eq!(status["length"], 0);
    assert_eq!(status["groups"], serde_json::json!([]));
    assert_eq!(status["dead_letters"], 0);
    assert_eq!(status["newest_dead_letters"], serde_json::json!([]));

    let text = run_xtr(&["status"], &cli_env(&redis, "nothing"), None).await;
    assert_eq!(
        stdout(&text),
        "stream nothing: 0 entries\n  no consumer groups (no worker has started on this stream)\n\
         dead letters nothing:dead: 0\n"
    );

    let down = free_port();
    let env = [
        ("STREAM", "jobs".to_owned()),
        ("REDIS_HOST", "127.0.0.1".to_owned()),
        ("REDIS_PORT", down.to_string()),
    ];
    let unreachable = run_xtr(&["status"], &env, None).await;
    assert_eq!(unreachable.status.code(), Some(1));
    assert!(
        stderr(&unreachable).contains("Redis"),
        "{}",
        stderr(&unreachable)
    );
}

// ---------------------------------------------------------------------------------
// xtr dead

#[tokio::test]
async fn dead_retry_after_fix_publishes_once() {
    let redis = RedisServer::start();
    let client = redis.client().await;
    let fixed = Arc::new(AtomicBool::new(false));
    let served_fixed = fixed.clone();
    let kambi = kambi_server(KambiResponder::with(move |id| {
        if served_fixed.load(Ordering::SeqCst) {
            ResponseTemplate::new(200).set_body_string(kambi_event(id, 1630, 2230))
        } else {
            ResponseTemplate::new(404)
        }
    }))
    .await;
    let stream = "jobs";
    let dead_stream = "jobs:dead";
    let mut worker = WorkerProcess::start(&worker_env(&redis, &kambi.uri(), stream));

    let original = add_job(&client, stream, &[("bookmaker", "unibet"), ("event", "11")]).await;
    wait_drained(&client, stream, GROUP, TIMEOUT).await;
    let dead = read_stream(&client, dead_stream).await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    let dead_id = dead[0].0.clone();

    let listed = run_xtr(&["dead", "list"], &cli_env(&redis, stream), None).await;
    assert_eq!(listed.status.code(), Some(0), "{}", stderr(&listed));
    let letters: Vec<serde_json::Value> = stdout(&listed)
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0]["id"], dead_id.as_str());
    assert_eq!(letters[0]["job"], original.as_str());
    assert_eq!(letters[0]["bookmaker"], "unibet");
    assert_eq!(letters[0]["event"], "11");
    assert_eq!(letters[0]["error_kind"], "event_not_found");
    let reason = letters[0]["error"].as_str().expect("error");
    assert!(reason.contains("not found"), "{reason}");

    fixed.store(true, Ordering::SeqCst);
    let retried = run_xtr(&["dead", "retry", &dead_id], &cli_env(&redis, stream), None).await;
    assert_eq!(retried.status.code(), Some(0), "{}", stderr(&retried));
    let line = stdout(&retried);
    let new_id = line
        .trim_end()
        .strip_prefix(&format!("{dead_id} -> "))
        .unwrap_or_else(|| panic!("expected \"{dead_id} -> <new id>\", got {line:?}"))
        .to_owned();

    wait_until(TIMEOUT, "the retried job's snapshot", || async {
        !read_stream(&client, "xtr:odds").await.is_empty()
    })
    .await;
    wait_drained(&client, stream, GROUP, TIMEOUT).await;
    let results = read_stream(&client, "xtr:odds").await;
    assert_eq!(results.len(), 1);
    assert_eq!(snapshot(&results[0])["job"], new_id.as_str());
    assert_eq!(snapshot(&results[0])["status"], "offered");
    assert!(
        read_stream(&client, dead_stream).await.is_empty(),
        "the dead letter is gone"
    );

    let retried_jobs: Vec<StreamEntry> = read_stream(&client, stream)
        .await
        .into_iter()
        .filter(|(id, _)| *id != original)
        .collect();
    assert_eq!(
        retried_jobs.len(),
        1,
        "back on the stream exactly once: {retried_jobs:?}"
    );
    assert_eq!(retried_jobs[0].0, new_id);
    let expected: HashMap<String, String> = [("bookmaker", "unibet"), ("event", "11")]
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect();
    assert_eq!(
        retried_jobs[0].1, expected,
        "only the job's own fields are copied"
    );

    // A second retry of the same dead letter finds nothing and adds nothing.
    let again = run_xtr(&["dead", "retry", &dead_id], &cli_env(&redis, stream), None).await;
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("not found"), "{}", stderr(&again));
    assert_eq!(read_stream(&client, stream).await.len(), 2);

    worker.signal(15);
    assert_eq!(worker.wait_exit(TIMEOUT), Some(0), "{}", worker.output());
}

#[tokio::test]
async fn dead_retry_selects_by_id_bookmaker_and_all() {
    let redis = RedisServer::start();
    let client = redis.client().await;
    let stream = "jobs";
    let env = cli_env(&redis, stream);
    let unibet_a = add_dead_letter(
        &client,
        stream,
        &[("bookmaker", "unibet"), ("event", "1")],
        "not found",
    )
    .await;
    let other = add_dead_letter(
        &client,
        stream,
        &[("bookmaker", "888sport"), ("event", "2")],
        "not found",
    )
    .await;
    let unibet_b = add_dead_letter(
        &client,
        stream,
        &[
            ("bookmaker", "unibet"),
            ("event", "3"),
            ("markets", "btts,1x2"),
            ("extra", "x"),
        ],
        "malformed",
    )
    .await;
    let no_event = add_dead_letter(
        &client,
        stream,
        &[("bookmaker", "unibet")],
        "missing field \"event\"",
    )
    .await;
    let last = add_dead_letter(
        &client,
        stream,
        &[("bookmaker", "leovegas"), ("event", "5")],
        "not found",
    )
    .await;

    let neither = run_xtr(&["dead", "retry"], &env, None).await;
    assert_ne!(neither.status.code(), Some(0));
    assert!(stderr(&neither).contains("--all"), "{}", stderr(&neither));

    // One unknown id among known ones: nothing is retried.
    let missing = run_xtr(&["dead", "retry", &other, "1-1"], &env, None).await;
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("dead letter 1-1 not found"),
        "{}",
        stderr(&missing)
    );
    assert_eq!(read_stream(&client, stream).await.len(), 0);
    assert_eq!(read_stream(&client, "jobs:dead").await.len(), 5);

    // By id, with a bookmaker filter that the id does not match: skipped.
    let mismatch = run_xtr(
        &["dead", "retry", "--bookmaker", "unibet", &other],
        &env,
        None,
    )
    .await;
    assert_eq!(mismatch.status.code(), Some(0), "{}", stderr(&mismatch));
    assert_eq!(stdout(&mismatch), "");
    assert_eq!(
        stderr(&mismatch),
        format!("skipped {other}: its bookmaker is not unibet\n")
    );
    assert_eq!(read_stream(&client, stream).await.len(), 0);

    let by_bookmaker = run_xtr(
        &["dead", "retry", "--bookmaker", "unibet", "--all"],
        &env,
        None,
    )
    .await;
    assert_eq!(
        by_bookmaker.status.code(),
        Some(0),
        "{}",
        stderr(&by_bookmaker)
    );
    let lines: Vec<String> = stdout(&by_bookmaker).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with(&format!("{unibet_a} -> ")),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with(&format!("{unibet_b} -> ")),
        "{lines:?}"
    );
    // Without a terminal, no progress bar and no summary: only the skipped letter.
    assert_eq!(
        stderr(&by_bookmaker),
        format!("skipped {no_event}: the dead letter has no bookmaker or event field to retry\n")
    );
    let jobs = read_stream(&client, stream).await;
    assert_eq!(jobs.len(), 2);
    assert_eq!(lines[0], format!("{unibet_a} -> {}", jobs[0].0));
    assert_eq!(lines[1], format!("{unibet_b} -> {}", jobs[1].0));
    let fields =
        |entry: &StreamEntry| -> BTreeMap<String, String> { entry.1.clone().into_iter().collect() };
    let expected_a: BTreeMap<String, String> = [("bookmaker", "unibet"), ("event", "1")]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .into();
    let expected_b: BTreeMap<String, String> = [
        ("bookmaker", "unibet"),
        ("event", "3"),
        ("markets", "btts,1x2"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .into();
    assert_eq!(fields(&jobs[0]), expected_a);
    assert_eq!(fields(&jobs[1]), expected_b);
    let remaining: Vec<String> = read_stream(&client, "jobs:dead")
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(remaining, [other.clone(), no_event.clone(), last.clone()]);

    let by_id = run_xtr(&["dead", "retry", &last], &env, None).await;
    assert_eq!(by_id.status.code(), Some(0), "{}", stderr(&by_id));
    assert!(
        stdout(&by_id).starts_with(&format!("{last} -> ")),
        "{}",
        stdout(&by_id)
    );

    let everything = run_xtr(&["dead", "retry", "--all"], &env, None).await;
    assert_eq!(everything.status.code(), Some(0), "{}", stderr(&everything));
    assert!(
        stdout(&everything).starts_with(&format!("{other} -> ")),
        "{}",
        stdout(&everything)
    );
    assert_eq!(stdout(&everything).lines().count(), 1);
    let remaining: Vec<String> = read_stream(&client, "jobs:dead")
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(remaining, [no_event], "the letter without an event stays");
    let events: Vec<String> = read_stream(&client, stream)
        .await
        .into_iter()
        .map(|(_, fields)| fields["event"].clone())
        .collect();
    assert_eq!(events, ["1", "3", "5", "2"]);
}

#[tokio::test]
async fn dead_list_filters_and_limits() {
    let redis = RedisServer::start();
    let client = redis.client().await;
    let stream = "jobs";
    let env = cli_env(&redis, stream);
    let mut unibet = Vec::new();
    for event in ["1", "2", "3"] {
        unibet.push(
            add_dead_letter(
                &client,
                stream,
                &[("bookmaker", "unibet"), ("event", event)],
                "not found",
            )
            .await,
        );
        add_dead_letter(
            &client,
            stream,
            &[("bookmaker", "888sport"), ("event", event)],
            "not found",
        )
        .await;
    }
    let ids = |output: &Output| -> Vec<String> {
        assert_eq!(output.status.code(), Some(0), "{}", stderr(output));
        stdout(output)
            .lines()
            .map(|line| {
                let letter: serde_json::Value =
                    serde_json::from_str(line).expect("each line is JSON");
                letter["id"].as_str().expect("id").to_owned()
            })
            .collect()
    };

    let all = run_xtr(&["dead", "list"], &env, None).await;
    assert_eq!(all.status.code(), Some(0), "{}", stderr(&all));
    assert_eq!(ids(&all).len(), 6);
    let filtered = run_xtr(&["dead", "list", "--bookmaker", "unibet"], &env, None).await;
    assert_eq!(ids(&filtered), unibet, "oldest first");
    let limited = run_xtr(
        &["dead", "list", "--bookmaker", "unibet", "--limit", "2"],
        &env,
        None,
    )
    .await;
    assert_eq!(ids(&limited), unibet[..2]);
    let none = run_xtr(&["dead", "list", "--limit", "0"], &env, None).await;
    assert_eq!(ids(&none), Vec::<String>::new());
    let unknown = run_xtr(&["dead", "list", "--bookmaker", "pinnacle"], &env, None).await;
    assert_eq!(ids(&unknown), Vec::<String>::new());
}

#[tokio::test]
async fn dead_list_pages_through_many_letters() {
    let redis = RedisServer::start();
    let client = redis.client().await;
    let stream = "jobs";
    // More than one XRANGE page of 500, with the matching letters spread over pages.
    let pipeline = client.pipeline();
    for index in 0..1200 {
        let bookmaker = if index % 3 == 0 { "unibet" } else { "888sport" };
        let event = index.to_string();
        let _: () = pipeline
            .xadd(
                "jobs:dead",
                false,
                None,
                "*",
                vec![("bookmaker", bookmaker), ("event", event.as_str())],
            )
            .await
            .unwrap();
    }
    let _: Vec<String> = pipeline.all().await.unwrap();

    let listed = run_xtr(
        &["dead", "list", "--bookmaker", "unibet", "--limit", "1000"],
        &cli_env(&redis, stream),
        None,
    )
    .await;
    assert_eq!(listed.status.code(), Some(0), "{}", stderr(&listed));
    let events: Vec<String> = stdout(&listed)
        .lines()
        .map(|line| {
            let letter: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
            letter["event"].as_str().expect("event").to_owned()
        })
        .collect();
    let expected: Vec<String> = (0..1200)
        .step_by(3)
        .map(|index: i32| index.to_string())
        .collect();
    assert_eq!(events, expected);
}

#[tokio::test]
async fn dead_purge_requires_confirmation() {
    let redis = RedisServer::start();
    let client = redis.client().await;
    let stream = "jobs";
    let env = cli_env(&redis, stream);
    for event in ["1", "2", "3"] {
        add_dead_letter(
            &client,
            stream,
            &[("bookmaker", "unibet"), ("event", event)],
            "not found",
        )
        .await;
    }

    // Standard input is a pipe, not a terminal: a typed "yes" does not count.
    for stdin in [None, Some("yes\n")] {
        let rejected = run_xtr(&["dead", "purge"], &env, stdin).await;
        assert_eq!(rejected.status.code(), Some(1), "stdin {stdin:?}");
        assert!(stderr(&rejected).contains("--yes"), "{}", stderr(&rejected));
        assert_eq!(stdout(&rejected), "");
        assert_eq!(
            read_stream(&client, "jobs:dead").await.len(),
            3,
            "nothing deleted"
        );
    }

    let purged = run_xtr(&["dead", "purge", "--yes"], &env, None).await;
    assert_eq!(purged.status.code(), Some(0), "{}", stderr(&purged));
    assert_eq!(stdout(&purged), "purged 3 dead letters from jobs:dead\n");
    let length: u64 = client.xlen("jobs:dead").await.unwrap();
    assert_eq!(length, 0);
}

// ---------------------------------------------------------------------------------
// xtr enqueue

#[tokio::test]
async fn enqueue_prints_ids_and_adds_jobs() {
    let redis = RedisServer::start();
    let client = redis.client().await;
    let stream = "jobs";
    let env = cli_env(&redis, stream);

    let output = run_xtr(&["enqueue", "unibet", "1007519027", "42", "7"], &env, None).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let ids: Vec<String> = stdout(&output).lines().map(str::to_owned).collect();
    let entries = read_stream(&client, stream).await;
    let entry_ids: Vec<String> = entries.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(ids, entry_ids, "one id per event, in order");
    for ((_, fields), event) in entries.iter().zip(["1007519027", "42", "7"]) {
        let fields: BTreeMap<&str, &str> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            fields,
            BTreeMap::from([("bookmaker", "unibet"), ("event", event)])
        );
    }
    assert_eq!(
        stderr(&output),
        "",
        "no progress bar or notes without a terminal"
    );

    let with_markets = run_xtr(
        &["enqueue", "unibet", "8", "--market", "1x2,btts"],
        &env,
        None,
    )
    .await;
    assert_eq!(
        with_markets.status.code(),
        Some(0),
        "{}",
        stderr(&with_markets)
    );
    let entries = read_stream(&client, stream).await;
    assert_eq!(entries.len(), 4);
    assert_eq!(entries[3].0, stdout(&with_markets).trim_end());
    assert_eq!(entries[3].1["markets"], "btts,1x2");
}

#[tokio::test]
async fn enqueue_rejects_invalid_input_before_adding() {
    let redis = RedisServer::start();
    let client = redis.client().await;
    let stream = "jobs";
    let env = cli_env(&redis, stream);

    for (args, expected) in [
        (
            vec!["enqueue", "unibet", "1", "../../admin", "3"],
            "event id \"../../admin\" is invalid",
        ),
        (
            vec!["enqueue", "unibet", "1", "2", "1?host=evil.example"],
            "is invalid",
        ),
        (
            vec!["enqueue", "nosuchbook", "1"],
            "unknown bookmaker \"nosuchbook\"",
        ),
        (
            vec!["enqueue", "unibet", "1", "--market", "corners"],
            "corners",
        ),
    ] {
        let output = run_xtr(&args, &env, None).await;
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&output).contains(expected),
            "{args:?}: {}",
            stderr(&output)
        );
        assert_eq!(stdout(&output), "", "{args:?}");
        let exists: u64 = client.exists(stream).await.unwrap();
        assert_eq!(exists, 0, "{args:?} added entries");
    }
}

#[tokio::test]
async fn enqueue_many_events_stays_quiet() {
    let redis = RedisServer::start();
    let client = redis.client().await;
    let stream = "jobs";
    // More than one pipeline chunk of 500.
    let events: Vec<String> = (1..=1200).map(|event: u32| event.to_string()).collect();
    let mut args = vec!["enqueue", "unibet"];
    args.extend(events.iter().map(String::as_str));

    let output = run_xtr(&args, &cli_env(&redis, stream), None).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        "",
        "no progress bar or notes without a terminal"
    );
    let ids: Vec<String> = stdout(&output).lines().map(str::to_owned).collect();
    let entries = read_stream(&client, stream).await;
    assert_eq!(ids.len(), 1200);
    assert_eq!(
        ids,
        entries.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>()
    );
    let enqueued: Vec<String> = entries
        .iter()
        .map(|(_, fields)| fields["event"].clone())
        .collect();
    assert_eq!(enqueued, events);
}
