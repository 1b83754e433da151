//! The demo reproduces the TVRP's published headline figures, and is the same for the same seed.

use std::collections::{BTreeSet, HashSet};

use roadback_domain::Command as Cmd;

use roadback_domain::projection::Outcome;
use roadback_domain::{Case, decide};

use super::*;
use crate::{Config, histories, organisations};

/// Folds every history through the domain's decisions, as a loader does.
fn outcomes(config: Config) -> Vec<(Outcome, usize)> {
    let mut program = Program::new(&organisations(config.seed));
    let mut out = Vec::new();
    for history in histories(config) {
        let mut case = Case::default();
        let mut n = 0;
        for command in &history.commands {
            let events = decide(&case, &command.request, end(), &program)
                .unwrap_or_else(|r| panic!("{:?} refused: {r:?}", command.request));
            for event in &events {
                case.apply(
                    event_id(history.beneficiary, n),
                    command.request.occurred_on,
                    event,
                );
                n += 1;
            }
        }
        if history.primary.is_none() {
            program.add_primary(history.beneficiary);
        }
        assert_eq!(
            roadback_domain::rules::verify(&case, end()),
            Ok(()),
            "every demo history obeys the rules"
        );
        out.push((Outcome::of(&case, end()).unwrap(), history.organisation));
    }
    out
}

#[test]
fn the_demo_reproduces_the_published_headline_figures() {
    let config = Config {
        seed: 2015,
        scale: 1,
    };
    let all = outcomes(config);
    let headline = crate::Headline::of(all.iter().map(|(o, _)| o));
    assert!(headline.matches_the_tvrp(), "{headline:?}");
    let organisations: BTreeSet<usize> = all.iter().map(|(_, org)| *org).collect();
    assert_eq!(organisations.len(), 15);
    let primaries: Vec<&Outcome> = all.iter().map(|(o, _)| o).filter(|o| o.primary).collect();
    // Intake 2007 to 2014, follow-up into 2015.
    let years: BTreeSet<i32> = primaries.iter().map(|o| o.intake_on.year()).collect();
    assert_eq!(years.first(), Some(&2007));
    assert!(*years.last().unwrap() <= 2015);
    // The other endings all occur, and durations spread over months to years.
    for status in [
        Status::DroppedOut,
        Status::LostContact,
        Status::MovedAbroad,
        Status::ReTrafficked,
    ] {
        assert!(
            primaries
                .iter()
                .any(|o| o.exit.is_some_and(|e| e.status == status)),
            "{status:?}"
        );
    }
    let durations: Vec<i64> = primaries
        .iter()
        .filter_map(|o| o.reintegrated_on.map(|d| (d - o.intake_on).num_days()))
        .collect();
    assert!(durations.iter().any(|d| *d < 365) && durations.iter().any(|d| *d > 2 * 365));
}

#[test]
fn the_same_seed_gives_the_same_program_and_copies_differ() {
    let a: Vec<History> = histories(Config { seed: 7, scale: 2 }).collect();
    let b: Vec<History> = histories(Config { seed: 7, scale: 2 }).collect();
    assert_eq!(a, b);
    assert_eq!(a.len(), 2 * (1_711 + 1_179));
    let ids: HashSet<_> = a.iter().map(|h| h.beneficiary).collect();
    assert_eq!(ids.len(), a.len(), "fresh ids in every copy");
    // The second copy is the same program with other people: other dates and choices.
    let dates = |h: &History| {
        h.commands
            .iter()
            .map(|c| c.request.occurred_on)
            .collect::<Vec<_>>()
    };
    let differing = (0..100)
        .filter(|&i| dates(&a[i]) != dates(&a[1_711 + 1_179 + i]))
        .count();
    assert!(
        differing > 90,
        "only {differing} of 100 histories differ between copies"
    );
    assert_ne!(
        organisations(7),
        organisations(8),
        "organisation ids follow the seed"
    );
}

#[test]
fn ids_are_unique_and_sort_in_the_order_they_are_made() {
    let all: Vec<History> = histories(Config { seed: 7, scale: 2 }).collect();
    let beneficiaries: Vec<Uuid> = all.iter().map(|h| h.beneficiary).collect();
    assert!(beneficiaries.is_sorted_by(|a, b| a < b));
    let events: Vec<Uuid> = all
        .iter()
        .flat_map(|h| (0..h.commands.len()).map(|n| event_id(h.beneficiary, n)))
        .collect();
    assert!(events.is_sorted_by(|a, b| a < b), "events in load order");
    // Services, goals, assessments and referrals are unique across the whole program too.
    let mut things = HashSet::new();
    for history in &all {
        for command in &history.commands {
            let thing = match &command.request.command {
                Cmd::PlanService { service_id, .. } => *service_id,
                Cmd::RecordServiceDelivery(d) if d.service_id.is_none() => {
                    if command.request.corrects.is_some() {
                        continue;
                    }
                    d.new_service_id
                }
                Cmd::SetPlanGoal { goal_id, .. } => *goal_id,
                Cmd::RecordAssessment { assessment_id, .. } => *assessment_id,
                Cmd::ReferToOrganisation { referral_id, .. } => *referral_id,
                _ => continue,
            };
            assert!(things.insert(thing), "{thing} made twice");
        }
    }
    assert!(things.len() > 10_000);
    // Another seed makes other ids.
    let other = histories(Config { seed: 8, scale: 1 }).next().unwrap();
    assert!(!beneficiaries.contains(&other.beneficiary));
}

/// The median of some numbers (sorted here).
fn median(mut values: Vec<i64>) -> i64 {
    assert!(!values.is_empty());
    values.sort_unstable();
    values[values.len() / 2]
}

