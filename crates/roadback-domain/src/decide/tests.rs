//! Each rule in given / when / then form: the events so far, the request, the outcome.

use chrono::NaiveDate;
use uuid::Uuid;

use super::*;
use crate::events::*;
use crate::status::Status;
use crate::vocabulary::*;

const PRIMARY: Uuid = Uuid::from_u128(0xAA);
const ORG: Uuid = Uuid::from_u128(0x0A);
const OTHER_ORG: Uuid = Uuid::from_u128(0x0B);

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

const TODAY: fn() -> NaiveDate = || day(2014, 6, 30);

struct Known(crate::indicators::Framework);
impl Directory for Known {
    fn is_primary_beneficiary(&self, beneficiary: Uuid) -> bool {
        beneficiary == PRIMARY
    }
    fn framework(&self, version: u32) -> Option<&crate::indicators::Framework> {
        (version == self.0.version).then_some(&self.0)
    }
}

fn known() -> Known {
    Known(crate::indicators::default_framework())
}

fn registration(birth: Option<YearMonth>, role: BeneficiaryRole) -> Event {
    Event::BeneficiaryRegistered(BeneficiaryRegistered {
        beneficiary_id: Uuid::from_u128(1),
        organisation: ORG,
        caseworker: Uuid::from_u128(0xC1),
        case_code: "RS-2010-7".into(),
        gender: Gender::Female,
        birth,
        citizenship: CountryCode::new("RS").unwrap(),
        country_of_assistance: CountryCode::new("RS").unwrap(),
        identified_on: day(2010, 3, 1),
        identification_route: IdentificationRoute::Ngo,
        forms_of_exploitation: vec![FormOfExploitation::LabourExploitation],
        role,
    })
}

fn adult() -> Event {
    registration(
        Some(YearMonth {
            year: 1985,
            month: 2,
        }),
        BeneficiaryRole::Primary,
    )
}

/// The case after these events, with ids 1, 2, 3... all on the identification day.
fn given(events: &[Event]) -> Case {
    Case::from_events(
        events
            .iter()
            .enumerate()
            .map(|(i, e)| (Uuid::from_u128(i as u128 + 1), day(2010, 3, 1), e)),
    )
}

fn when(case: &Case, fact: Event, on: NaiveDate) -> Result<Vec<Event>, Rejection> {
    decide(
        case,
        &Request {
            occurred_on: on,
            pre_program: false,
            fact,
        },
        TODAY(),
        &known(),
    )
}

#[track_caller]
fn rejected(result: Result<Vec<Event>, Rejection>, code: RejectionCode, words: &str) {
    let rejection = result.expect_err("the request should have been rejected");
    assert_eq!(rejection.code, code, "{rejection:?}");
    assert!(
        rejection.reason.contains(words),
        "reason {:?} should mention {words:?}",
        rejection.reason
    );
}

fn consent(scope: ConsentScope, given_by: ConsentGiver) -> Event {
    Event::ConsentGiven(ConsentGiven {
        scope,
        given_by,
        evidence: ConsentEvidence::SignedForm,
    })
}

fn status(to: Status) -> Event {
    // `from` is filled in by the decision; any value here is ignored.
    Event::StatusChanged(StatusChanged {
        from: Status::Identified,
        to,
    })
}

#[test]
fn nothing_before_registration() {
    rejected(
        when(
            &Case::default(),
            consent(ConsentScope::Assistance, ConsentGiver::Beneficiary),
            day(2010, 3, 2),
        ),
        RejectionCode::NotRegistered,
        "register the beneficiary",
    );
    assert!(when(&Case::default(), adult(), day(2010, 3, 2)).is_ok());
    rejected(
        when(&given(&[adult()]), adult(), day(2010, 3, 2)),
        RejectionCode::AlreadyRegistered,
        "already registered",
    );
}

#[test]
fn nothing_in_the_future() {
    rejected(
        when(
            &given(&[adult()]),
            consent(ConsentScope::Assistance, ConsentGiver::Beneficiary),
            day(2014, 7, 1),
        ),
        RejectionCode::InTheFuture,
        "in the future",
    );
}

