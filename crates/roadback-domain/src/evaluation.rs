//! Evaluation over outcome views ([`Outcome`]): each person's follow-up from a chosen origin to
//! the first outcome that ends it (or to censoring), the cohorts a breakdown sorts people into,
//! the program results table, and disclosure control for the counts shown.
//!
//! Pure: the caller gives the outcome views as of the cut-offs it chose, so the same views give
//! the same results, whatever is recorded later.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::projection::Outcome;
use crate::status::Status;
use crate::survival::{CompetingObservation, Observation};

/// Where follow-up time starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The day the person was identified as trafficked.
    #[default]
    Identification,
    /// The day they were taken into the program.
    Intake,
    /// The first day a service was delivered (people without one are left out).
    FirstService,
}

/// Where the follow-up of a person without an ending is cut.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Censoring {
    /// At the last recorded contact: nobody is counted at risk beyond what is known of them.
    #[default]
    LastContact,
    /// At the cut-off (or the case's closure).
    CutOff,
}

/// The outcomes that end a follow-up and compete with one another; losing contact censors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// Reintegration achieved.
    Reintegrated,
    /// Trafficked again.
    ReTrafficked,
    /// Left the program.
    DroppedOut,
    /// Moved abroad.
    MovedAbroad,
    /// Died.
    Deceased,
}

impl Ending {
    /// Every ending, in index order ([`Ending::index`]).
    pub const ALL: [Ending; 5] = [
        Self::Reintegrated,
        Self::ReTrafficked,
        Self::DroppedOut,
        Self::MovedAbroad,
        Self::Deceased,
    ];

    /// The status that records this ending.
    pub fn status(self) -> Status {
        match self {
            Self::Reintegrated => Status::Reintegrated,
            Self::ReTrafficked => Status::ReTrafficked,
            Self::DroppedOut => Status::DroppedOut,
            Self::MovedAbroad => Status::MovedAbroad,
            Self::Deceased => Status::Deceased,
        }
    }

    /// Its index among [`Ending::ALL`] (the cause in competing-risks estimators).
    pub fn index(self) -> usize {
        Self::ALL.iter().position(|e| *e == self).unwrap_or(0)
    }

    fn of(status: Status) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.status() == status)
    }
}

/// What a query follows: from which origin, censored how.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FollowUpSpec {
    /// Where time starts.
    pub origin: Origin,
    /// Where time without an ending is cut.
    pub censoring: Censoring,
}

/// One person's follow-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    /// The origin's day.
    pub start: NaiveDate,
    /// The day it ended or was censored.
    pub end: NaiveDate,
    /// Days from start to end.
    pub days: i64,
    /// The outcome that ended it; `None` when censored.
    pub ending: Option<Ending>,
    /// True when it was censored because contact was lost.
    pub lost_contact: bool,
}

impl FollowUp {
    /// A person's follow-up, or `None` when it has no origin (no service yet, for
    /// [`Origin::FirstService`]) or ends before it starts.
    pub fn of(outcome: &Outcome, spec: FollowUpSpec) -> Option<Self> {
        let start = match spec.origin {
            Origin::Identification => outcome.identified_on,
            Origin::Intake => outcome.intake_on,
            Origin::FirstService => outcome.first_service_on?,
        };
        // The first transition into an exit ends the follow-up; losing contact censors it.
        let first_exit = outcome.transitions.iter().find(|t| t.to.is_exit());
        let (end, ending, lost_contact) = match first_exit {
            Some(t) if t.to == Status::LostContact => (t.on, None, true),
            Some(t) => (t.on, Ending::of(t.to), false),
            None => {
                let end = match spec.censoring {
                    Censoring::LastContact => outcome.last_contact_on,
                    Censoring::CutOff => outcome.closed_on.unwrap_or(outcome.until),
                };
                (end, None, false)
            }
        };
        (end >= start).then(|| Self {
            start,
            end,
            days: (end - start).num_days(),
            ending,
            lost_contact,
        })
    }

    /// As an observation of time to `ending` (other endings censor).
    pub fn observation(&self, ending: Ending) -> Observation {
        Observation {
            time: self.days as f64,
            event: self.ending == Some(ending),
        }
    }

    /// As a competing-risks observation (the cause is [`Ending::index`]).
    pub fn competing(&self) -> CompetingObservation {
        CompetingObservation {
            time: self.days as f64,
            cause: self.ending.map(Ending::index),
        }
    }
}

