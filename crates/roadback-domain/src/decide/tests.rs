//! Each rule in given / when / then form: the history so far (events and their days), the
//! command, the outcome.

use chrono::NaiveDate;
use uuid::Uuid;

use super::*;
use crate::command::{Registration, RegistrationDetails};
use crate::events::*;
use crate::personal::{ErasureReason, PersonalField};
use crate::status::Status;
use crate::vocabulary::*;

const PRIMARY: Uuid = Uuid::from_u128(0xAA);
const ORG: Uuid = Uuid::from_u128(0x0A);
const OTHER_ORG: Uuid = Uuid::from_u128(0x0B);
const CASEWORKER: Uuid = Uuid::from_u128(0xC1);
const COLLEAGUE: Uuid = Uuid::from_u128(0xC2);
const OTHER_CASEWORKER: Uuid = Uuid::from_u128(0xD1);

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

const TODAY: fn() -> NaiveDate = || day(2014, 6, 30);
/// The identification (and registration) day of the histories here.
const IDENTIFIED: fn() -> NaiveDate = || day(2010, 3, 1);

struct Known(crate::indicators::Framework);
impl Directory for Known {
    fn is_primary_beneficiary(&self, beneficiary: Uuid) -> bool {
        beneficiary == PRIMARY
    }
    fn framework(&self, version: u32) -> Option<&crate::indicators::Framework> {
        (version == self.0.version).then_some(&self.0)
    }
    fn is_organisation(&self, organisation: Uuid) -> bool {
        [ORG, OTHER_ORG].contains(&organisation)
    }
    fn is_caseworker_of(&self, user: Uuid, organisation: Uuid) -> bool {
        match organisation {
            ORG => [CASEWORKER, COLLEAGUE].contains(&user),
            OTHER_ORG => user == OTHER_CASEWORKER,
            _ => false,
        }
    }
}

fn known() -> Known {
    Known(crate::indicators::default_framework())
}

fn details(birth: Option<Birth>) -> RegistrationDetails {
    RegistrationDetails {
        case_code: "RS-2010-7".into(),
        gender: Gender::Female,
        birth,
        citizenship: CountryCode::new("RS").unwrap(),
        country_of_assistance: CountryCode::new("RS").unwrap(),
        identified_on: IDENTIFIED(),
        identification_route: IdentificationRoute::Ngo,
        forms_of_exploitation: vec![FormOfExploitation::LabourExploitation],
    }
}

fn register(birth: Option<Birth>, role: BeneficiaryRole) -> Command {
    let mut details = details(birth);
    if role != BeneficiaryRole::Primary {
        details.forms_of_exploitation.clear();
    }
    Command::RegisterBeneficiary(Registration {
        beneficiary_id: Uuid::from_u128(1),
        organisation: ORG,
        caseworker: CASEWORKER,
        role,
        details,
    })
}

fn registered(birth: Option<Birth>) -> Event {
    let Command::RegisterBeneficiary(r) = register(birth, BeneficiaryRole::Primary) else {
        unreachable!()
    };
    Event::BeneficiaryRegistered(super::registration(&r))
}

fn adult() -> Event {
    registered(Some(Birth::in_month(1985, 2)))
}

/// The case after these events (ids 1, 2, 3...), each on its day.
fn history(events: &[(NaiveDate, Event)]) -> Case {
    Case::from_events(
        events
            .iter()
            .enumerate()
            .map(|(i, (on, e))| (Uuid::from_u128(i as u128 + 1), *on, e)),
    )
}

/// The case after these events, all on the identification day.
fn given(events: &[Event]) -> Case {
    history(
        &events
            .iter()
            .map(|e| (IDENTIFIED(), e.clone()))
            .collect::<Vec<_>>(),
    )
}

fn when(case: &Case, command: Command, on: NaiveDate) -> Result<Vec<Event>, Rejection> {
    decide(case, &Request::new(on, command), TODAY(), &known())
}

fn correcting(
    case: &Case,
    id: u128,
    command: Command,
    on: NaiveDate,
) -> Result<Vec<Event>, Rejection> {
    decide(
        case,
        &Request::correcting(Uuid::from_u128(id), on, command),
        TODAY(),
        &known(),
    )
}

#[track_caller]
fn rejected(result: Result<Vec<Event>, Rejection>, code: RejectionCode, words: &str) -> Rejection {
    let rejection = result.expect_err("the command should have been rejected");
    assert_eq!(rejection.code, code, "{rejection:?}");
    assert!(
        rejection.reason.contains(words),
        "reason {:?} should mention {words:?}",
        rejection.reason
    );
    rejection
}

#[track_caller]
fn contradicts(
    result: Result<Vec<Event>, Rejection>,
    id: u128,
    on: NaiveDate,
    rule: RejectionCode,
) {
    let rejection = rejected(result, RejectionCode::ContradictsLaterEntry, "later entry");
    assert_eq!(
        rejection.contradicts,
        Some(Contradiction {
            event_id: Uuid::from_u128(id),
            occurred_on: on,
            rule
        }),
        "{rejection:?}"
    );
}

fn consent(scope: ConsentScope, given_by: ConsentGiver) -> Event {
    Event::ConsentGiven(ConsentGiven {
        scope,
        given_by,
        evidence: ConsentEvidence::SignedForm,
    })
}

fn assisted() -> Event {
    consent(ConsentScope::Assistance, ConsentGiver::Beneficiary)
}

fn give(scope: ConsentScope, given_by: ConsentGiver) -> Command {
    Command::GiveConsent {
        scope,
        given_by,
        evidence: ConsentEvidence::SignedForm,
    }
}

fn withdraw(scope: ConsentScope) -> Command {
    Command::WithdrawConsent {
        scope,
        withdrawn_by: ConsentGiver::Beneficiary,
    }
}

