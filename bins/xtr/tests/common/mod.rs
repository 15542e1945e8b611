//! Real components for the runner's tests: a `redis-server` on a free port, a local
//! HTTP stand-in for Kambi's offering API, and the `xtr` binary as a child process.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::net::{Shutdown as SocketShutdown, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
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
        wait_for_pong(self.port, Duration::from_secs(10));
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

    /// Starts a killed server again on the same port and directory, so a test can
    /// observe the port while nothing serves it.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "start_again needs a killed server");
        self.spawn();
    }

    /// Kills the server, deletes its data files and starts it again empty, as a Redis
    /// that lost its data would come back.
    pub fn restart_empty(&mut self) {
        self.kill();
        for file in std::fs::read_dir(self.dir.path()).expect("Redis directory") {
            let path = file.expect("directory entry").path();
            if path.is_dir() {
                std::fs::remove_dir_all(&path).expect("delete Redis data");
            } else {
                std::fs::remove_file(&path).expect("delete Redis data");
            }
        }
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
        assert!(
            started.elapsed() < timeout,
            "nothing listens on port {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until Redis replies `PONG` to `PING`. A server restarted with persistence
/// accepts connections while it loads its data and replies `LOADING` until then.
fn wait_for_pong(port: u16, timeout: Duration) {
    let started = Instant::now();
    loop {
        let answer = TcpStream::connect(("127.0.0.1", port)).and_then(|mut socket| {
            socket.set_read_timeout(Some(Duration::from_secs(1)))?;
            socket.write_all(b"PING\r\n")?;
            let mut reply = [0u8; 64];
            let read = socket.read(&mut reply)?;
            Ok(String::from_utf8_lossy(&reply[..read]).into_owned())
        });
        if answer.is_ok_and(|reply| reply.starts_with("+PONG")) {
            return;
        }
        assert!(
            started.elapsed() < timeout,
            "Redis on port {port} does not answer PING"
        );
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

/// Builds the response to an event id and the number of earlier requests for that id.
type BodyFn = dyn Fn(&str, usize) -> ResponseTemplate + Send + Sync;

/// Serves Kambi event bodies for any event id, built by a function of the id and of
/// the number of earlier requests for that id, and logs each request's arrival.
#[derive(Clone)]
pub struct KambiResponder {
    body: Arc<BodyFn>,
    pub requests: Arc<AtomicU32>,
    arrivals: Arc<Mutex<ArrivalLog>>,
}

/// When requests arrived, in order: all of them, and by event id.
#[derive(Default)]
struct ArrivalLog {
    all: Vec<Instant>,
    by_event: HashMap<String, Vec<Instant>>,
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
        Self::sequence(move |id, _| respond(id))
    }

    /// Serves whatever `respond` returns for an event id and the number of requests
    /// for that id served before this one (0 for the first).
    pub fn sequence(
        respond: impl Fn(&str, usize) -> ResponseTemplate + Send + Sync + 'static,
    ) -> Self {
        Self {
            body: Arc::new(respond),
            requests: Arc::new(AtomicU32::new(0)),
            arrivals: Arc::default(),
        }
    }

    /// Returns the number of requests served.
    pub fn count(&self) -> u32 {
        self.requests.load(Ordering::SeqCst)
    }

    /// Returns the number of requests for one event id.
    pub fn count_for(&self, event: &str) -> usize {
        self.arrivals_for(event).len()
    }

    /// Returns when each request for one event id arrived, in order.
    pub fn arrivals_for(&self, event: &str) -> Vec<Instant> {
        let arrivals = self.arrivals.lock().expect("arrival log");
        arrivals.by_event.get(event).cloned().unwrap_or_default()
    }

    /// Returns when each request arrived, in order, whatever its event.
    pub fn arrivals(&self) -> Vec<Instant> {
        self.arrivals.lock().expect("arrival log").all.clone()
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
        let earlier = {
            let mut arrivals = self.arrivals.lock().expect("arrival log");
            let now = Instant::now();
            arrivals.all.push(now);
            let of_event = arrivals.by_event.entry(id.to_owned()).or_default();
            of_event.push(now);
            of_event.len() - 1
        };
        (self.body)(id, earlier)
    }
}

/// Starts a local Kambi stand-in that answers every event path with `responder`.
pub async fn kambi_server(responder: KambiResponder) -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path_regex(
            r"^/offering/v2018/ub/betoffer/event/[^/]+\.json$",
        ))
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
pub fn worker_env(
    redis: &RedisServer,
    kambi_url: &str,
    stream: &str,
) -> Vec<(&'static str, String)> {
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
        assert!(
            started.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
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
            Some(GroupState {
                pending: 0,
                lag: Some(0),
                ..
            })
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

/// Sets `name` in a worker environment, replacing an earlier value.
pub fn set_var(
    env: &mut Vec<(&'static str, String)>,
    name: &'static str,
    value: impl Into<String>,
) {
    env.retain(|(existing, _)| *existing != name);
    env.push((name, value.into()));
}

impl WorkerProcess {
    /// Returns whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// Returns how many lines of the log contain `text`.
    pub fn log_count(&self, text: &str) -> usize {
        self.output()
            .lines()
            .filter(|line| line.contains(text))
            .count()
    }
}

/// Waits until the worker's log contains `text`.
pub async fn wait_for_log(worker: &WorkerProcess, text: &str, timeout: Duration) {
    wait_until(timeout, &format!("{text:?} in the worker log"), || async {
        worker.log_count(text) > 0
    })
    .await;
}

/// Copies bytes from `from` to `to` until either side closes, holding them while
/// `frozen` is set.
fn pipe(mut from: TcpStream, mut to: TcpStream, frozen: &AtomicBool) {
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        while frozen.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(5));
        }
        if to.write_all(&buffer[..read]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(SocketShutdown::Both);
    let _ = from.shutdown(SocketShutdown::Both);
}

/// A TCP proxy on a free loopback port in front of another loopback port. While
/// frozen it holds every byte in both directions without closing anything, as a network
/// partition that heals would.
pub struct TcpProxy {
    pub port: u16,
    frozen: Arc<AtomicBool>,
    stopped: Arc<AtomicBool>,
}

impl TcpProxy {
    /// Starts a proxy to `upstream` on 127.0.0.1.
    pub fn start(upstream: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy port");
        let port = listener.local_addr().expect("proxy address").port();
        let frozen = Arc::new(AtomicBool::new(false));
        let stopped = Arc::new(AtomicBool::new(false));
        let (frozen_in, stopped_in) = (frozen.clone(), stopped.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stopped_in.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (client_out, server_out) = (
                    client.try_clone().expect("socket"),
                    server.try_clone().expect("socket"),
                );
                let (up, down) = (frozen_in.clone(), frozen_in.clone());
                std::thread::spawn(move || pipe(client, server_out, &up));
                std::thread::spawn(move || pipe(server, client_out, &down));
            }
        });
        Self {
            port,
            frozen,
            stopped,
        }
    }

    /// Holds all traffic from now on.
    pub fn freeze(&self) {
        self.frozen.store(true, Ordering::SeqCst);
    }

    /// Delivers the held traffic and forwards again.
    pub fn thaw(&self) {
        self.frozen.store(false, Ordering::SeqCst);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.thaw();
        self.stopped.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it checks the stop flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Listens on a port that a killed server used and counts the connections made to it,
/// closing each at once, as a port with nothing behind it would refuse them.
pub struct ConnectionCounter {
    accepted: Arc<AtomicU32>,
    stopped: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ConnectionCounter {
    /// Starts counting on 127.0.0.1:`port`.
    pub fn listen(port: u16) -> Self {
        let started = Instant::now();
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", port)) {
                Ok(listener) => break listener,
                Err(error) => {
                    assert!(
                        started.elapsed() < Duration::from_secs(5),
                        "cannot listen on {port}: {error}"
                    );
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        };
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let accepted = Arc::new(AtomicU32::new(0));
        let stopped = Arc::new(AtomicBool::new(false));
        let (accepted_in, stopped_in) = (accepted.clone(), stopped.clone());
        let thread = std::thread::spawn(move || {
            while !stopped_in.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((socket, _)) => {
                        accepted_in.fetch_add(1, Ordering::SeqCst);
                        drop(socket);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Self {
            accepted,
            stopped,
            thread: Some(thread),
        }
    }

    /// Stops listening, frees the port and returns the connections counted.
    pub fn stop(mut self) -> u32 {
        self.stopped.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.join().expect("counter thread");
        }
        self.accepted.load(Ordering::SeqCst)
    }
}

/// A bookmaker stand-in that never responds. It reads each request and holds it until
/// the client closes the connection, tracking how many requests per event are open at
/// once. A worker that gives up on a request closes its connection, so an open request
/// is one a worker is still running.
pub struct HoldingServer {
    pub url: String,
    open: Arc<Mutex<HashMap<String, OpenRequests>>>,
}

/// Request counts of one event at a [`HoldingServer`].
#[derive(Debug, Default, Clone, Copy)]
struct OpenRequests {
    now: u32,
    max: u32,
    received: u32,
}

impl HoldingServer {
    /// Starts the server on a free loopback port.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("server port");
        let url = format!("http://{}", listener.local_addr().expect("server address"));
        let open: Arc<Mutex<HashMap<String, OpenRequests>>> = Arc::default();
        let open_in = open.clone();
        std::thread::spawn(move || {
            for socket in listener.incoming() {
                let Ok(socket) = socket else { continue };
                let open = open_in.clone();
                std::thread::spawn(move || hold(socket, &open));
            }
        });
        Self { url, open }
    }

    /// Returns the requests received for an event.
    pub fn requests(&self, event: &str) -> u32 {
        self.open
            .lock()
            .expect("open requests")
            .get(event)
            .map_or(0, |counts| counts.received)
    }

    /// Returns the largest number of requests for an event that were open at once.
    pub fn max_open(&self, event: &str) -> u32 {
        self.open
            .lock()
            .expect("open requests")
            .get(event)
            .map_or(0, |counts| counts.max)
    }
}

/// Reads one request from `socket` and holds it until the peer closes.
fn hold(mut socket: TcpStream, open: &Mutex<HashMap<String, OpenRequests>>) {
    let mut head = Vec::new();
    let mut buffer = [0u8; 4096];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        match socket.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(read) => head.extend_from_slice(&buffer[..read]),
        }
    }

    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1).unwrap_or("");
    let path = path.split('?').next().unwrap_or("");
    let event = path
        .rsplit('/')
        .next()
        .unwrap_or("")
        .trim_end_matches(".json")
        .to_owned();

    {
        let mut open = open.lock().expect("open requests");
        let counts = open.entry(event.clone()).or_default();
        counts.now += 1;
        counts.max = counts.max.max(counts.now);
        counts.received += 1;
    }

    // Anything more the client sends is ignored, and a read of 0 bytes means it closed.
    while let Ok(read) = socket.read(&mut buffer) {
        if read == 0 {
            break;
        }
    }

    let mut open = open.lock().expect("open requests");
    if let Some(counts) = open.get_mut(&event) {
        counts.now -= 1;
    }
}

/// Sends `GET path` over HTTP/1.0 to `addr` and returns the response body.
pub fn http_get(addr: &str, path: &str) -> Option<String> {
    let mut socket = TcpStream::connect(addr).ok()?;
    socket.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(socket, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut response = String::new();
    socket.read_to_string(&mut response).ok()?;
    let (_, body) = response.split_once("\r\n\r\n")?;
    Some(body.to_owned())
}

/// Returns the value of a metric without labels from the worker's `/metrics`.
pub fn metric(addr: &str, name: &str) -> Option<f64> {
    let body = http_get(addr, "/metrics")?;
    body.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

/// Returns a free loopback address for a worker's `XTR_HTTP_ADDR`.
pub fn free_addr() -> String {
    format!("127.0.0.1:{}", free_port())
}

/// One pending entry as `XPENDING` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEntry {
    pub id: String,
    pub consumer: String,
    pub idle_ms: u64,
    pub deliveries: u64,
}

/// Lists up to 10,000 pending entries of a group, oldest first.
pub async fn pending_entries(client: &Client, stream: &str, group: &str) -> Vec<PendingEntry> {
    let rows: Vec<(String, String, u64, u64)> = client
        .xpending(stream, group, ("-", "+", 10_000))
        .await
        .unwrap_or_default();
    rows.into_iter()
        .map(|(id, consumer, idle_ms, deliveries)| PendingEntry {
            id,
            consumer,
            idle_ms,
            deliveries,
        })
        .collect()
}

/// Lists the consumers of a group; empty when the group does not exist.
pub async fn consumer_list(
    client: &Client,
    stream: &str,
    group: &str,
) -> Vec<xtr_worker::maintenance::ConsumerInfo> {
    xtr_worker::maintenance::consumers(client, stream, group)
        .await
        .unwrap_or_default()
}

/// Returns the entries of a stream that carry `field` = `value`.
pub fn entries_with<'a>(
    entries: &'a [StreamEntry],
    field: &str,
    value: &str,
) -> Vec<&'a StreamEntry> {
    entries
        .iter()
        .filter(|(_, fields)| fields.get(field).is_some_and(|found| found == value))
        .collect()
}

/// Returns the results entries whose snapshot names `job`.
pub fn results_of<'a>(results: &'a [StreamEntry], job: &str) -> Vec<&'a StreamEntry> {
    results
        .iter()
        .filter(|entry| snapshot(entry)["job"] == job)
        .collect()
}

