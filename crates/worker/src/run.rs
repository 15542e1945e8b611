//! The worker loop: read a batch, run its jobs concurrently, publish, acknowledge.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use fred::prelude::*;
use fred::types::scripts::Script;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::oneshot;
use tracing::{Instrument, debug, error, info, info_span, warn};
use xtr_core::config::Settings;
use xtr_core::registry::Extractors;
use xtr_core::snapshot::snapshot_records;
use xtr_core::{Error, Event, EventMarkets, MarketStatus, Timestamp};

use crate::error::WorkerError;
use crate::job::Job;
use crate::lease::{self, Lease};
use crate::metrics::{JobOutcome, Observability, unix_millis};
use crate::publish::{Batch, PublishCounts, Streams};
use crate::redis::{self, Entry, parse_autoclaim_reply, parse_read_reply};
use crate::repeats::{Repeats, Verdict};
use crate::shutdown::Shutdown;
use xtr_core::record::Recorder;

/// After the first job of a batch finishes, the others get this long before the
/// finished ones are published without them, so one slow bookmaker does not hold back
/// the results of the rest of its batch.
const FLUSH_AFTER: Duration = Duration::from_millis(250);

/// Longest pause between retries of a failed Redis call.
const MAX_REDIS_BACKOFF: Duration = Duration::from_secs(10);

/// Maximum wait for the lease release and the `QUIT`s at exit, which must not keep a
/// stopping worker alive when Redis is unreachable.
const EXIT_TIMEOUT: Duration = Duration::from_millis(500);

/// A worker: one consumer of the job stream's group.
#[derive(Debug)]
pub struct Worker {
    settings: Arc<Settings>,
    extractors: Extractors,
    reader: Client,
    writer: Client,
    script: Script,
    streams: Streams,
    observability: Observability,
    lease: Lease,
    /// Where responses that made a parser fail are saved, when `XTR_RECORD_DIR` is set.
    recorder: Option<Arc<Recorder>>,
    /// Counts repeated job errors so each kind is logged once per window.
    repeats: Repeats,
}

/// One job's result, ready to publish.
struct JobReport {
    bookmaker: String,
    outcome: JobOutcome,
    started: Instant,
    part: Batch,
}

