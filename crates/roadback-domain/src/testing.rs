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
use crate::command::{Command, Delivery, Registration, RegistrationDetails, Request};
use crate::decide::{Directory, decide};
use crate::events::*;
use crate::indicators::{Framework, default_framework};
use crate::personal::{ErasureReason, PersonalField};
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

/// Up to `max` random steps, for property tests in this crate.
#[cfg(test)]
pub fn steps(max: usize) -> impl proptest::strategy::Strategy<Value = Vec<Step>> {
    use proptest::prelude::*;
    proptest::collection::vec(
        (
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            any::<u16>(),
            any::<u16>(),
        )
            .prop_map(|(stream, kind, pick, days, backdate, minutes)| Step {
                stream,
                kind,
                pick,
                days,
                backdate,
                minutes,
            }),
        1..max,
    )
}

/// The day random histories are decided against.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2030, 1, 1).expect("valid date")
}

/// Organisations histories use.
pub const ORGANISATIONS: [Uuid; 2] = [Uuid::from_u128(0x0A), Uuid::from_u128(0x0B)];

/// The caseworkers of an organisation (by its index in [`ORGANISATIONS`]).
pub fn caseworkers(organisation: usize) -> [Uuid; 3] {
    let base = 0xC0 + 0x10 * organisation as u128;
    [
        Uuid::from_u128(base),
        Uuid::from_u128(base + 1),
        Uuid::from_u128(base + 2),
    ]
}

/// The program random histories are decided in: two organisations with three caseworkers each,
/// the default indicator framework, and the primaries registered so far.
pub struct Program {
    framework: Framework,
    primaries: Vec<Uuid>,
}

impl Default for Program {
    fn default() -> Self {
        Self {
            framework: default_framework(),
            primaries: Vec::new(),
        }
    }
}

impl Directory for Program {
    fn is_primary_beneficiary(&self, beneficiary: Uuid) -> bool {
        self.primaries.contains(&beneficiary)
    }
    fn framework(&self, version: u32) -> Option<&Framework> {
        (version == self.framework.version).then_some(&self.framework)
    }
    fn is_organisation(&self, organisation: Uuid) -> bool {
        ORGANISATIONS.contains(&organisation)
    }
    fn is_caseworker_of(&self, user: Uuid, organisation: Uuid) -> bool {
        ORGANISATIONS
            .iter()
            .position(|o| *o == organisation)
            .is_some_and(|i| caseworkers(i).contains(&user))
    }
}

/// Makes the requests of random steps against whatever case the caller keeps (in memory here,
/// read back from a store in the store's tests), and keeps the program's directory up to date.
pub struct Player {
    program: Program,
    streams: u8,
    counter: u128,
}

impl Player {
    /// A player over `streams` beneficiaries.
    pub fn new(streams: u8) -> Self {
        Self {
            program: Program::default(),
            streams: streams.max(1),
            counter: 0,
        }
    }

    /// The directory decisions are taken against.
    pub fn directory(&self) -> &Program {
        &self.program
    }

    /// The beneficiary a step is about.
    pub fn beneficiary(&self, step: &Step) -> Uuid {
        Uuid::from_u128(0xB0_0000 + u128::from(step.stream % self.streams))
    }

    /// A fresh id for an event or a new goal, service...
    pub fn fresh(&mut self, step: &Step) -> Uuid {
        self.counter += 1;
        Uuid::from_u128((u128::from(step.stream % self.streams) << 64) | self.counter)
    }

    /// What a step asks of the beneficiary's `case`: nothing, one request, or a registration
    /// with consent to assistance (a guardian's for a child), so that random histories get past
    /// "identified".
    pub fn requests(&mut self, step: &Step, case: &Case) -> Vec<Request> {
        let s = step.stream % self.streams;
        let last_day = case.last_activity_on.unwrap_or(
            NaiveDate::from_ymd_opt(2010, 1, 1).expect("valid date") + Duration::days(i64::from(s)),
        );
        let fresh = self.fresh(step);
        let Some(first) = request(
            step,
            s,
            self.beneficiary(step),
            case,
            last_day,
            &self.program,
            fresh,
        ) else {
            return Vec::new();
        };
        let mut requests = vec![first];
        if let Command::RegisterBeneficiary(r) = &requests[0].command {
            let on = requests[0].occurred_on;
            let minor = r.details.birth.is_some_and(|b| b.age_on(on) < 18);
            requests.push(Request::new(
                on,
                Command::GiveConsent {
                    scope: ConsentScope::Assistance,
                    given_by: if minor {
                        ConsentGiver::Guardian
                    } else {
                        ConsentGiver::Beneficiary
                    },
                    evidence: ConsentEvidence::SignedForm,
                },
            ));
        }
        requests
    }