/// After reintegration: whether and when the person returned (was trafficked again or back in
/// crisis care), HUD System Performance Measure 2's question.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AfterExit {
    /// The day they were first reintegrated.
    pub exit_on: NaiveDate,
    /// Days from then to the return, or to the last contact (or the cut-off) without one.
    pub days: i64,
    /// True when they returned.
    pub returned: bool,
}

impl AfterExit {
    /// The return after a person's first reintegration; `None` if they were never reintegrated.
    pub fn of(outcome: &Outcome, censoring: Censoring) -> Option<Self> {
        let at = outcome
            .transitions
            .iter()
            .position(|t| t.to == Status::Reintegrated)?;
        let exit_on = outcome.transitions[at].on;
        let back = outcome.transitions[at + 1..]
            .iter()
            .find(|t| matches!(t.to, Status::ReTrafficked | Status::InCrisisCare));
        let (end, returned) = match back {
            Some(t) => (t.on, true),
            None => (
                match censoring {
                    Censoring::LastContact => outcome.last_contact_on,
                    Censoring::CutOff => outcome.closed_on.unwrap_or(outcome.until),
                },
                false,
            ),
        };
        Some(Self {
            exit_on,
            days: (end - exit_on).num_days().max(0),
            returned,
        })
    }
}

/// The windows of return HUD's Measure 2 reports, in days after the exit.
pub const RETURN_WINDOWS: [(i64, i64); 3] = [(0, 180), (181, 365), (366, 730)];

/// Where each person stands, for the outcome distribution.
pub fn standing(outcome: &Outcome) -> &'static str {
    match outcome.transitions.iter().find(|t| t.to.is_exit()) {
        Some(t) => match t.to {
            Status::Reintegrated => "reintegrated",
            Status::ReTrafficked => "re_trafficked",
            Status::DroppedOut => "dropped_out",
            Status::MovedAbroad => "moved_abroad",
            Status::Deceased => "deceased",
            _ => "lost_contact",
        },
        None => "in_progress",
    }
}

/// The columns of the outcome distribution, in order.
pub const STANDINGS: [&str; 7] = [
    "in_progress",
    "reintegrated",
    "re_trafficked",
    "dropped_out",
    "moved_abroad",
    "deceased",
    "lost_contact",
];

/// The spread of a set of scores.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// How many.
    pub n: usize,
    /// Their mean.
    pub mean: f64,
    /// Their standard deviation (n − 1).
    pub sd: f64,
    /// First quartile, median, third quartile (linear interpolation, R's type 7).
    pub quartiles: [f64; 3],
}

impl Spread {
    /// The spread of `values` (`None` when empty).
    pub fn of(values: &[f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let sd = if n > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let at = |p: f64| {
            let h = (n - 1) as f64 * p;
            let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
        };
        Some(Self {
            n,
            mean,
            sd,
            quartiles: [at(0.25), at(0.5), at(0.75)],
        })
    }
}

/// Domain scores by time since intake: for each domain and each `bin_months`-month bin, the
/// spread of the scores given in it (a person assessed twice in a bin counts twice).
pub fn trajectories(
    outcomes: &[&Outcome],
    bin_months: u32,
) -> BTreeMap<(crate::vocabulary::ReintegrationDomain, u32), Spread> {
    let mut scores: BTreeMap<(crate::vocabulary::ReintegrationDomain, u32), Vec<f64>> =
        BTreeMap::new();
    for outcome in outcomes {
        for assessment in &outcome.assessments {
            let months = months_between(outcome.intake_on, assessment.on);
            let Some(months) = months else { continue };
            let bin = months / bin_months.max(1) * bin_months.max(1);
            for score in &assessment.scores {
                scores
                    .entry((score.domain, bin))
                    .or_default()
                    .push(f64::from(score.score));
            }
        }
    }
    scores
        .into_iter()
        .filter_map(|(key, values)| Spread::of(&values).map(|s| (key, s)))
        .collect()
}

/// Whole months from `from` to `to` (`None` when `to` is before `from`).
fn months_between(from: NaiveDate, to: NaiveDate) -> Option<u32> {
    if to < from {
        return None;
    }
    let mut months = (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32;
    if to.day() < from.day() {
        months -= 1;
    }
    u32::try_from(months.max(0)).ok()
}

/// What people are grouped by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Breakdown {
    /// Country of assistance.
    Country,
    /// Assisting organisation.
    Organisation,
    /// Year taken into the program.
    IntakeYear,
    /// Gender.
    Sex,
    /// Age group when identified.
    AgeGroup,
    /// Form of exploitation (a person with several is in each of their groups).
    FormOfExploitation,
    /// Trafficked person or family member.
    Role,
    /// Whether any service was received.
    ServicesReceived,
    /// How many deliveries were received.
    ServiceCount,
    /// Kind of service received (a person is in the group of each kind they received).
    ServiceKind,
}

impl Breakdown {
    /// True when a person may be in more than one group (tests between the groups then do not
    /// apply).
    pub fn overlaps(self) -> bool {
        matches!(self, Self::FormOfExploitation | Self::ServiceKind)
    }

