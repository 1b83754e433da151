//! End-to-end tests: the real `roadback` binary, over HTTP, on both backends.

mod graphql;
mod read_models;
mod serve;
