// Every command a person records on a case, as the forms offer it: the mutation, who may use it,
// its fields, and how a correction is prefilled from the entry it corrects.
import { graphql } from './gql';
import type { TypedDocumentString } from './gql/graphql';
import type { EnumName } from './vocabulary';
import { coded } from './vocabulary';

export type FieldKind =
  | { kind: 'date' }
  | { kind: 'enum'; enum: EnumName }
  | { kind: 'enums'; enum: EnumName }
  | { kind: 'text' }
  | { kind: 'number' }
  | { kind: 'goal' }
  | { kind: 'service' }
  | { kind: 'organisation' }
  | { kind: 'caseworker' }
  | { kind: 'referral' }
  | { kind: 'scores' };

export type FieldSpec = FieldKind & { name: string; required?: boolean };

/** What every command returns. */
export type Recorded = {
  beneficiaryId: string;
  version: number;
  events: { id: string; version: number; eventType: string }[];
};

export type CommandSpec = {
  /** The mutation's field name, also the catalogue key of its title (`command.<id>`). */
  id: string;
  document: TypedDocumentString<Record<string, Recorded>, { input: Record<string, unknown> }>;
  /** Who may use it: anyone who records on the case, or its supervisor only. */
  who: 'record' | 'supervise';
  fields: FieldSpec[];
  /** It opens a case (registration): no case id or expected version. */
  opens?: boolean;
  /** Event types whose entries this command corrects (`corrects: <id>`). */
  corrects?: string[];
  /**
   * A correction's values from the entry's stored payload (and the case's services, to tell a
   * planned service from one the corrected entry itself opened).
   */
  fromPayload?: (
    payload: Record<string, unknown>,
    services: { id: string; plannedOn?: string | null }[],
  ) => Record<string, unknown>;
};

const doc = (document: object) => document as unknown as CommandSpec['document'];

const occurred: FieldSpec = { name: 'occurredOn', kind: 'date', required: true };

function camel(key: string): string {
  return key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** A payload's fields under their input names, coded values in the schema's spelling. */
function plain(payload: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(payload).map(([k, v]) => [camel(k), typeof v === 'string' && /^[a-z_]+$/.test(v) ? coded(v) : v]),
  );
}

