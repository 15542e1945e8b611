//! Publishing a batch's results in one server-side script.
//!
//! One `EVALSHA` per batch stores every snapshot, adds the changed ones to the results
//! stream, writes dead letters and acknowledges the jobs. A Lua script runs atomically,
//! so no crash can fall between storing a job's results and acknowledging it, and the
//! batch costs one round trip besides its `XREADGROUP`.
//!
//! Publishing is idempotent per job id and market key, in two checks:
//!
//! - Each job's part of the script first checks that the job is still in the group's
//!   pending list. A job can be delivered twice: reclaimed while a slow first run was
//!   still going, or sent again by fred after a reconnect. Only the run that
//!   acknowledges it publishes it, and the other run finds it gone and writes nothing.
//! - A snapshot names its job, so a latest value that already names the job shows that
//!   this job has published that market key. This catches a job delivered again after
//!   its acknowledgement, when its group was reset or recreated from an older id.
//!
//! Redis does not roll a script back when a command inside it fails, so each snapshot
//! is added to the results stream before its latest value is stored: a script that
//! fails midway leaves no latest value whose change was never published.

use bytes::Bytes;
use fred::prelude::*;
use fred::types::scripts::Script;
use xtr_core::snapshot::SnapshotRecord;

use crate::error::WorkerError;

/// Prefix of the latest-value keys: `xtr:latest:{bookmaker}:{event}:{kind}:{period}:{line}`.
pub const LATEST_PREFIX: &str = "xtr:latest:";

/// Dead-letter fields copied from a job are cut to this many bytes each, so a job with a
/// huge field cannot blow up the dead-letter stream.
const MAX_DEAD_FIELD_BYTES: usize = 4096;
/// At most this many fields of a job are copied into its dead letter.
const MAX_DEAD_FIELDS: usize = 32;

const PUBLISH_LUA: &str = r#"
-- ARGV: job stream, group, results stream, results maxlen, latest ttl (s),
-- dead stream, dead maxlen, retry-error hash, then per job: id, action, item count, items.
-- Action P items: latest key, snapshot, fragment start, fragment end, bookmaker, event, kind.
-- Action D items: field, value pairs of the dead letter.
-- Action A: acknowledge only (the entry no longer exists).
-- Action R item: the error of a job left pending for a retry; not acknowledged.
local stream, group = ARGV[1], ARGV[2]
local results, results_maxlen, ttl = ARGV[3], ARGV[4], ARGV[5]
local dead, dead_maxlen, errors = ARGV[6], ARGV[7], ARGV[8]
local published, unchanged, skipped, repeated = 0, 0, 0, 0
local i = 9
while i <= #ARGV do
  local id, action, count = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  i = i + 3
  local width = 2
  if action == 'P' then width = 7 end
  if action == 'A' then width = 0 end
  if action == 'R' then width = 1 end
  local pending = #redis.call('XPENDING', stream, group, id, id, 1) > 0
  if action == 'R' then
    if pending then
      redis.call('HSET', errors, id, ARGV[i])
      redis.call('EXPIRE', errors, ttl)
    end
  elseif not pending then
    skipped = skipped + 1
  else
    if action == 'P' then
      local own = '"job":"' .. id .. '"'
      for k = 0, count - 1 do
        local at = i + k * 7
        local key, snapshot = ARGV[at], ARGV[at + 1]
        local old = redis.call('GET', key)
        local fragment = string.sub(snapshot, tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3]))
        if old and string.find(old, own, 1, true) then
          repeated = repeated + 1
        elseif old and string.find(old, fragment, 1, true) then
          unchanged = unchanged + 1
        else
          redis.call('XADD', results, 'MAXLEN', '~', results_maxlen, '*',
            'snapshot', snapshot, 'bookmaker', ARGV[at + 4], 'event', ARGV[at + 5], 'kind', ARGV[at + 6])
          published = published + 1
        end
        redis.call('SET', key, snapshot, 'EX', ttl)
      end
    elseif action == 'D' then
      local fields = {}
      for k = 0, count * 2 - 1 do fields[k + 1] = ARGV[i + k] end
      redis.call('XADD', dead, 'MAXLEN', '~', dead_maxlen, '*', unpack(fields))
    end
    redis.call('XACK', stream, group, id)
    redis.call('HDEL', errors, id)
  end
  i = i + count * width
end
return {published, unchanged, skipped, repeated}
"#;

/// Returns the publish script, to load once per connection.
pub fn script() -> Script {
    Script::from_lua(PUBLISH_LUA)
}