fn status(to: Status) -> Event {
    Event::StatusChanged(StatusChanged { to })
}

fn change(to: Status) -> Command {
    Command::ChangeStatus { to }
}

fn closed_as(outcome: Status) -> Event {
    Event::CaseClosed(CaseClosed { outcome })
}

fn delivery(service_id: Option<Uuid>, from: NaiveDate, to: Option<NaiveDate>) -> Command {
    Command::RecordServiceDelivery(Delivery {
        service_id,
        new_service_id: Uuid::from_u128(0x5E),
        service: ServiceType::Medical,
        provider: None,
        from,
        to,
        amount: None,
        pre_program: false,
    })
}

fn plan_service(id: u128) -> Command {
    Command::PlanService {
        service_id: Uuid::from_u128(id),
        service: ServiceType::Medical,
        provider: None,
        goal_id: None,
    }
}

#[test]
fn nothing_before_registration() {
    rejected(
        when(
            &Case::default(),
            give(ConsentScope::Assistance, ConsentGiver::Beneficiary),
            day(2010, 3, 2),
        ),
        RejectionCode::NotRegistered,
        "register the beneficiary",
    );
    assert!(
        when(
            &Case::default(),
            register(None, BeneficiaryRole::Primary),
            day(2010, 3, 2)
        )
        .is_ok()
    );
    rejected(
        when(
            &given(&[adult()]),
            register(None, BeneficiaryRole::Primary),
            day(2010, 3, 2),
        ),
        RejectionCode::AlreadyRegistered,
        "already registered",
    );
}

#[test]
fn nothing_in_the_future() {
    rejected(
        when(
            &given(&[adult()]),
            give(ConsentScope::Assistance, ConsentGiver::Beneficiary),
            day(2014, 7, 1),
        ),
        RejectionCode::InTheFuture,
        "in the future",
    );
}

#[test]
fn dates_in_year_0_year_99999_and_deliveries_spanning_ages_are_refused() {
    let case = given(&[adult(), assisted()]);
    rejected(
        when(&case, delivery(None, day(0, 1, 1), None), day(0, 1, 1)),
        RejectionCode::InvalidValue,
        "not a plausible date",
    );
    rejected(
        when(
            &case,
            delivery(None, day(99999, 1, 1), None),
            day(99999, 1, 1),
        ),
        RejectionCode::InTheFuture,
        "in the future",
    );
    let r = rejected(
        when(
            &case,
            delivery(None, day(2012, 1, 1), Some(day(262_000, 1, 1))),
            day(2012, 1, 1),
        ),
        RejectionCode::InTheFuture,
        "in the future",
    );
    assert_eq!(r.field, Some("to"));
    let r = rejected(
        when(
            &case,
            delivery(None, day(2012, 1, 1), Some(day(2011, 1, 1))),
            day(2012, 1, 1),
        ),
        RejectionCode::InvalidValue,
        "end before it starts",
    );
    assert_eq!(r.field, Some("to"));
    let r = rejected(
        when(
            &case,
            delivery(None, day(2010, 3, 2), Some(day(2014, 6, 1))),
            day(2010, 3, 3),
        ),
        RejectionCode::InvalidValue,
        "first day",
    );
    assert_eq!(r.field, Some("from"));
    // A plan looks ahead, but not for ever.
    let r = rejected(
        when(
            &case,
            Command::ScheduleReview {
                due_on: day(2099, 1, 1),
            },
            day(2012, 1, 1),
        ),
        RejectionCode::InvalidValue,
        "within 10 years",
    );
    assert_eq!(r.field, Some("dueOn"));
}

#[test]
fn a_delivery_dated_1990_for_a_person_identified_in_2010_is_refused_unless_pre_program() {
    let case = given(&[adult(), assisted()]);
    let r = rejected(
        when(
            &case,
            delivery(None, day(1990, 9, 1), None),
            day(1990, 9, 1),
        ),
        RejectionCode::BeforeIdentification,
        "before the identification date",
    );
    assert_eq!(r.field, Some("occurredOn"));
    let earlier_schooling = |on| {
        Command::RecordServiceDelivery(Delivery {
            pre_program: true,
            service: ServiceType::Education,
            ..match delivery(None, on, None) {
                Command::RecordServiceDelivery(d) => d,
                _ => unreachable!(),
            }
        })
    };
    assert!(when(&case, earlier_schooling(day(2001, 9, 1)), day(2001, 9, 1)).is_ok());
    rejected(
        when(&case, earlier_schooling(day(1984, 9, 1)), day(1984, 9, 1)),
        RejectionCode::BeforeBirth,
        "before the person was born",
    );
    let r = rejected(
        when(&case, earlier_schooling(day(2011, 9, 1)), day(2011, 9, 1)),
        RejectionCode::InvalidValue,
        "before the identification date",
    );
    assert_eq!(r.field, Some("preProgram"));
}

#[test]
fn status_changes_follow_the_state_machine() {
    let case = given(&[adult(), assisted()]);
    assert_eq!(
        when(&case, change(Status::InCrisisCare), day(2010, 3, 5)).unwrap(),
        vec![status(Status::InCrisisCare)]
    );
    rejected(
        when(&case, change(Status::Reintegrated), day(2010, 3, 5)),
        RejectionCode::InvalidTransition,
        "cannot change to \"reintegrated\"",
    );
    rejected(
        when(&case, change(Status::Identified), day(2010, 3, 5)),
        RejectionCode::InvalidTransition,
        "\"identified\", which cannot change to \"identified\"",
    );
    let deceased = given(&[adult(), assisted(), status(Status::Deceased)]);
    rejected(
        when(&deceased, change(Status::Reintegrating), day(2011, 1, 1)),
        RejectionCode::InvalidTransition,
        "\"deceased\", which cannot change to \"reintegrating\"",
    );
}