// The documents are declared with `graphql()` so codegen checks them against the schema.
const GiveConsent = graphql(`
  mutation GiveConsent($input: GiveConsentInput!) {
    giveConsent(input: $input) {
      beneficiaryId
      version
      events {
        id
        version
        eventType
      }
    }
  }
`);
const WithdrawConsent = graphql(`
  mutation WithdrawConsent($input: WithdrawConsentInput!) {
    withdrawConsent(input: $input) {
      beneficiaryId
      version
      events {
        id
        version
        eventType
      }
    }
  }
`);
const SetPlanGoal = graphql(`
  mutation SetPlanGoal($input: SetPlanGoalInput!) {
    setPlanGoal(input: $input) {
      beneficiaryId
      version
      events {
        id
        version
        eventType
      }
    }
  }
`);
const AchievePlanGoal = graphql(`
  mutation AchievePlanGoal($input: GoalInput!) {
    achievePlanGoal(input: $input) {
      beneficiaryId
      version
      events {
        id
        version
        eventType
      }
    }
  }
`);
const AbandonPlanGoal = graphql(`
  mutation AbandonPlanGoal($input: GoalInput!) {
    abandonPlanGoal(input: $input) {
      beneficiaryId
      version
      events {
        id
        version
        eventType
      }
    }
  }
`);
const ScheduleReview = graphql(`
  mutation ScheduleReview($input: ScheduleReviewInput!) {
    scheduleReview(input: $input) {
      beneficiaryId
      version
      events {
        id
        version
        eventType
      }
    }
  }
`);
const RecordPlanReview = graphql(`
  mutation RecordPlanReview($input: RecordPlanReviewInput!) {
    recordPlanReview(input: $input) {
      beneficiaryId
      version
      events {
        id
        version
        eventType
      }
    }
  }
`);
const PlanService = graphql(`
  mutation PlanService($input: PlanServiceInput!) {
    planService(input: $input) {
      beneficiaryId
      version
      events {
        id
        version
        eventType
      }
    }
  }
`);
const RecordServiceDelivery = graphql(`
  mutation RecordServiceDelivery($input: RecordServiceDeliveryInput!) {
    recordServiceDelivery(input: $input) {
      beneficiaryId
      version
      events {
        id
        version
        eventType
      }
    }
  }
`);
const DiscontinueService = graphql(`
  mutation DiscontinueService($input: DiscontinueServiceInput!) {
    discontinueService(input: $input) {
      beneficiaryId
      version
      events {
        id
        version
        eventType
      }
    }
  }
`);
const RecordAssessment = graphql(`
  mutation RecordAssessment($input: RecordAssessmentInput!) {
    recordAssessment(input: $input) {
      beneficiaryId
      version
      events {
        id
        version
        eventType
      }
    }
  }
`);
const ChangeStatus = graphql(`
  mutation ChangeStatus($input: ChangeStatusInput!) {
    changeStatus(input: $input) {
      beneficiaryId
      version
      events {
        id
        version
        eventType
      }
    }
  }
`);
const RecordFollowUpContact = graphql(`
  mutation RecordFollowUpContact($input: FollowUpInput!) {
    recordFollowUpContact(input: $input) {
      beneficiaryId
      version
      events {
        id
        version
        eventType
      }
    }
  }
`);
const TransferCase = graphql(`
  mutation TransferCase($input: TransferCaseInput!) {
    transferCase(input: $input) {
      beneficiaryId
      version
      events {
        id
        version
        eventType
      }
    }
  }
`);
const CloseCase = graphql(`
  mutation CloseCase($input: PlainChangeInput!) {
    closeCase(input: $input) {
      beneficiaryId
      version
      events {
        id
        version
        eventType
      }
    }
  }
`);
const ReopenCase = graphql(`
  mutation ReopenCase($input: PlainChangeInput!) {
    reopenCase(input: $input) {
      beneficiaryId
      version
      events {
        id
        version
        eventType
      }
    }
  }
`);
const ReferToOrganisation = graphql(`
  mutation ReferToOrganisation($input: ReferInput!) {
    referToOrganisation(input: $input) {
      beneficiaryId
      version
      events {
        id
        version
        eventType
      }
    }
  }
`);
const AcceptReferral = graphql(`
  mutation AcceptReferral($input: AcceptReferralInput!) {
    acceptReferral(input: $input) {
      beneficiaryId
      version
      events {
        id
        version
        eventType
      }
    }
  }
`);
const ErasePersonalData = graphql(`
  mutation ErasePersonalData($input: ErasePersonalDataInput!) {
    erasePersonalData(input: $input) {
      beneficiaryId
      version
      events {
        id
        version
        eventType
      }
    }
  }
`);
const VoidEvent = graphql(`
  mutation VoidEvent($input: VoidEventInput!) {
    voidEvent(input: $input) {
      beneficiaryId
      version
      events {
        id
        version
        eventType
      }
    }
  }
`);

/** The personal data a person may have (kept in the vault, not in the history). */
export const PERSONAL_DATA = [
  'givenName',
  'familyName',
  'knownAs',
  'dateOfBirth',
  'phone',
  'email',
  'address',
  'documentNumber',
  'notes',
] as const;

/** Personal data's fields, at registration or later. */
export const PERSONAL_FIELDS: FieldSpec[] = PERSONAL_DATA.map(
  (name) => ({ name: `personalData.${name}`, kind: name === 'dateOfBirth' ? 'date' : 'text' }) as FieldSpec,
);

const RecordPersonalData = graphql(`
  mutation RecordPersonalData($input: RecordPersonalDataInput!) {
    recordPersonalData(input: $input) {
      beneficiaryId
      version
      events {
        id
        version
        eventType
      }
    }
  }
`);

