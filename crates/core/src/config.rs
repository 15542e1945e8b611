//! Settings: defaults, then an optional TOML file named by `XTR_CONFIG`, then the
//! environment.
//!
//! The TOML file uses the variable names as keys (`STREAM = "xtr:jobs"`,
//! `XTR_UNIBET_BASE_URL = "..."`), so one table documents both. An unknown key in the
//! file is an error; an unknown `XTR_*` variable in the environment is returned in
//! [`Settings::unknown_variables`] for the caller to warn about, because the environment
//! also carries variables meant for other programs.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::error::{Error, Result};
use crate::extractor::SettingSpec;
use crate::model::WorkerType;

/// One global variable: its name, default and meaning.
#[derive(Debug, Clone, Copy)]
pub struct Variable {
    /// Environment variable name, also the TOML key.
    pub name: &'static str,
    /// Default value, when there is one.
    pub default: Option<&'static str>,
    /// What it sets, with its unit.
    pub description: &'static str,
    /// Whether the value is a credential.
    pub secret: bool,
}

const fn var(
    name: &'static str,
    default: Option<&'static str>,
    description: &'static str,
) -> Variable {
    Variable {
        name,
        default,
        description,
        secret: false,
    }
}

const fn secret(name: &'static str, description: &'static str) -> Variable {
    Variable {
        name,
        default: None,
        description,
        secret: true,
    }
}

/// Every global variable xtr reads. Per-bookmaker variables are listed by
/// [`bookmaker_variables`].
pub const VARIABLES: &[Variable] = &[
    var("STREAM", Some("xtr:jobs"), "job stream"),
    var(
        "XTRTYPE",
        Some("btts-worker"),
        "worker type: the consumer group's name, and the markets it extracts",
    ),
    var(
        "XTR_BATCH",
        Some("3"),
        "jobs per read, run concurrently (1 to 1024)",
    ),
    var("REDIS_HOST", Some("127.0.0.1"), "Redis host"),
    var("REDIS_PORT", Some("6379"), "Redis port"),
    var("REDIS_USERNAME", None, "Redis ACL user name"),
    secret("REDIS_PASSWORD", "Redis password"),
    secret(
        "REDIS_URL",
        "Redis URL (redis:// or rediss://); overrides REDIS_HOST and REDIS_PORT",
    ),
    var(
        "XTR_CONSUMER",
        None,
        "consumer name (default: {hostname}-{pid}, stable across restarts in a container)",
    ),
    var("XTR_RESULTS_STREAM", Some("xtr:odds"), "results stream"),
    var(
        "XTR_RESULTS_MAXLEN",
        Some("1000000"),
        "approximate maximum length of the results stream, in entries",
    ),
    var(
        "XTR_DEAD_MAXLEN",
        Some("100000"),
        "approximate maximum length of the dead-letter stream, in entries",
    ),
    var(
        "XTR_MAX_BODY",
        Some("16777216"),
        "largest bookmaker response accepted, in bytes",
    ),
    var(
        "XTR_LATEST_TTL",
        Some("86400"),
        "seconds a latest value lives in Redis",
    ),
    var(
        "XTR_BLOCK",
        Some("2"),
        "seconds one XREADGROUP blocks waiting for jobs",
    ),
    var(
        "XTR_JOB_DEADLINE",
        Some("20"),
        "seconds one job may take, retries included",
    ),
    var(
        "XTR_CLAIM_IDLE",
        Some("30"),
        "seconds a pending job must be idle before another consumer reclaims it; must exceed XTR_JOB_DEADLINE",
    ),
    var(
        "XTR_MAX_DELIVERIES",
        Some("5"),
        "deliveries after which a job is dead-lettered",
    ),
    var(
        "XTR_SHUTDOWN_DEADLINE",
        Some("8"),
        "seconds in-flight jobs get after SIGTERM before they are abandoned (left pending)",
    ),
    var(
        "XTR_CONSUMER_EXPIRY",
        Some("3600"),
        "seconds after which an idle consumer that owns no pending jobs is removed",
    ),
    var(
        "XTR_MAINTENANCE_INTERVAL",
        Some("5"),
        "seconds between reclaiming, trimming and consumer clean-up rounds",
    ),
    var(
        "XTR_HTTP_TIMEOUT",
        Some("10"),
        "seconds one bookmaker request may take",
    ),
    var(
        "XTR_CONNECT_TIMEOUT",
        Some("5"),
        "seconds a connection to a bookmaker may take",
    ),
    var(
        "XTR_USER_AGENT",
        Some(concat!("xtr/", env!("CARGO_PKG_VERSION"))),
        "User-Agent header of bookmaker requests",
    ),
    var(
        "XTR_HTTP_ADDR",
        None,
        "address of the health and metrics endpoints, such as 0.0.0.0:9000 (off when unset)",
    ),
    var(
        "XTR_RECORD_DIR",
        None,
        "directory where raw bookmaker responses are recorded (off when unset)",
    ),
    var(
        "XTR_RECORD_MAX_FILES",
        Some("1000"),
        "recorded responses kept in XTR_RECORD_DIR; the oldest are deleted",
    ),
    var("XTR_LOG_DIR", None, "log file directory (off when unset)"),
    var("XTR_LOG_FORMAT", Some("text"), "log format: text or json"),
    var(
        "XTR_LOG",
        Some("info"),
        "log filter, in tracing's EnvFilter syntax (info, xtr_worker=debug, ...)",
    ),
    var(
        "XTR_LOG_KEEP_DAYS",
        Some("14"),
        "daily log files kept in XTR_LOG_DIR",
    ),
];

