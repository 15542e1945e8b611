//! The JSON-RPC envelope of API-NG: request bodies, responses and API errors.
//!
//! Every call is a POST of `{"jsonrpc": "2.0", "method": ..., "params": ..., "id": 1}`;
//! the response carries either `result` or `error`, and an API error names its cause in
//! `error.data.APINGException.errorCode`.

use bytes::Bytes;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use xtr_core::error::{Context, Error, Result};

/// Method of the market catalogue: market types, runners and the event.
pub(crate) const LIST_MARKET_CATALOGUE: &str = "SportsAPING/v1.0/listMarketCatalogue";

/// Method of the market book: statuses and price ladders.
pub(crate) const LIST_MARKET_BOOK: &str = "SportsAPING/v1.0/listMarketBook";

/// Method of the event listing.
pub(crate) const LIST_EVENTS: &str = "SportsAPING/v1.0/listEvents";

/// Variable of the application key, named by errors that reject it.
pub(crate) const APP_KEY_VARIABLE: &str = "XTR_BETFAIR_APP_KEY";

/// Variable of the session token, named by errors that reject it.
pub(crate) const SESSION_TOKEN_VARIABLE: &str = "XTR_BETFAIR_SESSION_TOKEN";

/// Longest `errorDetails` text copied into an error message, in characters.
const MAX_DETAILS_CHARS: usize = 200;

/// One JSON-RPC request.
#[derive(Debug, Serialize)]
pub(crate) struct RpcRequest<'a, P> {
    jsonrpc: &'static str,
    method: &'a str,
    params: P,
    id: u32,
}

impl<'a, P: Serialize> RpcRequest<'a, P> {
    /// Builds a request of `method` with `params`.
    pub(crate) fn new(method: &'a str, params: P) -> Self {
        Self {
            jsonrpc: "2.0",
            method,
            params,
            id: 1,
        }
    }

    /// Serializes the request body.
    pub(crate) fn to_bytes(&self) -> Bytes {
        // The parameters are structs of strings, string lists and integers, which
        // serde_json always serializes.
        let body = serde_json::to_vec(self).expect("JSON-RPC parameters serialize");
        Bytes::from(body)
    }
}

/// `MarketFilter`: empty lists are left out, because Betfair reads an empty list as no
/// restriction at all.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MarketFilter<'a> {
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub(crate) event_type_ids: &'a [&'a str],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub(crate) event_ids: &'a [&'a str],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub(crate) market_type_codes: &'a [&'a str],
}

/// Parameters of `listMarketCatalogue`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CatalogueParams<'a> {
    pub(crate) filter: MarketFilter<'a>,
    pub(crate) market_projection: &'a [&'a str],
    pub(crate) max_results: u32,
}

/// Parameters of `listMarketBook`: the best back and lay level of each runner.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BookParams<'a> {
    pub(crate) market_ids: &'a [&'a str],
    pub(crate) price_projection: PriceProjection,
}

/// `PriceProjection` of the best offers, cut to `best_prices_depth` levels.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PriceProjection {
    price_data: [&'static str; 1],
    ex_best_offers_overrides: BestOffersOverrides,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct BestOffersOverrides {
    best_prices_depth: u32,
}

impl PriceProjection {
    /// Returns the projection of the best `depth` levels of each ladder.
    pub(crate) fn best_offers(depth: u32) -> Self {
        Self {
            price_data: ["EX_BEST_OFFERS"],
            ex_best_offers_overrides: BestOffersOverrides {
                best_prices_depth: depth,
            },
        }
    }
}

/// Parameters of `listEvents`.
#[derive(Debug, Serialize)]
pub(crate) struct EventsParams<'a> {
    pub(crate) filter: MarketFilter<'a>,
}

/// A JSON-RPC response: a result of type `T`, or an error.
#[derive(Debug, Deserialize)]
struct Envelope<T> {
    result: Option<T>,
    error: Option<RpcError>,
}

/// The `error` member of a JSON-RPC response.
#[derive(Debug, Deserialize)]
struct RpcError {
    code: Option<i64>,
    message: Option<String>,
    data: Option<ErrorData>,
}

/// `error.data`: API-NG puts its exception here; other JSON-RPC errors may put
/// anything, which is ignored.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ErrorData {
    Exception {
        #[serde(rename = "APINGException")]
        exception: ApiException,
    },
    Other(IgnoredAny),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiException {
    error_code: String,
    error_details: Option<String>,
}

/// Reads the `result` of a JSON-RPC response.
///
/// # Errors
///
/// Returns [`Error::Malformed`] when the body is not a JSON-RPC response with a result of
/// type `T`, and the error the API reported otherwise (see [`api_error`]).
pub(crate) fn read_result<'a, T: Deserialize<'a>>(
    body: &'a [u8],
    context: impl Fn() -> Context,
) -> Result<T> {
    let envelope: Envelope<T> =
        serde_json::from_slice(body).map_err(|error| Error::malformed(context(), &error))?;
    if let Some(error) = envelope.error {
        return Err(api_error(context(), &error));
    }
    envelope.result.ok_or_else(|| Error::Malformed {
        context: context(),
        detail: "the JSON-RPC response has neither a result nor an error".into(),
    })
}

/// Checks that a body is a JSON-RPC response with a list result, without reading it.
///
/// # Errors
///
/// As [`read_result`].
pub(crate) fn check_response(body: &[u8], context: impl Fn() -> Context) -> Result<()> {
    read_result::<Vec<IgnoredAny>>(body, context).map(drop)
}

