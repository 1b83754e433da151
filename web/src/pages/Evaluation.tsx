// The evaluation dashboard, on the evaluation API: at a cut-off (valid day, recorded moment), by a
// breakdown, the program results table, time to an outcome (Kaplan–Meier with bands, medians,
// numbers at risk, log-rank), competing outcomes (Aalen–Johansen, Gray's tests), data locks and
// exports with their codebooks. Withheld cells say why.
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { graphql } from '../gql';
import type { BreakdownBy, Censoring, CutOffInput, Ending, EvaluationDashboardQuery, Origin } from '../gql/graphql';
import { request } from '../api/client';
import { useApiError } from '../components/useApiError';
import { useLatest } from '../components/useLatest';
import { formatDay, formatMoment, formatNumber, formatShare } from '../i18n';
import { BREAKDOWNS, ENDINGS } from '../vocabulary';
import { CountCell, useGroupLabel } from './evaluation/Counts';
import { CurveChart, RiskTable } from './evaluation/Curves';
import { Locks } from './evaluation/Locks';
import { Exports } from './evaluation/Exports';

const Dashboard = graphql(`
  query EvaluationDashboard(
    $cutOff: CutOffInput
    $breakdown: BreakdownBy
    $ending: Ending!
    $origin: Origin!
    $censoring: Censoring!
    $public: Boolean!
  ) {
    organisations {
      id
      name
    }
    evaluation(cutOff: $cutOff) {
      cutOff {
        validOn
        recordedAt
      }
      results(breakdown: $breakdown, public: $public) {
        threshold
        total {
          group
          assisted {
            value
            withheld
          }
          familyMembers {
            value
            withheld
          }
          male {
            value
            withheld
          }
          children {
            value
            withheld
          }
          reintegrated {
            value
            withheld
          }
          shareReintegrated
        }
        lines {
          group
          assisted {
            value
            withheld
          }
          familyMembers {
            value
            withheld
          }
          male {
            value
            withheld
          }
          children {
            value
            withheld
          }
          reintegrated {
            value
            withheld
          }
          shareReintegrated
        }
      }
      survival(
        ending: $ending
        options: { breakdown: $breakdown, origin: $origin, censoring: $censoring, public: $public }
      ) {
        threshold
        withoutOrigin {
          value
          withheld
        }
        logRank {
          statistic
          df
          pValue
        }
        cohorts {
          group
          withheld
          curveWithheldFromDays
          subjects {
            value
            withheld
          }
          events {
            value
            withheld
          }
          median {
            days
            lower
            upper
          }
          curve {
            days
            estimate
            lower
            upper
          }
          riskTable {
            days
            atRisk {
              value
              withheld
            }
          }
        }
      }
      cumulativeIncidence(options: { breakdown: $breakdown, origin: $origin, censoring: $censoring, public: $public }) {
        threshold
        graysTests {
          ending
          test {
            statistic
            df
            pValue
          }
        }
        cohorts {
          group
          withheld
          subjects {
            value
            withheld
          }
          curves {
            ending
            events {
              value
              withheld
            }
            curve {
              days
              estimate
              lower
              upper
            }
          }
        }
      }
    }
  }
`);

type Data = EvaluationDashboardQuery;
type Settings = {
  validOn: string;
  recordedAt: string;
  breakdown: BreakdownBy | '';
  ending: Ending;
  origin: Origin;
  censoring: Censoring;
  public: boolean;
};

