//! Kaplan–Meier with Greenwood's variance, its quantiles and restricted mean, and the log-rank
//! test.

use super::{GroupTest, Interval, Observation, Transform, distinct_times, z_of};

/// The estimate at one distinct time (of an event or a censoring).
#[derive(Clone, Debug, PartialEq)]
pub struct SurvivalRow {
    /// The time.
    pub time: f64,
    /// Subjects at risk just before it.
    pub at_risk: usize,
    /// Events at it.
    pub events: usize,
    /// Censored at it (still at risk at it).
    pub censored: usize,
    /// S(t), right-continuous.
    pub survival: f64,
    /// Greenwood's standard error of S(t).
    pub std_err: f64,
    /// The confidence interval (none where S is 0 or 1).
    pub interval: Option<Interval>,
}

/// A quantile of the follow-up time with its confidence interval (each end `None` when not
/// reached within the follow-up).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quantile {
    /// The fraction who had the event by it (0.5: the median).
    pub p: f64,
    /// The estimate.
    pub estimate: Option<f64>,
    /// Lower confidence limit.
    pub lower: Option<f64>,
    /// Upper confidence limit.
    pub upper: Option<f64>,
}

/// The restricted mean survival time: the mean time to the event within a horizon.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rmst {
    /// The horizon.
    pub horizon: f64,
    /// The area under S from 0 to the horizon.
    pub estimate: f64,
    /// Its standard error (Klein & Moeschberger §4.5).
    pub std_err: f64,
}

/// A Kaplan–Meier estimate.
#[derive(Clone, Debug, PartialEq)]
pub struct KaplanMeier {
    /// One row per distinct time, in order.
    pub rows: Vec<SurvivalRow>,
    /// Subjects.
    pub subjects: usize,
    /// The confidence level of the intervals.
    pub level: f64,
    /// How the intervals were computed.
    pub transform: Transform,
}

impl KaplanMeier {
    /// Fits the estimate.
    pub fn fit(observations: &[Observation], transform: Transform, level: f64) -> Self {
        let z = z_of(level);
        let times: Vec<f64> = observations.iter().map(|o| o.time).collect();
        let mut at_risk = observations.len();
        let (mut survival, mut greenwood) = (1.0_f64, 0.0_f64);
        let mut rows = Vec::new();
        for (time, members) in distinct_times(&times) {
            let events = members.iter().filter(|i| observations[**i].event).count();
            let censored = members.len() - events;
            if events > 0 {
                survival *= (at_risk - events) as f64 / at_risk as f64;
                if at_risk > events {
                    greenwood += events as f64 / (at_risk as f64 * (at_risk - events) as f64);
                }
            }
            rows.push(SurvivalRow {
                time,
                at_risk,
                events,
                censored,
                survival,
                std_err: survival * greenwood.sqrt(),
                interval: interval(survival, greenwood, transform, z),
            });
            at_risk -= members.len();
        }
        Self {
            rows,
            subjects: observations.len(),
            level,
            transform,
        }
    }

    /// S(t): the estimate at `t` (1 before the first event).
    pub fn survival_at(&self, t: f64) -> f64 {
        self.rows
            .iter()
            .take_while(|r| r.time <= t)
            .last()
            .map_or(1.0, |r| r.survival)
    }

    /// The time by which a fraction `p` had the event, with its confidence interval (the times
    /// at which the lower and the upper confidence limits reach 1 − p, as R and SAS give it).
    pub fn quantile(&self, p: f64) -> Quantile {
        let target = 1.0 - p;
        let events: Vec<&SurvivalRow> = self.rows.iter().filter(|r| r.events > 0).collect();
        let first_at_or_below = |value: &dyn Fn(&SurvivalRow) -> Option<f64>| -> Option<f64> {
            let mut last = None;
            for (i, row) in events.iter().enumerate() {
                let v = value(row).or(last)?;
                last = Some(v);
                if (v - target).abs() < 1e-10 {
                    // Exactly on the target over a flat stretch: its midpoint.
                    return Some(
                        events
                            .get(i + 1)
                            .map_or(row.time, |next| (row.time + next.time) / 2.0),
                    );
                }
                if v < target {
                    return Some(row.time);
                }
            }
            None
        };
        Quantile {
            p,
            estimate: first_at_or_below(&|r| Some(r.survival)),
            // Where S reaches 0 both limits do.
            lower: first_at_or_below(&|r| {
                r.interval
                    .map(|i| i.lower)
                    .or((r.survival == 0.0).then_some(0.0))
            }),
            upper: first_at_or_below(&|r| {
                r.interval
                    .map(|i| i.upper)
                    .or((r.survival == 0.0).then_some(0.0))
            }),
        }
    }

