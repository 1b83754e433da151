// What waits to be sent: a count in the header, the list (all cases, or one case's) with each
// entry's state, the server's reason when it was held back, and what the person can do about it.
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { graphql } from '../gql';
import { request } from '../api/client';
import { commandById } from '../commands';
import { formatMoment } from '../i18n';
import { discard, onQueueChange, queued, reapply, sync, type QueuedCommand } from '../offline/queue';
import { useOnline } from '../offline/kept';
import { errorText } from './useApiError';
import { useRefusal } from './Refusal';

const CurrentVersion = graphql(`
  query CurrentVersion($id: UUID!) {
    beneficiary(id: $id) {
      id
      version
    }
  }
`);

/** The queue, re-read whenever it changes. */
export function useQueue(): QueuedCommand[] {
  const [items, setItems] = useState<QueuedCommand[]>([]);
  useEffect(() => {
    const read = () =>
      void queued()
        .then(setItems)
        .catch(() => setItems([]));
    read();
    return onQueueChange(read);
  }, []);
  return items;
}

/** Sends the queue at start and whenever the connection comes back. */
export function useSyncWhenOnline(): void {
  useEffect(() => {
    const run = () => void sync().catch(() => {});
    run();
    window.addEventListener('online', run);
    return () => window.removeEventListener('online', run);
  }, []);
}

export function OutboxBadge() {
  const { t } = useTranslation();
  const items = useQueue();
  const online = useOnline();
  return (
    <>
      {!online && (
        <span className="tag warning offline-flag" role="status">
          {t('offline.offline')}
        </span>
      )}
      {items.length > 0 && (
        <Link to="/outbox" className="outbox-link">
          {t('offline.waiting', { count: items.length })}
        </Link>
      )}
    </>
  );
}

export function QueuedList({ caseId }: { caseId?: string }) {
  const { t } = useTranslation();
  const online = useOnline();
  const all = useQueue();
  const items = caseId ? all.filter((q) => q.input.beneficiaryId === caseId) : all;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const refusal = useRefusal();

  const apply = useCallback(
    async (entry: QueuedCommand) => {
      setBusy(true);
      setError(null);
      try {
        const current = await request(CurrentVersion, { id: entry.input.beneficiaryId });
        await reapply(entry, current.beneficiary.version);
      } catch (e) {
        setError(errorText(t, e));
      } finally {
        setBusy(false);
      }
    },
    [t],
  );

  if (items.length === 0) return caseId ? null : <p>{t('offline.nothingWaiting')}</p>;
  return (
    <section className="queued" aria-labelledby={`queued-${caseId ?? 'all'}`}>
      <h2 id={`queued-${caseId ?? 'all'}`}>{t('offline.queuedTitle', { count: items.length })}</h2>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <ol>
        {items.map((q) => (
          <li key={q.seq} className={`queued-entry ${q.state}`}>
            <div>
              <strong>{t(`command.${q.command}`)}</strong>
              {!caseId && (
                <>
                  {' · '}
                  <Link to={`/cases/${q.input.beneficiaryId}`}>{q.caseCode}</Link>
                </>
              )}{' '}
              · {t('offline.madeAt', { when: formatMoment(q.madeAt) })}
              <span className="detail"> {what(t, q)}</span>
            </div>
            <div className="queued-state">
              {q.state === 'waiting' && <span className="tag">{t('offline.stateWaiting')}</span>}
              {q.state === 'conflict' && <span className="tag warning">{t('offline.stateConflict')}</span>}
              {q.state === 'refused' && <span className="tag warning">{t('offline.stateRefused')}</span>}
              {q.reason && (
                <p className="reason">{refusal({ code: q.code ?? 'VALIDATION', reason: q.rule, message: q.reason })}</p>
              )}
            </div>
            {q.state !== 'waiting' && (
              <div className="actions">
                <button type="button" className="primary" disabled={busy || !online} onClick={() => void apply(q)}>
                  {t('offline.reapply')}
                </button>
                <button type="button" disabled={busy} onClick={() => void discard(q)}>
                  {t('offline.discard')}
                </button>
              </div>
            )}
          </li>
        ))}
      </ol>
      {online && items.some((q) => q.state === 'waiting') && (
        <button type="button" onClick={() => void sync()}>
          {t('offline.sendNow')}
        </button>
      )}
    </section>
  );
}

/** What a queued entry would record: its coded values by their labels. */
function what(t: (key: string) => string, q: QueuedCommand): string {
  const spec = commandById(q.command);
  return (spec?.fields ?? [])
    .flatMap((f) =>
      f.kind === 'enum' && typeof q.input[f.name] === 'string' ? [t(`enum.${f.enum}.${q.input[f.name]}`)] : [],
    )
    .join(' · ');
}

export function OutboxPage() {
  const { t } = useTranslation();
  return (
    <section aria-labelledby="outbox-title">
      <h1 id="outbox-title">{t('offline.outbox')}</h1>
      <p>{t('offline.outboxIntro')}</p>
      <QueuedList />
    </section>
  );
}
