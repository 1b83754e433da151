use chrono::NaiveDate;
use uuid::Uuid;

use super::*;
use crate::projection::{ServicesReceived, Transition};
use crate::vocabulary::{CountryCode, FormOfExploitation, Gender, IdentificationRoute};

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// An outcome view identified and taken in on 2010-01-01, with `transitions` (day, status).
fn person(transitions: &[(&str, Status)], last_contact: &str, until: &str) -> Outcome {
    let mut from = Status::Identified;
    Outcome {
        beneficiary_id: Uuid::from_u128(1),
        organisation: Uuid::from_u128(7),
        primary: true,
        primary_beneficiary_id: None,
        relationship: None,
        gender: Gender::Female,
        age_at_identification: Some(16),
        citizenship: CountryCode::new("AL").unwrap(),
        country_of_assistance: CountryCode::new("AL").unwrap(),
        identification_route: IdentificationRoute::Ngo,
        forms_of_exploitation: vec![FormOfExploitation::SexualExploitation],
        identified_on: day("2010-01-01"),
        intake_on: day("2010-01-01"),
        first_service_on: None,
        transitions: transitions
            .iter()
            .map(|(on, to)| {
                let t = Transition {
                    on: day(on),
                    from,
                    to: *to,
                };
                from = *to;
                t
            })
            .collect(),
        reintegrated_on: transitions
            .iter()
            .find(|(_, s)| *s == Status::Reintegrated)
            .map(|(on, _)| day(on)),
        exit: None,
        status: from,
        closed_on: None,
        time_in_stage: Vec::new(),
        assessments: Vec::new(),
        services: ServicesReceived::default(),
        evaluation_consent: true,
        last_contact_on: day(last_contact),
        until: day(until),
    }
}

const OPEN: [(&str, Status); 1] = [("2010-02-01", Status::InCrisisCare)];

#[test]
fn follow_up_ends_at_the_first_exit_and_is_otherwise_censored_as_the_query_says() {
    let spec = FollowUpSpec::default();
    let reintegrated = person(
        &[
            ("2010-02-01", Status::InCrisisCare),
            ("2010-12-01", Status::Reintegrated),
            ("2011-06-01", Status::ReTrafficked),
        ],
        "2011-06-01",
        "2015-12-31",
    );
    let f = FollowUp::of(&reintegrated, spec).unwrap();
    assert_eq!(
        (f.days, f.ending, f.lost_contact),
        (334, Some(Ending::Reintegrated), false)
    );
    assert_eq!(f.competing().cause, Some(0));
    assert!(f.observation(Ending::Reintegrated).event);
    assert!(!f.observation(Ending::ReTrafficked).event);

    // Losing contact censors at the day it was lost.
    let lost = person(
        &[
            ("2010-02-01", Status::InCrisisCare),
            ("2010-05-01", Status::LostContact),
        ],
        "2010-05-01",
        "2015-12-31",
    );
    let f = FollowUp::of(&lost, spec).unwrap();
    assert_eq!(
        (f.end, f.ending, f.lost_contact),
        (day("2010-05-01"), None, true)
    );

    // Still open: at the last contact by default, at the cut-off when asked.
    let open = person(&OPEN, "2011-03-15", "2015-12-31");
    assert_eq!(FollowUp::of(&open, spec).unwrap().end, day("2011-03-15"));
    let at_cut_off = FollowUpSpec {
        censoring: Censoring::CutOff,
        ..spec
    };
    assert_eq!(
        FollowUp::of(&open, at_cut_off).unwrap().end,
        day("2015-12-31")
    );

    // No service yet: no origin for time from the first service.
    let from_service = FollowUpSpec {
        origin: Origin::FirstService,
        ..spec
    };
    assert_eq!(FollowUp::of(&open, from_service), None);
    let mut served = open.clone();
    served.first_service_on = Some(day("2010-03-01"));
    assert_eq!(FollowUp::of(&served, from_service).unwrap().days, 379);
    // A service after the follow-up ended gives no follow-up (not a negative time).
    served.first_service_on = Some(day("2012-01-01"));
    assert_eq!(FollowUp::of(&served, from_service), None);
}

