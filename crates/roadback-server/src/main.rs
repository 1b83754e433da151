//! The `roadback` binary: parse the command line and hand over to the library.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    roadback_server::run(roadback_server::config::Cli::parse()).await
}
