//! Work that runs beside the loop, never per batch: trimming the job stream, removing
//! idle consumers and sampling the group's pending count and lag for metrics.

use std::time::Duration;

use fred::prelude::*;
use fred::types::scripts::Script;
use tracing::{debug, info, warn};

use crate::error::WorkerError;
use crate::lease::lease_key;
use crate::metrics::Observability;
use crate::publish::Streams;
use crate::redis::value_string;
use crate::shutdown::Shutdown;

/// One consumer group as `XINFO GROUPS` reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupInfo {
    /// Group name.
    pub name: String,
    /// Consumers in the group.
    pub consumers: u64,
    /// Entries delivered and not acknowledged.
    pub pending: u64,
    /// Id of the last entry delivered to the group.
    pub last_delivered_id: String,
    /// Entries not yet delivered; `None` when Redis cannot tell (after deletions).
    pub lag: Option<u64>,
}

/// One consumer as `XINFO CONSUMERS` reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsumerInfo {
    /// Consumer name.
    pub name: String,
    /// Entries it owns.
    pub pending: u64,
    /// Milliseconds since it last read or claimed.
    pub idle_ms: u64,
}

fn fields(value: Value) -> Vec<(String, Value)> {
    match value {
        Value::Map(map) => map
            .inner()
            .into_iter()
            .map(|(key, value)| {
                (
                    key.as_str().map(|k| k.to_string()).unwrap_or_default(),
                    value,
                )
            })
            .collect(),
        Value::Array(flat) => {
            let mut pairs = Vec::with_capacity(flat.len() / 2);
            let mut iter = flat.into_iter();
            while let (Some(key), Some(value)) = (iter.next(), iter.next()) {
                pairs.push((value_string(&key).unwrap_or_default(), value));
            }
            pairs
        }
        _ => Vec::new(),
    }
}

fn number(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| value_string(value)?.parse().ok())
}

/// Reads `XINFO GROUPS` of a stream; an absent stream has no groups.
///
/// # Errors
///
/// Returns the Redis error, except for a missing stream.
pub async fn groups(client: &Client, stream: &str) -> Result<Vec<GroupInfo>, WorkerError> {
    let value: Value = match client.xinfo_groups(stream).await {
        Ok(value) => value,
        Err(error) if error.details().contains("no such key") => return Ok(Vec::new()),
        Err(source) => {
            return Err(WorkerError::Redis {
                operation: "XINFO GROUPS",
                source,
            });
        }
    };
    Ok(value
        .into_array()
        .into_iter()
        .map(|group| {
            let mut info = GroupInfo::default();
            for (key, value) in fields(group) {
                match key.as_str() {
                    "name" => info.name = value_string(&value).unwrap_or_default(),
                    "consumers" => info.consumers = number(&value).unwrap_or(0),
                    "pending" => info.pending = number(&value).unwrap_or(0),
                    "last-delivered-id" => {
                        info.last_delivered_id = value_string(&value).unwrap_or_default();
                    }
                    "lag" => info.lag = number(&value),
                    _ => {}
                }
            }
            info
        })
        .collect())
}

/// Reads `XINFO CONSUMERS` of a group.
///
/// # Errors
///
/// Returns the Redis error.
pub async fn consumers(
    client: &Client,
    stream: &str,
    group: &str,
) -> Result<Vec<ConsumerInfo>, WorkerError> {
    let value: Value = client
        .xinfo_consumers(stream, group)
        .await
        .map_err(WorkerError::redis("XINFO CONSUMERS"))?;
    Ok(value
        .into_array()
        .into_iter()
        .map(|consumer| {
            let mut info = ConsumerInfo::default();
            for (key, value) in fields(consumer) {
                match key.as_str() {
                    "name" => info.name = value_string(&value).unwrap_or_default(),
                    "pending" => info.pending = number(&value).unwrap_or(0),
                    "idle" => info.idle_ms = number(&value).unwrap_or(0),
                    _ => {}
                }
            }
            info
        })
        .collect())
}

/// Parses a stream id `ms-seq`.
fn parse_id(id: &str) -> Option<(u64, u64)> {
    let (ms, seq) = id.split_once('-')?;
    Some((ms.parse().ok()?, seq.parse().ok()?))
}

/// Returns the smallest id that some group still needs: for each group, its oldest
/// pending entry, or the entry after its last delivered one. Entries below it have been
/// read and acknowledged by every group.
///
/// # Errors
///
/// Returns the Redis error.
pub async fn trim_point(client: &Client, stream: &str) -> Result<Option<(u64, u64)>, WorkerError> {
    let mut point: Option<(u64, u64)> = None;
    for group in groups(client, stream).await? {
        let Some((ms, seq)) = parse_id(&group.last_delivered_id) else {
            return Ok(None);
        };
        let mut needed = (ms, seq.saturating_add(1));
        if group.pending > 0 {
            let summary: Value = client
                .xpending(stream, group.name.as_str(), ())
                .await
                .map_err(WorkerError::redis("XPENDING"))?;
            let oldest = summary
                .into_array()
                .get(1)
                .and_then(value_string)
                .and_then(|id| parse_id(&id));
            match oldest {
                Some(oldest) => needed = needed.min(oldest),
                // Pending but no oldest id: be safe and trim nothing.
                None => return Ok(None),
            }
        }
        point = Some(point.map_or(needed, |current| current.min(needed)));
    }
    Ok(point)
}

