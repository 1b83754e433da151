//! Survival analysis for evaluation, as plain functions over follow-up times: how long
//! reintegration takes (Kaplan–Meier), what competes with it (Aalen–Johansen cumulative
//! incidence), and whether cohorts differ (log-rank, Gray's test). Ties are handled exactly, as
//! R's `survival` and `cmprsk` and SAS do: events at the same time are counted together, and a
//! subject censored at an event time is still at risk at it.
//!
//! Every estimator is checked against published values printed by standard software
//! (`fixtures/survival/`).

mod competing;
mod kaplan_meier;
pub mod stats;

#[cfg(test)]
mod tests;

pub use competing::{
    CompetingObservation, CumulativeIncidence, IncidenceRow, IncidenceVariance, grays_test,
};
pub use kaplan_meier::{KaplanMeier, Quantile, Rmst, SurvivalRow, log_rank};

/// One subject's follow-up: the time from the origin to the end, and whether the end was the
/// event (or censoring).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Observation {
    /// Time from the origin (days, weeks, years: the caller's unit).
    pub time: f64,
    /// True when the follow-up ended with the event, false when it was censored.
    pub event: bool,
}

/// How confidence limits are computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Transform {
    /// On log(−log S) (log(−log(1 − F)) for an incidence); limits stay within (0, 1). The
    /// default of SAS, lifelines and cmprsk's users.
    #[default]
    LogLog,
    /// On log S (R `survival`'s default); the upper limit is capped at 1.
    Log,
}

/// A confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    /// Lower limit.
    pub lower: f64,
    /// Upper limit.
    pub upper: f64,
}

/// A test between cohorts.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupTest {
    /// The chi-square statistic.
    pub statistic: f64,
    /// Its degrees of freedom (cohorts with information, less one).
    pub df: usize,
    /// The probability of a statistic at least this large if the cohorts did not differ.
    pub p_value: f64,
}

impl GroupTest {
    fn of(score: &[f64], variance: &[Vec<f64>]) -> Self {
        let (statistic, df) = stats::quadratic_form(score, variance);
        Self {
            statistic,
            df,
            p_value: stats::chi_square_sf(statistic, df),
        }
    }
}

/// The two-sided normal quantile of a confidence level (1.959964 for 0.95).
fn z_of(level: f64) -> f64 {
    stats::normal_quantile(0.5 + level / 2.0)
}

/// The distinct times of `times` (sorted), each with the indices of its subjects.
fn distinct_times(times: &[f64]) -> Vec<(f64, Vec<usize>)> {
    let mut order: Vec<usize> = (0..times.len()).collect();
    order.sort_by(|a, b| times[*a].total_cmp(&times[*b]));
    let mut out: Vec<(f64, Vec<usize>)> = Vec::new();
    for i in order {
        match out.last_mut() {
            Some((t, members)) if *t == times[i] => members.push(i),
            _ => out.push((times[i], vec![i])),
        }
    }
    out
}