/// Identified (Mar 1), in crisis care from Mar 5, in transition from Jun 1.
fn in_transition() -> Case {
    history(&[
        (IDENTIFIED(), adult()),
        (IDENTIFIED(), assisted()),
        (day(2010, 3, 5), status(Status::InCrisisCare)),
        (day(2010, 6, 1), status(Status::InTransition)),
    ])
}

#[test]
fn a_backdated_status_change_is_decided_against_the_status_on_its_date() {
    let case = in_transition();
    // On April 1 the person was in crisis care, from which "reintegrated" cannot be reached,
    // though from today's "in transition" it cannot either; "reintegrating" can be reached from
    // both, and what followed (June's "in transition") still can follow it.
    rejected(
        when(&case, change(Status::Reintegrated), day(2010, 4, 1)),
        RejectionCode::InvalidTransition,
        "on 2010-04-01 the status was \"in crisis care\"",
    );
    assert_eq!(
        when(&case, change(Status::Reintegrating), day(2010, 4, 1)).unwrap(),
        vec![status(Status::Reintegrating)]
    );
    // Before March 5 the person was identified: "in crisis care" on March 3 then makes March 5's
    // change to crisis care a change to the same status, which contradicts it.
    contradicts(
        when(&case, change(Status::InCrisisCare), day(2010, 3, 3)),
        3,
        day(2010, 3, 5),
        RejectionCode::InvalidTransition,
    );
    // Deceased on April 1 contradicts June's transition.
    contradicts(
        when(&case, change(Status::Deceased), day(2010, 4, 1)),
        4,
        day(2010, 6, 1),
        RejectionCode::InvalidTransition,
    );
}

#[test]
fn reintegrated_dated_before_later_transitions_is_refused() {
    // Reintegrating from Jun 1: reintegrated on Jul 1 would be fine, but not before a setback
    // recorded after it that the history then cannot follow.
    let case = history(&[
        (IDENTIFIED(), adult()),
        (IDENTIFIED(), assisted()),
        (day(2010, 3, 5), status(Status::InCrisisCare)),
        (day(2010, 6, 1), status(Status::Reintegrating)),
        (day(2010, 9, 1), status(Status::InTransition)),
        (day(2010, 10, 1), status(Status::Reintegrating)),
    ]);
    contradicts(
        when(&case, change(Status::Reintegrated), day(2010, 7, 1)),
        5,
        day(2010, 9, 1),
        RejectionCode::InvalidTransition,
    );
    rejected(
        when(&case, change(Status::Reintegrated), day(2010, 3, 6)),
        RejectionCode::InvalidTransition,
        "in crisis care",
    );
    assert!(when(&case, change(Status::Reintegrated), day(2010, 11, 1)).is_ok());
}

#[test]
fn services_goals_and_status_changes_need_consent_to_assistance_on_their_date() {
    let never = given(&[adult()]);
    for command in [
        plan_service(0x51),
        delivery(None, day(2010, 4, 1), None),
        Command::SetPlanGoal {
            goal_id: Uuid::from_u128(0x61),
            domain: ReintegrationDomain::Housing,
            target_on: None,
        },
        change(Status::InCrisisCare),
    ] {
        rejected(
            when(&never, command, day(2010, 4, 1)),
            RejectionCode::ConsentRequired,
            "no consent to assistance",
        );
    }
    // Leaving the program is recorded whatever the consent.
    assert!(when(&never, change(Status::DroppedOut), day(2010, 4, 1)).is_ok());

    let from_june = history(&[(IDENTIFIED(), adult()), (day(2010, 6, 1), assisted())]);
    rejected(
        when(&from_june, plan_service(0x51), day(2010, 5, 1)),
        RejectionCode::ConsentRequired,
        "on 2010-05-01",
    );
    assert!(when(&from_june, plan_service(0x51), day(2010, 6, 2)).is_ok());
}

#[test]
fn a_childs_services_need_a_guardians_consent() {
    let child = given(&[registered(Some(Birth::in_month(1996, 5)))]);
    rejected(
        when(
            &child,
            give(ConsentScope::Assistance, ConsentGiver::Beneficiary),
            day(2010, 3, 2),
        ),
        RejectionCode::GuardianRequired,
        "under 18",
    );
    let by_guardian = history(&[
        (IDENTIFIED(), registered(Some(Birth::in_month(1996, 5)))),
        (
            IDENTIFIED(),
            consent(ConsentScope::Assistance, ConsentGiver::Guardian),
        ),
    ]);
    assert!(when(&by_guardian, plan_service(0x51), day(2010, 3, 2)).is_ok());
    // Once 18 (counting from the end of the birth month), the person consents themself.
    assert!(
        when(
            &child,
            give(ConsentScope::EvaluationUse, ConsentGiver::Beneficiary),
            day(2014, 6, 1)
        )
        .is_ok()
    );
    rejected(
        when(
            &child,
            give(ConsentScope::EvaluationUse, ConsentGiver::Beneficiary),
            day(2014, 5, 31),
        ),
        RejectionCode::GuardianRequired,
        "guardian",
    );
}

