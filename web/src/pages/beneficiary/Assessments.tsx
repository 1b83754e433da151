// Domain scores over time: a chart, and the same numbers as a table (for screen readers and print).
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { Chart, Legend, PALETTE, Scroll } from '../../components/Chart';
import { formatDay } from '../../i18n';
import { DOMAINS } from '../../vocabulary';
import type { Case } from '../Beneficiary';

export function AssessmentsTab({ assessments }: { assessments: Case['assessments'] }) {
  const { t, i18n } = useTranslation();
  const sorted = useMemo(() => [...assessments].sort((a, b) => (a.on < b.on ? -1 : 1)), [assessments]);
  const domains = DOMAINS.filter((d) => sorted.some((a) => a.scores.some((s) => s.domain === d)));
  const data = useMemo(
    () =>
      [
        sorted.map((a) => Date.parse(`${a.on}T00:00:00Z`) / 1000),
        ...domains.map((d) => sorted.map((a) => a.scores.find((s) => s.domain === d)?.score ?? null)),
      ] as [number[], ...(number | null)[][]],
    [sorted, domains],
  );
  const options = useMemo(
    () => ({
      scales: { x: { time: true }, y: { range: [0.5, 5.5] as [number, number] } },
      axes: [
        {},
        {
          label: t('assessments.score'),
          values: (_: unknown, ticks: number[]) => ticks.map((v) => (Number.isInteger(v) ? String(v) : '')),
        },
      ],
      legend: { show: false },
      series: [
        {
          label: t('assessments.date'),
          value: (_: unknown, v: number) =>
            v == null ? '—' : formatDay(new Date(v * 1000).toISOString().slice(0, 10)),
        },
        ...domains.map((d, i) => ({
          label: t(`enum.ReintegrationDomain.${d}`),
          stroke: PALETTE[i],
          width: 2,
          points: { size: 6 },
        })),
      ],
    }),
    // Labels follow the language.
    [domains, i18n.language],
  );
  if (sorted.length === 0) return <p>{t('assessments.none')}</p>;
  return (
    <div className="assessments">
      <Chart options={options} data={data} label={t('assessments.chart')} />
      <Legend labels={domains.map((d) => t(`enum.ReintegrationDomain.${d}`))} />
      <Scroll label={t('assessments.table')}>
        <table>
          <caption>{t('assessments.table')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('assessments.date')}</th>
              {domains.map((d) => (
                <th scope="col" key={d}>
                  {t(`enum.ReintegrationDomain.${d}`)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {sorted.map((a) => (
              <tr key={a.on}>
                <th scope="row">{formatDay(a.on)}</th>
                {domains.map((d) => (
                  <td key={d}>{a.scores.find((s) => s.domain === d)?.score ?? '—'}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
    </div>
  );
}