#[test]
fn breakdowns_sort_people_into_groups_by_code() {
    let mut p = person(&OPEN, "2010-06-01", "2015-12-31");
    p.forms_of_exploitation = vec![
        FormOfExploitation::SexualExploitation,
        FormOfExploitation::Begging,
    ];
    assert_eq!(Breakdown::Country.groups(&p), ["AL"]);
    assert_eq!(Breakdown::IntakeYear.groups(&p), ["2010"]);
    assert_eq!(Breakdown::Sex.groups(&p), ["female"]);
    assert_eq!(Breakdown::AgeGroup.groups(&p), ["12-17"]);
    assert_eq!(Breakdown::Role.groups(&p), ["primary"]);
    assert_eq!(Breakdown::ServicesReceived.groups(&p), ["none"]);
    assert_eq!(
        Breakdown::FormOfExploitation.groups(&p),
        ["sexual_exploitation", "begging"]
    );
    assert!(Breakdown::FormOfExploitation.overlaps() && !Breakdown::Country.overlaps());
    assert_eq!(age_group(None), "unknown");
    assert_eq!(age_group(Some(40)), "35+");
}

#[test]
fn the_program_results_count_everyone_by_group_and_period() {
    let mut people = Vec::new();
    for i in 0..10 {
        let mut p = person(&OPEN, "2010-06-01", "2015-12-31");
        p.primary = i < 7;
        p.gender = if i % 3 == 0 {
            Gender::Male
        } else {
            Gender::Female
        };
        p.age_at_identification = Some(if i < 4 { 15 } else { 30 });
        p.reintegrated_on = (i < 5).then(|| day("2011-01-01"));
        p.country_of_assistance = CountryCode::new(if i < 6 { "AL" } else { "RS" }).unwrap();
        p.intake_on = day(if i < 8 { "2010-01-01" } else { "2014-01-01" });
        people.push(p);
    }
    let (rows, total) = program_results(&people, Some(Breakdown::Country), None);
    assert_eq!(total.counts(), [7, 3, 3, 4, 5]);
    assert_eq!(total.share_reintegrated(), Some(5.0 / 7.0));
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0].group.as_str(), rows[0].assisted), ("AL", 6));
    assert_eq!(
        (
            rows[1].group.as_str(),
            rows[1].assisted,
            rows[1].family_members
        ),
        ("RS", 1, 3)
    );
    let (_, early) = program_results(&people, None, Some((day("2009-01-01"), day("2012-12-31"))));
    assert_eq!(early.counts()[0] + early.counts()[1], 8);
}

/// True when no line has exactly one withheld count.
fn safe(cells: &[Cell], lines: &[Vec<usize>]) -> bool {
    lines
        .iter()
        .all(|line| line.iter().filter(|i| cells[**i].value.is_none()).count() != 1)
}

#[test]
fn a_small_count_is_withheld_with_a_complement_so_totals_do_not_give_it_away() {
    // Three groups and their total, one column: 3 is small, the next smallest goes with it.
    let counts = [3, 40, 12, 55];
    let lines = table_lines(4, 1, false);
    let cells = suppress(&counts, &lines, EVALUATOR_THRESHOLD);
    assert_eq!(cells[0].withheld, Some(Withheld::SmallCount));
    assert_eq!(cells[2].withheld, Some(Withheld::Complementary));
    assert_eq!((cells[1].value, cells[3].value), (Some(40), Some(55)));
    assert!(safe(&cells, &lines));

    // The public threshold is 11: 12 stays, 8 goes.
    let cells = suppress(&[8, 40, 12, 60], &lines, PUBLIC_THRESHOLD);
    assert_eq!(cells[0].withheld, Some(Withheld::SmallCount));
    assert!(safe(&cells, &lines));

    // Nothing else to hide in the line but the total: the total is withheld.
    let cells = suppress(&[3, 0, 0, 3], &lines, EVALUATOR_THRESHOLD);
    assert!(cells[0].value.is_none() && cells[3].value.is_none());
    assert_eq!(cells[1].value, Some(0), "zeros are shown");
}