    /// The groups a person is in, by their codes.
    pub fn groups(self, outcome: &Outcome) -> Vec<String> {
        match self {
            Self::Country => vec![outcome.country_of_assistance.to_string()],
            Self::Organisation => vec![outcome.organisation.to_string()],
            Self::IntakeYear => vec![outcome.intake_on.year().to_string()],
            Self::Sex => vec![code(&outcome.gender)],
            Self::AgeGroup => vec![age_group(outcome.age_at_identification).to_string()],
            Self::FormOfExploitation => {
                if outcome.forms_of_exploitation.is_empty() {
                    vec!["not_recorded".into()]
                } else {
                    outcome.forms_of_exploitation.iter().map(code).collect()
                }
            }
            Self::Role => vec![
                if outcome.primary {
                    "primary"
                } else {
                    "family_member"
                }
                .into(),
            ],
            Self::ServicesReceived => {
                vec![
                    if outcome.services.deliveries > 0 {
                        "any"
                    } else {
                        "none"
                    }
                    .into(),
                ]
            }
            Self::ServiceCount => vec![
                match outcome.services.deliveries {
                    0 => "0",
                    1..=4 => "1-4",
                    5..=9 => "5-9",
                    10..=19 => "10-19",
                    _ => "20+",
                }
                .into(),
            ],
            Self::ServiceKind => {
                if outcome.services.by_kind.is_empty() {
                    vec!["none".into()]
                } else {
                    outcome.services.by_kind.keys().map(code).collect()
                }
            }
        }
    }
}

/// The age group of an age at identification.
pub fn age_group(age: Option<i32>) -> &'static str {
    match age {
        None => "unknown",
        Some(..=11) => "0-11",
        Some(12..=17) => "12-17",
        Some(18..=24) => "18-24",
        Some(25..=34) => "25-34",
        Some(_) => "35+",
    }
}

/// A value's stable code: its serialized name in snake case.
fn code<T: Serialize>(value: &T) -> String {
    let name = match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        // A tagged value (a consent's scope): its kind.
        Ok(serde_json::Value::Object(fields)) => match fields.get("kind") {
            Some(serde_json::Value::String(kind)) => kind.clone(),
            _ => return "unknown".into(),
        },
        Ok(other) => other.to_string(),
        Err(_) => return "unknown".into(),
    };
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// People sorted into the groups of a breakdown (all in one group `all` without one), groups
/// in code order.
pub fn cohorts(
    outcomes: &[Outcome],
    breakdown: Option<Breakdown>,
) -> BTreeMap<String, Vec<&Outcome>> {
    let mut groups: BTreeMap<String, Vec<&Outcome>> = BTreeMap::new();
    for outcome in outcomes {
        match breakdown {
            Some(b) => {
                for group in b.groups(outcome) {
                    groups.entry(group).or_default().push(outcome);
                }
            }
            None => groups.entry("all".into()).or_default().push(outcome),
        }
    }
    groups
}

/// One line of the program results table (the TVRP's headline figures).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultsRow {
    /// The group's code (`all` for the whole program).
    pub group: String,
    /// Trafficked persons assisted.
    pub assisted: u64,
    /// Family members assisted.
    pub family_members: u64,
    /// Male trafficked persons.
    pub male: u64,
    /// Trafficked persons under 18 when identified.
    pub children: u64,
    /// Trafficked persons reintegrated.
    pub reintegrated: u64,
}

impl ResultsRow {
    /// The share of trafficked persons reintegrated.
    pub fn share_reintegrated(&self) -> Option<f64> {
        (self.assisted > 0).then(|| self.reintegrated as f64 / self.assisted as f64)
    }

