//! The worker's delivery guarantees, one test each, against real processes. Each test
//! starts its own `redis-server` on a free port and runs the `xtr` binary as child
//! processes that it kills, stops and partitions from Redis. Local bookmaker stand-ins
//! delay, fail, rate-limit or garble responses.

mod common;

use std::time::{Duration, Instant};

use common::*;
use fred::prelude::*;
use wiremock::ResponseTemplate;

const GROUP: &str = "btts-worker";
const STREAM: &str = "jobs";
const RESULTS: &str = "xtr:odds";
const DEAD: &str = "jobs:dead";
const TIMEOUT: Duration = Duration::from_secs(20);

/// Returns a worker environment with timings short enough for tests: jobs are cut after
/// 1 s, reclaimed after 2 s idle, maintenance runs every 0.2 s and a stop gets 1 s.
fn fast_env(redis: &RedisServer, kambi_url: &str, consumer: &str) -> Vec<(&'static str, String)> {
    let mut env = worker_env(redis, kambi_url, STREAM);
    set_var(&mut env, "XTR_CONSUMER", consumer);
    set_var(&mut env, "XTR_JOB_DEADLINE", "1");
    set_var(&mut env, "XTR_CLAIM_IDLE", "2");
    set_var(&mut env, "XTR_MAINTENANCE_INTERVAL", "0.2");
    set_var(&mut env, "XTR_SHUTDOWN_DEADLINE", "1");
    env
}

fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// Returns a Kambi body with BTTS odds that change with `version`, so every run of a job
/// has outcomes that differ from the last run's.
fn versioned_body(id: &str, version: usize) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_string(kambi_event(id, 1500 + 10 * version as u32, 2230))
}

fn ok_body(id: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_string(kambi_event(id, 1630, 2230))
}

async fn add_unibet_job(client: &Client, event: &str) -> String {
    add_job(client, STREAM, &[("bookmaker", "unibet"), ("event", event)]).await
}

async fn results_count(client: &Client, job: &str) -> usize {
    results_of(&read_stream(client, RESULTS).await, job).len()
}

