//! The projections on hand-made histories, and their properties on random valid ones.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use proptest::prelude::*;
use uuid::Uuid;

use super::*;
use crate::case::{GoalState, ServiceState};
use crate::events::*;
use crate::status::Status;
use crate::testing::play;
use crate::vocabulary::*;

const BENEFICIARY: Uuid = Uuid::from_u128(0xB1);
const ORG: Uuid = Uuid::from_u128(0x0A);
const CASEWORKER: Uuid = Uuid::from_u128(0xC1);

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn at(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(12, 0, 0).unwrap().and_utc()
}

fn registered() -> Event {
    Event::BeneficiaryRegistered(BeneficiaryRegistered {
        beneficiary_id: BENEFICIARY,
        organisation: ORG,
        caseworker: CASEWORKER,
        case_code: "AL-2010-1".into(),
        gender: Gender::Female,
        birth: Some(Birth::in_month(1990, 5)),
        citizenship: CountryCode::new("AL").unwrap(),
        country_of_assistance: CountryCode::new("AL").unwrap(),
        identified_on: day(2010, 3, 1),
        identification_route: IdentificationRoute::LawEnforcement,
        forms_of_exploitation: vec![FormOfExploitation::SexualExploitation],
        role: BeneficiaryRole::Primary,
    })
}

/// A history from (valid day, recorded day, event); ids and versions 1, 2, 3...
fn history(events: &[(NaiveDate, NaiveDate, Event)]) -> History {
    History::new(
        events
            .iter()
            .enumerate()
            .map(|(i, (occurred_on, recorded_on, event))| Envelope {
                id: id(i + 1),
                beneficiary: BENEFICIARY,
                version: i as u64 + 1,
                position: i as u64 + 1,
                occurred_on: *occurred_on,
                recorded_at: at(*recorded_on),
                actor: CASEWORKER,
                event: event.clone(),
            })
            .collect(),
    )
}

fn id(n: usize) -> Uuid {
    Uuid::from_u128(n as u128)
}

/// A status change (`from` says what the history has before it, for the reader).
fn status(from: Status, to: Status) -> Event {
    let _ = from;
    Event::StatusChanged(StatusChanged { to })
}

fn delivered(service: u128, kind: ServiceType, from: NaiveDate, to: Option<NaiveDate>) -> Event {
    Event::ServiceDelivered(ServiceDelivered {
        service_id: Uuid::from_u128(service),
        service: kind,
        provider: Some(ORG),
        from,
        to,
        amount: None,
        pre_program: false,
    })
}

/// Registration, shelter, a goal, a review; crisis care, then reintegrating; one status change
/// recorded late and dated back.
fn story() -> History {
    let goal = Uuid::from_u128(0x60);
    history(&[
        (day(2010, 3, 1), day(2010, 3, 1), registered()),
        (
            day(2010, 3, 1),
            day(2010, 3, 1),
            Event::ConsentGiven(ConsentGiven {
                scope: ConsentScope::EvaluationUse,
                given_by: ConsentGiver::Beneficiary,
                evidence: ConsentEvidence::SignedForm,
            }),
        ),
        (
            day(2010, 3, 2),
            day(2010, 3, 2),
            status(Status::Identified, Status::InCrisisCare),
        ),
        (
            day(2010, 3, 2),
            day(2010, 3, 2),
            delivered(
                0x51,
                ServiceType::Accommodation,
                day(2010, 3, 2),
                Some(day(2010, 5, 10)),
            ),
        ),
        (
            day(2010, 3, 5),
            day(2010, 3, 5),
            Event::PlanGoalSet(PlanGoalSet {
                goal_id: goal,
                domain: ReintegrationDomain::Housing,
                target_on: Some(day(2010, 9, 1)),
            }),
        ),
        (
            day(2010, 3, 5),
            day(2010, 3, 5),
            Event::ReviewScheduled(ReviewScheduled {
                due_on: day(2010, 6, 1),
            }),
        ),
        // Left crisis care on 11 May, but recorded only on 20 June.
        (
            day(2010, 5, 11),
            day(2010, 6, 20),
            status(Status::InCrisisCare, Status::Reintegrating),
        ),
        (
            day(2010, 6, 20),
            day(2010, 6, 20),
            delivered(
                0x52,
                ServiceType::VocationalTraining,
                day(2010, 6, 20),
                None,
            ),
        ),
        (
            day(2010, 9, 1),
            day(2010, 9, 1),
            Event::PlanGoalAchieved(PlanGoalAchieved { goal_id: goal }),
        ),
    ])
}

