// Data locks: a result computed at fixed cut-offs kept under a name, to cite and to check later
// that it still comes out the same (and how many people withdrew consent since).
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { graphql } from '../../gql';
import type { EvaluationLocksQuery } from '../../gql/graphql';
import { request } from '../../api/client';
import { Field } from '../../components/Field';
import { useSimpleForm } from '../../components/SimpleForm';
import { useApiError } from '../../components/useApiError';
import { formatDay, formatMoment } from '../../i18n';

const LocksDoc = graphql(`
  query EvaluationLocks {
    evaluationLocks {
      name
      createdAt
      cutOff {
        validOn
        recordedAt
      }
      selection
      digest
    }
  }
`);
const Rerun = graphql(`
  query EvaluationLockRerun($name: String!) {
    evaluationLock(name: $name) {
      name
      rerun {
        matches
        withdrawnSince
        digest
      }
    }
  }
`);
const Lock = graphql(`
  mutation LockEvaluation($input: LockEvaluationInput!) {
    lockEvaluation(input: $input) {
      name
      digest
    }
  }
`);

type LockRow = EvaluationLocksQuery['evaluationLocks'][number];

/** The dashboard's settings as a selection of `evaluation` (what a lock keeps). */
function selectionOf(settings: string): string {
  const s = JSON.parse(settings) as {
    breakdown: string | null;
    ending: string;
    origin: string;
    censoring: string;
    public: boolean;
  };
  const by = s.breakdown ? `breakdown: ${s.breakdown}, ` : '';
  return (
    `{ results(${by}public: ${s.public}) { total { assisted { value } reintegrated { value } shareReintegrated } ` +
    `lines { group assisted { value withheld } reintegrated { value withheld } shareReintegrated } } ` +
    `survival(ending: ${s.ending}, options: { ${by}origin: ${s.origin}, censoring: ${s.censoring}, public: ${s.public} }) { ` +
    `cohorts { group subjects { value withheld } events { value withheld } median { days lower upper } } logRank { statistic df pValue } } }`
  );
}

export function Locks({ cutOff, selection }: { cutOff: { validOn: string; recordedAt: string }; selection: string }) {
  const { t } = useTranslation();
  const [locks, setLocks] = useState<LockRow[]>([]);
  const [reruns, setReruns] = useState<Record<string, { matches: boolean; withdrawnSince: number } | 'running'>>({});
  const [name, setName] = useState('');
  const [made, setMade] = useState<string | null>(null);
  const [error, showError] = useApiError();
  const load = useCallback(() => {
    request(LocksDoc)
      .then((d) => setLocks(d.evaluationLocks))
      .catch(showError);
  }, [showError]);
  useEffect(load, [load]);
  const form = useSimpleForm(
    () =>
      request(Lock, {
        input: {
          name: name.trim(),
          cutOff: { validOn: cutOff.validOn, recordedAt: cutOff.recordedAt },
          selection: selectionOf(selection),
        },
      }),
    ['name', 'selection'],
  );
  const check = async (lock: LockRow) => {
    setReruns((r) => ({ ...r, [lock.name]: 'running' }));
    try {
      const d = await request(Rerun, { name: lock.name });
      if (d.evaluationLock) setReruns((r) => ({ ...r, [lock.name]: d.evaluationLock!.rerun }));
    } catch (e) {
      showError(e);
      setReruns(({ [lock.name]: _, ...rest }) => rest);
    }
  };
  return (
    <>
      <h2>{t('evaluation.locks')}</h2>
      <p className="hint">{t('evaluation.locksIntro')}</p>
      {error}
      <form
        className="command-form"
        aria-labelledby="lock-title"
        onSubmit={async (e) => {
          const done = await form.onSubmit(e);
          if (done) {
            setMade(t('evaluation.locked', { name: done.lockEvaluation.name }));
            setName('');
            load();
          }
        }}
      >
        <h3 id="lock-title">{t('evaluation.lockThese')}</h3>
        <Field label={t('evaluation.lockName')} hint={t('evaluation.lockNameHint')} error={form.errors.name}>
          {(c) => <input {...c} value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        {form.problem}
        {made && <p role="status">{made}</p>}
        <button type="submit" className="primary" disabled={form.busy}>
          {t('evaluation.lock')}
        </button>
      </form>
      {locks.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('evaluation.lockName')}</th>
              <th scope="col">{t('evaluation.lockedAt')}</th>
              <th scope="col">{t('evaluation.cutOffs')}</th>
              <th scope="col">{t('evaluation.digest')}</th>
              <th scope="col">{t('evaluation.rerun')}</th>
            </tr>
          </thead>
          <tbody>
            {locks.map((l) => {
              const r = reruns[l.name];
              return (
                <tr key={l.name}>
                  <td>{l.name}</td>
                  <td>{formatMoment(l.createdAt)}</td>
                  <td>
                    {formatDay(l.cutOff.validOn)} · {formatMoment(l.cutOff.recordedAt)}
                  </td>
                  <td>
                    <code>{l.digest.slice(0, 12)}</code>
                  </td>
                  <td>
                    {r === undefined && (
                      <button type="button" onClick={() => void check(l)}>
                        {t('evaluation.check')} <span className="visually-hidden">{l.name}</span>
                      </button>
                    )}
                    {r === 'running' && <span aria-busy="true">{t('evaluation.computing')}</span>}
                    {r && r !== 'running' && (
                      <span role="status">
                        {r.matches ? t('evaluation.matches') : t('evaluation.differs')}{' '}
                        {t('evaluation.withdrawnSince', { count: r.withdrawnSince })}
                      </span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </>
  );
}
