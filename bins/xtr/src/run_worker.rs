//! `xtr worker`: the container's default command.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tracing::{error, info};
use xtr_core::telemetry::Console;
use xtr_worker::{Observability, Shutdown, ShutdownTrigger, Worker};

use crate::extract::load;

/// Runs the worker until SIGTERM or SIGINT, then drains and exits 0.
pub(crate) async fn run() -> anyhow::Result<ExitCode> {
    let loaded = load(Console::Stdout)?;
    let settings = loaded.settings.clone();
    if loaded.extractors.is_empty() {
        anyhow::bail!(
            "this build contains no extractors; build xtr with at least one bookmaker feature"
        );
    }

    let observability = Observability::default();
    let metrics = observability.metrics.clone();
    xtr_core::http::set_request_observer(Arc::new(move |bookmaker, status, elapsed| {
        metrics.request(bookmaker, status, elapsed);
    }));

    let (trigger, shutdown) = Shutdown::new();
    spawn_signal_listener(trigger)?;

    if let Some(addr) = settings.http_addr {
        // Alive while the loop progressed within a job deadline plus a read, with margin.
        let liveness = settings.job_deadline + settings.block + Duration::from_secs(30);
        let observability = observability.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            if let Err(error) = crate::http::serve(addr, observability, liveness, shutdown).await {
                error!(error = %format!("{error:#}"), "HTTP endpoints stopped");
            }
        });
    }

    info!(
        stream = %settings.stream,
        group = settings.worker_type.as_str(),
        batch = settings.batch,
        consumer = %settings.consumer,
        bookmakers = %loaded.extractors.names().collect::<Vec<_>>().join(","),
        "Worker starting"
    );
    let worker = match Worker::connect(
        settings.clone(),
        loaded.extractors.clone(),
        observability.clone(),
        shutdown.clone(),
    )
    .await
    {
        Ok(worker) => worker,
        Err(_) if shutdown.is_triggered() => {
            info!("Worker exited cleanly, stopped before Redis was reachable");
            return Ok(ExitCode::SUCCESS);
        }
        Err(error) => return Err(error.into()),
    };

    let maintenance = tokio::spawn(xtr_worker::maintenance::run(
        worker.writer().clone(),
        worker.streams().clone(),
        worker.consumer().to_owned(),
        settings.maintenance_interval,
        settings.consumer_expiry,
        observability.clone(),
        shutdown.clone(),
    ));
    worker.run(shutdown).await?;
    maintenance.abort();
    info!("Worker exited cleanly");
    Ok(ExitCode::SUCCESS)
}

fn spawn_signal_listener(trigger: ShutdownTrigger) -> anyhow::Result<()> {
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    tokio::spawn(async move {
        let name = tokio::select! {
            _ = terminate.recv() => "SIGTERM",
            _ = interrupt.recv() => "SIGINT",
        };
        info!(
            signal = name,
            "Stop signal received; finishing the in-flight batch"
        );
        trigger.trigger();
    });
    Ok(())
}