#[test]
fn a_backdated_withdrawal_or_a_void_of_consent_cannot_orphan_later_services() {
    let case = history(&[
        (IDENTIFIED(), adult()),
        (IDENTIFIED(), assisted()),
        (day(2010, 5, 1), {
            let Ok(events) = when(
                &given(&[adult(), assisted()]),
                plan_service(0x51),
                day(2010, 5, 1),
            ) else {
                unreachable!()
            };
            events[0].clone()
        }),
    ]);
    contradicts(
        when(&case, withdraw(ConsentScope::Assistance), day(2010, 4, 1)),
        3,
        day(2010, 5, 1),
        RejectionCode::ConsentRequired,
    );
    assert!(when(&case, withdraw(ConsentScope::Assistance), day(2010, 5, 2)).is_ok());
    contradicts(
        when(
            &case,
            Command::VoidEvent {
                event_id: Uuid::from_u128(2),
            },
            day(2010, 6, 1),
        ),
        3,
        day(2010, 5, 1),
        RejectionCode::ConsentRequired,
    );
    // Moving the consent after the service contradicts it too.
    contradicts(
        correcting(
            &case,
            2,
            give(ConsentScope::Assistance, ConsentGiver::Beneficiary),
            day(2010, 6, 1),
        ),
        3,
        day(2010, 5, 1),
        RejectionCode::ConsentRequired,
    );
}

#[test]
fn a_closed_case_takes_only_follow_up_reopening_withdrawals_and_entries_dated_before_closure() {
    let closed = history(&[
        (IDENTIFIED(), adult()),
        (IDENTIFIED(), assisted()),
        (
            IDENTIFIED(),
            consent(ConsentScope::FollowUpContact, ConsentGiver::Beneficiary),
        ),
        (day(2010, 4, 1), status(Status::InCrisisCare)),
        (day(2011, 1, 1), closed_as(Status::InCrisisCare)),
    ]);
    rejected(
        when(&closed, change(Status::InTransition), day(2012, 1, 1)),
        RejectionCode::CaseClosed,
        "closed",
    );
    rejected(
        when(
            &closed,
            give(ConsentScope::EvaluationUse, ConsentGiver::Beneficiary),
            day(2012, 1, 1),
        ),
        RejectionCode::CaseClosed,
        "follow-up",
    );
    // A service recorded late, dated before the closure, is a fact of the open case.
    assert!(when(&closed, plan_service(0x51), day(2010, 12, 1)).is_ok());
    let follow_up = Command::RecordFollowUpContact {
        observed_status: Some(Status::Reintegrated),
    };
    assert!(when(&closed, follow_up, day(2012, 1, 1)).is_ok());
    assert!(
        when(
            &closed,
            withdraw(ConsentScope::FollowUpContact),
            day(2012, 1, 1)
        )
        .is_ok()
    );
    assert!(when(&closed, Command::ReopenCase, day(2012, 1, 1)).is_ok());
    rejected(
        when(&given(&[adult()]), Command::ReopenCase, day(2012, 1, 1)),
        RejectionCode::CaseOpen,
        "open",
    );
}

#[test]
fn closing_records_the_status_of_its_day_as_outcome_and_keeps_it() {
    let case = history(&[
        (IDENTIFIED(), adult()),
        (IDENTIFIED(), assisted()),
        (day(2010, 4, 1), status(Status::InCrisisCare)),
        (day(2010, 9, 1), status(Status::LostContact)),
    ]);
    assert_eq!(
        when(&case, Command::CloseCase, day(2011, 1, 1)).unwrap(),
        vec![closed_as(Status::LostContact)]
    );
    // Closed in May, the September status change could not follow.
    contradicts(
        when(&case, Command::CloseCase, day(2010, 5, 1)),
        4,
        day(2010, 9, 1),
        RejectionCode::CaseClosed,
    );
    let closed = history(&[
        (IDENTIFIED(), adult()),
        (IDENTIFIED(), assisted()),
        (day(2010, 4, 1), status(Status::InCrisisCare)),
        (day(2010, 9, 1), closed_as(Status::InCrisisCare)),
    ]);
    // A status change dated before the closure would change the outcome it was closed with.
    contradicts(
        when(&closed, change(Status::DroppedOut), day(2010, 8, 1)),
        4,
        day(2010, 9, 1),
        RejectionCode::OutcomeChanged,
    );
}

#[test]
fn consent_can_be_withdrawn_only_if_in_force() {
    let eval = ConsentScope::EvaluationUse;
    let r = rejected(
        when(&given(&[adult()]), withdraw(eval), day(2011, 1, 1)),
        RejectionCode::ConsentNotInForce,
        "not in force",
    );
    assert_eq!(r.field, Some("kind"));
    let case = given(&[adult(), consent(eval, ConsentGiver::Beneficiary)]);
    assert!(when(&case, withdraw(eval), day(2011, 1, 1)).is_ok());
}

#[test]
fn a_secondary_beneficiary_links_to_an_existing_primary() {
    let secondary = |primary| {
        register(
            None,
            BeneficiaryRole::Secondary {
                primary,
                relationship: Relationship::Child,
            },
        )
    };
    let r = rejected(
        when(
            &Case::default(),
            secondary(Uuid::from_u128(0xBB)),
            day(2010, 3, 2),
        ),
        RejectionCode::PrimaryNotFound,
        "registered primary",
    );
    assert_eq!(r.field, Some("primaryBeneficiaryId"));
    assert!(when(&Case::default(), secondary(PRIMARY), day(2010, 3, 2)).is_ok());
}

#[test]
fn a_birth_year_without_a_month_keeps_the_month_absent() {
    let year_only = Birth {
        year: 1990,
        month: None,
    };
    let events = when(
        &Case::default(),
        register(Some(year_only), BeneficiaryRole::Primary),
        day(2010, 3, 2),
    )
    .unwrap();
    let Event::BeneficiaryRegistered(r) = &events[0] else {
        panic!("a registration")
    };
    assert_eq!(r.birth, Some(year_only));
    let stored = events[0].payload();
    assert_eq!(stored["birth"]["month"], serde_json::Value::Null);
}

