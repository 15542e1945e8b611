//! Recording of raw bookmaker responses, so that a format change can be turned into a
//! test at once.
//!
//! With `XTR_RECORD_DIR` set, every response body is written byte for byte to
//! `<dir>/<bookmaker>/<unix-ms>-<seq>-<operation>.body`, which `xtr parse` reads as it
//! is. A `.meta.json` file beside it has the request method and URL, the status, the
//! headers and the time and size. Credential headers are left out, and query values of
//! credential-like names are redacted.
//! Responses that made a parser fail go to `<dir>/failed/<bookmaker>/` instead, where
//! ordinary recordings cannot push them out. Each folder keeps at most
//! `XTR_RECORD_MAX_FILES` bodies; the oldest are deleted first.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use reqwest::header::HeaderMap;
use serde::Serialize;
use url::Url;

/// Header names whose values are credentials, in lowercase.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "x-application",
    "x-authentication",
];

/// Parts of query parameter names that mark a credential.
const SECRET_QUERY_PARTS: &[&str] = &[
    "key", "token", "secret", "password", "session", "auth", "accessid",
];

/// Returns whether a header or parameter name looks like it carries a credential.
fn is_secret_name(name: &str, parts: &[&str]) -> bool {
    let lower = name.to_ascii_lowercase();
    parts.iter().any(|part| lower.contains(part))
}

/// One response to record.
#[derive(Debug)]
pub struct Recording<'a> {
    /// Registered bookmaker name.
    pub bookmaker: &'static str,
    /// Operation, such as `fetch event`.
    pub operation: &'static str,
    /// HTTP method.
    pub method: &'a str,
    /// Request URL.
    pub url: &'a Url,
    /// Request headers; sensitive ones are left out.
    pub request_headers: &'a HeaderMap,
    /// Response status.
    pub status: u16,
    /// Response headers; credential-like ones are left out.
    pub response_headers: &'a HeaderMap,
    /// Response body as received.
    pub body: &'a Bytes,
}

#[derive(Serialize)]
struct Meta<'a> {
    bookmaker: &'a str,
    operation: &'a str,
    method: &'a str,
    url: String,
    status: u16,
    request_headers: Vec<(String, String)>,
    response_headers: Vec<(String, String)>,
    recorded_at_ms: u64,
    body_bytes: usize,
    body_file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    parse_error: Option<&'a str>,
}

fn safe_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, value)| !value.is_sensitive() && !SECRET_HEADERS.contains(&name.as_str()))
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Returns the URL with user information removed and credential-like query values
/// replaced by `<redacted>`.
fn safe_url(url: &Url) -> String {
    let mut safe = url.clone();
    let _ = safe.set_username("");
    let _ = safe.set_password(None);
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(name, value)| {
                let value = if is_secret_name(&name, SECRET_QUERY_PARTS) {
                    "<redacted>".to_owned()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), value)
            })
            .collect();
        safe.query_pairs_mut().clear().extend_pairs(pairs);
    }
    safe.to_string()
}

/// Writes recordings and keeps each folder within its file count.
#[derive(Debug)]
pub struct Recorder {
    dir: PathBuf,
    max_files: usize,
    sequence: AtomicU64,
    folders: Mutex<Vec<(PathBuf, VecDeque<PathBuf>)>>,
}

impl Recorder {
    /// Creates a recorder writing under `dir`, keeping `max_files` bodies per folder.
    pub fn new(dir: PathBuf, max_files: usize) -> Self {
        Self {
            dir,
            max_files: max_files.max(1),
            sequence: AtomicU64::new(0),
            folders: Mutex::new(Vec::new()),
        }
    }

    /// Records a response under `<dir>/<bookmaker>/`. Failures to write are logged, never
    /// returned: recording must not fail a job.
    pub fn record(&self, recording: &Recording<'_>) {
        let folder = self.dir.join(recording.bookmaker);
        self.write(&folder, recording, None);
    }

    /// Records the bodies that made a parser fail under `<dir>/failed/<bookmaker>/`.
    pub fn record_failure(
        &self,
        bookmaker: &'static str,
        operation: &'static str,
        bodies: &[Bytes],
        error: &str,
    ) {
        let folder = self.dir.join("failed").join(bookmaker);
        let empty = HeaderMap::new();
        let url = Url::parse("about:parse").expect("a constant URL parses");
        for body in bodies {
            self.write(
                &folder,
                &Recording {
                    bookmaker,
                    operation,
                    method: "-",
                    url: &url,
                    request_headers: &empty,
                    status: 0,
                    response_headers: &empty,
                    body,
                },
                Some(error),
            );
        }
    }