#[test]
fn nothing_before_identification_unless_pre_program() {
    let case = given(&[adult()]);
    let fact = Event::ServiceDelivered(ServiceDelivered {
        service_id: Uuid::from_u128(9),
        service: ServiceType::Education,
        provider: None,
        from: day(2008, 9, 1),
        to: None,
        amount: None,
    });
    rejected(
        when(&case, fact.clone(), day(2008, 9, 1)),
        RejectionCode::BeforeIdentification,
        "pre-program",
    );
    let flagged = Request {
        occurred_on: day(2008, 9, 1),
        pre_program: true,
        fact,
    };
    assert!(decide(&case, &flagged, TODAY(), &known()).is_ok());
}

#[test]
fn status_changes_follow_the_state_machine() {
    let case = given(&[adult()]);
    let events = when(&case, status(Status::InCrisisCare), day(2010, 3, 5)).unwrap();
    assert_eq!(
        events,
        vec![Event::StatusChanged(StatusChanged {
            from: Status::Identified,
            to: Status::InCrisisCare
        })]
    );
    rejected(
        when(&case, status(Status::Reintegrated), day(2010, 3, 5)),
        RejectionCode::InvalidTransition,
        "cannot change",
    );
    rejected(
        when(&case, status(Status::Identified), day(2010, 3, 5)),
        RejectionCode::InvalidTransition,
        "from \"identified\" to \"identified\"",
    );
    let deceased = given(&[adult(), status(Status::Deceased)]);
    rejected(
        when(&deceased, status(Status::Reintegrating), day(2011, 1, 1)),
        RejectionCode::InvalidTransition,
        "from \"deceased\" to \"reintegrating\"",
    );
}

#[test]
fn a_closed_case_takes_only_follow_up_reopening_corrections_and_withdrawals() {
    let closed = given(&[
        adult(),
        consent(ConsentScope::FollowUpContact, ConsentGiver::Beneficiary),
        status(Status::Reintegrating),
        Event::CaseClosed(CaseClosed {
            outcome: Status::Reintegrating,
        }),
    ]);
    rejected(
        when(&closed, status(Status::Reintegrated), day(2012, 1, 1)),
        RejectionCode::CaseClosed,
        "closed",
    );
    rejected(
        when(
            &closed,
            consent(ConsentScope::EvaluationUse, ConsentGiver::Beneficiary),
            day(2012, 1, 1),
        ),
        RejectionCode::CaseClosed,
        "follow-up",
    );
    let follow_up = Event::FollowUpContactMade(FollowUpContactMade {
        observed_status: Some(Status::Reintegrated),
    });
    assert!(when(&closed, follow_up, day(2012, 1, 1)).is_ok());
    let withdraw = Event::ConsentWithdrawn(ConsentWithdrawn {
        scope: ConsentScope::FollowUpContact,
        withdrawn_by: ConsentGiver::Beneficiary,
    });
    assert!(when(&closed, withdraw, day(2012, 1, 1)).is_ok());
    assert!(
        when(
            &closed,
            Event::CaseReopened(CaseReopened {}),
            day(2012, 1, 1)
        )
        .is_ok()
    );
    rejected(
        when(
            &given(&[adult()]),
            Event::CaseReopened(CaseReopened {}),
            day(2012, 1, 1),
        ),
        RejectionCode::CaseOpen,
        "open already",
    );
}

#[test]
fn closing_records_the_current_status_as_outcome() {
    let case = given(&[
        adult(),
        status(Status::InCrisisCare),
        status(Status::LostContact),
    ]);
    let events = when(
        &case,
        Event::CaseClosed(CaseClosed {
            outcome: Status::Reintegrated,
        }),
        day(2011, 1, 1),
    )
    .unwrap();
    assert_eq!(
        events,
        vec![Event::CaseClosed(CaseClosed {
            outcome: Status::LostContact
        })]
    );
}

#[test]
fn consent_can_be_withdrawn_only_if_in_force() {
    let withdraw = Event::ConsentWithdrawn(ConsentWithdrawn {
        scope: ConsentScope::EvaluationUse,
        withdrawn_by: ConsentGiver::Beneficiary,
    });
    rejected(
        when(&given(&[adult()]), withdraw.clone(), day(2011, 1, 1)),
        RejectionCode::ConsentNotInForce,
        "not in force",
    );
    let case = given(&[
        adult(),
        consent(ConsentScope::EvaluationUse, ConsentGiver::Beneficiary),
    ]);
    assert!(when(&case, withdraw.clone(), day(2011, 1, 1)).is_ok());
    let withdrawn = given(&[
        adult(),
        consent(ConsentScope::EvaluationUse, ConsentGiver::Beneficiary),
        withdraw.clone(),
    ]);
    rejected(
        when(&withdrawn, withdraw, day(2011, 1, 1)),
        RejectionCode::ConsentNotInForce,
        "not in force",
    );
}

