//! Research exports with their codebooks: one row per person (wide), one row per recorded fact
//! (long), and time-to-event in the CDISC ADaM ADTTE layout (one row per person and outcome).
//! Only de-identified values: pseudonyms, dates, codes and counts, never a name, a contact or
//! free text. Plain RFC 4180 CSV, readable by R's `read.csv`, pandas and any CSV reader.

use chrono::NaiveDate;

use super::{Ending, FollowUp, FollowUpSpec, age_group, code};
use crate::case::Case;
use crate::events::Event;
use crate::projection::Outcome;
use crate::status::Status;

/// Which file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    /// One row per person.
    Wide,
    /// One row per recorded fact (an assessment gives one row per domain score).
    Long,
    /// Time to each outcome, CDISC ADaM ADTTE.
    Adtte,
}

impl ExportKind {
    /// The file's base name.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Wide => "roadback-people.csv",
            Self::Long => "roadback-facts.csv",
            Self::Adtte => "roadback-adtte.csv",
        }
    }
}

/// A person in an export: their pseudonym, outcome view and case at the cut-offs.
pub struct Subject<'a> {
    /// The pseudonym (keyed; stable within and across exports).
    pub pseudonym: String,
    /// For a family member: the primary's pseudonym.
    pub primary_pseudonym: Option<String>,
    /// The outcome view.
    pub outcome: &'a Outcome,
    /// The case (for the long file's facts).
    pub case: &'a Case,
}

/// One variable of a codebook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variable {
    /// The column name.
    pub name: &'static str,
    /// What it holds.
    pub label: &'static str,
    /// `string`, `integer`, `number` or `date` (ISO 8601).
    pub kind: &'static str,
    /// The codes it takes and what they mean (empty: free of codes).
    pub values: Vec<(String, String)>,
}

/// An export: its columns described, and its rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Export {
    /// Which file.
    pub kind: ExportKind,
    /// One variable per column, in column order.
    pub codebook: Vec<Variable>,
    /// The rows, one value per column ("" when missing).
    pub rows: Vec<Vec<String>>,
}

fn var(name: &'static str, label: &'static str, kind: &'static str) -> Variable {
    Variable {
        name,
        label,
        kind,
        values: Vec::new(),
    }
}

fn coded(
    name: &'static str,
    label: &'static str,
    values: impl IntoIterator<Item = (String, String)>,
) -> Variable {
    Variable {
        name,
        label,
        kind: "string",
        values: values.into_iter().collect(),
    }
}

fn pairs<T: serde::Serialize + Copy>(
    items: &[T],
    label: impl Fn(T) -> String,
) -> Vec<(String, String)> {
    items.iter().map(|i| (code(i), label(*i))).collect()
}

fn sexes() -> Vec<(String, String)> {
    use crate::vocabulary::Gender::*;
    pairs(&[Male, Female, TransgenderNonConforming, Unknown], |g| {
        format!("{g:?}")
    })
}

fn age_groups() -> Vec<(String, String)> {
    ["0-11", "12-17", "18-24", "25-34", "35+", "unknown"]
        .iter()
        .map(|g| (g.to_string(), format!("age {g} when identified")))
        .collect()
}

fn yes_no() -> Vec<(String, String)> {
    vec![("Y".into(), "yes".into()), ("N".into(), "no".into())]
}

fn relationships() -> Vec<(String, String)> {
    use crate::vocabulary::Relationship::*;
    pairs(&[Child, Parent, Sibling, Partner, OtherFamily], |r| {
        r.label().to_string()
    })
}

fn endings() -> Vec<(String, String)> {
    pairs(&Ending::ALL, |e| e.status().label().to_string())
}

fn forms() -> Vec<(String, String)> {
    use crate::vocabulary::FormOfExploitation::*;
    pairs(
        &[
            SexualExploitation,
            LabourExploitation,
            Begging,
            ForcedCriminality,
            ForcedMarriage,
            Other,
        ],
        |f| format!("{f:?}"),
    )
}

fn date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn yn(b: bool) -> String {
    if b { "Y" } else { "N" }.into()
}

