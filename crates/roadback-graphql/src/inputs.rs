//! Checks every request at the edge, before any resolver runs, over HTTP and WebSocket alike:
//! control characters (NUL and the rest of C0 but tab, line feed and carriage return, and DEL)
//! anywhere in the query or the variables are refused with `VALIDATION` (no store or log should
//! have to carry them, and PostgreSQL refuses NUL); an operation asks for at most
//! [`MAX_ROOT_FIELDS`] root fields and a document names at most [`MAX_ALIASES`] aliases, so
//! one request cannot multiply its work a thousandfold; what it costs (fields, each person's
//! history read, page sizes) and how deep it nests are bounded (`TOO_COSTLY`, `TOO_DEEP`); and
//! a query or mutation that runs past its deadline is stopped with `TIMEOUT`.
//!
//! [`Api`] applies these checks around a query or mutation itself, on a schema without
//! extensions; subscriptions get them from the extensions here ([`InputChecks`], [`Deadline`]).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use std::collections::{HashMap, HashSet};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest,
    NextValidation,
};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};
use async_graphql::{
    ErrorExtensions, Name, Pos, Positioned, Request, ServerError, ServerResult, Value, Variables,
};
use async_graphql::{Response, ValidationResult};

use crate::error::ApiError;
use crate::{MAX_COMPLEXITY, MAX_DEPTH};

/// Most root fields one operation may ask for.
pub const MAX_ROOT_FIELDS: usize = 20;
/// Most aliases one document may name.
pub const MAX_ALIASES: usize = 30;

/// Fields a selection set asks for at its own level (fragments expanded once each).
fn root_fields(
    set: &SelectionSet,
    fragments: &HashMap<Name, Positioned<FragmentDefinition>>,
    seen: &mut HashSet<Name>,
) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(_) => 1,
            Selection::InlineFragment(f) => {
                root_fields(&f.node.selection_set.node, fragments, seen)
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                match fragments.get(name) {
                    Some(f) if seen.insert(name.clone()) => {
                        root_fields(&f.node.selection_set.node, fragments, seen)
                    }
                    _ => 0,
                }
            }
        })
        .sum()
}

