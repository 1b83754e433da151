// The plan: goals by domain, services planned and delivered, referrals, the next review.
import { useTranslation } from 'react-i18next';
import { formatDay, formatNumber } from '../../i18n';
import { DOMAINS } from '../../vocabulary';
import type { Case, Organisations } from '../Beneficiary';

export function PlanTab({ plan, organisations }: { plan: Case['plan']; organisations: Organisations }) {
  const { t } = useTranslation();
  if (!plan) return <p>{t('plan.none')}</p>;
  const byDomain = DOMAINS.map((domain) => ({ domain, goals: plan.goals.filter((g) => g.domain === domain) })).filter(
    (d) => d.goals.length,
  );
  return (
    <div className="plan">
      <p>
        {t('plan.status', { status: t(`enum.Status.${plan.status}`), since: formatDay(plan.statusSince) })}{' '}
        {t('plan.nextReview', { day: formatDay(plan.nextReviewOn) })}
      </p>
      <h2>{t('plan.goals')}</h2>
      {byDomain.length === 0 && <p>{t('plan.noGoals')}</p>}
      {byDomain.map(({ domain, goals }) => (
        <section key={domain} className="domain">
          <h3>{t(`enum.ReintegrationDomain.${domain}`)}</h3>
          <ul>
            {goals.map((g) => (
              <li key={g.id}>
                {t(`enum.GoalState.${g.state}`)} · {t('plan.setOn', { day: formatDay(g.setOn) })}
                {g.targetOn && ` · ${t('plan.target', { day: formatDay(g.targetOn) })}`}
                {g.closedOn && ` · ${t('plan.closedOn', { day: formatDay(g.closedOn) })}`}
              </li>
            ))}
          </ul>
        </section>
      ))}
      <h2>{t('plan.services')}</h2>
      {plan.services.length === 0 ? (
        <p>{t('plan.noServices')}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('field.service')}</th>
              <th scope="col">{t('plan.state')}</th>
              <th scope="col">{t('plan.planned')}</th>
              <th scope="col">{t('plan.delivered')}</th>
              <th scope="col">{t('plan.deliveries')}</th>
            </tr>
          </thead>
          <tbody>
            {plan.services.map((s) => (
              <tr key={s.id}>
                <td>{t(`enum.ServiceType.${s.service}`)}</td>
                <td>{t(`enum.ServiceState.${s.state}`)}</td>
                <td>{formatDay(s.plannedOn)}</td>
                <td>
                  {formatDay(s.firstDeliveredOn)}
                  {s.lastDeliveredOn &&
                    s.lastDeliveredOn !== s.firstDeliveredOn &&
                    ` – ${formatDay(s.lastDeliveredOn)}`}
                </td>
                <td>{formatNumber(s.deliveries)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>{t('plan.referrals')}</h2>
      {plan.referrals.length === 0 ? (
        <p>{t('plan.noReferrals')}</p>
      ) : (
        <ul>
          {plan.referrals.map((r) => (
            <li key={r.id}>
              {organisations.find((o) => o.id === r.toOrganisationId)?.name ?? '—'} · {formatDay(r.referredOn)} ·{' '}
              {r.accepted ? t('plan.accepted') : t('plan.awaiting')}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