export default function Evaluation() {
  const { t } = useTranslation();
  const [settings, setSettings] = useState<Settings>({
    validOn: '',
    recordedAt: '',
    breakdown: 'COUNTRY',
    ending: 'REINTEGRATED',
    origin: 'IDENTIFICATION',
    censoring: 'LAST_CONTACT',
    public: false,
  });
  const [draft, setDraft] = useState(settings);
  const [data, setData] = useState<Data | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, showError] = useApiError();

  const cutOff: CutOffInput | null =
    settings.validOn || settings.recordedAt
      ? {
          validOn: settings.validOn || null,
          recordedAt: settings.recordedAt ? new Date(settings.recordedAt).toISOString() : null,
        }
      : null;

  const begin = useLatest();
  const load = useCallback(async () => {
    const current = begin();
    setLoading(true);
    try {
      const fresh = await request(Dashboard, {
        cutOff,
        breakdown: settings.breakdown || null,
        ending: settings.ending,
        origin: settings.origin,
        censoring: settings.censoring,
        public: settings.public,
      });
      if (!current()) return;
      setData(fresh);
      showError(null);
    } catch (e) {
      if (current()) showError(e);
    } finally {
      if (current()) setLoading(false);
    }
    // The cut-off is derived from the settings.
  }, [settings, showError, begin]);

  useEffect(() => {
    void load();
  }, [load]);

  const apply = (e: FormEvent) => {
    e.preventDefault();
    setSettings(draft);
  };
  const group = useGroupLabel(data?.organisations ?? []);
  const by = settings.breakdown || null;
  const ev = data?.evaluation;

  return (
    <section aria-labelledby="evaluation-title" className="evaluation">
      <h1 id="evaluation-title">{t('evaluation.title')}</h1>
      <form className="filters" onSubmit={apply} aria-label={t('evaluation.settings')}>
        <label>
          {t('evaluation.validOn')}
          <input type="date" value={draft.validOn} onChange={(e) => setDraft({ ...draft, validOn: e.target.value })} />
        </label>
        <label>
          {t('evaluation.recordedAt')}
          <input
            type="datetime-local"
            value={draft.recordedAt}
            onChange={(e) => setDraft({ ...draft, recordedAt: e.target.value })}
          />
        </label>
        <label>
          {t('evaluation.breakdown')}
          <select
            value={draft.breakdown}
            onChange={(e) => setDraft({ ...draft, breakdown: e.target.value as BreakdownBy | '' })}
          >
            <option value="">{t('evaluation.noBreakdown')}</option>
            {BREAKDOWNS.map((b) => (
              <option key={b} value={b}>
                {t(`enum.BreakdownBy.${b}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('evaluation.ending')}
          <select value={draft.ending} onChange={(e) => setDraft({ ...draft, ending: e.target.value as Ending })}>
            {ENDINGS.map((x) => (
              <option key={x} value={x}>
                {t(`enum.Ending.${x}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('evaluation.origin')}
          <select value={draft.origin} onChange={(e) => setDraft({ ...draft, origin: e.target.value as Origin })}>
            {(['IDENTIFICATION', 'INTAKE', 'FIRST_SERVICE'] as Origin[]).map((o) => (
              <option key={o} value={o}>
                {t(`evaluation.originValue.${o}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('evaluation.censoring')}
          <select
            value={draft.censoring}
            onChange={(e) => setDraft({ ...draft, censoring: e.target.value as Censoring })}
          >
            {(['LAST_CONTACT', 'CUT_OFF'] as Censoring[]).map((c) => (
              <option key={c} value={c}>
                {t(`evaluation.censoringValue.${c}`)}
              </option>
            ))}
          </select>
        </label>
        <label className="checkbox">
          <input
            type="checkbox"
            checked={draft.public}
            onChange={(e) => setDraft({ ...draft, public: e.target.checked })}
          />
          {t('evaluation.public')}
        </label>
        <button type="submit" className="primary" disabled={loading}>
          {t('evaluation.compute')}
        </button>
      </form>
      {error}
      {loading && (
        <p aria-busy="true" role="status">
          {t('evaluation.computing')}
        </p>
      )}
      {ev && (
        <>
          <p className="summary" role="status">
            {t('evaluation.computedAt', {
              validOn: formatDay(ev.cutOff.validOn),
              recordedAt: formatMoment(ev.cutOff.recordedAt),
            })}{' '}
            {t('evaluation.threshold', { n: ev.results.threshold })}
          </p>

          <h2>{t('evaluation.results')}</h2>
          <table className="results">
            <thead>
              <tr>
                <th scope="col">{by ? t(`enum.BreakdownBy.${by}`) : t('evaluation.cohort')}</th>
                <th scope="col">{t('evaluation.assisted')}</th>
                <th scope="col">{t('evaluation.familyMembers')}</th>
                <th scope="col">{t('evaluation.male')}</th>
                <th scope="col">{t('evaluation.children')}</th>
                <th scope="col">{t('evaluation.reintegrated')}</th>
                <th scope="col">{t('evaluation.share')}</th>
              </tr>
            </thead>
            <tbody>
              {[...ev.results.lines, ev.results.total].map((line, i) => (
                <tr key={`${line.group}-${i}`} className={i === ev.results.lines.length ? 'total' : undefined}>
                  <th scope="row">{i === ev.results.lines.length ? t('evaluation.total') : group(by, line.group)}</th>
                  <td>
                    <CountCell count={line.assisted} />
                  </td>
                  <td>
                    <CountCell count={line.familyMembers} />
                  </td>
                  <td>
                    <CountCell count={line.male} />
                  </td>
                  <td>
                    <CountCell count={line.children} />
                  </td>
                  <td>
                    <CountCell count={line.reintegrated} />
                  </td>
                  <td>{formatShare(line.shareReintegrated)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="hint">
            {t('evaluation.withheldNote', { mark: t('evaluation.withheldMark'), n: ev.results.threshold })}
          </p>

          <h2>{t('evaluation.survival', { ending: t(`enum.Ending.${settings.ending}`) })}</h2>
          <CurveChart
            label={t('evaluation.survivalChart', { ending: t(`enum.Ending.${settings.ending}`) })}
            yLabel={t('evaluation.notYet')}
            start={1}
            curves={ev.survival.cohorts
              .filter((c) => !c.withheld)
              .map((c) => ({ label: group(by, c.group), points: c.curve }))}
          />
          <RiskTable
            caption={t('evaluation.atRisk')}
            cohorts={ev.survival.cohorts
              .filter((c) => !c.withheld)
              .map((c) => ({ label: group(by, c.group), rows: c.riskTable }))}
          />
          <table>
            <caption>{t('evaluation.medians')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('evaluation.cohort')}</th>
                <th scope="col">{t('evaluation.subjects')}</th>
                <th scope="col">{t('evaluation.events')}</th>
                <th scope="col">{t('evaluation.median')}</th>
                <th scope="col">{t('evaluation.interval')}</th>
              </tr>
            </thead>
            <tbody>
              {ev.survival.cohorts.map((c) => (
                <tr key={c.group}>
                  <th scope="row">{group(by, c.group)}</th>
                  <td>
                    <CountCell count={c.subjects} />
                  </td>
                  <td>
                    <CountCell count={c.events} />
                  </td>
                  {c.withheld ? (
                    <td colSpan={2}>{t(`enum.WithheldReason.${c.withheld}`)}</td>
                  ) : (
                    <>
                      <td>
                        {c.median?.days != null
                          ? t('evaluation.daysN', { days: formatNumber(c.median.days) })
                          : t('evaluation.notReached')}
                      </td>
                      <td>
                        {formatNumber(c.median?.lower)} – {formatNumber(c.median?.upper)}
                      </td>
                    </>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
          {ev.survival.logRank && (
            <p>
              {t('evaluation.logRank', {
                statistic: formatNumber(ev.survival.logRank.statistic, 2),
                df: ev.survival.logRank.df,
                p: formatNumber(ev.survival.logRank.pValue, 4),
              })}
            </p>
          )}

          <h2>{t('evaluation.incidence')}</h2>
          <div className="cohorts">
            {ev.cumulativeIncidence.cohorts.map((c) => (
              <section key={c.group} className="cohort" aria-label={group(by, c.group)}>
                <h3>
                  {group(by, c.group)} (<CountCell count={c.subjects} />)
                </h3>
                {c.withheld ? (
                  <p>{t(`enum.WithheldReason.${c.withheld}`)}</p>
                ) : (
                  <CurveChart
                    label={t('evaluation.incidenceChart', { cohort: group(by, c.group) })}
                    yLabel={t('evaluation.probability')}
                    start={0}
                    height={220}
                    curves={c.curves.map((k) => ({ label: t(`enum.Ending.${k.ending}`), points: k.curve }))}
                  />
                )}
              </section>
            ))}
          </div>
          {ev.cumulativeIncidence.graysTests.length > 0 && (
            <ul>
              {ev.cumulativeIncidence.graysTests.map((g) => (
                <li key={g.ending}>
                  {t('evaluation.gray', {
                    ending: t(`enum.Ending.${g.ending}`),
                    statistic: formatNumber(g.test.statistic, 2),
                    df: g.test.df,
                    p: formatNumber(g.test.pValue, 4),
                  })}
                </li>
              ))}
            </ul>
          )}

          <Locks
            cutOff={ev.cutOff}
            selection={JSON.stringify({
              breakdown: by,
              ending: settings.ending,
              origin: settings.origin,
              censoring: settings.censoring,
              public: settings.public,
            })}
          />
          <Exports cutOff={ev.cutOff} origin={settings.origin} censoring={settings.censoring} />
        </>
      )}
    </section>
  );
}
