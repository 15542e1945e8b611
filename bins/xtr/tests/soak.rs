//! Soak test of the worker: several workers process thousands of jobs over distinct
//! events while the test SIGKILLs random workers and restarts Redis once, with
//! persistence on. Afterwards every job must have exactly its snapshot in the results
//! stream, once, or exactly one dead letter. Nothing may be pending, and Redis may
//! contain nothing but the job, results and dead-letter streams and the latest values.
//!
//! The default run is short enough for CI: 3,000 jobs, 3 workers and 8 kills. Set
//! `XTR_SOAK=long` for 30,000 jobs, 4 workers and 40 kills. `XTR_SOAK_SEED` repeats
//! the random choices of an earlier run, whose seed the test prints.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::*;
use fred::prelude::*;
use wiremock::ResponseTemplate;
use xtr_worker::enqueue::{NewJob, enqueue};

const GROUP: &str = "btts-worker";
const STREAM: &str = "jobs";
const RESULTS: &str = "xtr:odds";
const DEAD: &str = "jobs:dead";
const FIRST_EVENT: u64 = 1_000_000;
/// Redis's default `stream-node-max-entries`. Approximate trimming removes whole nodes,
/// so up to this many acknowledged entries may stay in the job stream.
const STREAM_NODE_ENTRIES: u64 = 100;

/// The size of one soak run.
#[derive(Debug, Clone, Copy)]
struct Plan {
    jobs: u64,
    workers: usize,
    kills: usize,
    /// The whole run, drain included, must end within this.
    timeout: Duration,
}

impl Plan {
    fn from_env() -> Self {
        match std::env::var("XTR_SOAK").as_deref() {
            Ok("long") => Plan {
                jobs: 30_000,
                workers: 4,
                kills: 40,
                timeout: Duration::from_secs(900),
            },
            _ => Plan {
                jobs: 3_000,
                workers: 3,
                kills: 8,
                timeout: Duration::from_secs(90),
            },
        }
    }
}

/// A xorshift64* generator: the test's random choices, repeatable from the seed.
struct Random(u64);

impl Random {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound
    }
}

/// What the stand-in bookmaker does for the job of event `FIRST_EVENT + index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    /// Responds with odds after a short delay.
    Ok,
    /// Fails with 503 on every attempt of the first delivery, then responds with odds.
    FailsFirstDelivery,
    /// Responds 404, so the job is dead-lettered.
    Missing,
}

fn behaviour(index: u64) -> Behaviour {
    if index % 50 == 7 {
        Behaviour::Missing
    } else if index % 25 == 3 {
        Behaviour::FailsFirstDelivery
    } else {
        Behaviour::Ok
    }
}

fn responder() -> KambiResponder {
    KambiResponder::sequence(|id, earlier| {
        let index = id.parse::<u64>().unwrap_or(FIRST_EVENT) - FIRST_EVENT;
        let attempts = xtr_core::http::MAX_ATTEMPTS as usize;
        match behaviour(index) {
            Behaviour::Missing => ResponseTemplate::new(404),
            Behaviour::FailsFirstDelivery if earlier < attempts => {
                ResponseTemplate::new(503).insert_header("retry-after", "0")
            }
            _ => {
                let yes = 1500 + (index % 500) as u32;
                ResponseTemplate::new(200)
                    .set_body_string(kambi_event(id, yes, 2230))
                    .set_delay(Duration::from_millis(index % 20))
            }
        }
    })
}

fn soak_env(redis: &RedisServer, kambi_url: &str, consumer: &str) -> Vec<(&'static str, String)> {
    let mut env = worker_env(redis, kambi_url, STREAM);
    for (name, value) in [
        ("XTR_CONSUMER", consumer),
        ("XTR_BATCH", "20"),
        ("XTR_JOB_DEADLINE", "1"),
        ("XTR_CLAIM_IDLE", "2"),
        ("XTR_MAINTENANCE_INTERVAL", "0.2"),
        ("XTR_SHUTDOWN_DEADLINE", "1"),
        ("XTR_CONSUMER_EXPIRY", "1"),
        ("XTR_LOG", "warn,xtr_worker=info"),
    ] {
        set_var(&mut env, name, value);
    }
    env
}

