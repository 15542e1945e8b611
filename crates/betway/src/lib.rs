//! The Betway extractor: the `Events/V2` JSON API behind Betway's sports sites.
//!
//! Betway has one host per jurisdiction and no host that serves every one, so there is
//! no default base URL: set `XTR_BETWAY_BASE_URL` to the site's root (for example the
//! Belgian site's), or fetching and listing fail with [`Error::MissingSetting`] naming
//! it. Every request body carries the ids of the jurisdiction: `XTR_BETWAY_LANGUAGE_ID`,
//! `..._CLIENT_TYPE_ID`, `..._BRAND_ID`, `..._JURISDICTION_ID` and
//! `..._CLIENT_INTEGRATOR_ID`. Their defaults (1, 2, 3, 3, 1) are the ones public clients
//! send to the Belgian site.
//!
//! One event is one request, `POST {base}/api/Events/V2/GetEventDetails` with the JSON
//! body `{"EventId", the five ids, "ScoreboardRequest"}`. Listing football reads each
//! group of `XTR_BETWAY_GROUPS` (`subcategory/group` names such as
//! `belgium/first-division-a`) with `POST .../GetGroup`, then the events of the ids it
//! returns with `POST .../GetEvents`, which has the same shape as GetEventDetails with an
//! `Events` list. [`parse`](parse::parse) maps both shapes.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use xtr_core::config::{BookmakerConfig, BookmakerSpec, HttpSettings};
use xtr_core::error::{Context, Error, Result};
use xtr_core::extractor::validate_numeric_event_id;
use xtr_core::http::{BookmakerHttp, Request};
use xtr_core::{
    Capabilities, Event, EventMarkets, Extractor, MarketKind, MarketSet, Period, Registry,
    Responses, SettingSpec,
};

#[doc(hidden)]
pub mod fixtures;
pub mod parse;

use parse::{BOOKMAKER, FOOTBALL_CATEGORY};

/// The path of the API under the base URL.
const API_PATH: [&str; 3] = ["api", "Events", "V2"];

/// The market GetEvents is asked for when listing: every football event has one.
const LISTING_MARKET: &str = "win-draw-win";

/// `ScoreboardRequest.ScoreboardType` of every request, as public clients of the
/// Belgian site send it. xtr reads no scoreboard.
const SCOREBOARD_TYPE: u32 = 3;

/// The settings of Betway beyond the common ones.
pub const SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        name: "LANGUAGE_ID",
        description: "LanguageId of request bodies; market titles are matched in English",
        secret: false,
        default: Some("1"),
    },
    SettingSpec {
        name: "CLIENT_TYPE_ID",
        description: "ClientTypeId of request bodies",
        secret: false,
        default: Some("2"),
    },
    SettingSpec {
        name: "BRAND_ID",
        description: "BrandId of request bodies",
        secret: false,
        default: Some("3"),
    },
    SettingSpec {
        name: "JURISDICTION_ID",
        description: "JurisdictionId of request bodies",
        secret: false,
        default: Some("3"),
    },
    SettingSpec {
        name: "CLIENT_INTEGRATOR_ID",
        description: "ClientIntegratorId of request bodies",
        secret: false,
        default: Some("1"),
    },
    SettingSpec {
        name: "GROUPS",
        description: "comma-separated football groups a listing reads, as subcategory/group",
        secret: false,
        default: Some("belgium/first-division-a"),
    },
];

/// The registration of Betway: name, no default base URL, and settings.
pub const SPEC: BookmakerSpec = BookmakerSpec {
    name: BOOKMAKER,
    default_base_url: None,
    settings: SETTINGS,
};

/// The periods of the markets Betway's titles name.
const PERIODS: &[Period] = &[Period::FullTime, Period::FirstHalf, Period::SecondHalf];

/// Registers the Betway extractor.
pub fn register(registry: &mut Registry) {
    registry.register(SPEC, "betway", |config, http| {
        Ok(Arc::new(BetwayExtractor::new(config, http)?))
    });
}

/// The ids of a jurisdiction that every request body carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Jurisdiction {
    /// `LanguageId`.
    pub language_id: u32,
    /// `ClientTypeId`.
    pub client_type_id: u32,
    /// `BrandId`.
    pub brand_id: u32,
    /// `JurisdictionId`.
    pub jurisdiction_id: u32,
    /// `ClientIntegratorId`.
    pub client_integrator_id: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ScoreboardRequest {
    scoreboard_type: u32,
    incident_request: IncidentRequest,
}

#[derive(Serialize)]
struct IncidentRequest {}

const SCOREBOARD: ScoreboardRequest = ScoreboardRequest {
    scoreboard_type: SCOREBOARD_TYPE,
    incident_request: IncidentRequest {},
};