#[test]
fn secondary_suppression_holds_for_every_row_and_column_total() {
    // Every 4 × 3 table (with totals: 5 × 4) from a simple generator: no line ever has exactly
    // one withheld count, and every small count is withheld.
    let mut seed = 7_u64;
    let mut next = move || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (seed >> 33) % 14
    };
    for _ in 0..500 {
        let (rows, columns) = (4, 3);
        let mut counts = vec![0_u64; (rows + 1) * (columns + 1)];
        for r in 0..rows {
            for c in 0..columns {
                let n = next();
                counts[r * (columns + 1) + c] = n;
                counts[r * (columns + 1) + columns] += n;
                counts[rows * (columns + 1) + c] += n;
                counts[rows * (columns + 1) + columns] += n;
            }
        }
        let lines = table_lines(rows + 1, columns + 1, true);
        let cells = suppress(&counts, &lines, EVALUATOR_THRESHOLD);
        assert!(safe(&cells, &lines), "{counts:?}");
        for (cell, n) in cells.iter().zip(&counts) {
            if *n > 0 && *n < EVALUATOR_THRESHOLD {
                assert!(cell.value.is_none());
            }
        }
    }
}

#[test]
fn the_return_after_reintegration_is_timed_from_the_first_reintegration() {
    let back = person(
        &[
            ("2010-02-01", Status::InCrisisCare),
            ("2010-12-01", Status::Reintegrated),
            ("2011-03-01", Status::InCrisisCare),
        ],
        "2011-03-01",
        "2015-12-31",
    );
    assert_eq!(
        AfterExit::of(&back, Censoring::LastContact),
        Some(AfterExit {
            exit_on: day("2010-12-01"),
            days: 90,
            returned: true
        })
    );
    assert_eq!(standing(&back), "reintegrated");
    let stayed = person(
        &[
            ("2010-02-01", Status::InCrisisCare),
            ("2010-12-01", Status::Reintegrated),
        ],
        "2012-12-01",
        "2015-12-31",
    );
    let after = AfterExit::of(&stayed, Censoring::LastContact).unwrap();
    assert_eq!((after.days, after.returned), (731, false));
    assert_eq!(
        AfterExit::of(&stayed, Censoring::CutOff).unwrap().days,
        1856
    );
    let open = person(&OPEN, "2010-06-01", "2015-12-31");
    assert_eq!(AfterExit::of(&open, Censoring::LastContact), None);
    assert_eq!(standing(&open), "in_progress");
}

#[test]
fn scores_are_spread_by_months_since_intake() {
    use crate::events::DomainScore;
    use crate::projection::Assessment;
    use crate::vocabulary::ReintegrationDomain::Housing;
    let mut p = person(&OPEN, "2011-06-01", "2015-12-31");
    for (on, score) in [
        ("2010-01-15", 1),
        ("2010-03-01", 3),
        ("2010-07-01", 4),
        ("2011-02-01", 5),
    ] {
        p.assessments.push(Assessment {
            on: day(on),
            framework_version: 1,
            scores: vec![DomainScore {
                domain: Housing,
                score,
            }],
        });
    }
    let t = trajectories(&[&p], 6);
    let first = t[&(Housing, 0)];
    assert_eq!((first.n, first.mean), (2, 2.0));
    assert!((first.sd - 2.0_f64.sqrt()).abs() < 1e-12);
    assert_eq!(first.quartiles, [1.5, 2.0, 2.5]);
    assert_eq!(t[&(Housing, 6)].n, 1);
    assert_eq!(t[&(Housing, 12)].mean, 5.0);
    assert_eq!(Spread::of(&[]), None);
}