/// The covariates every file carries, in order.
fn covariates() -> Vec<Variable> {
    vec![
        var(
            "COUNTRY",
            "country of assistance (ISO 3166-1 alpha-2)",
            "string",
        ),
        var("ORGID", "assisting organisation (id)", "string"),
        var("INTAKEYR", "year taken into the program", "integer"),
        coded("SEX", "gender (HTCDS)", sexes()),
        coded("AGEGR", "age group when identified", age_groups()),
        var("AGE", "age in years when identified", "integer"),
        coded(
            "PRIMARY",
            "a trafficked person (Y) or a family member (N)",
            yes_no(),
        ),
        var(
            "PRIMSUBJ",
            "for a family member: the pseudonym of the trafficked person",
            "string",
        ),
        coded(
            "RELATION",
            "for a family member: relationship to that person",
            relationships(),
        ),
        Variable {
            name: "FORMS",
            label: "forms of exploitation (HTCDS), separated by ';'",
            kind: "string",
            values: forms(),
        },
        var("NSERV", "service deliveries received", "integer"),
    ]
}

fn covariate_values(s: &Subject<'_>) -> Vec<String> {
    let o = s.outcome;
    vec![
        o.country_of_assistance.to_string(),
        o.organisation.to_string(),
        chrono::Datelike::year(&o.intake_on).to_string(),
        code(&o.gender),
        age_group(o.age_at_identification).to_string(),
        o.age_at_identification
            .map(|a| a.to_string())
            .unwrap_or_default(),
        yn(o.primary),
        s.primary_pseudonym.clone().unwrap_or_default(),
        o.relationship.map(|r| code(&r)).unwrap_or_default(),
        o.forms_of_exploitation
            .iter()
            .map(code)
            .collect::<Vec<_>>()
            .join(";"),
        o.services.deliveries.to_string(),
    ]
}

