//! Mutations: one per command of the domain, each with `expectedVersion` and `idempotencyKey`,
//! through the pipeline of [`crate::command`]; sign-in and sign-out; users and API tokens.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{Duration, NaiveDate, Utc};
use roadback_domain::access::{Action, RecordOwner};
use roadback_domain::events::{self as ev, BeneficiaryRole};
use roadback_domain::vocabulary::{ConsentScope, CountryCode, YearMonth};
use roadback_domain::{AsOf, Event, Request};
use uuid::Uuid;

use crate::auth::{self, SESSION_COOKIE};
use crate::command::{Change, NewRecord, new_id, record, record_with};
use crate::context::{guard, load_history, session, state};
use crate::error::ApiError;
use crate::types::*;

/// Registers a beneficiary.
#[derive(InputObject)]
pub struct RegisterBeneficiaryInput {
    /// A key unique to this registration (a retry returns the same beneficiary).
    pub idempotency_key: String,
    /// The day of registration (intake).
    pub occurred_on: NaiveDate,
    /// The organisation's case code (not a name).
    pub case_code: String,
    /// The caseworker responsible (default: the signed-in user).
    pub caseworker_id: Option<Uuid>,
    /// Gender.
    pub gender: Gender,
    /// Year of birth, when known.
    pub birth_year: Option<i32>,
    /// Month of birth (1–12), when known; with the year.
    pub birth_month: Option<u32>,
    /// Citizenship (ISO 3166-1 alpha-2, e.g. `AL`; `XK` for Kosovo).
    pub citizenship: String,
    /// Country of assistance (ISO 3166-1 alpha-2).
    pub country_of_assistance: String,
    /// The day they were identified as trafficked.
    pub identified_on: NaiveDate,
    /// How they came to the program.
    pub identification_route: IdentificationRoute,
    /// Forms of exploitation suffered (empty for a family member).
    #[graphql(default)]
    pub forms_of_exploitation: Vec<FormOfExploitation>,
    /// For a family member: the primary beneficiary they are linked to.
    pub primary_beneficiary_id: Option<Uuid>,
    /// For a family member: how they are related.
    pub relationship: Option<Relationship>,
    /// The person's identifying details, kept in the encrypted vault (needs the right to
    /// record personal data).
    pub personal_data: Option<crate::personal::PersonalDataInput>,
}

/// Consent given.
#[derive(InputObject)]
pub struct GiveConsentInput {
    #[graphql(flatten)]
    change: Change,
    /// What it covers.
    pub kind: ConsentKind,
    /// For data sharing: the organisation.
    pub organisation_id: Option<Uuid>,
    /// The person, or a guardian for a child.
    pub given_by: ConsentGiver,
    /// How it was evidenced.
    pub evidence: ConsentEvidence,
}

/// Consent withdrawn.
#[derive(InputObject)]
pub struct WithdrawConsentInput {
    #[graphql(flatten)]
    change: Change,
    /// What no longer is covered.
    pub kind: ConsentKind,
    /// For data sharing: the organisation.
    pub organisation_id: Option<Uuid>,
    /// Who withdrew it.
    pub withdrawn_by: ConsentGiver,
}

/// A plan goal agreed.
#[derive(InputObject)]
pub struct SetPlanGoalInput {
    #[graphql(flatten)]
    change: Change,
    /// The domain it serves.
    pub domain: ReintegrationDomain,
    /// When it should be reached.
    pub target_on: Option<NaiveDate>,
}

/// A plan goal revised.
#[derive(InputObject)]
pub struct RevisePlanGoalInput {
    #[graphql(flatten)]
    change: Change,
    /// The goal.
    pub goal_id: Uuid,
    /// Its domain now.
    pub domain: ReintegrationDomain,
    /// Its target date now.
    pub target_on: Option<NaiveDate>,
}

/// A plan goal achieved or abandoned.
#[derive(InputObject)]
pub struct GoalInput {
    #[graphql(flatten)]
    change: Change,
    /// The goal.
    pub goal_id: Uuid,
}

