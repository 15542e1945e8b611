//! Prometheus metrics of a worker and the state behind its health endpoints.
//!
//! Names follow Prometheus conventions: one `xtr_` prefix, base units (seconds), and
//! counters end in `_total` (the encoder appends it). No label carries a job or event id,
//! so the series count stays bounded by bookmakers times outcomes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::publish::PublishCounts;

/// How a job ended, as the `outcome` label of `xtr_jobs_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobOutcome {
    /// At least one requested market was offered and published.
    Ok,
    /// None of the requested markets was offered: only not-offered records.
    NotOffered,
    /// A transient failure: left pending to be retried.
    Retried,
    /// Moved to the dead-letter stream.
    DeadLettered,
}

impl JobOutcome {
    fn as_str(self) -> &'static str {
        match self {
            JobOutcome::Ok => "ok",
            JobOutcome::NotOffered => "not_offered",
            JobOutcome::Retried => "retried",
            JobOutcome::DeadLettered => "dead_lettered",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct JobLabels {
    bookmaker: String,
    outcome: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct BookmakerLabels {
    bookmaker: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    bookmaker: String,
    status_class: &'static str,
}

/// Job durations, in seconds: from 5 ms to about 40 s.
fn duration_buckets() -> impl Iterator<Item = f64> {
    prometheus_client::metrics::histogram::exponential_buckets(0.005, 2.0, 14)
}

fn histogram() -> Histogram {
    Histogram::new(duration_buckets())
}

/// The metrics of one worker process.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    jobs: Family<JobLabels, Counter>,
    job_duration: Family<BookmakerLabels, Histogram, fn() -> Histogram>,
    requests: Family<RequestLabels, Histogram, fn() -> Histogram>,
    empty_extractions: Family<BookmakerLabels, Counter>,
    reclaimed: Counter,
    trimmed_pending: Counter,
    duplicates: Counter,
    repeated: Counter,
    in_flight: Gauge,
    pending: Gauge,
    lag: Gauge,
    redis_reconnects: Counter,
    published: Counter,
    unchanged: Counter,
    consumers_removed: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("xtr");
        let jobs = Family::<JobLabels, Counter>::default();
        registry.register(
            "jobs",
            "Jobs processed, by bookmaker and outcome",
            jobs.clone(),
        );
        let job_duration: Family<BookmakerLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(histogram);
        registry.register(
            "job_duration_seconds",
            "Time from the start of a job to its result, by bookmaker",
            job_duration.clone(),
        );
        let requests: Family<RequestLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(histogram);
        registry.register(
            "bookmaker_request_duration_seconds",
            "Bookmaker HTTP request time, by bookmaker and status class (2xx, 4xx, 5xx, error)",
            requests.clone(),
        );
        let empty_extractions = Family::<BookmakerLabels, Counter>::default();
        registry.register(
            "empty_extractions",
            "Extractions that returned no markets and no error: often a silent format change or a block page",
            empty_extractions.clone(),
        );
        let reclaimed = Counter::default();
        registry.register(
            "jobs_reclaimed",
            "Pending jobs claimed from idle consumers",
            reclaimed.clone(),
        );
        let trimmed_pending = Counter::default();
        registry.register(
            "jobs_trimmed_pending",
            "Pending entries whose payload was trimmed away, acknowledged without running",
            trimmed_pending.clone(),
        );
        let duplicates = Counter::default();
        registry.register(
            "jobs_duplicate",
            "Job results not published because another run had already acknowledged the job",
            duplicates.clone(),
        );
        let repeated = Counter::default();
        registry.register(
            "snapshots_repeated",
            "Snapshots not added to the results stream because the same job had already published that market key",
            repeated.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "jobs_in_flight",
            "Jobs being processed now",
            in_flight.clone(),
        );
        let pending = Gauge::default();
        registry.register(
            "group_pending",
            "Pending entries of the consumer group (XINFO GROUPS)",
            pending.clone(),
        );
        let lag = Gauge::default();
        registry.register(
            "group_lag",
            "Entries not yet delivered to the consumer group (XINFO GROUPS)",
            lag.clone(),
        );
        let redis_reconnects = Counter::default();
        registry.register(
            "redis_reconnects",
            "Reconnections to Redis",
            redis_reconnects.clone(),
        );
        let published = Counter::default();
        registry.register(
            "snapshots_published",
            "Snapshots added to the results stream",
            published.clone(),
        );
        let unchanged = Counter::default();
        registry.register(
            "snapshots_unchanged",
            "Snapshots whose outcomes equalled the latest value: latest key refreshed only",
            unchanged.clone(),
        );
        let consumers_removed = Counter::default();
        registry.register(
            "consumers_removed",
            "Idle consumers without pending entries removed from the group",
            consumers_removed.clone(),
        );
        Self {
            registry,
            jobs,
            job_duration,
            requests,
            empty_extractions,
            reclaimed,
            trimmed_pending,
            duplicates,
            repeated,
            in_flight,
            pending,
            lag,
            redis_reconnects,
            published,
            unchanged,
            consumers_removed,
        }
    }

    /// Encodes every metric in the text exposition format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    /// Counts a finished job and its duration.
    pub fn job(&self, bookmaker: &str, outcome: JobOutcome, duration: Duration) {
        self.jobs
            .get_or_create(&JobLabels {
                bookmaker: bookmaker.to_owned(),
                outcome: outcome.as_str(),
            })
            .inc();
        self.job_duration
            .get_or_create(&BookmakerLabels {
                bookmaker: bookmaker.to_owned(),
            })
            .observe(duration.as_secs_f64());
    }

    /// Counts an extraction that returned no markets and no error.
    pub fn empty_extraction(&self, bookmaker: &str) {
        self.empty_extractions
            .get_or_create(&BookmakerLabels {
                bookmaker: bookmaker.to_owned(),
            })
            .inc();
    }

    /// Records one bookmaker HTTP request.
    pub fn request(&self, bookmaker: &str, status: Option<u16>, duration: Duration) {
        let status_class = match status {
            Some(200..=299) => "2xx",
            Some(300..=399) => "3xx",
            Some(400..=499) => "4xx",
            Some(500..=599) => "5xx",
            _ => "error",
        };
        self.requests
            .get_or_create(&RequestLabels {
                bookmaker: bookmaker.to_owned(),
                status_class,
            })
            .observe(duration.as_secs_f64());
    }

    /// Counts reclaimed jobs.
    pub fn reclaimed(&self, count: u64) {
        self.reclaimed.inc_by(count);
    }

    /// Counts pending entries whose payload was gone.
    pub fn trimmed_pending(&self, count: u64) {
        self.trimmed_pending.inc_by(count);
    }

    /// Counts what a publish call wrote.
    pub fn published(&self, counts: PublishCounts) {
        self.published.inc_by(counts.published);
        self.unchanged.inc_by(counts.unchanged);
        self.duplicates.inc_by(counts.skipped);
        self.repeated.inc_by(counts.repeated);
    }

    /// Sets the number of jobs being processed.
    pub fn set_in_flight(&self, jobs: usize) {
        self.in_flight.set(jobs as i64);
    }

    /// Sets the group's pending count and lag.
    pub fn set_group(&self, pending: u64, lag: Option<u64>) {
        self.pending.set(pending as i64);
        if let Some(lag) = lag {
            self.lag.set(lag as i64);
        }
    }

    /// Counts a Redis reconnection.
    pub fn redis_reconnect(&self) {
        self.redis_reconnects.inc();
    }

    /// Counts removed consumers.
    pub fn consumers_removed(&self, count: u64) {
        self.consumers_removed.inc_by(count);
    }
}

/// What the health endpoints report.
#[derive(Debug)]
pub struct Health {
    started: Instant,
    last_progress_ms: AtomicU64,
    redis_connected: AtomicBool,
    group_present: AtomicBool,
    draining: AtomicBool,
}

impl Default for Health {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            last_progress_ms: AtomicU64::new(0),
            redis_connected: AtomicBool::new(false),
            group_present: AtomicBool::new(false),
            draining: AtomicBool::new(false),
        }
    }
}