    fn write(&self, folder: &Path, recording: &Recording<'_>, parse_error: Option<&str>) {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis() as u64);
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed);
        let operation: String = recording
            .operation
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let stem = format!("{now_ms}-{sequence:06}-{operation}");
        let body_path = folder.join(format!("{stem}.body"));
        let meta_path = folder.join(format!("{stem}.meta.json"));
        let meta = Meta {
            bookmaker: recording.bookmaker,
            operation: recording.operation,
            method: recording.method,
            url: safe_url(recording.url),
            status: recording.status,
            request_headers: safe_headers(recording.request_headers),
            response_headers: safe_headers(recording.response_headers),
            recorded_at_ms: now_ms,
            body_bytes: recording.body.len(),
            body_file: format!("{stem}.body"),
            parse_error,
        };
        let result = std::fs::create_dir_all(folder)
            .and_then(|()| std::fs::write(&body_path, recording.body))
            .and_then(|()| {
                let text = serde_json::to_vec_pretty(&meta).map_err(std::io::Error::other)?;
                std::fs::write(&meta_path, text)
            });
        match result {
            Ok(()) => self.rotate(folder, body_path),
            Err(error) => tracing::warn!(
                bookmaker = recording.bookmaker,
                dir = %folder.display(),
                error = %error,
                "Recording a bookmaker response failed"
            ),
        }
    }

    /// Remembers a new body and deletes the oldest beyond the maximum. The first call for
    /// a folder lists the bodies already there, so a restart keeps the bound.
    fn rotate(&self, folder: &Path, body_path: PathBuf) {
        let Ok(mut folders) = self.folders.lock() else {
            return;
        };
        let index = match folders.iter().position(|(path, _)| path == folder) {
            Some(index) => index,
            None => {
                let mut existing: Vec<PathBuf> = std::fs::read_dir(folder)
                    .map(|entries| {
                        entries
                            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                            .filter(|path| {
                                path.extension().is_some_and(|ext| ext == "body")
                                    && *path != body_path
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                // Names start with the time in ms, so name order is age order.
                existing.sort();
                folders.push((folder.to_owned(), existing.into()));
                folders.len() - 1
            }
        };
        let queue = &mut folders[index].1;
        queue.push_back(body_path);
        while queue.len() > self.max_files {
            if let Some(oldest) = queue.pop_front() {
                let _ = std::fs::remove_file(&oldest);
                let _ = std::fs::remove_file(oldest.with_extension("meta.json"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recording<'a>(url: &'a Url, headers: &'a HeaderMap, body: &'a Bytes) -> Recording<'a> {
        Recording {
            bookmaker: "unibet",
            operation: "fetch event",
            method: "GET",
            url,
            request_headers: headers,
            status: 200,
            response_headers: headers,
            body,
        }
    }

    #[test]
    fn body_is_written_verbatim_with_safe_meta() {
        let dir = tempfile::tempdir().unwrap();
        let recorder = Recorder::new(dir.path().to_owned(), 10);
        let url = Url::parse("https://u:pw@api.example/x.json?lang=en&apiKey=s3cret").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", "s3cret".parse().unwrap());
        let mut token: reqwest::header::HeaderValue = "tok3n".parse().unwrap();
        token.set_sensitive(true);
        headers.insert("x-custom-token", token);
        headers.insert("content-type", "application/json".parse().unwrap());
        let body = Bytes::from_static(b"{\"betOffers\": []}");
        recorder.record(&recording(&url, &headers, &body));

        let folder = dir.path().join("unibet");
        let mut files: Vec<_> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert_eq!(files.len(), 2);
        let body_file = files
            .iter()
            .find(|p| p.extension().unwrap() == "body")
            .unwrap();
        assert_eq!(std::fs::read(body_file).unwrap(), body.as_ref());
        let meta = std::fs::read_to_string(
            files
                .iter()
                .find(|p| p.to_string_lossy().ends_with(".meta.json"))
                .unwrap(),
        )
        .unwrap();
        assert!(!meta.contains("s3cret"), "{meta}");
        assert!(!meta.contains("tok3n"), "{meta}");
        assert!(!meta.contains("pw@"), "{meta}");
        assert!(meta.contains("lang=en"), "{meta}");
        assert!(meta.contains("application/json"), "{meta}");
    }

    #[test]
    fn folder_keeps_at_most_max_files() {
        let dir = tempfile::tempdir().unwrap();
        let recorder = Recorder::new(dir.path().to_owned(), 3);
        let url = Url::parse("https://api.example/x.json").unwrap();
        let headers = HeaderMap::new();
        for index in 0..7 {
            let body = Bytes::from(format!("{index}"));
            recorder.record(&recording(&url, &headers, &body));
        }
        let bodies: Vec<_> = std::fs::read_dir(dir.path().join("unibet"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().unwrap() == "body")
            .collect();
        assert_eq!(bodies.len(), 3);
        let mut kept: Vec<String> = bodies
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect();
        kept.sort();
        assert_eq!(kept, ["4", "5", "6"], "the newest are kept");
    }

    #[test]
    fn parse_failures_go_to_their_own_folder() {
        let dir = tempfile::tempdir().unwrap();
        let recorder = Recorder::new(dir.path().to_owned(), 1);
        recorder.record_failure(
            "unibet",
            "parse",
            &[Bytes::from_static(b"<html>")],
            "malformed",
        );
        let folder = dir.path().join("failed").join("unibet");
        let files: Vec<_> = std::fs::read_dir(&folder).unwrap().collect();
        assert_eq!(files.len(), 2);
    }
}
