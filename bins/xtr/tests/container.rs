//! What the Docker image relies on, tested without a Docker engine: the worker's log
//! files and stop signal, `xtr health` as the image's health check, and the static facts
//! of docker/Dockerfile, .dockerignore and docker-bake.hcl.

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::*;
use xtr_core::config::VARIABLES;

const TIMEOUT: Duration = Duration::from_secs(20);

/// `docker stop` sends STOPSIGNAL, then kills the container after 10 s by default.
const DOCKER_STOP_TIMEOUT: Duration = Duration::from_secs(10);

// ----- The worker as the image runs it -----

/// A worker started with the image's log and HTTP settings, its standard output and
/// standard error captured in separate files.
struct ImageWorker {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
    log_dir: tempfile::TempDir,
    http_addr: SocketAddr,
    _output_dir: tempfile::TempDir,
}

impl ImageWorker {
    /// Starts `xtr worker` with `env` plus `XTR_LOG_DIR` (a new directory) and
    /// `XTR_HTTP_ADDR` (a free loopback port).
    fn start(mut env: Vec<(&'static str, String)>) -> Self {
        let log_dir = tempfile::tempdir().expect("log directory");
        let output_dir = tempfile::tempdir().expect("output directory");
        let http_addr: SocketAddr = format!("127.0.0.1:{}", free_port())
            .parse()
            .expect("address");
        env.push(("XTR_LOG_DIR", log_dir.path().display().to_string()));
        env.push(("XTR_HTTP_ADDR", http_addr.to_string()));

        let stdout = output_dir.path().join("stdout");
        let stderr = output_dir.path().join("stderr");
        let child = xtr(&["worker"], &env)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).expect("stdout file"))
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("xtr worker starts");
        Self {
            child,
            stdout,
            stderr,
            log_dir,
            http_addr,
            _output_dir: output_dir,
        }
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Returns the names of the files in the log directory.
    fn log_files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.log_dir.path())
            .expect("read the log directory")
            .map(|entry| {
                entry
                    .expect("directory entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

    /// Returns the contents of every file in the log directory.
    fn log_text(&self) -> String {
        self.log_files()
            .iter()
            .map(|name| std::fs::read_to_string(self.log_dir.path().join(name)).unwrap_or_default())
            .collect()
    }

    fn signal(&self, signal: i32) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for the process to exit and returns its exit code and how long it took.
    fn wait_exit(&mut self, timeout: Duration) -> (Option<i32>, Duration) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return (status.code(), started.elapsed());
            }
            if started.elapsed() > timeout {
                return (None, started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn describe(&self) -> String {
        format!(
            "stdout:\n{}\nstderr:\n{}\nlog files {:?}:\n{}",
            self.stdout(),
            self.stderr(),
            self.log_files(),
            self.log_text()
        )
    }
}

impl Drop for ImageWorker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` every 50 ms until it returns true or `timeout` passes.
fn poll(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < timeout {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    check()
}

/// Returns today's UTC date as `YYYY-MM-DD`, the date tracing-appender puts in daily
/// file names.
fn utc_date() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    let days = i64::try_from(seconds / 86_400).expect("days fit in i64");
    // Civil date from a day count (Howard Hinnant's `civil_from_days`).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn run_health(env: &[(&str, String)]) -> Output {
    xtr(&["health"], env)
        .stdin(Stdio::null())
        .output()
        .expect("xtr health runs")
}

#[tokio::test]
async fn worker_writes_daily_log_file_and_stdout() {
    let redis = RedisServer::start();
    let kambi = kambi_server(KambiResponder::btts(1630, 2230)).await;
    let date_before = utc_date();
    let mut worker = ImageWorker::start(worker_env(&redis, &kambi.uri(), "container-logs"));

    let started = poll(TIMEOUT, || worker.log_text().contains("Worker starting"));
    assert!(
        started,
        "no start line in the log directory: {}",
        worker.describe()
    );
    let date_after = utc_date();

    let files = worker.log_files();
    assert_eq!(files.len(), 1, "one log file per day: {files:?}");
    let expected: BTreeSet<String> = [&date_before, &date_after]
        .iter()
        .map(|date| format!("xtr.{date}.log"))
        .collect();
    assert!(
        expected.contains(&files[0]),
        "log file {:?}, expected one of {expected:?}",
        files[0]
    );

    let log_text = worker.log_text();
    assert!(
        !log_text.contains('\u{1b}'),
        "the log file holds ANSI colour codes: {log_text}"
    );
    assert!(
        worker.stdout().contains("Worker starting"),
        "stdout keeps the log: {}",
        worker.describe()
    );

    worker.signal(15);
    let (code, _) = worker.wait_exit(TIMEOUT);
    assert_eq!(code, Some(0), "{}", worker.describe());
    // The file writer runs on a background thread; its buffer is flushed at exit.
    assert!(
        worker.log_text().contains("Worker exited cleanly"),
        "{}",
        worker.describe()
    );
    assert!(
        worker.stdout().contains("Worker exited cleanly"),
        "{}",
        worker.describe()
    );
}

#[tokio::test]
async fn worker_exits_zero_on_sigterm_in_time() {
    let redis = RedisServer::start();
    let kambi = kambi_server(KambiResponder::btts(1630, 2230)).await;
    let client = redis.client().await;
    let stream = "container-sigterm";
    let mut worker = ImageWorker::start(worker_env(&redis, &kambi.uri(), stream));

    add_job(
        &client,
        stream,
        &[("bookmaker", "unibet"), ("event", "1007519027")],
    )
    .await;
    wait_drained(&client, stream, "btts-worker", TIMEOUT).await;

    worker.signal(15);
    let (code, elapsed) = worker.wait_exit(TIMEOUT);
    assert_eq!(code, Some(0), "{}", worker.describe());
    assert!(
        elapsed < DOCKER_STOP_TIMEOUT,
        "an idle worker took {elapsed:?} to stop, longer than docker stop waits: {}",
        worker.describe()
    );
}

// ----- `xtr health`, the image's HEALTHCHECK -----

#[tokio::test]
async fn health_succeeds_against_running_worker() {
    let redis = RedisServer::start();
    let kambi = kambi_server(KambiResponder::btts(1630, 2230)).await;
    let worker = ImageWorker::start(worker_env(&redis, &kambi.uri(), "container-health"));
    let addr = worker.http_addr.to_string();

    let healthy = poll(TIMEOUT, || {
        run_health(&[("XTR_HTTP_ADDR", addr.clone())])
            .status
            .success()
    });
    assert!(healthy, "xtr health never exited 0: {}", worker.describe());

    let output = run_health(&[("XTR_HTTP_ADDR", addr.clone())]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let output = xtr(&["health", "--addr", &addr], &[])
        .output()
        .expect("xtr health runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "--addr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The image sets XTR_HTTP_ADDR=0.0.0.0:9000; `xtr health` reaches such an address
/// through 127.0.0.1. The worker here listens on 127.0.0.1 only.
#[tokio::test]
async fn health_reaches_unspecified_address_on_loopback() {
    let redis = RedisServer::start();
    let kambi = kambi_server(KambiResponder::btts(1630, 2230)).await;
    let worker = ImageWorker::start(worker_env(&redis, &kambi.uri(), "container-health-any"));
    let addr = format!("0.0.0.0:{}", worker.http_addr.port());

    let healthy = poll(TIMEOUT, || {
        run_health(&[("XTR_HTTP_ADDR", addr.clone())])
            .status
            .success()
    });
    assert!(
        healthy,
        "xtr health with {addr} never exited 0: {}",
        worker.describe()
    );
}

#[test]
fn health_fails_when_nothing_listens() {
    let addr = format!("127.0.0.1:{}", free_port());
    let output = run_health(&[("XTR_HTTP_ADDR", addr.clone())]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("unhealthy"), "{stderr}");
    assert!(
        stderr.contains(&addr),
        "the message names the address: {stderr}"
    );
}

#[test]
fn health_without_address_fails() {
    let output = run_health(&[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("XTR_HTTP_ADDR"), "{stderr}");
}

// ----- Static facts of the image files -----

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read_repository_file(path: &str) -> String {
    let path = repository_root().join(path);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("failed to read {}: {error}", path.display()))
}

/// One Dockerfile instruction: its keyword in upper case and its arguments, with line
/// continuations joined.
#[derive(Debug, Clone)]
struct Instruction {
    keyword: String,
    arguments: String,
}

/// One build stage: the `FROM` image, the stage name and the instructions after it.
#[derive(Debug)]
struct Stage {
    image: String,
    name: Option<String>,
    instructions: Vec<Instruction>,
}

impl Stage {
    fn all(&self, keyword: &str) -> Vec<&str> {
        self.instructions
            .iter()
            .filter(|instruction| instruction.keyword == keyword)
            .map(|instruction| instruction.arguments.as_str())
            .collect()
    }

    fn last(&self, keyword: &str) -> Option<&str> {
        self.all(keyword).last().copied()
    }

    /// Returns the variables the stage's `ENV` instructions set.
    fn environment(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        for arguments in self.all("ENV") {
            for pair in arguments.split_whitespace() {
                let (name, value) = pair
                    .split_once('=')
                    .unwrap_or_else(|| panic!("use ENV NAME=value, not {arguments:?}"));
                pairs.push((name.to_owned(), value.trim_matches('"').to_owned()));
            }
        }
        pairs
    }
}

/// The parsed docker/Dockerfile: the `ARG`s before the first `FROM`, and the stages.
#[derive(Debug)]
struct Dockerfile {
    global_args: Vec<(String, String)>,
    stages: Vec<Stage>,
}

impl Dockerfile {
    fn read() -> Self {
        Self::parse(&read_repository_file("docker/Dockerfile"))
    }

    fn parse(text: &str) -> Self {
        let mut instructions = Vec::new();
        let mut current = String::new();
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
                continue;
            }
            match trimmed.strip_suffix('\\') {
                Some(part) => {
                    current.push_str(part);
                    current.push(' ');
                }
                None => {
                    current.push_str(trimmed);
                    let logical = std::mem::take(&mut current);
                    let (keyword, arguments) =
                        logical.split_once(' ').unwrap_or((logical.as_str(), ""));
                    instructions.push(Instruction {
                        keyword: keyword.to_ascii_uppercase(),
                        arguments: arguments.split_whitespace().collect::<Vec<_>>().join(" "),
                    });
                }
            }
        }

        let mut global_args = Vec::new();
        let mut stages: Vec<Stage> = Vec::new();
        for instruction in instructions {
            if instruction.keyword == "FROM" {
                let words: Vec<&str> = instruction.arguments.split(' ').collect();
                let name = match words.as_slice() {
                    [_, keyword, name] if keyword.eq_ignore_ascii_case("as") => {
                        Some((*name).to_owned())
                    }
                    _ => None,
                };
                stages.push(Stage {
                    image: words[0].to_owned(),
                    name,
                    instructions: Vec::new(),
                });
            } else if let Some(stage) = stages.last_mut() {
                stage.instructions.push(instruction);
            } else if instruction.keyword == "ARG" {
                let (name, default) = instruction
                    .arguments
                    .split_once('=')
                    .unwrap_or((&instruction.arguments, ""));
                global_args.push((name.to_owned(), default.to_owned()));
            }
        }
        Self {
            global_args,
            stages,
        }
    }

    /// Returns the image a stage starts from with the global `ARG` defaults substituted,
    /// following `FROM <stage>` back to a registry image.
    fn base_image(&self, stage: &Stage) -> String {
        if let Some(parent) = self
            .stages
            .iter()
            .find(|other| other.name.as_deref() == Some(stage.image.as_str()))
        {
            return self.base_image(parent);
        }
        let mut image = stage.image.clone();
        for (name, default) in &self.global_args {
            image = image
                .replace(&format!("${{{name}}}"), default)
                .replace(&format!("${name}"), default);
        }
        image
    }

    fn runtime(&self) -> &Stage {
        self.stages.last().expect("the Dockerfile has a stage")
    }
}

/// Returns the bookmaker features of bins/xtr (every feature but `default` and `all`)
/// and the members of `all`.
fn bookmaker_features() -> (BTreeSet<String>, BTreeSet<String>) {
    let manifest = read_repository_file("bins/xtr/Cargo.toml");
    let section = manifest
        .split("\n[features]\n")
        .nth(1)
        .expect("bins/xtr/Cargo.toml has [features]");
    let section = section.split("\n[").next().unwrap_or(section);
    let mut features = BTreeSet::new();
    let mut all = BTreeSet::new();
    for line in section.lines() {
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let name = name.trim();
        if name.starts_with('#') {
            continue;
        }
        if name == "all" {
            all = value
                .trim()
                .trim_matches(|c| c == '[' || c == ']')
                .split(',')
                .map(|member| member.trim().trim_matches('"').to_owned())
                .filter(|member| !member.is_empty())
                .collect();
        } else if name != "default" {
            features.insert(name.to_owned());
        }
    }
    (features, all)
}

#[test]
fn dockerfile_builds_with_cargo_chef() {
    let dockerfile = Dockerfile::read();
    let runs: Vec<&str> = dockerfile
        .stages
        .iter()
        .flat_map(|stage| stage.all("RUN"))
        .collect();
    assert!(
        dockerfile.stages.len() >= 3,
        "chef, build and runtime stages: {:?}",
        dockerfile.stages
    );
    assert!(
        runs.iter().any(|run| run.contains("cargo chef prepare")),
        "{runs:?}"
    );
    assert!(
        runs.iter().any(|run| run.contains("cargo chef cook")),
        "{runs:?}"
    );
    assert!(
        runs.iter().any(|run| run.contains("cargo build")),
        "{runs:?}"
    );
}

#[test]
fn dockerfile_cargo_steps_share_features() {
    let dockerfile = Dockerfile::read();
    let mut cargo_steps = 0;
    for stage in &dockerfile.stages {
        for run in stage.all("RUN") {
            if !(run.contains("cargo build") || run.contains("cargo chef cook")) {
                continue;
            }
            cargo_steps += 1;
            assert!(
                run.contains(r#"--no-default-features --features "$FEATURES""#),
                "every compiling cargo step takes the same features: {run}"
            );
            assert!(run.contains("--release"), "{run}");
            assert!(run.contains("--locked"), "{run}");
            assert!(run.contains("-p xtr"), "{run}");
            assert!(
                stage.all("ARG").contains(&"FEATURES=all"),
                "stage {:?} compiles without ARG FEATURES=all",
                stage.name
            );
        }
    }
    assert_eq!(cargo_steps, 2, "cargo chef cook and cargo build");
}

#[test]
fn dockerfile_default_features_cover_every_bookmaker() {
    let (features, all) = bookmaker_features();
    assert!(features.contains("kambi"), "{features:?}");
    assert_eq!(
        all, features,
        "the `all` feature, the image's default, lists every bookmaker feature"
    );
    let runtime = Dockerfile::read();
    assert!(
        runtime.runtime().all("ARG").contains(&"FEATURES=all"),
        "the runtime stage labels its features"
    );
}

#[test]
fn dockerfile_runtime_matches_build_c_library() {
    let dockerfile = Dockerfile::read();
    let builder = dockerfile
        .stages
        .iter()
        .find(|stage| {
            stage
                .all("RUN")
                .iter()
                .any(|run| run.contains("cargo build"))
        })
        .expect("a stage runs cargo build");
    let build_image = dockerfile.base_image(builder);
    let runtime_image = dockerfile.base_image(dockerfile.runtime());

    let release = runtime_image
        .strip_prefix("debian:")
        .and_then(|tag| tag.strip_suffix("-slim"))
        .unwrap_or_else(|| panic!("the runtime is debian:<release>-slim, not {runtime_image}"));
    assert!(build_image.starts_with("rust:"), "{build_image}");
    assert!(
        build_image.ends_with(&format!("-{release}")),
        "the build image {build_image} and the runtime {runtime_image} must share a Debian release (glibc)"
    );
}

#[test]
fn dockerfile_runs_as_bookie() {
    let runtime = Dockerfile::read();
    let runtime = runtime.runtime();
    assert_eq!(
        runtime.last("USER"),
        Some("bookie"),
        "the last USER is bookie"
    );

    let runs = runtime.all("RUN").join("\n");
    assert!(runs.contains("useradd"), "{runs}");
    assert!(
        runs.contains("--create-home"),
        "bookie has its own home: {runs}"
    );
    assert!(runs.contains("--home-dir /home/bookie"), "{runs}");
    assert!(runs.contains(" bookie"), "{runs}");
    assert!(
        runs.contains("mkdir -p /main /var/log/extractors"),
        "{runs}"
    );
    assert!(
        runs.contains("chown bookie:bookie /var/log/extractors"),
        "{runs}"
    );
    assert!(
        runs.contains("ca-certificates"),
        "TLS roots for HTTPS: {runs}"
    );

    let user_index = runtime
        .instructions
        .iter()
        .position(|instruction| instruction.keyword == "USER")
        .expect("a USER instruction");
    let root_steps_after_user = runtime.instructions[user_index..]
        .iter()
        .filter(|instruction| matches!(instruction.keyword.as_str(), "RUN" | "COPY" | "ADD"))
        .count();
    assert_eq!(
        root_steps_after_user, 0,
        "RUN, COPY and ADD come before USER bookie"
    );
}

#[test]
fn dockerfile_installs_binary_in_main() {
    let runtime = Dockerfile::read();
    let runtime = runtime.runtime();
    assert!(
        runtime
            .all("COPY")
            .iter()
            .any(|copy| copy.starts_with("--from=") && copy.ends_with(" /main/xtr")),
        "{:?}",
        runtime.all("COPY")
    );
    assert_eq!(runtime.last("WORKDIR"), Some("/main"));
}

#[test]
fn dockerfile_entrypoint_is_exec_form() {
    let runtime = Dockerfile::read();
    let runtime = runtime.runtime();
    let entrypoint: Vec<String> =
        serde_json::from_str(runtime.last("ENTRYPOINT").expect("ENTRYPOINT"))
            .expect("ENTRYPOINT is a JSON array");
    assert_eq!(entrypoint, ["/main/xtr"]);
    let command: Vec<String> =
        serde_json::from_str(runtime.last("CMD").expect("CMD")).expect("CMD is a JSON array");
    assert_eq!(command, ["worker"]);
    assert_eq!(runtime.last("STOPSIGNAL"), Some("SIGTERM"));
}

#[test]
fn dockerfile_healthcheck_uses_xtr_health() {
    let runtime = Dockerfile::read();
    let healthcheck = runtime
        .runtime()
        .last("HEALTHCHECK")
        .expect("HEALTHCHECK")
        .to_owned();
    let (_, command) = healthcheck
        .split_once("CMD ")
        .expect("HEALTHCHECK ... CMD [...]");
    let command: Vec<String> =
        serde_json::from_str(command).expect("the health command is a JSON array");
    assert_eq!(command, ["/main/xtr", "health"]);
}

#[test]
fn dockerfile_sets_image_environment() {
    let runtime = Dockerfile::read();
    let environment = runtime.runtime().environment();
    let get = |name: &str| {
        environment
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    assert_eq!(get("REDIS_HOST"), Some("redis-stack"));
    assert_eq!(get("XTR_LOG_DIR"), Some("/var/log/extractors"));
    let http_addr = get("XTR_HTTP_ADDR").expect("XTR_HTTP_ADDR is set");
    assert!(
        http_addr.parse::<SocketAddr>().is_ok(),
        "XTR_HTTP_ADDR={http_addr}"
    );

    for (name, _) in &environment {
        let variable = VARIABLES.iter().find(|variable| variable.name == name);
        let variable = variable.unwrap_or_else(|| panic!("ENV {name} is not a variable xtr reads"));
        assert!(
            !variable.secret,
            "ENV {name} would bake a secret into the image"
        );
    }
}

#[test]
fn dockerfile_copies_no_env_file() {
    let dockerfile = Dockerfile::read();
    for stage in &dockerfile.stages {
        for keyword in ["COPY", "ADD"] {
            for arguments in stage.all(keyword) {
                assert!(!arguments.contains(".env"), "{keyword} {arguments}");
            }
        }
        for arguments in stage.all("ARG") {
            let name = arguments.split('=').next().unwrap_or(arguments);
            let secret = VARIABLES
                .iter()
                .any(|variable| variable.secret && variable.name == name)
                || ["PASSWORD", "TOKEN", "SECRET", "KEY", "PROXY"]
                    .iter()
                    .any(|word| name.contains(word));
            assert!(
                !secret,
                "ARG {name} would record a secret in the image history"
            );
        }
    }
}

#[test]
fn dockerfile_has_oci_labels() {
    let runtime = Dockerfile::read();
    let labels = runtime.runtime().all("LABEL").join(" ");
    for key in [
        "org.opencontainers.image.title",
        "org.opencontainers.image.source",
        "org.opencontainers.image.licenses",
        "org.opencontainers.image.version",
        "org.opencontainers.image.revision",
    ] {
        assert!(
            labels.contains(&format!("{key}=")),
            "missing label {key}: {labels}"
        );
    }
}

#[test]
fn dockerignore_excludes_target_git_and_env() {
    let text = read_repository_file(".dockerignore");
    let patterns: BTreeSet<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();
    for pattern in ["target/", ".git/", ".env", ".env.*", "**/.env", "**/.env.*"] {
        assert!(
            patterns.contains(pattern),
            ".dockerignore lacks {pattern}: {patterns:?}"
        );
    }
    assert!(
        !patterns.iter().any(|pattern| pattern.starts_with('!')),
        "no exception may bring an ignored file back: {patterns:?}"
    );
}

/// Returns the body of `target "name" { ... }` in docker-bake.hcl.
fn bake_target<'a>(bake: &'a str, name: &str) -> Option<&'a str> {
    let start = bake.find(&format!("target \"{name}\" {{"))?;
    let body = &bake[start..];
    let end = body.find("\n}")?;
    Some(&body[..end])
}

#[test]
fn bake_builds_every_bookmaker_image() {
    let bake = read_repository_file("docker-bake.hcl");
    let (features, _) = bookmaker_features();
    let group = bake
        .split("group \"default\"")
        .nth(1)
        .and_then(|rest| rest.split('}').next())
        .expect("docker-bake.hcl has a default group");

    let mut images: Vec<(String, String)> = features
        .iter()
        .map(|feature| (feature.clone(), feature.clone()))
        .collect();
    images.push(("bookmakers".to_owned(), "all".to_owned()));
    for (target, features) in images {
        let body = bake_target(&bake, &target)
            .unwrap_or_else(|| panic!("docker-bake.hcl has no target {target:?}"));
        let body = body.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            body.contains(&format!("FEATURES = \"{features}\"")),
            "target {target}: {body}"
        );
        assert!(
            body.contains(&format!("\"extractors/{target}:")),
            "target {target} is tagged extractors/{target}: {body}"
        );
        assert!(
            group.contains(&format!("\"{target}\"")),
            "the default group lacks {target}: {group}"
        );
    }
}