/// Returns the length of a stream, 0 when it does not exist.
pub async fn stream_len(client: &Client, stream: &str) -> u64 {
    client.xlen(stream).await.unwrap_or(0)
}

/// Lists every key of the test Redis.
pub async fn all_keys(client: &Client) -> Vec<String> {
    let keys: Vec<String> = client
        .custom(fred::cmd!("KEYS"), vec!["*"])
        .await
        .expect("KEYS");
    keys
}

/// Returns the `CLIENT LIST` lines of clients blocked in `XREADGROUP`.
pub async fn blocked_readers(client: &Client) -> Vec<String> {
    let list: String = client
        .custom(fred::cmd!("CLIENT"), vec!["LIST"])
        .await
        .expect("CLIENT LIST");
    list.lines()
        .filter(|line| line.contains("cmd=xreadgroup"))
        .filter(|line| {
            line.split_whitespace().any(|field| {
                field
                    .strip_prefix("flags=")
                    .is_some_and(|flags| flags.contains('b'))
            })
        })
        .map(str::to_owned)
        .collect()
}

/// Returns the `id=` field of a `CLIENT LIST` line.
pub fn client_id(line: &str) -> &str {
    line.split_whitespace()
        .find_map(|field| field.strip_prefix("id="))
        .unwrap_or("")
}