/// The per-bookmaker settings every bookmaker has, as `XTR_<BOOKMAKER>_<NAME>`.
pub const COMMON_BOOKMAKER_SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        name: "BASE_URL",
        description: "API root; every request of this bookmaker must stay under it",
        secret: false,
        default: None,
    },
    SettingSpec {
        name: "PROXY",
        description: "proxy URL for this bookmaker's requests (may hold credentials)",
        secret: true,
        default: None,
    },
    SettingSpec {
        name: "RATE_LIMIT",
        description: "maximum requests per second per process",
        secret: false,
        default: None,
    },
];

/// Returns the prefix of a bookmaker's variables: `unibet` gives `XTR_UNIBET_`,
/// `888sport` gives `XTR_888SPORT_`.
pub fn bookmaker_prefix(bookmaker: &str) -> String {
    let mut prefix = String::from("XTR_");
    prefix.extend(bookmaker.chars().map(|c| {
        if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        }
    }));
    prefix.push('_');
    prefix
}

/// Returns the names of every variable a bookmaker reads, common ones first.
pub fn bookmaker_variables(bookmaker: &str, extra: &[SettingSpec]) -> Vec<String> {
    let prefix = bookmaker_prefix(bookmaker);
    COMMON_BOOKMAKER_SETTINGS
        .iter()
        .chain(extra)
        .map(|spec| format!("{prefix}{}", spec.name))
        .collect()
}

/// What the configuration loader needs to know of one registered bookmaker.
#[derive(Debug, Clone, Copy)]
pub struct BookmakerSpec {
    /// Registered name.
    pub name: &'static str,
    /// Public API root used when `XTR_<BOOKMAKER>_BASE_URL` is unset; none for
    /// operator-hosted platforms.
    pub default_base_url: Option<&'static str>,
    /// Settings beyond the common ones.
    pub settings: &'static [SettingSpec],
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Logging settings.
#[derive(Debug, Clone)]
pub struct LogSettings {
    /// Directory of daily-rotated log files; none writes to stdout only.
    pub dir: Option<PathBuf>,
    /// Output format.
    pub format: LogFormat,
    /// tracing EnvFilter directives.
    pub filter: String,
    /// Daily files kept.
    pub keep_days: usize,
}

/// Redis connection settings.
#[derive(Clone)]
pub struct RedisSettings {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// ACL user name.
    pub username: Option<String>,
    /// Password.
    pub password: Option<SecretString>,
    /// Full URL, overriding host and port.
    pub url: Option<SecretString>,
}

impl fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("url", &self.url.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Settings of bookmaker HTTP requests shared by every bookmaker.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Largest response body accepted, in bytes.
    pub max_body: usize,
    /// Time one request may take.
    pub request_timeout: Duration,
    /// Time a connection may take.
    pub connect_timeout: Duration,
    /// User-Agent header.
    pub user_agent: String,
    /// Directory where raw responses are recorded.
    pub record_dir: Option<PathBuf>,
    /// Recorded responses kept.
    pub record_max_files: usize,
}

/// A per-bookmaker value; secrets are redacted in `Debug`.
#[derive(Clone)]
pub enum SettingValue {
    /// A value that may be shown.
    Plain(String),
    /// A credential.
    Secret(SecretString),
}

impl SettingValue {
    /// Returns the value. Call only where it is used, never to log it.
    pub fn expose(&self) -> &str {
        match self {
            SettingValue::Plain(value) => value,
            SettingValue::Secret(value) => value.expose_secret(),
        }
    }
}

impl fmt::Debug for SettingValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingValue::Plain(value) => fmt::Debug::fmt(value, f),
            SettingValue::Secret(_) => f.write_str("<redacted>"),
        }
    }
}

