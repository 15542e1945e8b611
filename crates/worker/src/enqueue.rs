//! Adding jobs to the job stream, for `xtr enqueue` and tests.

use fred::prelude::*;

use crate::error::WorkerError;

/// Jobs sent per pipeline, so a large enqueue uses few round trips and bounded memory.
const PIPELINE_CHUNK: usize = 500;

/// One job to add: a bookmaker, an event id and optional market kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// Registered bookmaker name.
    pub bookmaker: String,
    /// The bookmaker's event id.
    pub event: String,
    /// Comma-separated market kinds; the worker type's kinds when `None`.
    pub markets: Option<String>,
}

/// Adds jobs to `stream`, calling `progress` with the count added after each chunk,
/// and returns their entry ids.
///
/// # Errors
///
/// Returns the Redis error; jobs of earlier chunks stay added.
pub async fn enqueue(
    client: &Client,
    stream: &str,
    jobs: &[NewJob],
    mut progress: impl FnMut(usize),
) -> Result<Vec<String>, WorkerError> {
    let mut ids = Vec::with_capacity(jobs.len());
    for chunk in jobs.chunks(PIPELINE_CHUNK) {
        let pipeline = client.pipeline();
        for job in chunk {
            let mut fields = vec![
                ("bookmaker", job.bookmaker.as_str()),
                ("event", job.event.as_str()),
            ];
            if let Some(markets) = &job.markets {
                fields.push(("markets", markets.as_str()));
            }
            let _: () = pipeline
                .xadd(stream, false, None, "*", fields)
                .await
                .map_err(WorkerError::redis("XADD"))?;
        }
        let added: Vec<String> = pipeline.all().await.map_err(WorkerError::redis("XADD"))?;
        ids.extend(added);
        progress(ids.len());
    }
    Ok(ids)
}