/// A review scheduled.
#[derive(InputObject)]
pub struct ScheduleReviewInput {
    #[graphql(flatten)]
    change: Change,
    /// The day it is due.
    pub due_on: NaiveDate,
}

/// The plan reviewed.
#[derive(InputObject)]
pub struct RecordPlanReviewInput {
    #[graphql(flatten)]
    change: Change,
    /// The next review, if one was set.
    pub next_review_on: Option<NaiveDate>,
}

/// A service planned.
#[derive(InputObject)]
pub struct PlanServiceInput {
    #[graphql(flatten)]
    change: Change,
    /// What kind of service.
    pub service: ServiceType,
    /// The providing organisation (none: an external provider).
    pub provider_id: Option<Uuid>,
    /// The goal it serves.
    pub goal_id: Option<Uuid>,
}

/// A service delivered.
#[derive(InputObject)]
pub struct RecordServiceDeliveryInput {
    #[graphql(flatten)]
    change: Change,
    /// A planned service's id; none for an unplanned delivery.
    pub service_id: Option<Uuid>,
    /// What kind of service.
    pub service: ServiceType,
    /// The providing organisation (none: an external provider).
    pub provider_id: Option<Uuid>,
    /// First day of delivery.
    pub from: NaiveDate,
    /// Last day of delivery (none: a single day).
    pub to: Option<NaiveDate>,
    /// Cost in minor units (cents), if recorded.
    pub amount_minor_units: Option<i64>,
    /// ISO 4217 currency of the cost, e.g. `EUR`.
    pub currency: Option<String>,
}

/// A service stopped.
#[derive(InputObject)]
pub struct DiscontinueServiceInput {
    #[graphql(flatten)]
    change: Change,
    /// The service.
    pub service_id: Uuid,
}

/// One domain's score.
#[derive(InputObject)]
pub struct DomainScoreInput {
    /// The domain.
    pub domain: ReintegrationDomain,
    /// The score on the framework's scale (1 = lowest).
    pub score: u8,
}

/// A monitoring assessment.
#[derive(InputObject)]
pub struct RecordAssessmentInput {
    #[graphql(flatten)]
    change: Change,
    /// The indicator framework version scored against.
    pub framework_version: u32,
    /// One score per assessed domain.
    pub scores: Vec<DomainScoreInput>,
}

/// A status change.
#[derive(InputObject)]
pub struct ChangeStatusInput {
    #[graphql(flatten)]
    change: Change,
    /// The status now.
    pub to: Status,
}

/// A referral to another organisation.
#[derive(InputObject)]
pub struct ReferInput {
    #[graphql(flatten)]
    change: Change,
    /// The receiving organisation.
    pub to_organisation_id: Uuid,
}

/// A referral accepted by the receiving organisation.
#[derive(InputObject)]
pub struct AcceptReferralInput {
    #[graphql(flatten)]
    change: Change,
    /// The referral.
    pub referral_id: Uuid,
}

/// The case handed to another caseworker (supervisors).
#[derive(InputObject)]
pub struct TransferCaseInput {
    #[graphql(flatten)]
    change: Change,
    /// The new caseworker.
    pub to_caseworker_id: Uuid,
}

/// A change with nothing more to say (closing, reopening).
#[derive(InputObject)]
pub struct PlainChangeInput {
    #[graphql(flatten)]
    change: Change,
}

/// A follow-up contact after closure.
#[derive(InputObject)]
pub struct FollowUpInput {
    #[graphql(flatten)]
    change: Change,
    /// The status observed, if assessed.
    pub observed_status: Option<Status>,
}

/// A correction of an earlier entry.
#[derive(InputObject)]
pub struct CorrectEventInput {
    #[graphql(flatten)]
    change: Change,
    /// The entry corrected.
    pub event_id: Uuid,
    /// What should have been recorded: the payload of an entry of the same type.
    pub replacement: async_graphql::Json<serde_json::Value>,
}

