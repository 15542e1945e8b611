//! The worker's HTTP endpoints (`/metrics`, `/healthz`, `/readyz`) and `xtr health`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use xtr_worker::{Observability, Shutdown};

#[derive(Clone)]
struct Endpoints {
    observability: Observability,
    /// The loop is alive while it made progress within this time.
    liveness_timeout: Duration,
    /// Stop signal, after which the worker is draining.
    shutdown: Shutdown,
}

/// Serves the endpoints on `addr` until the process exits.
///
/// The stop signal does not end them, because `/readyz` must return "draining" while
/// the in-flight batch finishes. The task ends when `xtr worker` returns and its
/// runtime shuts down.
pub(crate) async fn serve(
    addr: SocketAddr,
    observability: Observability,
    liveness_timeout: Duration,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on XTR_HTTP_ADDR={addr}"))?;
    tracing::info!(%addr, "Serving /metrics, /healthz and /readyz");
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(Endpoints {
            observability,
            liveness_timeout,
            shutdown,
        });
    axum::serve(listener, app)
        .await
        .context("the HTTP endpoint server failed")
}

async fn metrics(State(endpoints): State<Endpoints>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        endpoints.observability.metrics.encode(),
    )
}

async fn healthz(State(endpoints): State<Endpoints>) -> impl IntoResponse {
    let since = endpoints.observability.health.since_progress();
    if since <= endpoints.liveness_timeout {
        (
            StatusCode::OK,
            format!("ok: loop progressed {} ms ago\n", since.as_millis()),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("stuck: no loop progress for {} s\n", since.as_secs()),
        )
    }
}

async fn readyz(State(endpoints): State<Endpoints>) -> impl IntoResponse {
    // The signal counts at once, because the loop marks itself draining only at its
    // next step, which can come after a whole slow batch.
    let reason = if endpoints.shutdown.is_triggered() {
        Some("draining")
    } else {
        endpoints.observability.health.not_ready_reason()
    };
    match reason {
        None => (StatusCode::OK, "ready\n".to_owned()),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {reason}\n"),
        ),
    }
}

/// `xtr health`: GET /healthz of the local worker; exit 0 on 200, 1 otherwise.
pub(crate) async fn health(addr: Option<&str>) -> anyhow::Result<ExitCode> {
    let addr = match addr {
        Some(addr) => addr.to_owned(),
        None => std::env::var("XTR_HTTP_ADDR")
            .context("XTR_HTTP_ADDR is not set and --addr was not given")?,
    };
    let mut target: SocketAddr = addr.parse().with_context(|| {
        format!("invalid address {addr:?}: expected host:port such as 127.0.0.1:9000")
    })?;
    // A worker listening on every interface is reached through loopback.
    if target.ip().is_unspecified() {
        target.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let status = tokio::time::timeout(Duration::from_secs(3), get_status(target, "/healthz")).await;
    match status {
        Ok(Ok(200)) => Ok(ExitCode::SUCCESS),
        Ok(Ok(code)) => {
            eprintln!("unhealthy: /healthz returned HTTP {code}");
            Ok(ExitCode::FAILURE)
        }
        Ok(Err(error)) => {
            eprintln!("unhealthy: {error:#}");
            Ok(ExitCode::FAILURE)
        }
        Err(_) => {
            eprintln!("unhealthy: /healthz did not answer within 3 s");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Sends a minimal HTTP/1.1 GET and returns the status code.
async fn get_status(addr: SocketAddr, path: &str) -> anyhow::Result<u16> {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .with_context(|| format!("cannot connect to {addr}"))?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    // The status line may arrive in several reads, and 256 bytes fit any real one.
    let mut head = Vec::with_capacity(256);
    let mut buffer = [0u8; 256];
    while !head.contains(&b'\n') && head.len() < 256 {
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let end = head
        .iter()
        .position(|&byte| byte == b'\n')
        .unwrap_or(head.len());
    let line = std::str::from_utf8(&head[..end]).unwrap_or("");
    line.strip_prefix("HTTP/")
        .and_then(|rest| rest.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .with_context(|| format!("not an HTTP response from {addr}"))
}
