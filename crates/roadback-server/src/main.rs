//! The `roadback` binary: parse the command line and hand over to the library.

use clap::Parser;

// mimalloc: under HTTP load glibc malloc took a fifth of the server's CPU; this allocator
// measured 1.5 ms of server CPU per request against glibc's 1.7-2.1 (scripts/bench http).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    roadback_server::run(roadback_server::config::Cli::parse()).await
}