/// The body of GetEventDetails.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EventDetailsRequest<'a> {
    event_id: u64,
    #[serde(flatten)]
    jurisdiction: Jurisdiction,
    scoreboard_request: &'a ScoreboardRequest,
}

/// The body of GetGroup.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GroupRequest<'a> {
    #[serde(flatten)]
    jurisdiction: Jurisdiction,
    #[serde(rename = "CategoryCName")]
    category: &'a str,
    #[serde(rename = "SubCategoryCName")]
    subcategory: &'a str,
    #[serde(rename = "GroupCName")]
    group: &'a str,
    premium_only: bool,
}

/// The body of GetEvents.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EventsRequest<'a> {
    #[serde(flatten)]
    jurisdiction: Jurisdiction,
    external_ids: &'a [u64],
    #[serde(rename = "MarketCName")]
    market: &'a str,
    scoreboard_request: &'a ScoreboardRequest,
}

/// A GetGroup response: the event ids under `Categories[].Events`, or under
/// `EventSummaries[].EventId` as newer versions of the API send them.
#[derive(Deserialize)]
struct GroupResponse {
    #[serde(rename = "Categories", default)]
    categories: Option<Vec<GroupCategory>>,
    #[serde(rename = "EventSummaries", default)]
    summaries: Option<Vec<EventSummary>>,
}

#[derive(Deserialize)]
struct GroupCategory {
    #[serde(rename = "Events", default)]
    events: Vec<u64>,
}

#[derive(Deserialize)]
struct EventSummary {
    #[serde(rename = "EventId")]
    event_id: u64,
    #[serde(rename = "IsOutright", default)]
    is_outright: bool,
}

/// One football group of the listing, as Betway's URL names it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Group {
    subcategory: String,
    group: String,
}

/// The extractor of Betway's `Events/V2` API.
pub struct BetwayExtractor {
    http: BookmakerHttp,
    capabilities: Capabilities,
    jurisdiction: Jurisdiction,
    groups: Vec<Group>,
}

impl fmt::Debug for BetwayExtractor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BetwayExtractor")
            .field("http", &self.http)
            .field("jurisdiction", &self.jurisdiction)
            .field("groups", &self.groups)
            .finish_non_exhaustive()
    }
}

fn id_setting(config: &BookmakerConfig, name: &str) -> Result<u32> {
    let text = config.get(name).unwrap_or_default();
    text.trim().parse().map_err(|_| Error::InvalidConfig {
        variable: config.variable(name),
        value: format!("{text:?}"),
        expected: "a whole number such as 3".into(),
    })
}

