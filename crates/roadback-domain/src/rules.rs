//! The rules every fact of a history obeys, checked against the case as it stood just before
//! the fact (facts in the order they count: registration, then valid time, then recording).
//!
//! [`admit`] is the one place the rules live: [`decide`](crate::decide) runs it for the fact a
//! command would add and for every fact after it, and [`verify`] runs it over a whole history.
//! Fields named in rejections are the API's input fields of the command that records the fact.

use chrono::{Datelike, Months, NaiveDate};

use crate::case::{Case, Fact, GoalState};
use crate::decide::{Rejection, RejectionCode, reject};
use crate::events::{BeneficiaryRegistered, BeneficiaryRole, Event, ServiceDelivered};
use crate::status::Status;
use crate::vocabulary::{ConsentGiver, ConsentScope};

/// Age below which consent must come from a guardian.
pub const AGE_OF_CONSENT: i32 = 18;
/// No date of a record is before this day.
pub const EARLIEST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(day) => day,
    None => panic!("valid date"),
};
/// How far ahead a plan may look (targets, reviews), in years from the day it was agreed.
pub const PLAN_HORIZON_YEARS: u32 = 10;
/// The longest single delivery of a service, in years.
pub const LONGEST_DELIVERY_YEARS: u32 = 10;
/// The largest amount of one delivery, in minor units.
pub const LARGEST_AMOUNT: i64 = 100_000_000_000;
/// The longest case code, in characters.
pub const CASE_CODE_MAX: usize = 40;