export const COMMANDS: CommandSpec[] = [
  {
    id: 'recordServiceDelivery',
    document: doc(RecordServiceDelivery),
    who: 'record',
    fields: [
      occurred,
      { name: 'service', kind: 'enum', enum: 'ServiceType', required: true },
      { name: 'serviceId', kind: 'service' },
      { name: 'from', kind: 'date' },
      { name: 'to', kind: 'date' },
    ],
    corrects: ['ServiceDelivered'],
    fromPayload: (p, services) => {
      const v = plain(p);
      // A delivery of a planned service names it; an unplanned one opened its own, which the
      // correction replaces (so it must not name it).
      const planned = services.some((s) => s.id === v.serviceId && s.plannedOn);
      return { service: v.service, serviceId: planned ? v.serviceId : undefined, from: v.from, to: v.to };
    },
  },
  {
    id: 'changeStatus',
    document: doc(ChangeStatus),
    who: 'record',
    fields: [occurred, { name: 'to', kind: 'enum', enum: 'Status', required: true }],
    corrects: ['StatusChanged'],
    fromPayload: (p) => ({ to: coded(p.to) }),
  },
  {
    id: 'giveConsent',
    document: doc(GiveConsent),
    who: 'record',
    fields: [
      occurred,
      { name: 'kind', kind: 'enum', enum: 'ConsentKind', required: true },
      { name: 'organisationId', kind: 'organisation' },
      { name: 'givenBy', kind: 'enum', enum: 'ConsentGiver', required: true },
      { name: 'evidence', kind: 'enum', enum: 'ConsentEvidence', required: true },
    ],
    corrects: ['ConsentGiven'],
    fromPayload: (p) => {
      const scope = (p.scope ?? {}) as Record<string, unknown>;
      return {
        kind: coded(scope.kind),
        organisationId: scope.organisation ?? scope.organisation_id,
        givenBy: coded(p.given_by),
        evidence: coded(p.evidence),
      };
    },
  },
  {
    id: 'withdrawConsent',
    document: doc(WithdrawConsent),
    who: 'record',
    fields: [
      occurred,
      { name: 'kind', kind: 'enum', enum: 'ConsentKind', required: true },
      { name: 'organisationId', kind: 'organisation' },
      { name: 'withdrawnBy', kind: 'enum', enum: 'ConsentGiver', required: true },
    ],
    corrects: ['ConsentWithdrawn'],
    fromPayload: (p) => {
      const scope = (p.scope ?? {}) as Record<string, unknown>;
      return { kind: coded(scope.kind), organisationId: scope.organisation, withdrawnBy: coded(p.withdrawn_by) };
    },
  },
  {
    id: 'planService',
    document: doc(PlanService),
    who: 'record',
    fields: [
      occurred,
      { name: 'service', kind: 'enum', enum: 'ServiceType', required: true },
      { name: 'goalId', kind: 'goal' },
    ],
    corrects: ['ServicePlanned'],
    fromPayload: (p) => {
      const v = plain(p);
      return { service: v.service, goalId: v.goal ?? v.goalId };
    },
  },
  {
    id: 'discontinueService',
    document: doc(DiscontinueService),
    who: 'record',
    fields: [occurred, { name: 'serviceId', kind: 'service', required: true }],
    corrects: ['ServiceDiscontinued'],
    fromPayload: (p) => ({ serviceId: p.service_id }),
  },
  {
    id: 'setPlanGoal',
    document: doc(SetPlanGoal),
    who: 'record',
    fields: [
      occurred,
      { name: 'domain', kind: 'enum', enum: 'ReintegrationDomain', required: true },
      { name: 'targetOn', kind: 'date' },
    ],
    corrects: ['PlanGoalSet'],
    fromPayload: (p) => ({ domain: coded(p.domain), targetOn: p.target_on }),
  },
  {
    id: 'achievePlanGoal',
    document: doc(AchievePlanGoal),
    who: 'record',
    fields: [occurred, { name: 'goalId', kind: 'goal', required: true }],
    corrects: ['PlanGoalAchieved'],
    fromPayload: (p) => ({ goalId: p.goal_id }),
  },
  {
    id: 'abandonPlanGoal',
    document: doc(AbandonPlanGoal),
    who: 'record',
    fields: [occurred, { name: 'goalId', kind: 'goal', required: true }],
    corrects: ['PlanGoalAbandoned'],
    fromPayload: (p) => ({ goalId: p.goal_id }),
  },
  {
    id: 'scheduleReview',
    document: doc(ScheduleReview),
    who: 'record',
    fields: [occurred, { name: 'dueOn', kind: 'date', required: true }],
    corrects: ['ReviewScheduled'],
    fromPayload: (p) => ({ dueOn: p.due_on }),
  },
  {
    id: 'recordPlanReview',
    document: doc(RecordPlanReview),
    who: 'record',
    fields: [occurred, { name: 'nextReviewOn', kind: 'date' }],
    corrects: ['PlanReviewed'],
    fromPayload: (p) => ({ nextReviewOn: p.next_review_on }),
  },
  {
    id: 'recordAssessment',
    document: doc(RecordAssessment),
    who: 'record',
    fields: [occurred, { name: 'scores', kind: 'scores', required: true }],
    corrects: ['AssessmentRecorded'],
    fromPayload: (p) => ({
      scores: ((p.scores ?? []) as { domain: string; score: number }[]).map((s) => ({
        domain: coded(s.domain),
        score: s.score,
      })),
    }),
  },
  {
    id: 'recordFollowUpContact',
    document: doc(RecordFollowUpContact),
    who: 'record',
    fields: [occurred, { name: 'observedStatus', kind: 'enum', enum: 'Status' }],
    corrects: ['FollowUpContactMade'],
    fromPayload: (p) => ({ observedStatus: coded(p.observed_status) }),
  },
  {
    id: 'referToOrganisation',
    document: doc(ReferToOrganisation),
    who: 'record',
    fields: [occurred, { name: 'toOrganisationId', kind: 'organisation', required: true }],
    corrects: ['ReferredToOrganisation'],
    fromPayload: (p) => ({ toOrganisationId: p.to_organisation }),
  },
  {
    id: 'acceptReferral',
    document: doc(AcceptReferral),
    who: 'supervise',
    fields: [occurred, { name: 'referralId', kind: 'referral', required: true }],
  },
  {
    id: 'transferCase',
    document: doc(TransferCase),
    who: 'supervise',
    fields: [occurred, { name: 'toCaseworkerId', kind: 'caseworker', required: true }],
    corrects: ['CaseTransferred'],
    fromPayload: (p) => ({ toCaseworkerId: p.to_caseworker }),
  },
  { id: 'closeCase', document: doc(CloseCase), who: 'supervise', fields: [occurred] },
  { id: 'reopenCase', document: doc(ReopenCase), who: 'supervise', fields: [occurred] },
  {
    id: 'recordPersonalData',
    document: doc(RecordPersonalData),
    who: 'record',
    fields: [occurred, ...PERSONAL_FIELDS],
  },
  {
    id: 'erasePersonalData',
    document: doc(ErasePersonalData),
    who: 'supervise',
    fields: [occurred, { name: 'reason', kind: 'enum', enum: 'ErasureReason', required: true }],
  },
];

