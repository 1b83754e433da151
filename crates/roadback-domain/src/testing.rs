//! Random valid histories for property tests (here and in the store's conformance suite).
//!
//! A list of [`Step`]s (plain numbers, so any generator or shrinker can produce them) is played
//! through [`decide`](crate::decide): each step becomes a request against the current case of
//! one of a few beneficiaries; accepted requests become events, rejected ones are skipped. Dates
//! move forward with some backdated entries; recorded times move forward like a store's clock.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;

use crate::case::{Case, GoalState};
use crate::decide::{Directory, Request, decide};
use crate::events::*;
use crate::indicators::{Framework, default_framework};
use crate::projection::Envelope;
use crate::status::Status;
use crate::vocabulary::*;

/// One step of a random history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// Which beneficiary (modulo the number of streams).
    pub stream: u8,
    /// What kind of fact.
    pub kind: u8,
    /// Chooses among values and existing goals, services, events.
    pub pick: u8,
    /// Days after the beneficiary's last fact (small), or backdating when `backdate` says so.
    pub days: u8,
    /// When divisible by 5, the fact is dated `backdate` days before the last one.
    pub backdate: u16,
    /// Minutes between this recording and the previous one.
    pub minutes: u16,
}

/// `len` steps from a seed (splitmix64), over `streams` beneficiaries, facts at most `max_days`
/// apart: reproducible histories for tests outside proptest and for benchmarks.
pub fn seeded_steps(seed: u64, len: usize, streams: u8, max_days: u8) -> Vec<Step> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            let r = (z ^ (z >> 31)).to_le_bytes();
            Step {
                stream: r[0] % streams.max(1),
                kind: r[1],
                pick: r[2],
                days: r[3] % max_days.max(1),
                backdate: u16::from_le_bytes([r[4], r[5]]),
                minutes: u16::from_le_bytes([r[6], r[7]]),
            }
        })
        .collect()
}

/// The day random histories are decided against.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2030, 1, 1).expect("valid date")
}

/// Organisations histories use.
pub const ORGANISATIONS: [Uuid; 2] = [Uuid::from_u128(0x0A), Uuid::from_u128(0x0B)];

struct Program {
    framework: Framework,
    primaries: Vec<Uuid>,
}

impl Directory for Program {
    fn is_primary_beneficiary(&self, beneficiary: Uuid) -> bool {
        self.primaries.contains(&beneficiary)
    }
    fn framework(&self, version: u32) -> Option<&Framework> {
        (version == self.framework.version).then_some(&self.framework)
    }
}

struct Stream {
    case: Case,
    version: u64,
    last_day: NaiveDate,
}

/// Plays steps over `streams` beneficiaries; returns the accepted events in global order.
pub fn play(steps: &[Step], streams: u8) -> Vec<Envelope> {
    let streams = streams.max(1);
    let mut program = Program {
        framework: default_framework(),
        primaries: Vec::new(),
    };
    let mut state: HashMap<u8, Stream> = HashMap::new();
    let mut out = Vec::new();
    let mut clock: DateTime<Utc> = "2010-01-01T00:00:00Z".parse().expect("valid time");
    let mut counter = 0u128;
    for step in steps {
        let s = step.stream % streams;
        let beneficiary = Uuid::from_u128(0xB0_0000 + u128::from(s));
        let stream = state.entry(s).or_insert_with(|| Stream {
            case: Case::default(),
            version: 0,
            last_day: NaiveDate::from_ymd_opt(2010, 1, 1).unwrap() + Duration::days(i64::from(s)),
        });
        counter += 1;
        let id = |n: u128| Uuid::from_u128((u128::from(s) << 64) | n);
        let Some(request) = request(step, s, beneficiary, stream, &program, id(counter)) else {
            continue;
        };
        let Ok(events) = decide(&stream.case, &request, today(), &program) else {
            continue;
        };
        // Recorded after it happened (the day's evening at the earliest), never before the
        // previous record: backdated entries are the ones dated well before their recording.
        clock = (clock + Duration::minutes(i64::from(step.minutes % 600) + 1))
            .max(request.occurred_on.and_hms_opt(18, 0, 0).unwrap().and_utc());
        for event in events {
            counter += 1;
            if let Event::BeneficiaryRegistered(r) = &event
                && r.role == BeneficiaryRole::Primary
            {
                program.primaries.push(r.beneficiary_id);
            }
            stream.version += 1;
            let envelope = Envelope {
                id: id(counter),
                beneficiary,
                version: stream.version,
                position: out.len() as u64 + 1,
                occurred_on: request.occurred_on,
                recorded_at: clock,
                actor: stream.case.caseworker.unwrap_or(Uuid::from_u128(0xC0)),
                event,
            };
            stream
                .case
                .apply(envelope.id, envelope.occurred_on, &envelope.event);
            stream.last_day = stream.last_day.max(request.occurred_on);
            out.push(envelope);
        }
    }
    out
}

