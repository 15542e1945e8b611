//! The registry of compiled-in extractors.
//!
//! Each bookmaker crate exposes a `register(&mut Registry)` function; the runner calls
//! each one under its Cargo feature, in one function. Registering only records how to
//! build the extractor, so the configuration loader can learn every bookmaker's
//! variables first, and building never fails for a missing credential: only a fetch
//! does.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::config::{BookmakerConfig, BookmakerSpec, HttpSettings, Settings};
use crate::error::Result;
use crate::extractor::Extractor;

/// Builds an extractor from its bookmaker's settings.
pub type BuildFn =
    Box<dyn Fn(&BookmakerConfig, &HttpSettings) -> Result<Arc<dyn Extractor>> + Send + Sync>;

/// One registered bookmaker.
pub struct Registration {
    /// Name and variables.
    pub spec: BookmakerSpec,
    /// The platform behind it, such as `kambi`, for listings.
    pub platform: &'static str,
    build: BuildFn,
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("spec", &self.spec)
            .field("platform", &self.platform)
            .finish_non_exhaustive()
    }
}

/// The bookmakers compiled into this build, by name.
#[derive(Debug, Default)]
pub struct Registry {
    registrations: Vec<Registration>,
}

impl Registry {
    /// Returns an empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a bookmaker.
    ///
    /// # Panics
    ///
    /// Panics when the name is already registered: two crates claiming one name is a
    /// build mistake that must not reach production.
    pub fn register(
        &mut self,
        spec: BookmakerSpec,
        platform: &'static str,
        build: impl Fn(&BookmakerConfig, &HttpSettings) -> Result<Arc<dyn Extractor>>
        + Send
        + Sync
        + 'static,
    ) {
        assert!(
            self.registrations.iter().all(|r| r.spec.name != spec.name),
            "bookmaker {:?} is registered twice",
            spec.name
        );
        self.registrations.push(Registration {
            spec,
            platform,
            build: Box::new(build),
        });
    }

    /// Returns the registrations in name order.
    pub fn registrations(&self) -> Vec<&Registration> {
        let mut all: Vec<_> = self.registrations.iter().collect();
        all.sort_by_key(|registration| registration.spec.name);
        all
    }

    /// Returns the specs the configuration loader needs.
    pub fn specs(&self) -> Vec<BookmakerSpec> {
        self.registrations().iter().map(|r| r.spec).collect()
    }

    /// Builds every registered extractor with its settings.
    ///
    /// # Errors
    ///
    /// Returns the first build error, such as an invalid proxy URL.
    pub fn build(&self, settings: &Settings) -> Result<Extractors> {
        let mut by_name = BTreeMap::new();
        for registration in &self.registrations {
            let name = registration.spec.name;
            let config =
                settings
                    .bookmakers
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| BookmakerConfig {
                        name,
                        prefix: crate::config::bookmaker_prefix(name),
                        base_url: None,
                        proxy: None,
                        rate_limit: None,
                        values: BTreeMap::new(),
                    });
            by_name.insert(name, (registration.build)(&config, &settings.http)?);
        }
        Ok(Extractors { by_name })
    }
}

/// Built extractors, by bookmaker name.
#[derive(Debug, Clone, Default)]
pub struct Extractors {
    by_name: BTreeMap<&'static str, Arc<dyn Extractor>>,
}

impl Extractors {
    /// Returns the extractor of a bookmaker.
    pub fn get(&self, bookmaker: &str) -> Option<&Arc<dyn Extractor>> {
        self.by_name.get(bookmaker)
    }

    /// Returns the bookmaker names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.by_name.keys().copied()
    }

    /// Iterates over the extractors in name order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Extractor>> {
        self.by_name.values()
    }

    /// Returns whether no extractor is compiled in.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}