    /// Notes an accepted event (a primary beneficiary's registration, for family members).
    pub fn accepted(&mut self, event: &Event) {
        if let Event::BeneficiaryRegistered(r) = event
            && r.role == BeneficiaryRole::Primary
        {
            self.program.primaries.push(r.beneficiary_id);
        }
    }
}

/// Plays steps over `streams` beneficiaries; returns the accepted events in global order.
pub fn play(steps: &[Step], streams: u8) -> Vec<Envelope> {
    play_as(steps, streams, |_, _, _| true)
}

/// Like [`play`], with `may` deciding whether the step's actor may make the request (for
/// role tests: it sees the step, the case and the request); refused steps are skipped.
pub fn play_as(
    steps: &[Step],
    streams: u8,
    mut may: impl FnMut(&Step, &Case, &Request) -> bool,
) -> Vec<Envelope> {
    let mut player = Player::new(streams);
    let mut cases: HashMap<Uuid, (Case, u64)> = HashMap::new();
    let mut out = Vec::new();
    let mut clock: DateTime<Utc> = "2010-01-01T00:00:00Z".parse().expect("valid time");
    for step in steps {
        let beneficiary = player.beneficiary(step);
        let (case, version) = cases.entry(beneficiary).or_default();
        for request in player.requests(step, case) {
            if !may(step, case, &request) {
                break;
            }
            let Ok(events) = decide(case, &request, today(), player.directory()) else {
                break;
            };
            // Recorded after it happened (the day's evening at the earliest), never before the
            // previous record: backdated entries are the ones dated well before their recording.
            clock = (clock + Duration::minutes(i64::from(step.minutes % 600) + 1))
                .max(request.occurred_on.and_hms_opt(18, 0, 0).unwrap().and_utc());
            for event in events {
                player.accepted(&event);
                *version += 1;
                let envelope = Envelope {
                    id: player.fresh(step),
                    beneficiary,
                    version: *version,
                    position: out.len() as u64 + 1,
                    occurred_on: request.occurred_on,
                    recorded_at: clock,
                    actor: case.caseworker.unwrap_or(Uuid::from_u128(0xC0)),
                    event,
                };
                case.apply(envelope.id, envelope.occurred_on, &envelope.event);
                out.push(envelope);
            }
        }
    }
    out
}

fn nth<T: Copy>(items: impl IntoIterator<Item = T>, pick: u8) -> Option<T> {
    let items: Vec<T> = items.into_iter().collect();
    (!items.is_empty()).then(|| items[usize::from(pick) % items.len()])
}

