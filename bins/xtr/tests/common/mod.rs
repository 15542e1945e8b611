//! Real components for the runner's tests: a `redis-server` on a free port, a local
//! HTTP stand-in for Kambi's offering API, and the `xtr` binary as a child process.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use fred::prelude::*;
use wiremock::{Request, Respond, ResponseTemplate};

/// Returns a TCP port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

/// A `redis-server` child process on a free loopback port, killed on drop.
pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
    persistent: bool,
}

impl RedisServer {
    /// Starts Redis without persistence.
    pub fn start() -> Self {
        Self::launch(false)
    }

    /// Starts Redis with an append-only file synced on every write, so a SIGKILL loses
    /// nothing and a restart finds the same data.
    pub fn start_persistent() -> Self {
        Self::launch(true)
    }

    fn launch(persistent: bool) -> Self {
        let mut server = Self {
            child: None,
            port: free_port(),
            dir: tempfile::tempdir().expect("temporary directory"),
            persistent,
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let mut command = Command::new(redis_server_binary());
        command
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--bind")
            .arg("127.0.0.1")
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--save")
            .arg("")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if self.persistent {
            command.args(["--appendonly", "yes", "--appendfsync", "always"]);
        } else {
            command.args(["--appendonly", "no"]);
        }
        let child = command.spawn().expect(
            "redis-server must be installed (apt-get install redis-server); .ci/run installs it",
        );
        self.child = Some(child);
        wait_for_port(self.port, Duration::from_secs(10));
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and directory.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Returns a connected client.
    pub async fn client(&self) -> Client {
        let config = Config::from_url(&format!("redis://127.0.0.1:{}", self.port)).expect("URL");
        let client = Builder::from_config(config).build().expect("client");
        client.init().await.expect("connect to the test Redis");
        client
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn redis_server_binary() -> PathBuf {
    std::env::var_os("REDIS_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("redis-server"))
}

fn wait_for_port(port: u16, timeout: Duration) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < timeout, "nothing listens on port {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The Kambi criterion of full-time BTTS and of the full-time match result.
const BTTS_CRITERION: u64 = 1_001_642_858;
const FULL_TIME_CRITERION: u64 = 1_001_159_858;

/// Builds a Kambi `betoffer/event/{id}.json` body in the recorded schema with a BTTS
/// market (odds in thousandths) and a full-time 1X2 market.
pub fn kambi_event(event_id: &str, yes: u32, no: u32) -> String {
    format!(
        r#"{{"betOffers":[
{{"id":5{event_id},"criterion":{{"id":{BTTS_CRITERION},"label":"Beide teams scoren","englishLabel":"Both Teams To Score"}},
  "betOfferType":{{"id":18,"name":"Yes/No","englishName":"Yes/No"}},"eventId":{event_id},
  "outcomes":[{{"id":6{event_id},"label":"Ja","englishLabel":"Yes","odds":{yes},"type":"OT_YES","changedDate":"2021-05-30T07:08:09Z","status":"OPEN"}},
              {{"id":7{event_id},"label":"Nee","englishLabel":"No","odds":{no},"type":"OT_NO","changedDate":"2021-05-30T07:08:09Z","status":"OPEN"}}]}},
{{"id":8{event_id},"criterion":{{"id":{FULL_TIME_CRITERION},"label":"Wedstrijd","englishLabel":"Full Time"}},
  "betOfferType":{{"id":2,"name":"Match","englishName":"Match"}},"eventId":{event_id},
  "outcomes":[{{"id":91{event_id},"label":"1","englishLabel":"1","odds":2100,"type":"OT_ONE","status":"OPEN"}},
              {{"id":92{event_id},"label":"X","englishLabel":"X","odds":3400,"type":"OT_CROSS","status":"OPEN"}},
              {{"id":93{event_id},"label":"2","englishLabel":"2","odds":3300,"type":"OT_TWO","status":"OPEN"}}]}}],
"events":[{{"id":{event_id},"name":"Home FC - Away FC","homeName":"Home FC","awayName":"Away FC",
  "start":"2021-05-30T13:00:00Z","group":"Eliteserien","sport":"FOOTBALL","state":"NOT_STARTED"}}]}}"#
    )
}

/// A Kambi body of an event that offers only the match result (no BTTS).
pub fn kambi_event_without_btts(event_id: &str) -> String {
    format!(
        r#"{{"betOffers":[
{{"id":8{event_id},"criterion":{{"id":{FULL_TIME_CRITERION},"label":"Full Time","englishLabel":"Full Time"}},
  "betOfferType":{{"id":2,"name":"Match","englishName":"Match"}},"eventId":{event_id},
  "outcomes":[{{"id":91{event_id},"label":"1","odds":2100,"type":"OT_ONE","status":"OPEN"}},
              {{"id":92{event_id},"label":"X","odds":3400,"type":"OT_CROSS","status":"OPEN"}},
              {{"id":93{event_id},"label":"2","odds":3300,"type":"OT_TWO","status":"OPEN"}}]}}],
"events":[{{"id":{event_id},"homeName":"Home FC","awayName":"Away FC","start":"2021-05-30T13:00:00Z","group":"Eliteserien","sport":"FOOTBALL","state":"NOT_STARTED"}}]}}"#
    )
}

