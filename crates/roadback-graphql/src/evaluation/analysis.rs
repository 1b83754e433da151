//! The evaluation engine over GraphQL: program results (reporting: everyone assisted, counts
//! only, suppressed) and survival and competing-outcome curves (research: only people whose
//! consent to evaluation use is in force at the cut-off), all at explicit cut-offs, so the
//! same query gives the same answer whatever is recorded later.

use async_graphql::{Enum, InputObject, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use roadback_domain::CutOff;
use roadback_domain::evaluation::{
    self as engine, Breakdown, EVALUATOR_THRESHOLD, FollowUp, FollowUpSpec, PUBLIC_THRESHOLD,
    ResultsRow,
};
use roadback_domain::projection::Outcome;
use roadback_domain::survival::{
    self, CumulativeIncidence, GroupTest, Interval, KaplanMeier, Quantile,
};

use crate::error::ApiError;

/// Evaluation's cut-offs, alone or together. Without a recorded cut-off the records as they
/// stand when the query runs are used, and the answer says which moment that was, so giving
/// it back reproduces the answer exactly.
#[derive(InputObject, Clone, Copy, Debug, Default)]
pub struct CutOffInput {
    /// Facts that happened on or before this day (default: the recorded cut-off's day).
    pub valid_on: Option<NaiveDate>,
    /// Entries recorded at or before this moment (default: when the query runs).
    pub recorded_at: Option<DateTime<Utc>>,
}

impl CutOffInput {
    /// Both cut-offs, the missing ones filled in from `now`.
    pub fn resolve(input: Option<Self>, now: DateTime<Utc>) -> Result<CutOff, ApiError> {
        let input = input.unwrap_or_default();
        let recorded = input.recorded_at.unwrap_or(now);
        if recorded > now {
            return Err(ApiError::invalid(
                "recordedAt",
                "a recorded cut-off cannot be in the future",
            ));
        }
        Ok(CutOff {
            valid: Some(input.valid_on.unwrap_or(recorded.date_naive())),
            recorded: Some(recorded),
        })
    }
}

/// The cut-offs an answer was computed at.
#[derive(SimpleObject, Clone, Copy, Debug)]
pub struct CutOffView {
    /// Facts that happened on or before this day.
    pub valid_on: NaiveDate,
    /// Entries recorded at or before this moment.
    pub recorded_at: DateTime<Utc>,
}

impl CutOffView {
    /// The view of resolved cut-offs.
    pub fn of(cut: CutOff) -> Self {
        Self {
            valid_on: cut.valid.unwrap_or_default(),
            recorded_at: cut.recorded.unwrap_or_default(),
        }
    }

    /// In words, for the access log.
    pub fn describe(&self) -> String {
        format!(
            "valid on {} as recorded at {}",
            self.valid_on,
            self.recorded_at.to_rfc3339()
        )
    }
}

/// Where follow-up time starts.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "roadback_domain::evaluation::Origin")]
pub enum Origin {
    /// The day the person was identified as trafficked.
    Identification,
    /// The day they were taken into the program.
    Intake,
    /// The first day a service was delivered (people without one are left out).
    FirstService,
}

/// Where the follow-up of a person without an ending is cut.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "roadback_domain::evaluation::Censoring")]
pub enum Censoring {
    /// At the last recorded contact (any entry, a follow-up contact, an assessment).
    LastContact,
    /// At the cut-off (or the case's closure).
    CutOff,
}

/// The outcomes that end a follow-up and compete with one another; losing contact censors.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "roadback_domain::evaluation::Ending")]
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

/// What people are grouped by.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "roadback_domain::evaluation::Breakdown")]
pub enum BreakdownBy {
    /// Country of assistance (ISO code).
    Country,
    /// Assisting organisation (id).
    Organisation,
    /// Year taken into the program.
    IntakeYear,
    /// Gender.
    Sex,
    /// Age group when identified (0-11, 12-17, 18-24, 25-34, 35+, unknown).
    AgeGroup,
    /// Form of exploitation (a person with several is in each group: no test between them).
    FormOfExploitation,
    /// Trafficked person (`primary`) or family member (`family_member`).
    Role,
    /// Whether any service was received (`any`, `none`).
    ServicesReceived,
    /// Deliveries received (0, 1-4, 5-9, 10-19, 20+).
    ServiceCount,
    /// Kind of service received (a person is in the group of each kind: no test between them).
    ServiceKind,
}

/// How confidence limits are computed.
#[derive(Enum, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[graphql(remote = "roadback_domain::survival::Transform")]
pub enum CiTransform {
    /// On log(−log S): limits within (0, 1); the default of SAS and lifelines.
    #[default]
    LogLog,
    /// On log S (R's default).
    Log,
}

/// How the variance of a cumulative incidence is estimated.
#[derive(Enum, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[graphql(remote = "roadback_domain::survival::IncidenceVariance")]
pub enum IncidenceVariance {
    /// Aalen's estimator (cmprsk's and SAS's default).
    #[default]
    Aalen,
    /// The delta method.
    Delta,
}

/// Why a count or a curve is withheld.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "roadback_domain::evaluation::Withheld")]
pub enum WithheldReason {
    /// Fewer people than the threshold: they could be recognised.
    SmallCount,
    /// Hidden so that a small count cannot be worked out from the totals.
    Complementary,
}

/// A count as shown: its value, or why it is withheld.
#[derive(SimpleObject, Clone, Copy, Debug)]
pub struct Count {
    /// The count; null when withheld.
    pub value: Option<i64>,
    /// Why it is withheld.
    pub withheld: Option<WithheldReason>,
}

impl From<engine::Cell> for Count {
    fn from(cell: engine::Cell) -> Self {
        Self {
            value: cell.value.map(|v| v as i64),
            withheld: cell.withheld.map(Into::into),
        }
    }
}

/// A count on its own (no totals to protect): withheld below the threshold.
fn single(n: usize, threshold: u64) -> Count {
    engine::suppress(&[n as u64], &[], threshold)[0].into()
}

/// Everyone the caller may evaluate, as of the cut-offs: loaded once per request.
pub struct Evaluation {
    /// The cut-offs.
    pub cut: CutOffView,
    /// Everyone assisted in scope (reporting).
    pub outcomes: Vec<Outcome>,
    /// Holds one of the heavy-work turns while the request lasts.
    pub _turn: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Evaluation {
    /// People whose consent to evaluation use was in force at the cut-off (research).
    fn consented(&self) -> Vec<&Outcome> {
        self.outcomes
            .iter()
            .filter(|o| o.evaluation_consent)
            .collect()
    }
}

fn threshold(public: bool) -> u64 {
    if public {
        PUBLIC_THRESHOLD
    } else {
        EVALUATOR_THRESHOLD
    }
}

/// One line of the program results table.
#[derive(SimpleObject, Clone, Debug)]
pub struct ResultsLine {
    /// The group's code (`all` for the whole program).
    pub group: String,
    /// Trafficked persons assisted.
    pub assisted: Count,
    /// Family members assisted.
    pub family_members: Count,
    /// Male trafficked persons.
    pub male: Count,
    /// Trafficked persons under 18 when identified.
    pub children: Count,
    /// Trafficked persons reintegrated.
    pub reintegrated: Count,
    /// The share of trafficked persons reintegrated; null when either count is withheld.
    pub share_reintegrated: Option<f64>,
}

/// The program results table (the TVRP's headline figures), counts only.
#[derive(SimpleObject, Clone, Debug)]
pub struct ProgramResults {
    /// One line per group (none without a breakdown).
    pub lines: Vec<ResultsLine>,
    /// The whole program's line.
    pub total: ResultsLine,
    /// Counts below this are withheld.
    pub threshold: i32,
    /// Organisations with people in the table.
    pub organisations: i32,
    /// Countries of assistance in the table.
    pub countries: i32,
}

/// A test between cohorts.
#[derive(SimpleObject, Clone, Debug)]
pub struct TestResult {
    /// The chi-square statistic.
    pub statistic: f64,
    /// Its degrees of freedom.
    pub df: i32,
    /// The p-value.
    pub p_value: f64,
}

impl From<GroupTest> for TestResult {
    fn from(t: GroupTest) -> Self {
        Self {
            statistic: t.statistic,
            df: t.df as i32,
            p_value: t.p_value,
        }
    }
}

/// A quantile of follow-up time with its confidence interval (null where not reached).
#[derive(SimpleObject, Clone, Copy, Debug)]
pub struct QuantileView {
    /// The estimate, in days.
    pub days: Option<f64>,
    /// Lower confidence limit.
    pub lower: Option<f64>,
    /// Upper confidence limit.
    pub upper: Option<f64>,
}

impl From<Quantile> for QuantileView {
    fn from(q: Quantile) -> Self {
        Self {
            days: q.estimate,
            lower: q.lower,
            upper: q.upper,
        }
    }
}

/// The restricted mean time to the ending within a horizon.
#[derive(SimpleObject, Clone, Copy, Debug)]
pub struct RmstView {
    /// The horizon, in days.
    pub horizon_days: f64,
    /// The mean days to the ending within it.
    pub days: f64,
    /// Its standard error.
    pub std_err: f64,
}

/// A step of a curve.
#[derive(SimpleObject, Clone, Copy, Debug)]
pub struct CurvePoint {
    /// Days from the origin.
    pub days: f64,
    /// The estimate: the share still without the ending (survival) or with it (incidence).
    pub estimate: f64,
    /// Lower confidence limit.
    pub lower: Option<f64>,
    /// Upper confidence limit.
    pub upper: Option<f64>,
}

/// Numbers under a curve at a time.
#[derive(SimpleObject, Clone, Copy, Debug)]
pub struct RiskRow {
    /// Days from the origin.
    pub days: f64,
    /// People still followed.
    pub at_risk: Count,
    /// Endings so far.
    pub events: Count,
    /// Censored so far.
    pub censored: Count,
}

/// A cohort's Kaplan–Meier curve.
#[derive(SimpleObject, Clone, Debug)]
pub struct SurvivalCohort {
    /// The group's code (`all` without a breakdown).
    pub group: String,
    /// People followed.
    pub subjects: Count,
    /// People whose follow-up ended with the ending.
    pub events: Count,
    /// Why the curve is withheld (too few people), if it is.
    pub withheld: Option<WithheldReason>,
    /// The median days to the ending.
    pub median: Option<QuantileView>,
    /// The days by which a quarter had the ending.
    pub first_quartile: Option<QuantileView>,
    /// The days by which three quarters had the ending.
    pub third_quartile: Option<QuantileView>,
    /// The restricted mean days to the ending within the horizon.
    pub rmst: Option<RmstView>,
    /// The curve of the share still without the ending, while enough people are at risk.
    pub curve: Vec<CurvePoint>,
    /// Where the curve stops being shown (fewer at risk than the threshold), if it does.
    pub curve_withheld_from_days: Option<f64>,
    /// Numbers at risk at regular times, under the curve.
    pub risk_table: Vec<RiskRow>,
}

/// Time to an ending by Kaplan–Meier, per cohort.
#[derive(SimpleObject, Clone, Debug)]
pub struct SurvivalAnalysis {
    /// The ending studied (the others censor).
    pub ending: Ending,
    /// Where follow-up starts.
    pub origin: Origin,
    /// How follow-up without an ending is cut.
    pub censoring: Censoring,
    /// The confidence level.
    pub level: f64,
    /// Counts below this are withheld.
    pub threshold: i32,
    /// People left out for want of an origin (no service yet, for `FIRST_SERVICE`).
    pub without_origin: Count,
    /// The cohorts.
    pub cohorts: Vec<SurvivalCohort>,
    /// The log-rank test between the cohorts, when there are several that do not overlap.
    pub log_rank: Option<TestResult>,
}

/// One ending's cumulative incidence in a cohort.
#[derive(SimpleObject, Clone, Debug)]
pub struct IncidenceCurve {
    /// The ending.
    pub ending: Ending,
    /// People whose follow-up ended with it.
    pub events: Count,
    /// The curve, while enough people are at risk.
    pub curve: Vec<CurvePoint>,
}

/// A cohort's competing outcomes.
#[derive(SimpleObject, Clone, Debug)]
pub struct IncidenceCohort {
    /// The group's code.
    pub group: String,
    /// People followed.
    pub subjects: Count,
    /// Why the curves are withheld (too few people), if they are.
    pub withheld: Option<WithheldReason>,
    /// One curve per ending.
    pub curves: Vec<IncidenceCurve>,
    /// Where the curves stop being shown (fewer at risk than the threshold), if they do.
    pub curve_withheld_from_days: Option<f64>,
    /// Numbers at risk at regular times (events: any ending).
    pub risk_table: Vec<RiskRow>,
}

/// Gray's test for one ending.
#[derive(SimpleObject, Clone, Debug)]
pub struct EndingTest {
    /// The ending.
    pub ending: Ending,
    /// The test.
    pub test: TestResult,
}

/// Competing outcomes by Aalen–Johansen, per cohort.
#[derive(SimpleObject, Clone, Debug)]
pub struct IncidenceAnalysis {
    /// Where follow-up starts.
    pub origin: Origin,
    /// How follow-up without an ending is cut.
    pub censoring: Censoring,
    /// The variance estimator.
    pub variance: IncidenceVariance,
    /// The confidence level.
    pub level: f64,
    /// Counts below this are withheld.
    pub threshold: i32,
    /// People left out for want of an origin.
    pub without_origin: Count,
    /// The cohorts.
    pub cohorts: Vec<IncidenceCohort>,
    /// Gray's test per ending, when there are several cohorts that do not overlap.
    pub grays_tests: Vec<EndingTest>,
}

/// One group's line of the outcome distribution.
#[derive(SimpleObject, Clone, Debug)]
pub struct StandingLine {
    /// The group's code (`all` for the total line).
    pub group: String,
    /// People by where they stand, in the order of `OutcomeDistribution.standings`.
    pub counts: Vec<Count>,
    /// Everyone in the group.
    pub total: Count,
}

/// Where everyone assisted stands at the cut-off (reporting: everyone, counts only).
#[derive(SimpleObject, Clone, Debug)]
pub struct OutcomeDistribution {
    /// The columns: in_progress, reintegrated, re_trafficked, dropped_out, moved_abroad,
    /// deceased, lost_contact.
    pub standings: Vec<String>,
    /// One line per group.
    pub lines: Vec<StandingLine>,
    /// The totals.
    pub total: StandingLine,
    /// Counts below this are withheld.
    pub threshold: i32,
}

/// Returns within a window after reintegration.
#[derive(SimpleObject, Clone, Debug)]
pub struct ReturnWindow {
    /// First day of the window after the exit.
    pub from_days: i32,
    /// Last day of the window.
    pub to_days: i32,
    /// People who returned within it.
    pub returned: Count,
    /// People followed into it without an earlier return.
    pub followed: Count,
}

/// A cohort's returns after reintegration.
#[derive(SimpleObject, Clone, Debug)]
pub struct ReturnCohort {
    /// The group's code.
    pub group: String,
    /// People reintegrated.
    pub exits: Count,
    /// Why the figures are withheld (too few people), if they are.
    pub withheld: Option<WithheldReason>,
    /// Returns by window: 0–180, 181–365, 366–730 days (HUD's Measure 2).
    pub windows: Vec<ReturnWindow>,
    /// The cumulative incidence of a return (1 − Kaplan–Meier), while enough are at risk.
    pub curve: Vec<CurvePoint>,
}

/// Returns after reintegration: trafficked again or back in crisis care.
#[derive(SimpleObject, Clone, Debug)]
pub struct ReturnAnalysis {
    /// How follow-up without a return is cut.
    pub censoring: Censoring,
    /// Counts below this are withheld.
    pub threshold: i32,
    /// The cohorts.
    pub cohorts: Vec<ReturnCohort>,
}

/// Domain scores in a span of months since intake.
#[derive(SimpleObject, Clone, Debug)]
pub struct TrajectoryPoint {
    /// The domain.
    pub domain: crate::vocabulary::ReintegrationDomain,
    /// First month since intake of the span.
    pub from_months: i32,
    /// Last month of the span.
    pub to_months: i32,
    /// Scores given in it.
    pub scores: Count,
    /// Their mean (null when the count is withheld).
    pub mean: Option<f64>,
    /// Their standard deviation.
    pub sd: Option<f64>,
    /// First quartile, median, third quartile.
    pub quartiles: Option<Vec<f64>>,
}

/// Keeps people of some groups only.
#[derive(InputObject, Clone, Debug)]
pub struct CohortFilter {
    /// What the groups are of.
    pub by: BreakdownBy,
    /// The groups kept (codes as the breakdown gives them, e.g. `AL`, `2012`, `female`).
    pub groups: Vec<String>,
}

impl CohortFilter {
    /// True when the person is in one of the groups.
    pub fn keeps(&self, outcome: &Outcome) -> bool {
        Breakdown::from(self.by)
            .groups(outcome)
            .iter()
            .any(|g| self.groups.contains(g))
    }
}

/// Options common to the curves.
#[derive(InputObject, Clone, Copy, Debug)]
pub struct CurveOptions {
    /// Where follow-up starts.
    #[graphql(default_with = "Origin::Identification")]
    pub origin: Origin,
    /// How follow-up without an ending is cut.
    #[graphql(default_with = "Censoring::LastContact")]
    pub censoring: Censoring,
    /// Cohorts (one cohort `all` when absent).
    pub breakdown: Option<BreakdownBy>,
    /// The confidence level (0.5 to 0.999).
    #[graphql(default = 0.95)]
    pub level: f64,
    /// For a public output: counts below 11 withheld instead of below 5.
    #[graphql(default = false)]
    pub public: bool,
    /// Days between the rows of the risk table (7 to 3,650).
    #[graphql(default = 180)]
    pub table_every_days: i32,
}

impl CurveOptions {
    fn check(&self) -> Result<(), ApiError> {
        if !(0.5..=0.999).contains(&self.level) {
            return Err(ApiError::invalid(
                "level",
                "a confidence level from 0.5 to 0.999",
            ));
        }
        if !(7..=3650).contains(&self.table_every_days) {
            return Err(ApiError::invalid("tableEveryDays", "from 7 to 3,650 days"));
        }
        Ok(())
    }

    fn spec(&self) -> FollowUpSpec {
        FollowUpSpec {
            origin: self.origin.into(),
            censoring: self.censoring.into(),
        }
    }
}

/// Follow-ups of the consented people, per cohort, and how many had no origin.
fn follow_ups(
    people: &[&Outcome],
    options: &CurveOptions,
) -> (Vec<(String, Vec<FollowUp>)>, usize) {
    let spec = options.spec();
    let owned: Vec<Outcome> = people.iter().map(|o| (*o).clone()).collect();
    let mut without = 0;
    let mut cohorts = Vec::new();
    for (group, members) in engine::cohorts(&owned, options.breakdown.map(Into::into)) {
        let mut followed = Vec::new();
        for outcome in members {
            match FollowUp::of(outcome, spec) {
                Some(f) => followed.push(f),
                None => without += 1,
            }
        }
        cohorts.push((group, followed));
    }
    // A person without an origin was counted once per group they are in.
    if options
        .breakdown
        .is_some_and(|b| Breakdown::from(b).overlaps())
    {
        without = owned
            .iter()
            .filter(|o| FollowUp::of(o, spec).is_none())
            .count();
    }
    (cohorts, without)
}

/// The risk table of follow-ups at regular times: at risk, events and censored so far.
fn risk_table(
    follow_ups: &[FollowUp],
    is_event: impl Fn(&FollowUp) -> bool,
    every: f64,
    threshold: u64,
) -> Vec<RiskRow> {
    let last = follow_ups.iter().map(|f| f.days).max().unwrap_or(0) as f64;
    let mut rows = Vec::new();
    let mut t = 0.0;
    while t <= last {
        let at_risk = follow_ups.iter().filter(|f| f.days as f64 >= t).count();
        let ended: Vec<&FollowUp> = follow_ups.iter().filter(|f| (f.days as f64) < t).collect();
        let events = ended.iter().filter(|f| is_event(f)).count();
        rows.push(RiskRow {
            days: t,
            at_risk: single(at_risk, threshold),
            events: single(events, threshold),
            censored: single(ended.len() - events, threshold),
        });
        t += every;
    }
    rows
}

fn interval_parts(i: Option<Interval>) -> (Option<f64>, Option<f64>) {
    (i.map(|i| i.lower), i.map(|i| i.upper))
}

/// The evaluation engine at one pair of cut-offs: program results, survival and competing
/// outcomes.
#[Object]
impl Evaluation {
    /// The cut-offs this answer was computed at: give them back to reproduce it exactly.
    async fn cut_off(&self) -> CutOffView {
        self.cut
    }

    /// The program results table (reporting): everyone assisted by the organisations you may
    /// see, whatever their consent to evaluation use, counts only, small counts withheld.
    async fn results(
        &self,
        #[graphql(desc = "Lines per group (the whole program only when absent).")]
        breakdown: Option<BreakdownBy>,
        #[graphql(desc = "Only people taken in on or after this day.")] from: Option<NaiveDate>,
        #[graphql(desc = "Only people taken in on or before this day.")] to: Option<NaiveDate>,
        #[graphql(
            default = false,
            desc = "For a public output: counts below 11 withheld instead of below 5."
        )]
        public: bool,
    ) -> Result<ProgramResults, ApiError> {
        let period = match (from, to) {
            (None, None) => None,
            (from, to) => {
                let from = from.unwrap_or(NaiveDate::MIN);
                let to = to.unwrap_or(NaiveDate::MAX);
                if from > to {
                    return Err(ApiError::invalid("from", "the period starts after it ends"));
                }
                Some((from, to))
            }
        };
        let breakdown = breakdown.map(Breakdown::from);
        let (rows, total) = engine::program_results(&self.outcomes, breakdown, period);
        let (organisations, _) =
            engine::program_results(&self.outcomes, Some(Breakdown::Organisation), period);
        let (countries, _) =
            engine::program_results(&self.outcomes, Some(Breakdown::Country), period);
        let threshold = threshold(public);
        let all: Vec<&ResultsRow> = rows.iter().chain(std::iter::once(&total)).collect();
        let counts: Vec<u64> = all.iter().flat_map(|r| r.counts()).collect();
        // Lines (groups and total of each column) only where groups do not overlap.
        let lines = if breakdown.is_some_and(|b| !b.overlaps()) {
            engine::table_lines(all.len(), 5, false)
        } else {
            Vec::new()
        };
        let cells = engine::suppress(&counts, &lines, threshold);
        let line = |i: usize, row: &ResultsRow| {
            let c = |k: usize| Count::from(cells[i * 5 + k]);
            let (assisted, reintegrated) = (c(0), c(4));
            ResultsLine {
                group: row.group.clone(),
                assisted,
                family_members: c(1),
                male: c(2),
                children: c(3),
                reintegrated,
                share_reintegrated: (assisted.value.is_some() && reintegrated.value.is_some())
                    .then(|| row.share_reintegrated())
                    .flatten(),
            }
        };
        Ok(ProgramResults {
            lines: rows.iter().enumerate().map(|(i, r)| line(i, r)).collect(),
            total: line(rows.len(), &total),
            threshold: threshold as i32,
            organisations: organisations.len() as i32,
            countries: countries.len() as i32,
        })
    }

    /// Time to an ending (reintegration by default) by Kaplan–Meier, per cohort, for research:
    /// only people whose consent to evaluation use was in force at the cut-off.
    async fn survival(
        &self,
        #[graphql(
            desc = "The ending studied; the other endings censor.",
            default_with = "Ending::Reintegrated"
        )]
        ending: Ending,
        #[graphql(desc = "Origin, censoring, cohorts, level, threshold.")] options: Option<
            CurveOptions,
        >,
        #[graphql(desc = "The horizon of the restricted mean, in days (default 730).")]
        horizon_days: Option<i32>,
        #[graphql(
            desc = "How confidence limits are computed.",
            default_with = "CiTransform::LogLog"
        )]
        transform: CiTransform,
    ) -> Result<SurvivalAnalysis, ApiError> {
        let options = options.unwrap_or_else(default_options);
        options.check()?;
        let horizon = f64::from(horizon_days.unwrap_or(730));
        if horizon <= 0.0 {
            return Err(ApiError::invalid(
                "horizonDays",
                "a horizon of at least one day",
            ));
        }
        let threshold = threshold(options.public);
        let domain_ending: engine::Ending = ending.into();
        let people = self.consented();
        let (cohorts, without) = follow_ups(&people, &options);
        let mut shown = Vec::new();
        let mut for_test = Vec::new();
        for (group, followed) in cohorts {
            let observations: Vec<survival::Observation> = followed
                .iter()
                .map(|f| f.observation(domain_ending))
                .collect();
            let events = observations.iter().filter(|o| o.event).count();
            let small = (followed.len() as u64) < threshold;
            let km = KaplanMeier::fit(&observations, transform.into(), options.level);
            let withheld_from = km
                .rows
                .iter()
                .find(|r| (r.at_risk as u64) < threshold)
                .map(|r| r.time);
            let curve = if small {
                Vec::new()
            } else {
                km.rows
                    .iter()
                    .filter(|r| withheld_from.is_none_or(|w| r.time < w))
                    .map(|r| {
                        let (lower, upper) = interval_parts(r.interval);
                        CurvePoint {
                            days: r.time,
                            estimate: r.survival,
                            lower,
                            upper,
                        }
                    })
                    .collect()
            };
            shown.push(SurvivalCohort {
                group,
                subjects: single(followed.len(), threshold),
                events: single(events, threshold),
                withheld: small.then_some(WithheldReason::SmallCount),
                median: (!small).then(|| km.median().into()),
                first_quartile: (!small).then(|| km.quantile(0.25).into()),
                third_quartile: (!small).then(|| km.quantile(0.75).into()),
                rmst: (!small).then(|| {
                    let r = km.rmst(horizon);
                    RmstView {
                        horizon_days: r.horizon,
                        days: r.estimate,
                        std_err: r.std_err,
                    }
                }),
                curve,
                curve_withheld_from_days: if small { None } else { withheld_from },
                risk_table: if small {
                    Vec::new()
                } else {
                    risk_table(
                        &followed,
                        |f| f.ending == Some(domain_ending),
                        f64::from(options.table_every_days),
                        threshold,
                    )
                },
            });
            for_test.push(observations);
        }
        let overlaps = options
            .breakdown
            .is_some_and(|b| Breakdown::from(b).overlaps());
        let log_rank = (!overlaps && for_test.len() > 1).then(|| {
            let groups: Vec<&[survival::Observation]> =
                for_test.iter().map(Vec::as_slice).collect();
            survival::log_rank(&groups).into()
        });
        Ok(SurvivalAnalysis {
            ending,
            origin: options.origin,
            censoring: options.censoring,
            level: options.level,
            threshold: threshold as i32,
            without_origin: single(without, threshold),
            cohorts: shown,
            log_rank,
        })
    }

    /// Competing outcomes by Aalen–Johansen cumulative incidence, per cohort and ending, with
    /// Gray's test, for research: only people whose consent to evaluation use was in force at
    /// the cut-off.
    async fn cumulative_incidence(
        &self,
        #[graphql(desc = "Origin, censoring, cohorts, level, threshold.")] options: Option<
            CurveOptions,
        >,
        #[graphql(
            desc = "The variance estimator.",
            default_with = "IncidenceVariance::Aalen"
        )]
        variance: IncidenceVariance,
    ) -> Result<IncidenceAnalysis, ApiError> {
        let options = options.unwrap_or_else(default_options);
        options.check()?;
        let threshold = threshold(options.public);
        let people = self.consented();
        let (cohorts, without) = follow_ups(&people, &options);
        let mut shown = Vec::new();
        let mut for_test = Vec::new();
        for (group, followed) in cohorts {
            let observations: Vec<survival::CompetingObservation> =
                followed.iter().map(FollowUp::competing).collect();
            let small = (followed.len() as u64) < threshold;
            let mut withheld_from: Option<f64> = None;
            let mut curves = Vec::new();
            for ending in engine::Ending::ALL {
                let cif = CumulativeIncidence::fit(
                    &observations,
                    ending.index(),
                    variance.into(),
                    options.level,
                );
                withheld_from = withheld_from.or_else(|| {
                    cif.rows
                        .iter()
                        .find(|r| (r.at_risk as u64) < threshold)
                        .map(|r| r.time)
                });
                let events = observations
                    .iter()
                    .filter(|o| o.cause == Some(ending.index()))
                    .count();
                curves.push(IncidenceCurve {
                    ending: ending.into(),
                    events: single(events, threshold),
                    curve: if small {
                        Vec::new()
                    } else {
                        cif.rows
                            .iter()
                            .filter(|r| r.events > 0)
                            .filter(|r| withheld_from.is_none_or(|w| r.time < w))
                            .map(|r| {
                                let (lower, upper) = interval_parts(r.interval);
                                CurvePoint {
                                    days: r.time,
                                    estimate: r.incidence,
                                    lower,
                                    upper,
                                }
                            })
                            .collect()
                    },
                });
            }
            shown.push(IncidenceCohort {
                group,
                subjects: single(followed.len(), threshold),
                withheld: small.then_some(WithheldReason::SmallCount),
                curves,
                curve_withheld_from_days: if small { None } else { withheld_from },
                risk_table: if small {
                    Vec::new()
                } else {
                    risk_table(
                        &followed,
                        |f| f.ending.is_some(),
                        f64::from(options.table_every_days),
                        threshold,
                    )
                },
            });
            for_test.push(observations);
        }
        let overlaps = options
            .breakdown
            .is_some_and(|b| Breakdown::from(b).overlaps());
        let grays_tests = if overlaps || for_test.len() < 2 {
            Vec::new()
        } else {
            let groups: Vec<&[survival::CompetingObservation]> =
                for_test.iter().map(Vec::as_slice).collect();
            engine::Ending::ALL
                .into_iter()
                .map(|ending| EndingTest {
                    ending: ending.into(),
                    test: survival::grays_test(&groups, ending.index(), 0.0).into(),
                })
                .collect()
        };
        Ok(IncidenceAnalysis {
            origin: options.origin,
            censoring: options.censoring,
            variance,
            level: options.level,
            threshold: threshold as i32,
            without_origin: single(without, threshold),
            cohorts: shown,
            grays_tests,
        })
    }

    /// Where everyone assisted stands at the cut-off, by group (reporting: everyone, counts
    /// only, small counts withheld with complements over rows and columns).
    async fn outcome_distribution(
        &self,
        #[graphql(desc = "Lines per group (the total only when absent).")] breakdown: Option<
            BreakdownBy,
        >,
        #[graphql(
            default = false,
            desc = "For a public output: counts below 11 withheld."
        )]
        public: bool,
    ) -> OutcomeDistribution {
        let breakdown = breakdown.map(Breakdown::from);
        let groups = match breakdown {
            Some(b) => engine::cohorts(&self.outcomes, Some(b))
                .into_iter()
                .collect(),
            None => Vec::new(),
        };
        standings_table(
            &groups,
            &self.outcomes,
            breakdown.is_some_and(|b| !b.overlaps()),
            threshold(public),
        )
    }

    /// Where people stand by the kinds of service they received (a person is on the line of
    /// each kind, and on `none` without any): reporting, counts only, each line suppressed with
    /// its total.
    async fn services_against_outcome(
        &self,
        #[graphql(
            default = false,
            desc = "For a public output: counts below 11 withheld."
        )]
        public: bool,
    ) -> OutcomeDistribution {
        let groups: Vec<_> = engine::cohorts(&self.outcomes, Some(Breakdown::ServiceKind))
            .into_iter()
            .collect();
        // A person is on the line of each kind received: the lines do not add up to the total.
        standings_table(&groups, &self.outcomes, false, threshold(public))
    }

    /// Domain scores by months since intake, with their spread (reporting: everyone assessed,
    /// aggregate only; a span with fewer scores than the threshold shows only why).
    async fn trajectories(
        &self,
        #[graphql(default = 6, desc = "Months per span (1 to 24).")] span_months: i32,
        #[graphql(
            default = false,
            desc = "For a public output: counts below 11 withheld."
        )]
        public: bool,
    ) -> Result<Vec<TrajectoryPoint>, ApiError> {
        if !(1..=24).contains(&span_months) {
            return Err(ApiError::invalid("spanMonths", "from 1 to 24 months"));
        }
        let threshold = threshold(public);
        let people: Vec<&Outcome> = self.outcomes.iter().collect();
        Ok(engine::trajectories(&people, span_months as u32)
            .into_iter()
            .map(|((domain, from), spread)| {
                let shown = spread.n as u64 >= threshold;
                TrajectoryPoint {
                    domain: domain.into(),
                    from_months: from as i32,
                    to_months: from as i32 + span_months - 1,
                    scores: single(spread.n, threshold),
                    mean: shown.then_some(spread.mean),
                    sd: shown.then_some(spread.sd),
                    quartiles: shown.then(|| spread.quartiles.to_vec()),
                }
            })
            .collect())
    }

    /// Returns after reintegration (trafficked again or back in crisis care), by window and as
    /// a cumulative incidence, for research: only people whose consent to evaluation use was in
    /// force at the cut-off and still is.
    async fn return_after_exit(
        &self,
        #[graphql(desc = "Cohorts (one cohort `all` when absent).")] breakdown: Option<BreakdownBy>,
        #[graphql(
            desc = "How follow-up without a return is cut.",
            default_with = "Censoring::LastContact"
        )]
        censoring: Censoring,
        #[graphql(default = 0.95, desc = "The confidence level (0.5 to 0.999).")] level: f64,
        #[graphql(
            default = false,
            desc = "For a public output: counts below 11 withheld."
        )]
        public: bool,
    ) -> Result<ReturnAnalysis, ApiError> {
        if !(0.5..=0.999).contains(&level) {
            return Err(ApiError::invalid(
                "level",
                "a confidence level from 0.5 to 0.999",
            ));
        }
        let threshold = threshold(public);
        let people: Vec<Outcome> = self.consented().into_iter().cloned().collect();
        let mut cohorts = Vec::new();
        for (group, members) in engine::cohorts(&people, breakdown.map(Into::into)) {
            let exits: Vec<engine::AfterExit> = members
                .iter()
                .filter_map(|o| engine::AfterExit::of(o, censoring.into()))
                .collect();
            let small = (exits.len() as u64) < threshold;
            let windows = engine::RETURN_WINDOWS
                .iter()
                .map(|&(from, to)| {
                    let returned = exits
                        .iter()
                        .filter(|e| e.returned && e.days >= from && e.days <= to)
                        .count();
                    // Observed into the window: no return and no censoring before it.
                    let followed = exits.iter().filter(|e| e.days >= from).count();
                    ReturnWindow {
                        from_days: from as i32,
                        to_days: to as i32,
                        returned: single(returned, threshold),
                        followed: single(followed, threshold),
                    }
                })
                .collect();
            let observations: Vec<survival::Observation> = exits
                .iter()
                .map(|e| survival::Observation {
                    time: e.days as f64,
                    event: e.returned,
                })
                .collect();
            let km = KaplanMeier::fit(&observations, survival::Transform::LogLog, level);
            let curve = if small {
                Vec::new()
            } else {
                km.rows
                    .iter()
                    .take_while(|r| (r.at_risk as u64) >= threshold)
                    .filter(|r| r.events > 0)
                    .map(|r| {
                        let (lower, upper) = interval_parts(r.interval);
                        // The incidence is 1 − S: its limits swap.
                        CurvePoint {
                            days: r.time,
                            estimate: 1.0 - r.survival,
                            lower: upper.map(|u| 1.0 - u),
                            upper: lower.map(|l| 1.0 - l),
                        }
                    })
                    .collect()
            };
            cohorts.push(ReturnCohort {
                group,
                exits: single(exits.len(), threshold),
                withheld: small.then_some(WithheldReason::SmallCount),
                windows: if small { Vec::new() } else { windows },
                curve,
            });
        }
        Ok(ReturnAnalysis {
            censoring,
            threshold: threshold as i32,
            cohorts,
        })
    }
}

