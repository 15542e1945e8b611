//! Redis connections and the parsing of stream replies.

use std::time::Duration;

use bytes::Bytes;
use fred::prelude::*;
use fred::types::config::{ReconnectPolicy, ServerConfig, TcpConfig};
use secrecy::{ExposeSecret, SecretString};
use xtr_core::config::RedisSettings;

use crate::error::WorkerError;

/// Shortest wait between reconnection attempts, in ms.
const RECONNECT_MIN_DELAY_MS: u32 = 100;
/// Longest wait between reconnection attempts, in ms: bounds the connection rate of a
/// fleet while Redis is down.
const RECONNECT_MAX_DELAY_MS: u32 = 10_000;
/// Random jitter added to each reconnection delay, in ms, so that a fleet does not
/// reconnect in step.
const RECONNECT_JITTER_MS: u32 = 500;

/// How long a command waits for a connection before it fails, beyond the blocking time
/// of the command itself.
pub(crate) const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

fn expose(secret: &SecretString) -> String {
    secret.expose_secret().to_owned()
}

/// Builds a fred client from the settings. `command_timeout` bounds every command,
/// so a call made while Redis is down fails instead of waiting forever.
///
/// # Errors
///
/// Returns [`WorkerError::Config`] for a URL fred rejects.
pub fn client(settings: &RedisSettings, command_timeout: Duration) -> Result<Client, WorkerError> {
    xtr_core::http::install_crypto_provider();
    let mut config = match &settings.url {
        Some(url) => Config::from_url(&expose(url))
            .map_err(|_| WorkerError::Config("REDIS_URL is not a valid Redis URL".into()))?,
        None => Config {
            server: ServerConfig::new_centralized(settings.host.clone(), settings.port),
            ..Config::default()
        },
    };
    if config.username.is_none() {
        config.username.clone_from(&settings.username);
    }
    if config.password.is_none() {
        config.password = settings.password.as_ref().map(expose);
    }

    let mut policy =
        ReconnectPolicy::new_exponential(0, RECONNECT_MIN_DELAY_MS, RECONNECT_MAX_DELAY_MS, 2);
    policy.set_jitter(RECONNECT_JITTER_MS);

    Builder::from_config(config)
        .set_policy(policy)
        .with_connection_config(|connection| {
            connection.connection_timeout = Duration::from_secs(5);
            connection.internal_command_timeout = Duration::from_secs(5);
            connection.max_command_attempts = 3;
            connection.tcp = TcpConfig {
                nodelay: Some(true),
                ..TcpConfig::default()
            };
        })
        .with_performance_config(|performance| {
            performance.default_command_timeout = command_timeout;
        })
        .build()
        .map_err(|error| WorkerError::Config(error.details().to_owned()))
}

/// Describes a fred error in plain words: an I/O error reads "Connection refused"
/// rather than fred's debug form `IO Error: Os { code: 111, ... }`.
pub fn describe_error(error: &fred::error::Error) -> String {
    let details = error.details();
    if let Some(start) = details.find("message: \"") {
        let rest = &details[start + "message: \"".len()..];
        if let Some(end) = rest.find('"') {
            return rest[..end].to_owned();
        }
    }
    if details.is_empty() {
        error.kind().to_str().to_owned()
    } else {
        details.to_owned()
    }
}

/// Returns the Redis address of the settings for messages: `host:port`, or the URL's
/// host and port without credentials.
pub fn address(settings: &RedisSettings) -> String {
    match &settings.url {
        Some(url) => url::Url::parse(url.expose_secret())
            .ok()
            .map(|url| {
                format!(
                    "{}://{}:{}",
                    url.scheme(),
                    url.host_str().unwrap_or("?"),
                    url.port().unwrap_or(6379)
                )
            })
            .unwrap_or_else(|| "REDIS_URL".to_owned()),
        None => format!("{}:{}", settings.host, settings.port),
    }
}

/// One stream entry: its id and its field/value pairs; `None` fields mean the entry
/// was trimmed away while it was still pending.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Stream entry id, such as `1733312345678-0`.
    pub id: String,
    /// Field/value pairs in stream order, or `None` for a deleted entry.
    pub fields: Option<Vec<(Bytes, Bytes)>>,
}

impl Entry {
    /// Returns the value of a field, when present.
    pub fn field(&self, name: &str) -> Option<&Bytes> {
        self.fields
            .as_ref()?
            .iter()
            .find(|(key, _)| key.as_ref() == name.as_bytes())
            .map(|(_, value)| value)
    }
}

fn value_bytes(value: &Value) -> Option<Bytes> {
    match value {
        Value::Bytes(bytes) => Some(bytes.clone()),
        Value::String(text) => Some(text.inner().clone()),
        Value::Integer(number) => Some(Bytes::from(number.to_string())),
        _ => None,
    }
}

