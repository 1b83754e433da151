//! Evaluation data: de-identified outcomes for research, and the evaluation engine
//! ([`analysis`]), at explicit cut-offs.

pub mod analysis;
pub mod locks;

use async_graphql::{Context, Object, SimpleObject};
use roadback_domain::CutOff;
use roadback_domain::access::Action;
use roadback_domain::evaluation::FollowUpSpec;
use roadback_domain::evaluation::export::{self, ExportKind, Subject};
use roadback_store::vault::DeploymentSecret;
use uuid::Uuid;

use crate::assessments::Outcome;
use crate::context::{guard, state};
use crate::error::ApiError;
use crate::vocabulary::{FormOfExploitation, Gender, MAX_PAGE, PageInfo, Relationship, page_size};

/// One beneficiary's outcome, de-identified, for research: only people whose consent to
/// evaluation use was in force at the cut-off and has not been withdrawn since appear.
#[derive(SimpleObject)]
pub struct EvaluationRecord {
    /// A pseudonym keyed with the deployment's secret: stable across cut-offs and listings,
    /// not the record's id and not computable from it.
    pub pseudonym: String,
    /// The assisting organisation.
    pub organisation_id: Uuid,
    /// Country of assistance.
    pub country_of_assistance: String,
    /// Citizenship.
    pub citizenship: String,
    /// Gender.
    pub gender: Gender,
    /// Age in years when identified, if known.
    pub age_at_identification: Option<i32>,
    /// True for a trafficked person, false for a family member.
    pub primary: bool,
    /// For a family member: the pseudonym of the trafficked person they are assisted with.
    pub primary_pseudonym: Option<String>,
    /// For a family member: how they are related to that person.
    pub relationship: Option<Relationship>,
    /// Forms of exploitation.
    pub forms_of_exploitation: Vec<FormOfExploitation>,
    /// The longitudinal outcome as of the cut-off.
    pub outcome: Outcome,
}

/// A page of evaluation records.
#[derive(SimpleObject)]
pub struct EvaluationPage {
    /// The cut-offs of the listing (every page of it is at the first page's).
    pub cut_off: analysis::CutOffView,
    /// The records of this page, in pseudonym order.
    pub records: Vec<EvaluationRecord>,
    /// Whether more follow.
    pub page_info: PageInfo,
}

/// The kind of cursor of evaluation pages.
const EVALUATION: &str = "evaluation";

/// A cursor of an evaluation listing: the last pseudonym and the listing's cut-offs.
fn evaluation_cursor(secret: &DeploymentSecret, pseudonym: &str, cut: CutOff) -> String {
    let (valid, recorded) = (
        cut.valid.unwrap_or_default(),
        cut.recorded.unwrap_or_default(),
    );
    secret.seal_cursor(
        EVALUATION,
        format!("{pseudonym}|{valid}|{}", recorded.to_rfc3339()).as_bytes(),
    )
}

/// The pseudonym and cut-offs an evaluation cursor holds.
fn parse_evaluation_cursor(
    secret: &DeploymentSecret,
    cursor: &str,
) -> Result<(String, CutOff), ApiError> {
    let refused = || ApiError::invalid("after", "this cursor is not one this list gave out");
    let plain = secret
        .open_cursor(EVALUATION, cursor)
        .and_then(|p| String::from_utf8(p).ok())
        .ok_or_else(refused)?;
    let mut parts = plain.splitn(3, '|');
    let (Some(pseudonym), Some(valid), Some(recorded)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(refused());
    };
    let cut = CutOff {
        valid: Some(valid.parse().map_err(|_| refused())?),
        recorded: Some(
            chrono::DateTime::parse_from_rfc3339(recorded)
                .map_err(|_| refused())?
                .to_utc(),
        ),
    };
    Ok((pseudonym.to_string(), cut))
}

/// Which research file.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// One row per person: covariates, dates, status, follow-up and its ending.
    Wide,
    /// One row per recorded fact (an assessment: one row per domain score).
    Long,
    /// Time to each outcome in the CDISC ADaM ADTTE layout (one row per person and outcome).
    Adtte,
}

impl From<ExportFormat> for ExportKind {
    fn from(f: ExportFormat) -> Self {
        match f {
            ExportFormat::Wide => Self::Wide,
            ExportFormat::Long => Self::Long,
            ExportFormat::Adtte => Self::Adtte,
        }
    }
}

/// A code a variable takes.
#[derive(SimpleObject, Clone, Debug)]
pub struct CodedValue {
    /// The code as it appears in the file.
    pub code: String,
    /// What it means.
    pub meaning: String,
}

/// One column of an export.
#[derive(SimpleObject, Clone, Debug)]
pub struct CodebookVariable {
    /// The column's name.
    pub name: String,
    /// What it holds.
    pub label: String,
    /// `string`, `integer`, `number` or `date` (ISO 8601).
    pub r#type: String,
    /// The codes it takes (empty when it holds no codes).
    pub values: Vec<CodedValue>,
}

