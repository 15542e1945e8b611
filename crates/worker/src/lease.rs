//! Consumer-name leases, which keep consumer names unique per process.
//!
//! A worker holds the key `<STREAM>:lease:<GROUP>:<CONSUMER>`, set to a token of its
//! own with a short expiry that it keeps refreshing. A second process that starts with
//! a name already held waits: when the holder is dead its lease runs out and the new
//! process takes the name over, together with the pending entries left under it. When
//! the holder keeps refreshing, the new process adds a random suffix to its name, so the
//! two never read, claim or recover entries as one consumer.

use std::time::Duration;

use fred::prelude::*;
use fred::types::scripts::Script;
use fred::types::{Expiration, SetOptions};
use tokio::sync::oneshot;
use tokio::time::Instant;
use tracing::{error, info, warn};

use crate::error::WorkerError;
use crate::publish::Streams;
use crate::shutdown::Shutdown;

/// Maximum time between two refreshes of a lease.
const MAX_REFRESH_INTERVAL: Duration = Duration::from_secs(1);

/// A lease lives this many refresh intervals, so one late refresh does not lose it.
const TTL_REFRESHES: u32 = 3;

/// Maximum time a starting worker waits for a held lease to run out before it treats
/// the holder as alive. A holder that refreshes is detected much sooner; this bounds
/// the wait for a holder with a lease far longer than this version's.
const MAX_TAKEOVER_WAIT: Duration = Duration::from_secs(30);

/// Returns 1 when the lease was extended, 2 when it had expired and was taken again,
/// 0 when another process holds it.
const REFRESH_LUA: &str = r#"
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
return 0
"#;

const RELEASE_LUA: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"#;

/// Returns the lease key of a consumer: `<STREAM>:lease:<GROUP>:<CONSUMER>`.
pub fn lease_key(stream: &str, group: &str, consumer: &str) -> String {
    format!("{stream}:lease:{group}:{consumer}")
}

/// Returns the refresh interval of leases for a maintenance interval: the maintenance
/// interval, at most [`MAX_REFRESH_INTERVAL`].
pub fn refresh_interval(maintenance_interval: Duration) -> Duration {
    maintenance_interval.min(MAX_REFRESH_INTERVAL)
}

/// A held consumer name.
#[derive(Debug, Clone)]
pub struct Lease {
    client: Client,
    key: String,
    token: String,
    refresh: Duration,
    /// The consumer name this process reads under.
    pub consumer: String,
}

impl Lease {
    fn ttl_ms(&self) -> i64 {
        ttl(self.refresh).as_millis() as i64
    }

    /// Extends the lease, taking it again when it expired (after a Redis outage longer
    /// than its lifetime, for example).
    ///
    /// # Errors
    ///
    /// Returns the Redis error.
    pub async fn refresh(&self) -> Result<Refreshed, WorkerError> {
        let reply: i64 = Script::from_lua(REFRESH_LUA)
            .evalsha_with_reload(
                &self.client,
                vec![self.key.as_str()],
                vec![Value::from(self.token.as_str()), Value::from(self.ttl_ms())],
            )
            .await
            .map_err(WorkerError::redis("refresh consumer lease"))?;
        Ok(match reply {
            1 => Refreshed::Extended,
            2 => Refreshed::Retaken,
            _ => Refreshed::HeldByOther,
        })
    }

    /// Deletes the lease when this process still holds it.
    ///
    /// # Errors
    ///
    /// Returns the Redis error.
    pub async fn release(&self) -> Result<(), WorkerError> {
        let _: i64 = Script::from_lua(RELEASE_LUA)
            .evalsha_with_reload(
                &self.client,
                vec![self.key.as_str()],
                vec![self.token.as_str()],
            )
            .await
            .map_err(WorkerError::redis("release consumer lease"))?;
        Ok(())
    }

