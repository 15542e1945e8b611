//! The core of xtr: the [`Extractor`] trait every bookmaker crate implements, the
//! normalized model of events, markets and prices, and the utilities the extractors and
//! the worker share (HTTP, configuration, errors, telemetry).
//!
//! This crate has no Redis code: the worker crate owns delivery, and this crate owns
//! what a market means.

pub mod config;
pub mod conformance;
pub mod decimal;
pub mod error;
pub mod extractor;
pub mod http;
pub mod model;
pub mod odds;
pub mod record;
pub mod registry;
pub mod snapshot;
pub mod telemetry;

pub use decimal::{Line, Price, Size};
pub use error::{Error, Result};
pub use extractor::{Capabilities, Extractor, Responses, SettingSpec};
pub use model::{
    Event, EventMarkets, ExchangePrice, Market, MarketKey, MarketKind, MarketSet, MarketStatus,
    Outcome, OutcomeName, OutcomeStatus, Period, Timestamp, WorkerType,
};
pub use registry::Registry;
pub use snapshot::{SnapshotRecord, snapshot_records};
