//! The web client: the production bundle that `npm run build` writes to `web/dist`, served from
//! the same origin as the API.
//!
//! - `/assets/…` are content-hashed files: cached for a year (`immutable`), sent brotli- or
//!   gzip-compressed from the `.br`/`.gz` files the build writes beside them.
//! - Every other path the API does not answer is the client's own route (`/cases/…`): it gets
//!   `index.html`, revalidated on each load (`no-cache`) so a new release is picked up at once.
//!
//! The security headers (same-origin CSP, no framing) are added to all of it by `http.rs`.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// The client's routes: the bundle in `dir`, or, when it has not been built, a page that says
/// how to build it.
pub fn routes<S: Clone + Send + Sync + 'static>(dir: &Path) -> Router<S> {
    let index = dir.join("index.html");
    if !index.is_file() {
        tracing::warn!(
            directory = %dir.display(),
            "the web client is not built (no index.html): `/` explains how to build it"
        );
        return Router::new().fallback(|| async { not_built() });
    }
    tracing::info!(directory = %dir.display(), "serving the web client");
    let assets = ServeDir::new(dir.join("assets"))
        .precompressed_br()
        .precompressed_gzip();
    let page = ServeFile::new(&index)
        .precompressed_br()
        .precompressed_gzip();
    let files = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(page);
    Router::new()
        .nest_service(
            "/assets",
            tower::ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::overriding(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ))
                .service(assets),
        )
        .fallback_service(
            tower::ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::overriding(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("no-cache"),
                ))
                .service(files),
        )
}

/// Where the bundle is by default: `web/dist` under the working directory (the repository, as
/// `scripts/run` starts the server).
pub fn default_dir() -> PathBuf {
    PathBuf::from("web/dist")
}

fn not_built() -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        Html(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Roadback</title></head>\
             <body><h1>Roadback</h1><p>The web client is not built. Start the server with \
             <code>scripts/run</code>, which builds it, or build it with \
             <code>npm --prefix web ci &amp;&amp; npm --prefix web run build</code> and point \
             <code>--web-dir</code> at <code>web/dist</code>. The GraphQL API is at \
             <code>/graphql</code>.</p></body></html>",
        ),
    )
}
