// Registering a person: in their own right, or as a family member linked to a primary
// beneficiary (started from that person's page).
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { CommandForm } from '../components/CommandForm';
import { FAMILY_FIELDS, PERSONAL_FIELDS, REGISTER } from '../commands';
import { can, useMe } from '../session';

export function Register() {
  const { t } = useTranslation();
  const me = useMe();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const primary = params.get('primary');
  const primaryCode = params.get('code');
  if (!can(me, 'record')) return <p>{t('error.FORBIDDEN')}</p>;
  return (
    <section aria-labelledby="register-title">
      <h1 id="register-title">{primary ? t('register.familyTitle') : t('register.title')}</h1>
      {primary && (
        <p>
          {t('register.linkedTo')} <Link to={`/cases/${primary}`}>{primaryCode ?? primary}</Link>
        </p>
      )}
      <CommandForm
        spec={REGISTER}
        extraFields={[...(primary ? FAMILY_FIELDS : []), ...(can(me, 'personalData') ? PERSONAL_FIELDS : [])]}
        initial={{ countryOfAssistance: me.organisation?.country ?? '' }}
        fixed={primary ? { primaryBeneficiaryId: primary } : undefined}
        onDone={(result) => {
          if (result !== 'queued') navigate(`/cases/${result.beneficiaryId}`);
        }}
        onCancel={() => navigate(-1)}
      />
    </section>
  );
}