    fn add(&mut self, outcome: &Outcome) {
        if outcome.primary {
            self.assisted += 1;
            self.male += u64::from(outcome.gender == crate::vocabulary::Gender::Male);
            self.children += u64::from(outcome.age_at_identification.is_some_and(|a| a < 18));
            self.reintegrated += u64::from(outcome.reintegrated_on.is_some());
        } else {
            self.family_members += 1;
        }
    }

    /// The counts in column order: assisted, family members, male, children, reintegrated.
    pub fn counts(&self) -> [u64; 5] {
        [
            self.assisted,
            self.family_members,
            self.male,
            self.children,
            self.reintegrated,
        ]
    }
}

/// The program results table: a row per group (of people taken in within `period`, when
/// given), and the whole program's.
pub fn program_results(
    outcomes: &[Outcome],
    breakdown: Option<Breakdown>,
    period: Option<(NaiveDate, NaiveDate)>,
) -> (Vec<ResultsRow>, ResultsRow) {
    let within: Vec<Outcome> = outcomes
        .iter()
        .filter(|o| period.is_none_or(|(from, to)| o.intake_on >= from && o.intake_on <= to))
        .cloned()
        .collect();
    let mut total = ResultsRow {
        group: "all".into(),
        ..ResultsRow::default()
    };
    for outcome in &within {
        total.add(outcome);
    }
    let rows = match breakdown {
        None => Vec::new(),
        Some(_) => cohorts(&within, breakdown)
            .into_iter()
            .map(|(group, members)| {
                let mut row = ResultsRow {
                    group,
                    ..ResultsRow::default()
                };
                for outcome in members {
                    row.add(outcome);
                }
                row
            })
            .collect(),
    };
    (rows, total)
}

/// Why a count is withheld.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Withheld {
    /// Fewer people than the threshold: shown, they could be recognised.
    SmallCount,
    /// Hidden so a small count cannot be worked out from the totals.
    Complementary,
}

/// A count as shown: its value unless withheld.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    /// The count, `None` when withheld.
    pub value: Option<u64>,
    /// Why it is withheld.
    pub withheld: Option<Withheld>,
}

/// The smallest count shown to evaluators.
pub const EVALUATOR_THRESHOLD: u64 = 5;
/// The smallest count in outputs marked public (CTDC's rule).
pub const PUBLIC_THRESHOLD: u64 = 11;

/// Disclosure control: `counts` as shown, where each of `lines` is a set of counts one of
/// which is the sum of the others (a group's counts and their total). Counts from 1 to
/// `threshold − 1` are withheld; then, while a line has exactly one withheld count (which the
/// others would give away), the smallest other count of that line is withheld too, so no
/// withheld count can be worked out from a single line. Zeros are shown (nobody to recognise)
/// and never chosen as complements.
pub fn suppress(counts: &[u64], lines: &[Vec<usize>], threshold: u64) -> Vec<Cell> {
    let mut withheld: Vec<Option<Withheld>> = counts
        .iter()
        .map(|&n| (n > 0 && n < threshold).then_some(Withheld::SmallCount))
        .collect();
    loop {
        let mut changed = false;
        for line in lines {
            let hidden = line.iter().filter(|i| withheld[**i].is_some()).count();
            if hidden != 1 {
                continue;
            }
            let complement = line
                .iter()
                .filter(|i| withheld[**i].is_none() && counts[**i] > 0)
                .min_by_key(|i| (counts[**i], **i));
            if let Some(&i) = complement {
                withheld[i] = Some(Withheld::Complementary);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    counts
        .iter()
        .zip(withheld)
        .map(|(&n, withheld)| Cell {
            value: withheld.is_none().then_some(n),
            withheld,
        })
        .collect()
}

/// The lines of a table of `rows` × `columns` counts stored row by row, whose last row holds
/// the column totals and whose last column (when `row_totals`) the row totals.
pub fn table_lines(rows: usize, columns: usize, row_totals: bool) -> Vec<Vec<usize>> {
    let mut lines: Vec<Vec<usize>> = (0..columns)
        .map(|c| (0..rows).map(|r| r * columns + c).collect())
        .collect();
    if row_totals {
        lines.extend((0..rows).map(|r| (0..columns).map(|c| r * columns + c).collect()));
    }
    lines
}

pub mod export;

#[cfg(test)]
mod tests;
