// Step curves with their confidence bands (uPlot), one series per cohort or outcome, and the
// numbers at risk under them.
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import uPlot from 'uplot';
import { Chart, Legend, PALETTE, Scroll } from '../../components/Chart';
import { formatNumber } from '../../i18n';
import { CountCell, type Count } from './Counts';

export type Curve = {
  label: string;
  points: { days: number; estimate: number; lower?: number | null; upper?: number | null }[];
};

/** Curves on one time axis: each step function carried forward to every x, empty past its end. */
export function align(curves: Curve[]): uPlot.AlignedData {
  const xs = [...new Set(curves.flatMap((c) => c.points.map((p) => p.days)))].sort((a, b) => a - b);
  const series: (number | null)[][] = [];
  for (const c of curves) {
    const est: (number | null)[] = [];
    const lo: (number | null)[] = [];
    const hi: (number | null)[] = [];
    let i = -1;
    const end = c.points.length ? c.points[c.points.length - 1].days : -1;
    for (const x of xs) {
      while (i + 1 < c.points.length && c.points[i + 1].days <= x) i++;
      const p = i >= 0 && x <= end ? c.points[i] : null;
      est.push(p ? p.estimate : null);
      lo.push(p?.lower ?? null);
      hi.push(p?.upper ?? null);
    }
    series.push(est, lo, hi);
  }
  return [xs, ...series] as uPlot.AlignedData;
}

/**
 * Curves with their bands. Each starts at day 0 at `start` (1 for survival, 0 for incidence);
 * the legend is HTML below the chart (the bands' series are not listed).
 */
export function CurveChart({
  curves,
  label,
  yLabel,
  start,
  height,
}: {
  curves: Curve[];
  label: string;
  yLabel: string;
  start: number;
  height?: number;
}) {
  const { t } = useTranslation();
  const data = useMemo(
    () =>
      align(
        curves.map((c) => ({
          ...c,
          points:
            c.points.length && c.points[0].days > 0
              ? [{ days: 0, estimate: start, lower: start, upper: start }, ...c.points]
              : c.points,
        })),
      ),
    [curves, start],
  );
  const options = useMemo(() => {
    const stepped = uPlot.paths.stepped!({ align: 1 });
    const series: uPlot.Series[] = [{ label: t('evaluation.days') }];
    const bands: uPlot.Band[] = [];
    curves.forEach((c, i) => {
      const colour = PALETTE[i % PALETTE.length];
      series.push(
        { label: c.label, stroke: colour, width: 2, paths: stepped, points: { show: false } },
        {
          label: `${c.label} · ${t('evaluation.lower')}`,
          stroke: 'transparent',
          paths: stepped,
          points: { show: false },
        },
        {
          label: `${c.label} · ${t('evaluation.upper')}`,
          stroke: 'transparent',
          paths: stepped,
          points: { show: false },
        },
      );
      const base = 1 + i * 3;
      bands.push({ series: [base + 2, base + 1], fill: `${colour}22` });
    });
    return {
      scales: { x: { time: false }, y: { range: [0, 1] as [number, number] } },
      axes: [{ label: t('evaluation.days') }, { label: yLabel }],
      series,
      bands,
      legend: { show: false },
    };
  }, [curves, t, yLabel]);
  return (
    <figure className="curves">
      <Chart options={options} data={data} label={label} height={height} />
      <figcaption>
        <Legend labels={curves.map((c) => c.label)} />
      </figcaption>
    </figure>
  );
}

export type RiskRows = { label: string; rows: { days: number; atRisk: Count }[] }[];

/** The numbers at risk at each table time, a row per cohort (as printed under the curves). */
export function RiskTable({ cohorts, caption }: { cohorts: RiskRows; caption: string }) {
  const { t } = useTranslation();
  const times = [...new Set(cohorts.flatMap((c) => c.rows.map((r) => r.days)))].sort((a, b) => a - b);
  if (times.length === 0) return null;
  return (
    <Scroll label={caption}>
      <table className="risk-table">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{t('evaluation.cohort')}</th>
            {times.map((d) => (
              <th scope="col" key={d}>
                {t('evaluation.dayN', { day: formatNumber(d) })}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {cohorts.map((c) => (
            <tr key={c.label}>
              <th scope="row">{c.label}</th>
              {times.map((d) => {
                const row = c.rows.find((r) => r.days === d);
                return <td key={d}>{row ? <CountCell count={row.atRisk} /> : '—'}</td>;
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </Scroll>
  );
}