/// Trims job entries that every group has read and acknowledged.
///
/// # Errors
///
/// Returns the Redis error.
pub async fn trim_jobs(client: &Client, stream: &str) -> Result<u64, WorkerError> {
    let Some((ms, seq)) = trim_point(client, stream).await? else {
        return Ok(0);
    };
    // NOTE: the point is read before the XTRIM, not atomically with it, so a group
    // created in between from an older id can miss entries below the point.
    // `MINID` keeps every entry at or above the point. The approximate form trims
    // whole internal nodes only, so it may keep a few more, never fewer.
    let removed: u64 = client
        .custom(
            fred::cmd!("XTRIM"),
            vec![
                Value::from(stream),
                Value::from("MINID"),
                Value::from("~"),
                Value::from(format!("{ms}-{seq}")),
            ],
        )
        .await
        .map_err(WorkerError::redis("XTRIM"))?;
    Ok(removed)
}

/// Deletes a consumer only when it owns no pending entry and no live worker holds its
/// lease, checked in the same atomic step: `XGROUP DELCONSUMER` drops the consumer's
/// pending entries, and entries dropped that way would never be delivered again.
/// Returns 1 when deleted, 0 when the consumer no longer exists, -1 when its lease is
/// held, -2 when it owns pending entries.
const DELETE_CONSUMER_LUA: &str = r#"
local stream, group, consumer, lease = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if redis.call('EXISTS', lease) == 1 then return -1 end
if #redis.call('XPENDING', stream, group, '-', '+', 1, consumer) > 0 then return -2 end
return redis.call('XGROUP', 'DELCONSUMER', stream, group, consumer)
"#;

/// Removes consumers of the group idle longer than `expiry` that own no pending
/// entries and hold no lease, except `own`.
///
/// # Errors
///
/// Returns the Redis error.
pub async fn remove_idle_consumers(
    client: &Client,
    stream: &str,
    group: &str,
    own: &str,
    expiry: Duration,
) -> Result<u64, WorkerError> {
    let script = Script::from_lua(DELETE_CONSUMER_LUA);
    let mut removed = 0;
    for consumer in consumers(client, stream, group).await? {
        if consumer.name == own
            || consumer.pending > 0
            || consumer.idle_ms < expiry.as_millis() as u64
        {
            continue;
        }
        let lease = lease_key(stream, group, &consumer.name);
        let deleted: i64 = script
            .evalsha_with_reload(
                client,
                Vec::<Key>::new(),
                vec![stream, group, consumer.name.as_str(), lease.as_str()],
            )
            .await
            .map_err(WorkerError::redis("delete idle consumer"))?;
        match deleted {
            1 => {
                info!(consumer = %consumer.name, idle_ms = consumer.idle_ms, "Removed idle consumer");
                removed += 1;
            }
            -1 => {
                debug!(consumer = %consumer.name, "Idle consumer kept: a live worker holds its lease");
            }
            -2 => {
                debug!(consumer = %consumer.name, "Idle consumer kept: it claimed pending entries since the listing");
            }
            _ => {}
        }
    }
    Ok(removed)
}

/// Runs maintenance rounds every `interval` until the stop signal.
pub async fn run(
    client: Client,
    streams: Streams,
    consumer: String,
    interval: Duration,
    expiry: Duration,
    observability: Observability,
    mut shutdown: Shutdown,
) {
    while !shutdown.is_triggered() {
        match groups(&client, &streams.jobs).await {
            Ok(groups) => {
                if let Some(own) = groups.iter().find(|group| group.name == streams.group) {
                    observability.metrics.set_group(own.pending, own.lag);
                }
            }
            Err(error) => warn!(error = %error, "Reading the group state failed"),
        }
        match trim_jobs(&client, &streams.jobs).await {
            Ok(0) => {}
            Ok(removed) => {
                info!(entries = removed, stream = %streams.jobs, "Trimmed acknowledged jobs");
            }
            Err(error) => warn!(error = %error, "Trimming the job stream failed"),
        }
        match remove_idle_consumers(&client, &streams.jobs, &streams.group, &consumer, expiry).await
        {
            Ok(removed) => observability.metrics.consumers_removed(removed),
            Err(error) if error.is_no_group() => {}
            Err(error) => warn!(error = %error, "Removing idle consumers failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = shutdown.wait() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_ids_parse() {
        assert_eq!(parse_id("1733312345678-3"), Some((1_733_312_345_678, 3)));
        assert_eq!(parse_id("0-0"), Some((0, 0)));
        assert_eq!(parse_id("x"), None);
    }
}
