//! Hand-made Betfair responses in the recorded schema, for the runner's conformance
//! suite and this crate's tests and benches.

/// One set of bodies that [`crate::parse::parse`] reads together.
#[derive(Debug, Clone, Copy)]
pub struct Fixture {
    /// Short name of the case.
    pub name: &'static str,
    /// The bodies, in the order `parse` takes them.
    pub bodies: &'static [&'static [u8]],
}

/// Every fixture that parses without error.
pub const FIXTURES: &[Fixture] = &[
    Fixture {
        name: "match",
        bodies: &[
            include_bytes!("../tests/fixtures/catalogue.json"),
            include_bytes!("../tests/fixtures/book.json"),
        ],
    },
    Fixture {
        name: "in_play",
        bodies: &[
            include_bytes!("../tests/fixtures/in_play_catalogue.json"),
            include_bytes!("../tests/fixtures/in_play_book.json"),
        ],
    },
    Fixture {
        name: "no_requested_markets",
        bodies: &[
            include_bytes!("../tests/fixtures/empty_result.json"),
            include_bytes!("../tests/fixtures/probe_catalogue.json"),
        ],
    },
];