/// Checks `fact` against `case`, the case as it stood just before it; `today` bounds dates.
pub fn admit(case: &Case, fact: &Fact, today: NaiveDate) -> Result<(), Rejection> {
    use RejectionCode::*;
    let on = fact.occurred_on;
    if on > today {
        return Err(reject(
            InTheFuture,
            Some("occurredOn"),
            format!("{on} is in the future; record facts once they have happened"),
        ));
    }
    if on < EARLIEST_DAY {
        return Err(reject(
            InvalidValue,
            Some("occurredOn"),
            format!("{on} is not a plausible date for this record"),
        ));
    }
    let Some(registration) = &case.registration else {
        return match &fact.event {
            Event::BeneficiaryRegistered(r) => registered(r, on, today),
            _ => Err(reject(
                NotRegistered,
                None,
                "register the beneficiary before recording anything else",
            )),
        };
    };
    let pre_program = matches!(&fact.event, Event::ServiceDelivered(d) if d.pre_program);
    if on < registration.identified_on && !pre_program {
        return Err(reject(
            BeforeIdentification,
            Some("occurredOn"),
            format!(
                "{on} is before the identification date {}; only a service from before the program can be dated earlier, marked as such",
                registration.identified_on
            ),
        ));
    }
    if let Some(born) = registration.birth.and_then(|b| b.earliest_day())
        && on < born
    {
        return Err(reject(
            BeforeBirth,
            Some("occurredOn"),
            format!("{on} is before the person was born"),
        ));
    }
    let allowed_when_closed = matches!(
        fact.event,
        Event::FollowUpContactMade(_)
            | Event::CaseReopened(_)
            // Withdrawing consent and erasure are the person's rights at any time.
            | Event::ConsentWithdrawn(_)
            | Event::PersonalDataErased(_)
            | Event::PersonalDataRecorded(_)
    );
    if case.closed && !allowed_when_closed {
        return Err(reject(
            CaseClosed,
            None,
            format!(
                "the case was closed on {on}: record a follow-up contact, reopen the case, or date the entry before the closure"
            ),
        ));
    }
    if needs_consent_to_assistance(&fact.event) && !case.has_consent(ConsentScope::Assistance) {
        return Err(reject(
            ConsentRequired,
            None,
            format!(
                "on {on} the person had no consent to assistance in force: record their consent (a guardian's for a child) first, dated on or before this entry"
            ),
        ));
    }
    if matches!(fact.event, Event::FollowUpContactMade(_))
        && case.withdrawn.contains(&ConsentScope::FollowUpContact)
    {
        return Err(reject(
            ConsentRequired,
            None,
            "the person had withdrawn their consent to follow-up contact",
        ));
    }
    let plan_date = |field: &'static str, date: Option<NaiveDate>| plan_date(field, on, date);
    let open_goal = |goal| {
        if case
            .goals
            .get(&goal)
            .is_some_and(|g| g.state == GoalState::Open)
        {
            Ok(())
        } else {
            Err(reject(
                UnknownReference,
                Some("goalId"),
                format!("on {on} the plan had no open goal with this id"),
            ))
        }
    };
    let status = case.status.unwrap_or(Status::Identified);
    match &fact.event {
        Event::BeneficiaryRegistered(_) => Err(reject(
            AlreadyRegistered,
            None,
            "this beneficiary is already registered",
        )),
        Event::ConsentGiven(c) => {
            let minor = registration
                .birth
                .is_some_and(|birth| birth.age_on(on) < AGE_OF_CONSENT);
            if minor && c.given_by != ConsentGiver::Guardian {
                return Err(reject(
                    GuardianRequired,
                    Some("givenBy"),
                    format!(
                        "the person was under {AGE_OF_CONSENT} on {on}: consent must be given by a parent or guardian"
                    ),
                ));
            }
            not_own_organisation(c.scope, registration)
        }
        Event::ConsentWithdrawn(c) => {
            if !case.has_consent(c.scope) {
                return Err(reject(
                    ConsentNotInForce,
                    Some("kind"),
                    format!("on {on} this consent was not in force, so it cannot be withdrawn"),
                ));
            }
            Ok(())
        }
        Event::PlanGoalSet(g) => {
            if case.goals.contains_key(&g.goal_id) {
                return Err(reject(
                    InvalidValue,
                    None,
                    "a goal with this id is already in the plan",
                ));
            }
            plan_date("targetOn", g.target_on)
        }
        Event::PlanGoalRevised(g) => {
            open_goal(g.goal_id)?;
            plan_date("targetOn", g.target_on)
        }
        Event::PlanGoalAchieved(g) => open_goal(g.goal_id),
        Event::PlanGoalAbandoned(g) => open_goal(g.goal_id),
        Event::ReviewScheduled(r) => plan_date("dueOn", Some(r.due_on)),
        Event::PlanReviewed(r) => plan_date("nextReviewOn", r.next_review_on),
        Event::ServicePlanned(s) => {
            if case.services.contains_key(&s.service_id) {
                return Err(reject(
                    InvalidValue,
                    None,
                    "a service with this id is already in the plan",
                ));
            }
            s.goal_id.map_or(Ok(()), open_goal)
        }
        Event::ServiceDelivered(d) => delivered(case, d, on, registration, today),
        Event::ServiceDiscontinued(s) => {
            if case
                .services
                .get(&s.service_id)
                .is_some_and(|s| s.is_active())
            {
                Ok(())
            } else {
                Err(reject(
                    UnknownReference,
                    Some("serviceId"),
                    format!("on {on} there was no planned or running service with this id"),
                ))
            }
        }
        Event::AssessmentRecorded(a) if a.scores.is_empty() => Err(reject(
            InvalidValue,
            Some("scores"),
            "an assessment needs at least one domain score",
        )),
        Event::StatusChanged(s) if !status.can_become(s.to) => Err(reject(
            InvalidTransition,
            Some("to"),
            format!(
                "on {on} the status was \"{}\", which cannot change to \"{}\"",
                status.label(),
                s.to.label()
            ),
        )),
        Event::ReferredToOrganisation(r) => {
            if r.to_organisation == registration.organisation {
                return Err(reject(
                    InvalidValue,
                    Some("toOrganisationId"),
                    "a case cannot be referred to the organisation that assists the person",
                ));
            }
            if case.referrals.contains_key(&r.referral_id) {
                return Err(reject(InvalidValue, None, "a referral with this id exists"));
            }
            let consent = ConsentScope::DataSharing {
                organisation: r.to_organisation,
            };
            if case.has_consent(consent) {
                Ok(())
            } else {
                Err(reject(
                    ConsentRequired,
                    Some("toOrganisationId"),
                    format!(
                        "on {on} the person had not consented to share their case with that organisation"
                    ),
                ))
            }
        }
        Event::ReferralAccepted(r) => match case.referrals.get(&r.referral_id) {
            Some(referral) if !referral.accepted => Ok(()),
            _ => Err(reject(
                UnknownReference,
                Some("referralId"),
                format!("on {on} there was no open referral with this id"),
            )),
        },
        Event::CaseClosed(c) if c.outcome != status => Err(reject(
            OutcomeChanged,
            None,
            format!(
                "the case was closed on {on} with the status \"{}\", but the status that day would be \"{}\"; a supervisor must void the closure before what came before it changes",
                c.outcome.label(),
                status.label()
            ),
        )),
        Event::CaseReopened(_) if !case.closed => {
            Err(reject(CaseOpen, None, format!("on {on} the case was open")))
        }
        Event::EventCorrected(_) | Event::EventVoided(_) => Err(reject(
            UnknownEvent,
            None,
            "corrections and voids amend facts; they are not facts themselves",
        )),
        _ => Ok(()),
    }
}