fn nth<T: Copy>(items: impl IntoIterator<Item = T>, pick: u8) -> Option<T> {
    let items: Vec<T> = items.into_iter().collect();
    (!items.is_empty()).then(|| items[usize::from(pick) % items.len()])
}

fn request(
    step: &Step,
    s: u8,
    beneficiary: Uuid,
    stream: &Stream,
    program: &Program,
    fresh: Uuid,
) -> Option<Request> {
    let case = &stream.case;
    let pick = step.pick;
    let mut occurred_on = stream.last_day + Duration::days(i64::from(step.days % 20));
    if step.backdate.is_multiple_of(5) {
        occurred_on = stream.last_day - Duration::days(i64::from(step.backdate % 200));
    }
    let Some(registration) = &case.registration else {
        let role = match program.primaries.first() {
            Some(primary) if s % 3 == 2 => BeneficiaryRole::Secondary {
                primary: *primary,
                relationship: Relationship::Child,
            },
            _ => BeneficiaryRole::Primary,
        };
        return Some(Request {
            occurred_on: stream.last_day,
            pre_program: false,
            fact: Event::BeneficiaryRegistered(BeneficiaryRegistered {
                beneficiary_id: beneficiary,
                organisation: ORGANISATIONS[usize::from(s % 2)],
                caseworker: Uuid::from_u128(0xC0 + u128::from(s % 3)),
                case_code: format!("T-{s}"),
                gender: if s.is_multiple_of(2) {
                    Gender::Female
                } else {
                    Gender::Male
                },
                birth: Some(YearMonth {
                    year: if s % 4 == 1 { 1996 } else { 1980 },
                    month: 1 + u32::from(s % 12),
                }),
                citizenship: CountryCode::new("RS").unwrap(),
                country_of_assistance: CountryCode::new("RS").unwrap(),
                identified_on: stream.last_day,
                identification_route: IdentificationRoute::Ngo,
                forms_of_exploitation: vec![FormOfExploitation::LabourExploitation],
                role,
            }),
        });
    };
    let occurred_on = occurred_on.max(registration.identified_on);
    let scope = match pick % 4 {
        0 => ConsentScope::Assistance,
        1 => ConsentScope::EvaluationUse,
        2 => ConsentScope::FollowUpContact,
        _ => ConsentScope::DataSharing {
            organisation: ORGANISATIONS[usize::from(1 - s % 2)],
        },
    };
    let open_goal = nth(
        case.goals
            .iter()
            .filter(|(_, g)| g.state == GoalState::Open)
            .map(|(id, _)| *id),
        pick,
    );
    let service = nth(case.services.keys().copied(), pick);
    let domain = ReintegrationDomain::ALL[usize::from(pick) % 8];
    let fact = match step.kind % 21 {
        0 => Event::ConsentGiven(ConsentGiven {
            scope,
            given_by: if pick % 8 < 4 {
                ConsentGiver::Guardian
            } else {
                ConsentGiver::Beneficiary
            },
            evidence: ConsentEvidence::SignedForm,
        }),
        1 => Event::ConsentWithdrawn(ConsentWithdrawn {
            scope,
            withdrawn_by: ConsentGiver::Beneficiary,
        }),
        2 => Event::PlanGoalSet(PlanGoalSet {
            goal_id: fresh,
            domain,
            target_on: Some(occurred_on + Duration::days(180)),
        }),
        3 => Event::PlanGoalAchieved(PlanGoalAchieved {
            goal_id: open_goal?,
        }),
        4 => Event::PlanGoalAbandoned(PlanGoalAbandoned {
            goal_id: open_goal?,
        }),
        5 => Event::PlanGoalRevised(PlanGoalRevised {
            goal_id: open_goal?,
            domain,
            target_on: None,
        }),
        6 => Event::ReviewScheduled(ReviewScheduled {
            due_on: occurred_on + Duration::days(90),
        }),
        7 => Event::PlanReviewed(PlanReviewed {
            next_review_on: pick
                .is_multiple_of(2)
                .then(|| occurred_on + Duration::days(90)),
        }),
        8 => Event::ServicePlanned(ServicePlanned {
            service_id: fresh,
            service: ServiceType::Psychological,
            provider: Some(registration.organisation),
            goal_id: open_goal,
        }),
        9 => Event::ServiceDelivered(ServiceDelivered {
            service_id: if pick.is_multiple_of(2) {
                fresh
            } else {
                service.unwrap_or(fresh)
            },
            service: ServiceType::Accommodation,
            provider: None,
            from: occurred_on,
            to: pick
                .is_multiple_of(3)
                .then(|| occurred_on + Duration::days(i64::from(pick))),
            amount: None,
        }),
        10 => Event::ServiceDiscontinued(ServiceDiscontinued {
            service_id: service?,
        }),
        11 => Event::AssessmentRecorded(AssessmentRecorded {
            assessment_id: fresh,
            framework_version: 1,
            scores: ReintegrationDomain::ALL
                .iter()
                .take(1 + usize::from(pick % 8))
                .map(|&domain| DomainScore {
                    domain,
                    score: 1 + (pick % 4),
                })
                .collect(),
        }),
        12 | 13 => Event::StatusChanged(StatusChanged {
            from: Status::Identified,
            to: Status::ALL[1 + usize::from(pick) % 9],
        }),
        14 => Event::ReferredToOrganisation(ReferredToOrganisation {
            referral_id: fresh,
            to_organisation: ORGANISATIONS[usize::from(1 - s % 2)],
        }),
        15 => Event::ReferralAccepted(ReferralAccepted {
            referral_id: nth(case.referrals.keys().copied(), pick)?,
        }),
        16 => Event::CaseTransferred(CaseTransferred {
            to_caseworker: Uuid::from_u128(0xC0 + u128::from(pick % 3)),
        }),
        17 => Event::CaseClosed(CaseClosed {
            outcome: Status::Identified,
        }),
        18 => {
            if case.closed {
                Event::CaseReopened(CaseReopened {})
            } else {
                Event::FollowUpContactMade(FollowUpContactMade {
                    observed_status: None,
                })
            }
        }
        19 => correction(case, pick)?,
        _ => Event::EventVoided(EventVoided {
            voids: nth(case.facts.iter().skip(1).map(|f| f.id), pick)?,
        }),
    };
    Some(Request {
        occurred_on,
        pre_program: false,
        fact,
    })
}

