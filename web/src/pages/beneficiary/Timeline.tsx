// Every entry of the case with the day it happened and the moment it was recorded; corrections
// and voids beside the entry they amend; the record as of any valid day and recorded moment.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AsOfInput } from '../../gql/graphql';
import { formatDay, formatMoment } from '../../i18n';
import { commandFor } from '../../commands';
import { describe } from './describe';
import type { Case, Organisations } from '../Beneficiary';

type Entry = Case['timeline'][number];

export function Timeline({
  entries,
  asOf,
  setAsOf,
  mayCorrect,
  onCorrect,
  onVoid,
  organisations,
}: {
  entries: Entry[];
  asOf: AsOfInput;
  setAsOf: (asOf: AsOfInput) => void;
  mayCorrect: boolean;
  onCorrect: (entry: Entry) => void;
  onVoid: (entry: Entry) => void;
  organisations: Organisations;
}) {
  const { t } = useTranslation();
  const [validOn, setValidOn] = useState(asOf.validOn ?? '');
  const [recordedAt, setRecordedAt] = useState(asOf.recordedAt ? asOf.recordedAt.slice(0, 16) : '');
  const historical = Boolean(asOf.validOn || asOf.recordedAt);
  const sorted = [...entries].sort((a, b) =>
    a.occurredOn === b.occurredOn ? b.version - a.version : a.occurredOn < b.occurredOn ? 1 : -1,
  );
  return (
    <div className="timeline">
      <form
        className="as-of"
        aria-label={t('timeline.asOf')}
        onSubmit={(e) => {
          e.preventDefault();
          setAsOf({
            validOn: validOn || undefined,
            recordedAt: recordedAt ? new Date(recordedAt).toISOString() : undefined,
          });
        }}
      >
        <fieldset>
          <legend>{t('timeline.asOf')}</legend>
          <label>
            {t('timeline.validOn')}
            <input type="date" name="validOn" value={validOn} onChange={(e) => setValidOn(e.target.value)} />
          </label>
          <label>
            {t('timeline.recordedAt')}
            <input
              type="datetime-local"
              name="recordedAt"
              value={recordedAt}
              onChange={(e) => setRecordedAt(e.target.value)}
            />
          </label>
          <button type="submit">{t('timeline.show')}</button>
          {historical && (
            <button
              type="button"
              onClick={() => {
                setValidOn('');
                setRecordedAt('');
                setAsOf({});
              }}
            >
              {t('timeline.now')}
            </button>
          )}
        </fieldset>
      </form>
      {historical && (
        <p className="notice" role="status">
          {t('timeline.historical', {
            validOn: asOf.validOn ? formatDay(asOf.validOn) : t('timeline.today'),
            recordedAt: asOf.recordedAt ? formatMoment(asOf.recordedAt) : t('timeline.nowWord'),
          })}
        </p>
      )}
      {sorted.length === 0 && <p>{t('timeline.empty')}</p>}
      <ol className="entries" aria-label={t('case.tab.timeline')}>
        {sorted.map((entry) => {
          const correctable = mayCorrect && !historical && commandFor(entry.eventType);
          // What the entry says now: its latest correction's replacement, or itself.
          const latest = [...entry.notes].reverse().find((n) => n.replacement)?.replacement as
            { type: string; payload: unknown } | undefined;
          const current = latest ? { ...entry, eventType: latest.type, payload: latest.payload } : entry;
          return (
            <li key={entry.id} className={entry.counts ? 'entry' : 'entry voided'} data-event-type={entry.eventType}>
              <div className="entry-head">
                <strong>{t(`event.${entry.eventType}`)}</strong>
                <span className="detail">{describe(t, current, organisations)}</span>
              </div>
              <div className="entry-dates">
                <span>
                  {t('timeline.occurred')} <time dateTime={entry.occurredOn}>{formatDay(entry.occurredOn)}</time>
                </span>
                <span>
                  {t('timeline.recorded')} <time dateTime={entry.recordedAt}>{formatMoment(entry.recordedAt)}</time>
                  {entry.recordedDaysLater > 0 && (
                    <span className="tag">{t('timeline.late', { count: entry.recordedDaysLater })}</span>
                  )}
                </span>
                {!entry.counts && <span className="tag warning">{t('timeline.voided')}</span>}
                {entry.amended && entry.counts && <span className="tag">{t('timeline.corrected')}</span>}
              </div>
              {entry.notes.length > 0 && (
                <ul className="notes" aria-label={t('timeline.amendments')}>
                  {entry.notes.map((note) => (
                    <li key={note.id}>
                      {note.replacement ? t('timeline.correctionNote') : t('timeline.voidNote')}{' '}
                      <time dateTime={note.recordedAt}>{formatMoment(note.recordedAt)}</time>
                      {Boolean(note.replacement) && describe(t, entry, organisations) !== '' && (
                        <span className="was"> {t('timeline.was', { what: describe(t, entry, organisations) })}</span>
                      )}
                    </li>
                  ))}
                </ul>
              )}
              {correctable && entry.counts && (
                <div className="entry-actions">
                  <button type="button" className="link" onClick={() => onCorrect(current)}>
                    {t('timeline.correct')}
                  </button>
                  <button type="button" className="link" onClick={() => onVoid(entry)}>
                    {t('timeline.void')}
                  </button>
                </div>
              )}
            </li>
          );
        })}
      </ol>
    </div>
  );
}