/// Aliases named in a selection set and below.
fn aliases(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(f) => {
                usize::from(f.node.alias.is_some()) + aliases(&f.node.selection_set.node)
            }
            Selection::InlineFragment(f) => aliases(&f.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

/// Why a document asks for too much, if it does.
fn too_much(document: &ExecutableDocument) -> Option<String> {
    let operations: Vec<&SelectionSet> = match &document.operations {
        DocumentOperations::Single(op) => vec![&op.node.selection_set.node],
        DocumentOperations::Multiple(ops) => {
            ops.values().map(|op| &op.node.selection_set.node).collect()
        }
    };
    let named: usize = operations.iter().map(|set| aliases(set)).sum::<usize>()
        + document
            .fragments
            .values()
            .map(|f| aliases(&f.node.selection_set.node))
            .sum::<usize>();
    if named > MAX_ALIASES {
        return Some(format!(
            "a request names at most {MAX_ALIASES} aliases; this one names {named}"
        ));
    }
    operations.iter().find_map(|set| {
        let count = root_fields(set, &document.fragments, &mut HashSet::new());
        (count > MAX_ROOT_FIELDS).then(|| {
            format!(
                "an operation asks for at most {MAX_ROOT_FIELDS} fields at once; this one asks for {count}"
            )
        })
    })
}

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

/// The refusal of a request holding a control character in its query or variables, if it does.
fn refused_characters(request: &Request) -> Option<ServerError> {
    let place = if request.query.chars().any(is_refused) {
        "the query".to_string()
    } else {
        let path = request
            .variables
            .iter()
            .find_map(|(name, value)| refused_in(value, name.as_str()))?;
        format!("${path}")
    };
    // Inside an input object the last step is the input field; a variable of its own names
    // no field.
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
    Some(error.extend().into_server_error(Pos::default()))
}

/// Longest query text whose parsed document is kept.
const KEPT_QUERY_BYTES: usize = 8 * 1024;
/// Most parsed documents kept (past it, the cache starts again).
const KEPT_DOCUMENTS: usize = 512;

/// Documents parsed and checked, by query text: clients send the same few queries over and
/// over (a caseworker's page, an integrator's sync), and parsing was a fifteenth of a view's
/// CPU. Parsing depends on the text alone, so a kept document is the one parsing would give.
#[derive(Default)]
struct Parsed(std::sync::Mutex<HashMap<String, Kept>>);

/// A kept document, and whether it has passed the schema's full validation.
#[derive(Clone)]
struct Kept {
    document: ExecutableDocument,
    validated: bool,
}

impl Parsed {
    fn get(&self, query: &str) -> Option<Kept> {
        self.0.lock().ok()?.get(query).cloned()
    }

    /// Notes that the kept document of `query` passed the full validation.
    fn validated(&self, query: &str) {
        if let Ok(mut kept) = self.0.lock()
            && let Some(kept) = kept.get_mut(query)
        {
            kept.validated = true;
        }
    }

    /// Refuses a document that asks for too much (`TOO_MANY_FIELDS`); keeps one that does not.
    fn check_and_keep(&self, query: &str, document: &ExecutableDocument) -> ServerResult<()> {
        if let Some(reason) = too_much(document) {
            let error = ApiError::Validation {
                message: reason,
                field: None,
                reason: Some("TOO_MANY_FIELDS"),
                contradicts: None,
            };
            return Err(error.extend().into_server_error(Pos::default()));
        }
        self.keep(query, document);
        Ok(())
    }

    fn keep(&self, query: &str, document: &ExecutableDocument) {
        if query.len() > KEPT_QUERY_BYTES {
            return;
        }
        if let Ok(mut kept) = self.0.lock() {
            if kept.len() >= KEPT_DOCUMENTS {
                kept.clear();
            }
            let document = document.clone();
            let validated = false;
            kept.insert(
                query.to_string(),
                Kept {
                    document,
                    validated,
                },
            );
        }
    }
}

/// The extension that refuses control characters in requests (and keeps parsed documents).
#[derive(Clone, Default)]
pub struct InputChecks(Arc<Parsed>);

impl ExtensionFactory for InputChecks {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(InputChecks(self.0.clone()))
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for InputChecks {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if let Some(kept) = self.0.get(query) {
            return Ok(kept.document);
        }
        let document = next.run(ctx, query, variables).await?;
        self.0.check_and_keep(query, &document)?;
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<async_graphql::ServerError>> {
        let result = next.run(ctx).await?;
        let refused = if result.complexity > MAX_COMPLEXITY {
            Some((
                "TOO_COSTLY",
                format!(
                    "this request would cost {} where at most {MAX_COMPLEXITY} is accepted (each field counts one, each person's history read {}, lists by their page size): ask for smaller pages or fewer fields",
                    result.complexity,
                    crate::STREAM_READ
                ),
            ))
        } else if result.depth > MAX_DEPTH {
            Some((
                "TOO_DEEP",
                format!(
                    "this request nests {} levels deep where at most {MAX_DEPTH} are accepted",
                    result.depth
                ),
            ))
        } else {
            None
        };
        match refused {
            Some((reason, message)) => {
                let error = ApiError::Validation {
                    message,
                    field: None,
                    reason: Some(reason),
                    contradicts: None,
                };
                Err(vec![error.extend().into_server_error(Pos::default())])
            }
            None => Ok(result),
        }
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        if let Some(error) = refused_characters(&request) {
            return Err(error);
        }
        next.run(ctx, request).await
    }
}

/// The extension that stops a query or mutation at the API's deadline
/// ([`crate::ApiState::deadline`]) with `TIMEOUT`, over HTTP and WebSocket alike.
pub struct Deadline;

impl ExtensionFactory for Deadline {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Deadline)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for Deadline {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let deadline = ctx
            .data_opt::<crate::ApiState>()
            .map_or(crate::context::DEADLINE, |s| s.deadline);
        within(deadline, operation_name, next.run(ctx, operation_name)).await
    }
}

/// The response of `run`, or `TIMEOUT` once it has run for `deadline`.
async fn within(
    deadline: Duration,
    operation: Option<&str>,
    run: impl Future<Output = Response>,
) -> Response {
    match tokio::time::timeout(deadline, run).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                operation = operation.unwrap_or("-"),
                seconds = deadline.as_secs_f64(),
                "request stopped at its deadline"
            );
            Response::from_errors(vec![
                ApiError::Timeout(deadline)
                    .extend()
                    .into_server_error(Pos::default()),
            ])
        }
    }
}