#[test]
fn a_caseworker_of_another_organisation_cannot_hold_the_case() {
    let Command::RegisterBeneficiary(mut r) = register(None, BeneficiaryRole::Primary) else {
        unreachable!()
    };
    r.caseworker = OTHER_CASEWORKER;
    let rejection = rejected(
        when(
            &Case::default(),
            Command::RegisterBeneficiary(r),
            day(2010, 3, 2),
        ),
        RejectionCode::UnknownReference,
        "registering organisation",
    );
    assert_eq!(rejection.field, Some("caseworkerId"));
    let case = given(&[adult()]);
    let rejection = rejected(
        when(
            &case,
            Command::TransferCase {
                to_caseworker: OTHER_CASEWORKER,
            },
            day(2011, 1, 1),
        ),
        RejectionCode::UnknownReference,
        "assisting organisation",
    );
    assert_eq!(rejection.field, Some("toCaseworkerId"));
    assert!(
        when(
            &case,
            Command::TransferCase {
                to_caseworker: COLLEAGUE
            },
            day(2011, 1, 1)
        )
        .is_ok()
    );
}

#[test]
fn registrations_are_checked() {
    let with = |f: &dyn Fn(&mut RegistrationDetails)| {
        let Command::RegisterBeneficiary(mut r) = register(None, BeneficiaryRole::Primary) else {
            unreachable!()
        };
        f(&mut r.details);
        Command::RegisterBeneficiary(r)
    };
    for (code, field) in [
        (" ", "caseCode"),
        ("Ana Petrović 069123456", "caseCode"),
        (&*"X".repeat(2000), "caseCode"),
    ] {
        let r = rejected(
            when(
                &Case::default(),
                with(&|d| d.case_code = code.to_string()),
                day(2010, 3, 2),
            ),
            RejectionCode::InvalidValue,
            "case code",
        );
        assert_eq!(r.field, Some(field));
    }
    rejected(
        when(&Case::default(), with(&|_| {}), day(2010, 2, 1)),
        RejectionCode::BeforeIdentification,
        "before the day they were identified",
    );
    let r = rejected(
        when(
            &Case::default(),
            with(&|d| d.birth = Some(Birth::in_month(1990, 13))),
            day(2010, 3, 2),
        ),
        RejectionCode::InvalidValue,
        "birth month",
    );
    assert_eq!(r.field, Some("birthMonth"));
    let r = rejected(
        when(
            &Case::default(),
            with(&|d| d.birth = Some(Birth::in_month(1850, 1))),
            day(2010, 3, 2),
        ),
        RejectionCode::InvalidValue,
        "birth year",
    );
    assert_eq!(r.field, Some("birthYear"));
    let r = rejected(
        when(
            &Case::default(),
            with(&|d| d.birth = Some(Birth::in_month(2011, 1))),
            day(2010, 3, 2),
        ),
        RejectionCode::BeforeBirth,
        "before the person was born",
    );
    assert_eq!(r.field, Some("identifiedOn"));
}

#[test]
fn a_correction_of_the_registration_cannot_change_whose_record_it_is() {
    // The correction has no beneficiary, organisation or caseworker to give: it keeps the
    // original's, whatever it says otherwise.
    let case = given(&[adult()]);
    let mut fixed = details(Some(Birth::in_month(1985, 3)));
    fixed.case_code = "RS-2010-8".into();
    let events = when(
        &case,
        Command::CorrectRegistration {
            details: fixed.clone(),
            relationship: None,
        },
        IDENTIFIED(),
    )
    .unwrap();
    let Event::EventCorrected(c) = &events[0] else {
        panic!("a correction")
    };
    assert_eq!(c.corrects, Uuid::from_u128(1));
    let Event::BeneficiaryRegistered(r) = &*c.replacement else {
        panic!("a registration")
    };
    assert_eq!(
        (r.beneficiary_id, r.organisation, r.caseworker),
        (Uuid::from_u128(1), ORG, CASEWORKER)
    );
    assert_eq!(r.case_code, "RS-2010-8");
    // Restating the registration as a new one, naming another person, is refused.
    let Command::RegisterBeneficiary(mut other) = register(None, BeneficiaryRole::Primary) else {
        unreachable!()
    };
    other.beneficiary_id = Uuid::from_u128(0xFF);
    other.organisation = OTHER_ORG;
    rejected(
        correcting(&case, 1, Command::RegisterBeneficiary(other), IDENTIFIED()),
        RejectionCode::AlreadyRegistered,
        "already registered",
    );
}

#[test]
fn a_corrected_registration_is_checked_like_a_registration() {
    let case = given(&[adult(), assisted()]);
    let mut long = details(None);
    long.case_code = "Ana Petrovic, phone 069 123 456 ".repeat(60);
    let r = rejected(
        when(
            &case,
            Command::CorrectRegistration {
                details: long,
                relationship: None,
            },
            IDENTIFIED(),
        ),
        RejectionCode::InvalidValue,
        "case code",
    );
    assert_eq!(r.field, Some("caseCode"));
    // Moving the identification after a later fact contradicts it.
    let later = history(&[(IDENTIFIED(), adult()), (day(2010, 3, 2), assisted())]);
    let mut moved = details(None);
    moved.identified_on = day(2010, 3, 10);
    contradicts(
        when(
            &later,
            Command::CorrectRegistration {
                details: moved,
                relationship: None,
            },
            day(2010, 3, 10),
        ),
        2,
        day(2010, 3, 2),
        RejectionCode::BeforeIdentification,
    );
    let r = rejected(
        when(
            &case,
            Command::CorrectRegistration {
                details: details(None),
                relationship: Some(Relationship::Child),
            },
            IDENTIFIED(),
        ),
        RejectionCode::InvalidValue,
        "family member",
    );
    assert_eq!(r.field, Some("relationship"));
}