/// An earlier entry recorded in error.
#[derive(InputObject)]
pub struct VoidEventInput {
    #[graphql(flatten)]
    change: Change,
    /// The entry voided.
    pub event_id: Uuid,
}

/// The person's identifying details to keep.
#[derive(InputObject)]
pub struct RecordPersonalDataInput {
    #[graphql(flatten)]
    change: Change,
    /// The whole set of details (fields left out are removed).
    pub personal_data: crate::personal::PersonalDataInput,
}

/// An erasure of personal data.
#[derive(InputObject)]
pub struct ErasePersonalDataInput {
    #[graphql(flatten)]
    change: Change,
    /// Why (a code: the reason must not itself carry personal data).
    pub reason: crate::personal::ErasureReason,
}

/// A user to create (administrators).
#[derive(InputObject)]
pub struct CreateUserInput {
    /// Their e-mail address (their sign-in name).
    pub email: String,
    /// The name shown to colleagues.
    pub display_name: String,
    /// Their role.
    pub role: Role,
    /// A password of at least 12 characters; none for an account used only through API tokens.
    #[graphql(secret)]
    pub password: Option<String>,
}

/// An API token to issue (administrators).
#[derive(InputObject)]
pub struct IssueApiTokenInput {
    /// The user the token acts as (an integrator account of the organisation).
    pub user_id: Uuid,
    /// A name for people.
    pub name: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// Days until it stops working (none: until revoked).
    pub expires_in_days: Option<u32>,
}

/// An issued token and its secret (shown this once).
#[derive(SimpleObject)]
pub struct IssuedApiToken {
    /// The token.
    pub token: ApiToken,
    /// The secret to send as `Authorization: Bearer <secret>`; not shown again.
    pub secret: String,
}

/// The result of signing in.
#[derive(SimpleObject)]
pub struct SignInResult {
    /// The signed-in user.
    pub user: User,
    /// When the session ends.
    pub expires_at: chrono::DateTime<Utc>,
}

/// The root of mutations.
pub struct Mutation;

fn scope(kind: ConsentKind, organisation: Option<Uuid>) -> Result<ConsentScope, ApiError> {
    Ok(match (kind, organisation) {
        (ConsentKind::Assistance, None) => ConsentScope::Assistance,
        (ConsentKind::EvaluationUse, None) => ConsentScope::EvaluationUse,
        (ConsentKind::FollowUpContact, None) => ConsentScope::FollowUpContact,
        (ConsentKind::DataSharing, Some(organisation)) => {
            ConsentScope::DataSharing { organisation }
        }
        (ConsentKind::DataSharing, None) => {
            return Err(ApiError::invalid(
                "organisationId",
                "consent to share data names the organisation it may be shared with",
            ));
        }
        (_, Some(_)) => {
            return Err(ApiError::invalid(
                "organisationId",
                "only consent to share data names an organisation",
            ));
        }
    })
}

fn country(field: &str, code: &str) -> Result<CountryCode, ApiError> {
    CountryCode::new(code).ok_or_else(|| {
        ApiError::invalid(
            field,
            "use a two-letter ISO 3166 country code, e.g. AL or XK",
        )
    })
}

/// Changes: each command of the domain, sign-in and sign-out, users and tokens.
#[Object]
impl Mutation {
    /// Signs in with e-mail and password; sets the session cookie (HttpOnly, SameSite=Strict).
    async fn sign_in(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The e-mail address (any case).")] email: String,
        #[graphql(secret, desc = "The password.")] password: String,
    ) -> Result<SignInResult, ApiError> {
        let state = state(ctx);
        let (user, secret, expires_at) =
            auth::sign_in(&state.store, &email, &password, state.session_hours).await?;
        let secure = if state.secure_cookies { "; Secure" } else { "" };
        ctx.insert_http_header(
            "set-cookie",
            format!(
                "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
                state.session_hours * 3600
            ),
        );
        Ok(SignInResult {
            user: user.into(),
            expires_at,
        })
    }

