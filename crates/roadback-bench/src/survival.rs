//! The evaluation engine's estimators against lifelines on the same follow-ups: Kaplan–Meier
//! and the log-rank test by country, the cumulative incidence of each competing outcome by
//! country (and Gray's test, which lifelines does not have).

use std::path::Path;
use std::time::Instant;

use roadback_demo::Random;
use roadback_domain::survival::{
    CompetingObservation, CumulativeIncidence, IncidenceVariance, KaplanMeier, Observation,
    Transform, grays_test, log_rank,
};
use serde::Serialize;

/// The seven countries of the demo program.
const COUNTRIES: [&str; 7] = ["AL", "BA", "BG", "MK", "RO", "RS", "XK"];

/// One person's follow-up: their country, days followed, and the outcome that ended it.
pub struct FollowUp {
    country: usize,
    days: i64,
    cause: Option<usize>,
}

/// `people` follow-ups shaped like the demo's (whole days up to ten years; about 60% reintegrated,
/// the rest split among the other outcomes or censored), the same for the same seed.
pub fn generate(people: usize, seed: u64) -> Vec<FollowUp> {
    let mut random = Random::new(seed);
    (0..people)
        .map(|_| {
            let country = random.below(COUNTRIES.len() as u64) as usize;
            let cause = random.weighted(&[
                (Some(0), 60),
                (Some(1), 4),
                (Some(2), 10),
                (Some(3), 5),
                (Some(4), 1),
                (None, 20),
            ]);
            let days = random.between(0, 3_650) / (1 + country as i64 % 3);
            FollowUp {
                country,
                days,
                cause,
            }
        })
        .collect()
}

/// Writes the follow-ups as CSV (`country,days,cause`, the cause empty when censored).
pub fn write_csv(path: &Path, rows: &[FollowUp]) -> std::io::Result<()> {
    let mut out = String::from("country,days,cause\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{}\n",
            COUNTRIES[r.country],
            r.days,
            r.cause.map(|c| c.to_string()).unwrap_or_default()
        ));
    }
    std::fs::write(path, out)
}

/// Seconds of the best of `runs` runs of `f`.
fn best_of(runs: usize, mut f: impl FnMut()) -> f64 {
    (0..runs)
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// The timings of one run, in milliseconds.
#[derive(Serialize)]
pub struct Timings {
    people: usize,
    kaplan_meier_ms: f64,
    log_rank_ms: f64,
    cumulative_incidence_ms: f64,
    grays_test_ms: f64,
}

/// Times each computation by country (best of three).
pub fn measure(rows: &[FollowUp]) -> Timings {
    let by_country = |f: &dyn Fn(&FollowUp) -> bool| -> Vec<Vec<&FollowUp>> {
        (0..COUNTRIES.len())
            .map(|c| rows.iter().filter(|r| r.country == c && f(r)).collect())
            .collect()
    };
    let groups = by_country(&|_| true);
    let km: Vec<Vec<Observation>> = groups
        .iter()
        .map(|g| {
            g.iter()
                .map(|r| Observation {
                    time: r.days as f64,
                    event: r.cause == Some(0),
                })
                .collect()
        })
        .collect();
    let competing: Vec<Vec<CompetingObservation>> = groups
        .iter()
        .map(|g| {
            g.iter()
                .map(|r| CompetingObservation {
                    time: r.days as f64,
                    cause: r.cause,
                })
                .collect()
        })
        .collect();
    Timings {
        people: rows.len(),
        kaplan_meier_ms: 1e3
            * best_of(3, || {
                for g in &km {
                    std::hint::black_box(KaplanMeier::fit(g, Transform::LogLog, 0.95));
                }
            }),
        log_rank_ms: 1e3
            * best_of(3, || {
                let refs: Vec<&[Observation]> = km.iter().map(Vec::as_slice).collect();
                std::hint::black_box(log_rank(&refs));
            }),
        cumulative_incidence_ms: 1e3
            * best_of(3, || {
                for g in &competing {
                    for cause in 0..5 {
                        std::hint::black_box(CumulativeIncidence::fit(
                            g,
                            cause,
                            IncidenceVariance::Aalen,
                            0.95,
                        ));
                    }
                }
            }),
        grays_test_ms: 1e3
            * best_of(3, || {
                let refs: Vec<&[CompetingObservation]> =
                    competing.iter().map(Vec::as_slice).collect();
                std::hint::black_box(grays_test(&refs, 0, 0.0));
            }),
    }
}