/// The settings of one bookmaker.
#[derive(Debug, Clone)]
pub struct BookmakerConfig {
    /// Registered name.
    pub name: &'static str,
    /// Prefix of its variables, for error messages.
    pub prefix: String,
    /// API root, when configured or public.
    pub base_url: Option<Url>,
    /// Proxy URL.
    pub proxy: Option<SecretString>,
    /// Maximum requests per second per process.
    pub rate_limit: Option<NonZeroU32>,
    /// Bookmaker-specific values by setting name, defaults applied.
    pub values: BTreeMap<&'static str, SettingValue>,
}

impl BookmakerConfig {
    /// Returns a bookmaker-specific value, or its default, when set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(SettingValue::expose)
    }

    /// Returns the full variable name of a setting, such as `XTR_PINNACLE_API_KEY`.
    pub fn variable(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }
}

/// Every setting of a run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Job stream.
    pub stream: String,
    /// Worker type.
    pub worker_type: WorkerType,
    /// Jobs per read.
    pub batch: usize,
    /// Redis connection.
    pub redis: RedisSettings,
    /// Consumer name.
    pub consumer: String,
    /// Results stream.
    pub results_stream: String,
    /// Approximate cap of the results stream.
    pub results_maxlen: u64,
    /// Approximate cap of the dead-letter stream.
    pub dead_maxlen: u64,
    /// Lifetime of latest values.
    pub latest_ttl: Duration,
    /// Blocking time of one read.
    pub block: Duration,
    /// Time one job may take.
    pub job_deadline: Duration,
    /// Idle time after which pending jobs are reclaimed.
    pub claim_idle: Duration,
    /// Deliveries after which a job is dead-lettered.
    pub max_deliveries: u64,
    /// Time in-flight jobs get after SIGTERM.
    pub shutdown_deadline: Duration,
    /// Idle time after which a consumer without pending jobs is removed.
    pub consumer_expiry: Duration,
    /// Interval of maintenance rounds.
    pub maintenance_interval: Duration,
    /// Health and metrics endpoint address.
    pub http_addr: Option<SocketAddr>,
    /// Bookmaker HTTP settings.
    pub http: HttpSettings,
    /// Logging.
    pub log: LogSettings,
    /// Per-bookmaker settings, by registered name.
    pub bookmakers: BTreeMap<&'static str, BookmakerConfig>,
    /// `XTR_*` environment variables that match no setting, likely typos.
    pub unknown_variables: Vec<String>,
}

impl Settings {
    /// Loads settings from the process environment and the file named by `XTR_CONFIG`.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidConfig`] naming the variable, its value and what is
    /// expected, or when the file cannot be read.
    pub fn load(bookmakers: &[BookmakerSpec]) -> Result<Self> {
        Self::from_env(std::env::vars(), bookmakers)
    }