/// Maps a JSON-RPC error onto the error an operator can act on.
///
/// - `INVALID_SESSION_INFORMATION` and `NO_SESSION`: [`Error::SessionExpired`] naming
///   `XTR_BETFAIR_SESSION_TOKEN`; `INVALID_APP_KEY` and `NO_APP_KEY` name
///   `XTR_BETFAIR_APP_KEY`.
/// - `SERVICE_BUSY`, `TIMEOUT_ERROR`, `TOO_MANY_REQUESTS` and `UNEXPECTED_ERROR`: a
///   transient [`Error::Unavailable`], so the job is retried.
/// - Anything else (`TOO_MUCH_DATA`, `INVALID_INPUT_DATA`, JSON-RPC errors without an
///   `APINGException`): [`Error::Rejected`], because retrying the same request fails
///   the same way.
fn api_error(context: Context, error: &RpcError) -> Error {
    let Some(ErrorData::Exception { exception }) = &error.data else {
        return Error::Rejected {
            context,
            code: format!(
                "JSON-RPC {}",
                error
                    .code
                    .map_or_else(|| "-".to_owned(), |code| code.to_string())
            ),
            detail: error
                .message
                .as_deref()
                .map(|message| format!(": {message}"))
                .unwrap_or_default(),
        };
    };
    let code = exception.error_code.as_str();
    let details = exception
        .error_details
        .as_deref()
        .filter(|details| !details.trim().is_empty())
        .map(|details| {
            let cut: String = details.chars().take(MAX_DETAILS_CHARS).collect();
            format!(": {cut}")
        })
        .unwrap_or_default();
    match code {
        "INVALID_SESSION_INFORMATION" | "NO_SESSION" => Error::SessionExpired {
            context,
            code: code.to_owned(),
            variable: SESSION_TOKEN_VARIABLE,
        },
        "INVALID_APP_KEY" | "NO_APP_KEY" => Error::SessionExpired {
            context,
            code: code.to_owned(),
            variable: APP_KEY_VARIABLE,
        },
        "SERVICE_BUSY" | "TIMEOUT_ERROR" | "TOO_MANY_REQUESTS" | "UNEXPECTED_ERROR" => {
            Error::Unavailable {
                context,
                code: code.to_owned(),
                detail: details,
            }
        }
        _ => Error::Rejected {
            context,
            code: code.to_owned(),
            detail: details,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> Context {
        Context::new("betfair", "fetch event")
    }

    fn error_body(code: &str) -> String {
        format!(
            r#"{{"jsonrpc":"2.0","error":{{"code":-32099,"message":"ANGX-0003","data":{{"APINGException":{{"requestUUID":"x","errorCode":"{code}","errorDetails":"detail text"}},"exceptionname":"APINGException"}}}},"id":1}}"#
        )
    }

    #[test]
    fn request_body_shape() {
        let params = EventsParams {
            filter: MarketFilter {
                event_type_ids: &["1"],
                ..MarketFilter::default()
            },
        };
        let body = RpcRequest::new(LIST_EVENTS, params).to_bytes();
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            r#"{"jsonrpc":"2.0","method":"SportsAPING/v1.0/listEvents","params":{"filter":{"eventTypeIds":["1"]}},"id":1}"#
        );
    }

    #[test]
    fn session_errors_name_their_variable() {
        let body = error_body("NO_SESSION");
        let error = check_response(body.as_bytes(), context).unwrap_err();
        assert!(
            matches!(&error, Error::SessionExpired { variable, code, .. }
                if *variable == SESSION_TOKEN_VARIABLE && code == "NO_SESSION"),
            "{error:?}"
        );
        let body = error_body("INVALID_APP_KEY");
        let error = check_response(body.as_bytes(), context).unwrap_err();
        assert!(
            matches!(&error, Error::SessionExpired { variable, .. } if *variable == APP_KEY_VARIABLE),
            "{error:?}"
        );
    }

    #[test]
    fn busy_errors_are_transient() {
        for code in ["SERVICE_BUSY", "TIMEOUT_ERROR", "TOO_MANY_REQUESTS"] {
            let body = error_body(code);
            let error = check_response(body.as_bytes(), context).unwrap_err();
            assert!(error.is_transient(), "{code}: {error:?}");
            assert!(error.to_string().contains(code), "{error}");
        }
    }

    #[test]
    fn request_errors_are_not_transient() {
        let body = error_body("TOO_MUCH_DATA");
        let error = check_response(body.as_bytes(), context).unwrap_err();
        assert_eq!(error.kind(), "rejected");
        assert!(!error.is_transient());
        assert!(
            error.to_string().contains("(TOO_MUCH_DATA): detail text"),
            "{error}"
        );
    }

    #[test]
    fn plain_json_rpc_error_is_rejected() {
        let body = br#"{"jsonrpc":"2.0","error":{"code":-32601,"message":"DSC-0021"},"id":1}"#;
        let error = check_response(body, context).unwrap_err();
        assert_eq!(error.kind(), "rejected");
        assert!(!error.is_transient());
        assert!(
            error.to_string().contains("(JSON-RPC -32601): DSC-0021"),
            "{error}"
        );
    }

    #[test]
    fn answer_without_result_is_malformed() {
        let error = check_response(br#"{"jsonrpc":"2.0","id":1}"#, context).unwrap_err();
        assert!(
            error.to_string().contains("neither a result nor an error"),
            "{error}"
        );
        let error = check_response(b"[]", context).unwrap_err();
        assert_eq!(error.kind(), "malformed");
    }
}
