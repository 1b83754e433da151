// Personal data, read from the vault only when this tab is opened (each read is in the access
// log); erased data says so.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { graphql } from '../../gql';
import type { PersonalDataQuery } from '../../gql/graphql';
import { request } from '../../api/client';
import { useApiError } from '../../components/useApiError';
import { PERSONAL_DATA } from '../../commands';
import { formatDay } from '../../i18n';
import { can, useMe } from '../../session';

const PersonalData = graphql(`
  query PersonalData($id: UUID!) {
    beneficiary(id: $id, purpose: "case work") {
      id
      personalData {
        givenName
        familyName
        knownAs
        dateOfBirth
        phone
        email
        address
        documentNumber
        notes
      }
    }
  }
`);

export function PersonalDataTab({
  id,
  erased,
  version,
  onRecord,
}: {
  id: string;
  erased: boolean;
  version: number;
  onRecord: () => void;
}) {
  const { t } = useTranslation();
  const me = useMe();
  const [data, setData] = useState<PersonalDataQuery['beneficiary']['personalData'] | undefined>(undefined);
  const [error, showError] = useApiError();
  const allowed = can(me, 'personalData');

  useEffect(() => {
    if (!allowed || erased) return;
    request(PersonalData, { id })
      .then((d) => {
        setData(d.beneficiary.personalData);
        showError(null);
      })
      .catch(showError);
  }, [id, allowed, erased, version, showError]);

  if (erased) return <p className="notice">{t('case.erasedNotice')}</p>;
  if (!allowed) return <p>{t('personal.notForRole')}</p>;
  return (
    <div className="personal">
      {error}
      {data === null && <p>{t('personal.none')}</p>}
      {data && (
        <dl className="facts">
          {PERSONAL_DATA.map((f) => (
            <div key={f}>
              <dt>{t(`field.personalData.${f}`)}</dt>
              <dd>{f === 'dateOfBirth' ? formatDay(data[f]) : (data[f] ?? '—')}</dd>
            </div>
          ))}
        </dl>
      )}
      <button type="button" onClick={onRecord}>
        {t('command.recordPersonalData')}
      </button>
    </div>
  );
}