    /// Refreshes the lease every refresh interval until `stop` fires or is dropped, and
    /// returns it then, even from the middle of a refresh.
    /// Failures are logged once per change, not once per attempt.
    pub async fn refresh_until(self, mut stop: oneshot::Receiver<()>) -> Lease {
        let mut last = Refreshed::Extended;
        let mut failing = false;
        loop {
            tokio::select! {
                () = tokio::time::sleep(self.refresh) => {}
                _ = &mut stop => return self,
            }
            // A refresh can wait up to the command timeout when Redis does not reply, and
            // a stopping worker must not wait for it.
            let refreshed = tokio::select! {
                refreshed = self.refresh() => refreshed,
                _ = &mut stop => return self,
            };
            match refreshed {
                Ok(outcome) => {
                    failing = false;
                    if outcome != last {
                        match outcome {
                            Refreshed::Extended => {
                                info!(consumer = %self.consumer, "Consumer lease held again");
                            }
                            Refreshed::Retaken => warn!(
                                consumer = %self.consumer,
                                "Consumer lease had expired (Redis unreachable for longer than its lifetime?); taken again"
                            ),
                            Refreshed::HeldByOther => error!(
                                consumer = %self.consumer,
                                key = %self.key,
                                "Another process took this consumer name while the lease had expired; give each worker its own XTR_CONSUMER"
                            ),
                        }
                    }
                    // A lease taken again is an extended one from the next round on.
                    last = if outcome == Refreshed::Retaken {
                        Refreshed::Extended
                    } else {
                        outcome
                    };
                }
                Err(error) => {
                    if !failing {
                        warn!(error = %error, consumer = %self.consumer, "Refreshing the consumer lease failed; retrying");
                    }
                    failing = true;
                }
            }
        }
    }
}

/// Result of a lease refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refreshed {
    /// This process held the lease and extended it.
    Extended,
    /// The lease had expired and this process set it again.
    Retaken,
    /// Another process holds the lease.
    HeldByOther,
}

fn ttl(refresh: Duration) -> Duration {
    refresh * TTL_REFRESHES
}

/// Takes the lease of `wanted`, or of `wanted` with a random suffix when a live process
/// holds that name, and returns it.
///
/// # Errors
///
/// Returns the Redis error, or [`WorkerError::Stopped`] when the stop signal arrives
/// while waiting for a dead holder's lease to run out.
pub async fn acquire(
    client: &Client,
    streams: &Streams,
    wanted: &str,
    refresh: Duration,
    shutdown: &mut Shutdown,
) -> Result<Lease, WorkerError> {
    let token = format!("{}-{:016x}", std::process::id(), fastrand::u64(..));
    let ttl_ms = ttl(refresh).as_millis() as i64;
    let poll = (refresh / 2).min(Duration::from_millis(100));
    let mut consumer = wanted.to_owned();
    // The holder and remaining lifetime seen at the last poll: a lifetime that grew
    // means the holder refreshed its lease, so it is alive.
    let mut seen: Option<(String, i64)> = None;
    let mut waiting_since = Instant::now();

    loop {
        let key = lease_key(&streams.jobs, &streams.group, &consumer);
        let set: Option<String> = client
            .set(
                &key,
                token.as_str(),
                Some(Expiration::PX(ttl_ms)),
                Some(SetOptions::NX),
                false,
            )
            .await
            .map_err(WorkerError::redis("SET consumer lease"))?;
        if set.is_some() {
            return Ok(Lease {
                client: client.clone(),
                key,
                token,
                refresh,
                consumer,
            });
        }

        let holder: Option<String> = client
            .get(&key)
            .await
            .map_err(WorkerError::redis("GET consumer lease"))?;
        let remaining: i64 = client
            .pttl(&key)
            .await
            .map_err(WorkerError::redis("PTTL consumer lease"))?;
        let Some(holder) = holder else {
            // Expired between the two calls: try again at once.
            continue;
        };
        let refreshed = seen.as_ref().is_some_and(|(last_holder, last_remaining)| {
            *last_holder != holder || remaining > *last_remaining
        });
        if refreshed || remaining < 0 || waiting_since.elapsed() > MAX_TAKEOVER_WAIT {
            let renamed = format!("{wanted}-{:06x}", fastrand::u32(..0x0100_0000));
            warn!(
                consumer = %consumer,
                renamed = %renamed,
                "Consumer name is in use by another running worker; this process reads under a new name. Give each worker its own XTR_CONSUMER"
            );
            consumer = renamed;
            seen = None;
            waiting_since = Instant::now();
            continue;
        }
        if seen.is_none() {
            info!(
                consumer = %consumer,
                remaining_ms = remaining,
                "Consumer name is leased by another process; waiting to see whether it is still alive"
            );
        }
        seen = Some((holder, remaining));
        if shutdown.is_triggered() {
            return Err(WorkerError::Stopped);
        }
        shutdown.sleep(poll).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_key_names_stream_group_and_consumer() {
        assert_eq!(
            lease_key("xtr:jobs", "btts-worker", "host-1"),
            "xtr:jobs:lease:btts-worker:host-1"
        );
    }

    #[test]
    fn refresh_interval_is_capped() {
        assert_eq!(
            refresh_interval(Duration::from_secs(5)),
            Duration::from_secs(1)
        );
        assert_eq!(
            refresh_interval(Duration::from_millis(200)),
            Duration::from_millis(200)
        );
        assert_eq!(ttl(Duration::from_secs(1)), Duration::from_secs(3));
    }
}