    /// Loads settings from the given environment (and the file it names in
    /// `XTR_CONFIG`), ignoring the process environment. Tests use this.
    ///
    /// # Errors
    ///
    /// As [`Settings::load`].
    pub fn from_env(
        env: impl IntoIterator<Item = (String, String)>,
        bookmakers: &[BookmakerSpec],
    ) -> Result<Self> {
        let env: HashMap<String, String> = env.into_iter().collect();
        let known = KnownNames::new(bookmakers);

        let mut values = match env.get("XTR_CONFIG").filter(|path| !path.is_empty()) {
            Some(path) => read_file(Path::new(path), &known)?,
            None => HashMap::new(),
        };
        let mut unknown_variables = Vec::new();
        for (name, value) in env {
            if name == "XTR_CONFIG" {
                continue;
            }
            if known.contains(&name) {
                values.insert(name, value);
            } else if name.starts_with("XTR_") {
                unknown_variables.push(name);
            }
        }
        unknown_variables.sort();

        let mut settings = Reader {
            values: &values,
            secrets: &known.secrets,
        }
        .settings(bookmakers)?;
        settings.unknown_variables = unknown_variables;
        Ok(settings)
    }
}

/// Every variable name the loader accepts.
struct KnownNames {
    names: std::collections::HashSet<String>,
    secrets: std::collections::HashSet<String>,
}

impl KnownNames {
    fn new(bookmakers: &[BookmakerSpec]) -> Self {
        let mut names = std::collections::HashSet::new();
        let mut secrets = std::collections::HashSet::new();
        for variable in VARIABLES {
            names.insert(variable.name.to_owned());
            if variable.secret {
                secrets.insert(variable.name.to_owned());
            }
        }
        for bookmaker in bookmakers {
            let prefix = bookmaker_prefix(bookmaker.name);
            for spec in COMMON_BOOKMAKER_SETTINGS.iter().chain(bookmaker.settings) {
                let name = format!("{prefix}{}", spec.name);
                if spec.secret {
                    secrets.insert(name.clone());
                }
                names.insert(name);
            }
        }
        Self { names, secrets }
    }

    fn contains(&self, name: &str) -> bool {
        self.names.contains(name)
    }
}

fn read_file(path: &Path, known: &KnownNames) -> Result<HashMap<String, String>> {
    let file_error = |detail: String| Error::InvalidConfig {
        variable: "XTR_CONFIG".into(),
        value: format!("{:?}", path.display().to_string()),
        expected: format!("a readable TOML file of variable names and values ({detail})"),
    };
    let parsed = config::Config::builder()
        .add_source(config::File::from(path).format(config::FileFormat::Toml))
        .build()
        .map_err(|error| file_error(error.to_string()))?;
    let table: HashMap<String, config::Value> = parsed
        .try_deserialize()
        .map_err(|error| file_error(error.to_string()))?;

    let mut values = HashMap::new();
    for (key, value) in table {
        let name = key.to_ascii_uppercase();
        if !known.contains(&name) {
            return Err(file_error(format!(
                "unknown key {key:?}; keys are the environment variable names, such as STREAM or XTR_BATCH"
            )));
        }
        let text = value
            .into_string()
            .map_err(|_| file_error(format!("{key} must be a string, number or boolean")))?;
        values.insert(name, text);
    }
    Ok(values)
}

/// Typed access to the merged values, with errors that name the variable.
struct Reader<'a> {
    values: &'a HashMap<String, String>,
    secrets: &'a std::collections::HashSet<String>,
}