/// Where people stand, a line per group and one for `everyone`, each line suppressed with its
/// own total, and the columns too when the groups add up to everyone (`additive`).
fn standings_table(
    groups: &[(String, Vec<&Outcome>)],
    everyone: &[Outcome],
    additive: bool,
    threshold: u64,
) -> OutcomeDistribution {
    let columns = engine::STANDINGS.len() + 1;
    let tally = |people: &mut dyn Iterator<Item = &Outcome>| {
        let mut row = vec![0u64; columns];
        for person in people {
            let standing = engine::standing(person);
            if let Some(c) = engine::STANDINGS.iter().position(|s| *s == standing) {
                row[c] += 1;
            }
            row[columns - 1] += 1;
        }
        row
    };
    let mut counts: Vec<u64> = groups
        .iter()
        .flat_map(|(_, people)| tally(&mut people.iter().copied()))
        .collect();
    counts.extend(tally(&mut everyone.iter()));
    let rows = groups.len() + 1;
    // Rows always add up to their total; columns only when the groups do not overlap.
    let mut lines: Vec<Vec<usize>> = engine::table_lines(rows, columns, true)
        .into_iter()
        .skip(columns)
        .collect();
    if additive {
        lines.extend(engine::table_lines(rows, columns, false));
    }
    let cells = engine::suppress(&counts, &lines, threshold);
    let line = |r: usize, group: &str| StandingLine {
        group: group.to_string(),
        counts: (0..columns - 1)
            .map(|c| cells[r * columns + c].into())
            .collect(),
        total: cells[r * columns + columns - 1].into(),
    };
    OutcomeDistribution {
        standings: engine::STANDINGS.iter().map(|s| s.to_string()).collect(),
        lines: groups
            .iter()
            .enumerate()
            .map(|(r, (g, _))| line(r, g))
            .collect(),
        total: line(groups.len(), "all"),
        threshold: threshold as i32,
    }
}