/// Checks a whole history: each fact admitted against the case before it; the first fact that
/// breaks a rule (its id and the rejection), if one does.
pub fn verify(case: &Case, today: NaiveDate) -> Result<(), (uuid::Uuid, Rejection)> {
    let mut state = Case::default();
    for fact in &case.facts {
        admit(&state, fact, today).map_err(|r| (fact.id, r))?;
        state.evolve(fact);
    }
    Ok(())
}

/// Statuses that are stages of assistance, and so need consent to assistance; exits (drop-out,
/// lost contact, re-trafficking, moving abroad, death) are recorded whatever the consent.
fn needs_consent_to_assistance(event: &Event) -> bool {
    match event {
        Event::ServicePlanned(_) | Event::PlanGoalSet(_) | Event::PlanGoalRevised(_) => true,
        Event::ServiceDelivered(d) => !d.pre_program,
        Event::StatusChanged(s) => !s.to.is_exit() || s.to == Status::Reintegrated,
        _ => false,
    }
}

fn registered(r: &BeneficiaryRegistered, on: NaiveDate, today: NaiveDate) -> Result<(), Rejection> {
    use RejectionCode::*;
    let code = &r.case_code;
    if code.is_empty()
        || code.chars().count() > CASE_CODE_MAX
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
    {
        return Err(reject(
            InvalidValue,
            Some("caseCode"),
            format!(
                "the case code must have 1 to {CASE_CODE_MAX} letters, digits, '-', '_', '.' or '/' (a code, never a name)"
            ),
        ));
    }
    if let Some(birth) = r.birth {
        if birth.month.is_some_and(|m| !(1..=12).contains(&m)) {
            return Err(reject(
                InvalidValue,
                Some("birthMonth"),
                "the birth month must be 1 to 12",
            ));
        }
        if birth.year < EARLIEST_DAY.year() || birth.year > today.year() {
            return Err(reject(
                InvalidValue,
                Some("birthYear"),
                format!(
                    "the birth year must be between {} and {}",
                    EARLIEST_DAY.year(),
                    today.year()
                ),
            ));
        }
        if birth.earliest_day().is_some_and(|b| r.identified_on < b) {
            return Err(reject(
                BeforeBirth,
                Some("identifiedOn"),
                "the identification date is before the person was born",
            ));
        }
    }
    if r.identified_on < EARLIEST_DAY || r.identified_on > today {
        return Err(reject(
            InvalidValue,
            Some("identifiedOn"),
            format!("the identification date must be between {EARLIEST_DAY} and today"),
        ));
    }
    if on < r.identified_on {
        return Err(reject(
            BeforeIdentification,
            Some("occurredOn"),
            "a person cannot be registered before the day they were identified",
        ));
    }
    if matches!(r.role, BeneficiaryRole::Secondary { .. }) && !r.forms_of_exploitation.is_empty() {
        return Err(reject(
            InvalidValue,
            Some("formsOfExploitation"),
            "forms of exploitation are recorded for the trafficked person, not for family members",
        ));
    }
    Ok(())
}