    /// Signs out: ends the session and clears the cookie.
    async fn sign_out(&self, ctx: &Context<'_>) -> Result<bool, ApiError> {
        let session = session(ctx)?;
        if let Some(hash) = &session.session_hash {
            state(ctx).store.delete_session(hash).await?;
        }
        ctx.insert_http_header(
            "set-cookie",
            format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
        );
        Ok(true)
    }

    /// Creates a user in the administrator's organisation.
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: CreateUserInput,
    ) -> Result<User, ApiError> {
        let session = guard(ctx, Action::ManageUsers, None)?;
        Ok(auth::create_user(
            &state(ctx).store,
            session.user.organisation,
            &input.email,
            &input.display_name,
            input.role.into(),
            input.password.as_deref(),
        )
        .await?
        .into())
    }

    /// Issues an API token for a user of the administrator's organisation.
    async fn issue_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: IssueApiTokenInput,
    ) -> Result<IssuedApiToken, ApiError> {
        let session = guard(ctx, Action::ManageUsers, None)?;
        let store = &state(ctx).store;
        let owner = store
            .users_by_ids(&[input.user_id])
            .await?
            .into_iter()
            .find(|u| u.organisation == session.user.organisation)
            .ok_or_else(|| ApiError::NotFound("this user".into()))?;
        let scopes: Vec<_> = input.scopes.iter().map(|s| (*s).into()).collect();
        let expires = input
            .expires_in_days
            .map(|d| Utc::now() + Duration::days(i64::from(d)));
        let (token, secret) =
            auth::issue_token(store, owner.id, &input.name, &scopes, expires).await?;
        Ok(IssuedApiToken {
            token: token.into(),
            secret,
        })
    }

    /// Revokes an API token of the administrator's organisation; it stops working at once.
    async fn revoke_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token's id.")] id: Uuid,
    ) -> Result<bool, ApiError> {
        let session = guard(ctx, Action::ManageUsers, None)?;
        if state(ctx)
            .store
            .revoke_api_token(session.user.organisation, id)
            .await?
        {
            Ok(true)
        } else {
            Err(ApiError::NotFound("this token".into()))
        }
    }

    /// Registers a beneficiary with the signed-in user's organisation.
    async fn register_beneficiary(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: RegisterBeneficiaryInput,
    ) -> Result<RecordResult, ApiError> {
        let session = session(ctx)?;
        let organisation = session.user.organisation;
        // Registering is writing a record of one's own organisation.
        guard(
            ctx,
            Action::WriteRecord,
            Some(&RecordOwner {
                organisation,
                shared_with: vec![],
            }),
        )?;
        let new = NewRecord::new(session.user.id, &input.idempotency_key)?;
        let state = state(ctx);
        if let Some(result) = new.earlier_result(state).await? {
            return Ok(result);
        }
        let birth = match (input.birth_year, input.birth_month) {
            (Some(year), Some(month)) => Some(YearMonth { year, month }),
            (Some(year), None) => Some(YearMonth { year, month: 12 }),
            (None, None) => None,
            (None, Some(_)) => {
                return Err(ApiError::invalid(
                    "birthYear",
                    "a birth month needs a birth year",
                ));
            }
        };
        let role = match (input.primary_beneficiary_id, input.relationship) {
            (None, None) => BeneficiaryRole::Primary,
            (Some(primary), Some(relationship)) => BeneficiaryRole::Secondary {
                primary,
                relationship: relationship.into(),
            },
            _ => {
                return Err(ApiError::invalid(
                    "relationship",
                    "a family member needs both the primary beneficiary and the relationship",
                ));
            }
        };
        // A family member links to a primary beneficiary this user may see.
        let mut primary = None;
        if let BeneficiaryRole::Secondary { primary: id, .. } = role
            && let Some(history) = load_history(&state.store, id).await?
            && let Some(plan) = history.plan(AsOf::Now)
            && plan.role == BeneficiaryRole::Primary
            && roadback_domain::access::authorize(
                &session.principal,
                Action::ReadRecord,
                Some(&RecordOwner::of(&plan)),
            ) == roadback_domain::access::Access::Allowed
        {
            primary = Some(id);
        }
        let fact = Event::BeneficiaryRegistered(ev::BeneficiaryRegistered {
            beneficiary_id: new.beneficiary,
            organisation,
            caseworker: input.caseworker_id.unwrap_or(session.user.id),
            case_code: input.case_code.trim().to_string(),
            gender: input.gender.into(),
            birth,
            citizenship: country("citizenship", &input.citizenship)?,
            country_of_assistance: country("countryOfAssistance", &input.country_of_assistance)?,
            identified_on: input.identified_on,
            identification_route: input.identification_route.into(),
            forms_of_exploitation: input
                .forms_of_exploitation
                .iter()
                .map(|f| (*f).into())
                .collect(),
            role,
        });
        let personal = input
            .personal_data
            .map(crate::personal::PersonalDataInput::into_data)
            .transpose()?;
        let mut requests = vec![Request {
            occurred_on: input.occurred_on,
            pre_program: false,
            fact,
        }];
        if let Some(data) = &personal {
            guard(
                ctx,
                Action::WritePersonalData,
                Some(&RecordOwner {
                    organisation,
                    shared_with: vec![],
                }),
            )?;
            requests.push(Request {
                occurred_on: input.occurred_on,
                pre_program: false,
                fact: Event::PersonalDataRecorded(ev::PersonalDataRecorded {
                    fields: data.fields(),
                }),
            });
        }
        new.append(ctx, &requests, primary, personal.as_ref()).await
    }

    /// Records consent given for a scope.
    async fn give_consent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: GiveConsentInput,
    ) -> Result<RecordResult, ApiError> {
        let fact = Event::ConsentGiven(ev::ConsentGiven {
            scope: scope(input.kind, input.organisation_id)?,
            given_by: input.given_by.into(),
            evidence: input.evidence.into(),
        });
        record(ctx, &input.change, fact).await
    }

    /// Records consent withdrawn; it stops applying at once.
    async fn withdraw_consent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: WithdrawConsentInput,
    ) -> Result<RecordResult, ApiError> {
        let fact = Event::ConsentWithdrawn(ev::ConsentWithdrawn {
            scope: scope(input.kind, input.organisation_id)?,
            withdrawn_by: input.withdrawn_by.into(),
        });
        record(ctx, &input.change, fact).await
    }

    /// Agrees a goal of the individual reintegration plan (its id is in the appended event).
    async fn set_plan_goal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: SetPlanGoalInput,
    ) -> Result<RecordResult, ApiError> {
        let goal_id = new_id(ctx, &input.change)?;
        let fact = Event::PlanGoalSet(ev::PlanGoalSet {
            goal_id,
            domain: input.domain.into(),
            target_on: input.target_on,
        });
        record(ctx, &input.change, fact).await
    }

    /// Revises a goal's domain or target date.
    async fn revise_plan_goal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: RevisePlanGoalInput,
    ) -> Result<RecordResult, ApiError> {
        let fact = Event::PlanGoalRevised(ev::PlanGoalRevised {
            goal_id: input.goal_id,
            domain: input.domain.into(),
            target_on: input.target_on,
        });
        record(ctx, &input.change, fact).await
    }

    /// Records a goal achieved.
    async fn achieve_plan_goal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: GoalInput,
    ) -> Result<RecordResult, ApiError> {
        let fact = Event::PlanGoalAchieved(ev::PlanGoalAchieved {
            goal_id: input.goal_id,
        });
        record(ctx, &input.change, fact).await
    }

    /// Records a goal given up.
    async fn abandon_plan_goal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: GoalInput,
    ) -> Result<RecordResult, ApiError> {
        let fact = Event::PlanGoalAbandoned(ev::PlanGoalAbandoned {
            goal_id: input.goal_id,
        });
        record(ctx, &input.change, fact).await
    }

    /// Schedules a plan review.
    async fn schedule_review(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: ScheduleReviewInput,
    ) -> Result<RecordResult, ApiError> {
        let fact = Event::ReviewScheduled(ev::ReviewScheduled {
            due_on: input.due_on,
        });
        record(ctx, &input.change, fact).await
    }

    /// Records a plan review with the beneficiary.
    async fn record_plan_review(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: RecordPlanReviewInput,
    ) -> Result<RecordResult, ApiError> {
        let fact = Event::PlanReviewed(ev::PlanReviewed {
            next_review_on: input.next_review_on,
        });
        record(ctx, &input.change, fact).await
    }

    /// Plans a service (its id is in the appended event).
    async fn plan_service(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: PlanServiceInput,
    ) -> Result<RecordResult, ApiError> {
        let service_id = new_id(ctx, &input.change)?;
        let fact = Event::ServicePlanned(ev::ServicePlanned {
            service_id,
            service: input.service.into(),
            provider: input.provider_id,
            goal_id: input.goal_id,
        });
        record(ctx, &input.change, fact).await
    }

    /// Records a service delivered (a planned one, or a new one).
    async fn record_service_delivery(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: RecordServiceDeliveryInput,
    ) -> Result<RecordResult, ApiError> {
        let amount = match (input.amount_minor_units, input.currency.as_deref()) {
            (None, None) => None,
            (Some(minor_units), Some(code)) => {
                let chars: Vec<char> = code.chars().collect();
                match chars[..] {
                    [a, b, c] if chars.iter().all(char::is_ascii_uppercase) => Some(ev::Money {
                        minor_units,
                        currency: [a, b, c],
                    }),
                    _ => {
                        return Err(ApiError::invalid(
                            "currency",
                            "use a three-letter ISO 4217 code, e.g. EUR",
                        ));
                    }
                }
            }
            _ => {
                return Err(ApiError::invalid(
                    "currency",
                    "an amount needs its currency, and a currency its amount",
                ));
            }
        };
        let service_id = match input.service_id {
            Some(id) => id,
            None => new_id(ctx, &input.change)?,
        };
        let fact = Event::ServiceDelivered(ev::ServiceDelivered {
            service_id,
            service: input.service.into(),
            provider: input.provider_id,
            from: input.from,
            to: input.to,
            amount,
        });
        record(ctx, &input.change, fact).await
    }

    /// Stops a planned or running service.
    async fn discontinue_service(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: DiscontinueServiceInput,
    ) -> Result<RecordResult, ApiError> {
        let fact = Event::ServiceDiscontinued(ev::ServiceDiscontinued {
            service_id: input.service_id,
        });
        record(ctx, &input.change, fact).await
    }

    /// Records a monitoring assessment against the indicator framework.
    async fn record_assessment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: RecordAssessmentInput,
    ) -> Result<RecordResult, ApiError> {
        let fact = Event::AssessmentRecorded(ev::AssessmentRecorded {
            assessment_id: new_id(ctx, &input.change)?,
            framework_version: input.framework_version,
            scores: input
                .scores
                .iter()
                .map(|s| ev::DomainScore {
                    domain: s.domain.into(),
                    score: s.score,
                })
                .collect(),
        });
        record(ctx, &input.change, fact).await
    }

    /// Changes the reintegration status (the state machine decides what is allowed).
    async fn change_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: ChangeStatusInput,
    ) -> Result<RecordResult, ApiError> {
        let fact = Event::StatusChanged(ev::StatusChanged {
            from: roadback_domain::Status::Identified,
            to: input.to.into(),
        });
        record(ctx, &input.change, fact).await
    }

    /// Refers the case to another organisation (needs consent to share data with it).
    async fn refer_to_organisation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: ReferInput,
    ) -> Result<RecordResult, ApiError> {
        let fact = Event::ReferredToOrganisation(ev::ReferredToOrganisation {
            referral_id: new_id(ctx, &input.change)?,
            to_organisation: input.to_organisation_id,
        });
        record(ctx, &input.change, fact).await
    }

    /// Accepts a referral (by the receiving organisation).
    async fn accept_referral(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: AcceptReferralInput,
    ) -> Result<RecordResult, ApiError> {
        let fact = Event::ReferralAccepted(ev::ReferralAccepted {
            referral_id: input.referral_id,
        });
        record(ctx, &input.change, fact).await
    }

    /// Hands the case to another caseworker (supervisors).
    async fn transfer_case(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: TransferCaseInput,
    ) -> Result<RecordResult, ApiError> {
        let fact = Event::CaseTransferred(ev::CaseTransferred {
            to_caseworker: input.to_caseworker_id,
        });
        record(ctx, &input.change, fact).await
    }

    /// Closes the case; the current status is its outcome (supervisors).
    async fn close_case(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: PlainChangeInput,
    ) -> Result<RecordResult, ApiError> {
        let fact = Event::CaseClosed(ev::CaseClosed {
            outcome: roadback_domain::Status::Identified,
        });
        record(ctx, &input.change, fact).await
    }

    /// Opens a closed case again (supervisors).
    async fn reopen_case(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: PlainChangeInput,
    ) -> Result<RecordResult, ApiError> {
        record(ctx, &input.change, Event::CaseReopened(ev::CaseReopened {})).await
    }

    /// Records a contact with the person after the case was closed.
    async fn record_follow_up_contact(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: FollowUpInput,
    ) -> Result<RecordResult, ApiError> {
        let fact = Event::FollowUpContactMade(ev::FollowUpContactMade {
            observed_status: input.observed_status.map(Into::into),
        });
        record(ctx, &input.change, fact).await
    }

    /// Corrects an earlier entry: `replacement` is what should have been recorded.
    async fn correct_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: CorrectEventInput,
    ) -> Result<RecordResult, ApiError> {
        let event_id = input.event_id;
        let replacement = input.replacement.0;
        record_with(ctx, &input.change, Action::WriteRecord, None, move |case| {
            // The replacement has the corrected entry's type, in the current shape.
            let event_type = case.recorded.get(&event_id).ok_or_else(|| {
                ApiError::invalid("eventId", "there is no such entry in this person's record")
            })?;
            let version = Event::CATALOGUE
                .iter()
                .find(|(name, _)| name == event_type)
                .map_or(1, |(_, v)| *v);
            let replacement = Event::decode(event_type, version, &replacement.to_string())
                .map_err(|e| {
                    ApiError::invalid("replacement", format!("the replacement does not fit: {e}"))
                })?;
            Ok(Event::EventCorrected(ev::EventCorrected {
                corrects: event_id,
                replacement: Box::new(replacement),
            }))
        })
        .await
    }

    /// Records (replaces) the person's identifying details in the encrypted vault; the event
    /// names only the fields that hold a value.
    async fn record_personal_data(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: RecordPersonalDataInput,
    ) -> Result<RecordResult, ApiError> {
        let data = input.personal_data.into_data()?;
        let fact = Event::PersonalDataRecorded(ev::PersonalDataRecorded {
            fields: data.fields(),
        });
        record_with(
            ctx,
            &input.change,
            Action::WritePersonalData,
            Some(data),
            move |_| Ok(fact),
        )
        .await
    }

    /// Erases the person's personal data for good (supervisors and administrators): the
    /// vault destroys their data key; the history stays, de-identified. The erasure is an event
    /// and is written to the access log.
    async fn erase_personal_data(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: ErasePersonalDataInput,
    ) -> Result<RecordResult, ApiError> {
        let fact = Event::PersonalDataErased(ev::PersonalDataErased {
            reason: input.reason.into(),
        });
        let result = record(ctx, &input.change, fact).await?;
        state(ctx).vault.erase(input.change.beneficiary_id).await?;
        crate::context::log_access(
            ctx,
            input.change.beneficiary_id,
            "ERASE_PERSONAL_DATA",
            &format!("{:?}", input.reason),
        )
        .await?;
        Ok(result)
    }

    /// Voids an entry recorded in error.
    async fn void_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: VoidEventInput,
    ) -> Result<RecordResult, ApiError> {
        let fact = Event::EventVoided(ev::EventVoided {
            voids: input.event_id,
        });
        record(ctx, &input.change, fact).await
    }
}