#[test]
fn a_correction_names_an_existing_fact_of_the_same_kind_and_is_decided_on_its_day() {
    let case = in_transition();
    let r = rejected(
        correcting(&case, 99, change(Status::InTransition), day(2010, 3, 5)),
        RejectionCode::UnknownEvent,
        "no such entry",
    );
    assert_eq!(r.field, Some("corrects"));
    let r = rejected(
        correcting(
            &case,
            3,
            give(ConsentScope::Assistance, ConsentGiver::Beneficiary),
            day(2010, 3, 5),
        ),
        RejectionCode::CorrectionTypeMismatch,
        "Status changed",
    );
    assert_eq!(r.field, Some("corrects"));
    // March 5 was "in transition", not "in crisis care": then June's change to "in transition"
    // contradicts it.
    contradicts(
        correcting(&case, 3, change(Status::InTransition), day(2010, 3, 5)),
        4,
        day(2010, 6, 1),
        RejectionCode::InvalidTransition,
    );
    // March 5 was "reintegrating": June's change to "in transition" can follow.
    assert_eq!(
        correcting(&case, 3, change(Status::Reintegrating), day(2010, 3, 5)).unwrap(),
        vec![Event::EventCorrected(EventCorrected {
            corrects: Uuid::from_u128(3),
            occurred_on: Some(day(2010, 3, 5)),
            replacement: Box::new(status(Status::Reintegrating)),
        })]
    );
    // A correction may move the fact to its right day; it then counts there.
    let moved = correcting(&case, 3, change(Status::InCrisisCare), day(2010, 3, 8)).unwrap();
    let mut corrected = case.clone();
    corrected.apply(Uuid::from_u128(5), day(2014, 6, 1), &moved[0]);
    assert_eq!(
        corrected
            .facts
            .iter()
            .find(|f| f.id == Uuid::from_u128(3))
            .map(|f| f.occurred_on),
        Some(day(2010, 3, 8))
    );
    assert_eq!(crate::rules::verify(&corrected, TODAY()), Ok(()));
}

#[test]
fn a_correction_keeps_the_ids_the_original_gave() {
    let case = given(&[adult(), assisted()]);
    let planned = when(&case, plan_service(0x51), IDENTIFIED()).unwrap();
    let mut case = case;
    case.apply(Uuid::from_u128(3), IDENTIFIED(), &planned[0]);
    let events = correcting(&case, 3, plan_service(0x99), IDENTIFIED()).unwrap();
    let Event::EventCorrected(c) = &events[0] else {
        panic!("a correction")
    };
    assert!(
        matches!(&*c.replacement, Event::ServicePlanned(s) if s.service_id == Uuid::from_u128(0x51))
    );
}

#[test]
fn erasures_and_personal_data_cannot_be_corrected_or_voided_nor_registrations_voided() {
    let erased = given(&[
        adult(),
        Event::PersonalDataRecorded(PersonalDataRecorded {
            fields: vec![PersonalField::GivenName],
        }),
        Event::PersonalDataErased(PersonalDataErased {
            reason: ErasureReason::PersonRequested,
        }),
    ]);
    for id in [1, 2, 3] {
        let r = rejected(
            when(
                &erased,
                Command::VoidEvent {
                    event_id: Uuid::from_u128(id),
                },
                day(2011, 1, 1),
            ),
            RejectionCode::NotCorrectable,
            "",
        );
        assert_eq!(r.field, Some("eventId"));
    }
    rejected(
        correcting(
            &erased,
            3,
            Command::ErasePersonalData {
                reason: ErasureReason::RecordedInError,
            },
            IDENTIFIED(),
        ),
        RejectionCode::NotCorrectable,
        "erasure cannot be corrected",
    );
    assert!(erased.erased, "the erasure stands");
}

#[test]
fn a_void_removes_the_fact_and_what_relied_on_it_must_go_first() {
    let void = |id: u128| Command::VoidEvent {
        event_id: Uuid::from_u128(id),
    };
    let case = given(&[
        adult(),
        consent(ConsentScope::EvaluationUse, ConsentGiver::Beneficiary),
    ]);
    let r = rejected(
        when(&case, void(42), day(2011, 1, 1)),
        RejectionCode::UnknownEvent,
        "no such entry",
    );
    assert_eq!(r.field, Some("eventId"));
    assert_eq!(
        when(&case, void(2), day(2011, 1, 1)).unwrap(),
        vec![Event::EventVoided(EventVoided {
            voids: Uuid::from_u128(2)
        })]
    );
    // Voiding a closure that a reopening followed contradicts the reopening.
    let reopened = given(&[
        adult(),
        closed_as(Status::Identified),
        Event::CaseReopened(CaseReopened {}),
    ]);
    contradicts(
        when(&reopened, void(2), day(2011, 1, 1)),
        3,
        IDENTIFIED(),
        RejectionCode::CaseOpen,
    );
}

