//! `.env.example` lists every variable xtr reads, each with a comment: the global table
//! of xtr-core (`VARIABLES`), `XTR_CONFIG`, and every compiled-in bookmaker's variables.
//! The file is generated from those tables; after a change there, regenerate it with
//!
//! ```text
//! UPDATE_ENV_EXAMPLE=1 cargo test -p xtr --test env_example
//! ```

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use xtr_core::config::{COMMON_BOOKMAKER_SETTINGS, VARIABLES, bookmaker_prefix};

const UPDATE_VARIABLE: &str = "UPDATE_ENV_EXAMPLE";

/// Description of `XTR_CONFIG`, which `VARIABLES` does not list because the loader reads
/// it first, to find the file.
const CONFIG_DESCRIPTION: &str = "path of a TOML file that may set any variable below, keys named as here \
     (mount the file into the container)";

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn env_example_path() -> PathBuf {
    repository_root().join(".env.example")
}

/// One variable as `.env.example` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    name: String,
    /// The value compose users get when the line stays commented out; empty when unset.
    value: String,
    description: String,
    /// Comment lines after the description: image defaults, secrecy.
    notes: Vec<String>,
    secret: bool,
}

/// A titled group of entries: the global variables, or one bookmaker's.
#[derive(Debug)]
struct Section {
    title: String,
    entries: Vec<Entry>,
}

/// Returns the registry of this build's bookmakers, built the way the binary builds
/// its own. `registry_matches_binary` checks that the two agree.
fn registry() -> xtr_core::Registry {
    #[allow(unused_mut)]
    let mut registry = xtr_core::Registry::new();
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

/// Returns the `ENV` settings of docker/Dockerfile's last stage, the image's defaults.
fn image_environment() -> BTreeMap<String, String> {
    let path = repository_root().join("docker/Dockerfile");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("failed to read {}: {error}", path.display()));
    let mut logical_lines = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                logical_lines.push(std::mem::take(&mut current));
            }
        }
    }

    let mut environment = BTreeMap::new();
    for line in logical_lines {
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("FROM ") {
            environment.clear();
        } else if upper.starts_with("ENV ") {
            for pair in line[4..].split_whitespace() {
                let (name, value) = pair
                    .split_once('=')
                    .unwrap_or_else(|| panic!("ENV without `=` in docker/Dockerfile: {line}"));
                environment.insert(name.to_owned(), value.trim_matches('"').to_owned());
            }
        }
    }
    environment
}

/// Returns the entry of a variable, with the image's default where the image sets one.
fn entry(
    image: &BTreeMap<String, String>,
    name: String,
    default: Option<&str>,
    description: &str,
    secret: bool,
) -> Entry {
    let mut notes = Vec::new();
    let value = match (image.get(&name), default) {
        (Some(image_value), Some(default)) => {
            notes.push(format!(
                "The image sets this value; xtr's own default is {default}."
            ));
            image_value.clone()
        }
        (Some(image_value), None) => {
            notes.push("The image sets this value; xtr alone leaves it unset.".to_owned());
            image_value.clone()
        }
        (None, default) => default.unwrap_or("").to_owned(),
    };
    if secret {
        notes.push("Secret: set it in .env or the environment only.".to_owned());
    }
    Entry {
        name,
        value,
        description: description.to_owned(),
        notes,
        secret,
    }
}

/// Returns every variable of this build, grouped as `.env.example` shows them.
fn sections() -> Vec<Section> {
    let image = image_environment();
    let mut global = vec![entry(
        &image,
        "XTR_CONFIG".to_owned(),
        None,
        CONFIG_DESCRIPTION,
        false,
    )];
    for variable in VARIABLES {
        global.push(entry(
            &image,
            variable.name.to_owned(),
            variable.default,
            variable.description,
            variable.secret,
        ));
    }
    let mut sections = vec![Section {
        title: "Global".to_owned(),
        entries: global,
    }];

    for registration in registry().registrations() {
        let spec = &registration.spec;
        let prefix = bookmaker_prefix(spec.name);
        let mut entries = Vec::new();
        for setting in COMMON_BOOKMAKER_SETTINGS.iter().chain(spec.settings) {
            let default = if setting.name == "BASE_URL" {
                spec.default_base_url.or(setting.default)
            } else {
                setting.default
            };
            entries.push(entry(
                &image,
                format!("{prefix}{}", setting.name),
                default,
                setting.description,
                setting.secret,
            ));
        }
        sections.push(Section {
            title: format!("{} ({} platform)", spec.name, registration.platform),
            entries,
        });
    }
    sections
}

