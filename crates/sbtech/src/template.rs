//! Request path templates such as `sportsdata/v2/events?query=$filter=id eq '{event}'`.
//!
//! A template is path segments separated by `/`, then optionally `?` and `name=value`
//! pairs separated by `&`. Percent escapes (`%20`) are decoded first, so a template may
//! be written plainly or copied from an encoded URL; a `+` stays a plus sign. A
//! placeholder such as `{event}` may stand anywhere in a segment or a query value, and
//! is replaced before the request is built. Each segment and pair is then encoded on its
//! own, so a value can never add a segment, leave the base path or start a new query
//! pair.

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathTemplate {
    segments: Vec<String>,
    query: Vec<(String, String)>,
}

impl PathTemplate {
    /// Parses a template whose placeholders are among `allowed`; `required`, when given,
    /// must appear at least once.
    ///
    /// # Errors
    ///
    /// Returns what a valid template looks like, for an `InvalidConfig` error.
    pub(crate) fn parse(
        text: &str,
        allowed: &[&str],
        required: Option<&str>,
    ) -> Result<Self, String> {
        let text = text.trim();
        if text.contains("://") || text.starts_with("//") || text.contains('#') {
            return Err("a path under the base URL, without scheme, host or #fragment".into());
        }
        let (path, query) = match text.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (text, None),
        };

        let mut segments = Vec::new();
        for raw in path.split('/').filter(|segment| !segment.is_empty()) {
            let segment = percent_decode(raw)?;
            if segment == "." || segment == ".." {
                return Err("a path without . or .. segments".into());
            }
            check_placeholders(&segment, allowed)?;
            segments.push(segment);
        }

        let mut pairs = Vec::new();
        for raw in query
            .unwrap_or("")
            .split('&')
            .filter(|pair| !pair.is_empty())
        {
            let (name, value) = raw.split_once('=').unwrap_or((raw, ""));
            let name = percent_decode(name)?;
            let value = percent_decode(value)?;
            if name.is_empty() || name.contains('{') || name.contains('}') {
                return Err("query pairs with a literal, non-empty name before each =".into());
            }
            check_placeholders(&value, allowed)?;
            pairs.push((name, value));
        }

        if let Some(required) = required {
            let placeholder = format!("{{{required}}}");
            let present = segments
                .iter()
                .any(|segment| segment.contains(&placeholder))
                || pairs.iter().any(|(_, value)| value.contains(&placeholder));
            if !present {
                return Err(format!(
                    "a template with {placeholder} in a path segment or a query value"
                ));
            }
        }
        Ok(Self {
            segments,
            query: pairs,
        })
    }

    /// Returns the path segments and query pairs with each `{name}` replaced by its value.
    pub(crate) fn render(&self, values: &[(&str, &str)]) -> (Vec<String>, Vec<(String, String)>) {
        let fill = |text: &str| {
            let mut filled = text.to_owned();
            for (name, value) in values {
                filled = filled.replace(&format!("{{{name}}}"), value);
            }
            filled
        };
        let segments = self.segments.iter().map(|segment| fill(segment)).collect();
        let query = self
            .query
            .iter()
            .map(|(name, value)| (name.clone(), fill(value)))
            .collect();
        (segments, query)
    }
}

/// Checks that every `{...}` in `text` is a placeholder from `allowed` and that no
/// brace is unmatched.
fn check_placeholders(text: &str, allowed: &[&str]) -> Result<(), String> {
    let expected = || {
        let names: Vec<String> = allowed.iter().map(|name| format!("{{{name}}}")).collect();
        if names.is_empty() {
            "a template without placeholders or braces".to_owned()
        } else {
            format!(
                "a template whose only placeholders are {}",
                names.join(", ")
            )
        }
    };
    let mut rest = text;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err(expected());
        }
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(expected)?;
        let name = &after[..close];
        if !allowed.contains(&name) {
            return Err(expected());
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

/// Decodes `%XX` escapes; the result must be UTF-8.
fn percent_decode(text: &str) -> Result<String, String> {
    let invalid = || format!("valid percent escapes (%XX) and UTF-8, not {text:?}");
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3).ok_or_else(invalid)?;
            decoded.push(u8::from_str_radix(hex, 16).map_err(|_| invalid())?);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(decoded).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn template_with_path_placeholder() {
        let template =
            PathTemplate::parse("/api/sportsdata/events/{event}", &["event"], Some("event"))
                .unwrap();
        let (segments, query) = template.render(&[("event", "22016399")]);
        assert_eq!(segments, ["api", "sportsdata", "events", "22016399"]);
        assert!(query.is_empty());
    }

    #[test]
    fn template_with_query_placeholder() {
        let template = PathTemplate::parse(
            "sportsdata/v2/events?query=$filter=id eq '{event}'&includeMarkets=$filter=",
            &["event"],
            Some("event"),
        )
        .unwrap();
        let (segments, query) = template.render(&[("event", "22016399")]);
        assert_eq!(segments, ["sportsdata", "v2", "events"]);
        assert_eq!(
            query,
            owned(&[
                ("query", "$filter=id eq '22016399'"),
                ("includeMarkets", "$filter=")
            ])
        );
    }

    #[test]
    fn encoded_template_is_decoded() {
        let plain = PathTemplate::parse(
            "events?query=%24filter%3Did%20eq%20'{event}'",
            &["event"],
            Some("event"),
        );
        let expected = PathTemplate::parse(
            "events?query=$filter=id eq '{event}'",
            &["event"],
            Some("event"),
        );
        assert_eq!(plain, expected);
    }

    #[test]
    fn invalid_templates_are_rejected() {
        let cases = [
            "sportsdata/events",
            "events/{id}",
            "events/{event",
            "events/event}/{event}",
            "events/../{event}",
            "events/%2E%2E/{event}",
            "https://evil.example/{event}",
            "//evil.example/{event}",
            "events?{event}=1",
            "events/{event}#top",
            "events/%zz/{event}",
            "events/%ff/{event}",
        ];
        for text in cases {
            assert!(
                PathTemplate::parse(text, &["event"], Some("event")).is_err(),
                "{text:?} accepted"
            );
        }
    }

    #[test]
    fn optional_placeholder_may_be_absent() {
        let template = PathTemplate::parse("events?sportId={sport}", &["sport"], None).unwrap();
        let (_, query) = template.render(&[("sport", "1")]);
        assert_eq!(query, owned(&[("sportId", "1")]));
        assert!(PathTemplate::parse("events/all", &["sport"], None).is_ok());
        assert!(PathTemplate::parse("events/{event}", &["sport"], None).is_err());
    }
}