impl Worker {
    /// Connects to Redis (waiting for it with backoff while it is down), creates the
    /// consumer group when missing, loads the publish script and takes the lease of the
    /// consumer name.
    ///
    /// # Errors
    ///
    /// Returns an error for settings fred rejects, or [`WorkerError::Stopped`] when
    /// the stop signal arrives before the worker is ready.
    pub async fn connect(
        settings: Settings,
        extractors: Extractors,
        observability: Observability,
        mut shutdown: Shutdown,
    ) -> Result<Self, WorkerError> {
        let reader = redis::client(&settings.redis, settings.block + redis::COMMAND_TIMEOUT)?;
        let writer = redis::client(&settings.redis, redis::COMMAND_TIMEOUT)?;
        for client in [&reader, &writer] {
            // fred reports a client's first connection as a reconnection too, so the
            // counter skips it. Subscribing before `connect` guarantees that the
            // first event seen is the first connection.
            let metrics = observability.metrics.clone();
            let health = observability.health.clone();
            let first = AtomicBool::new(true);
            client.on_reconnect(move |_server| {
                if !first.swap(false, Ordering::Relaxed) {
                    metrics.redis_reconnect();
                }
                health.set_redis_connected(true);
                async { Ok(()) }
            });
            // A broken connection shows in /readyz at once, not only when the next
            // command times out.
            let health = observability.health.clone();
            client.on_error(move |_error| {
                health.set_redis_connected(false);
                async { Ok(()) }
            });
            client.connect();
        }
        // Redis may start after the worker (compose, a restarted node): wait for it
        // with the same backoff as any outage instead of exiting.
        let mut failures = 0;
        loop {
            let connected = tokio::select! {
                connected = async {
                    reader.wait_for_connect().await?;
                    writer.wait_for_connect().await
                } => connected,
                () = shutdown.wait() => return Err(WorkerError::Stopped),
            };
            let Err(error) = connected else {
                break;
            };
            failures += 1;
            observability.health.progress();
            warn!(
                address = %redis::address(&settings.redis),
                error = %redis::describe_error(&error),
                failures,
                "Connecting to Redis failed, retrying"
            );
            shutdown.sleep(backoff(failures)).await;
            for client in [&reader, &writer] {
                if !client.is_connected() {
                    client.connect();
                }
            }
        }

        let streams = Streams {
            jobs: settings.stream.clone(),
            group: settings.worker_type.as_str().to_owned(),
            results: settings.results_stream.clone(),
            results_maxlen: settings.results_maxlen,
            latest_ttl_secs: settings.latest_ttl.as_secs(),
            dead: Streams::dead_letter_stream(&settings.stream),
            dead_maxlen: settings.dead_maxlen,
        };
        let script = crate::publish::script();
        let mut stop = shutdown.clone();
        tokio::select! {
            prepared = prepare(&writer, &script, &streams, &observability, &mut shutdown) => prepared?,
            () = stop.wait() => return Err(WorkerError::Stopped),
        }

        let refresh = lease::refresh_interval(settings.maintenance_interval);
        let mut failures = 0;
        let lease = loop {
            let acquired = tokio::select! {
                acquired = lease::acquire(&writer, &streams, &settings.consumer, refresh, &mut shutdown) => acquired,
                () = stop.wait() => return Err(WorkerError::Stopped),
            };
            match acquired {
                Ok(lease) => break lease,
                Err(WorkerError::Stopped) => return Err(WorkerError::Stopped),
                Err(error) => {
                    failures += 1;
                    warn!(error = %error, failures, "Taking the consumer lease failed, retrying");
                    shutdown.sleep(backoff(failures)).await;
                }
            }
        };
        let mut settings = settings;
        settings.consumer.clone_from(&lease.consumer);
        info!(
            stream = %streams.jobs,
            group = %streams.group,
            consumer = %settings.consumer,
            "Worker connected to Redis"
        );
        let recorder = settings
            .http
            .record_dir
            .as_ref()
            .map(|dir| Arc::new(Recorder::new(dir.clone(), settings.http.record_max_files)));
        Ok(Self {
            settings: Arc::new(settings),
            extractors,
            reader,
            writer,
            script,
            streams,
            observability,
            lease,
            recorder,
            repeats: Repeats::default(),
        })
    }

