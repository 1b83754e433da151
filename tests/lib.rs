//! Helpers for end-to-end tests: start the real `roadback` binary and talk to it over HTTP.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The `roadback` binary built beside this test binary.
pub fn roadback_binary() -> PathBuf {
    // target/<profile>/deps/e2e-<hash> → target/<profile>/roadback
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target directory");
    let binary = dir.join(format!("roadback{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.exists(),
        "{} is missing: build it with `cargo build -p roadback-server` (scripts/test does)",
        binary.display()
    );
    binary
}

/// A `roadback` command with a clean environment: no DATABASE_URL unless the test sets one.
pub fn roadback(dir: &Path) -> Command {
    let mut command = Command::new(roadback_binary());
    command
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("ROADBACK_DATA_DIR")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null());
    command
}

/// A free local port (the OS picks; a tiny race with other processes is acceptable in tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A running `roadback serve`, killed when dropped.
pub struct Server {
    child: Option<Child>,
    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    /// An HTTP client for it.
    pub http: reqwest::Client,
}

impl Server {
    /// Starts `roadback serve` in `dir` with extra environment variables, and waits until it answers `/healthz`.
    pub async fn start(dir: &Path, env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let mut command = roadback(dir);
        command
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.spawn().expect("start roadback serve");
        let server = Self {
            child: Some(child),
            url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("HTTP client"),
        };
        server.wait_until_healthy().await;
        server
    }

    async fn wait_until_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = self.http.get(format!("{}/healthz", self.url)).send().await
                && r.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "roadback serve did not become healthy in time"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// GET a path; returns the status and the JSON body.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .expect("GET");
        let status = response.status().as_u16();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    /// Sends SIGTERM and goes on (see [`Server::terminate`] to wait for the exit).
    pub fn signal_stop(&self) {
        let child = self.child.as_ref().expect("running");
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("send SIGTERM");
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(mut self) -> ExitStatus {
        self.signal_stop();
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "roadback did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