#[test]
fn a_referral_needs_consent_to_share_with_the_receiving_organisation() {
    let refer = Command::ReferToOrganisation {
        referral_id: Uuid::from_u128(5),
        to_organisation: OTHER_ORG,
    };
    let r = rejected(
        when(&given(&[adult()]), refer.clone(), day(2011, 1, 1)),
        RejectionCode::ConsentRequired,
        "consented",
    );
    assert_eq!(r.field, Some("toOrganisationId"));
    let sharing = consent(
        ConsentScope::DataSharing {
            organisation: OTHER_ORG,
        },
        ConsentGiver::Beneficiary,
    );
    let case = given(&[adult(), sharing.clone()]);
    let referred = when(&case, refer.clone(), day(2011, 1, 1)).unwrap();
    let accept = Command::AcceptReferral {
        referral_id: Uuid::from_u128(5),
    };
    rejected(
        when(&case, accept.clone(), day(2011, 1, 1)),
        RejectionCode::UnknownReference,
        "no open referral",
    );
    let mut both = case;
    both.apply(Uuid::from_u128(3), day(2011, 1, 1), &referred[0]);
    assert!(when(&both, accept.clone(), day(2011, 1, 2)).is_ok());
    // Not before the referral was made.
    rejected(
        when(&both, accept, day(2010, 12, 31)),
        RejectionCode::UnknownReference,
        "no open referral",
    );
    let r = rejected(
        when(
            &given(&[adult()]),
            Command::ReferToOrganisation {
                referral_id: Uuid::from_u128(6),
                to_organisation: Uuid::from_u128(0x0C),
            },
            day(2011, 1, 1),
        ),
        RejectionCode::UnknownReference,
        "no such organisation",
    );
    assert_eq!(r.field, Some("toOrganisationId"));
}

#[test]
fn a_delivery_naming_a_planned_service_that_does_not_exist_is_refused() {
    let case = given(&[adult(), assisted()]);
    let r = rejected(
        when(
            &case,
            delivery(Some(Uuid::from_u128(0x77)), day(2011, 1, 1), None),
            day(2011, 1, 1),
        ),
        RejectionCode::UnknownReference,
        "no planned or delivered service",
    );
    assert_eq!(r.field, Some("serviceId"));
    // Without a service id it is an unplanned delivery, with a service of its own.
    let events = when(
        &case,
        delivery(None, day(2011, 1, 1), None),
        day(2011, 1, 1),
    )
    .unwrap();
    assert!(
        matches!(&events[0], Event::ServiceDelivered(d) if d.service_id == Uuid::from_u128(0x5E))
    );
}