/// What async-graphql answers when its own limits refuse a document.
const LIMIT_REFUSALS: [&str; 2] = ["Query is too complex.", "Query is nested too deep."];

/// The API as a server runs it: [`Executor`] for HTTP (a query or mutation) and WebSocket
/// (subscriptions, and any operation sent over it).
///
/// async-graphql runs every field of a response through every extension the schema has, and
/// looks the field's type up by name for them, even when no extension acts on fields: a
/// beneficiary's page is some 700 fields, and those layers were a fifth of its CPU. So queries
/// and mutations run on a schema without extensions (`fast`), with the checks of
/// [`InputChecks`], the per-request data, the deadline and the default error code applied
/// here around it. Its own complexity and depth limits (the same as [`InputChecks`]') refuse a
/// request before anything runs; such a request is then checked by `full` (the same schema
/// with the extensions, and no session), whose refusal says what the request costs.
/// Subscriptions run on `full`: each event resolves a few fields, and a subscription's
/// checks, data and codes come from the extensions there.
#[derive(Clone)]
pub struct Api {
    pub(crate) fast: crate::ApiSchema,
    /// `fast` with only the validation that depends on the request's variables (complexity,
    /// depth): for documents that have passed `fast`'s full validation once.
    pub(crate) trusted: crate::ApiSchema,
    pub(crate) full: crate::ApiSchema,
    pub(crate) checks: InputChecks,
    pub(crate) deadline: Duration,
}

impl Api {
    /// Runs a query or mutation.
    pub async fn execute(&self, request: impl Into<Request>) -> Response {
        crate::error::with_codes(self.run(request.into()).await)
    }

    async fn run(&self, mut request: Request) -> Response {
        if let Some(error) = refused_characters(&request) {
            return Response::from_errors(vec![error]);
        }
        let (document, validated) = match self.checks.0.get(&request.query) {
            Some(kept) => (kept.document, kept.validated),
            None => {
                let checked = async_graphql::parser::parse_query(&request.query)
                    .map_err(ServerError::from)
                    .and_then(|document| {
                        self.checks.0.check_and_keep(&request.query, &document)?;
                        Ok(document)
                    });
                match checked {
                    Ok(document) => (document, false),
                    Err(error) => return Response::from_errors(vec![error]),
                }
            }
        };
        request.set_parsed_query(document);
        let (query, variables, operation) = (
            request.query.clone(),
            request.variables.clone(),
            request.operation_name.clone(),
        );
        let request = request.data(crate::context::Logged::default());
        let schema = if validated { &self.trusted } else { &self.fast };
        let response = within(self.deadline, operation.as_deref(), schema.execute(request)).await;
        // A validation error has no path; an error of a field that ran has one.
        if !validated && response.errors.iter().all(|e| !e.path.is_empty()) {
            self.checks.0.validated(&query);
        }
        let over_limit = response.data == Value::Null
            && response
                .errors
                .iter()
                .any(|e| LIMIT_REFUSALS.contains(&e.message.as_str()));
        if !over_limit {
            return response;
        }
        // Refused before it ran: the same request without a session, on the schema whose
        // validation explains the refusal, is refused there too.
        let mut again = Request::new(query).variables(variables);
        again.operation_name = operation;
        self.full.execute(again).await
    }

    /// Runs an operation as a stream of responses, as over WebSocket (a subscription's).
    pub fn execute_stream(
        &self,
        request: impl Into<Request>,
    ) -> futures_util::stream::BoxStream<'static, Response> {
        self.full.execute_stream(request)
    }

    /// The schema's definition in SDL.
    pub fn sdl(&self) -> String {
        self.fast.sdl()
    }
}

impl async_graphql::Executor for Api {
    async fn execute(&self, request: Request) -> Response {
        Api::execute(self, request).await
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<async_graphql::Data>>,
    ) -> futures_util::stream::BoxStream<'static, Response> {
        self.full
            .execute_stream_with_session_data(request, session_data.unwrap_or_default())
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