fn delivered(
    case: &Case,
    d: &ServiceDelivered,
    on: NaiveDate,
    registration: &BeneficiaryRegistered,
    today: NaiveDate,
) -> Result<(), Rejection> {
    use RejectionCode::*;
    if d.from != on {
        return Err(reject(
            InvalidValue,
            Some("from"),
            "a delivery is dated by its first day: from must be the same day as occurredOn",
        ));
    }
    if d.pre_program && on >= registration.identified_on {
        return Err(reject(
            InvalidValue,
            Some("preProgram"),
            format!(
                "a service from before the program is dated before the identification date {}",
                registration.identified_on
            ),
        ));
    }
    if let Some(to) = d.to {
        if to < d.from {
            return Err(reject(
                InvalidValue,
                Some("to"),
                "a service cannot end before it starts",
            ));
        }
        if to > today {
            return Err(reject(
                InTheFuture,
                Some("to"),
                format!(
                    "{to} is in the future; record the delivery up to today and extend it later"
                ),
            ));
        }
        if d.from
            .checked_add_months(Months::new(12 * LONGEST_DELIVERY_YEARS))
            < Some(to)
        {
            return Err(reject(
                InvalidValue,
                Some("to"),
                format!(
                    "one delivery lasts at most {LONGEST_DELIVERY_YEARS} years; record longer support as several deliveries"
                ),
            ));
        }
    }
    if let Some(amount) = d.amount
        && !(0..=LARGEST_AMOUNT).contains(&amount.minor_units)
    {
        return Err(reject(
            InvalidValue,
            Some("amountMinorUnits"),
            "the amount must be zero or more, in minor units (cents), and plausible",
        ));
    }
    match case.services.get(&d.service_id) {
        Some(service) if !service.is_active() => Err(reject(
            UnknownReference,
            Some("serviceId"),
            format!("on {on} this service had been discontinued"),
        )),
        Some(service) if service.service != d.service => Err(reject(
            InvalidValue,
            Some("service"),
            format!(
                "this service is {}, so a delivery of it is {} too",
                service.service.label(),
                service.service.label()
            ),
        )),
        _ => Ok(()),
    }
}

fn plan_date(field: &'static str, on: NaiveDate, date: Option<NaiveDate>) -> Result<(), Rejection> {
    let Some(date) = date else { return Ok(()) };
    let horizon = on.checked_add_months(Months::new(12 * PLAN_HORIZON_YEARS));
    if date < on || Some(date) > horizon {
        return Err(reject(
            RejectionCode::InvalidValue,
            Some(field),
            format!(
                "{date} must be on or after the day it is agreed ({on}) and within {PLAN_HORIZON_YEARS} years of it"
            ),
        ));
    }
    Ok(())
}

fn not_own_organisation(
    scope: ConsentScope,
    registration: &BeneficiaryRegistered,
) -> Result<(), Rejection> {
    match scope {
        ConsentScope::DataSharing { organisation } if organisation == registration.organisation => {
            Err(reject(
                RejectionCode::InvalidValue,
                Some("organisationId"),
                "consent to share data names another organisation than the one assisting the person",
            ))
        }
        _ => Ok(()),
    }
}