const HEADER: &str = "\
# Settings of the compose.yaml workers, read from .env next to compose.yaml when it
# exists. Copy this file to .env and uncomment the lines you change: every line below
# is commented out, so an unchanged copy sets nothing and the defaults apply.
#
# The value after = is the default (the image's, where it sets one), or empty when
# there is none. compose.yaml sets STREAM and XTRTYPE for each worker service, and
# those win over this file; XTR_BATCH here sets the batch size of every worker service.
# Variables marked Secret hold credentials: keep them in .env only, which git and
# docker builds both ignore.
#
# Compose replaces $NAME and ${NAME} in values, even in double quotes: write a $ that
# belongs to the value as $$ (or put the whole value in single quotes).
#
# Generated from the variable tables of xtr-core and the bookmaker crates. After a
# change there, run: UPDATE_ENV_EXAMPLE=1 cargo test -p xtr --test env_example
";

/// Renders `.env.example`.
fn render(sections: &[Section]) -> String {
    let mut text = String::from(HEADER);
    for section in sections {
        text.push_str(&format!("\n# ===== {} =====\n", section.title));
        for entry in &section.entries {
            text.push_str(&format!("\n# {}\n", entry.description));
            for note in &entry.notes {
                text.push_str(&format!("# {note}\n"));
            }
            text.push_str(&format!("#{}={}\n", entry.name, entry.value));
        }
    }
    text
}

/// A `#NAME=value` line of the file, with the comment lines right above it.
#[derive(Debug)]
struct ParsedEntry {
    name: String,
    value: String,
    comment: String,
}

/// Parses entries: a line `#NAME=value` whose name is upper case, digits and `_`.
fn parse(text: &str) -> Vec<ParsedEntry> {
    let mut entries = Vec::new();
    let mut comment = Vec::new();
    for line in text.lines() {
        let entry = line
            .strip_prefix('#')
            .and_then(|rest| rest.split_once('='))
            .filter(|(name, _)| {
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            });
        match entry {
            Some((name, value)) => {
                entries.push(ParsedEntry {
                    name: name.to_owned(),
                    value: value.to_owned(),
                    comment: comment.join(" "),
                });
                comment.clear();
            }
            None => match line.strip_prefix("# ") {
                Some(text) if !text.starts_with("=====") => comment.push(text.trim().to_owned()),
                _ => comment.clear(),
            },
        }
    }
    entries
}

fn read_env_example() -> String {
    let path = env_example_path();
    if std::env::var_os(UPDATE_VARIABLE).is_some() {
        // Tests run in parallel and each may rewrite the file: a rename replaces it in
        // one step, so no test reads a half-written file.
        let mut file = tempfile::NamedTempFile::new_in(repository_root()).expect("temporary file");
        file.write_all(render(&sections()).as_bytes())
            .expect("write the temporary file");
        file.persist(&path)
            .unwrap_or_else(|error| panic!("failed to write {}: {error}", path.display()));
    }
    std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "failed to read {}: {error}; create it with {UPDATE_VARIABLE}=1 cargo test -p xtr --test env_example",
            path.display()
        )
    })
}

#[test]
fn env_example_lists_every_variable() {
    let listed: BTreeSet<String> = parse(&read_env_example())
        .into_iter()
        .map(|entry| entry.name)
        .collect();
    let known: BTreeSet<String> = sections()
        .into_iter()
        .flat_map(|section| section.entries)
        .map(|entry| entry.name)
        .collect();

    let missing: Vec<_> = known.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        ".env.example misses {missing:?}; regenerate it with {UPDATE_VARIABLE}=1 cargo test -p xtr --test env_example"
    );
}

