//! Logging: tracing to stdout, and to a daily-rotated file when a directory is set.

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry, fmt};

use crate::config::{LogFormat, LogSettings};
use crate::error::{Error, Result};

/// File name prefix of log files: `xtr.2026-12-04.log`.
pub const LOG_FILE_PREFIX: &str = "xtr";

/// Keeps the file writer's background thread alive; drop it last so buffered lines
/// are flushed on exit.
#[derive(Debug)]
pub struct TelemetryGuard {
    _file: Option<WorkerGuard>,
}

/// Where console log lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Console {
    /// Standard output, as containers expect of a long-running worker.
    Stdout,
    /// Standard error, for commands whose standard output is data (JSON lines).
    Stderr,
}

/// Returns whether the console stream is a terminal, so that colour codes reach only
/// terminals and never `docker logs` or a file.
fn console_is_terminal(console: Console) -> bool {
    use std::io::IsTerminal;
    match console {
        Console::Stdout => std::io::stdout().is_terminal(),
        Console::Stderr => std::io::stderr().is_terminal(),
    }
}

/// Installs the global tracing subscriber.
///
/// # Errors
///
/// Returns [`Error::InvalidConfig`] for an invalid `XTR_LOG` filter or a log directory
/// that cannot be created.
pub fn init(settings: &LogSettings, console: Console) -> Result<TelemetryGuard> {
    let filter = || {
        EnvFilter::try_new(&settings.filter).map_err(|error| Error::InvalidConfig {
            variable: "XTR_LOG".into(),
            value: format!("{:?}", settings.filter),
            expected: format!("a tracing filter such as info or xtr_worker=debug ({error})"),
        })
    };

    let (file_writer, guard) = match &settings.dir {
        Some(dir) => {
            let appender = RollingFileAppender::builder()
                .rotation(Rotation::DAILY)
                .filename_prefix(LOG_FILE_PREFIX)
                .filename_suffix("log")
                .max_log_files(settings.keep_days)
                .build(dir)
                .map_err(|error| Error::InvalidConfig {
                    variable: "XTR_LOG_DIR".into(),
                    value: format!("{:?}", dir.display().to_string()),
                    expected: format!("a writable directory ({error})"),
                })?;
            let (writer, guard) = tracing_appender::non_blocking(appender);
            (Some(writer), Some(guard))
        }
        None => (None, None),
    };

    let mut layers: Vec<Box<dyn Layer<Registry> + Send + Sync>> = Vec::new();
    let console_writer = move || -> Box<dyn std::io::Write> {
        match console {
            Console::Stdout => Box::new(std::io::stdout()),
            Console::Stderr => Box::new(std::io::stderr()),
        }
    };
    layers.push(match settings.format {
        LogFormat::Text => fmt::layer()
            .with_ansi(console_is_terminal(console))
            .with_writer(console_writer)
            .with_filter(filter()?)
            .boxed(),
        LogFormat::Json => fmt::layer()
            .json()
            .with_current_span(true)
            .with_writer(console_writer)
            .with_filter(filter()?)
            .boxed(),
    });
    if let Some(writer) = file_writer {
        layers.push(match settings.format {
            LogFormat::Text => fmt::layer()
                .with_ansi(false)
                .with_writer(writer)
                .with_filter(filter()?)
                .boxed(),
            LogFormat::Json => fmt::layer()
                .json()
                .with_current_span(true)
                .with_writer(writer)
                .with_filter(filter()?)
                .boxed(),
        });
    }
    // A subscriber installed earlier (by a test harness, say) keeps logging; that is
    // not an error.
    let _ = tracing_subscriber::registry().with(layers).try_init();
    Ok(TelemetryGuard { _file: guard })
}