#[test]
fn the_plan_shows_status_consents_goals_services_and_the_next_review() {
    let plan = story().plan(AsOf::Now).unwrap();
    assert_eq!(plan.version, 9);
    assert_eq!(plan.status, Status::Reintegrating);
    assert_eq!(plan.status_since, day(2010, 5, 11));
    assert_eq!(plan.caseworker, CASEWORKER);
    assert_eq!(plan.consents.len(), 1);
    assert_eq!(plan.consents[0].scope, ConsentScope::EvaluationUse);
    assert_eq!(plan.goals.len(), 1);
    assert_eq!(plan.goals[0].goal.state, GoalState::Achieved);
    assert_eq!(plan.goals[0].goal.closed_on, Some(day(2010, 9, 1)));
    let kinds: Vec<_> = plan.services.iter().map(|s| s.service.service).collect();
    assert_eq!(
        kinds,
        [ServiceType::Accommodation, ServiceType::VocationalTraining]
    );
    assert_eq!(plan.services[0].service.state, ServiceState::Delivered);
    assert_eq!(
        plan.services[0].service.last_delivered_on,
        Some(day(2010, 5, 10))
    );
    assert_eq!(plan.next_review_on, Some(day(2010, 6, 1)));
    assert!(plan.review_overdue(day(2010, 6, 2)));
    assert!(!plan.review_overdue(day(2010, 6, 1)));
    assert_eq!(plan.last_activity_on, day(2010, 9, 1));
}

#[test]
fn as_of_valid_time_sees_a_backdated_fact_that_as_of_recorded_time_does_not() {
    let story = story();
    // On 1 June the person had been reintegrating since 11 May...
    let valid = story.plan(AsOf::ValidTime(day(2010, 6, 1))).unwrap();
    assert_eq!(valid.status, Status::Reintegrating);
    // ...but on 1 June the records still said crisis care (the change was recorded on 20 June).
    let recorded = story.plan(AsOf::RecordedTime(at(day(2010, 6, 1)))).unwrap();
    assert_eq!(recorded.status, Status::InCrisisCare);
    assert_eq!(recorded.version, 6);
    // Nothing registered yet on the eve of registration, in either time.
    assert!(story.plan(AsOf::ValidTime(day(2010, 2, 28))).is_none());
    assert!(
        story
            .plan(AsOf::RecordedTime(at(day(2010, 2, 28))))
            .is_none()
    );
}