fn is_cname(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn groups_setting(config: &BookmakerConfig) -> Result<Vec<Group>> {
    let text = config.get("GROUPS").unwrap_or_default();
    let mut groups = Vec::new();
    for entry in text
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
    {
        let group = entry
            .split_once('/')
            .filter(|(subcategory, group)| is_cname(subcategory) && is_cname(group))
            .map(|(subcategory, group)| Group {
                subcategory: subcategory.to_owned(),
                group: group.to_owned(),
            })
            .ok_or_else(|| Error::InvalidConfig {
                variable: config.variable("GROUPS"),
                value: format!("{text:?}"),
                expected: "comma-separated subcategory/group names such as \
                           belgium/first-division-a"
                    .into(),
            })?;
        if !groups.contains(&group) {
            groups.push(group);
        }
    }
    Ok(groups)
}

impl BetwayExtractor {
    /// Builds the extractor from its settings. A missing base URL is not an error here:
    /// only requests need it.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidConfig`] for an id setting that is not a whole number, a
    /// `GROUPS` entry that is not `subcategory/group` in lowercase letters, digits and
    /// `-`, or a proxy URL the HTTP client rejects.
    pub fn new(config: &BookmakerConfig, http: &HttpSettings) -> Result<Self> {
        let jurisdiction = Jurisdiction {
            language_id: id_setting(config, "LANGUAGE_ID")?,
            client_type_id: id_setting(config, "CLIENT_TYPE_ID")?,
            brand_id: id_setting(config, "BRAND_ID")?,
            jurisdiction_id: id_setting(config, "JURISDICTION_ID")?,
            client_integrator_id: id_setting(config, "CLIENT_INTEGRATOR_ID")?,
        };
        Ok(Self {
            http: BookmakerHttp::new(config, http)?,
            capabilities: Capabilities {
                markets: MarketSet::from_kinds(&[
                    MarketKind::Btts,
                    MarketKind::MatchResult,
                    MarketKind::TotalGoals,
                    MarketKind::AsianTotal,
                ]),
                periods: PERIODS,
                sports: &["football"],
                responses: &["event_details"],
                exchange: false,
            },
            jurisdiction,
            groups: groups_setting(config)?,
        })
    }

    /// Returns the ids of the jurisdiction the requests carry.
    pub fn jurisdiction(&self) -> Jurisdiction {
        self.jurisdiction
    }

    /// POSTs a JSON body to one method of the API; a 404 becomes
    /// [`Error::EventNotFound`] for `subject`.
    async fn post(
        &self,
        operation: &'static str,
        method: &str,
        body: &impl Serialize,
        subject: &str,
    ) -> Result<Bytes> {
        let [api, events, version] = API_PATH;
        let url = self
            .http
            .url(operation, &[api, events, version, method], &[])?;
        let body = serde_json::to_vec(body).map_err(|error| Error::Malformed {
            context: Context::new(BOOKMAKER, operation),
            detail: format!("request body did not serialize: {error}"),
        })?;
        self.http
            .send(operation, Request::post_json(url, body.into()))
            .await
            .map_err(|error| match error {
                Error::Status {
                    context,
                    status: 404,
                    ..
                } => Error::EventNotFound {
                    context,
                    event: subject.to_owned(),
                },
                other => other,
            })
    }

    /// Returns the event ids GetGroup lists for one group, outrights left out.
    async fn group_event_ids(&self, group: &Group) -> Result<Vec<u64>> {
        let operation = "list group";
        let request = GroupRequest {
            jurisdiction: self.jurisdiction,
            category: FOOTBALL_CATEGORY,
            subcategory: &group.subcategory,
            group: &group.group,
            premium_only: false,
        };
        let subject = format!("{}/{}", group.subcategory, group.group);
        let body = self.post(operation, "GetGroup", &request, &subject).await?;
        let response: GroupResponse = serde_json::from_slice(&body)
            .map_err(|error| Error::malformed(Context::new(BOOKMAKER, operation), &error))?;
        let mut ids: Vec<u64> = response
            .categories
            .into_iter()
            .flatten()
            .flat_map(|category| category.events)
            .collect();
        ids.extend(
            response
                .summaries
                .into_iter()
                .flatten()
                .filter(|summary| !summary.is_outright)
                .map(|summary| summary.event_id),
        );
        Ok(ids)
    }
}

#[async_trait]
impl Extractor for BetwayExtractor {
    fn name(&self) -> &'static str {
        BOOKMAKER
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn list_events(&self, sport: Option<&str>) -> Result<Vec<Event>> {
        if let Some(sport) = sport.filter(|sport| !sport.eq_ignore_ascii_case("football")) {
            return Err(Error::invalid_job(format!(
                "sport {sport:?} is not listed by betway: it lists football"
            )));
        }
        let mut seen = HashSet::new();
        let mut events = Vec::new();
        for group in &self.groups {
            let ids = self.group_event_ids(group).await?;
            if ids.is_empty() {
                continue;
            }
            let request = EventsRequest {
                jurisdiction: self.jurisdiction,
                external_ids: &ids,
                market: LISTING_MARKET,
                scoreboard_request: &SCOREBOARD,
            };
            let subject = format!("{}/{}", group.subcategory, group.group);
            let body = self
                .post("list events", "GetEvents", &request, &subject)
                .await?;
            for entry in parse::parse(&[&body], MarketSet::EMPTY)? {
                if seen.insert(entry.event.id.clone()) {
                    events.push(entry.event);
                }
            }
        }
        Ok(events)
    }

    async fn fetch(&self, event_id: &str, _markets: MarketSet) -> Result<Responses> {
        self.validate_event_id(event_id)?;
        let id: u64 = event_id.parse().map_err(|_| {
            Error::invalid_job(format!(
                "event id {event_id:?} is invalid: expected a 64-bit number"
            ))
        })?;
        let operation = "fetch event";
        let request = EventDetailsRequest {
            event_id: id,
            jurisdiction: self.jurisdiction,
            scoreboard_request: &SCOREBOARD,
        };
        let body = self
            .post(operation, "GetEventDetails", &request, event_id)
            .await?;
        // NOTE: no recording shows Betway's response for an unknown event, so a body
        // without an event is taken to be that response.
        if !parse::names_an_event(&body)? {
            return Err(Error::EventNotFound {
                context: Context::new(BOOKMAKER, operation),
                event: event_id.to_owned(),
            });
        }
        Ok(vec![body])
    }

    fn parse(&self, bodies: &[&[u8]], markets: MarketSet) -> Result<Vec<EventMarkets>> {
        parse::parse(bodies, markets)
    }

    fn validate_event_id(&self, event_id: &str) -> Result<()> {
        validate_numeric_event_id(event_id)
    }
}
