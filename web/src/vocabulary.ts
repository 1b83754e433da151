// The coded values the client offers, in the order it offers them. Each list is typed against the
// generated schema types, and a unit test checks it holds every value of the schema's enum and
// that every catalogue labels each one.
import type {
  ConsentEvidence,
  ConsentGiver,
  ConsentKind,
  Ending,
  ErasureReason,
  FormOfExploitation,
  Gender,
  GoalState,
  IdentificationRoute,
  ReintegrationDomain,
  Relationship,
  Role,
  ServiceState,
  ServiceType,
  Status,
  WithheldReason,
  BreakdownBy,
} from './gql/schema';

export const STATUSES: Status[] = [
  'IDENTIFIED',
  'IN_CRISIS_CARE',
  'IN_TRANSITION',
  'REINTEGRATING',
  'REINTEGRATED',
  'DROPPED_OUT',
  'LOST_CONTACT',
  'RE_TRAFFICKED',
  'MOVED_ABROAD',
  'DECEASED',
];
export const GENDERS: Gender[] = ['FEMALE', 'MALE', 'TRANSGENDER_NON_CONFORMING', 'UNKNOWN'];
export const ROUTES: IdentificationRoute[] = [
  'LAW_ENFORCEMENT',
  'OUTREACH',
  'SELF_REFERRAL',
  'NGO',
  'GOVERNMENT',
  'INTERNATIONAL_ORGANISATION',
  'FAMILY_OR_FRIENDS',
  'OTHER',
];
export const EXPLOITATION: FormOfExploitation[] = [
  'SEXUAL_EXPLOITATION',
  'LABOUR_EXPLOITATION',
  'BEGGING',
  'FORCED_CRIMINALITY',
  'FORCED_MARRIAGE',
  'OTHER',
];
export const RELATIONSHIPS: Relationship[] = ['CHILD', 'PARENT', 'SIBLING', 'PARTNER', 'OTHER_FAMILY'];
export const CONSENT_KINDS: ConsentKind[] = ['ASSISTANCE', 'DATA_SHARING', 'EVALUATION_USE', 'FOLLOW_UP_CONTACT'];
export const CONSENT_GIVERS: ConsentGiver[] = ['BENEFICIARY', 'GUARDIAN'];
export const CONSENT_EVIDENCE: ConsentEvidence[] = ['SIGNED_FORM', 'WITNESSED_VERBAL', 'ELECTRONIC'];
export const SERVICES: ServiceType[] = [
  'ACCOMMODATION',
  'MEDICAL',
  'PSYCHOLOGICAL',
  'LEGAL',
  'ADMINISTRATIVE_DOCUMENTS',
  'EDUCATION',
  'VOCATIONAL_TRAINING',
  'JOB_PLACEMENT',
  'BUSINESS_START_UP_GRANT',
  'SOCIAL_ENTERPRISE_WORK',
  'FAMILY_MEDIATION',
  'FINANCIAL_SUPPORT',
  'CHILD_CARE',
  'CASE_MANAGEMENT',
  'OTHER',
];
export const SERVICE_STATES: ServiceState[] = ['PLANNED', 'DELIVERED', 'DISCONTINUED'];
export const DOMAINS: ReintegrationDomain[] = [
  'SAFETY',
  'LEGAL_STATUS',
  'HOUSING',
  'ECONOMIC_SITUATION',
  'EDUCATION_AND_SKILLS',
  'PHYSICAL_HEALTH',
  'MENTAL_WELLBEING',
  'FAMILY_AND_SOCIAL_RELATIONS',
];
export const GOAL_STATES: GoalState[] = ['OPEN', 'ACHIEVED', 'ABANDONED'];
export const ROLES: Role[] = ['ADMINISTRATOR', 'SUPERVISOR', 'CASEWORKER', 'EVALUATOR', 'INTEGRATOR'];
export const ERASURE_REASONS: ErasureReason[] = [
  'PERSON_REQUESTED',
  'RETENTION_ENDED',
  'RECORDED_IN_ERROR',
  'SAFETY_RISK',
];
export const ENDINGS: Ending[] = ['REINTEGRATED', 'RE_TRAFFICKED', 'DROPPED_OUT', 'MOVED_ABROAD', 'DECEASED'];
export const WITHHELD: WithheldReason[] = ['SMALL_COUNT', 'COMPLEMENTARY'];
export const BREAKDOWNS: BreakdownBy[] = [
  'COUNTRY',
  'ORGANISATION',
  'INTAKE_YEAR',
  'SEX',
  'AGE_GROUP',
  'FORM_OF_EXPLOITATION',
  'ROLE',
  'SERVICES_RECEIVED',
  'SERVICE_COUNT',
  'SERVICE_KIND',
];

/** Every list above by the schema enum it covers (for the completeness tests and labels). */
export const ENUMS = {
  Status: STATUSES,
  Gender: GENDERS,
  IdentificationRoute: ROUTES,
  FormOfExploitation: EXPLOITATION,
  Relationship: RELATIONSHIPS,
  ConsentKind: CONSENT_KINDS,
  ConsentGiver: CONSENT_GIVERS,
  ConsentEvidence: CONSENT_EVIDENCE,
  ServiceType: SERVICES,
  ServiceState: SERVICE_STATES,
  ReintegrationDomain: DOMAINS,
  GoalState: GOAL_STATES,
  Role: ROLES,
  ErasureReason: ERASURE_REASONS,
  Ending: ENDINGS,
  WithheldReason: WITHHELD,
  BreakdownBy: BREAKDOWNS,
} as const;
export type EnumName = keyof typeof ENUMS;

/** Turns a stored payload's value (`in_crisis_care`) into the schema's (`IN_CRISIS_CARE`). */
export function coded(value: unknown): string | undefined {
  return typeof value === 'string' ? value.toUpperCase() : undefined;
}
