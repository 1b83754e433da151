// Who read which record, when, and why: the organisation's log, or one case's.
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { graphql } from '../gql';
import type { AccessLogQuery } from '../gql/graphql';
import { request } from '../api/client';
import { useApiError } from '../components/useApiError';
import { formatMoment } from '../i18n';

const AccessLogDoc = graphql(`
  query AccessLog($before: Int, $beneficiaryId: UUID) {
    accessLog(first: 50, before: $before, beneficiaryId: $beneficiaryId) {
      id
      at
      userId
      beneficiaryId
      action
      purpose
    }
  }
`);

type Entry = AccessLogQuery['accessLog'][number];
const ACTIONS = [
  'READ_RECORD',
  'READ_PERSONAL_DATA',
  'ERASE_PERSONAL_DATA',
  'READ_EVALUATION',
  'EXPORT_EVALUATION',
  'LOCK_EVALUATION',
  'ISSUE_API_TOKEN',
  'REVOKE_API_TOKEN',
];

export function AccessLog({
  users,
  beneficiaryId,
}: {
  users: { id: string; displayName: string }[];
  beneficiaryId?: string;
}) {
  const { t } = useTranslation();
  const [entries, setEntries] = useState<Entry[]>([]);
  const [more, setMore] = useState(false);
  const [error, showError] = useApiError();
  const load = useCallback(
    (before?: number) => {
      request(AccessLogDoc, { before: before ?? null, beneficiaryId: beneficiaryId ?? null })
        .then((d) => {
          setEntries((old) => (before ? [...old, ...d.accessLog] : d.accessLog));
          setMore(d.accessLog.length === 50);
        })
        .catch(showError);
    },
    [beneficiaryId, showError],
  );
  useEffect(() => load(), [load]);
  const who = (id: string) => users.find((u) => u.id === id)?.displayName ?? t('accessLog.unknownUser');
  return (
    <div className="access-log">
      {error}
      {entries.length === 0 && !error && <p>{t('accessLog.empty')}</p>}
      {entries.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('accessLog.when')}</th>
              <th scope="col">{t('accessLog.who')}</th>
              <th scope="col">{t('accessLog.what')}</th>
              {!beneficiaryId && <th scope="col">{t('accessLog.record')}</th>}
              <th scope="col">{t('accessLog.purpose')}</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id}>
                <td>{formatMoment(e.at)}</td>
                <td>{who(e.userId)}</td>
                <td>{ACTIONS.includes(e.action) ? t(`accessLog.action.${e.action}`) : e.action}</td>
                {!beneficiaryId && (
                  <td>{e.beneficiaryId ? <Link to={`/cases/${e.beneficiaryId}`}>{t('accessLog.open')}</Link> : '—'}</td>
                )}
                <td>{e.purpose}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {more && (
        <button type="button" onClick={() => load(entries[entries.length - 1].id)}>
          {t('accessLog.older')}
        </button>
      )}
    </div>
  );
}