#[test]
fn the_timeline_reads_in_the_order_things_happened_with_corrections_beside_them() {
    let mut events: Vec<(NaiveDate, NaiveDate, Event)> = story()
        .entries()
        .iter()
        .map(|e| (e.occurred_on, e.recorded_at.date_naive(), e.event.clone()))
        .collect();
    // Entry 4 (shelter) corrected: it ended on 30 April; entry 8 (training) voided.
    let corrected = delivered(
        0x51,
        ServiceType::Accommodation,
        day(2010, 3, 2),
        Some(day(2010, 4, 30)),
    );
    events.push((
        day(2010, 10, 1),
        day(2010, 10, 1),
        Event::EventCorrected(EventCorrected {
            corrects: id(4),
            occurred_on: None,
            replacement: Box::new(corrected.clone()),
        }),
    ));
    events.push((
        day(2010, 10, 2),
        day(2010, 10, 2),
        Event::EventVoided(EventVoided { voids: id(8) }),
    ));
    let history = history(&events);
    let timeline = history.timeline(AsOf::Now);
    // Corrections are notes on their entries, not entries of their own.
    assert_eq!(timeline.entries.len(), 9);
    let versions: Vec<u64> = timeline.entries.iter().map(|e| e.version).collect();
    // The late status change (version 7, dated 11 May) comes before version 8 (20 June) and
    // after version 6 (5 March): the order things happened.
    assert_eq!(versions, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    let shelter = &timeline.entries[3];
    assert_eq!(
        shelter.event,
        story().entries()[3].event,
        "as first recorded"
    );
    assert_eq!(shelter.current, Some(corrected.clone()), "as it counts now");
    assert_eq!(shelter.notes.len(), 1);
    assert_eq!(shelter.notes[0].id, id(10));
    assert!(
        shelter.notes[0].summary.starts_with("Corrected: "),
        "{}",
        shelter.notes[0].summary
    );
    let training = &timeline.entries[7];
    assert_eq!(training.current, None);
    assert_eq!(training.notes[0].summary, "Voided: recorded in error");
    assert_eq!(timeline.entries[6].recorded_days_later(), 40);

    // The plan honours both: shelter to 30 April, no training.
    let plan = history.plan(AsOf::Now).unwrap();
    assert_eq!(plan.services.len(), 1);
    assert_eq!(
        plan.services[0].service.last_delivered_on,
        Some(day(2010, 4, 30))
    );
    // As recorded on 1 October, the correction is there and the void is not yet.
    let before_void = history.timeline(AsOf::RecordedTime(at(day(2010, 10, 1))));
    assert_eq!(before_void.entries[3].current, Some(corrected));
    assert_eq!(before_void.entries[7].notes.len(), 0);
    // In valid time, only what had happened by 1 April, corrections known now included.
    let april = history.timeline(AsOf::ValidTime(day(2010, 4, 1)));
    assert_eq!(april.entries.len(), 6);
    assert_eq!(april.entries[3].notes.len(), 1);
}

#[test]
fn the_outcome_view_gives_dates_durations_scores_and_services() {
    let mut events: Vec<(NaiveDate, NaiveDate, Event)> = story()
        .entries()
        .iter()
        .map(|e| (e.occurred_on, e.recorded_at.date_naive(), e.event.clone()))
        .collect();
    events.push((
        day(2010, 12, 1),
        day(2010, 12, 1),
        Event::AssessmentRecorded(AssessmentRecorded {
            assessment_id: Uuid::from_u128(0xA1),
            framework_version: 1,
            scores: vec![DomainScore {
                domain: ReintegrationDomain::Safety,
                score: 3,
            }],
        }),
    ));
    events.push((
        day(2011, 3, 1),
        day(2011, 3, 1),
        status(Status::Reintegrating, Status::Reintegrated),
    ));
    events.push((
        day(2011, 6, 1),
        day(2011, 6, 1),
        Event::CaseClosed(CaseClosed {
            outcome: Status::Reintegrated,
        }),
    ));
    let outcome = history(&events)
        .outcome(AsOf::Now, day(2015, 1, 1))
        .unwrap();
    assert_eq!(outcome.identified_on, day(2010, 3, 1));
    assert_eq!(outcome.intake_on, day(2010, 3, 1));
    assert_eq!(outcome.first_service_on, Some(day(2010, 3, 2)));
    assert_eq!(outcome.age_at_identification, Some(19));
    assert_eq!(outcome.transitions.len(), 3);
    assert_eq!(outcome.transitions[1].on, day(2010, 5, 11));
    assert_eq!(outcome.reintegrated_on, Some(day(2011, 3, 1)));
    assert_eq!(outcome.exit, None);
    assert_eq!(outcome.closed_on, Some(day(2011, 6, 1)));
    let days: HashMap<Status, i64> = outcome
        .time_in_stage
        .iter()
        .map(|s| (s.status, s.days))
        .collect();
    assert_eq!(days[&Status::Identified], 1);
    assert_eq!(days[&Status::InCrisisCare], 70); // 2 March to 11 May
    assert_eq!(days[&Status::Reintegrating], 294); // 11 May 2010 to 1 March 2011
    assert_eq!(days[&Status::Reintegrated], 92); // to the closure on 1 June 2011
    assert_eq!(
        days.values().sum::<i64>(),
        (day(2011, 6, 1) - day(2010, 3, 1)).num_days()
    );
    assert_eq!(outcome.assessments.len(), 1);
    assert_eq!(outcome.services.deliveries, 2);
    // March, April, May (shelter) and June (training).
    assert_eq!(outcome.services.months_of_support, 4);
    assert!(outcome.evaluation_consent);

    // As of the end of 2010, the same person is still reintegrating and the clock runs to then.
    let then = history(&events)
        .outcome(AsOf::ValidTime(day(2010, 12, 31)), day(2015, 1, 1))
        .unwrap();
    assert_eq!(then.reintegrated_on, None);
    assert_eq!(then.closed_on, None);
    assert_eq!(then.until, day(2010, 12, 31));
}

#[test]
fn the_caseload_follows_transfers_and_closures() {
    let other = Uuid::from_u128(0xC2);
    let mut projections = Projections::default();
    let entries = history(&[
        (day(2010, 3, 1), day(2010, 3, 1), registered()),
        (
            day(2010, 3, 2),
            day(2010, 3, 2),
            status(Status::Identified, Status::InCrisisCare),
        ),
        (
            day(2010, 3, 3),
            day(2010, 3, 3),
            Event::CaseTransferred(CaseTransferred {
                to_caseworker: other,
            }),
        ),
    ]);
    for (n, entry) in entries.entries().iter().enumerate() {
        projections.apply(entry);
        let (_, counts) = projections.caseload.counts.iter().next().unwrap();
        assert_eq!(counts.open, 1, "after event {}", n + 1);
    }
    let counts = &projections.caseload.counts[&(ORG, other)];
    assert_eq!(counts.by_status[&Status::InCrisisCare], 1);
    assert!(!projections.caseload.counts.contains_key(&(ORG, CASEWORKER)));

    projections.apply(&Envelope {
        id: id(4),
        version: 4,
        position: 4,
        event: Event::CaseClosed(CaseClosed {
            outcome: Status::InCrisisCare,
        }),
        ..entries.entries()[2].clone()
    });
    let counts = &projections.caseload.counts[&(ORG, other)];
    assert_eq!((counts.open, counts.closed), (0, 1));
    assert!(counts.by_status.is_empty());
}

fn by_beneficiary(entries: &[Envelope]) -> HashMap<Uuid, History> {
    let mut streams: HashMap<Uuid, Vec<Envelope>> = HashMap::new();
    for e in entries {
        streams.entry(e.beneficiary).or_default().push(e.clone());
    }
    streams
        .into_iter()
        .map(|(id, entries)| (id, History::new(entries)))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Folding event by event (the projector) and rebuilding each stream from the log agree.
    #[test]
    fn rebuilding_from_the_log_equals_the_incremental_read_models(steps in crate::testing::steps(300)) {
        let entries = play(&steps, 5);
        let mut incremental = Projections::default();
        for e in &entries {
            incremental.apply(e);
        }
        let histories = by_beneficiary(&entries);
        let rebuilt: HashMap<Uuid, Plan> = histories
            .iter()
            .filter_map(|(id, h)| h.plan(AsOf::Now).map(|p| (*id, p)))
            .collect();
        prop_assert_eq!(&incremental.plans(), &rebuilt);
        let caseload_entries: Vec<CaseloadEntry> = histories
            .values()
            .filter_map(|h| CaseloadEntry::of(&h.case(AsOf::Now)))
            .collect();
        prop_assert_eq!(&incremental.caseload, &Caseload::from_entries(&caseload_entries));
    }

    /// A case's owner is the owner of its plan (commands take it from the case, views from
    /// the plan).
    #[test]
    fn a_cases_owner_is_its_plans_owner(steps in crate::testing::steps(300)) {
        for (_, history) in by_beneficiary(&play(&steps, 3)) {
            let case = history.case(AsOf::Now);
            let from_plan = history.plan(AsOf::Now).map(|p| crate::access::RecordOwner::of(&p));
            prop_assert_eq!(crate::access::RecordOwner::of_case(&case), from_plan);
        }
    }

    /// A history extended piece by piece (what the server's history cache does with each
    /// stream's tail) is the history read whole: same entries, same case as of now.
    #[test]
    fn a_history_extended_by_its_tails_equals_it_read_whole(
        steps in crate::testing::steps(300),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        for (_, whole) in by_beneficiary(&play(&steps, 3)) {
            let entries = whole.entries();
            let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(entries.len() + 1)).collect();
            cuts.push(entries.len());
            cuts.sort_unstable();
            let mut pieces = History::new(entries[..cuts[0]].to_vec());
            for pair in cuts.windows(2) {
                pieces.extend(entries[pair[0]..pair[1]].iter().cloned());
            }
            prop_assert_eq!(pieces.now(), &Case::from_events(
                entries.iter().map(|e| (e.id, e.occurred_on, &e.event)),
            ));
            prop_assert_eq!(&pieces, &whole);
        }
    }

    /// As of now, as of a day after everything, and as recorded after the last entry all give
    /// the current state.
    #[test]
    fn as_of_now_equals_the_current_state(steps in crate::testing::steps(300)) {
        let entries = play(&steps, 3);
        let mut incremental = Projections::default();
        for e in &entries {
            incremental.apply(e);
        }
        let current = incremental.plans();
        let last = entries.last().map(|e| e.recorded_at);
        for (id, history) in by_beneficiary(&entries) {
            let now = history.plan(AsOf::Now);
            prop_assert_eq!(now.as_ref(), current.get(&id));
            prop_assert_eq!(&history.plan(AsOf::ValidTime(crate::testing::today())), &now);
            if let Some(last) = last {
                prop_assert_eq!(&history.plan(AsOf::RecordedTime(last)), &now);
            }
            prop_assert_eq!(
                history.timeline(AsOf::RecordedTime(last.unwrap_or_default())),
                history.timeline(AsOf::Now)
            );
        }
    }

    /// As recorded at T, nothing recorded after T counts, even when it is dated before T.
    #[test]
    fn as_of_recorded_time_ignores_later_records_even_backdated(
        steps in crate::testing::steps(300),
        cut in any::<prop::sample::Index>(),
    ) {
        let entries = play(&steps, 3);
        prop_assume!(!entries.is_empty());
        let t = entries[cut.index(entries.len())].recorded_at;
        for (_, history) in by_beneficiary(&entries) {
            let known: Vec<Envelope> = history
                .entries()
                .iter()
                .filter(|e| e.recorded_at <= t)
                .cloned()
                .collect();
            let later: Vec<&Envelope> =
                history.entries().iter().filter(|e| e.recorded_at > t).collect();
            let case = history.case(AsOf::RecordedTime(t - Duration::zero()));
            for e in &later {
                prop_assert!(!case.recorded.contains_key(&e.id), "{:?} recorded after T", e.id);
            }
            prop_assert_eq!(&case, &History::new(known.clone()).case(AsOf::Now));
            prop_assert_eq!(
                history.plan(AsOf::RecordedTime(t)),
                History::new(known).plan(AsOf::Now)
            );
        }
    }
}

