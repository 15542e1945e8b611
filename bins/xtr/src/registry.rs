//! The one place where compiled-in extractors are registered, each under its feature.

use xtr_core::Registry;

/// Returns the registry of every extractor this build contains.
pub(crate) fn registry() -> Registry {
    let mut registry = Registry::new();
    #[cfg(feature = "kambi")]
    xtr_kambi::register(&mut registry);
    #[cfg(feature = "pinnacle")]
    xtr_pinnacle::register(&mut registry);
    #[cfg(feature = "betfair")]
    xtr_betfair::register(&mut registry);
    #[cfg(feature = "bwin")]
    xtr_bwin::register(&mut registry);
    #[cfg(feature = "betway")]
    xtr_betway::register(&mut registry);
    #[cfg(feature = "sbtech")]
    xtr_sbtech::register(&mut registry);
    registry
}