/// A correction of an earlier fact of a kind whose details can be restated.
fn correction(case: &Case, pick: u8) -> Option<Event> {
    let fact = nth(
        case.facts.iter().filter(|f| {
            matches!(
                f.event,
                Event::ServiceDelivered(_)
                    | Event::AssessmentRecorded(_)
                    | Event::PlanGoalSet(_)
                    | Event::ReviewScheduled(_)
                    | Event::CaseTransferred(_)
            )
        }),
        pick,
    )?;
    let replacement = match &fact.event {
        Event::ServiceDelivered(d) => Event::ServiceDelivered(ServiceDelivered {
            service: ServiceType::Medical,
            to: Some(d.from + Duration::days(i64::from(pick % 40))),
            ..*d
        }),
        Event::AssessmentRecorded(a) => Event::AssessmentRecorded(AssessmentRecorded {
            scores: a
                .scores
                .iter()
                .map(|s| DomainScore {
                    score: 1 + (s.score % 4),
                    ..*s
                })
                .collect(),
            ..a.clone()
        }),
        Event::PlanGoalSet(g) => Event::PlanGoalSet(PlanGoalSet {
            domain: ReintegrationDomain::ALL[usize::from(pick) % 8],
            ..*g
        }),
        Event::ReviewScheduled(r) => Event::ReviewScheduled(ReviewScheduled {
            due_on: r.due_on + Duration::days(7),
        }),
        Event::CaseTransferred(_) => Event::CaseTransferred(CaseTransferred {
            to_caseworker: Uuid::from_u128(0xC0 + u128::from(pick % 3)),
        }),
        _ => return None,
    };
    Some(Event::EventCorrected(EventCorrected {
        corrects: fact.id,
        replacement: Box::new(replacement),
    }))
}
