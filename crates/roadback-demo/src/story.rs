//! One copy of the program: who the beneficiaries are, and what happens to each, as commands.
//!
//! Every command is decided while it is generated (against the beneficiary's case, with the
//! program's end as "today"), and dropped if the rules refuse it, so the loader's own decisions
//! accept the whole program.

use chrono::{Datelike, Duration, NaiveDate};
use roadback_domain::case::GoalState;
use roadback_domain::command::{Delivery, Registration, RegistrationDetails};
use roadback_domain::events::{BeneficiaryRole, ConsentEvidence, DomainScore, Money, ServiceType};
use roadback_domain::personal::PersonalField;
use roadback_domain::vocabulary::*;
use roadback_domain::{Case, Command as Cmd, Request, Status, decide};
use uuid::Uuid;

use crate::random::Random;
use crate::{Command, History, Kind, Organisation, Program, derived, end, figures, id};

/// How a primary beneficiary's story ends (by the program's end).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    Reintegrated,
    StillInProgress,
    DroppedOut,
    LostContact,
    MovedAbroad,
    ReTrafficked,
}

/// Builds one history, deciding each command as it goes.
struct Builder<'a> {
    case: Case,
    history: History,
    directory: &'a Program,
    /// Events recorded so far (numbering their ids).
    events: usize,
    /// Services, goals, assessments and referrals so far (numbering their ids).
    serial: usize,
}

impl Builder<'_> {
    /// Decides and keeps a command; returns the recorded event's id when accepted.
    fn record(&mut self, actor: Uuid, on: NaiveDate, command: Cmd) -> Option<Uuid> {
        self.request(actor, Request::new(on, command))
    }

    /// Decides and keeps a request (a correction, say); the recorded event's id when accepted.
    fn request(&mut self, actor: Uuid, request: Request) -> Option<Uuid> {
        let on = request.occurred_on;
        if on > end() {
            return None;
        }
        let events = decide(&self.case, &request, end(), self.directory).ok()?;
        let first = event_id(self.history.beneficiary, self.events);
        for event in &events {
            let id = event_id(self.history.beneficiary, self.events);
            self.case.apply(id, on, event);
            self.events += 1;
        }
        self.history.commands.push(Command { actor, request });
        Some(first)
    }

    fn fresh(&mut self, kind: Kind) -> Uuid {
        self.serial += 1;
        derived(self.history.beneficiary, kind, self.serial)
    }
}

/// The id the loader gives a beneficiary's `n`-th event (counted from 0).
pub fn event_id(beneficiary: Uuid, n: usize) -> Uuid {
    derived(beneficiary, Kind::Event, n)
}

fn day_in(year: i32, r: &mut Random) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 1, 1).unwrap() + Duration::days(r.below(365) as i64)
}

fn days(r: &mut Random, lo: i64, hi: i64) -> Duration {
    Duration::days(r.between(lo, hi))
}