const RegisterBeneficiary = graphql(`
  mutation RegisterBeneficiary($input: RegisterBeneficiaryInput!) {
    registerBeneficiary(input: $input) {
      beneficiaryId
      version
      events {
        id
        version
        eventType
      }
    }
  }
`);

/** Registering a person: opens a case, so it has no case or version to be made against. */
export const REGISTER: CommandSpec = {
  id: 'registerBeneficiary',
  document: doc(RegisterBeneficiary),
  who: 'record',
  opens: true,
  fields: [
    { name: 'caseCode', kind: 'text', required: true },
    { name: 'identifiedOn', kind: 'date', required: true },
    { name: 'identificationRoute', kind: 'enum', enum: 'IdentificationRoute', required: true },
    { name: 'gender', kind: 'enum', enum: 'Gender', required: true },
    { name: 'birthYear', kind: 'number' },
    { name: 'birthMonth', kind: 'number' },
    { name: 'citizenship', kind: 'text', required: true },
    { name: 'countryOfAssistance', kind: 'text', required: true },
    { name: 'formsOfExploitation', kind: 'enums', enum: 'FormOfExploitation' },
    occurred,
  ],
};

/** The family-member part of a registration (when it is linked to a primary beneficiary). */
export const FAMILY_FIELDS: FieldSpec[] = [
  { name: 'relationship', kind: 'enum', enum: 'Relationship', required: true },
];

/** Voiding an entry recorded in error (started from the entry). */
export const VOID: CommandSpec = {
  id: 'voidEvent',
  document: doc(VoidEvent),
  who: 'record',
  fields: [occurred],
};

export function commandFor(eventType: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.corrects?.includes(eventType));
}

export function commandById(id: string): CommandSpec | undefined {
  return id === VOID.id ? VOID : COMMANDS.find((c) => c.id === id);
}