/// One row per person.
pub fn wide(subjects: &[Subject<'_>], spec: FollowUpSpec) -> Export {
    let mut codebook = vec![var("USUBJID", "the person's pseudonym", "string")];
    codebook.extend(covariates());
    codebook.extend([
        var("IDENTDT", "day identified as trafficked", "date"),
        var("INTAKEDT", "day taken into the program", "date"),
        var("FSERVDT", "first day a service was delivered", "date"),
        var("REINTDT", "first day reintegrated", "date"),
        coded("EXITST", "the first exit other than reintegration", {
            Status::ALL
                .iter()
                .filter(|s| s.is_exit() && **s != Status::Reintegrated)
                .map(|s| (code(s), s.label().to_string()))
                .collect::<Vec<_>>()
        }),
        var("EXITDT", "the day of that exit", "date"),
        coded(
            "STATUS",
            "status at the cut-off",
            Status::ALL.iter().map(|s| (code(s), s.label().to_string())),
        ),
        var("CLOSEDT", "day the case was closed", "date"),
        var("LASTCDT", "day of the last recorded contact", "date"),
        var(
            "FUDAYS",
            "days of follow-up (origin and censoring as exported)",
            "integer",
        ),
        coded(
            "ENDING",
            "the outcome that ended the follow-up (empty: censored)",
            endings(),
        ),
        var("NASSESS", "assessments recorded", "integer"),
        var(
            "MONTHSSUP",
            "calendar months with a service delivered",
            "integer",
        ),
    ]);
    let rows = subjects
        .iter()
        .map(|s| {
            let o = s.outcome;
            let follow_up = FollowUp::of(o, spec);
            let mut row = vec![s.pseudonym.clone()];
            row.extend(covariate_values(s));
            row.extend([
                date(Some(o.identified_on)),
                date(Some(o.intake_on)),
                date(o.first_service_on),
                date(o.reintegrated_on),
                o.exit.map(|e| code(&e.status)).unwrap_or_default(),
                date(o.exit.map(|e| e.on)),
                code(&o.status),
                date(o.closed_on),
                date(Some(o.last_contact_on)),
                follow_up.map(|f| f.days.to_string()).unwrap_or_default(),
                follow_up
                    .and_then(|f| f.ending)
                    .map(|e| code(&e))
                    .unwrap_or_default(),
                o.assessments.len().to_string(),
                o.services.months_of_support.to_string(),
            ]);
            row
        })
        .collect();
    Export {
        kind: ExportKind::Wide,
        codebook,
        rows,
    }
}

/// One row per recorded fact, in the order they happened (an assessment: one per score).
pub fn long(subjects: &[Subject<'_>]) -> Export {
    let codebook = vec![
        var("USUBJID", "the person's pseudonym", "string"),
        var("SEQ", "the fact's order in the person's record", "integer"),
        var("EVENTDT", "the day it happened", "date"),
        var(
            "DAYS",
            "days from identification to the fact (negative: before it)",
            "integer",
        ),
        var(
            "EVENT",
            "what was recorded (the event type, snake case)",
            "string",
        ),
        coded(
            "STATUS",
            "for a status change: the new status",
            Status::ALL.iter().map(|s| (code(s), s.label().to_string())),
        ),
        var(
            "SERVICE",
            "for a service: its kind (catalogue code)",
            "string",
        ),
        var("CONSENT", "for a consent: what it covers", "string"),
        var("DOMAIN", "for an assessment: the domain scored", "string"),
        var("SCORE", "for an assessment: the domain's score", "integer"),
    ];
    let mut rows = Vec::new();
    for s in subjects {
        let origin = s.outcome.identified_on;
        for (seq, fact) in s.case.facts.iter().enumerate() {
            let base = |extra: [String; 5]| {
                let mut row = vec![
                    s.pseudonym.clone(),
                    (seq + 1).to_string(),
                    fact.occurred_on.to_string(),
                    (fact.occurred_on - origin).num_days().to_string(),
                    code(&fact.event.type_name()),
                ];
                row.extend(extra);
                row
            };
            let empty = || String::new();
            match &fact.event {
                Event::AssessmentRecorded(a) => {
                    for score in &a.scores {
                        rows.push(base([
                            empty(),
                            empty(),
                            empty(),
                            code(&score.domain),
                            score.score.to_string(),
                        ]));
                    }
                }
                event => {
                    let (status, service, consent) = match event {
                        Event::StatusChanged(c) => (code(&c.to), empty(), empty()),
                        Event::ServicePlanned(p) => (empty(), code(&p.service), empty()),
                        Event::ServiceDelivered(d) => (empty(), code(&d.service), empty()),
                        Event::ConsentGiven(c) => (empty(), empty(), code(&c.scope)),
                        Event::ConsentWithdrawn(c) => (empty(), empty(), code(&c.scope)),
                        _ => (empty(), empty(), empty()),
                    };
                    rows.push(base([status, service, consent, empty(), empty()]));
                }
            }
        }
    }
    Export {
        kind: ExportKind::Long,
        codebook,
        rows,
    }
}

/// The ADTTE parameter of an outcome: (PARAMCD, PARAM).
fn parameter(ending: Ending) -> (&'static str, &'static str) {
    match ending {
        Ending::Reintegrated => ("TTREINT", "Time to reintegration (days)"),
        Ending::ReTrafficked => ("TTRETRAF", "Time to re-trafficking (days)"),
        Ending::DroppedOut => ("TTDROP", "Time to dropping out (days)"),
        Ending::MovedAbroad => ("TTABROAD", "Time to moving abroad (days)"),
        Ending::Deceased => ("TTDEATH", "Time to death (days)"),
    }
}

/// Time to each outcome in the CDISC ADaM ADTTE layout: one row per person and outcome
/// (PARAMCD); CNSR 0 when that outcome ended the follow-up, 1 when it was censored (by another
/// outcome, named in ENDING, by lost contact, or at the last contact or cut-off).
pub fn adtte(subjects: &[Subject<'_>], spec: FollowUpSpec, study: &str) -> Export {
    let mut codebook = vec![
        var(
            "STUDYID",
            "the study (the data lock's name or ROADBACK)",
            "string",
        ),
        var("USUBJID", "the person's pseudonym", "string"),
        coded(
            "PARAMCD",
            "the outcome timed",
            Ending::ALL
                .iter()
                .map(|e| (parameter(*e).0.to_string(), parameter(*e).1.to_string())),
        ),
        var("PARAM", "the outcome timed, in words", "string"),
        var("AVAL", "days from STARTDT to ADT", "integer"),
        coded(
            "AVALU",
            "unit of AVAL",
            [("DAYS".to_string(), "days".to_string())],
        ),
        var(
            "STARTDT",
            "the origin (identification, intake or first service)",
            "date",
        ),
        var(
            "ADT",
            "the day the outcome happened or the follow-up was censored",
            "date",
        ),
        coded(
            "CNSR",
            "0: the outcome happened; 1: censored",
            [
                ("0".to_string(), "event".to_string()),
                ("1".to_string(), "censored".to_string()),
            ],
        ),
        coded(
            "EVNTDESC",
            "the event, when CNSR is 0",
            Ending::ALL.iter().map(|e| {
                (
                    e.status().label().to_uppercase(),
                    e.status().label().to_string(),
                )
            }),
        ),
        coded(
            "CNSDTDSC",
            "why censored, when CNSR is 1",
            [
                ("LOST CONTACT".into(), "contact was lost".into()),
                (
                    "LAST CONTACT".into(),
                    "no outcome by the last recorded contact".into(),
                ),
                (
                    "CUT-OFF".into(),
                    "no outcome by the cut-off or the case's closure".into(),
                ),
                (
                    "COMPETING OUTCOME".into(),
                    "another outcome ended the follow-up (ENDING)".into(),
                ),
            ],
        ),
        coded(
            "ENDING",
            "the outcome that ended the follow-up, whichever it was (competing risks)",
            endings(),
        ),
    ];
    codebook.extend(covariates());
    let censored_at = match spec.censoring {
        super::Censoring::LastContact => "LAST CONTACT",
        super::Censoring::CutOff => "CUT-OFF",
    };
    let mut rows = Vec::new();
    for s in subjects {
        let Some(f) = FollowUp::of(s.outcome, spec) else {
            continue;
        };
        for ending in Ending::ALL {
            let (paramcd, param) = parameter(ending);
            let event = f.ending == Some(ending);
            let why = if event {
                String::new()
            } else if f.ending.is_some() {
                "COMPETING OUTCOME".into()
            } else if f.lost_contact {
                "LOST CONTACT".into()
            } else {
                censored_at.into()
            };
            let mut row = vec![
                study.to_string(),
                s.pseudonym.clone(),
                paramcd.into(),
                param.into(),
                f.days.to_string(),
                "DAYS".into(),
                f.start.to_string(),
                f.end.to_string(),
                if event { "0" } else { "1" }.into(),
                if event {
                    ending.status().label().to_uppercase()
                } else {
                    String::new()
                },
                why,
                f.ending.map(|e| code(&e)).unwrap_or_default(),
            ];
            row.extend(covariate_values(s));
            rows.push(row);
        }
    }
    Export {
        kind: ExportKind::Adtte,
        codebook,
        rows,
    }
}

/// A CSV field, quoted when it must be (RFC 4180).
fn field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

fn line(values: impl IntoIterator<Item = String>) -> String {
    let mut out = values
        .into_iter()
        .map(|v| field(&v))
        .collect::<Vec<_>>()
        .join(",");
    out.push_str("\r\n");
    out
}

impl Export {
    /// The file as CSV: a header, then the rows.
    pub fn csv(&self) -> String {
        let mut out = line(self.codebook.iter().map(|v| v.name.to_string()));
        for row in &self.rows {
            out.push_str(&line(row.iter().cloned()));
        }
        out
    }

    /// The codebook as CSV: one row per variable and code (a variable without codes: one row).
    pub fn codebook_csv(&self) -> String {
        let mut out = line(
            ["variable", "label", "type", "code", "meaning"]
                .iter()
                .map(|s| s.to_string()),
        );
        for v in &self.codebook {
            if v.values.is_empty() {
                out.push_str(&line([
                    v.name.to_string(),
                    v.label.to_string(),
                    v.kind.to_string(),
                    String::new(),
                    String::new(),
                ]));
            }
            for (code, meaning) in &v.values {
                out.push_str(&line([
                    v.name.to_string(),
                    v.label.to_string(),
                    v.kind.to_string(),
                    code.clone(),
                    meaning.clone(),
                ]));
            }
        }
        out
    }
}
