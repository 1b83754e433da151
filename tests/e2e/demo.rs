//! The demo program through the binary: `roadback demo load` reproduces the TVRP's headline
//! figures, loads the same store for the same seed, and `serve --demo` gives a living program.

use std::path::Path;

use roadback_domain::Case;
use roadback_domain::projection::{Outcome, STREAM_PREFIX};
use roadback_e2e::{Server, roadback};
use roadback_store::records::envelope;
use roadback_store::testing::TestDatabase;
use roadback_store::{EventStore, StoreConfig, StoreLocation};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::graphql::{Client, cli};

async fn store(dir: &Path) -> EventStore {
    EventStore::open(&StoreConfig::new(StoreLocation::Sqlite(
        dir.join("data/roadback.db"),
    )))
    .await
    .unwrap()
}

/// A digest of every event's content in (stream, version) order: ids, types, dates, payloads,
/// actors and organisations (not positions or recording times, which depend on the run).
async fn digest_and_outcomes(store: &EventStore) -> (String, Vec<Outcome>) {
    let mut hash = Sha256::new();
    let mut outcomes = Vec::new();
    let mut stream: Vec<roadback_domain::projection::Envelope> = Vec::new();
    let mut after = (String::new(), 0);
    let head = store.head().await.unwrap();
    let finish = |stream: &mut Vec<roadback_domain::projection::Envelope>,
                  outcomes: &mut Vec<Outcome>| {
        if !stream.is_empty() {
            let case = Case::from_events(stream.iter().map(|e| (e.id, e.occurred_on, &e.event)));
            outcomes.push(Outcome::of(&case, roadback_demo::end()).unwrap());
            stream.clear();
        }
    };
    loop {
        let page = store
            .read_streams(STREAM_PREFIX, (&after.0, after.1), head, 5_000)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = (last.stream_id.clone(), last.version);
        for e in &page {
            hash.update(format!(
                "{}|{}|{}|{}|{}|{}|{}|{}\n",
                e.stream_id,
                e.version,
                e.id,
                e.event_type,
                e.schema_version,
                e.occurred_on,
                e.context.actor,
                e.context.organisation
            ));
            hash.update(e.payload.get());
            let entry = envelope(e).unwrap().unwrap();
            if stream
                .first()
                .is_some_and(|s| s.beneficiary != entry.beneficiary)
            {
                finish(&mut stream, &mut outcomes);
            }
            stream.push(entry);
        }
    }
    finish(&mut stream, &mut outcomes);
    let digest = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    (digest, outcomes)
}

#[tokio::test]
async fn the_demo_loads_the_published_figures_and_the_same_store_for_the_same_seed() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let out = cli(a.path(), &[], &["demo", "load", "--seed", "2015"]);
    assert!(out.contains("2890 beneficiaries"), "{out}");
    assert!(out.contains("caseworker1@shpresa.demo"), "{out}");
    cli(b.path(), &[], &["demo", "load", "--seed", "2015"]);
    let again = cli(a.path(), &[], &["demo", "load", "--seed", "2015"]);
    assert!(again.contains("loaded already"), "{again}");

    let (digest_a, outcomes) = digest_and_outcomes(&store(a.path()).await).await;
    let (digest_b, _) = digest_and_outcomes(&store(b.path()).await).await;
    assert_eq!(
        digest_a, digest_b,
        "two loads with the same seed hold the same events"
    );

    let headline = roadback_demo::Headline::of(&outcomes);
    assert!(headline.matches_the_tvrp(), "{headline:?}");
}

#[tokio::test]
async fn serve_with_demo_starts_a_living_program() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[("ROADBACK_DEMO", "true")]).await;
    let caseworker = Client::sign_in_with(
        &server,
        "caseworker1@shpresa.demo",
        roadback_server::demo::DEMO_PASSWORD,
    )
    .await;
    let list = caseworker
        .ok(
            "beneficiaries",
            "{ beneficiaries(first: 5) { totalCount edges { node { id caseCode status } } } }",
            json!({}),
        )
        .await;
    assert!(list["totalCount"].as_u64().unwrap() > 50, "{list}");
    let id = list["edges"][0]["node"]["id"].as_str().unwrap().to_string();
    let record = caseworker
        .ok("beneficiary", "query($id: UUID!) { beneficiary(id: $id) { personalData { givenName } timeline { summary } } }", json!({ "id": id }))
        .await;
    assert!(record["timeline"].as_array().unwrap().len() > 5, "{record}");
    assert!(server.terminate().success());
}

