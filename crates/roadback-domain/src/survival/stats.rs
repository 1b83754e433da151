//! The distributions the estimators need: the normal (confidence limits, p-values) and the
//! chi-square (tests), through the regularized incomplete gamma function; and the quadratic form
//! of a test statistic with a generalized inverse.

/// ln Γ(x) for x > 0 (Lanczos approximation, g = 7, nine terms: about 15 significant digits).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = C[0];
    for (i, c) in C.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// The regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a).
pub fn gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let front = (-x + a * x.ln() - ln_gamma(a)).exp();
    if x < a + 1.0 {
        // P(a, x) by its power series, then Q = 1 − P.
        let (mut term, mut sum) = (1.0 / a, 1.0 / a);
        for n in 1..1000 {
            term *= x / (a + n as f64);
            sum += term;
            if term.abs() < sum.abs() * 1e-17 {
                break;
            }
        }
        (1.0 - front * sum).max(0.0)
    } else {
        // Q(a, x) by its continued fraction (modified Lentz).
        const TINY: f64 = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < TINY {
                d = TINY;
            }
            c = b + an / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            let step = d * c;
            h *= step;
            if (step - 1.0).abs() < 1e-17 {
                break;
            }
        }
        front * h
    }
}

/// The probability that a chi-square variable with `df` degrees of freedom exceeds `x`.
pub fn chi_square_sf(x: f64, df: usize) -> f64 {
    if df == 0 {
        return 1.0;
    }
    gamma_q(df as f64 / 2.0, x / 2.0)
}

/// The complementary error function.
fn erfc(x: f64) -> f64 {
    let q = gamma_q(0.5, x * x);
    if x >= 0.0 { q } else { 2.0 - q }
}

/// P(Z ≤ z) for a standard normal Z.
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// The standard normal quantile: z with P(Z ≤ z) = p (Acklam's approximation, refined by one
/// Halley step: about 15 significant digits).
pub fn normal_quantile(p: f64) -> f64 {
    assert!(p > 0.0 && p < 1.0, "a probability strictly between 0 and 1");
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        let q = (-2.0 * q.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    let x = if p < 0.024_25 {
        tail(p)
    } else if p > 1.0 - 0.024_25 {
        -tail(1.0 - p)
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    };
    let e = normal_cdf(x) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

/// `u' V⁻ u` for a symmetric, positive semi-definite `v`, with a generalized inverse: a
/// direction without variance (a group without events) is left out. Returns the statistic and
/// the rank of `v` (the test's degrees of freedom).
pub fn quadratic_form(u: &[f64], v: &[Vec<f64>]) -> (f64, usize) {
    let n = u.len();
    let mut a: Vec<Vec<f64>> = v.to_vec();
    let mut u = u.to_vec();
    let scale = (0..n).map(|i| a[i][i].abs()).fold(0.0, f64::max);
    let tolerance = scale * 1e-9;
    let (mut statistic, mut rank) = (0.0, 0);
    for k in 0..n {
        let pivot = a[k][k];
        if pivot <= tolerance {
            continue;
        }
        rank += 1;
        statistic += u[k] * u[k] / pivot;
        let row = a[k].clone();
        for i in k + 1..n {
            let factor = a[i][k] / pivot;
            u[i] -= factor * u[k];
            for (x, above) in a[i].iter_mut().zip(&row).skip(k + 1) {
                *x -= factor * above;
            }
        }
    }
    (statistic, rank)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance * b.abs().max(1e-300)
    }

    #[test]
    fn the_distributions_give_the_tabulated_values() {
        assert!(close(normal_quantile(0.975), 1.959_963_984_540_054, 1e-12));
        assert!(close(normal_quantile(0.025), -1.959_963_984_540_054, 1e-12));
        assert!(close(normal_quantile(0.995), 2.575_829_303_548_901, 1e-12));
        assert!(close(normal_cdf(1.0), 0.841_344_746_068_542_9, 1e-12));
        // chi-square: exp(−x/2) for two degrees of freedom; erfc for one.
        assert!(close(
            chi_square_sf(11.922_882, 2),
            (-11.922_882f64 / 2.0).exp(),
            1e-12
        ));
        assert!(close(chi_square_sf(3.841_458_820_694_124, 1), 0.05, 1e-10));
        assert!(close(
            chi_square_sf(30.0, 5),
            1.474_858_103_844_305e-5,
            1e-9
        ));
        assert!(close(chi_square_sf(0.5, 3), 0.918_891_411_654_676_4, 1e-10));
    }

    #[test]
    fn a_direction_without_variance_is_left_out() {
        let v = vec![vec![2.0, 0.0], vec![0.0, 0.0]];
        assert_eq!(quadratic_form(&[2.0, 0.0], &v), (2.0, 1));
        let v = vec![vec![4.0, 2.0], vec![2.0, 3.0]];
        // [1 1] V⁻¹ [1 1]' with V⁻¹ = [3 −2; −2 4] / 8.
        let (x, rank) = quadratic_form(&[1.0, 1.0], &v);
        assert!(close(x, 3.0 / 8.0, 1e-12) && rank == 2);
    }
}