impl Reader<'_> {
    fn raw(&self, name: &str) -> Option<&str> {
        let from_values = self.values.get(name).map(String::as_str);
        let default = || {
            VARIABLES
                .iter()
                .find(|variable| variable.name == name)
                .and_then(|variable| variable.default)
        };
        from_values.or_else(default)
    }

    fn invalid(&self, name: &str, value: &str, expected: impl Into<String>) -> Error {
        let shown = if !self.secrets.contains(name) {
            format!("{value:?}")
        } else {
            // A URL is shown with its password masked, so the operator sees the
            // mistake; any other secret is not shown at all.
            match Url::parse(value) {
                Ok(mut url) if name.ends_with("URL") || name.ends_with("PROXY") => {
                    if url.password().is_some() {
                        let _ = url.set_password(Some("redacted"));
                    }
                    format!("{:?}", url.as_str())
                }
                _ => "<redacted>".to_owned(),
            }
        };
        Error::InvalidConfig {
            variable: name.to_owned(),
            value: shown,
            expected: expected.into(),
        }
    }

    fn string(&self, name: &str) -> Result<String> {
        match self.raw(name) {
            Some(value) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
            Some(value) => Err(self.invalid(name, value, "a non-empty value")),
            None => Err(self.invalid(name, "", "a value")),
        }
    }

    fn optional(&self, name: &str) -> Option<String> {
        self.raw(name)
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    }

    fn integer<T>(&self, name: &str, min: T, max: T) -> Result<T>
    where
        T: std::str::FromStr + PartialOrd + Copy + fmt::Display,
    {
        let text = self.string(name)?;
        let expected = || format!("a whole number from {min} to {max}");
        let value: T = text
            .parse()
            .map_err(|_| self.invalid(name, &text, expected()))?;
        if value < min || value > max {
            return Err(self.invalid(name, &text, expected()));
        }
        Ok(value)
    }

    fn seconds(&self, name: &str, min: f64, max: f64) -> Result<Duration> {
        let text = self.string(name)?;
        let expected = || format!("a number of seconds from {min} to {max}, such as 2 or 0.5");
        let value: f64 = text
            .parse()
            .map_err(|_| self.invalid(name, &text, expected()))?;
        if !value.is_finite() || value < min || value > max {
            return Err(self.invalid(name, &text, expected()));
        }
        Ok(Duration::from_secs_f64(value))
    }

    fn settings(&self, bookmakers: &[BookmakerSpec]) -> Result<Settings> {
        let worker_type_text = self.string("XTRTYPE")?;
        let worker_type = worker_type_text.parse::<WorkerType>().map_err(|_| {
            let names: Vec<_> = WorkerType::ALL.iter().map(|t| t.as_str()).collect();
            self.invalid(
                "XTRTYPE",
                &worker_type_text,
                format!("one of {}", names.join(", ")),
            )
        })?;

        let redis = self.redis()?;
        let job_deadline = self.seconds("XTR_JOB_DEADLINE", 0.1, 3600.0)?;
        let claim_idle = self.seconds("XTR_CLAIM_IDLE", 0.2, 86_400.0)?;
        if claim_idle <= job_deadline {
            return Err(self.invalid(
                "XTR_CLAIM_IDLE",
                &format!("{}", claim_idle.as_secs_f64()),
                format!(
                    "more seconds than XTR_JOB_DEADLINE ({}), so a running job is never reclaimed",
                    job_deadline.as_secs_f64()
                ),
            ));
        }

        let http_addr = match self.optional("XTR_HTTP_ADDR") {
            Some(text) => Some(text.parse::<SocketAddr>().map_err(|_| {
                self.invalid(
                    "XTR_HTTP_ADDR",
                    &text,
                    "an address and port such as 0.0.0.0:9000",
                )
            })?),
            None => None,
        };

        let mut bookmaker_configs = BTreeMap::new();
        for spec in bookmakers {
            bookmaker_configs.insert(spec.name, self.bookmaker(spec)?);
        }

        Ok(Settings {
            stream: self.string("STREAM")?,
            worker_type,
            batch: self.integer("XTR_BATCH", 1, 1024)?,
            redis,
            consumer: match self.optional("XTR_CONSUMER") {
                Some(name) => name,
                None => default_consumer_name(),
            },
            results_stream: self.string("XTR_RESULTS_STREAM")?,
            results_maxlen: self.integer("XTR_RESULTS_MAXLEN", 1, u64::MAX)?,
            dead_maxlen: self.integer("XTR_DEAD_MAXLEN", 1, u64::MAX)?,
            latest_ttl: Duration::from_secs(self.integer("XTR_LATEST_TTL", 1, 31_536_000)?),
            block: self.seconds("XTR_BLOCK", 0.01, 60.0)?,
            job_deadline,
            claim_idle,
            max_deliveries: self.integer("XTR_MAX_DELIVERIES", 1, 1000)?,
            shutdown_deadline: self.seconds("XTR_SHUTDOWN_DEADLINE", 0.0, 3600.0)?,
            consumer_expiry: self.seconds("XTR_CONSUMER_EXPIRY", 1.0, 31_536_000.0)?,
            maintenance_interval: self.seconds("XTR_MAINTENANCE_INTERVAL", 0.05, 3600.0)?,
            http_addr,
            http: HttpSettings {
                max_body: self.integer("XTR_MAX_BODY", 1024, 1 << 30)?,
                request_timeout: self.seconds("XTR_HTTP_TIMEOUT", 0.05, 600.0)?,
                connect_timeout: self.seconds("XTR_CONNECT_TIMEOUT", 0.05, 600.0)?,
                user_agent: self.string("XTR_USER_AGENT")?,
                record_dir: self.optional("XTR_RECORD_DIR").map(PathBuf::from),
                record_max_files: self.integer("XTR_RECORD_MAX_FILES", 1, 10_000_000)?,
            },
            log: LogSettings {
                dir: self.optional("XTR_LOG_DIR").map(PathBuf::from),
                format: match self.string("XTR_LOG_FORMAT")?.to_ascii_lowercase().as_str() {
                    "text" => LogFormat::Text,
                    "json" => LogFormat::Json,
                    other => return Err(self.invalid("XTR_LOG_FORMAT", other, "text or json")),
                },
                filter: self.string("XTR_LOG")?,
                keep_days: self.integer("XTR_LOG_KEEP_DAYS", 1, 3650)?,
            },
            bookmakers: bookmaker_configs,
            unknown_variables: Vec::new(),
        })
    }

    fn redis(&self) -> Result<RedisSettings> {
        let url = self.optional("REDIS_URL");
        if let Some(text) = &url {
            let valid = Url::parse(text)
                .ok()
                .filter(|url| matches!(url.scheme(), "redis" | "rediss") && url.has_host());
            if valid.is_none() {
                return Err(self.invalid(
                    "REDIS_URL",
                    text,
                    "a URL such as redis://host:6379 or rediss://user:password@host:6380",
                ));
            }
        }
        Ok(RedisSettings {
            host: self.string("REDIS_HOST")?,
            port: self.integer("REDIS_PORT", 1, u16::MAX)?,
            username: self.optional("REDIS_USERNAME"),
            password: self.optional("REDIS_PASSWORD").map(SecretString::from),
            url: url.map(SecretString::from),
        })
    }

    fn bookmaker(&self, spec: &BookmakerSpec) -> Result<BookmakerConfig> {
        let prefix = bookmaker_prefix(spec.name);
        let variable = |name: &str| format!("{prefix}{name}");

        let base_name = variable("BASE_URL");
        let base_text = self
            .optional(&base_name)
            .or_else(|| spec.default_base_url.map(str::to_owned));
        let base_url = match base_text {
            Some(text) => Some(parse_base_url(&text).ok_or_else(|| {
                self.invalid(
                    &base_name,
                    &text,
                    "an http or https URL without query, such as https://api.example.com",
                )
            })?),
            None => None,
        };

        let proxy_name = variable("PROXY");
        let proxy = self.optional(&proxy_name);
        if let Some(text) = &proxy {
            let valid = Url::parse(text).ok().filter(|url| {
                matches!(url.scheme(), "http" | "https" | "socks5" | "socks5h") && url.has_host()
            });
            if valid.is_none() {
                return Err(self.invalid(
                    &proxy_name,
                    text,
                    "a proxy URL such as http://host:3128",
                ));
            }
        }

        let rate_name = variable("RATE_LIMIT");
        let rate_limit = match self.optional(&rate_name) {
            Some(text) => Some(text.parse::<NonZeroU32>().map_err(|_| {
                self.invalid(
                    &rate_name,
                    &text,
                    "a whole number of requests per second, at least 1",
                )
            })?),
            None => None,
        };

        let mut values = BTreeMap::new();
        for setting in spec.settings {
            let name = variable(setting.name);
            let value = self
                .optional(&name)
                .or_else(|| setting.default.map(str::to_owned));
            if let Some(value) = value {
                let value = if setting.secret {
                    SettingValue::Secret(SecretString::from(value))
                } else {
                    SettingValue::Plain(value)
                };
                values.insert(setting.name, value);
            }
        }

        Ok(BookmakerConfig {
            name: spec.name,
            prefix,
            base_url,
            proxy: proxy.map(SecretString::from),
            rate_limit,
            values,
        })
    }
}