#[test]
fn a_child_consents_through_a_guardian() {
    let child = given(&[registration(
        Some(YearMonth {
            year: 1996,
            month: 5,
        }),
        BeneficiaryRole::Primary,
    )]);
    rejected(
        when(
            &child,
            consent(ConsentScope::Assistance, ConsentGiver::Beneficiary),
            day(2010, 3, 2),
        ),
        RejectionCode::GuardianRequired,
        "under 18",
    );
    assert!(
        when(
            &child,
            consent(ConsentScope::Assistance, ConsentGiver::Guardian),
            day(2010, 3, 2)
        )
        .is_ok()
    );
    // Once 18 (counting from the end of the birth month), the person consents themself.
    assert!(
        when(
            &child,
            consent(ConsentScope::EvaluationUse, ConsentGiver::Beneficiary),
            day(2014, 6, 1)
        )
        .is_ok()
    );
    rejected(
        when(
            &child,
            consent(ConsentScope::EvaluationUse, ConsentGiver::Beneficiary),
            day(2014, 5, 31),
        ),
        RejectionCode::GuardianRequired,
        "guardian",
    );
}

#[test]
fn a_secondary_beneficiary_links_to_an_existing_primary() {
    let secondary = |primary| {
        registration(
            None,
            BeneficiaryRole::Secondary {
                primary,
                relationship: Relationship::Child,
            },
        )
    };
    rejected(
        when(
            &Case::default(),
            secondary(Uuid::from_u128(0xBB)),
            day(2010, 3, 2),
        ),
        RejectionCode::PrimaryNotFound,
        "registered primary",
    );
    assert!(when(&Case::default(), secondary(PRIMARY), day(2010, 3, 2)).is_ok());
}

#[test]
fn a_correction_names_an_existing_event_of_the_same_stream_and_type() {
    let case = given(&[adult(), status(Status::InCrisisCare)]);
    let correct = |id: u128, replacement: Event| {
        Event::EventCorrected(EventCorrected {
            corrects: Uuid::from_u128(id),
            replacement: Box::new(replacement),
        })
    };
    rejected(
        when(
            &case,
            correct(99, status(Status::InTransition)),
            day(2011, 1, 1),
        ),
        RejectionCode::UnknownEvent,
        "no such entry",
    );
    rejected(
        when(
            &case,
            correct(
                2,
                consent(ConsentScope::Assistance, ConsentGiver::Beneficiary),
            ),
            day(2011, 1, 1),
        ),
        RejectionCode::CorrectionTypeMismatch,
        "StatusChanged",
    );
    let fixed = Event::StatusChanged(StatusChanged {
        from: Status::Identified,
        to: Status::InTransition,
    });
    assert!(when(&case, correct(2, fixed.clone()), day(2011, 1, 1)).is_ok());

    // The correction counts from then on: the case is now in transition.
    let corrected = given(&[adult(), status(Status::InCrisisCare), correct(2, fixed)]);
    assert_eq!(corrected.status, Some(Status::InTransition));
}

#[test]
fn a_void_removes_the_fact_everywhere_but_the_registration_cannot_be_voided() {
    let void = |id: u128| {
        Event::EventVoided(EventVoided {
            voids: Uuid::from_u128(id),
        })
    };
    let case = given(&[
        adult(),
        consent(ConsentScope::EvaluationUse, ConsentGiver::Beneficiary),
    ]);
    rejected(
        when(&case, void(1), day(2011, 1, 1)),
        RejectionCode::InvalidValue,
        "registration cannot be voided",
    );
    rejected(
        when(&case, void(42), day(2011, 1, 1)),
        RejectionCode::UnknownEvent,
        "no such entry",
    );
    assert!(when(&case, void(2), day(2011, 1, 1)).is_ok());
    let voided = given(&[
        adult(),
        consent(ConsentScope::EvaluationUse, ConsentGiver::Beneficiary),
        void(2),
    ]);
    assert!(
        voided.consents.is_empty(),
        "a voided consent is not in force"
    );
    rejected(
        when(&voided, void(2), day(2011, 1, 1)),
        RejectionCode::UnknownEvent,
        "no such entry",
    );
}

