//! Errors of the worker's Redis side.

/// An error that stops the worker or one of its Redis operations.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkerError {
    /// A Redis command failed.
    #[error("Redis {operation} failed: {}", crate::redis::describe_error(source))]
    Redis {
        /// The command or step, such as `XREADGROUP` or `publish batch`.
        operation: &'static str,
        /// fred's error.
        source: fred::error::Error,
    },

    /// A Redis reply in a shape the worker does not expect.
    #[error("unexpected Redis reply to {operation}: {detail}")]
    Reply {
        /// The command.
        operation: &'static str,
        /// The problem with the reply.
        detail: String,
    },

    /// The settings cannot be turned into a Redis connection.
    #[error("invalid Redis settings: {0}")]
    Config(String),

    /// The stop signal arrived before the worker was ready to read jobs.
    #[error("stopped before the worker was ready")]
    Stopped,
}

impl WorkerError {
    pub(crate) fn redis(operation: &'static str) -> impl FnOnce(fred::error::Error) -> Self {
        move |source| WorkerError::Redis { operation, source }
    }

    /// Returns whether Redis reported that the consumer group (or its stream) is gone,
    /// which happens when Redis restarts without persistence. Inside a script the
    /// error is prefixed by the script's context, so the code is searched, not matched.
    pub fn is_no_group(&self) -> bool {
        matches!(self, WorkerError::Redis { source, .. } if source.details().contains("NOGROUP"))
    }
}
