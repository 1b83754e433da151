//! The published references (`fixtures/survival/README.md`), to 4 decimals.

use super::*;

const DRUG6MP: &str = include_str!("../../../../fixtures/survival/drug6mp.csv");
const BMT: &str = include_str!("../../../../fixtures/survival/bmt.csv");

/// The 6-MP trial: (arm, weeks, relapsed).
fn drug6mp(arm: &str) -> Vec<Observation> {
    DRUG6MP
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            (f[0] == arm).then(|| Observation {
                time: f[1].parse().unwrap(),
                event: f[2] == "1",
            })
        })
        .collect()
}

/// The bone-marrow transplants of a group, in years; cause 1 relapse, 2 death in remission.
fn bmt(group: &str) -> Vec<CompetingObservation> {
    BMT.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            (f[0] == group).then(|| CompetingObservation {
                time: f[1].parse::<f64>().unwrap() / 365.25,
                cause: match f[2] {
                    "0" => None,
                    cause => Some(cause.parse().unwrap()),
                },
            })
        })
        .collect()
}

fn assert_4(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() < 0.000_05 + 1e-12,
        "{what}: {actual:.6} where {expected} is published"
    );
}

#[test]
fn kaplan_meier_of_the_6mp_arm_matches_the_published_table() {
    let arm = drug6mp("6-MP");
    assert_eq!(arm.len(), 21);
    let km = KaplanMeier::fit(&arm, Transform::LogLog, 0.95);
    let published = [
        (6.0, 21, 3, 0.8571, 0.0764, 0.6197, 0.9516),
        (7.0, 17, 1, 0.8067, 0.0869, 0.5631, 0.9228),
        (10.0, 15, 1, 0.7529, 0.0963, 0.5032, 0.8894),
        (13.0, 12, 1, 0.6902, 0.1068, 0.4316, 0.8491),
        (16.0, 11, 1, 0.6275, 0.1141, 0.3675, 0.8049),
        (22.0, 7, 1, 0.5378, 0.1282, 0.2678, 0.7468),
        (23.0, 6, 1, 0.4482, 0.1346, 0.1881, 0.6801),
    ];
    let events: Vec<&SurvivalRow> = km.rows.iter().filter(|r| r.events > 0).collect();
    assert_eq!(events.len(), published.len());
    for (row, (t, n, d, s, se, lo, hi)) in events.iter().zip(published) {
        assert_eq!((row.time, row.at_risk, row.events), (t, n, d));
        assert_4(row.survival, s, "S");
        assert_4(row.std_err, se, "SE");
        let ci = row.interval.unwrap();
        assert_4(ci.lower, lo, "lower");
        assert_4(ci.upper, hi, "upper");
    }
    // Every distinct time is a row, censorings too; everyone is counted once.
    let counted: usize = km.rows.iter().map(|r| r.events + r.censored).sum();
    assert_eq!(counted, 21);
    // At 6 weeks three relapsed and one left in remission: still at risk at 6.
    assert_eq!((km.rows[0].events, km.rows[0].censored), (3, 1));

    let median = km.median();
    assert_eq!(median.estimate, Some(23.0));
    assert_eq!(median.lower, Some(13.0));
    assert_eq!(median.upper, None, "not reached");
    assert_eq!(
        KaplanMeier::fit(&drug6mp("placebo"), Transform::LogLog, 0.95)
            .median()
            .estimate,
        Some(8.0)
    );

    let rmst = km.rmst(35.0);
    assert_4(rmst.estimate, 23.2874, "RMST");
    assert_4(rmst.std_err, 2.8275, "RMST SE");
}

#[test]
fn the_log_rank_test_of_6mp_against_placebo_matches() {
    let (drug, placebo) = (drug6mp("6-MP"), drug6mp("placebo"));
    let test = log_rank(&[&drug, &placebo]);
    assert_4(test.statistic, 16.7929, "chi-square");
    assert_eq!(test.df, 1);
    assert!(
        (test.p_value - 4.17e-5).abs() < 0.005e-5,
        "{}",
        test.p_value
    );
}

