// A timeline entry's detail in the reader's language, from its stored payload (coded values by
// their labels). Entries without a specific rendering show no detail beyond their type.
import type { TFunction } from 'i18next';
import { coded } from '../../vocabulary';
import { formatDay } from '../../i18n';

type Entry = { eventType: string; payload: unknown };

export function describe(t: TFunction, entry: Entry, organisations: { id: string; name: string }[]): string {
  const p = (entry.payload ?? {}) as Record<string, unknown>;
  const org = (id: unknown) => organisations.find((o) => o.id === id)?.name ?? '';
  const label = (enumName: string, value: unknown) => (coded(value) ? t(`enum.${enumName}.${coded(value)}`) : '');
  const scope = (p.scope ?? {}) as Record<string, unknown>;
  switch (entry.eventType) {
    case 'StatusChanged':
      return label('Status', p.to);
    case 'ServiceDelivered':
    case 'ServicePlanned':
      return [
        label('ServiceType', p.service),
        p.from ? formatDay(p.from as string) : '',
        p.to ? `– ${formatDay(p.to as string)}` : '',
      ]
        .filter(Boolean)
        .join(' ');
    case 'ConsentGiven':
    case 'ConsentWithdrawn':
      return [
        label('ConsentKind', scope.kind),
        org(scope.organisation),
        label('ConsentGiver', p.given_by ?? p.withdrawn_by),
      ]
        .filter(Boolean)
        .join(' · ');
    case 'PlanGoalSet':
    case 'PlanGoalRevised':
      return label('ReintegrationDomain', p.domain);
    case 'ReviewScheduled':
      return formatDay(p.due_on as string);
    case 'PlanReviewed':
      return p.next_review_on ? t('timeline.nextReview', { day: formatDay(p.next_review_on as string) }) : '';
    case 'FollowUpContactMade':
      return label('Status', p.observed_status);
    case 'ReferredToOrganisation':
      return org(p.to_organisation);
    case 'PersonalDataErased':
      return label('ErasureReason', p.reason);
    case 'BeneficiaryRegistered':
      return (p.case_code as string) ?? '';
    default:
      return '';
  }
}