async fn drained(client: &Client) -> bool {
    matches!(
        group_state(client, STREAM, GROUP).await,
        Some(GroupState {
            pending: 0,
            lag: Some(0),
            ..
        })
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_survive_kills_and_redis_restart() {
    let plan = Plan::from_env();
    let seed = std::env::var("XTR_SOAK_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
            now.as_nanos() as u64 | 1
        });
    eprintln!("soak plan {plan:?}, XTR_SOAK_SEED={seed}");
    let mut random = Random(seed);
    let started = Instant::now();

    let mut redis = RedisServer::start_persistent();
    let mut client = redis.client().await;
    let responder = responder();
    let kambi = kambi_server(responder.clone()).await;

    let mut names: Vec<String> = (0..plan.workers)
        .map(|slot| format!("soak-{slot}"))
        .collect();
    let mut workers: Vec<WorkerProcess> = names
        .iter()
        .map(|name| WorkerProcess::start(&soak_env(&redis, &kambi.uri(), name)))
        .collect();
    let mut killed: Vec<WorkerProcess> = Vec::new();

    // Jobs arrive in chunks between disruptions, so kills and the restart fall on
    // workers that are busy.
    let steps = plan.kills as u64 + 1;
    let chunk = plan.jobs.div_ceil(steps);
    let mut jobs: HashMap<String, u64> = HashMap::new();
    let mut next_index = 0;
    let mut kills = 0;
    let mut renamed = 0;
    let mut pending_at_kills = 0;
    let mut pending_at_restart = 0;
    let mut restarted_redis = false;
    while next_index < plan.jobs || kills < plan.kills || !restarted_redis {
        if next_index < plan.jobs {
            let end = (next_index + chunk).min(plan.jobs);
            let new_jobs: Vec<NewJob> = (next_index..end)
                .map(|index| NewJob {
                    bookmaker: "unibet".to_owned(),
                    event: (FIRST_EVENT + index).to_string(),
                    markets: None,
                })
                .collect();
            let ids = enqueue(&client, STREAM, &new_jobs, |_| {})
                .await
                .expect("enqueue jobs");
            for (id, index) in ids.into_iter().zip(next_index..end) {
                jobs.insert(id, index);
            }
            next_index = end;
        }

        // The pause between disruptions is the scenario's own rhythm, not a wait.
        tokio::time::sleep(Duration::from_millis(200 + random.below(400))).await;

        if !restarted_redis && next_index * 2 >= plan.jobs {
            pending_at_restart = pending_entries(&client, STREAM, GROUP).await.len();
            redis.kill();
            tokio::time::sleep(Duration::from_millis(500)).await;
            redis.start_again();
            client = redis.client().await;
            restarted_redis = true;
        } else if kills < plan.kills {
            let slot = random.below(plan.workers as u64) as usize;
            let owned = pending_entries(&client, STREAM, GROUP).await;
            pending_at_kills += owned
                .iter()
                .filter(|entry| entry.consumer == names[slot])
                .count();
            workers[slot].signal(9);
            workers[slot].wait_exit(Duration::from_secs(10));
            // About half the restarts keep the consumer name, as a restarted container does,
            // and the others come back under a new name, as a replacement container does.
            if random.below(2) == 0 {
                renamed += 1;
                names[slot] = format!("soak-{slot}-r{kills}");
            }
            let replacement = WorkerProcess::start(&soak_env(&redis, &kambi.uri(), &names[slot]));
            killed.push(std::mem::replace(&mut workers[slot], replacement));
            kills += 1;
        }
        assert!(
            started.elapsed() < plan.timeout,
            "the soak run took longer than {:?}",
            plan.timeout
        );
    }

    let remaining = plan.timeout.saturating_sub(started.elapsed());
    wait_until(remaining, "every job to be acknowledged", || {
        drained(&client)
    })
    .await;
    let drained_after = started.elapsed();

    // Consumers of killed workers that own nothing are removed after
    // XTR_CONSUMER_EXPIRY, and approximate trimming leaves less than one stream node.
    let live: HashSet<String> = names.iter().cloned().collect();
    wait_until(
        Duration::from_secs(20),
        "only live workers' consumers",
        || async {
            consumer_list(&client, STREAM, GROUP)
                .await
                .iter()
                .all(|consumer| live.contains(&consumer.name))
        },
    )
    .await;
    wait_until(
        Duration::from_secs(20),
        "the job stream to be trimmed",
        || async { stream_len(&client, STREAM).await <= STREAM_NODE_ENTRIES },
    )
    .await;

    for worker in &mut workers {
        worker.signal(15);
        assert_eq!(
            worker.wait_exit(Duration::from_secs(10)),
            Some(0),
            "{}",
            worker.output()
        );
    }

    // Every job has its one snapshot or its one dead letter, and nothing else exists.
    let results = read_stream(&client, RESULTS).await;
    let dead = read_stream(&client, DEAD).await;
    let mut results_per_job: HashMap<String, usize> = HashMap::new();
    for entry in &results {
        let snapshot = snapshot(entry);
        let job = snapshot["job"]
            .as_str()
            .expect("snapshot names its job")
            .to_owned();
        let index = *jobs
            .get(&job)
            .unwrap_or_else(|| panic!("result of an unknown job: {entry:?}"));
        assert_eq!(
            entry.1["event"],
            (FIRST_EVENT + index).to_string(),
            "{entry:?}"
        );
        *results_per_job.entry(job).or_default() += 1;
    }
    let mut dead_per_job: HashMap<String, usize> = HashMap::new();
    let mut dead_by_kind: HashMap<String, usize> = HashMap::new();
    for (_, fields) in &dead {
        let job = fields["job"].clone();
        assert!(
            jobs.contains_key(&job),
            "dead letter of an unknown job: {fields:?}"
        );
        *dead_per_job.entry(job).or_default() += 1;
        *dead_by_kind
            .entry(fields["error_kind"].clone())
            .or_default() += 1;
    }
    for (job, index) in &jobs {
        let published = results_per_job.get(job).copied().unwrap_or(0);
        let dead_lettered = dead_per_job.get(job).copied().unwrap_or(0);
        assert!(
            (published, dead_lettered) == (1, 0) || (published, dead_lettered) == (0, 1),
            "job {job} (event index {index}): {published} results and {dead_lettered} dead letters"
        );
        if behaviour(*index) == Behaviour::Missing {
            assert_eq!(
                dead_lettered, 1,
                "job {job} of a missing event is dead-lettered"
            );
        }
    }

    let pending = pending_entries(&client, STREAM, GROUP).await;
    assert!(pending.is_empty(), "{pending:?}");
    wait_until(
        Duration::from_secs(5),
        "the leases of stopped and killed workers to go",
        || async {
            all_keys(&client)
                .await
                .iter()
                .all(|key| !key.contains(":lease:"))
        },
    )
    .await;
    let keys = all_keys(&client).await;
    let latest = keys
        .iter()
        .filter(|key| key.starts_with("xtr:latest:"))
        .count();
    assert_eq!(
        latest,
        results.len(),
        "one latest value per published event"
    );
    let others: Vec<&String> = keys
        .iter()
        .filter(|key| {
            !key.starts_with("xtr:latest:") && ![STREAM, RESULTS, DEAD].contains(&key.as_str())
        })
        .collect();
    assert!(others.is_empty(), "keys left behind: {others:?}");
    for consumer in consumer_list(&client, STREAM, GROUP).await {
        assert_eq!(consumer.pending, 0, "{consumer:?}");
    }

    let logs: Vec<String> = workers
        .iter()
        .chain(&killed)
        .map(WorkerProcess::output)
        .collect();
    let count = |text: &str| {
        logs.iter()
            .map(|log| log.matches(text).count())
            .sum::<usize>()
    };
    eprintln!(
        "soak: {} jobs, {} results, {} dead letters {:?}, {} requests, {kills} kills ({renamed} under a new name) \
         with {pending_at_kills} jobs pending with the killed workers, 1 Redis restart with \
         {pending_at_restart} jobs pending, {} reclaim rounds, {} resumed batches, drained after {:.1} s, total {:.1} s",
        jobs.len(),
        results.len(),
        dead.len(),
        dead_by_kind,
        responder.count(),
        count("Reclaimed idle pending jobs"),
        count("Resuming jobs this consumer left pending"),
        drained_after.as_secs_f64(),
        started.elapsed().as_secs_f64(),
    );
}