    /// Runs until the stop signal: first the consumer's own pending entries (left by an
    /// earlier run under the same consumer name), then new jobs, reclaiming idle pending
    /// jobs of other consumers every maintenance interval. After the signal it finishes
    /// or abandons the in-flight batch by `XTR_SHUTDOWN_DEADLINE` and returns.
    ///
    /// # Errors
    ///
    /// Returns only errors that retrying cannot fix; Redis outages are waited out.
    pub async fn run(self, mut shutdown: Shutdown) -> Result<(), WorkerError> {
        let health = self.observability.health.clone();
        health.progress();
        let (stop_refreshing, refreshing_stopped) = oneshot::channel();
        let refresher = tokio::spawn(self.lease.clone().refresh_until(refreshing_stopped));

        self.recover_own_pending(&mut shutdown).await;

        let mut claim_cursor = String::from("0-0");
        let mut next_claim = Instant::now() + self.settings.maintenance_interval;
        let mut failures = 0u32;
        let mut no_group_recreated = false;

        while !shutdown.is_triggered() {
            if Instant::now() >= next_claim {
                next_claim = Instant::now() + self.settings.maintenance_interval;
                let Some(claim) = self
                    .before_stop_deadline(&shutdown, self.claim_idle(&claim_cursor))
                    .await
                else {
                    break;
                };
                match claim {
                    Ok((cursor, claimed)) => {
                        // The scan of the pending list stopped before its end and found
                        // work: continue it at once, so a backlog drains at batch speed.
                        if cursor != "0-0" && !claimed.is_empty() {
                            next_claim = Instant::now();
                        }
                        claim_cursor = cursor;
                        if !claimed.is_empty() {
                            self.process(claimed, &mut shutdown).await;
                            continue;
                        }
                    }
                    // The read below reports a missing group and recreates it.
                    Err(error) if error.is_no_group() => claim_cursor = String::from("0-0"),
                    Err(error) => warn!(error = %error, "Reclaiming idle pending jobs failed"),
                }
            }

            // A read blocks at most XTR_BLOCK, so after a stop it normally ends well
            // within the deadline; it is abandoned only when Redis does not reply.
            let Some(read) = self.before_stop_deadline(&shutdown, self.read_new()).await else {
                warn!("Reading jobs did not finish by the shutdown deadline; stopping without it");
                break;
            };
            health.progress();
            match read {
                Ok(entries) => {
                    failures = 0;
                    no_group_recreated = false;
                    health.set_redis_connected(true);
                    health.set_group_present(true);
                    if !entries.is_empty() {
                        let with_counts = entries.into_iter().map(|entry| (entry, 1)).collect();
                        self.process(with_counts, &mut shutdown).await;
                    }
                }
                Err(error) if error.is_no_group() => {
                    health.set_group_present(false);
                    failures += 1;
                    if no_group_recreated {
                        // Recreated once already and still missing: something keeps
                        // deleting it. Back off instead of looping on it.
                        warn!(error = %error, failures, "Consumer group still missing, backing off");
                        shutdown.sleep(backoff(failures)).await;
                        no_group_recreated = false;
                        continue;
                    }
                    error!(
                        stream = %self.streams.jobs,
                        group = %self.streams.group,
                        "Consumer group is missing (Redis restarted without its data?); recreating it from id 0"
                    );
                    no_group_recreated = true;
                    if let Err(error) =
                        redis::ensure_group(&self.writer, &self.streams.jobs, &self.streams.group)
                            .await
                    {
                        warn!(error = %error, "Recreating the consumer group failed");
                        shutdown.sleep(backoff(failures)).await;
                    }
                }
                Err(error) => {
                    failures += 1;
                    health.set_redis_connected(false);
                    warn!(error = %error, failures, "Reading jobs failed, retrying with backoff");
                    shutdown.sleep(backoff(failures)).await;
                }
            }
        }

        health.set_draining();
        info!(consumer = %self.settings.consumer, "Worker stopped reading jobs and exits");
        let _ = stop_refreshing.send(());
        let lease = refresher.await.ok();
        let closed = tokio::time::timeout(EXIT_TIMEOUT, async {
            if let Some(lease) = lease
                && let Err(error) = lease.release().await
            {
                warn!(error = %error, "Releasing the consumer lease failed; it expires by itself");
            }
            // The reader may still wait for a read given up at the deadline, so its QUIT
            // is not waited for on its own.
            let _ = futures::join!(self.writer.quit(), self.reader.quit());
        })
        .await;
        if closed.is_err() {
            warn!("Closing the Redis connections timed out; exiting without it");
        }
        Ok(())
    }

    /// Runs `future` to completion, or until `XTR_SHUTDOWN_DEADLINE` after a stop
    /// signal, whichever comes first; `None` means the deadline passed. A Redis command
    /// given up this way may still run on the server, which is safe because every
    /// write of a job is one atomic script that checks the job is still pending.
    async fn before_stop_deadline<T>(
        &self,
        shutdown: &Shutdown,
        future: impl Future<Output = T>,
    ) -> Option<T> {
        let mut stop = shutdown.clone();
        tokio::select! {
            value = future => Some(value),
            () = stop.wait_past(self.settings.shutdown_deadline) => None,
        }
    }