fn default_options() -> CurveOptions {
    CurveOptions {
        origin: Origin::Identification,
        censoring: Censoring::LastContact,
        breakdown: None,
        level: 0.95,
        public: false,
        table_every_days: 180,
    }
}

/// Everyone in the caller's scope (evaluators: the program; supervisors: their organisation)
/// at the cut-offs, with a heavy-work turn held while the caller uses them. A person counts for
/// research (`evaluation_consent`) only while their consent to evaluation use was in force at
/// the cut-off and is still in force now: a withdrawal removes them from every cut-off.
pub async fn load(
    state: &crate::ApiState,
    session: &crate::auth::Session,
    cut: CutOff,
) -> Result<(Vec<Outcome>, tokio::sync::OwnedSemaphorePermit), ApiError> {
    let (people, turn) = load_cases(state, session, cut, |_, _| {}).await?;
    Ok((people.into_iter().map(|(o, _)| o).collect(), turn))
}

/// [`load`], with each person's case at the cut-offs (for exports of their facts).
pub async fn load_cases(
    state: &crate::ApiState,
    session: &crate::auth::Session,
    cut: CutOff,
    progress: impl FnMut(u64, u64),
) -> Result<
    (
        Vec<(Outcome, roadback_domain::Case)>,
        tokio::sync::OwnedSemaphorePermit,
    ),
    ApiError,
> {
    // Every history is read and replayed: a few such requests at a time.
    let turn = state
        .heavy
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| ApiError::Unavailable)?;
    let histories = roadback_store::records::histories(&state.store, 10_000, progress).await?;
    let organisation = (session.principal.role != roadback_domain::access::Role::Evaluator)
        .then_some(session.user.organisation);
    let today = cut.until(Utc::now().date_naive());
    let people = histories
        .iter()
        .filter_map(|h| {
            let case = h.case_at(cut);
            let mut outcome = Outcome::of(&case, today)?;
            if organisation.is_some_and(|org| outcome.organisation != org) {
                return None;
            }
            outcome.evaluation_consent = outcome.evaluation_consent
                && h.now()
                    .has_consent(roadback_domain::vocabulary::ConsentScope::EvaluationUse);
            Some((outcome, case))
        })
        .collect();
    Ok((people, turn))
}