#[test]
fn a_referral_needs_consent_to_share_with_the_receiving_organisation() {
    let refer = Event::ReferredToOrganisation(ReferredToOrganisation {
        referral_id: Uuid::from_u128(5),
        to_organisation: OTHER_ORG,
    });
    rejected(
        when(&given(&[adult()]), refer.clone(), day(2011, 1, 1)),
        RejectionCode::ConsentRequired,
        "consented",
    );
    let sharing = consent(
        ConsentScope::DataSharing {
            organisation: OTHER_ORG,
        },
        ConsentGiver::Beneficiary,
    );
    let case = given(&[adult(), sharing.clone()]);
    assert!(when(&case, refer.clone(), day(2011, 1, 1)).is_ok());
    let accept = Event::ReferralAccepted(ReferralAccepted {
        referral_id: Uuid::from_u128(5),
    });
    rejected(
        when(&case, accept.clone(), day(2011, 1, 1)),
        RejectionCode::UnknownReference,
        "no open referral",
    );
    assert!(when(&given(&[adult(), sharing, refer]), accept, day(2011, 1, 2)).is_ok());
}

#[test]
fn goals_and_services_must_exist_and_be_open() {
    let goal = Uuid::from_u128(7);
    let set = Event::PlanGoalSet(PlanGoalSet {
        goal_id: goal,
        domain: ReintegrationDomain::Housing,
        target_on: None,
    });
    let achieve = Event::PlanGoalAchieved(PlanGoalAchieved { goal_id: goal });
    rejected(
        when(&given(&[adult()]), achieve.clone(), day(2011, 1, 1)),
        RejectionCode::UnknownReference,
        "no open goal",
    );
    assert!(
        when(
            &given(&[adult(), set.clone()]),
            achieve.clone(),
            day(2011, 1, 1)
        )
        .is_ok()
    );
    rejected(
        when(
            &given(&[adult(), set.clone(), achieve.clone()]),
            achieve,
            day(2011, 1, 1),
        ),
        RejectionCode::UnknownReference,
        "no open goal",
    );
    rejected(
        when(&given(&[adult(), set.clone()]), set, day(2011, 1, 1)),
        RejectionCode::InvalidValue,
        "already in the plan",
    );

    let stop = Event::ServiceDiscontinued(ServiceDiscontinued {
        service_id: Uuid::from_u128(8),
    });
    rejected(
        when(&given(&[adult()]), stop, day(2011, 1, 1)),
        RejectionCode::UnknownReference,
        "no planned or running service",
    );
}

#[test]
fn registrations_are_checked() {
    let mut r = match adult() {
        Event::BeneficiaryRegistered(r) => r,
        _ => unreachable!(),
    };
    r.case_code = " ".into();
    rejected(
        when(
            &Case::default(),
            Event::BeneficiaryRegistered(r.clone()),
            day(2010, 3, 2),
        ),
        RejectionCode::InvalidValue,
        "case code",
    );
    r.case_code = "AL-1".into();
    rejected(
        when(
            &Case::default(),
            Event::BeneficiaryRegistered(r.clone()),
            day(2010, 2, 1),
        ),
        RejectionCode::BeforeIdentification,
        "before the day they were identified",
    );
    r.birth = Some(YearMonth {
        year: 1990,
        month: 13,
    });
    rejected(
        when(
            &Case::default(),
            Event::BeneficiaryRegistered(r),
            day(2010, 3, 2),
        ),
        RejectionCode::InvalidValue,
        "birth month",
    );
}

#[test]
fn every_event_round_trips_through_its_stored_form() {
    let events = [
        adult(),
        consent(
            ConsentScope::DataSharing {
                organisation: OTHER_ORG,
            },
            ConsentGiver::Guardian,
        ),
        status(Status::InCrisisCare),
        Event::EventCorrected(EventCorrected {
            corrects: Uuid::from_u128(2),
            replacement: Box::new(status(Status::InTransition)),
        }),
    ];
    for event in events {
        let stored = event.payload().to_string();
        let read = Event::decode(event.type_name(), event.schema_version(), &stored).unwrap();
        assert_eq!(read, event);
    }
}

