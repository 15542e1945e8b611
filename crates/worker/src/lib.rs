//! The xtr worker: takes jobs from a Redis stream through a consumer group, a batch at
//! a time, runs each through its bookmaker's extractor, publishes the snapshots and
//! acknowledges the job.
//!
//! Delivery is at least once: a job is acknowledged only in the same server-side script
//! that stores its results or its dead letter, and a job that a dead worker left pending
//! is reclaimed by another after `XTR_CLAIM_IDLE`.

pub mod enqueue;
pub mod error;
pub mod job;
pub mod lease;
pub mod maintenance;
pub mod metrics;
pub mod publish;
pub mod redis;
pub mod repeats;
pub mod run;
pub mod shutdown;

pub use error::WorkerError;
pub use metrics::{Health, Metrics, Observability};
pub use run::Worker;
pub use shutdown::{Shutdown, ShutdownTrigger};