impl Health {
    /// Records that the worker loop completed a step (a read, a batch or a retry wait).
    pub fn progress(&self) {
        self.last_progress_ms
            .store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// Returns the time since the loop last made progress.
    pub fn since_progress(&self) -> Duration {
        let now = self.started.elapsed().as_millis() as u64;
        Duration::from_millis(now.saturating_sub(self.last_progress_ms.load(Ordering::Relaxed)))
    }

    /// Sets whether the last Redis command succeeded.
    pub fn set_redis_connected(&self, connected: bool) {
        self.redis_connected.store(connected, Ordering::Relaxed);
    }

    /// Sets whether the consumer group exists.
    pub fn set_group_present(&self, present: bool) {
        self.group_present.store(present, Ordering::Relaxed);
    }

    /// Marks the worker as draining after a stop signal.
    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Returns why the worker is not ready, or `None` when it is.
    pub fn not_ready_reason(&self) -> Option<&'static str> {
        if self.draining.load(Ordering::Relaxed) {
            Some("draining")
        } else if !self.redis_connected.load(Ordering::Relaxed) {
            Some("Redis not connected")
        } else if !self.group_present.load(Ordering::Relaxed) {
            Some("consumer group missing")
        } else {
            None
        }
    }
}

/// Returns the current Unix time in milliseconds, for dead-letter timestamps.
pub(crate) fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}

/// Shared handles of a running worker.
#[derive(Debug, Clone, Default)]
pub struct Observability {
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Health state.
    pub health: Arc<Health>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_names_follow_conventions() {
        let metrics = Metrics::new();
        metrics.job("unibet", JobOutcome::Ok, Duration::from_millis(20));
        metrics.request("unibet", Some(503), Duration::from_millis(5));
        metrics.published(PublishCounts {
            published: 2,
            unchanged: 1,
            skipped: 0,
            repeated: 0,
        });
        let text = metrics.encode();
        assert!(
            text.contains("xtr_jobs_total{bookmaker=\"unibet\",outcome=\"ok\"} 1"),
            "{text}"
        );
        assert!(text.contains("xtr_job_duration_seconds_bucket"), "{text}");
        assert!(
            text.contains("xtr_bookmaker_request_duration_seconds_count{bookmaker=\"unibet\",status_class=\"5xx\"} 1"),
            "{text}"
        );
        assert!(text.contains("xtr_snapshots_published_total 2"), "{text}");
        assert!(text.contains("xtr_snapshots_unchanged_total 1"), "{text}");
    }

    #[test]
    fn health_reports_first_missing_condition() {
        let health = Health::default();
        assert_eq!(health.not_ready_reason(), Some("Redis not connected"));
        health.set_redis_connected(true);
        assert_eq!(health.not_ready_reason(), Some("consumer group missing"));
        health.set_group_present(true);
        assert_eq!(health.not_ready_reason(), None);
        health.set_draining();
        assert_eq!(health.not_ready_reason(), Some("draining"));
    }
}
