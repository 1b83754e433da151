//! End-to-end tests: the real `roadback` binary, over HTTP, on both backends.

mod demo;
mod edges;
mod evaluation;
mod graphql;
mod integrity;
mod privacy;
mod read_models;
mod readme;
mod serve;