async fn dead_letter_of(client: &Client, job: &str) -> Option<StreamEntry> {
    read_stream(client, DEAD)
        .await
        .into_iter()
        .find(|(_, fields)| fields.get("job").is_some_and(|id| id == job))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_batch_jobs_are_reclaimed() {
    let redis = RedisServer::start();
    let client = redis.client().await;
    let responder = KambiResponder::with(|id| ok_body(id).set_delay(millis(500)));
    let kambi = kambi_server(responder.clone()).await;

    // Worker a dies with a whole batch in flight.
    let mut first = Vec::new();
    for event in ["11", "12", "13"] {
        first.push(add_unibet_job(&client, event).await);
    }
    let mut a = WorkerProcess::start(&fast_env(&redis, &kambi.uri(), "a"));
    wait_until(TIMEOUT, "worker a to request all three events", || async {
        responder.count() == 3
    })
    .await;
    a.signal(9);
    a.wait_exit(TIMEOUT);
    let pending = pending_entries(&client, STREAM, GROUP).await;
    assert_eq!(
        pending.len(),
        3,
        "a killed worker's jobs stay pending: {pending:?}"
    );
    assert!(
        pending.iter().all(|entry| entry.consumer == "a"),
        "{pending:?}"
    );
    assert!(
        read_stream(&client, RESULTS).await.is_empty(),
        "nothing was published"
    );

    // Worker b reclaims them once they have been idle for XTR_CLAIM_IDLE.
    let mut b = WorkerProcess::start(&fast_env(&redis, &kambi.uri(), "b"));
    wait_drained(&client, STREAM, GROUP, TIMEOUT).await;
    for job in &first {
        assert_eq!(
            results_count(&client, job).await,
            1,
            "job {job} is published once"
        );
    }
    assert!(
        b.log_count("Reclaimed idle pending jobs") > 0,
        "{}",
        b.output()
    );
    b.signal(15);
    assert_eq!(b.wait_exit(TIMEOUT), Some(0));

    // Worker c, restarted under its name, resumes its own pending jobs at once. Its
    // XTR_CLAIM_IDLE of 60 s is longer than the drain timeout, so no reclaim does it.
    let mut env_c = fast_env(&redis, &kambi.uri(), "c");
    set_var(&mut env_c, "XTR_CLAIM_IDLE", "60");
    let mut second = Vec::new();
    for event in ["21", "22", "23"] {
        second.push(add_unibet_job(&client, event).await);
    }
    let mut c = WorkerProcess::start(&env_c);
    wait_until(TIMEOUT, "worker c to request all three events", || async {
        responder.count() == 9
    })
    .await;
    c.signal(9);
    c.wait_exit(TIMEOUT);
    assert_eq!(pending_entries(&client, STREAM, GROUP).await.len(), 3);
    let c = WorkerProcess::start(&env_c);
    wait_drained(&client, STREAM, GROUP, TIMEOUT).await;
    for job in &second {
        assert_eq!(
            results_count(&client, job).await,
            1,
            "job {job} is published once"
        );
    }
    assert!(
        c.log_count("Resuming jobs this consumer left pending") > 0,
        "{}",
        c.output()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitioned_and_replayed_jobs_publish_once() {
    let redis = RedisServer::start();
    let client = redis.client().await;
    // Each request for an event gets new odds, so the change check alone would let
    // every run of a job add an entry. The first request of each event is slow.
    let responder = KambiResponder::sequence(|id, earlier| {
        let delay = if earlier == 0 { 500 } else { 0 };
        versioned_body(id, earlier).set_delay(millis(delay))
    });
    let kambi = kambi_server(responder.clone()).await;
    // A second group that reads nothing keeps every job entry in the stream, so that a
    // job can be delivered again later in this test.
    let _: () = client
        .xgroup_create(STREAM, "archive", "0", true)
        .await
        .unwrap();

    // Worker a reaches Redis through a proxy that the test freezes with the job in hand.
    let proxy = TcpProxy::start(redis.port);
    let mut env_a = fast_env(&redis, &kambi.uri(), "a");
    set_var(&mut env_a, "REDIS_PORT", proxy.port.to_string());
    let reclaimed = add_unibet_job(&client, "31").await;
    let a = WorkerProcess::start(&env_a);
    wait_until(TIMEOUT, "worker a to request event 31", || async {
        responder.count_for("31") == 1
    })
    .await;
    proxy.freeze();

    // Worker b reclaims the job, publishes it, then a newer job for the same event.
    let b = WorkerProcess::start(&fast_env(&redis, &kambi.uri(), "b"));
    wait_until(TIMEOUT, "worker b to publish the reclaimed job", || async {
        results_count(&client, &reclaimed).await == 1
    })
    .await;
    let newer = add_unibet_job(&client, "31").await;
    wait_until(TIMEOUT, "worker b to publish the newer job", || async {
        results_count(&client, &newer).await == 1
    })
    .await;

    // The partition heals and a's publish of the reclaimed job reaches Redis late.
    proxy.thaw();
    wait_until(TIMEOUT, "worker a's late publish", || async {
        a.log_count("Jobs already acknowledged by another run were not published again") > 0
            || results_count(&client, &reclaimed).await > 1
    })
    .await;
    let results = read_stream(&client, RESULTS).await;
    assert_eq!(
        results_of(&results, &reclaimed).len(),
        1,
        "a job run by a partitioned and a reclaiming worker is published once: {results:#?}"
    );
    assert_eq!(results_of(&results, &newer).len(), 1);

    // Resetting the group delivers an acknowledged job again. Its second run gets new
    // odds but adds no entry, because the latest value already names the job.
    let replayed = add_unibet_job(&client, "32").await;
    wait_drained(&client, STREAM, GROUP, TIMEOUT).await;
    assert_eq!(results_count(&client, &replayed).await, 1);
    let _: () = client
        .xgroup_setid(STREAM, GROUP, newer.as_str())
        .await
        .unwrap();
    wait_until(TIMEOUT, "the replayed job's second publish", || async {
        let skipped = "Snapshots this job had already published were not added";
        a.log_count(skipped) + b.log_count(skipped) > 0
            || results_count(&client, &replayed).await > 1
    })
    .await;
    assert_eq!(responder.count_for("32"), 2, "the replayed job ran twice");
    assert_eq!(
        results_count(&client, &replayed).await,
        1,
        "a job delivered again after its acknowledgement adds no second entry"
    );
    let latest: String = client.get("xtr:latest:unibet:32:btts:ft:-").await.unwrap();
    assert!(
        latest.contains(r#""price":1.51,"#),
        "the latest value holds the second run: {latest}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_looping_and_failing_jobs_dead_lettered() {
    let redis = RedisServer::start();
    let client = redis.client().await;
    let responder = KambiResponder::with(|id| match id {
        // The crash-looping job: every worker that runs it is killed while it waits.
        "41" => ok_body(id).set_delay(Duration::from_secs(60)),
        // A job that always fails with a transient error, without delay between tries.
        _ => ResponseTemplate::new(503).insert_header("retry-after", "0"),
    });
    let kambi = kambi_server(responder.clone()).await;

    // A job that kills every worker running it reaches XTR_MAX_DELIVERIES through the
    // restarts: each restart re-reads its own pending entries, which Redis counts.
    let mut env = fast_env(&redis, &kambi.uri(), "p");
    set_var(&mut env, "XTR_MAX_DELIVERIES", "3");
    set_var(&mut env, "XTR_JOB_DEADLINE", "50");
    set_var(&mut env, "XTR_CLAIM_IDLE", "60");
    let crashing = add_unibet_job(&client, "41").await;
    for delivery in 1..=3 {
        let mut worker = WorkerProcess::start(&env);
        wait_until(
            TIMEOUT,
            &format!("delivery {delivery} of the crashing job"),
            || async { responder.count_for("41") == delivery },
        )
        .await;
        worker.signal(9);
        worker.wait_exit(TIMEOUT);
    }
    let mut worker = WorkerProcess::start(&env);
    wait_until(TIMEOUT, "the crashing job's dead letter", || async {
        dead_letter_of(&client, &crashing).await.is_some()
    })
    .await;
    let (_, letter) = dead_letter_of(&client, &crashing).await.unwrap();
    assert_eq!(letter["deliveries"], "4", "{letter:?}");
    assert_eq!(letter["error_kind"], "max_deliveries", "{letter:?}");
    assert!(
        letter["error"].contains("delivered 4 times without completing"),
        "{letter:?}"
    );
    assert!(
        letter["error"].contains("XTR_MAX_DELIVERIES=3"),
        "{letter:?}"
    );
    assert_eq!(letter["bookmaker"], "unibet");
    assert_eq!(letter["event"], "41");
    assert_eq!(
        responder.count_for("41"),
        3,
        "the fourth delivery is not run"
    );
    worker.signal(15);
    assert_eq!(worker.wait_exit(TIMEOUT), Some(0));

    // A job that always fails transiently is retried on each delivery, then dead-lettered
    // with its last error on delivery XTR_MAX_DELIVERIES.
    let mut env = fast_env(&redis, &kambi.uri(), "q");
    set_var(&mut env, "XTR_MAX_DELIVERIES", "3");
    let failing = add_unibet_job(&client, "42").await;
    let _worker = WorkerProcess::start(&env);
    wait_until(TIMEOUT, "the failing job's dead letter", || async {
        dead_letter_of(&client, &failing).await.is_some()
    })
    .await;
    let (_, letter) = dead_letter_of(&client, &failing).await.unwrap();
    assert_eq!(letter["deliveries"], "3", "{letter:?}");
    assert!(letter["error"].contains("HTTP 503"), "{letter:?}");
    assert!(
        letter["error"].contains("delivery 3 of XTR_MAX_DELIVERIES=3"),
        "{letter:?}"
    );
    let attempts = xtr_core::http::MAX_ATTEMPTS as usize;
    assert_eq!(
        responder.count_for("42"),
        3 * attempts,
        "each delivery tries {attempts} times"
    );
    assert!(pending_entries(&client, STREAM, GROUP).await.is_empty());
    assert!(read_stream(&client, RESULTS).await.is_empty());
    let dead = read_stream(&client, DEAD).await;
    assert_eq!(dead.len(), 2, "one dead letter per job: {dead:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flaky_slow_and_broken_bookmaker_responses() {
    let redis = RedisServer::start();
    let client = redis.client().await;
    let responder = KambiResponder::sequence(|id, earlier| match (id, earlier) {
        ("51", 0) => ResponseTemplate::new(503),
        ("51", 1) => ResponseTemplate::new(429).insert_header("retry-after", "1"),
        ("52", 0) => ok_body(id).set_delay(Duration::from_secs(3)),
        ("53", _) => ResponseTemplate::new(404),
        ("54", _) => ResponseTemplate::new(200).set_body_string("<html>blocked</html>"),
        ("55", _) => ok_body(id).set_delay(Duration::from_secs(60)),
        _ => ok_body(id),
    });
    let kambi = kambi_server(responder.clone()).await;
    let flaky = add_unibet_job(&client, "51").await;
    let timing_out = add_unibet_job(&client, "52").await;
    let missing = add_unibet_job(&client, "53").await;
    let garbled = add_unibet_job(&client, "54").await;
    let _slow = add_unibet_job(&client, "55").await;
    let fast = add_unibet_job(&client, "56").await;
    // Betway offers no asian handicap, so this job is rejected before any request.
    let unsupported = add_job(
        &client,
        STREAM,
        &[
            ("bookmaker", "betway"),
            ("event", "12345"),
            ("markets", "asian_handicap"),
        ],
    )
    .await;

    let mut env = fast_env(&redis, &kambi.uri(), "w");
    set_var(&mut env, "XTR_BATCH", "10");
    set_var(&mut env, "XTR_JOB_DEADLINE", "5");
    set_var(&mut env, "XTR_CLAIM_IDLE", "6");
    set_var(&mut env, "XTR_HTTP_TIMEOUT", "0.5");
    set_var(&mut env, "XTR_UNIBET_RATE_LIMIT", "4");
    // A request for the Betway job would reach the stand-in, not the public host.
    set_var(&mut env, "XTR_BETWAY_BASE_URL", kambi.uri());
    let started = Instant::now();
    let worker = WorkerProcess::start(&env);

    // The fast job is published while the slow one still runs, well before the slow
    // job's deadline of 5 s ends the batch.
    wait_until(
        Duration::from_secs(3),
        "the fast job's result while the slow job runs",
        || async { results_count(&client, &fast).await == 1 },
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(5));

    wait_until(TIMEOUT, "the retried jobs' results", || async {
        results_count(&client, &flaky).await == 1 && results_count(&client, &timing_out).await == 1
    })
    .await;
    wait_until(TIMEOUT, "the dead letters", || async {
        read_stream(&client, DEAD).await.len() == 3
    })
    .await;

    // Transient failures are retried within the first delivery, honouring Retry-After.
    assert_eq!(responder.count_for("51"), 3, "503, 429, then 200");
    let flaky_arrivals = responder.arrivals_for("51");
    let waited = flaky_arrivals[2] - flaky_arrivals[1];
    assert!(
        waited >= millis(950),
        "Retry-After: 1 is honoured, waited {waited:?}"
    );
    assert_eq!(
        responder.count_for("52"),
        2,
        "a timed-out request is retried"
    );
    assert_eq!(
        worker.log_count("it stays pending for a retry"),
        0,
        "{}",
        worker.output()
    );

    // Permanent failures go straight to the dead-letter stream, without a retry.
    assert_eq!(responder.count_for("53"), 1, "a 404 is not retried");
    assert_eq!(
        responder.count_for("54"),
        1,
        "a malformed body is not retried"
    );
    let (_, letter) = dead_letter_of(&client, &missing)
        .await
        .expect("dead letter of the 404");
    assert!(letter["error"].contains("not found"), "{letter:?}");
    assert_eq!(letter["deliveries"], "1");
    let (_, letter) = dead_letter_of(&client, &garbled)
        .await
        .expect("dead letter of the HTML body");
    assert!(letter["error"].contains("malformed"), "{letter:?}");
    let (_, letter) = dead_letter_of(&client, &unsupported)
        .await
        .expect("dead letter of the unsupported market");
    assert!(
        letter["error"].contains("does not support market kind asian_handicap"),
        "{letter:?}"
    );
    assert_eq!(letter["error_kind"], "unsupported_market");
    let received = kambi.received_requests().await.unwrap_or_default();
    assert_eq!(
        received.len(),
        responder.count() as usize,
        "every request was a Kambi event request: {:?}",
        received
            .iter()
            .map(|request| request.url.path().to_owned())
            .collect::<Vec<_>>()
    );

    // XTR_UNIBET_RATE_LIMIT=4: no window of one second contains more than 4 requests.
    let arrivals = responder.arrivals();
    for window in arrivals.windows(5) {
        let span = window[4] - window[0];
        assert!(
            span >= millis(950),
            "5 requests within {span:?}: {arrivals:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outages_and_data_loss_survived() {
    let mut redis = RedisServer::start_persistent();
    let client = redis.client().await;
    let responder = KambiResponder::with(|id| ok_body(id).set_delay(millis(300)));
    let kambi = kambi_server(responder.clone()).await;
    let mut a = WorkerProcess::start(&fast_env(&redis, &kambi.uri(), "a"));
    wait_until(TIMEOUT, "worker a to create its group", || async {
        group_state(&client, STREAM, GROUP).await.is_some()
    })
    .await;

    // Redis dies mid-batch and stays down for 4 s. The worker's two connections retry
    // with exponential backoff from 100 ms: delays of at least 100, 200, 400, 800 and
    // 1600 ms allow 5 attempts each in 4 s. A constant short delay makes several
    // times as many.
    let mut jobs = Vec::new();
    for event in ["61", "62", "63"] {
        jobs.push(add_unibet_job(&client, event).await);
    }
    wait_until(TIMEOUT, "the batch in flight", || async {
        responder.count() == 3
    })
    .await;
    redis.kill();
    let counter = ConnectionCounter::listen(redis.port);
    // The outage itself: nothing to wait for but time.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let attempts = counter.stop();
    assert!(
        attempts >= 2,
        "the worker tries to reconnect: {attempts} attempts"
    );
    assert!(attempts <= 12, "{attempts} connection attempts in 4 s");
    assert!(
        a.is_running(),
        "the worker survives the outage: {}",
        a.output()
    );

    redis.start_again();
    let client = redis.client().await;
    wait_drained(&client, STREAM, GROUP, TIMEOUT).await;
    for job in &jobs {
        assert_eq!(
            results_count(&client, job).await,
            1,
            "job {job} is published once after the outage"
        );
    }

    // Redis comes back empty mid-batch: the group is recreated once, with an error
    // logged, and jobs added afterwards run.
    for event in ["64", "65"] {
        add_unibet_job(&client, event).await;
    }
    wait_until(TIMEOUT, "the second batch in flight", || async {
        responder.count() == 5
    })
    .await;
    redis.restart_empty();
    let client = redis.client().await;
    let after = add_unibet_job(&client, "66").await;
    wait_until(TIMEOUT, "a job added after the data loss", || async {
        results_count(&client, &after).await == 1
    })
    .await;
    let later = add_unibet_job(&client, "67").await;
    wait_until(TIMEOUT, "a later job", || async {
        results_count(&client, &later).await == 1
    })
    .await;
    assert_eq!(
        a.log_count("Consumer group is missing"),
        1,
        "{}",
        a.output()
    );
    assert!(a.is_running());
    a.signal(15);
    assert_eq!(a.wait_exit(TIMEOUT), Some(0));

    // Blocking reads have their own connection: while worker b's read blocks for
    // 10 s, its clean-up of an idle consumer still runs on the other connection.
    let mut env = fast_env(&redis, &kambi.uri(), "b");
    set_var(&mut env, "XTR_BLOCK", "10");
    set_var(&mut env, "XTR_CONSUMER_EXPIRY", "1");
    let _b = WorkerProcess::start(&env);
    wait_until(TIMEOUT, "worker b's blocking read", || async {
        blocked_readers(&client).await.len() == 1
    })
    .await;
    let blocked = client_id(&blocked_readers(&client).await[0]).to_owned();
    let _: () = client
        .xgroup_createconsumer(STREAM, GROUP, "ghost")
        .await
        .unwrap();
    wait_until(
        Duration::from_secs(4),
        "the idle consumer's removal during the read",
        || async {
            !consumer_list(&client, STREAM, GROUP)
                .await
                .iter()
                .any(|consumer| consumer.name == "ghost")
        },
    )
    .await;
    let still_blocked: Vec<String> = blocked_readers(&client)
        .await
        .iter()
        .map(|line| client_id(line).to_owned())
        .collect();
    assert_eq!(still_blocked, [blocked], "the same read was still blocked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_jobs_trimmed_and_streams_capped() {
    let redis = RedisServer::start();
    let client = redis.client().await;
    // Approximate trimming removes whole stream nodes only; small nodes let a few
    // dozen entries show it.
    let _: () = client
        .custom(
            fred::cmd!("CONFIG"),
            vec!["SET", "stream-node-max-entries", "4"],
        )
        .await
        .unwrap();
    let kambi = kambi_server(KambiResponder::btts(1630, 2230)).await;

    // Two jobs of the worker group are pending and their payload is deleted: one with
    // a consumer that is gone, one with the consumer name a worker restarts under.
    let _: () = client
        .xgroup_create(STREAM, GROUP, "0", true)
        .await
        .unwrap();
    let lost_other = add_unibet_job(&client, "7100").await;
    let _: Value = client
        .xreadgroup(GROUP, "departed", Some(1), None, false, STREAM, ">")
        .await
        .unwrap();
    let lost_own = add_unibet_job(&client, "7101").await;
    let _: Value = client
        .xreadgroup(GROUP, "w2", Some(1), None, false, STREAM, ">")
        .await
        .unwrap();
    let _: u64 = client
        .xdel(STREAM, vec![lost_other.as_str(), lost_own.as_str()])
        .await
        .unwrap();
    assert_eq!(pending_entries(&client, STREAM, GROUP).await.len(), 2);

    // 30 good jobs and 10 bad ones. A second group has read the first 10 jobs,
    // acknowledged 5 and left 5 pending.
    let mut ids = Vec::new();
    for index in 0..30 {
        ids.push(add_unibet_job(&client, &(7000 + index).to_string()).await);
    }
    for index in 0..10 {
        ids.push(
            add_job(
                &client,
                STREAM,
                &[("bookmaker", "unibet"), ("note", &index.to_string())],
            )
            .await,
        );
    }
    let _: () = client
        .xgroup_create(STREAM, "archive", "0", true)
        .await
        .unwrap();
    let _: Value = client
        .xreadgroup("archive", "reader", Some(10), None, false, STREAM, ">")
        .await
        .unwrap();
    let acked: Vec<&str> = ids[..5].iter().map(String::as_str).collect();
    let _: u64 = client.xack(STREAM, "archive", acked).await.unwrap();

    let mut env = fast_env(&redis, &kambi.uri(), "w2");
    set_var(&mut env, "XTR_BATCH", "10");
    set_var(&mut env, "XTR_RESULTS_MAXLEN", "8");
    set_var(&mut env, "XTR_DEAD_MAXLEN", "4");
    let addr = free_addr();
    set_var(&mut env, "XTR_HTTP_ADDR", addr.clone());
    let mut worker = WorkerProcess::start(&env);

    // Pending entries without payload are acknowledged and counted, not crashed on:
    // the worker's own one when it resumes its pending jobs at start, the other one
    // when its reclaim finds it.
    wait_until(
        TIMEOUT,
        "the entries without payload to be acknowledged",
        || async {
            let pending = pending_entries(&client, STREAM, GROUP).await;
            !pending
                .iter()
                .any(|entry| entry.id == lost_own || entry.id == lost_other)
        },
    )
    .await;
    wait_until(TIMEOUT, "both entries counted", || async {
        metric(&addr, "xtr_jobs_trimmed_pending_total").is_some_and(|counted| counted >= 2.0)
    })
    .await;
    assert_eq!(metric(&addr, "xtr_jobs_trimmed_pending_total"), Some(2.0));
    assert_eq!(
        worker.log_count("Pending job was trimmed before it ran"),
        1,
        "{}",
        worker.output()
    );
    assert_eq!(
        worker.log_count("Pending jobs were trimmed before they ran"),
        1,
        "{}",
        worker.output()
    );
    assert!(worker.is_running(), "{}", worker.output());

    // Trimming stops at the other group's oldest pending entry.
    wait_until(TIMEOUT, "the jobs to be processed", || async {
        pending_entries(&client, STREAM, GROUP).await.is_empty()
            && stream_len(&client, DEAD).await > 0
    })
    .await;
    wait_until(
        TIMEOUT,
        "the acknowledged head of the stream to be trimmed",
        || async {
            let first: Vec<(String, Value)> =
                client.xrange(STREAM, "-", "+", Some(1)).await.unwrap();
            first.first().is_some_and(|(id, _)| *id != ids[0])
        },
    )
    .await;
    let kept: Vec<(String, Value)> = client
        .xrange(STREAM, ids[5].as_str(), ids[5].as_str(), None)
        .await
        .unwrap();
    assert_eq!(
        kept.len(),
        1,
        "the oldest entry pending in another group is kept"
    );
    let length = stream_len(&client, STREAM).await;
    assert!(
        length >= 35,
        "nothing the other group still needs is trimmed: {length} entries"
    );

    // Once the other group has acknowledged everything, the stream is trimmed to less
    // than one node.
    let _: Value = client
        .xreadgroup("archive", "reader", Some(100), None, false, STREAM, ">")
        .await
        .unwrap();
    let all: Vec<&str> = ids.iter().map(String::as_str).collect();
    let _: u64 = client.xack(STREAM, "archive", all).await.unwrap();
    wait_until(
        TIMEOUT,
        "the fully acknowledged stream to be trimmed",
        || async { stream_len(&client, STREAM).await < 4 },
    )
    .await;

    // The results and dead-letter streams are capped, with a node's slack.
    let results = stream_len(&client, RESULTS).await;
    assert!(results < 8 + 4, "30 results capped at about 8: {results}");
    let dead = stream_len(&client, DEAD).await;
    assert!(dead < 4 + 4, "10 dead letters capped at about 4: {dead}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_abandons_slow_job_by_deadline() {
    let redis = RedisServer::start();
    let client = redis.client().await;
    let responder = KambiResponder::sequence(|id, earlier| match (id, earlier) {
        ("72", 0) => ok_body(id).set_delay(Duration::from_secs(60)),
        _ => ok_body(id).set_delay(millis(100)),
    });
    let kambi = kambi_server(responder.clone()).await;
    let fast = add_unibet_job(&client, "71").await;
    let slow = add_unibet_job(&client, "72").await;

    // The slow job could run 20 s; SIGTERM gives the batch 1 s.
    let mut env = fast_env(&redis, &kambi.uri(), "a");
    set_var(&mut env, "XTR_JOB_DEADLINE", "20");
    set_var(&mut env, "XTR_CLAIM_IDLE", "25");
    set_var(&mut env, "XTR_HTTP_TIMEOUT", "30");
    let mut a = WorkerProcess::start(&env);
    wait_until(TIMEOUT, "the fast job's result", || async {
        results_count(&client, &fast).await == 1
    })
    .await;
    assert_eq!(responder.count_for("72"), 1, "the slow job is running");
    let signalled = Instant::now();
    a.signal(15);
    assert_eq!(
        a.wait_exit(Duration::from_secs(5)),
        Some(0),
        "{}",
        a.output()
    );
    let took = signalled.elapsed();
    assert!(
        took < millis(2500),
        "stopped {took:?} after SIGTERM with XTR_SHUTDOWN_DEADLINE=1"
    );
    assert!(a.log_count("abandoning running jobs") > 0, "{}", a.output());
    let pending = pending_entries(&client, STREAM, GROUP).await;
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].id, slow, "the abandoned job stays pending");
    assert_eq!(pending[0].consumer, "a");

    // Another worker takes the abandoned job over. It reaches Redis through a proxy,
    // so that the test can cut it off later.
    let proxy = TcpProxy::start(redis.port);
    let mut env_b = fast_env(&redis, &kambi.uri(), "b");
    set_var(&mut env_b, "REDIS_PORT", proxy.port.to_string());
    let mut b = WorkerProcess::start(&env_b);
    wait_until(TIMEOUT, "the abandoned job's result", || async {
        results_count(&client, &slow).await == 1
    })
    .await;
    assert_eq!(results_count(&client, &fast).await, 1);

    // SIGTERM while Redis does not reply also ends by the deadline. The lease of b
    // expires once its refreshes stop getting through, so by then its read hangs.
    proxy.freeze();
    wait_until(TIMEOUT, "worker b's lease to expire", || async {
        let lease: Option<String> = client.get("jobs:lease:btts-worker:b").await.unwrap();
        lease.is_none()
    })
    .await;
    let signalled = Instant::now();
    b.signal(15);
    assert_eq!(
        b.wait_exit(Duration::from_secs(5)),
        Some(0),
        "{}",
        b.output()
    );
    let took = signalled.elapsed();
    assert!(
        took < millis(2500),
        "stopped {took:?} after SIGTERM with Redis unreachable"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_job_not_reclaimed_while_running() {
    let redis = RedisServer::start();
    let client = redis.client().await;
    // The bookmaker never responds, so each request stays open until its worker gives up.
    let bookmaker = HoldingServer::start();
    let job = add_unibet_job(&client, "73").await;

    // Two workers could each reclaim the other's job after 2 s idle. Without its
    // deadline of 1 s the job would take 30 s, the HTTP timeout.
    let mut workers = Vec::new();
    for consumer in ["a", "b"] {
        let mut env = fast_env(&redis, &bookmaker.url, consumer);
        set_var(&mut env, "XTR_HTTP_TIMEOUT", "30");
        set_var(&mut env, "XTR_MAX_DELIVERIES", "3");
        workers.push(WorkerProcess::start(&env));
    }
    wait_until(
        TIMEOUT,
        "the job's dead letter or a second concurrent run",
        || async { dead_letter_of(&client, &job).await.is_some() || bookmaker.max_open("73") > 1 },
    )
    .await;
    assert_eq!(
        bookmaker.max_open("73"),
        1,
        "no two runs of the job overlap"
    );
    assert_eq!(bookmaker.requests("73"), 3, "one request per delivery");
    let (_, letter) = dead_letter_of(&client, &job).await.unwrap();
    assert!(letter["error"].contains("timed out"), "{letter:?}");
    assert_eq!(letter["deliveries"], "3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_consumers_removed_and_names_unique() {
    let redis = RedisServer::start();
    let client = redis.client().await;
    let kambi = kambi_server(KambiResponder::btts(1630, 2230)).await;

    // Two consumers left by earlier workers: one owns a pending job, one owns nothing.
    let _: () = client
        .xgroup_create(STREAM, GROUP, "0", true)
        .await
        .unwrap();
    let owned = add_unibet_job(&client, "81").await;
    let _: Value = client
        .xreadgroup(GROUP, "owner", Some(1), None, false, STREAM, ">")
        .await
        .unwrap();
    let _: () = client
        .xgroup_createconsumer(STREAM, GROUP, "idle")
        .await
        .unwrap();
    wait_until(TIMEOUT, "both consumers to be idle for 1 s", || async {
        let consumers = consumer_list(&client, STREAM, GROUP).await;
        consumers.len() == 2 && consumers.iter().all(|consumer| consumer.idle_ms > 1100)
    })
    .await;

    // Two workers configured with the same name, and one with the default name. A
    // claim idle of 60 s keeps the owner's job where it is.
    let mut env = fast_env(&redis, &kambi.uri(), "w");
    set_var(&mut env, "XTR_CONSUMER_EXPIRY", "1");
    set_var(&mut env, "XTR_CLAIM_IDLE", "60");
    let first = WorkerProcess::start(&env);
    wait_until(TIMEOUT, "the first worker's consumer", || async {
        consumer_list(&client, STREAM, GROUP)
            .await
            .iter()
            .any(|consumer| consumer.name == "w")
    })
    .await;
    let mut second = WorkerProcess::start(&env);
    let mut default_env = env.clone();
    default_env.retain(|(name, _)| *name != "XTR_CONSUMER");
    let default_named = WorkerProcess::start(&default_env);
    let default_name_suffix = format!("-{}", default_named.child.id());

    wait_until(TIMEOUT, "the idle consumer's removal", || async {
        !consumer_list(&client, STREAM, GROUP)
            .await
            .iter()
            .any(|consumer| consumer.name == "idle")
    })
    .await;
    let names = || async {
        let mut names: Vec<String> = consumer_list(&client, STREAM, GROUP)
            .await
            .into_iter()
            .map(|consumer| consumer.name)
            .collect();
        names.sort();
        names
    };
    wait_until(TIMEOUT, "a consumer for each worker", || async {
        names().await.len() == 4
    })
    .await;
    let current = names().await;
    let renamed: Vec<&String> = current
        .iter()
        .filter(|name| name.starts_with("w-"))
        .collect();
    assert!(current.contains(&"w".to_owned()), "{current:?}");
    assert_eq!(
        renamed.len(),
        1,
        "the second worker reads under its own name: {current:?}"
    );
    assert!(
        current
            .iter()
            .any(|name| name.ends_with(&default_name_suffix)),
        "{current:?}"
    );
    assert!(
        current.contains(&"owner".to_owned()),
        "a consumer owning a pending job is kept"
    );
    let pending = pending_entries(&client, STREAM, GROUP).await;
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (pending[0].id.as_str(), pending[0].consumer.as_str()),
        (owned.as_str(), "owner")
    );
    assert!(
        second.log_count("Consumer name is in use by another running worker") == 1,
        "{}",
        second.output()
    );
    assert_eq!(first.log_count("Consumer name is in use"), 0);

    // A crashed worker's consumer goes once it has been idle XTR_CONSUMER_EXPIRY.
    let crashed = renamed[0].clone();
    second.signal(9);
    second.wait_exit(TIMEOUT);
    wait_until(
        TIMEOUT,
        "the crashed worker's consumer to be removed",
        || async { !names().await.contains(&crashed) },
    )
    .await;
}