#[test]
fn random_histories_are_rich_enough_to_test_with() {
    // The generator must reach corrections, voids, backdating and closures, or the properties
    // above test little.
    let steps = crate::testing::seeded_steps(42, 3000, 7, 13);
    let entries = play(&steps, 7);
    let count = |name: &str| {
        entries
            .iter()
            .filter(|e| e.event.type_name() == name)
            .count()
    };
    for name in [
        "EventCorrected",
        "EventVoided",
        "CaseClosed",
        "CaseReopened",
        "StatusChanged",
        "AssessmentRecorded",
        "ReferredToOrganisation",
    ] {
        assert!(count(name) > 0, "no {name} in {} events", entries.len());
    }
    assert!(
        entries
            .iter()
            .any(|e| e.occurred_on < e.recorded_at.date_naive() - Duration::days(30)),
        "no backdated entry"
    );
}

#[test]
fn summaries_use_the_labels_people_read() {
    let job = delivered(0x52, ServiceType::JobPlacement, day(2011, 2, 1), None);
    assert_eq!(
        describe(&job),
        "Service delivered: job placement on 2011-02-01"
    );
    let child_care = Event::ServicePlanned(ServicePlanned {
        service_id: Uuid::from_u128(0x53),
        service: ServiceType::ChildCare,
        provider: None,
        goal_id: None,
    });
    assert_eq!(describe(&child_care), "Service planned: child care");
    let goal = Event::PlanGoalSet(PlanGoalSet {
        goal_id: Uuid::from_u128(0x61),
        domain: ReintegrationDomain::MentalWellbeing,
        target_on: None,
    });
    assert_eq!(describe(&goal), "Plan goal set for mental well-being");
    // A status change reads from the status the history had before it, in the order things
    // happened, even when it was recorded after a later one.
    let timeline = story().timeline(AsOf::Now);
    let changes: Vec<&str> = timeline
        .entries
        .iter()
        .filter(|e| matches!(e.event, Event::StatusChanged(_)))
        .map(|e| e.summary.as_str())
        .collect();
    assert_eq!(
        changes,
        [
            "Status changed from identified to in crisis care",
            "Status changed from in crisis care to reintegrating"
        ]
    );
    for entry in &timeline.entries {
        assert!(
            !entry.summary.contains("Placement") && !entry.summary.contains("Wellbeing"),
            "{}",
            entry.summary
        );
    }
}