    /// Runs the entries this consumer already owns, oldest first, before reading new
    /// ones. Entries left pending again by a transient failure are passed over: reads
    /// continue after the last id seen.
    async fn recover_own_pending(&self, shutdown: &mut Shutdown) {
        let mut after = String::from("0-0");
        let mut failures = 0;
        while !shutdown.is_triggered() {
            let read = self
                .before_stop_deadline(shutdown, self.read_own_pending(&after))
                .await;
            let entries = match read {
                None => return,
                Some(Ok(entries)) => entries,
                Some(Err(error)) if error.is_no_group() => return,
                Some(Err(error)) => {
                    failures += 1;
                    warn!(error = %error, "Reading this consumer's pending jobs failed, retrying");
                    shutdown.sleep(backoff(failures)).await;
                    continue;
                }
            };
            let Some(last) = entries.last() else {
                return;
            };
            after = last.id.clone();
            info!(
                jobs = entries.len(),
                "Resuming jobs this consumer left pending"
            );
            match self.with_delivery_counts(entries).await {
                Ok(with_counts) => self.process(with_counts, shutdown).await,
                Err(error) => warn!(error = %error, "Reading delivery counts failed"),
            }
        }
    }

    /// Reads up to one batch of this consumer's pending entries after `after`. Redis
    /// counts such a read as a delivery, so a job that kills every worker that runs it
    /// still reaches `XTR_MAX_DELIVERIES`.
    async fn read_own_pending(&self, after: &str) -> Result<Vec<Entry>, WorkerError> {
        let value: Value = self
            .reader
            .xreadgroup(
                self.streams.group.as_str(),
                self.settings.consumer.as_str(),
                Some(self.settings.batch as u64),
                None,
                false,
                self.streams.jobs.as_str(),
                after,
            )
            .await
            .map_err(WorkerError::redis("XREADGROUP"))?;
        parse_read_reply(value)
    }

    async fn read_new(&self) -> Result<Vec<Entry>, WorkerError> {
        let value: Value = self
            .reader
            .xreadgroup(
                self.streams.group.as_str(),
                self.settings.consumer.as_str(),
                Some(self.settings.batch as u64),
                Some(self.settings.block.as_millis() as u64),
                false,
                self.streams.jobs.as_str(),
                ">",
            )
            .await
            .map_err(WorkerError::redis("XREADGROUP"))?;
        parse_read_reply(value)
    }

    /// Claims up to one batch of jobs that have been pending longer than
    /// `XTR_CLAIM_IDLE` (with a consumer that died, most likely, or left pending for a
    /// retry). Returns the cursor to continue the scan from and the claimed jobs.
    async fn claim_idle(&self, cursor: &str) -> Result<(String, Vec<(Entry, u64)>), WorkerError> {
        let value: Value = self
            .writer
            .xautoclaim(
                self.streams.jobs.as_str(),
                self.streams.group.as_str(),
                self.settings.consumer.as_str(),
                self.settings.claim_idle.as_millis() as u64,
                cursor,
                Some(self.settings.batch as u64),
                false,
            )
            .await
            .map_err(WorkerError::redis("XAUTOCLAIM"))?;
        let (next, entries, deleted) = parse_autoclaim_reply(value)?;
        if !deleted.is_empty() {
            // Redis 7 has already removed these from the pending list.
            warn!(
                entries = deleted.len(),
                "Pending jobs were trimmed before they ran"
            );
            self.observability
                .metrics
                .trimmed_pending(deleted.len() as u64);
        }
        if entries.is_empty() {
            return Ok((next, Vec::new()));
        }
        info!(jobs = entries.len(), "Reclaimed idle pending jobs");
        self.observability.metrics.reclaimed(entries.len() as u64);
        Ok((next, self.with_delivery_counts(entries).await?))
    }

    /// Looks up the delivery count of each entry, one `XPENDING` per id in one
    /// pipeline. Entries that another consumer owns by now, or that are no longer
    /// pending, are dropped: their current owner runs them.
    async fn with_delivery_counts(
        &self,
        entries: Vec<Entry>,
    ) -> Result<Vec<(Entry, u64)>, WorkerError> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let pipeline = self.writer.pipeline();
        for entry in &entries {
            let _: () = pipeline
                .xpending(
                    self.streams.jobs.as_str(),
                    self.streams.group.as_str(),
                    (entry.id.as_str(), entry.id.as_str(), 1),
                )
                .await
                .map_err(WorkerError::redis("XPENDING"))?;
        }
        let replies: Vec<Value> = pipeline
            .all()
            .await
            .map_err(WorkerError::redis("XPENDING"))?;