#[test]
fn the_cumulative_incidence_of_relapse_in_aml_low_risk_matches() {
    let group = bmt("2");
    assert_eq!(group.len(), 54);
    let cif = CumulativeIncidence::fit(&group, 1, IncidenceVariance::Aalen, 0.95);
    let at = |t: f64| {
        cif.at(t)
            .map_or((0.0, 0.0, None), |r| (r.incidence, r.std_err, r.interval))
    };
    let (f, se, ci) = at(0.5);
    assert_eq!((f, se, ci), (0.0, 0.0, None));
    let published = [
        (1.0, 0.0741, 0.0360, 0.0234, 0.1646),
        (1.5, 0.1296, 0.0463, 0.0563, 0.2344),
        (2.0, 0.1481, 0.0489, 0.0685, 0.2565),
        (3.0, 0.1667, 0.0514, 0.0813, 0.2783),
    ];
    for (t, expected, expected_se, lo, hi) in published {
        let (f, se, ci) = at(t);
        assert_4(f, expected, &format!("CIF at {t}"));
        assert_4(se, expected_se, &format!("SE at {t}"));
        let ci = ci.unwrap();
        assert_4(ci.lower, lo, &format!("lower at {t}"));
        assert_4(ci.upper, hi, &format!("upper at {t}"));
    }
}

#[test]
fn grays_test_between_the_three_groups_matches() {
    let groups: Vec<Vec<CompetingObservation>> = ["1", "2", "3"].iter().map(|g| bmt(g)).collect();
    let refs: Vec<&[CompetingObservation]> = groups.iter().map(Vec::as_slice).collect();
    let relapse = grays_test(&refs, 1, 0.0);
    assert!(
        (relapse.statistic - 11.922_882_0).abs() < 1e-6,
        "{relapse:?}"
    );
    assert_eq!(relapse.df, 2);
    assert!((relapse.p_value - 0.002_576_2).abs() < 1e-7, "{relapse:?}");
    let death = grays_test(&refs, 2, 0.0);
    assert!((death.statistic - 0.137_410_8).abs() < 1e-6, "{death:?}");
    assert!((death.p_value - 0.933_601_7).abs() < 1e-7, "{death:?}");
}

#[test]
fn without_competing_outcomes_the_incidence_is_one_minus_kaplan_meier() {
    // Ties, censorings at event times, and no other cause: both variance estimators agree
    // with Greenwood's (up to Aalen's tie correction, absent without ties).
    let times = [3.0, 5.0, 5.0, 6.0, 8.0, 8.0, 9.0, 12.0, 12.0, 15.0];
    let events = [
        true, true, false, true, true, true, false, true, false, true,
    ];
    let single: Vec<Observation> = times
        .iter()
        .zip(events)
        .map(|(&time, event)| Observation { time, event })
        .collect();
    let competing: Vec<CompetingObservation> = single
        .iter()
        .map(|o| CompetingObservation {
            time: o.time,
            cause: o.event.then_some(0),
        })
        .collect();
    let km = KaplanMeier::fit(&single, Transform::LogLog, 0.95);
    let delta = CumulativeIncidence::fit(&competing, 0, IncidenceVariance::Delta, 0.95);
    for (k, c) in km.rows.iter().zip(&delta.rows) {
        assert!((1.0 - k.survival - c.incidence).abs() < 1e-12);
        if k.survival > 0.0 {
            assert!((k.std_err - c.std_err).abs() < 1e-12, "{k:?} {c:?}");
        }
    }
}

#[test]
fn a_flat_stretch_exactly_at_the_median_gives_its_midpoint() {
    // S drops to exactly 0.5 at 2 and stays there until 4: the median is 3, as R gives it.
    let obs: Vec<Observation> = [(1.0, true), (2.0, true), (4.0, true), (5.0, true)]
        .iter()
        .map(|&(time, event)| Observation { time, event })
        .collect();
    let km = KaplanMeier::fit(&obs, Transform::Log, 0.95);
    assert_eq!(km.median().estimate, Some(3.0));
    // Exactly 0.75 from 1 to 2: the first quartile is 1.5.
    assert_eq!(km.quantile(0.25).estimate, Some(1.5));
    assert_eq!(km.survival_at(0.5), 1.0);
    assert_eq!(km.survival_at(4.5), 0.25);
}
