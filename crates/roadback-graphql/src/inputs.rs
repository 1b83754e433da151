//! Checks every caller's text at the edge, before any resolver runs: the query and every
//! variable, over HTTP and WebSocket alike. Control characters (NUL and the rest of C0 but tab,
//! line feed and carriage return, and DEL) are refused with `VALIDATION`: no store or log should
//! have to carry them, and PostgreSQL refuses NUL.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::{ErrorExtensions, Pos, Request, ServerResult, Value};

use crate::error::ApiError;

/// True for a character no caller's text may hold.
pub fn is_refused(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) && (c as u32) < 0x80
}

/// The first refused character's place in a value, as a path (`input.caseCode`), if any.
fn refused_in(value: &Value, path: &str) -> Option<String> {
    match value {
        Value::String(s) if s.chars().any(is_refused) => Some(path.to_string()),
        Value::List(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| refused_in(v, &format!("{path}.{i}"))),
        Value::Object(fields) => fields.iter().find_map(|(name, v)| {
            let path = format!("{path}.{name}");
            if name.chars().any(is_refused) {
                Some(path)
            } else {
                refused_in(v, &path)
            }
        }),
        _ => None,
    }
}

/// The extension that refuses control characters in requests.
pub struct InputChecks;

impl ExtensionFactory for InputChecks {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(InputChecks)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for InputChecks {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let refused = if request.query.chars().any(is_refused) {
            Some("the query".to_string())
        } else {
            request
                .variables
                .iter()
                .find_map(|(name, value)| refused_in(value, name.as_str()))
                .map(|path| format!("${path}"))
        };
        if let Some(place) = refused {
            // Inside an input object the last step is the input field; a variable of its own
            // names no field.
            let field = place
                .split_once('.')
                .and_then(|(_, rest)| rest.rsplit('.').find(|s| s.parse::<usize>().is_err()))
                .map(str::to_string);
            let error = ApiError::Validation {
                message: format!(
                    "{place} holds a control character (such as NUL), which text here may not contain"
                ),
                field,
                reason: Some("CONTROL_CHARACTER"),
                contradicts: None,
            };
            return Err(error.extend().into_server_error(Pos::default()));
        }
        next.run(ctx, request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_but_whitespace_are_refused() {
        for c in ['\0', '\u{1}', '\u{1b}', '\u{7f}'] {
            assert!(is_refused(c), "{c:?}");
        }
        for c in ['\t', '\n', '\r', 'a', 'ë', 'Ш', ' '] {
            assert!(!is_refused(c), "{c:?}");
        }
    }
}