/// Counts of what one script call wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PublishCounts {
    /// Snapshots added to the results stream.
    pub published: u64,
    /// Snapshots whose outcomes equalled the stored latest value: key refreshed only.
    pub unchanged: u64,
    /// Jobs skipped because another run had already acknowledged them. Retry errors
    /// of jobs no longer pending are dropped without being counted here.
    pub skipped: u64,
    /// Snapshots not added to the results stream because the same job had already
    /// published that market key.
    pub repeated: u64,
}

/// The stream names and limits the script needs.
#[derive(Debug, Clone)]
pub struct Streams {
    /// Job stream.
    pub jobs: String,
    /// Consumer group.
    pub group: String,
    /// Results stream.
    pub results: String,
    /// Approximate cap of the results stream.
    pub results_maxlen: u64,
    /// Lifetime of latest values, in seconds.
    pub latest_ttl_secs: u64,
    /// Dead-letter stream.
    pub dead: String,
    /// Approximate cap of the dead-letter stream.
    pub dead_maxlen: u64,
}

impl Streams {
    /// Returns the dead-letter stream of a job stream: `<STREAM>:dead`.
    pub fn dead_letter_stream(jobs: &str) -> String {
        format!("{jobs}:dead")
    }

    /// Returns the hash of the last error of each job left pending for a retry:
    /// `<STREAM>:errors:<GROUP>`. The publish script deletes a job's field when it
    /// acknowledges the job, and the hash expires after the latest-value lifetime.
    pub fn retry_errors_key(&self) -> String {
        format!("{}:errors:{}", self.jobs, self.group)
    }
}

/// The script arguments of one batch, built job by job.
#[derive(Debug, Default)]
pub struct Batch {
    args: Vec<Value>,
    jobs: usize,
}

impl Batch {
    /// Returns whether no job was added.
    pub fn is_empty(&self) -> bool {
        self.jobs == 0
    }

    /// Returns the number of jobs added.
    pub fn len(&self) -> usize {
        self.jobs
    }

    /// Moves the jobs of `other` into this batch.
    pub fn append(&mut self, mut other: Batch) {
        self.args.append(&mut other.args);
        self.jobs += other.jobs;
    }

    fn push(&mut self, value: impl Into<Value>) {
        self.args.push(value.into());
    }