/// A research export with its codebook.
#[derive(SimpleObject, Clone, Debug)]
pub struct ExportFile {
    /// Which file.
    pub format: ExportFormat,
    /// A name to save it under.
    pub file_name: String,
    /// The cut-offs it was made at.
    pub cut_off: analysis::CutOffView,
    /// Rows (the header not counted).
    pub rows: i32,
    /// The file: RFC 4180 CSV, UTF-8, a header line first.
    pub csv: String,
    /// SHA-256 of `csv`, hexadecimal: cite it with the file.
    pub digest: String,
    /// Every column, what it holds and the codes it takes.
    pub codebook: Vec<CodebookVariable>,
    /// The codebook as CSV (variable, label, type, code, meaning).
    pub codebook_csv: String,
}

/// Makes a research export of `people` (outcome and case at the cut-offs).
pub fn make_export(
    secret: &DeploymentSecret,
    people: &[(roadback_domain::projection::Outcome, roadback_domain::Case)],
    format: ExportFormat,
    spec: FollowUpSpec,
    cut: CutOff,
) -> ExportFile {
    let mut subjects: Vec<Subject<'_>> = people
        .iter()
        .filter(|(o, _)| o.evaluation_consent)
        .map(|(outcome, case)| Subject {
            pseudonym: secret.pseudonym(outcome.beneficiary_id),
            primary_pseudonym: outcome.primary_beneficiary_id.map(|p| secret.pseudonym(p)),
            outcome,
            case,
        })
        .collect();
    subjects.sort_by(|a, b| a.pseudonym.cmp(&b.pseudonym));
    let export = match format {
        ExportFormat::Wide => export::wide(&subjects, spec),
        ExportFormat::Long => export::long(&subjects),
        ExportFormat::Adtte => export::adtte(&subjects, spec, "ROADBACK"),
    };
    let csv = export.csv();
    let digest = crate::auth::sha256_hex(&csv);
    ExportFile {
        format,
        file_name: ExportKind::from(format).file_name().to_string(),
        cut_off: analysis::CutOffView::of(cut),
        rows: export.rows.len() as i32,
        codebook_csv: export.codebook_csv(),
        codebook: export
            .codebook
            .iter()
            .map(|v| CodebookVariable {
                name: v.name.to_string(),
                label: v.label.to_string(),
                r#type: v.kind.to_string(),
                values: v
                    .values
                    .iter()
                    .map(|(code, meaning)| CodedValue {
                        code: code.clone(),
                        meaning: meaning.clone(),
                    })
                    .collect(),
            })
            .collect(),
        csv,
        digest,
    }
}

/// Writes a read or an export of evaluation data to the caller's access log: it concerns no
/// one record, so `purpose` says what, how much and at which cut-offs.
pub async fn log_evaluation(
    store: &roadback_store::EventStore,
    session: &crate::auth::Session,
    action: &str,
    purpose: &str,
) -> Result<(), ApiError> {
    Ok(store
        .log_access(
            session.user.id,
            session.user.organisation,
            None,
            action,
            purpose,
        )
        .await?)
}

/// What loading everyone's history for the evaluation engine weighs, in fields: at most two
/// such loads in a request.
pub const EVALUATION_LOAD: usize = 2_000;

/// De-identified outcomes for evaluation.
#[derive(Default)]
pub struct EvaluationQuery;

