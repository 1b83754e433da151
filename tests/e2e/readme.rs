//! The README's examples run as written: the integrator's block, on the demo program.

use roadback_e2e::{Server, roadback_binary};

/// The shell block after `marker` in README.md.
fn readme_block(marker: &str) -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let after = readme
        .split(marker)
        .nth(1)
        .unwrap_or_else(|| panic!("README.md has no {marker:?}"));
    let block = after.split("```sh\n").nth(1).expect("a shell block");
    block.split("\n```").next().unwrap().to_string()
}

#[tokio::test]
async fn the_readme_integrator_example_runs_as_written_on_the_demo() {
    let block = readme_block("<!-- integrator-example");
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[("ROADBACK_DEMO", "true")]).await;
    let bin = roadback_binary().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = || {
        let output = std::process::Command::new("bash")
            .args(["-euo", "pipefail", "-c", &block])
            .current_dir(dir.path())
            .env("PATH", &path)
            .env("ROADBACK_URL", &server.url)
            .env_remove("DATABASE_URL")
            .env_remove("ROADBACK_DATA_DIR")
            .output()
            .expect("bash runs the block (curl must be installed; scripts/test installs it)");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "the block failed: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    };
    let first = run();
    assert!(!first.contains("\"errors\""), "{first}");
    assert!(first.contains("\"totalCount\":"), "{first}");
    assert!(first.contains("\"giveConsent\":{\"version\":2}"), "{first}");
    assert!(
        first.contains("\"version\":3") && first.contains("\"eventType\":\"StatusChanged\""),
        "{first}"
    );
    // Again: the idempotency keys make the retry change nothing and answer the same.
    let second = run();
    let changes = |out: &str| {
        let start = out
            .find("{\"data\":{\"giveConsent\"")
            .expect("the consent's answer");
        out[start..].to_string()
    };
    assert_eq!(changes(&first), changes(&second));
    assert!(server.terminate().success());
}