pub(crate) fn value_string(value: &Value) -> Option<String> {
    value_bytes(value).map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

fn reply_error(operation: &'static str, detail: impl Into<String>) -> WorkerError {
    WorkerError::Reply {
        operation,
        detail: detail.into(),
    }
}

/// Parses a list of `[id, [field, value, ...]]` entries (nil fields for deleted ones).
pub(crate) fn parse_entries(
    operation: &'static str,
    value: Value,
) -> Result<Vec<Entry>, WorkerError> {
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        other => {
            return Err(reply_error(
                operation,
                format!("expected entries, got {:?}", other.kind()),
            ));
        }
    };
    let mut entries = Vec::with_capacity(items.len());
    for item in items {
        let Value::Array(mut pair) = item else {
            return Err(reply_error(operation, "an entry is not an array"));
        };
        if pair.len() != 2 {
            return Err(reply_error(operation, "an entry is not [id, fields]"));
        }
        let fields_value = pair.pop().unwrap_or(Value::Null);
        let id = pair
            .pop()
            .as_ref()
            .and_then(value_string)
            .ok_or_else(|| reply_error(operation, "an entry id is not a string"))?;
        let fields = match fields_value {
            Value::Null => None,
            Value::Array(flat) => {
                let mut fields = Vec::with_capacity(flat.len() / 2);
                let mut iter = flat.iter();
                while let (Some(key), Some(value)) = (iter.next(), iter.next()) {
                    match (value_bytes(key), value_bytes(value)) {
                        (Some(key), Some(value)) => fields.push((key, value)),
                        _ => return Err(reply_error(operation, "a field is not a string")),
                    }
                }
                Some(fields)
            }
            Value::Map(map) => Some(
                map.inner()
                    .iter()
                    .filter_map(|(key, value)| {
                        Some((key.as_bytes().to_vec().into(), value_bytes(value)?))
                    })
                    .collect(),
            ),
            other => {
                return Err(reply_error(
                    operation,
                    format!("fields of {id} are {:?}", other.kind()),
                ));
            }
        };
        entries.push(Entry { id, fields });
    }
    Ok(entries)
}

/// Parses an `XREADGROUP` reply for one stream (RESP2 array or RESP3 map).
pub(crate) fn parse_read_reply(value: Value) -> Result<Vec<Entry>, WorkerError> {
    const OPERATION: &str = "XREADGROUP";
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(streams) => {
            let mut entries = Vec::new();
            for stream in streams {
                let Value::Array(mut pair) = stream else {
                    return Err(reply_error(OPERATION, "a stream reply is not an array"));
                };
                if pair.len() != 2 {
                    return Err(reply_error(
                        OPERATION,
                        "a stream reply is not [name, entries]",
                    ));
                }
                entries.extend(parse_entries(OPERATION, pair.pop().unwrap_or(Value::Null))?);
            }
            Ok(entries)
        }
        Value::Map(map) => {
            let mut entries = Vec::new();
            for (_, value) in map.inner() {
                entries.extend(parse_entries(OPERATION, value)?);
            }
            Ok(entries)
        }
        other => Err(reply_error(
            OPERATION,
            format!("unexpected {:?}", other.kind()),
        )),
    }
}

/// Parses an `XAUTOCLAIM` reply: the next start id, the claimed entries, and the ids of
/// pending entries that no longer exist (Redis 7 removes those from the pending list
/// and reports them).
pub(crate) fn parse_autoclaim_reply(
    value: Value,
) -> Result<(String, Vec<Entry>, Vec<String>), WorkerError> {
    const OPERATION: &str = "XAUTOCLAIM";
    let Value::Array(mut parts) = value else {
        return Err(reply_error(OPERATION, "reply is not an array"));
    };
    if parts.len() < 2 {
        return Err(reply_error(OPERATION, "reply has fewer than two parts"));
    }
    let deleted = if parts.len() >= 3 {
        parts
            .pop()
            .map(|value| value.into_array().iter().filter_map(value_string).collect())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let entries = parse_entries(OPERATION, parts.pop().unwrap_or(Value::Null))?;
    let next = parts
        .pop()
        .as_ref()
        .and_then(value_string)
        .ok_or_else(|| reply_error(OPERATION, "next id is not a string"))?;
    Ok((next, entries, deleted))
}

/// Creates the consumer group from id `0` with `MKSTREAM`, so jobs enqueued before the
/// first worker started are read too. An existing group is left as it is.
///
/// # Errors
///
/// Returns the Redis error, except `BUSYGROUP` (the group exists).
pub async fn ensure_group(client: &Client, stream: &str, group: &str) -> Result<bool, WorkerError> {
    let created: Result<Value, _> = client.xgroup_create(stream, group, "0", true).await;
    match created {
        Ok(_) => Ok(true),
        Err(error) if error.details().starts_with("BUSYGROUP") => Ok(false),
        Err(source) => Err(WorkerError::Redis {
            operation: "XGROUP CREATE",
            source,
        }),
    }
}