/// Parses a base URL and gives it a trailing slash, so joining keeps its path.
fn parse_base_url(text: &str) -> Option<Url> {
    let mut url = Url::parse(text).ok()?;
    if !matches!(url.scheme(), "http" | "https")
        || !url.has_host()
        || url.query().is_some()
        || url.fragment().is_some()
        || url.cannot_be_a_base()
    {
        return None;
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Some(url)
}

/// Returns `{hostname}-{pid}`. In a container the hostname is the container's id and
/// the worker is process 1, so the name survives a restart of the same container and the
/// worker finds its own pending jobs again.
pub fn default_consumer_name() -> String {
    let host = gethostname::gethostname();
    format!("{}-{}", host.to_string_lossy(), std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: &[BookmakerSpec] = &[
        BookmakerSpec {
            name: "unibet",
            default_base_url: Some("https://eu-offering-api.kambicdn.com"),
            settings: &[],
        },
        BookmakerSpec {
            name: "pinnacle",
            default_base_url: None,
            settings: &[SettingSpec {
                name: "API_KEY",
                description: "guest API key",
                secret: true,
                default: None,
            }],
        },
    ];

    fn load(pairs: &[(&str, &str)]) -> Result<Settings> {
        let env = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        Settings::from_env(env, SPECS)
    }

    #[test]
    fn defaults_follow_the_contract() {
        let settings = load(&[]).unwrap();
        assert_eq!(settings.stream, "xtr:jobs");
        assert_eq!(settings.worker_type, WorkerType::Btts);
        assert_eq!(settings.batch, 3);
        assert_eq!(settings.redis.host, "127.0.0.1");
        assert_eq!(settings.redis.port, 6379);
        assert_eq!(settings.results_stream, "xtr:odds");
        assert_eq!(settings.results_maxlen, 1_000_000);
        assert_eq!(settings.http.max_body, 16_777_216);
        assert_eq!(settings.latest_ttl, Duration::from_secs(86_400));
        assert_eq!(settings.log.format, LogFormat::Text);
        assert_eq!(settings.log.filter, "info");
        assert!(settings.log.dir.is_none());
        assert_eq!(settings.claim_idle, Duration::from_secs(30));
        assert_eq!(settings.job_deadline, Duration::from_secs(20));
        assert_eq!(settings.max_deliveries, 5);
        let unibet = &settings.bookmakers["unibet"];
        assert_eq!(
            unibet.base_url.as_ref().unwrap().as_str(),
            "https://eu-offering-api.kambicdn.com/"
        );
        assert!(settings.bookmakers["pinnacle"].base_url.is_none());
    }

    #[test]
    fn environment_overrides_defaults() {
        let settings = load(&[
            ("STREAM", "XTR-BTTS_live_stream"),
            ("XTRTYPE", "1x2-worker"),
            ("XTR_BATCH", "16"),
            ("REDIS_HOST", "redis-stack"),
            ("XTR_UNIBET_BASE_URL", "http://127.0.0.1:8080/kambi"),
            ("XTR_UNIBET_RATE_LIMIT", "5"),
        ])
        .unwrap();
        assert_eq!(settings.stream, "XTR-BTTS_live_stream");
        assert_eq!(settings.worker_type, WorkerType::MatchResult);
        assert_eq!(settings.batch, 16);
        assert_eq!(settings.redis.host, "redis-stack");
        let unibet = &settings.bookmakers["unibet"];
        assert_eq!(
            unibet.base_url.as_ref().unwrap().as_str(),
            "http://127.0.0.1:8080/kambi/"
        );
        assert_eq!(unibet.rate_limit.unwrap().get(), 5);
    }

    #[test]
    fn invalid_batch_names_variable_and_value() {
        let error = load(&[("XTR_BATCH", "lots")]).unwrap_err().to_string();
        assert_eq!(
            error,
            "invalid XTR_BATCH=\"lots\": expected a whole number from 1 to 1024"
        );
        assert!(load(&[("XTR_BATCH", "0")]).is_err());
    }

    #[test]
    fn unknown_worker_type_lists_valid_ones() {
        let error = load(&[("XTRTYPE", "corners-worker")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("\"corners-worker\""), "{error}");
        assert!(
            error.contains(
                "btts-worker, 1x2-worker, totals-worker, ah-worker, dnb-worker, dc-worker, all-markets-worker"
            ),
            "{error}"
        );
    }

    #[test]
    fn secrets_are_redacted_in_errors_and_debug() {
        let error = load(&[("REDIS_URL", "http://user:hunter2@x")])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("REDIS_URL=\"http://user:redacted@x/\""),
            "{error}"
        );
        assert!(!error.contains("hunter2"));
        let error = load(&[("REDIS_PASSWORD", "")])
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert!(
            error.is_ok(),
            "an empty password counts as unset: {error:?}"
        );

        let settings = load(&[
            ("REDIS_PASSWORD", "hunter2"),
            ("XTR_PINNACLE_API_KEY", "key-s3cret"),
            ("XTR_PINNACLE_PROXY", "http://u:proxypass@proxy:3128"),
        ])
        .unwrap();
        let debug = format!("{settings:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("key-s3cret"), "{debug}");
        assert!(!debug.contains("proxypass"), "{debug}");
        assert_eq!(
            settings.bookmakers["pinnacle"].get("API_KEY"),
            Some("key-s3cret")
        );
    }

    #[test]
    fn base_url_must_be_http() {
        let error = load(&[("XTR_UNIBET_BASE_URL", "ftp://x")])
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("invalid XTR_UNIBET_BASE_URL=\"ftp://x\""),
            "{error}"
        );
        assert!(load(&[("XTR_UNIBET_BASE_URL", "http://x/?a=1")]).is_err());
    }

    #[test]
    fn claim_idle_must_exceed_deadline() {
        let error = load(&[("XTR_CLAIM_IDLE", "10"), ("XTR_JOB_DEADLINE", "20")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("XTR_CLAIM_IDLE"), "{error}");
        assert!(error.contains("XTR_JOB_DEADLINE"), "{error}");
    }

    #[test]
    fn unknown_xtr_variables_are_reported() {
        let settings = load(&[("XTR_UNIBET_BASEURL", "x"), ("HOME", "/root")]).unwrap();
        assert_eq!(settings.unknown_variables, ["XTR_UNIBET_BASEURL"]);
    }

    #[test]
    fn toml_file_sets_keys_and_environment_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("xtr.toml");
        std::fs::write(
            &path,
            "STREAM = \"from-file\"\nXTR_BATCH = 7\nxtr_unibet_base_url = \"http://127.0.0.1:1\"\n",
        )
        .unwrap();
        let path_text = path.to_str().unwrap();
        let settings = load(&[("XTR_CONFIG", path_text), ("XTR_BATCH", "9")]).unwrap();
        assert_eq!(settings.stream, "from-file");
        assert_eq!(settings.batch, 9);
        assert_eq!(
            settings.bookmakers["unibet"]
                .base_url
                .as_ref()
                .unwrap()
                .as_str(),
            "http://127.0.0.1:1/"
        );
    }

    #[test]
    fn toml_file_rejects_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("xtr.toml");
        std::fs::write(&path, "STREEM = \"typo\"\n").unwrap();
        let error = load(&[("XTR_CONFIG", path.to_str().unwrap())])
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown key"), "{error}");
        assert!(error.to_lowercase().contains("streem"), "{error}");
    }

    #[test]
    fn missing_toml_file_is_an_error() {
        let error = load(&[("XTR_CONFIG", "/nonexistent/xtr.toml")])
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("invalid XTR_CONFIG=\"/nonexistent/xtr.toml\""),
            "{error}"
        );
    }

    #[test]
    fn bookmaker_prefix_of_digit_names() {
        assert_eq!(bookmaker_prefix("888sport"), "XTR_888SPORT_");
        assert_eq!(bookmaker_prefix("unibet"), "XTR_UNIBET_");
    }
}