#[tokio::test]
async fn the_evaluation_engine_reproduces_the_tvrp_table_from_the_stored_events() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[("ROADBACK_DEMO", "true")]).await;
    let evaluator = Client::sign_in_with(
        &server,
        "evaluator@shpresa.demo",
        roadback_server::demo::DEMO_PASSWORD,
    )
    .await;
    let query = r#"{ evaluation {
        cutOff { validOn recordedAt }
        results(breakdown: COUNTRY) {
          total { assisted { value } familyMembers { value } male { value } children { value }
                  reintegrated { value } shareReintegrated }
          organisations countries lines { group assisted { value withheld } } }
        survival(options: { breakdown: COUNTRY }) {
          cohorts { group subjects { value } median { days lower upper } }
          logRank { statistic df pValue } }
        cumulativeIncidence { cohorts { curves { ending events { value } } } }
        outcomeDistribution(breakdown: COUNTRY) { standings total { counts { value } total { value } } }
        returnAfterExit { cohorts { exits { value } windows { fromDays toDays returned { value } followed { value } } curve { days estimate } } }
        servicesAgainstOutcome { lines { group total { value } } }
        trajectories(spanMonths: 6) { domain fromMonths scores { value } mean quartiles } } }"#;
    let evaluation = evaluator.ok("evaluation", query, json!({})).await;
    let results = &evaluation["results"];
    let total = &results["total"];
    assert_eq!(total["assisted"]["value"], 1_711, "{results}");
    assert_eq!(total["familyMembers"]["value"], 1_179);
    assert_eq!(total["male"]["value"], 296);
    assert_eq!(total["children"]["value"], 651);
    let share = total["shareReintegrated"].as_f64().unwrap();
    assert_eq!((share * 100.0).round(), 60.0, "{share}");
    assert_eq!(results["organisations"], 15);
    assert_eq!(results["countries"], 7);
    assert_eq!(results["lines"].as_array().unwrap().len(), 7);
    // Curves cover the people with consent to evaluation use: fewer than everyone assisted.
    let followed: i64 = evaluation["survival"]["cohorts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["subjects"]["value"].as_i64().unwrap_or(0))
        .sum();
    assert!(followed > 1_000 && followed < 2_890, "{followed}");
    assert_eq!(evaluation["survival"]["logRank"]["df"], 6);
    // Where everyone stands adds up to everyone assisted; the reintegrated column is the table's.
    let distribution = &evaluation["outcomeDistribution"]["total"];
    assert_eq!(distribution["total"]["value"], 2_890, "{distribution}");
    let counts: Vec<i64> = distribution["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["value"].as_i64().unwrap())
        .collect();
    assert_eq!(counts.iter().sum::<i64>(), 2_890);
    // Returns after reintegration, by HUD's windows, among the people followed into each.
    let returns = &evaluation["returnAfterExit"]["cohorts"][0];
    assert!(
        returns["exits"]["value"].as_i64().unwrap() > 500,
        "{returns}"
    );
    assert_eq!(returns["windows"].as_array().unwrap().len(), 3);
    let services = evaluation["servicesAgainstOutcome"]["lines"]
        .as_array()
        .unwrap();
    assert!(services.len() > 5, "a line per kind of service received");
    let trajectories = evaluation["trajectories"].as_array().unwrap();
    assert!(
        trajectories.iter().any(|t| t["mean"].is_number()),
        "scores over time"
    );
    // Filters narrow every analysis to some groups: the 2012 intake in Albania and Kosovo.
    let filtered = evaluator
        .ok(
            "evaluation",
            r#"{ evaluation(filters: [{ by: COUNTRY, groups: ["AL", "XK"] }, { by: INTAKE_YEAR, groups: ["2012"] }]) {
                results(breakdown: COUNTRY) { lines { group } total { assisted { value } } } } }"#,
            json!({}),
        )
        .await;
    let lines: Vec<&str> = filtered["results"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["group"].as_str().unwrap())
        .collect();
    assert_eq!(lines, ["AL", "XK"], "{filtered}");
    assert!(
        filtered["results"]["total"]["assisted"]["value"]
            .as_i64()
            .unwrap()
            < 1_711
    );
    // The same cut-offs again: the same answer, byte for byte.
    let cut = evaluation["cutOff"].clone();
    let again = evaluator
        .ok(
            "evaluation",
            &query
                .replace(
                    "evaluation {",
                    "evaluation(cutOff: { validOn: $valid, recordedAt: $recorded }) {",
                )
                .replacen(
                    "{ evaluation",
                    "query($valid: NaiveDate, $recorded: DateTime) { evaluation",
                    1,
                ),
            json!({ "valid": cut["validOn"], "recorded": cut["recordedAt"] }),
        )
        .await;
    assert_eq!(again.to_string(), evaluation.to_string());

    // Every example of the README's evaluation section runs as written on the demo.
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = readme
        .split("## Evaluation")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    let examples: Vec<&str> = section
        .split("```graphql\n")
        .skip(1)
        .map(|block| block.split("\n```").next().unwrap())
        .collect();
    assert!(examples.len() >= 5, "{}", examples.len());
    for example in examples {
        let answer = evaluator.gql(example, json!({})).await;
        assert!(answer["errors"].is_null(), "{example}\n{answer}");
        assert!(
            answer["data"]["evaluation"].is_object()
                || answer["data"]["evaluationRecords"].is_object(),
            "{answer}"
        );
    }
    assert!(server.terminate().success());
}

#[tokio::test]
async fn a_demo_load_on_postgresql_ends_cleanly_with_statistics_in_place() {
    let db = TestDatabase::postgres().await;
    let url = db.postgres_url().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let output = roadback(dir.path())
        .args(["demo", "load"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{log}");
    // Closing the store at the end is not a failure of its event listener.
    assert!(!log.contains("event listener failed"), "{log}");
    // The loader analyzed what it filled: the planner knows the log's and read models' sizes.
    let store = db.open().await;
    let pool = store.postgres_pool().unwrap();
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await
        .unwrap();
    for (table, rows) in [("events", events), ("plans", 2890)] {
        let estimated: f32 =
            sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE relname = $1")
                .bind(table)
                .fetch_one(pool)
                .await
                .unwrap();
        // Sampled above 30,000 rows, so an estimate: within 5%.
        let off = (f64::from(estimated) - rows as f64).abs() / rows as f64;
        assert!(off < 0.05, "{table}: {estimated} estimated, {rows} rows");
    }
}