/// The request a step makes of a stream: a registration first, then anything (new, backdated,
/// a correction or a void of an earlier fact).
fn request(
    step: &Step,
    s: u8,
    beneficiary: Uuid,
    case: &Case,
    last_day: NaiveDate,
    program: &Program,
    fresh: Uuid,
) -> Option<Request> {
    let pick = step.pick;
    let mut occurred_on = last_day + Duration::days(i64::from(step.days % 20));
    if step.backdate.is_multiple_of(5) {
        occurred_on = last_day - Duration::days(i64::from(step.backdate % 200));
    }
    let org = usize::from(s % 2);
    let other_org = ORGANISATIONS[1 - org];
    let Some(registration) = &case.registration else {
        let role = match program.primaries.first() {
            Some(primary) if s % 3 == 2 => BeneficiaryRole::Secondary {
                primary: *primary,
                relationship: Relationship::Child,
            },
            _ => BeneficiaryRole::Primary,
        };
        return Some(Request::new(
            last_day,
            Command::RegisterBeneficiary(Registration {
                beneficiary_id: beneficiary,
                organisation: ORGANISATIONS[org],
                caseworker: caseworkers(org)[usize::from(s % 3)],
                role,
                details: details(s, last_day, role),
            }),
        ));
    };
    let occurred_on = occurred_on.max(registration.identified_on);
    let scope = match pick % 4 {
        0 => ConsentScope::Assistance,
        1 => ConsentScope::EvaluationUse,
        2 => ConsentScope::FollowUpContact,
        _ => ConsentScope::DataSharing {
            organisation: other_org,
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
    let command = match step.kind % 24 {
        0 => Command::GiveConsent {
            scope,
            given_by: if pick % 8 < 4 {
                ConsentGiver::Guardian
            } else {
                ConsentGiver::Beneficiary
            },
            evidence: ConsentEvidence::SignedForm,
        },
        1 => Command::WithdrawConsent {
            scope,
            withdrawn_by: ConsentGiver::Beneficiary,
        },
        2 => Command::SetPlanGoal {
            goal_id: fresh,
            domain,
            target_on: Some(occurred_on + Duration::days(180)),
        },
        3 => Command::AchievePlanGoal {
            goal_id: open_goal?,
        },
        4 => Command::AbandonPlanGoal {
            goal_id: open_goal?,
        },
        5 => Command::RevisePlanGoal {
            goal_id: open_goal?,
            domain,
            target_on: None,
        },
        6 => Command::ScheduleReview {
            due_on: occurred_on + Duration::days(90),
        },
        7 => Command::RecordPlanReview {
            next_review_on: pick
                .is_multiple_of(2)
                .then(|| occurred_on + Duration::days(90)),
        },
        8 => Command::PlanService {
            service_id: fresh,
            service: ServiceType::Psychological,
            provider: Some(registration.organisation),
            goal_id: open_goal,
        },
        9 => {
            // Now and then a service from before the program, dated before identification.
            let pre_program = pick % 16 == 1;
            let from = if pre_program {
                registration.identified_on - Duration::days(30 + i64::from(pick))
            } else {
                occurred_on
            };
            return Some(Request::new(
                from,
                Command::RecordServiceDelivery(Delivery {
                    service_id: if pick.is_multiple_of(2) {
                        None
                    } else {
                        service
                    },
                    new_service_id: fresh,
                    service: case
                        .services
                        .get(&service.unwrap_or(fresh))
                        .filter(|_| !pick.is_multiple_of(2))
                        .map_or(ServiceType::Accommodation, |s| s.service),
                    provider: None,
                    from,
                    to: pick
                        .is_multiple_of(3)
                        .then(|| from + Duration::days(i64::from(pick))),
                    amount: None,
                    pre_program,
                }),
            ));
        }
        10 => Command::DiscontinueService {
            service_id: service?,
        },
        11 => Command::RecordAssessment {
            assessment_id: fresh,
            framework_version: 1,
            scores: scores(pick),
        },
        12 | 13 => Command::ChangeStatus {
            to: Status::ALL[1 + usize::from(pick) % 9],
        },
        14 => Command::ReferToOrganisation {
            referral_id: fresh,
            to_organisation: other_org,
        },
        15 => Command::AcceptReferral {
            referral_id: nth(case.referrals.keys().copied(), pick)?,
        },
        16 => Command::TransferCase {
            to_caseworker: caseworkers(org)[usize::from(pick % 3)],
        },
        17 => Command::CloseCase,
        18 => {
            if case.closed {
                Command::ReopenCase
            } else {
                Command::RecordFollowUpContact {
                    observed_status: None,
                }
            }
        }
        19 | 20 => return correction(case, pick, step.days),
        21 => Command::VoidEvent {
            event_id: nth(case.facts.iter().map(|f| f.id), pick)?,
        },
        22 => Command::CorrectRegistration {
            details: RegistrationDetails {
                identified_on: registration.identified_on + Duration::days(i64::from(pick % 7) - 3),
                ..details(s, registration.identified_on, registration.role)
            },
            relationship: None,
        },
        _ => {
            if pick.is_multiple_of(16) {
                Command::ErasePersonalData {
                    reason: ErasureReason::PersonRequested,
                }
            } else {
                Command::RecordPersonalData {
                    fields: vec![PersonalField::GivenName],
                }
            }
        }
    };
    Some(Request::new(
        if matches!(command, Command::CorrectRegistration { .. }) {
            case.facts[0].occurred_on
        } else {
            occurred_on
        },
        command,
    ))
}

fn details(s: u8, identified_on: NaiveDate, role: BeneficiaryRole) -> RegistrationDetails {
    RegistrationDetails {
        case_code: format!("T-{s}"),
        gender: if s.is_multiple_of(2) {
            Gender::Female
        } else {
            Gender::Male
        },
        birth: Some(Birth {
            year: if s % 4 == 1 { 1996 } else { 1980 },
            month: (s % 5 != 3).then_some(1 + u32::from(s % 12)),
        }),
        citizenship: CountryCode::new("RS").unwrap(),
        country_of_assistance: CountryCode::new("RS").unwrap(),
        identified_on,
        identification_route: IdentificationRoute::Ngo,
        forms_of_exploitation: match role {
            BeneficiaryRole::Primary => vec![FormOfExploitation::LabourExploitation],
            BeneficiaryRole::Secondary { .. } => Vec::new(),
        },
    }
}

fn scores(pick: u8) -> Vec<DomainScore> {
    ReintegrationDomain::ALL
        .iter()
        .take(1 + usize::from(pick % 8))
        .map(|&domain| DomainScore {
            domain,
            score: 1 + (pick % 4),
        })
        .collect()
}

/// A correction of an earlier fact: the command that records it, restated with other values and
/// sometimes another day.
fn correction(case: &Case, pick: u8, days: u8) -> Option<Request> {
    let fact = nth(case.facts.iter().skip(1), pick)?;
    let on = if days.is_multiple_of(3) {
        fact.occurred_on + Duration::days(i64::from(days % 11) - 5)
    } else {
        fact.occurred_on
    };
    let command = match &fact.event {
        Event::ConsentGiven(c) => Command::GiveConsent {
            scope: c.scope,
            given_by: c.given_by,
            evidence: ConsentEvidence::WitnessedVerbal,
        },
        Event::ConsentWithdrawn(c) => Command::WithdrawConsent {
            scope: c.scope,
            withdrawn_by: c.withdrawn_by,
        },
        Event::PlanGoalSet(g) => Command::SetPlanGoal {
            goal_id: g.goal_id,
            domain: ReintegrationDomain::ALL[usize::from(pick) % 8],
            target_on: g.target_on,
        },
        Event::ReviewScheduled(r) => Command::ScheduleReview {
            due_on: r.due_on + Duration::days(7),
        },
        Event::ServicePlanned(p) => Command::PlanService {
            service_id: p.service_id,
            service: ServiceType::Medical,
            provider: p.provider,
            goal_id: p.goal_id,
        },
        Event::ServiceDelivered(d) => Command::RecordServiceDelivery(Delivery {
            service_id: None,
            new_service_id: d.service_id,
            service: d.service,
            provider: d.provider,
            from: on,
            to: Some(on + Duration::days(i64::from(pick % 40))),
            amount: d.amount,
            pre_program: d.pre_program,
        }),
        Event::AssessmentRecorded(a) => Command::RecordAssessment {
            assessment_id: a.assessment_id,
            framework_version: a.framework_version,
            scores: scores(pick),
        },
        Event::StatusChanged(_) => Command::ChangeStatus {
            to: Status::ALL[1 + usize::from(pick) % 9],
        },
        Event::CaseTransferred(_) => Command::TransferCase {
            to_caseworker: Uuid::from_u128(0xC0 + u128::from(pick % 3)),
        },
        Event::CaseClosed(_) => Command::CloseCase,
        Event::FollowUpContactMade(_) => Command::RecordFollowUpContact {
            observed_status: Some(Status::Reintegrated),
        },
        _ => return None,
    };
    Some(Request::correcting(fact.id, on, command))
}
