//! Competing outcomes: the Aalen–Johansen cumulative incidence of one cause, with Aalen's
//! variance (cmprsk's and SAS's default) or the delta method, and Gray's test between cohorts
//! (Gray 1988, for one stratum).

use super::{GroupTest, Interval, Transform, distinct_times, z_of};

/// One subject's follow-up when several outcomes compete: the time, and which outcome ended it
/// (`None`: censored).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CompetingObservation {
    /// Time from the origin.
    pub time: f64,
    /// The outcome that ended the follow-up (an index the caller assigns), or `None` when
    /// censored.
    pub cause: Option<usize>,
}

/// How the variance of a cumulative incidence is estimated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IncidenceVariance {
    /// Aalen's estimator (cmprsk's and SAS's default).
    #[default]
    Aalen,
    /// The delta method (Marubini & Valsecchi; SAS `ERROR=DELTA`).
    Delta,
}

/// The estimate at one distinct time.
#[derive(Clone, Debug, PartialEq)]
pub struct IncidenceRow {
    /// The time.
    pub time: f64,
    /// Subjects at risk just before it.
    pub at_risk: usize,
    /// Events of the cause at it.
    pub events: usize,
    /// Events of the other causes at it.
    pub competing: usize,
    /// Censored at it.
    pub censored: usize,
    /// The cumulative incidence F(t), right-continuous.
    pub incidence: f64,
    /// Its standard error.
    pub std_err: f64,
    /// The confidence interval (none while F is 0).
    pub interval: Option<Interval>,
}

/// The cumulative incidence of one cause.
#[derive(Clone, Debug, PartialEq)]
pub struct CumulativeIncidence {
    /// The cause.
    pub cause: usize,
    /// One row per distinct time.
    pub rows: Vec<IncidenceRow>,
    /// Subjects.
    pub subjects: usize,
    /// The confidence level.
    pub level: f64,
    /// The variance estimator.
    pub variance: IncidenceVariance,
}

/// 1 − (m − 1)/(n − 1): Aalen's correction for `m` tied events among `n` at risk.
fn ties(m: f64, n: f64) -> f64 {
    if m > 1.0 {
        1.0 - (m - 1.0) / (n - 1.0)
    } else {
        1.0
    }
}

impl CumulativeIncidence {
    /// Fits the cumulative incidence of `cause`; intervals on the log-log scale.
    pub fn fit(
        observations: &[CompetingObservation],
        cause: usize,
        variance: IncidenceVariance,
        level: f64,
    ) -> Self {
        let z = z_of(level);
        let times: Vec<f64> = observations.iter().map(|o| o.time).collect();
        let mut at_risk = observations.len() as f64;
        // Overall survival just before the time, and the incidence.
        let (mut survival, mut incidence) = (1.0_f64, 0.0_f64);
        // Aalen: the running sums whose combination is the variance at a cause's event.
        let (mut v1, mut v2, mut v3) = (0.0, 0.0, 0.0);
        // Delta: per event time (n, d, d of the cause, F after, S before).
        let mut history: Vec<(f64, f64, f64, f64, f64)> = Vec::new();
        let mut var = 0.0;
        let mut rows = Vec::new();
        for (time, members) in distinct_times(&times) {
            let count = |f: &dyn Fn(&CompetingObservation) -> bool| {
                members.iter().filter(|i| f(&observations[**i])).count()
            };
            let events = count(&|o| o.cause == Some(cause));
            let censored = count(&|o| o.cause.is_none());
            let competing = members.len() - events - censored;
            let (d1, d2, n) = (events as f64, competing as f64, at_risk);
            if events + competing > 0 {
                let after = survival * (n - d1 - d2) / n;
                incidence += survival * d1 / n;
                match variance {
                    IncidenceVariance::Aalen => {
                        if d2 > 0.0 && after > 0.0 {
                            let w = survival * survival * ties(d2, n) * d2 / (n * n);
                            let (a, b) = (1.0 / after, incidence / after);
                            v1 += b * b * w;
                            v2 += a * b * w;
                            v3 += a * a * w;
                        }
                        if d1 > 0.0 {
                            let w = survival * survival * ties(d1, n) * d1 / (n * n);
                            let a = if after > 0.0 { 1.0 / after } else { 0.0 };
                            let b = 1.0 + a * incidence;
                            v1 += b * b * w;
                            v2 += a * b * w;
                            v3 += a * a * w;
                            var = v1 + incidence * incidence * v3 - 2.0 * incidence * v2;
                        }
                    }
                    IncidenceVariance::Delta => {
                        history.push((n, d1 + d2, d1, incidence, survival));
                        if d1 > 0.0 {
                            var = history
                                .iter()
                                .map(|&(n, d, dk, f, s)| {
                                    let gap = incidence - f;
                                    let all = if n > d {
                                        gap * gap * d / (n * (n - d))
                                    } else {
                                        0.0
                                    };
                                    all + s * s * dk * (n - dk) / (n * n * n)
                                        - 2.0 * gap * s * dk / (n * n)
                                })
                                .sum();
                        }
                    }
                }
                survival = after;
            }
            let std_err = var.max(0.0).sqrt();
            rows.push(IncidenceRow {
                time,
                at_risk: at_risk as usize,
                events,
                competing,
                censored,
                incidence,
                std_err,
                interval: interval(incidence, std_err, z),
            });
            at_risk -= members.len() as f64;
        }
        Self {
            cause,
            rows,
            subjects: observations.len(),
            level,
            variance,
        }
    }