#[test]
fn the_demo_records_what_a_program_like_the_tvrp_records() {
    let config = Config {
        seed: 2015,
        scale: 1,
    };
    let all: Vec<History> = histories(config).collect();
    let outcomes = outcomes(config);
    let requests = || {
        all.iter()
            .flat_map(|h| h.commands.iter().map(|c| &c.request))
    };
    let count = |matches: fn(&Request) -> bool| requests().filter(|r| matches(r)).count();

    // Forms of exploitation, alone and combined.
    let forms: Vec<&Vec<FormOfExploitation>> = requests()
        .filter_map(|r| match &r.command {
            Cmd::RegisterBeneficiary(b) if b.role == BeneficiaryRole::Primary => {
                Some(&b.details.forms_of_exploitation)
            }
            _ => None,
        })
        .collect();
    for form in [
        FormOfExploitation::SexualExploitation,
        FormOfExploitation::LabourExploitation,
        FormOfExploitation::Begging,
        FormOfExploitation::ForcedCriminality,
    ] {
        assert!(forms.iter().any(|f| f.contains(&form)), "{form:?}");
    }
    assert!(
        forms.iter().filter(|f| f.len() > 1).count() > 50,
        "multiple forms"
    );

    // A guardian consents for every child.
    for ((outcome, _), history) in outcomes.iter().zip(&all) {
        if outcome.primary && outcome.age_at_identification.is_some_and(|age| age < 18) {
            assert!(
                history.commands.iter().any(|c| matches!(
                    c.request.command,
                    Cmd::GiveConsent {
                        given_by: ConsentGiver::Guardian,
                        ..
                    }
                )),
                "no guardian for child {}",
                history.beneficiary
            );
        }
    }

    // Consent sometimes withdrawn; referrals made and accepted; corrections and voids; closures
    // and follow-ups.
    let withdrawn = count(|r| matches!(r.command, Cmd::WithdrawConsent { .. }));
    assert!(
        withdrawn > 20 && withdrawn < all.len() / 5,
        "{withdrawn} withdrawals"
    );
    assert!(count(|r| matches!(r.command, Cmd::ReferToOrganisation { .. })) > 50);
    assert!(count(|r| matches!(r.command, Cmd::AcceptReferral { .. })) > 20);
    assert!(count(|r| r.corrects.is_some()) > 20);
    assert!(count(|r| matches!(r.command, Cmd::VoidEvent { .. })) > 5);
    assert!(count(|r| matches!(r.command, Cmd::CloseCase)) > 1_000);
    assert!(count(|r| matches!(r.command, Cmd::RecordFollowUpContact { .. })) > 500);

    // Late entries: facts recorded months after facts of a later day.
    let late_entries = all
        .iter()
        .filter(|h| {
            let mut latest = NaiveDate::MIN;
            h.commands.iter().any(|c| {
                let on = c.request.occurred_on;
                let late = on + Duration::days(90) < latest;
                latest = latest.max(on);
                late
            })
        })
        .count();
    assert!(
        late_entries > 50 && late_entries < all.len() / 4,
        "{late_entries} histories with late entries"
    );

    // Assessments every few months, with scores that move.
    let primaries: Vec<&Outcome> = outcomes
        .iter()
        .map(|(o, _)| o)
        .filter(|o| o.primary)
        .collect();
    let gaps: Vec<i64> = primaries
        .iter()
        .flat_map(|o| {
            o.assessments
                .windows(2)
                .map(|w| (w[1].on - w[0].on).num_days())
        })
        .collect();
    let gap = median(gaps);
    assert!(
        (45..=200).contains(&gap),
        "median {gap} days between assessments"
    );
    let total = |a: &roadback_domain::projection::Assessment| -> u32 {
        a.scores.iter().map(|s| u32::from(s.score)).sum()
    };
    let assessed: Vec<&&Outcome> = primaries
        .iter()
        .filter(|o| o.assessments.len() >= 3)
        .collect();
    let moved = assessed
        .iter()
        .filter(|o| total(&o.assessments[0]) != total(o.assessments.last().unwrap()))
        .count();
    assert!(
        moved * 10 > assessed.len() * 8,
        "{moved} of {} moved",
        assessed.len()
    );

    // Services by stage: shelter and medical care come early, work later.
    let delivered_after_intake = |kind: ServiceType| -> i64 {
        median(
            all.iter()
                .flat_map(|h| {
                    let intake = h.commands[0].request.occurred_on;
                    h.commands
                        .iter()
                        .filter_map(move |c| match c.request.command {
                            Cmd::RecordServiceDelivery(d) if d.service == kind => {
                                Some((d.from - intake).num_days())
                            }
                            _ => None,
                        })
                })
                .collect(),
        )
    };
    let accommodation = delivered_after_intake(ServiceType::Accommodation);
    let jobs = delivered_after_intake(ServiceType::JobPlacement);
    assert!(
        accommodation * 3 < jobs,
        "accommodation {accommodation} days, jobs {jobs} days"
    );

    // Durations differ by cohort: the TVRP got faster as it went on.
    let duration = |years: std::ops::RangeInclusive<i32>| {
        median(
            primaries
                .iter()
                .filter(|o| years.contains(&o.intake_on.year()))
                .filter_map(|o| o.reintegrated_on.map(|d| (d - o.intake_on).num_days()))
                .collect(),
        )
    };
    let (early, late) = (duration(2007..=2009), duration(2012..=2014));
    assert!(
        early > late + 60,
        "2007-09: {early} days, 2012-14: {late} days"
    );
}