    /// Adds a job's snapshots: each is stored as the latest value and, when its outcomes
    /// changed, added to the results stream.
    ///
    /// # Errors
    ///
    /// Returns serde_json's error when a record cannot be serialized.
    pub fn add_snapshots(
        &mut self,
        job_id: &str,
        event: &str,
        records: &[SnapshotRecord<'_>],
    ) -> Result<(), serde_json::Error> {
        self.push(job_id);
        self.push("P");
        self.push(records.len() as i64);
        for record in records {
            let json = serde_json::to_vec(record)?;
            let (start, end) = outcome_fragment(&json);
            let key = format!(
                "{LATEST_PREFIX}{}:{}:{}",
                record.bookmaker,
                record.event.id,
                record.key_suffix()
            );
            self.push(key);
            self.push(Bytes::from(json));
            // Lua strings are 1-based and `string.sub` includes both ends.
            self.push((start + 1) as i64);
            self.push(end as i64);
            self.push(record.bookmaker);
            self.push(event);
            self.push(record.market.kind.as_str());
        }
        self.jobs += 1;
        Ok(())
    }

    /// Adds a dead letter: the job's fields (cut to a bounded size), then `error`, `job`
    /// and the extra fields given, such as the error kind and delivery count.
    pub fn add_dead_letter(
        &mut self,
        job_id: &str,
        fields: Option<&[(Bytes, Bytes)]>,
        error: &str,
        extra: &[(&str, String)],
    ) {
        let mut pairs: Vec<(Bytes, Bytes)> = Vec::new();
        for (key, value) in fields.unwrap_or_default().iter().take(MAX_DEAD_FIELDS) {
            if matches!(key.as_ref(), b"error" | b"job") {
                continue;
            }
            let value = if value.len() > MAX_DEAD_FIELD_BYTES {
                let mut cut = value.slice(..MAX_DEAD_FIELD_BYTES).to_vec();
                cut.extend_from_slice(format!("…[cut from {} bytes]", value.len()).as_bytes());
                Bytes::from(cut)
            } else {
                value.clone()
            };
            pairs.push((key.slice(..key.len().min(MAX_DEAD_FIELD_BYTES)), value));
        }
        pairs.push((Bytes::from_static(b"error"), Bytes::from(error.to_owned())));
        pairs.push((Bytes::from_static(b"job"), Bytes::from(job_id.to_owned())));
        for (key, value) in extra {
            pairs.push((Bytes::from(key.to_string()), Bytes::from(value.clone())));
        }

        self.push(job_id);
        self.push("D");
        self.push(pairs.len() as i64);
        for (key, value) in pairs {
            self.push(key);
            self.push(value);
        }
        self.jobs += 1;
    }

    /// Adds the error of a job left pending for a retry, stored in the retry-error hash
    /// only while the job is still pending, so that its dead letter can state why it
    /// failed. The job is not acknowledged.
    pub fn add_retry_error(&mut self, job_id: &str, error: &str) {
        self.push(job_id);
        self.push("R");
        self.push(1);
        self.push(error);
        self.jobs += 1;
    }

    /// Adds an acknowledgement of an entry that no longer exists.
    pub fn add_ack(&mut self, job_id: &str) {
        self.push(job_id);
        self.push("A");
        self.push(0);
        self.jobs += 1;
    }

    /// Runs the script for the batch.
    ///
    /// # Errors
    ///
    /// Returns the Redis error; the jobs then stay pending and are retried.
    pub async fn publish(
        &self,
        client: &Client,
        script: &Script,
        streams: &Streams,
    ) -> Result<PublishCounts, WorkerError> {
        if self.is_empty() {
            return Ok(PublishCounts::default());
        }
        let mut args: Vec<Value> = Vec::with_capacity(self.args.len() + 8);
        args.push(streams.jobs.as_str().into());
        args.push(streams.group.as_str().into());
        args.push(streams.results.as_str().into());
        args.push((streams.results_maxlen as i64).into());
        args.push((streams.latest_ttl_secs as i64).into());
        args.push(streams.dead.as_str().into());
        args.push((streams.dead_maxlen as i64).into());
        args.push(streams.retry_errors_key().into());
        args.extend(self.args.iter().cloned());

        let reply: Vec<i64> = script
            .evalsha_with_reload(client, Vec::<Key>::new(), args)
            .await
            .map_err(WorkerError::redis("publish batch"))?;
        let count = |index: usize| reply.get(index).copied().unwrap_or(0).max(0) as u64;
        Ok(PublishCounts {
            published: count(0),
            unchanged: count(1),
            skipped: count(2),
            repeated: count(3),
        })
    }
}

/// Returns the byte range of `"status":...,"outcomes":[...]` in a serialized record:
/// what is compared with the stored latest value to decide whether the outcomes changed.
///
/// The record's field order is fixed, and neither the event nor the market part has a
/// `status` key; a quote inside a string value is always escaped, so the first
/// `"status":"` is the record's own.
fn outcome_fragment(json: &[u8]) -> (usize, usize) {
    let start = find(json, b"\"status\":\"").unwrap_or(0);
    let end = find(&json[start..], b",\"changed_at\":").map_or(json.len(), |offset| start + offset);
    (start, end)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragment_spans_status_and_outcomes() {
        let json = br#"{"schema":1,"event":{"id":"1","home":"A \"status\":\"x"},"market":{"kind":"btts"},"status":"offered","outcomes":[{"outcome":"yes","status":"open"}],"changed_at":null,"observed_at":"t"}"#;
        let (start, end) = outcome_fragment(json);
        assert_eq!(
            std::str::from_utf8(&json[start..end]).unwrap(),
            r#""status":"offered","outcomes":[{"outcome":"yes","status":"open"}]"#
        );
    }

    #[test]
    fn dead_letter_fields_are_cut() {
        let mut batch = Batch::default();
        let huge = Bytes::from(vec![b'x'; MAX_DEAD_FIELD_BYTES * 3]);
        let fields = vec![
            (
                Bytes::from_static(b"bookmaker"),
                Bytes::from_static(b"unibet"),
            ),
            (Bytes::from_static(b"event"), huge),
            (Bytes::from_static(b"error"), Bytes::from_static(b"forged")),
        ];
        batch.add_dead_letter("1-0", Some(&fields), "invalid job: too long", &[]);
        assert_eq!(batch.len(), 1);
        let texts: Vec<Vec<u8>> = batch
            .args
            .iter()
            .map(|value| value.as_bytes().map(<[u8]>::to_vec).unwrap_or_default())
            .collect();
        let event_value = texts
            .iter()
            .position(|text| text == b"event")
            .map(|index| &texts[index + 1])
            .unwrap();
        assert!(event_value.len() < MAX_DEAD_FIELD_BYTES + 64);
        assert!(String::from_utf8_lossy(event_value).ends_with("[cut from 12288 bytes]"));
        let errors: Vec<_> = texts
            .iter()
            .filter(|text| text.as_slice() == b"error")
            .collect();
        assert_eq!(
            errors.len(),
            1,
            "the job's own error field must not be copied"
        );
    }
}
