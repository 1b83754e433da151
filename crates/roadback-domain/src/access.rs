//! Who may do what: roles, token scopes and the one policy every API resolver asks.
//!
//! The policy is pure: it sees the signed-in principal, the action and, for a beneficiary's
//! record, the record's organisation and the organisations it is shared with (a referral with
//! consent to share data in force). A record the principal may not know about is `NotFound`,
//! not `Forbidden`, so another organisation's beneficiaries cannot be discovered by probing.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::case::Case;
use crate::command::Command;
use crate::projection::Plan;
use crate::vocabulary::ConsentScope;

/// A user's role in their organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages the organisation's users, tokens and settings; reads the access log. Does not
    /// read case records.
    Administrator,
    /// Oversees the organisation's caseload: reads and records, reassigns and closes cases.
    Supervisor,
    /// Records and reads the organisation's cases.
    Caseworker,
    /// Works with de-identified evaluation data only.
    Evaluator,
    /// A system acting through an API token, limited by the token's scopes.
    Integrator,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::Administrator,
        Role::Supervisor,
        Role::Caseworker,
        Role::Evaluator,
        Role::Integrator,
    ];

    /// The stored code, e.g. `caseworker`.
    pub fn code(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Supervisor => "supervisor",
            Role::Caseworker => "caseworker",
            Role::Evaluator => "evaluator",
            Role::Integrator => "integrator",
        }
    }

    /// The role of a stored code.
    pub fn from_code(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// What an API token may do (sessions are limited by the role alone).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    /// Read beneficiaries' records and the caseload.
    Read,
    /// Record events on beneficiaries' records.
    Write,
    /// Together with read or write: see or record personal data (names, contacts...).
    PersonalData,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Write, Scope::PersonalData];

    /// The code used in tokens and the API, e.g. `read`.
    pub fn code(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::PersonalData => "personal_data",
        }
    }

    /// The scope of a code.
    pub fn from_code(code: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// The signed-in user (or token) a request acts for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The user.
    pub user: Uuid,
    /// Their organisation.
    pub organisation: Uuid,
    /// Their role.
    pub role: Role,
    /// For an API token, its scopes; `None` for a signed-in session.
    pub scopes: Option<Vec<Scope>>,
}

impl Principal {
    /// True when the principal holds `scope`: a token when it was granted, a session always
    /// (limited by the role alone), except an integrator's, which acts only through tokens.
    fn has_scope(&self, scope: Scope) -> bool {
        match &self.scopes {
            Some(scopes) => scopes.contains(&scope),
            None => self.role != Role::Integrator,
        }
    }
}

impl Action {
    /// The token scopes the action needs, whatever the role: reading needs `read`, changing
    /// needs `write`, personal data `personal_data` as well.
    pub fn scopes(self) -> &'static [Scope] {
        match self {
            Action::ReadDirectory => &[],
            Action::ReadUsers
            | Action::ReadAccessLog
            | Action::ReadCaseload
            | Action::ReadRecord
            | Action::ReadEvaluation => &[Scope::Read],
            Action::ManageUsers | Action::WriteRecord | Action::SuperviseRecord => &[Scope::Write],
            Action::ReadPersonalData => &[Scope::Read, Scope::PersonalData],
            Action::WritePersonalData | Action::EraseRecord => &[Scope::Write, Scope::PersonalData],
        }
    }
}

/// What a request wants to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// See organisations, the service catalogue, the indicator framework, oneself.
    ReadDirectory,
    /// List the organisation's users.
    ReadUsers,
    /// Create users and API tokens, revoke tokens.
    ManageUsers,
    /// Read the access log.
    ReadAccessLog,
    /// See the caseload and the list of beneficiaries.
    ReadCaseload,
    /// Read one beneficiary's record.
    ReadRecord,
    /// Record an event on a beneficiary's record (or register one).
    WriteRecord,
    /// Reassign, close or reopen a case.
    SuperviseRecord,
    /// See a beneficiary's personal data (names, contacts, notes).
    ReadPersonalData,
    /// Record or change a beneficiary's personal data.
    WritePersonalData,
    /// Erase a beneficiary's personal data for good.
    EraseRecord,
    /// Read de-identified evaluation data (evaluators: the whole program; supervisors: their
    /// organisation's).
    ReadEvaluation,
}

/// Whose record an action concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordOwner {
    /// The organisation assisting the beneficiary.
    pub organisation: Uuid,
    /// Other organisations the record is shared with.
    pub shared_with: Vec<Uuid>,
}

impl RecordOwner {
    /// The owner of a registered case, as [`RecordOwner::of`] its plan, without building the
    /// plan (which lists every goal and service: a command needs only the owner).
    pub fn of_case(case: &Case) -> Option<Self> {
        let registration = case.registration.as_ref()?;
        let shared_with = case
            .referrals
            .values()
            .map(|r| r.to_organisation)
            .filter(|org| case.has_consent(ConsentScope::DataSharing { organisation: *org }))
            .collect();
        Some(Self {
            organisation: registration.organisation,
            shared_with,
        })
    }