    /// The row in force at `t` (the last at or before it), if any.
    pub fn at(&self, t: f64) -> Option<&IncidenceRow> {
        self.rows.iter().take_while(|r| r.time <= t).last()
    }

    /// How confidence intervals are computed (always on the log-log scale).
    pub fn transform(&self) -> Transform {
        Transform::LogLog
    }
}

/// The log-log interval of an incidence F: F^exp(±z·se / (F log F)).
fn interval(incidence: f64, std_err: f64, z: f64) -> Option<Interval> {
    if incidence <= 0.0 || incidence >= 1.0 {
        return None;
    }
    let spread = z * std_err / (incidence * incidence.ln());
    Some(Interval {
        lower: incidence.powf((-spread).exp()),
        upper: incidence.powf(spread.exp()),
    })
}

/// Gray's test that cohorts have the same cumulative incidence of `cause` (ρ = `rho`, 0 for
/// the log-rank-like weights): a score per cohort from the subdistribution hazards and its
/// variance, chi-square on (cohorts − 1) degrees of freedom.
pub fn grays_test(groups: &[&[CompetingObservation]], cause: usize, rho: f64) -> GroupTest {
    let k = groups.len();
    let last = k.saturating_sub(1);
    // (time, 0 censored / 1 the cause / 2 another cause, cohort)
    let mut all: Vec<(f64, usize, usize)> = Vec::new();
    for (g, observations) in groups.iter().enumerate() {
        all.extend(observations.iter().map(|o| {
            let kind = match o.cause {
                None => 0,
                Some(c) if c == cause => 1,
                Some(_) => 2,
            };
            (o.time, kind, g)
        }));
    }
    let times: Vec<f64> = all.iter().map(|o| o.0).collect();
    let mut at_risk: Vec<f64> = groups.iter().map(|g| g.len() as f64).collect();
    // Per cohort: overall survival and incidence just before and at the time.
    let (mut s_before, mut s_at) = (vec![1.0; k], vec![1.0; k]);
    let (mut f_before, mut f_at) = (vec![0.0; k], vec![0.0; k]);
    // Pooled incidence just before.
    let mut pooled_before = 0.0;
    let mut score = vec![0.0; last];
    let mut v = vec![vec![0.0; last]; last];
    let mut c = vec![vec![0.0; k]; k];
    let mut v2 = vec![vec![0.0; k]; last];
    let mut v3 = vec![0.0; k];
    for (_, members) in distinct_times(&times) {
        let mut d = vec![[0.0_f64; 3]; k];
        for i in &members {
            d[all[*i].2][all[*i].1] += 1.0;
        }
        let nd1: f64 = d.iter().map(|x| x[1]).sum();
        let nd2: f64 = d.iter().map(|x| x[2]).sum();
        if nd1 + nd2 > 0.0 {
            let (mut tr, mut tq) = (0.0, 0.0);
            for g in 0..k {
                if at_risk[g] <= 0.0 {
                    continue;
                }
                s_at[g] = s_before[g] * (at_risk[g] - d[g][1] - d[g][2]) / at_risk[g];
                f_at[g] = f_before[g] + s_before[g] * d[g][1] / at_risk[g];
                tr += at_risk[g] / s_before[g];
                tq += at_risk[g] * (1.0 - f_before[g]) / s_before[g];
            }
            let pooled = pooled_before + nd1 / tr;
            let weight = (1.0 - pooled_before).powf(rho);
            let mut a = vec![vec![0.0; k]; k];
            for i in 0..k {
                if at_risk[i] <= 0.0 {
                    continue;
                }
                let ti = at_risk[i] / s_before[i];
                for j in 0..k {
                    if at_risk[j] <= 0.0 {
                        continue;
                    }
                    a[i][j] = if i == j {
                        weight * ti * (1.0 - ti / tr)
                    } else {
                        -weight * ti * at_risk[j] / (s_before[j] * tr)
                    };
                    c[i][j] += a[i][j] * nd1 / (tr * (1.0 - pooled_before));
                }
            }
            for i in 0..last {
                if at_risk[i] > 0.0 {
                    score[i] += weight
                        * (d[i][1] - nd1 * at_risk[i] * (1.0 - f_before[i]) / (s_before[i] * tq));
                }
            }
            if nd1 > 0.0 {
                for g in 0..k {
                    if at_risk[g] <= 0.0 {
                        continue;
                    }
                    let t4 = if s_at[g] > 0.0 {
                        1.0 - (1.0 - pooled) / s_at[g]
                    } else {
                        1.0
                    };
                    let t5 = if nd1 > 1.0 {
                        1.0 - (nd1 - 1.0) / (tr * s_before[g] - 1.0)
                    } else {
                        1.0
                    };
                    let t3 = t5 * s_before[g] * nd1 / (tr * at_risk[g]);
                    v3[g] += t4 * t4 * t3;
                    for i in 0..last {
                        let t1 = a[i][g] - t4 * c[i][g];
                        v2[i][g] += t1 * t4 * t3;
                        for j in 0..=i {
                            v[i][j] += t1 * (a[j][g] - t4 * c[j][g]) * t3;
                        }
                    }
                }
            }
            if nd2 > 0.0 {
                for g in 0..k {
                    if s_at[g] <= 0.0 || d[g][2] <= 0.0 {
                        continue;
                    }
                    let t4 = (1.0 - pooled) / s_at[g];
                    let t3 = ties(d[g][2], at_risk[g]) * s_before[g] * s_before[g] * d[g][2]
                        / (at_risk[g] * at_risk[g]);
                    v3[g] += t4 * t4 * t3;
                    for i in 0..last {
                        let t1 = t4 * c[i][g];
                        v2[i][g] -= t1 * t4 * t3;
                        for j in 0..=i {
                            v[i][j] += t1 * t4 * c[j][g] * t3;
                        }
                    }
                }
            }
            pooled_before = pooled;
            f_before.clone_from(&f_at);
            s_before.clone_from(&s_at);
        }
        for i in &members {
            at_risk[all[*i].2] -= 1.0;
        }
    }
    for i in 0..last {
        for j in 0..=i {
            for g in 0..k {
                v[i][j] += c[i][g] * c[j][g] * v3[g] + c[i][g] * v2[j][g] + c[j][g] * v2[i][g];
            }
            v[j][i] = v[i][j];
        }
    }
    GroupTest::of(&score, &v)
}