/// Serves Kambi event bodies for any event id, built by a function of the id, and
/// counts the requests.
#[derive(Clone)]
pub struct KambiResponder {
    body: Arc<dyn Fn(&str) -> ResponseTemplate + Send + Sync>,
    pub requests: Arc<AtomicU32>,
}

impl KambiResponder {
    /// Serves [`kambi_event`] with fixed odds for every event.
    pub fn btts(yes: u32, no: u32) -> Self {
        Self::with(move |id| {
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/json")
                .set_body_string(kambi_event(id, yes, no))
        })
    }

    /// Serves whatever `respond` returns for an event id.
    pub fn with(respond: impl Fn(&str) -> ResponseTemplate + Send + Sync + 'static) -> Self {
        Self {
            body: Arc::new(respond),
            requests: Arc::new(AtomicU32::new(0)),
        }
    }

    /// Returns the number of requests served.
    pub fn count(&self) -> u32 {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Respond for KambiResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let id = request
            .url
            .path_segments()
            .and_then(|mut segments| segments.next_back())
            .and_then(|file| file.strip_suffix(".json"))
            .unwrap_or("");
        (self.body)(id)
    }
}

/// Starts a local Kambi stand-in that answers every event path with `responder`.
pub async fn kambi_server(responder: KambiResponder) -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path_regex(r"^/offering/v2018/ub/betoffer/event/[^/]+\.json$"))
        .respond_with(responder)
        .mount(&server)
        .await;
    server
}

/// Returns the path of the `xtr` binary Cargo built for these tests.
pub fn xtr_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_xtr"))
}

/// Builds a command running `xtr` with a clean environment: only PATH and the given
/// variables, so the developer's own settings cannot leak into a test.
pub fn xtr(args: &[&str], env: &[(&str, String)]) -> Command {
    let mut command = Command::new(xtr_binary());
    command.args(args).env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    command.env("XTR_LOG", "info,xtr_worker=debug");
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

/// The environment of a worker on `stream` against the test Redis and Kambi stand-in,
/// with the contract's variables only, plus short timings for tests.
pub fn worker_env(redis: &RedisServer, kambi_url: &str, stream: &str) -> Vec<(&'static str, String)> {
    vec![
        ("STREAM", stream.to_owned()),
        ("XTRTYPE", "btts-worker".to_owned()),
        ("XTR_BATCH", "3".to_owned()),
        ("REDIS_HOST", "127.0.0.1".to_owned()),
        ("REDIS_PORT", redis.port.to_string()),
        ("XTR_UNIBET_BASE_URL", kambi_url.to_owned()),
        ("XTR_BLOCK", "0.2".to_owned()),
    ]
}

/// A worker child process whose output goes to a log file; killed on drop.
pub struct WorkerProcess {
    pub child: Child,
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

impl WorkerProcess {
    /// Starts `xtr worker` with `env`.
    pub fn start(env: &[(&str, String)]) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let log = dir.path().join("worker.log");
        let file = std::fs::File::create(&log).expect("log file");
        let child = xtr(&["worker"], env)
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .spawn()
            .expect("xtr worker starts");
        Self {
            child,
            log,
            _dir: dir,
        }
    }

    /// Returns what the worker logged so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends a signal by number (15 SIGTERM, 9 SIGKILL, 2 SIGINT).
    pub fn signal(&self, signal: i32) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for the process to exit and returns its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status.code();
            }
            if started.elapsed() > timeout {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` every 50 ms until it returns true, panicking with `what` on timeout.
pub async fn wait_until<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The state of one consumer group.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct GroupState {
    pub pending: u64,
    pub lag: Option<u64>,
    pub entries_read: Option<u64>,
}

/// Reads `XINFO GROUPS` for one group; `None` when the group does not exist.
pub async fn group_state(client: &Client, stream: &str, group: &str) -> Option<GroupState> {
    let groups = xtr_worker::maintenance::groups(client, stream).await.ok()?;
    let found = groups.into_iter().find(|info| info.name == group)?;
    Some(GroupState {
        pending: found.pending,
        lag: found.lag,
        entries_read: None,
    })
}

/// Waits until the group has read everything and has nothing pending.
pub async fn wait_drained(client: &Client, stream: &str, group: &str, timeout: Duration) {
    wait_until(timeout, "the group to drain", || async {
        matches!(
            group_state(client, stream, group).await,
            Some(GroupState { pending: 0, lag: Some(0), .. })
        )
    })
    .await;
}

/// One stream entry with its fields.
pub type StreamEntry = (String, HashMap<String, String>);

/// Reads a whole stream.
pub async fn read_stream(client: &Client, stream: &str) -> Vec<StreamEntry> {
    let entries: Vec<(String, Vec<(String, String)>)> = client
        .xrange(stream, "-", "+", None)
        .await
        .unwrap_or_default();
    entries
        .into_iter()
        .map(|(id, fields)| (id, fields.into_iter().collect()))
        .collect()
}

/// Adds a job entry with the given fields and returns its id.
pub async fn add_job(client: &Client, stream: &str, fields: &[(&str, &str)]) -> String {
    client
        .xadd(stream, false, None, "*", fields.to_vec())
        .await
        .expect("XADD job")
}

/// Parses the `snapshot` field of a results entry.
pub fn snapshot(entry: &StreamEntry) -> serde_json::Value {
    serde_json::from_str(&entry.1["snapshot"]).expect("snapshot is JSON")
}