    /// The owner of a plan: its organisation, and each organisation it was referred to while
    /// consent to share data with that organisation is in force.
    pub fn of(plan: &Plan) -> Self {
        let shared_with = plan
            .referrals
            .iter()
            .map(|r| r.referral.to_organisation)
            .filter(|org| {
                plan.consents
                    .iter()
                    .any(|c| c.scope == ConsentScope::DataSharing { organisation: *org })
            })
            .collect();
        Self {
            organisation: plan.organisation,
            shared_with,
        }
    }
}

/// The policy's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Go ahead.
    Allowed,
    /// The principal knows the thing exists but may not do this.
    Forbidden,
    /// As far as the principal is concerned, there is no such record.
    NotFound,
}

/// Decides whether `principal` may do `action` (on `record`, for record actions): the role
/// allows it and, for a token, its scopes cover it ([`Action::scopes`]).
pub fn authorize(principal: &Principal, action: Action, record: Option<&RecordOwner>) -> Access {
    use Role::*;
    let role = principal.role;
    let scoped = action.scopes().iter().all(|s| principal.has_scope(*s));
    let allowed = |yes: bool| {
        if yes && scoped {
            Access::Allowed
        } else {
            Access::Forbidden
        }
    };
    match action {
        Action::ReadDirectory => Access::Allowed,
        Action::ReadUsers => allowed(matches!(role, Administrator | Supervisor)),
        Action::ManageUsers => allowed(role == Administrator),
        // Supervisors oversee who reads their organisation's cases.
        Action::ReadAccessLog => allowed(matches!(role, Administrator | Supervisor)),
        Action::ReadEvaluation => allowed(matches!(role, Evaluator | Supervisor)),
        Action::ReadCaseload => allowed(matches!(role, Supervisor | Caseworker | Integrator)),
        Action::ReadRecord
        | Action::WriteRecord
        | Action::SuperviseRecord
        | Action::ReadPersonalData
        | Action::WritePersonalData
        | Action::EraseRecord => {
            let Some(record) = record else {
                return Access::NotFound;
            };
            let own = record.organisation == principal.organisation;
            let shared = record.shared_with.contains(&principal.organisation);
            if !own && !shared {
                return Access::NotFound;
            }
            let may = scoped
                && match action {
                    Action::ReadRecord
                    | Action::WriteRecord
                    | Action::ReadPersonalData
                    | Action::WritePersonalData => {
                        matches!(role, Supervisor | Caseworker | Integrator)
                    }
                    Action::EraseRecord => own && matches!(role, Supervisor | Administrator),
                    _ => own && role == Supervisor,
                };
            if may {
                Access::Allowed
            } else if own {
                Access::Forbidden
            } else {
                Access::NotFound
            }
        }
    }
}

/// The action recording an event of this type needs; correcting or voiding it needs the same.
pub fn action_to_record(event_type: &str) -> Action {
    match event_type {
        "CaseTransferred" | "CaseClosed" | "CaseReopened" => Action::SuperviseRecord,
        "PersonalDataRecorded" => Action::WritePersonalData,
        "PersonalDataErased" => Action::EraseRecord,
        _ => Action::WriteRecord,
    }
}