#[Object]
impl EvaluationQuery {
    /// The evaluation engine at explicit cut-offs: program results (everyone assisted, counts
    /// only, small counts withheld) and survival and competing-outcome curves (research: only
    /// people whose consent to evaluation use was in force at the cut-off and has not been
    /// withdrawn since). Evaluators see the whole program, supervisors their organisation. The
    /// answer names its cut-offs; given back, they reproduce it. Each call is written to the
    /// access log.
    #[graphql(complexity = "child_complexity + EVALUATION_LOAD")]
    async fn evaluation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The cut-offs (default: the records as they stand now).")] cut_off: Option<
            analysis::CutOffInput,
        >,
        #[graphql(
            default,
            desc = "Only people in these groups (each filter must hold), e.g. `[{ by: COUNTRY, groups: [\"AL\", \"XK\"] }]`."
        )]
        filters: Vec<analysis::CohortFilter>,
    ) -> Result<analysis::Evaluation, ApiError> {
        let session = guard(ctx, Action::ReadEvaluation, None)?;
        let state = state(ctx);
        let cut = analysis::CutOffInput::resolve(cut_off, chrono::Utc::now())?;
        let (mut outcomes, turn) = analysis::load(state, session, cut).await?;
        outcomes.retain(|o| filters.iter().all(|f| f.keeps(o)));
        let view = analysis::CutOffView::of(cut);
        log_evaluation(
            &state.store,
            session,
            "READ_EVALUATION",
            &format!(
                "evaluation engine: {} people ({} for research), cut-off {}",
                outcomes.len(),
                outcomes.iter().filter(|o| o.evaluation_consent).count(),
                view.describe()
            ),
        )
        .await?;
        Ok(analysis::Evaluation {
            cut: view,
            outcomes,
            _turn: Some(turn),
        })
    }

    /// A research export with its codebook, at explicit cut-offs: only people whose consent to
    /// evaluation use was in force at the cut-off and still is, under their pseudonyms; no
    /// personal data. Written to the access log with its digest.
    #[graphql(complexity = "child_complexity + EVALUATION_LOAD")]
    async fn evaluation_export(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which file.")] format: ExportFormat,
        #[graphql(desc = "The cut-offs (default: the records as they stand now).")] cut_off: Option<
            analysis::CutOffInput,
        >,
        #[graphql(
            desc = "Where follow-up time starts (wide and ADTTE files).",
            default_with = "analysis::Origin::Identification"
        )]
        origin: analysis::Origin,
        #[graphql(
            desc = "How follow-up without an outcome is cut.",
            default_with = "analysis::Censoring::LastContact"
        )]
        censoring: analysis::Censoring,
    ) -> Result<ExportFile, ApiError> {
        let session = guard(ctx, Action::ReadEvaluation, None)?;
        let state = state(ctx);
        let secret = state.secret().await?;
        let cut = analysis::CutOffInput::resolve(cut_off, chrono::Utc::now())?;
        let (people, _turn) = analysis::load_cases(state, session, cut, |_, _| {}).await?;
        let spec = FollowUpSpec {
            origin: origin.into(),
            censoring: censoring.into(),
        };
        let file = make_export(secret, &people, format, spec, cut);
        log_evaluation(
            &state.store,
            session,
            "EXPORT_EVALUATION",
            &format!(
                "{} ({} rows, SHA-256 {}), cut-off {}",
                file.file_name,
                file.rows,
                file.digest,
                file.cut_off.describe()
            ),
        )
        .await?;
        Ok(file)
    }

    /// De-identified outcomes for research, at explicit cut-offs, a page at a time in pseudonym
    /// order: only people whose consent to evaluation use was in force at the cut-off and has
    /// not been withdrawn since (a withdrawal removes them from every cut-off at once).
    /// Evaluators see the whole program, supervisors their organisation. The cursor carries the
    /// listing's cut-offs, so its pages stay the same whatever is recorded later.
    #[graphql(
        complexity = "(first.unwrap_or(50).clamp(1, MAX_PAGE) as usize) * child_complexity + EVALUATION_LOAD"
    )]
    async fn evaluation_records(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The cut-offs (default: the records as they stand now); not with `after`."
        )]
        cut_off: Option<analysis::CutOffInput>,
        #[graphql(desc = "How many records (1 to 100; 50 when absent).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the last page.")] after: Option<String>,
    ) -> Result<EvaluationPage, ApiError> {
        let session = guard(ctx, Action::ReadEvaluation, None)?;
        let limit = page_size(first, 50)?;
        let state = state(ctx);
        let secret = state.secret().await?;
        let (cut, after) = match after.as_deref() {
            Some(cursor) => {
                if cut_off.is_some() {
                    return Err(ApiError::invalid(
                        "cutOff",
                        "a next page is at its listing's cut-offs: give the cursor alone",
                    ));
                }
                let (pseudonym, cut) = parse_evaluation_cursor(secret, cursor)?;
                (cut, Some(pseudonym))
            }
            None => (
                analysis::CutOffInput::resolve(cut_off, chrono::Utc::now())?,
                None,
            ),
        };
        let (outcomes, _turn) = analysis::load(state, session, cut).await?;
        let mut people: Vec<(String, &roadback_domain::projection::Outcome)> = outcomes
            .iter()
            .filter(|o| o.evaluation_consent)
            .map(|o| (secret.pseudonym(o.beneficiary_id), o))
            .filter(|(p, _)| after.as_ref().is_none_or(|a| p > a))
            .collect();
        people.sort_by(|a, b| a.0.cmp(&b.0));
        let has_next_page = people.len() > limit;
        people.truncate(limit);
        let end_cursor = people
            .last()
            .map(|(p, _)| evaluation_cursor(secret, p, cut));
        let records: Vec<EvaluationRecord> = people
            .into_iter()
            .map(|(pseudonym, outcome)| EvaluationRecord {
                pseudonym,
                organisation_id: outcome.organisation,
                country_of_assistance: outcome.country_of_assistance.to_string(),
                citizenship: outcome.citizenship.to_string(),
                gender: outcome.gender.into(),
                age_at_identification: outcome.age_at_identification,
                primary: outcome.primary,
                primary_pseudonym: outcome.primary_beneficiary_id.map(|p| secret.pseudonym(p)),
                relationship: outcome.relationship.map(Into::into),
                forms_of_exploitation: outcome
                    .forms_of_exploitation
                    .iter()
                    .map(|f| (*f).into())
                    .collect(),
                outcome: Outcome::from(outcome),
            })
            .collect();
        let view = analysis::CutOffView::of(cut);
        // Who pulled evaluation data, when, and how much: one row per page.
        log_evaluation(
            &state.store,
            session,
            "READ_EVALUATION",
            &format!(
                "evaluation records: {} people (pseudonymised), cut-off {}",
                records.len(),
                view.describe()
            ),
        )
        .await?;
        Ok(EvaluationPage {
            cut_off: view,
            records,
            page_info: PageInfo {
                has_next_page,
                end_cursor,
            },
        })
    }
}