#[test]
fn assessments_are_scored_on_the_framework() {
    let case = given(&[adult()]);
    let assess = |framework_version, scores: Vec<DomainScore>| {
        Event::AssessmentRecorded(AssessmentRecorded {
            assessment_id: Uuid::from_u128(3),
            framework_version,
            scores,
        })
    };
    let score = |domain, score| DomainScore { domain, score };
    assert!(
        when(
            &case,
            assess(1, vec![score(ReintegrationDomain::Safety, 3)]),
            day(2011, 1, 1)
        )
        .is_ok()
    );
    rejected(
        when(&case, assess(1, vec![]), day(2011, 1, 1)),
        RejectionCode::InvalidValue,
        "at least one",
    );
    rejected(
        when(
            &case,
            assess(7, vec![score(ReintegrationDomain::Safety, 3)]),
            day(2011, 1, 1),
        ),
        RejectionCode::InvalidValue,
        "version 7",
    );
    rejected(
        when(
            &case,
            assess(1, vec![score(ReintegrationDomain::Safety, 9)]),
            day(2011, 1, 1),
        ),
        RejectionCode::InvalidValue,
        "between 1 and 4",
    );
}

fn withdraw(scope: ConsentScope) -> Event {
    Event::ConsentWithdrawn(ConsentWithdrawn {
        scope,
        withdrawn_by: ConsentGiver::Beneficiary,
    })
}

#[test]
fn erased_personal_data_cannot_be_recorded_again_and_erasure_works_on_a_closed_case() {
    use crate::personal::{ErasureReason, PersonalField};
    let erase = || {
        Event::PersonalDataErased(PersonalDataErased {
            reason: ErasureReason::PersonRequested,
        })
    };
    let recorded = Event::PersonalDataRecorded(PersonalDataRecorded {
        fields: vec![PersonalField::GivenName],
    });
    let closed = given(&[
        adult(),
        recorded.clone(),
        Event::CaseClosed(CaseClosed {
            outcome: Status::Identified,
        }),
    ]);
    assert_eq!(closed.personal_fields, [PersonalField::GivenName]);
    assert!(
        when(&closed, erase(), day(2011, 1, 1)).is_ok(),
        "the right to erasure holds on a closed case"
    );
    let erased = given(&[adult(), recorded.clone(), erase()]);
    assert!(erased.erased && erased.personal_fields.is_empty());
    rejected(
        when(&erased, recorded, day(2011, 1, 1)),
        RejectionCode::PersonalDataErased,
        "erased",
    );
    rejected(
        when(&erased, erase(), day(2011, 1, 1)),
        RejectionCode::PersonalDataErased,
        "erased",
    );
}

#[test]
fn withdrawn_consent_to_assistance_or_follow_up_stops_what_it_covered() {
    let service = Event::ServicePlanned(ServicePlanned {
        service_id: Uuid::from_u128(0x51),
        service: ServiceType::Medical,
        provider: None,
        goal_id: None,
    });
    let follow_up = Event::FollowUpContactMade(FollowUpContactMade {
        observed_status: None,
    });
    // Never given: nothing to withdraw, nothing stopped.
    let plain = given(&[adult()]);
    assert!(when(&plain, service.clone(), day(2010, 4, 1)).is_ok());
    assert!(when(&plain, follow_up.clone(), day(2010, 4, 1)).is_ok());

    let no_assistance = given(&[
        adult(),
        consent(ConsentScope::Assistance, ConsentGiver::Beneficiary),
        withdraw(ConsentScope::Assistance),
    ]);
    rejected(
        when(&no_assistance, service.clone(), day(2010, 4, 1)),
        RejectionCode::ConsentRequired,
        "consent to assistance",
    );
    let again = given(&[
        adult(),
        consent(ConsentScope::Assistance, ConsentGiver::Beneficiary),
        withdraw(ConsentScope::Assistance),
        consent(ConsentScope::Assistance, ConsentGiver::Beneficiary),
    ]);
    assert!(
        when(&again, service, day(2010, 4, 1)).is_ok(),
        "given again"
    );

    let no_follow_up = given(&[
        adult(),
        consent(ConsentScope::FollowUpContact, ConsentGiver::Beneficiary),
        withdraw(ConsentScope::FollowUpContact),
    ]);
    rejected(
        when(&no_follow_up, follow_up, day(2010, 4, 1)),
        RejectionCode::ConsentRequired,
        "follow-up contact",
    );
}