#[test]
fn goals_and_services_must_exist_and_be_open() {
    let case = given(&[adult(), assisted()]);
    let goal = Uuid::from_u128(7);
    let set = when(
        &case,
        Command::SetPlanGoal {
            goal_id: goal,
            domain: ReintegrationDomain::Housing,
            target_on: None,
        },
        IDENTIFIED(),
    )
    .unwrap();
    let achieve = Command::AchievePlanGoal { goal_id: goal };
    let r = rejected(
        when(&case, achieve.clone(), day(2011, 1, 1)),
        RejectionCode::UnknownReference,
        "no open goal",
    );
    assert_eq!(r.field, Some("goalId"));
    let mut with_goal = case.clone();
    with_goal.apply(Uuid::from_u128(3), IDENTIFIED(), &set[0]);
    let achieved = when(&with_goal, achieve.clone(), day(2011, 1, 1)).unwrap();
    let mut done = with_goal.clone();
    done.apply(Uuid::from_u128(4), day(2011, 1, 1), &achieved[0]);
    rejected(
        when(&done, achieve, day(2011, 1, 2)),
        RejectionCode::UnknownReference,
        "no open goal",
    );
    let r = rejected(
        when(
            &case,
            Command::PlanService {
                service_id: Uuid::from_u128(0x51),
                service: ServiceType::Medical,
                provider: None,
                goal_id: Some(Uuid::from_u128(0x404)),
            },
            day(2011, 1, 1),
        ),
        RejectionCode::UnknownReference,
        "no open goal",
    );
    assert_eq!(r.field, Some("goalId"));
    rejected(
        when(
            &case,
            Command::DiscontinueService {
                service_id: Uuid::from_u128(8),
            },
            day(2011, 1, 1),
        ),
        RejectionCode::UnknownReference,
        "no planned or running service",
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
        Event::ServiceDelivered(ServiceDelivered {
            service_id: Uuid::from_u128(9),
            service: ServiceType::FinancialSupport,
            provider: None,
            from: IDENTIFIED(),
            to: None,
            amount: Some(Money {
                minor_units: 5_000,
                currency: Currency::new("EUR").unwrap(),
            }),
            pre_program: false,
        }),
        Event::EventCorrected(EventCorrected {
            corrects: Uuid::from_u128(2),
            occurred_on: Some(IDENTIFIED()),
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
    let assess = |framework_version, scores: Vec<DomainScore>| Command::RecordAssessment {
        assessment_id: Uuid::from_u128(3),
        framework_version,
        scores,
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
    let r = rejected(
        when(
            &case,
            assess(7, vec![score(ReintegrationDomain::Safety, 3)]),
            day(2011, 1, 1),
        ),
        RejectionCode::InvalidValue,
        "version 7",
    );
    assert_eq!(r.field, Some("frameworkVersion"));
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

#[test]
fn erased_personal_data_cannot_be_recorded_again_and_erasure_works_on_a_closed_case() {
    let erase = || Command::ErasePersonalData {
        reason: ErasureReason::PersonRequested,
    };
    let recorded = Event::PersonalDataRecorded(PersonalDataRecorded {
        fields: vec![PersonalField::GivenName],
    });
    let closed = given(&[adult(), recorded.clone(), closed_as(Status::Identified)]);
    assert_eq!(closed.personal_fields, [PersonalField::GivenName]);
    assert!(
        when(&closed, erase(), day(2011, 1, 1)).is_ok(),
        "the right to erasure holds on a closed case"
    );
    let erased = given(&[
        adult(),
        recorded,
        Event::PersonalDataErased(PersonalDataErased {
            reason: ErasureReason::PersonRequested,
        }),
    ]);
    assert!(erased.erased && erased.personal_fields.is_empty());
    rejected(
        when(
            &erased,
            Command::RecordPersonalData {
                fields: vec![PersonalField::Phone],
            },
            day(2011, 1, 1),
        ),
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
    let withdrawn = history(&[
        (IDENTIFIED(), adult()),
        (IDENTIFIED(), assisted()),
        (day(2010, 3, 2), {
            let Ok(e) = when(
                &given(&[adult(), assisted()]),
                withdraw(ConsentScope::Assistance),
                day(2010, 3, 2),
            ) else {
                unreachable!()
            };
            e[0].clone()
        }),
    ]);
    rejected(
        when(&withdrawn, plan_service(0x51), day(2010, 4, 1)),
        RejectionCode::ConsentRequired,
        "consent to assistance",
    );
    let follow_up = Command::RecordFollowUpContact {
        observed_status: None,
    };
    let no_follow_up = given(&[
        adult(),
        consent(ConsentScope::FollowUpContact, ConsentGiver::Beneficiary),
        Event::ConsentWithdrawn(ConsentWithdrawn {
            scope: ConsentScope::FollowUpContact,
            withdrawn_by: ConsentGiver::Beneficiary,
        }),
    ]);
    rejected(
        when(&no_follow_up, follow_up, day(2010, 4, 1)),
        RejectionCode::ConsentRequired,
        "follow-up contact",
    );
}

#[test]
fn correcting_or_voiding_needs_the_role_that_records_the_original() {
    use crate::access::{Action, action_for};
    let case = given(&[
        adult(),
        Event::CaseTransferred(CaseTransferred {
            to_caseworker: COLLEAGUE,
        }),
        closed_as(Status::Identified),
        Event::PersonalDataErased(PersonalDataErased {
            reason: ErasureReason::SafetyRisk,
        }),
        assisted(),
    ]);
    let void = |id: u128| Command::VoidEvent {
        event_id: Uuid::from_u128(id),
    };
    assert_eq!(action_for(&void(2), &case), Action::SuperviseRecord);
    assert_eq!(action_for(&void(3), &case), Action::SuperviseRecord);
    assert_eq!(action_for(&void(4), &case), Action::EraseRecord);
    assert_eq!(action_for(&void(5), &case), Action::WriteRecord);
    assert_eq!(
        action_for(
            &Command::TransferCase {
                to_caseworker: CASEWORKER
            },
            &case
        ),
        Action::SuperviseRecord,
        "re-pointing a transfer is a transfer"
    );
}

mod property {
    use proptest::prelude::*;

    use super::*;
    use crate::access::{Principal, RecordOwner, Role, Scope, authorize};
    use crate::projection::Plan;
    use crate::testing::{ORGANISATIONS, Step, play_as};

    /// The actor of a step: a role (by `minutes`), of the stream's organisation or the other.
    fn actor(step: &Step) -> Principal {
        Principal {
            user: Uuid::from_u128(0xC0),
            organisation: ORGANISATIONS[usize::from(step.minutes.is_multiple_of(7))],
            role: Role::ALL[usize::from(step.minutes) % Role::ALL.len()],
            scopes: (step.minutes.is_multiple_of(3)).then(|| vec![Scope::Write]),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// Random histories, then random commands of every kind (new, backdated, corrections
        /// and voids of earlier facts, by random roles of either organisation): after each
        /// accepted command, the history obeys the rules.
        #[test]
        fn every_accepted_command_leaves_a_history_that_obeys_the_rules(steps in crate::testing::steps(250)) {
            let entries = play_as(&steps, 3, |step, case, request| {
                let Some(plan) = Plan::of(case, 0) else { return true };
                let principal = Principal {
                    organisation: if step.minutes.is_multiple_of(7) {
                        ORGANISATIONS.iter().copied().find(|o| *o != plan.organisation).unwrap()
                    } else {
                        plan.organisation
                    },
                    ..actor(step)
                };
                let action = crate::access::action_for(&request.command, case);
                authorize(&principal, action, Some(&RecordOwner::of(&plan)))
                    == crate::access::Access::Allowed
            });
            let mut cases: std::collections::HashMap<Uuid, Case> = Default::default();
            for e in &entries {
                let case = cases.entry(e.beneficiary).or_default();
                case.apply(e.id, e.occurred_on, &e.event);
                prop_assert_eq!(
                    crate::rules::verify(case, crate::testing::today()),
                    Ok(()),
                    "after {:?}",
                    e
                );
                // The incremental case equals the case folded from the stream at once.
                let stream: Vec<_> = entries
                    .iter()
                    .filter(|x| x.beneficiary == e.beneficiary && x.version <= e.version)
                    .map(|x| (x.id, x.occurred_on, &x.event))
                    .collect();
                prop_assert_eq!(&Case::from_events(stream), &*case);
            }
        }
    }

    #[test]
    fn random_commands_include_every_kind_accepted() {
        let entries = crate::testing::play(&crate::testing::seeded_steps(7, 4_000, 4, 30), 4);
        let mut kinds: std::collections::BTreeSet<&str> =
            entries.iter().map(|e| e.event.type_name()).collect();
        for e in &entries {
            if let Event::EventCorrected(c) = &e.event {
                kinds.insert(match c.occurred_on {
                    Some(_) => "correction",
                    None => "old correction",
                });
            }
        }
        for kind in [
            "BeneficiaryRegistered",
            "StatusChanged",
            "ServiceDelivered",
            "CaseClosed",
            "CaseReopened",
            "EventCorrected",
            "EventVoided",
            "PersonalDataErased",
            "ReferralAccepted",
        ] {
            assert!(kinds.contains(kind), "{kind} missing from {kinds:?}");
        }
        let backdated = entries
            .windows(2)
            .filter(|w| w[0].beneficiary == w[1].beneficiary && w[1].occurred_on < w[0].occurred_on)
            .count();
        assert!(backdated > 20, "{backdated} backdated entries");
    }
}