        let mut with_counts = Vec::with_capacity(entries.len());
        for (entry, reply) in entries.into_iter().zip(replies) {
            // Each reply is `[[id, consumer, idle ms, delivery count]]`, or empty.
            let row = reply.into_array().into_iter().next().map(Value::into_array);
            let owner = row
                .as_ref()
                .and_then(|row| row.get(1))
                .and_then(redis::value_string);
            let count = row
                .as_ref()
                .and_then(|row| row.get(3))
                .and_then(Value::as_u64);
            match (owner, count) {
                (Some(owner), Some(count)) if owner == self.settings.consumer => {
                    with_counts.push((entry, count));
                }
                _ => {
                    debug!(job_id = %entry.id, "Job is no longer pending with this consumer; skipped");
                }
            }
        }
        Ok(with_counts)
    }

    /// Runs a batch concurrently and publishes its results. After a stop signal the
    /// batch has until `XTR_SHUTDOWN_DEADLINE` past the signal to finish. Jobs still
    /// running then are abandoned and stay pending for another consumer.
    async fn process(&self, entries: Vec<(Entry, u64)>, shutdown: &mut Shutdown) {
        let metrics = &self.observability.metrics;
        metrics.set_in_flight(entries.len());
        let mut running: FuturesUnordered<_> = entries
            .into_iter()
            .map(|(entry, deliveries)| self.run_job(entry, deliveries))
            .collect();

        let mut finished: Vec<JobReport> = Vec::new();
        let mut flush_at: Option<Instant> = None;

        loop {
            if shutdown.is_triggered() {
                self.observability.health.set_draining();
            }
            let flush_sleep = async {
                match flush_at {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            let mut stop = shutdown.clone();
            tokio::select! {
                next = running.next() => match next {
                    Some(report) => {
                        finished.push(report);
                        metrics.set_in_flight(running.len());
                        if running.is_empty() {
                            break;
                        }
                        flush_at.get_or_insert_with(|| Instant::now() + FLUSH_AFTER);
                    }
                    None => break,
                },
                () = flush_sleep => {
                    flush_at = None;
                    self.publish(std::mem::take(&mut finished), shutdown).await;
                }
                () = stop.wait_past(self.settings.shutdown_deadline) => {
                    warn!(
                        jobs = running.len(),
                        "Shutdown deadline reached; abandoning running jobs, which stay pending"
                    );
                    break;
                }
            }
        }
        drop(running);
        metrics.set_in_flight(0);
        self.publish(finished, shutdown).await;
        self.observability.health.progress();
    }

    /// Publishes finished jobs in one script call, retrying while Redis is down. Gives
    /// up at the shutdown deadline; the jobs then stay pending and run again later.
    async fn publish(&self, reports: Vec<JobReport>, shutdown: &Shutdown) {
        if reports.is_empty() {
            return;
        }
        let mut batch = Batch::default();
        let mut reports = reports;
        for report in &mut reports {
            batch.append(std::mem::take(&mut report.part));
        }

        let mut failures = 0;
        let counts = loop {
            let attempt = self
                .before_stop_deadline(
                    shutdown,
                    batch.publish(&self.writer, &self.script, &self.streams),
                )
                .await;
            let error = match attempt {
                Some(Ok(counts)) => break Some(counts),
                Some(Err(error)) => error,
                None => {
                    error!(
                        jobs = batch.len(),
                        "Publishing did not finish by the shutdown deadline; the jobs stay pending and will run again"
                    );
                    break None;
                }
            };
            if error.is_no_group() {
                // The group, and with it the pending entries of these jobs, is gone: there
                // is nothing left to acknowledge, and the read loop recreates the group.
                error!(
                    error = %error,
                    jobs = batch.len(),
                    "Consumer group vanished while its jobs ran (Redis restarted without its data?); their results are dropped"
                );
                break None;
            }
            failures += 1;
            self.observability.health.set_redis_connected(false);
            // Retrying is progress: a liveness probe must not restart a worker that
            // waits out a Redis outage with a finished batch in hand.
            self.observability.health.progress();
            warn!(error = %error, failures, jobs = batch.len(), "Publishing failed, retrying");
            let mut stop = shutdown.clone();
            let stopped = tokio::select! {
                () = tokio::time::sleep(backoff(failures)) => false,
                () = stop.wait_past(self.settings.shutdown_deadline) => true,
            };
            if stopped {
                error!(
                    error = %error,
                    jobs = batch.len(),
                    "Publishing failed at the shutdown deadline; the jobs stay pending and will run again"
                );
                break None;
            }
        };

        if let Some(counts) = counts {
            self.observability.health.set_redis_connected(true);
            self.observability.metrics.published(counts);
            let PublishCounts {
                published,
                unchanged,
                skipped,
                repeated,
            } = counts;
            if skipped > 0 {
                info!(
                    jobs = skipped,
                    "Jobs already acknowledged by another run were not published again"
                );
            }
            if repeated > 0 {
                info!(
                    snapshots = repeated,
                    "Snapshots this job had already published were not added to the results stream again"
                );
            }
            for report in &reports {
                self.observability.metrics.job(
                    &report.bookmaker,
                    report.outcome,
                    report.started.elapsed(),
                );
            }
            debug!(
                jobs = reports.len(),
                published, unchanged, "Published batch"
            );
        }
    }

    async fn last_error(&self, entry_id: &str) -> Option<String> {
        self.writer
            .hget::<Option<String>, _, _>(self.streams.retry_errors_key(), entry_id)
            .await
            .ok()
            .flatten()
    }

    /// Runs one job and returns what to publish for it.
    async fn run_job(&self, entry: Entry, deliveries: u64) -> JobReport {
        let started = Instant::now();
        let mut report = JobReport {
            bookmaker: String::from("-"),
            outcome: JobOutcome::DeadLettered,
            started,
            part: Batch::default(),
        };

        if entry.fields.is_none() {
            warn!(job_id = %entry.id, "Pending job was trimmed before it ran; acknowledging it");
            self.observability.metrics.trimmed_pending(1);
            report.part.add_ack(&entry.id);
            report.outcome = JobOutcome::DeadLettered;
            return report;
        }
        if let Some(bookmaker) = entry.field("bookmaker")
            && bookmaker.len() <= 64
        {
            report.bookmaker = String::from_utf8_lossy(bookmaker).into_owned();
        }

        let default_markets = self.settings.worker_type.markets();
        let job = match Job::parse(&entry, &self.extractors, default_markets) {
            Ok(job) => job,
            Err(error) => {
                if self.extractors.get(&report.bookmaker).is_none() {
                    report.bookmaker = String::from("-");
                }
                self.dead_letter(
                    &mut report,
                    &entry,
                    &error.to_string(),
                    error.kind(),
                    deliveries,
                );
                return report;
            }
        };
        report.bookmaker.clone_from(&job.bookmaker);

        if deliveries > self.settings.max_deliveries {
            let last = self.last_error(&entry.id).await;
            let reason = format!(
                "delivered {deliveries} times without completing (maximum XTR_MAX_DELIVERIES={}); last error: {}",
                self.settings.max_deliveries,
                last.as_deref()
                    .unwrap_or("none recorded (the worker may have died while running it)")
            );
            self.dead_letter(&mut report, &entry, &reason, "max_deliveries", deliveries);
            return report;
        }

        let span = info_span!("job", job_id = %entry.id, bookmaker = %job.bookmaker, event_id = %job.event);
        self.extract(&job, &entry, deliveries, &mut report)
            .instrument(span)
            .await;
        report
    }

    async fn extract(&self, job: &Job, entry: &Entry, deliveries: u64, report: &mut JobReport) {
        let Some(extractor) = self.extractors.get(&job.bookmaker) else {
            return;
        };
        let deadline = self.settings.job_deadline;
        let fetched =
            match tokio::time::timeout(deadline, extractor.fetch(&job.event, job.markets)).await {
                Ok(result) => result,
                Err(_) => Err(Error::Timeout {
                    context: xtr_core::error::Context::new(extractor.name(), "job"),
                    after: deadline,
                }),
            };
        let result = fetched.and_then(|bodies| {
            let slices: Vec<&[u8]> = bodies.iter().map(|body| body.as_ref()).collect();
            let parsed = extractor.parse(&slices, job.markets);
            if let (Err(error @ Error::Malformed { .. }), Some(recorder)) =
                (&parsed, &self.recorder)
            {
                recorder.record_failure(extractor.name(), "parse", &bodies, &error.to_string());
            }
            parsed
        });

        let events = match result {
            Ok(events) => events,
            Err(error) if error.is_transient() => {
                if deliveries >= self.settings.max_deliveries {
                    let reason = format!(
                        "{error} (delivery {deliveries} of XTR_MAX_DELIVERIES={})",
                        self.settings.max_deliveries
                    );
                    self.dead_letter(report, entry, &reason, error.kind(), deliveries);
                } else {
                    let key = format!("{}:{}", job.bookmaker, error.kind());
                    match self.repeats.check(&key) {
                        Verdict::Log { suppressed } => warn!(
                            error = %error,
                            deliveries,
                            similar_not_logged = suppressed,
                            "Job failed with a transient error; it stays pending for a retry"
                        ),
                        Verdict::Suppress => {
                            debug!(error = %error, deliveries, "Job failed with a transient error");
                        }
                    }
                    report.outcome = JobOutcome::Retried;
                    report.part.add_retry_error(&entry.id, &error.to_string());
                }
                return;
            }
            Err(error) => {
                self.dead_letter(report, entry, &error.to_string(), error.kind(), deliveries);
                return;
            }
        };

        let parsed_events = events.len();
        let event = match events.into_iter().find(|event| event.event.id == job.event) {
            Some(event) => event,
            None if parsed_events == 0 => EventMarkets {
                event: Event::with_id(job.event.as_str()),
                markets: Vec::new(),
            },
            None => {
                let reason = format!(
                    "{} response does not contain event {:?} ({parsed_events} other events)",
                    job.bookmaker, job.event
                );
                self.dead_letter(report, entry, &reason, "event_not_found", deliveries);
                return;
            }
        };
        if event.markets.is_empty() {
            self.observability.metrics.empty_extraction(&job.bookmaker);
        }

        let records = snapshot_records(
            extractor.name(),
            Some(&entry.id),
            &event,
            job.markets,
            Timestamp::now(),
        );
        let offered = records
            .iter()
            .any(|record| record.status == MarketStatus::Offered);
        match report.part.add_snapshots(&entry.id, &job.event, &records) {
            Ok(()) => {
                report.outcome = if offered {
                    JobOutcome::Ok
                } else {
                    JobOutcome::NotOffered
                };
                debug!(snapshots = records.len(), "Job extracted");
            }
            Err(error) => {
                let reason = format!("serializing snapshots failed: {error}");
                self.dead_letter(report, entry, &reason, "serialize", deliveries);
            }
        }
    }

    fn dead_letter(
        &self,
        report: &mut JobReport,
        entry: &Entry,
        reason: &str,
        kind: &str,
        deliveries: u64,
    ) {
        match self
            .repeats
            .check(&format!("dead:{}:{kind}", report.bookmaker))
        {
            Verdict::Log { suppressed } => warn!(
                job_id = %entry.id,
                bookmaker = %report.bookmaker,
                error_kind = kind,
                deliveries,
                error = reason,
                similar_not_logged = suppressed,
                "Job moved to the dead-letter stream"
            ),
            Verdict::Suppress => debug!(
                job_id = %entry.id,
                bookmaker = %report.bookmaker,
                error_kind = kind,
                error = reason,
                "Job moved to the dead-letter stream"
            ),
        }
        report.outcome = JobOutcome::DeadLettered;
        report.part = Batch::default();
        report.part.add_dead_letter(
            &entry.id,
            entry.fields.as_deref(),
            reason,
            &[
                ("error_kind", kind.to_owned()),
                ("deliveries", deliveries.to_string()),
                ("failed_at_ms", unix_millis().to_string()),
                ("consumer", self.settings.consumer.clone()),
            ],
        );
    }

    /// Returns the writer connection, for maintenance tasks.
    pub fn writer(&self) -> &Client {
        &self.writer
    }

    /// Returns the stream names.
    pub fn streams(&self) -> &Streams {
        &self.streams
    }

    /// Returns the consumer name this worker reads under: `XTR_CONSUMER`, or that name
    /// with a random suffix when another live process has taken it.
    pub fn consumer(&self) -> &str {
        &self.settings.consumer
    }
}

/// Creates the group and loads the script, retrying while Redis is unavailable.
async fn prepare(
    writer: &Client,
    script: &Script,
    streams: &Streams,
    observability: &Observability,
    shutdown: &mut Shutdown,
) -> Result<(), WorkerError> {
    let mut failures = 0;
    loop {
        let result = async {
            let created = redis::ensure_group(writer, &streams.jobs, &streams.group).await?;
            script
                .load(writer)
                .await
                .map_err(WorkerError::redis("SCRIPT LOAD"))?;
            Ok::<bool, WorkerError>(created)
        }
        .await;
        match result {
            Ok(created) => {
                observability.health.set_redis_connected(true);
                observability.health.set_group_present(true);
                if created {
                    info!(stream = %streams.jobs, group = %streams.group, "Created the consumer group from id 0");
                }
                return Ok(());
            }
            Err(WorkerError::Config(message)) => return Err(WorkerError::Config(message)),
            Err(error) => {
                failures += 1;
                observability.health.set_redis_connected(false);
                warn!(error = %error, failures, "Preparing the consumer group failed, retrying");
                if shutdown.is_triggered() {
                    return Err(WorkerError::Stopped);
                }
                shutdown.sleep(backoff(failures)).await;
            }
        }
    }
}

/// Returns 100 ms doubled per failure, capped, with up to 50% jitter.
fn backoff(failures: u32) -> Duration {
    let base = Duration::from_millis(100)
        .saturating_mul(1 << failures.min(10))
        .min(MAX_REDIS_BACKOFF);
    base + base.mul_f64(fastrand::f64() * 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::parse_entries;

    #[test]
    fn backoff_is_bounded() {
        for failures in 1..40 {
            let delay = backoff(failures);
            assert!(
                delay <= MAX_REDIS_BACKOFF.mul_f64(1.5),
                "{failures}: {delay:?}"
            );
            assert!(delay >= Duration::from_millis(200).min(MAX_REDIS_BACKOFF));
        }
    }

    #[test]
    fn retry_errors_key_names_stream_and_group() {
        let streams = Streams {
            jobs: "xtr:jobs".into(),
            group: "btts-worker".into(),
            results: "xtr:odds".into(),
            results_maxlen: 1,
            latest_ttl_secs: 1,
            dead: "xtr:jobs:dead".into(),
            dead_maxlen: 1,
        };
        assert_eq!(streams.retry_errors_key(), "xtr:jobs:errors:btts-worker");
    }

    #[test]
    fn entries_parse_with_deleted_payload() {
        let value = Value::Array(vec![
            Value::Array(vec![
                Value::from("1-0"),
                Value::Array(vec![Value::from("bookmaker"), Value::from("unibet")]),
            ]),
            Value::Array(vec![Value::from("2-0"), Value::Null]),
        ]);
        let entries = parse_entries("test", value).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].field("bookmaker").unwrap().as_ref(), b"unibet");
        assert!(entries[1].fields.is_none());
    }
}