pub(crate) fn copy(seed: u64, copy: u32, orgs: &[Organisation]) -> Vec<History> {
    let mut r = Random::new(seed ^ u64::from(copy).wrapping_mul(0xA24B_AED4_963E_E407));
    let n = figures::PRIMARY;
    let male = r.sample(n, figures::MALE);
    let child = r.sample(n, figures::CHILDREN);
    let reintegrated = r.sample(n, (figures::REINTEGRATED_SHARE * n as f64).round() as usize);
    let mut program = Program::new(orgs);
    let weights: Vec<(usize, u32)> = (0..orgs.len())
        .map(|i| (i, 60 + r.below(120) as u32))
        .collect();
    let mut histories = Vec::with_capacity(n + figures::SECONDARY);
    let mut primaries: Vec<(Uuid, usize, NaiveDate, Uuid)> = Vec::with_capacity(n);

    for i in 0..n {
        let beneficiary = id(seed, copy, Kind::Primary, i);
        program.add_primary(beneficiary);
        let org = r.weighted(&weights);
        let organisation = &orgs[org];
        let year = r.weighted(&[
            (2007, 8),
            (2008, 11),
            (2009, 13),
            (2010, 14),
            (2011, 14),
            (2012, 14),
            (2013, 13),
            (2014, 13),
        ]);
        let ending = if reintegrated[i] {
            Ending::Reintegrated
        } else {
            r.weighted(&[
                (Ending::StillInProgress, 40),
                (Ending::DroppedOut, 22),
                (Ending::LostContact, 20),
                (Ending::MovedAbroad, 10),
                (Ending::ReTrafficked, 8),
            ])
        };
        let history = primary(
            &mut r,
            copy,
            beneficiary,
            (org, organisation, orgs),
            (year, male[i], child[i], ending),
            &program,
        );
        let registered = history.commands[0].request.occurred_on;
        primaries.push((beneficiary, org, registered, organisation.caseworkers[0]));
        histories.push(history);
    }

    let directory = &program;
    for i in 0..figures::SECONDARY {
        let (primary, org, registered, caseworker) = primaries[r.below(n as u64) as usize];
        let beneficiary = id(seed, copy, Kind::Secondary, i);
        let mut b = Builder {
            case: Case::default(),
            history: History {
                beneficiary,
                organisation: org,
                primary: Some(primary),
                commands: Vec::new(),
            },
            directory,
            events: 0,
            serial: 0,
        };
        let identified = (registered + days(&mut r, 0, 90)).min(end());
        let relationship = r.weighted(&[
            (Relationship::Child, 50),
            (Relationship::Parent, 20),
            (Relationship::Sibling, 20),
            (Relationship::Partner, 5),
            (Relationship::OtherFamily, 5),
        ]);
        let age = if relationship == Relationship::Child {
            r.between(0, 12)
        } else {
            r.between(20, 60)
        };
        let birth = Birth::in_month(identified.year() - age as i32 - 1, 1 + r.below(12) as u32);
        let country = CountryCode::new(orgs[org].country).unwrap();
        let registration = Registration {
            beneficiary_id: beneficiary,
            organisation: orgs[org].id,
            caseworker,
            role: BeneficiaryRole::Secondary {
                primary,
                relationship,
            },
            details: RegistrationDetails {
                case_code: format!("{}-F{}-{:04}", orgs[org].slug.to_uppercase(), copy, i),
                gender: if r.chance(0.5) {
                    Gender::Female
                } else {
                    Gender::Male
                },
                birth: Some(birth),
                citizenship: country,
                country_of_assistance: country,
                identified_on: identified,
                identification_route: IdentificationRoute::FamilyOrFriends,
                forms_of_exploitation: Vec::new(),
            },
        };
        b.record(
            caseworker,
            identified,
            Cmd::RegisterBeneficiary(registration),
        );
        let minor = birth.age_on(identified) < 18;
        b.record(
            caseworker,
            identified,
            Cmd::GiveConsent {
                scope: ConsentScope::Assistance,
                given_by: if minor {
                    ConsentGiver::Guardian
                } else {
                    ConsentGiver::Beneficiary
                },
                evidence: ConsentEvidence::SignedForm,
            },
        );
        let mut on = identified;
        for _ in 0..r.between(1, 4) {
            on += days(&mut r, 10, 120);
            let service = r.weighted(&[
                (ServiceType::FamilyMediation, 3),
                (ServiceType::Education, 3),
                (ServiceType::FinancialSupport, 2),
                (ServiceType::ChildCare, 2),
                (ServiceType::Medical, 1),
            ]);
            let service_id = b.fresh(Kind::Service);
            let to = (on + days(&mut r, 0, 60)).min(end());
            b.record(
                caseworker,
                on,
                delivery(service_id, service, Some(orgs[org].id), on, Some(to)),
            );
        }
        histories.push(b.history);
    }
    histories
}