/// The action a command needs on the record: the one recording its entry needs, or for a void,
/// the one recording the voided entry needed (so only a supervisor voids a closure).
pub fn action_for(command: &Command, case: &Case) -> Action {
    let event_type = match command {
        Command::VoidEvent { event_id } => case.recorded.get(event_id).copied(),
        other => other.records(),
    };
    event_type.map_or(Action::WriteRecord, action_to_record)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: Uuid = Uuid::from_u128(1);
    const OTHER: Uuid = Uuid::from_u128(2);

    fn principal(role: Role, scopes: Option<Vec<Scope>>) -> Principal {
        Principal {
            user: Uuid::from_u128(9),
            organisation: ORG,
            role,
            scopes,
        }
    }

    fn record(organisation: Uuid, shared_with: Vec<Uuid>) -> RecordOwner {
        RecordOwner {
            organisation,
            shared_with,
        }
    }

    #[test]
    fn another_organisations_record_does_not_exist_unless_shared() {
        let caseworker = principal(Role::Caseworker, None);
        let theirs = record(OTHER, vec![]);
        for action in [
            Action::ReadRecord,
            Action::WriteRecord,
            Action::SuperviseRecord,
        ] {
            assert_eq!(
                authorize(&caseworker, action, Some(&theirs)),
                Access::NotFound
            );
        }
        let shared = record(OTHER, vec![ORG]);
        assert_eq!(
            authorize(&caseworker, Action::ReadRecord, Some(&shared)),
            Access::Allowed
        );
        let supervisor = principal(Role::Supervisor, None);
        assert_eq!(
            authorize(&supervisor, Action::SuperviseRecord, Some(&shared)),
            Access::NotFound,
            "only the assisting organisation reassigns or closes"
        );
    }

    #[test]
    fn roles_and_scopes_limit_own_records() {
        let ours = record(ORG, vec![]);
        let cases = [
            (Role::Administrator, None, [false, false, false]),
            (Role::Evaluator, None, [false, false, false]),
            (Role::Caseworker, None, [true, true, false]),
            (Role::Supervisor, None, [true, true, true]),
            (
                Role::Integrator,
                Some(vec![Scope::Read]),
                [true, false, false],
            ),
            (
                Role::Integrator,
                Some(vec![Scope::Write]),
                [false, true, false],
            ),
        ];
        for (role, scopes, expected) in cases {
            let p = principal(role, scopes);
            for (action, yes) in [
                Action::ReadRecord,
                Action::WriteRecord,
                Action::SuperviseRecord,
            ]
            .into_iter()
            .zip(expected)
            {
                let want = if yes {
                    Access::Allowed
                } else {
                    Access::Forbidden
                };
                assert_eq!(
                    authorize(&p, action, Some(&ours)),
                    want,
                    "{role:?} {action:?}"
                );
            }
        }
    }

    #[test]
    fn token_scopes_bound_every_role_and_an_integrator_acts_only_through_tokens() {
        use Access::*;
        use Action::*;
        let ours = record(ORG, vec![]);
        let read = || Some(vec![Scope::Read]);
        let cases = [
            (Role::Caseworker, read(), ReadRecord, Allowed),
            (Role::Caseworker, read(), WriteRecord, Forbidden),
            (Role::Caseworker, read(), ReadPersonalData, Forbidden),
            (Role::Caseworker, read(), WritePersonalData, Forbidden),
            (Role::Supervisor, read(), SuperviseRecord, Forbidden),
            (Role::Supervisor, read(), EraseRecord, Forbidden),
            (
                Role::Supervisor,
                Some(vec![Scope::Write, Scope::PersonalData]),
                EraseRecord,
                Allowed,
            ),
            (Role::Administrator, read(), ManageUsers, Forbidden),
            (Role::Administrator, read(), ReadAccessLog, Allowed),
            (Role::Supervisor, read(), ReadAccessLog, Allowed),
            (Role::Caseworker, read(), ReadAccessLog, Forbidden),
            (Role::Administrator, read(), EraseRecord, Forbidden),
            (
                Role::Evaluator,
                Some(vec![Scope::Write]),
                ReadEvaluation,
                Forbidden,
            ),
            // A signed-in integrator (no token) may do nothing but read the directory.
            (Role::Integrator, None, ReadRecord, Forbidden),
            (Role::Integrator, None, ReadCaseload, Forbidden),
            (Role::Integrator, None, ReadDirectory, Allowed),
        ];
        for (role, scopes, action, want) in cases {
            let p = principal(role, scopes.clone());
            let record = matches!(
                action,
                ReadRecord
                    | WriteRecord
                    | SuperviseRecord
                    | ReadPersonalData
                    | WritePersonalData
                    | EraseRecord
            )
            .then_some(&ours);
            assert_eq!(
                authorize(&p, action, record),
                want,
                "{role:?} {scopes:?} {action:?}"
            );
        }
    }

    #[test]
    fn personal_data_needs_its_scope_and_erasure_a_supervisor_or_administrator() {
        let ours = record(ORG, vec![]);
        let read = Some(vec![Scope::Read]);
        let read_personal = Some(vec![Scope::Read, Scope::PersonalData]);
        let cases = [
            (
                Role::Caseworker,
                None,
                Action::ReadPersonalData,
                Access::Allowed,
            ),
            (
                Role::Evaluator,
                None,
                Action::ReadPersonalData,
                Access::Forbidden,
            ),
            (
                Role::Administrator,
                None,
                Action::ReadPersonalData,
                Access::Forbidden,
            ),
            (
                Role::Integrator,
                read.clone(),
                Action::ReadPersonalData,
                Access::Forbidden,
            ),
            (
                Role::Integrator,
                read_personal,
                Action::ReadPersonalData,
                Access::Allowed,
            ),
            (
                Role::Integrator,
                Some(vec![Scope::Write]),
                Action::WritePersonalData,
                Access::Forbidden,
            ),
            (
                Role::Administrator,
                None,
                Action::EraseRecord,
                Access::Allowed,
            ),
            (Role::Supervisor, None, Action::EraseRecord, Access::Allowed),
            (
                Role::Caseworker,
                None,
                Action::EraseRecord,
                Access::Forbidden,
            ),
        ];
        for (role, scopes, action, want) in cases {
            assert_eq!(
                authorize(&principal(role, scopes), action, Some(&ours)),
                want,
                "{role:?} {action:?}"
            );
        }
        let shared = record(OTHER, vec![ORG]);
        assert_eq!(
            authorize(
                &principal(Role::Supervisor, None),
                Action::EraseRecord,
                Some(&shared)
            ),
            Access::NotFound,
            "only the assisting organisation erases"
        );
    }

    #[test]
    fn codes_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::from_code(role.code()), Some(role));
        }
        for scope in Scope::ALL {
            assert_eq!(Scope::from_code(scope.code()), Some(scope));
        }
    }
}