/// With every bookmaker compiled in, the file lists nothing else: a stale or misspelt
/// name would be a setting that silently does nothing.
#[cfg(feature = "all")]
#[test]
fn env_example_lists_only_known_variables() {
    let known: BTreeSet<String> = sections()
        .into_iter()
        .flat_map(|section| section.entries)
        .map(|entry| entry.name)
        .collect();
    let unknown: Vec<String> = parse(&read_env_example())
        .into_iter()
        .map(|entry| entry.name)
        .filter(|name| !known.contains(name))
        .collect();
    assert!(
        unknown.is_empty(),
        ".env.example lists variables xtr does not read: {unknown:?}"
    );
}

#[cfg(feature = "all")]
#[test]
fn env_example_is_generated_text() {
    let expected = render(&sections());
    let actual = read_env_example();
    let first_difference = expected
        .lines()
        .zip(actual.lines())
        .position(|(expected, actual)| expected != actual);
    assert!(
        expected == actual,
        ".env.example differs from the generated text (first differing line {:?}); regenerate it with \
         {UPDATE_VARIABLE}=1 cargo test -p xtr --test env_example",
        first_difference.map(|index| index + 1)
    );
}

#[test]
fn env_example_entries_have_comments() {
    for entry in parse(&read_env_example()) {
        assert!(
            !entry.comment.is_empty(),
            "{} has no comment line above it",
            entry.name
        );
    }
}

#[test]
fn env_example_holds_no_secret_values() {
    let secrets: BTreeSet<String> = sections()
        .into_iter()
        .flat_map(|section| section.entries)
        .filter(|entry| entry.secret)
        .map(|entry| entry.name)
        .collect();
    assert!(secrets.contains("REDIS_PASSWORD"), "{secrets:?}");

    for entry in parse(&read_env_example()) {
        if secrets.contains(&entry.name) {
            assert_eq!(
                entry.value, "",
                "{} is a secret and must have no value",
                entry.name
            );
            assert!(
                entry.comment.contains("Secret:"),
                "{} is not marked secret",
                entry.name
            );
        }
    }
}

/// The listed values are valid: uncommenting every line with a value gives settings the
/// binary accepts.
#[test]
fn env_example_values_are_accepted() {
    let env: Vec<(String, String)> = parse(&read_env_example())
        .into_iter()
        // Paths are left out: any path is valid, and a command that opens its log
        // directory would create the image's /var/log/extractors on this machine.
        .filter(|entry| !entry.value.is_empty())
        .filter(|entry| !matches!(entry.name.as_str(), "XTR_CONFIG" | "XTR_LOG_DIR"))
        .map(|entry| (entry.name, entry.value))
        .collect();
    assert!(env.iter().any(|(name, _)| name == "XTR_BATCH"), "{env:?}");

    let env: Vec<(&str, String)> = env
        .iter()
        .map(|(name, value)| (name.as_str(), value.clone()))
        .collect();
    let output = common::xtr(&["extractors"], &env)
        .output()
        .expect("xtr runs");
    assert!(
        output.status.success(),
        "xtr rejected the values of .env.example: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The test's registry and the binary's agree, so the file covers what the binary reads.
#[test]
fn registry_matches_binary() {
    let output = common::xtr(&["extractors", "--json"], &[])
        .output()
        .expect("xtr runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let listing: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON listing");

    let mut from_binary = BTreeSet::new();
    for extractor in listing.as_array().expect("a JSON array") {
        for variable in extractor["variables"].as_array().expect("variables") {
            from_binary.insert(variable.as_str().expect("a variable name").to_owned());
        }
    }
    let from_test: BTreeSet<String> = sections()
        .into_iter()
        .skip(1)
        .flat_map(|section| section.entries)
        .map(|entry| entry.name)
        .collect();
    assert_eq!(
        from_test, from_binary,
        "the bookmaker variables of this test's registry() differ from `xtr extractors --json`; \
         add the new bookmaker crate's register call to registry() in this file"
    );
}