#[allow(clippy::too_many_lines)]
fn primary(
    r: &mut Random,
    copy: u32,
    beneficiary: Uuid,
    (org, organisation, orgs): (usize, &Organisation, &[Organisation]),
    (year, male, child, ending): (i32, bool, bool, Ending),
    directory: &Program,
) -> History {
    let mut b = Builder {
        case: Case::default(),
        history: History {
            beneficiary,
            organisation: org,
            primary: None,
            commands: Vec::new(),
        },
        directory,
        events: 0,
        serial: 0,
    };
    let cw = organisation.caseworkers[r.below(2) as usize];
    let identified = day_in(year, r);
    let registered = identified + days(r, 0, 30);
    let age = if child {
        r.between(10, 17)
    } else {
        r.between(18, 45)
    };
    // Born `age` years before identification, in a month that keeps the age exact.
    let mut birth = Birth::in_month(identified.year() - age as i32, 1 + r.below(12) as u32);
    while birth.age_on(identified) < age as i32 {
        birth.year -= 1;
    }
    while birth.age_on(identified) > age as i32 {
        birth.year += 1;
    }
    let forms = match r.weighted(&[(0, 52), (1, 20), (2, 10), (3, 6), (4, 12)]) {
        0 => vec![FormOfExploitation::SexualExploitation],
        1 => vec![FormOfExploitation::LabourExploitation],
        2 => vec![FormOfExploitation::Begging],
        3 => vec![FormOfExploitation::ForcedCriminality],
        _ => vec![
            FormOfExploitation::SexualExploitation,
            FormOfExploitation::LabourExploitation,
        ],
    };
    let country = CountryCode::new(organisation.country).unwrap();
    let code = format!(
        "{}-{}-{:04}",
        organisation.slug.to_uppercase(),
        year,
        b.history.beneficiary.as_u128() % 10_000
    );
    b.record(
        cw,
        registered,
        Cmd::RegisterBeneficiary(Registration {
            beneficiary_id: beneficiary,
            organisation: organisation.id,
            caseworker: cw,
            role: BeneficiaryRole::Primary,
            details: RegistrationDetails {
                case_code: format!("{code}-{copy}"),
                gender: if male { Gender::Male } else { Gender::Female },
                birth: Some(birth),
                citizenship: if r.chance(0.93) {
                    country
                } else {
                    CountryCode::new(orgs[r.below(orgs.len() as u64) as usize].country).unwrap()
                },
                country_of_assistance: country,
                identified_on: identified,
                identification_route: r.weighted(&[
                    (IdentificationRoute::LawEnforcement, 35),
                    (IdentificationRoute::Government, 20),
                    (IdentificationRoute::Ngo, 15),
                    (IdentificationRoute::InternationalOrganisation, 15),
                    (IdentificationRoute::Outreach, 8),
                    (IdentificationRoute::SelfReferral, 7),
                ]),
                forms_of_exploitation: forms,
            },
        }),
    );
    let giver = if child {
        ConsentGiver::Guardian
    } else {
        ConsentGiver::Beneficiary
    };
    let consent = |scope| Cmd::GiveConsent {
        scope,
        given_by: giver,
        evidence: ConsentEvidence::SignedForm,
    };
    b.record(cw, registered, consent(ConsentScope::Assistance));
    let evaluation = r.chance(0.88);
    if evaluation {
        b.record(cw, registered, consent(ConsentScope::EvaluationUse));
    }
    b.record(
        cw,
        registered,
        Cmd::RecordPersonalData {
            fields: vec![
                PersonalField::GivenName,
                PersonalField::FamilyName,
                PersonalField::Phone,
            ],
        },
    );
    let status = |to| Cmd::ChangeStatus { to };

    // Crisis care: shelter, medical and psychological help, first goals and assessment.
    let mut on = registered + days(r, 0, 5);
    b.record(cw, on, status(Status::InCrisisCare));
    let crisis_end = on + days(r, 30, 150);
    let mut goals = Vec::new();
    let domains = [
        ReintegrationDomain::Safety,
        ReintegrationDomain::Housing,
        ReintegrationDomain::MentalWellbeing,
        ReintegrationDomain::EconomicSituation,
        ReintegrationDomain::EducationAndSkills,
        ReintegrationDomain::LegalStatus,
    ];
    for k in 0..r.between(2, 4) as usize {
        let goal_id = b.fresh(Kind::Goal);
        let domain = domains[(k + r.below(2) as usize) % domains.len()];
        if b.record(
            cw,
            on + days(r, 3, 20),
            Cmd::SetPlanGoal {
                goal_id,
                domain,
                target_on: Some(on + days(r, 180, 540)),
            },
        )
        .is_some()
        {
            goals.push(goal_id);
        }
    }
    b.record(
        cw,
        on + days(r, 20, 30),
        Cmd::ScheduleReview {
            due_on: on + days(r, 80, 100),
        },
    );
    let mut delivered = Vec::new();
    for service in [
        ServiceType::Accommodation,
        ServiceType::Medical,
        ServiceType::Psychological,
    ] {
        let service_id = b.fresh(Kind::Service);
        let from = on + days(r, 0, 10);
        if let Some(event) = b.record(
            cw,
            from,
            delivery(
                service_id,
                service,
                Some(organisation.id),
                from,
                Some(crisis_end.min(end())),
            ),
        ) {
            delivered.push((event, service_id, service, from));
        }
    }
    let mut score = 1u8;
    let assess = |b: &mut Builder<'_>, r: &mut Random, on: NaiveDate, score: u8| {
        let assessment_id = b.fresh(Kind::Assessment);
        b.record(
            cw,
            on,
            Cmd::RecordAssessment {
                assessment_id,
                framework_version: 1,
                scores: ReintegrationDomain::ALL
                    .iter()
                    .map(|&domain| DomainScore {
                        domain,
                        score: (score + r.below(2) as u8).clamp(1, 4),
                    })
                    .collect(),
            },
        );
    };
    let first_assessment = on + days(r, 20, 40);
    assess(&mut b, r, first_assessment, score);

    // Transition, then reintegrating: documents, schooling or training, work, support.
    on = crisis_end;
    b.record(cw, on, status(Status::InTransition));
    for service in [
        ServiceType::Legal,
        ServiceType::AdministrativeDocuments,
        if child {
            ServiceType::Education
        } else {
            ServiceType::VocationalTraining
        },
    ] {
        let service_id = b.fresh(Kind::Service);
        let from = on + days(r, 5, 60);
        let provider = if r.chance(0.7) {
            Some(organisation.id)
        } else {
            None
        };
        let to = (from + days(r, 0, 120)).min(end());
        b.record(
            cw,
            from,
            delivery(service_id, service, provider, from, Some(to)),
        );
    }
    on += days(r, 60, 240);
    b.record(cw, on, status(Status::Reintegrating));
    // Later cohorts moved faster: the program learned.
    let cohort_speed = 1.0 - f64::from(year - 2007) * 0.06;
    let months = (r.between(6, 40) as f64 * cohort_speed).max(4.0) as i64;
    let outcome_on =
        (on + Duration::days(months * 30)).min(end() - Duration::days(r.between(1, 60)));
    let mut review = on;
    while review + Duration::days(100) < outcome_on {
        review += days(r, 80, 120);
        score = (score + u8::from(r.chance(0.6))).min(4);
        assess(&mut b, r, review, score);
        b.record(
            cw,
            review,
            Cmd::RecordPlanReview {
                next_review_on: Some(review + Duration::days(100)),
            },
        );
        let service = r.weighted(&[
            (ServiceType::JobPlacement, 3),
            (ServiceType::FinancialSupport, 3),
            (ServiceType::CaseManagement, 3),
            (ServiceType::BusinessStartUpGrant, 1),
            (ServiceType::SocialEnterpriseWork, 1),
            (ServiceType::Education, if child { 3 } else { 0 }),
        ]);
        let service_id = b.fresh(Kind::Service);
        let to = (review + days(r, 0, 60)).min(end());
        b.record(
            cw,
            review,
            delivery(service_id, service, Some(organisation.id), review, Some(to)),
        );
    }

    // Now and then: a referral, a transfer, a late entry, a correction, a void, a withdrawn
    // consent.
    if r.chance(0.05) {
        let other = &orgs[(org + 1 + r.below(orgs.len() as u64 - 1) as usize) % orgs.len()];
        b.record(
            cw,
            review,
            consent(ConsentScope::DataSharing {
                organisation: other.id,
            }),
        );
        let referral_id = b.fresh(Kind::Referral);
        b.record(
            cw,
            review,
            Cmd::ReferToOrganisation {
                referral_id,
                to_organisation: other.id,
            },
        );
        b.record(
            other.caseworkers[0],
            review + days(r, 1, 20),
            Cmd::AcceptReferral { referral_id },
        );
    }
    if r.chance(0.1) {
        let to = organisation
            .caseworkers
            .iter()
            .copied()
            .find(|c| *c != cw)
            .unwrap_or(cw);
        b.record(cw, review, Cmd::TransferCase { to_caseworker: to });
    }
    if r.chance(0.05)
        && let Some((event, service_id, service, from)) = delivered.first().copied()
    {
        // Recorded at the review, restating the delivery as it should have been: same day,
        // another end.
        let to = (from + days(r, 10, 40)).min(end());
        b.request(
            cw,
            Request::correcting(
                event,
                from,
                delivery(service_id, service, Some(organisation.id), from, Some(to)),
            ),
        );
    }
    // A delivery entered twice by mistake, and the copy voided.
    if r.chance(0.03)
        && let Some((_, service_id, service, from)) = delivered.last().copied()
        && let Some(copy) = b.record(
            cw,
            from,
            Cmd::RecordServiceDelivery(Delivery {
                service_id: Some(service_id),
                ..delivered_once(service_id, service, Some(organisation.id), from, None)
            }),
        )
    {
        b.record(cw, review, Cmd::VoidEvent { event_id: copy });
    }
    if evaluation && r.chance(0.03) {
        b.record(
            cw,
            review,
            Cmd::WithdrawConsent {
                scope: ConsentScope::EvaluationUse,
                withdrawn_by: giver,
            },
        );
    }

    // How it ends.
    let finish = |b: &mut Builder<'_>, r: &mut Random, on: NaiveDate| {
        b.record(cw, on + days(r, 0, 30), Cmd::CloseCase);
    };
    match ending {
        Ending::Reintegrated => {
            b.record(cw, outcome_on, status(Status::Reintegrated));
            let open: Vec<Uuid> = goals
                .iter()
                .copied()
                .filter(|g| {
                    b.case
                        .goals
                        .get(g)
                        .is_some_and(|x| x.state == GoalState::Open)
                })
                .collect();
            for goal_id in open {
                b.record(cw, outcome_on, Cmd::AchievePlanGoal { goal_id });
            }
            if r.chance(0.8) {
                b.record(cw, outcome_on, consent(ConsentScope::FollowUpContact));
                finish(&mut b, r, outcome_on);
                let follow_up = outcome_on + days(r, 120, 240);
                b.record(
                    cw,
                    follow_up,
                    Cmd::RecordFollowUpContact {
                        observed_status: Some(Status::Reintegrated),
                    },
                );
            }
        }
        Ending::StillInProgress => {}
        other => {
            let to = match other {
                Ending::DroppedOut => Status::DroppedOut,
                Ending::LostContact => Status::LostContact,
                Ending::MovedAbroad => Status::MovedAbroad,
                _ => Status::ReTrafficked,
            };
            b.record(cw, outcome_on, status(to));
            if to != Status::ReTrafficked {
                finish(&mut b, r, outcome_on);
            }
        }
    }
    // A late entry: a service recorded now, dated months back.
    if r.chance(0.1) {
        let service_id = b.fresh(Kind::Service);
        let from = crisis_end + days(r, 0, 30);
        let amount = Money {
            minor_units: 5_000 * r.between(1, 10),
            currency: Currency::new("EUR").expect("a currency code"),
        };
        b.record(
            cw,
            from,
            Cmd::RecordServiceDelivery(Delivery {
                amount: Some(amount),
                ..delivered_once(
                    service_id,
                    ServiceType::FinancialSupport,
                    Some(organisation.id),
                    from,
                    None,
                )
            }),
        );
    }
    b.history
}

/// An unplanned delivery whose service gets `service_id`.
fn delivered_once(
    service_id: Uuid,
    service: ServiceType,
    provider: Option<Uuid>,
    from: NaiveDate,
    to: Option<NaiveDate>,
) -> Delivery {
    Delivery {
        service_id: None,
        new_service_id: service_id,
        service,
        provider,
        from,
        to,
        amount: None,
        pre_program: false,
    }
}

/// The command recording an unplanned delivery.
fn delivery(
    service_id: Uuid,
    service: ServiceType,
    provider: Option<Uuid>,
    from: NaiveDate,
    to: Option<NaiveDate>,
) -> Cmd {
    Cmd::RecordServiceDelivery(delivered_once(service_id, service, provider, from, to))
}

#[cfg(test)]
mod tests;
