//! Research exports through the binary: each file loads with a standard CSV reader (Python's
//! `csv`), matches its codebook, holds no personal data, and leaves out whoever withdrew their
//! consent to evaluation use, at every cut-off.

use std::path::Path;

use roadback_e2e::{Server, roadback};
use serde_json::json;

use crate::graphql::{Client, provision};

/// Loads `file` and its codebook with Python's csv module and checks each column against the
/// codebook; prints the number of rows and the distinct pseudonyms.
const CHECK: &str = r#"
import csv, sys
path, codebook = sys.argv[1], sys.argv[2]
with open(codebook, newline='', encoding='utf-8') as f:
    book = list(csv.DictReader(f))
codes = {}
for v in book:
    codes.setdefault(v['variable'], set())
    if v['code']:
        codes[v['variable']].add(v['code'])
with open(path, newline='', encoding='utf-8') as f:
    reader = csv.DictReader(f)
    assert reader.fieldnames == list(dict.fromkeys(v['variable'] for v in book)), (reader.fieldnames, list(codes))
    rows = list(reader)
for row in rows:
    for name, value in row.items():
        allowed = codes[name]
        if allowed and value:
            parts = value.split(';') if name == 'FORMS' else [value]
            for part in parts:
                assert part in allowed, (name, value, sorted(allowed))
print(len(rows), len({r['USUBJID'] for r in rows}))
"#;

fn export(dir: &Path, format: &str, extra: &[&str]) -> (String, String) {
    let out = dir.join(format!("{format}.csv"));
    let mut args = vec![
        "export",
        "--format",
        format,
        "--as",
        "sara@example.org",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    let output = roadback(dir).args(&args).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let codebook = dir.join(format!("{format}.codebook.csv"));
    let checked = std::process::Command::new("python3")
        .args([
            "-c",
            CHECK,
            out.to_str().unwrap(),
            codebook.to_str().unwrap(),
        ])
        .output()
        .expect("python3 (scripts/test installs it)");
    assert!(
        checked.status.success(),
        "{format}: {}",
        String::from_utf8_lossy(&checked.stderr)
    );
    (
        std::fs::read_to_string(&out).unwrap(),
        String::from_utf8_lossy(&checked.stdout).trim().to_string(),
    )
}

#[tokio::test]
async fn exports_load_with_a_csv_reader_match_their_codebooks_and_hold_no_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    provision(dir.path(), &[]);
    let server = Server::start(dir.path(), &[]).await;
    let ana = Client::sign_in(&server, "ana@example.org").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let registered = ana
            .ok(
                "registerBeneficiary",
                &format!(
                    r#"mutation {{ registerBeneficiary(input: {{ idempotencyKey: "x{i}", occurredOn: "2010-03-02",
                    caseCode: "AL-X-{i}", gender: FEMALE, citizenship: "AL", countryOfAssistance: "AL",
                    identifiedOn: "2010-03-01", identificationRoute: NGO, formsOfExploitation: [SEXUAL_EXPLOITATION, BEGGING],
                    personalData: {{ givenName: "Zanafina{i}", phone: "+355 69 000 777{i}", notes: "by the, \"old\" mill" }} }}) {{ beneficiaryId }} }}"#
                ),
                json!({}),
            )
            .await["beneficiaryId"]
            .as_str()
            .unwrap()
            .to_string();
        for (v, kind) in [(2, "EVALUATION_USE"), (3, "ASSISTANCE")] {
            ana.ok(
                "giveConsent",
                &format!(
                    r#"mutation {{ giveConsent(input: {{ beneficiaryId: "{registered}", expectedVersion: {v},
                    idempotencyKey: "c{i}{v}", occurredOn: "2010-03-02", kind: {kind}, givenBy: BENEFICIARY,
                    evidence: SIGNED_FORM }}) {{ version }} }}"#
                ),
                json!({}),
            )
            .await;
        }
        ids.push(registered);
    }
    ana.ok(
        "changeStatus",
        &format!(
            r#"mutation {{ changeStatus(input: {{ beneficiaryId: "{}", expectedVersion: 4, idempotencyKey: "s",
            occurredOn: "2010-06-01", to: IN_CRISIS_CARE }}) {{ version }} }}"#,
            ids[0]
        ),
        json!({}),
    )
    .await;

    let (wide, counted) = export(dir.path(), "wide", &[]);
    assert_eq!(counted, "3 3");
    let (long, _) = export(dir.path(), "long", &[]);
    let (adtte, counted) = export(dir.path(), "adtte", &[]);
    assert_eq!(counted, "15 3", "five outcomes per person");
    for file in [&wide, &long, &adtte] {
        for secret in ["Zanafina", "000 777", "old\"\" mill", "AL-X-", &ids[0]] {
            assert!(!file.contains(secret), "{secret} in an export");
        }
    }
    assert!(long.contains("status_changed") && long.contains("in_crisis_care"));

    // Withdrawn consent: gone from the next export, at a cut-off before the withdrawal too.
    let before = chrono::Utc::now().to_rfc3339();
    ana.ok(
        "withdrawConsent",
        &format!(
            r#"mutation {{ withdrawConsent(input: {{ beneficiaryId: "{}", expectedVersion: 4, idempotencyKey: "w",
            occurredOn: "2010-07-01", kind: EVALUATION_USE, withdrawnBy: BENEFICIARY }}) {{ version }} }}"#,
            ids[1]
        ),
        json!({}),
    )
    .await;
    let (_, counted) = export(dir.path(), "wide", &["--recorded-at", &before]);
    assert_eq!(counted, "2 2");
    assert!(server.terminate().success());
}
