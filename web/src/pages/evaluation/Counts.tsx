// A count as the evaluation engine gives it: the number, or a withheld cell saying why.
import { useTranslation } from 'react-i18next';
import { formatNumber } from '../../i18n';

export type Count = { value?: number | null; withheld?: string | null };

export function CountCell({ count }: { count: Count }) {
  const { t } = useTranslation();
  if (count.withheld) {
    const reason = t(`enum.WithheldReason.${count.withheld}`);
    return (
      <span className="withheld" title={reason}>
        <span aria-hidden="true">{t('evaluation.withheldMark')}</span>
        <span className="visually-hidden">{reason}</span>
      </span>
    );
  }
  return <>{formatNumber(count.value)}</>;
}

/** How a breakdown's group is named to people. */
export function useGroupLabel(organisations: { id: string; name: string }[]) {
  const { t } = useTranslation();
  return (by: string | null | undefined, group: string): string => {
    const upper = group.toUpperCase();
    switch (by) {
      case 'ORGANISATION':
        return organisations.find((o) => o.id === group)?.name ?? group;
      case 'SEX':
        return t(`enum.Gender.${upper}`);
      case 'FORM_OF_EXPLOITATION':
        return group === 'not_recorded' ? t('evaluation.group.not_recorded') : t(`enum.FormOfExploitation.${upper}`);
      case 'SERVICE_KIND':
        return t(`enum.ServiceType.${upper}`);
      case 'ROLE':
      case 'SERVICES_RECEIVED':
        return t(`evaluation.group.${group}`);
      default:
        return group === 'all' ? t('evaluation.group.all') : group;
    }
  };
}