    /// The median time to the event.
    pub fn median(&self) -> Quantile {
        self.quantile(0.5)
    }

    /// The restricted mean survival time to `horizon`, with its standard error.
    pub fn rmst(&self, horizon: f64) -> Rmst {
        let steps: Vec<&SurvivalRow> = self
            .rows
            .iter()
            .filter(|r| r.events > 0 && r.time <= horizon)
            .collect();
        // Area from each event time to the horizon, from the last backwards.
        let mut tail = vec![0.0; steps.len()];
        let mut area_after = 0.0;
        for i in (0..steps.len()).rev() {
            let end = steps.get(i + 1).map_or(horizon, |next| next.time);
            area_after += steps[i].survival * (end - steps[i].time);
            tail[i] = area_after;
        }
        let first = steps.first().map_or(horizon, |s| s.time);
        let estimate = first.min(horizon) + tail.first().copied().unwrap_or(0.0);
        let variance: f64 = steps
            .iter()
            .zip(&tail)
            .filter(|(row, _)| row.at_risk > row.events)
            .map(|(row, a)| {
                a * a * row.events as f64 / (row.at_risk as f64 * (row.at_risk - row.events) as f64)
            })
            .sum();
        Rmst {
            horizon,
            estimate,
            std_err: variance.sqrt(),
        }
    }
}

/// The confidence interval of S from Greenwood's sum (the variance of log S).
fn interval(survival: f64, greenwood: f64, transform: Transform, z: f64) -> Option<Interval> {
    if survival <= 0.0 || survival >= 1.0 {
        return None;
    }
    let se = greenwood.sqrt();
    Some(match transform {
        Transform::LogLog => {
            let spread = z * se / survival.ln().abs();
            Interval {
                lower: survival.powf(spread.exp()),
                upper: survival.powf((-spread).exp()),
            }
        }
        Transform::Log => Interval {
            lower: survival * (-z * se).exp(),
            upper: (survival * (z * se).exp()).min(1.0),
        },
    })
}

/// The log-rank test that cohorts have the same survival: observed against expected events
/// at each event time, with the hypergeometric variance.
pub fn log_rank(groups: &[&[Observation]]) -> GroupTest {
    let k = groups.len();
    let mut all: Vec<(f64, bool, usize)> = Vec::new();
    for (g, observations) in groups.iter().enumerate() {
        all.extend(observations.iter().map(|o| (o.time, o.event, g)));
    }
    let times: Vec<f64> = all.iter().map(|o| o.0).collect();
    let mut at_risk: Vec<f64> = groups.iter().map(|g| g.len() as f64).collect();
    let mut score = vec![0.0; k];
    let mut variance = vec![vec![0.0; k]; k];
    for (_, members) in distinct_times(&times) {
        let mut events = vec![0.0; k];
        for i in &members {
            if all[*i].1 {
                events[all[*i].2] += 1.0;
            }
        }
        let (n, d): (f64, f64) = (at_risk.iter().sum(), events.iter().sum());
        if d > 0.0 {
            for g in 0..k {
                score[g] += events[g] - d * at_risk[g] / n;
            }
            if n > 1.0 {
                let spread = d * (n - d) / (n - 1.0);
                for g in 0..k {
                    for h in 0..k {
                        let same = if g == h { 1.0 } else { 0.0 };
                        variance[g][h] += spread * at_risk[g] / n * (same - at_risk[h] / n);
                    }
                }
            }
        }
        for i in &members {
            at_risk[all[*i].2] -= 1.0;
        }
    }
    // The last cohort is determined by the others.
    let last = k.saturating_sub(1);
    let variance: Vec<Vec<f64>> = variance[..last]
        .iter()
        .map(|r| r[..last].to_vec())
        .collect();
    GroupTest::of(&score[..last], &variance)
}
