// Consents: what is in force, the history of giving and withdrawing, and (for a child) that a
// guardian gives them.
import { useTranslation } from 'react-i18next';
import { formatDay } from '../../i18n';
import type { Case, Organisations } from '../Beneficiary';
import { describe } from './describe';

export function ConsentsTab({
  consents,
  timeline,
  birthYear,
  organisations,
  mayRecord,
  start,
}: {
  consents: NonNullable<Case['plan']>['consents'];
  timeline: Case['timeline'];
  birthYear: number | null;
  organisations: Organisations;
  mayRecord: boolean;
  start: (command: 'giveConsent' | 'withdrawConsent') => void;
}) {
  const { t } = useTranslation();
  const child = birthYear != null && new Date().getFullYear() - birthYear < 18;
  const history = timeline
    .filter((e) => e.eventType === 'ConsentGiven' || e.eventType === 'ConsentWithdrawn')
    .sort((a, b) => (a.occurredOn < b.occurredOn ? 1 : -1));
  return (
    <div className="consents">
      {child && (
        <p className="notice" role="note">
          {t('consents.child')}
        </p>
      )}
      <h2>{t('consents.inForce')}</h2>
      {consents.length === 0 ? (
        <p>{t('consents.noneInForce')}</p>
      ) : (
        <ul>
          {consents.map((c) => (
            <li key={`${c.kind}-${c.organisationId ?? ''}`}>
              <strong>{t(`enum.ConsentKind.${c.kind}`)}</strong>
              {c.organisationId && ` · ${organisations.find((o) => o.id === c.organisationId)?.name ?? ''}`} ·{' '}
              {t('consents.since', { day: formatDay(c.since) })} · {t(`enum.ConsentGiver.${c.givenBy}`)}
            </li>
          ))}
        </ul>
      )}
      {mayRecord && (
        <div className="actions">
          <button type="button" onClick={() => start('giveConsent')}>
            {t('command.giveConsent')}
          </button>
          <button type="button" onClick={() => start('withdrawConsent')}>
            {t('command.withdrawConsent')}
          </button>
        </div>
      )}
      <h2>{t('consents.history')}</h2>
      <ul>
        {history.map((e) => (
          <li key={e.id} className={e.counts ? undefined : 'voided'}>
            {formatDay(e.occurredOn)} · {t(`event.${e.eventType}`)} · {describe(t, e, organisations)}
          </li>
        ))}
      </ul>
    </div>
  );
}
