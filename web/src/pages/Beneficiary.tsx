// One person's record: what is planned and done, the whole timeline (as of any two times),
// assessments over time, consents and, where the role allows, personal data. Every change is
// recorded through a command form made against the version shown; another person's entry
// arrives live.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams, useSearchParams } from 'react-router-dom';
import { graphql } from '../gql';
import type { AsOfInput, BeneficiaryPageQuery } from '../gql/graphql';
import { NetworkError, request, subscribe } from '../api/client';
import { COMMANDS, VOID, commandFor, type CommandSpec, type Recorded } from '../commands';
import { CommandForm, sendNow, type CaseContext } from '../components/CommandForm';
import { QueuedList } from '../components/Outbox';
import { keep, kept, onKeptChange, release, useOnline } from '../offline/kept';
import { enqueue, onQueueChange } from '../offline/queue';
import { CAN_KEEP } from '../offline/vault';
import { useApiError } from '../components/useApiError';
import { useLatest } from '../components/useLatest';
import { formatDay, formatMoment } from '../i18n';
import { can, useMe } from '../session';
import { Timeline } from './beneficiary/Timeline';
import { PlanTab } from './beneficiary/Plan';
import { AssessmentsTab } from './beneficiary/Assessments';
import { ConsentsTab } from './beneficiary/Consents';
import { PersonalDataTab } from './beneficiary/PersonalData';
import { AccessLog } from './AccessLog';

const BeneficiaryPageQueryDoc = graphql(`
  query BeneficiaryPage($id: UUID!, $asOf: AsOfInput) {
    beneficiary(id: $id) {
      id
      caseCode
      organisationId
      version
      status
      closed
      nextReviewOn
      reviewOverdue
      erased
      registration {
        caseCode
        primary
        primaryBeneficiaryId
        relationship
        gender
        birthYear
        birthMonth
        citizenship
        countryOfAssistance
        identifiedOn
        identificationRoute
        formsOfExploitation
      }
      plan(asOf: $asOf) {
        version
        status
        statusSince
        closed
        caseworkerId
        caseworkerName
        nextReviewOn
        lastActivityOn
        consents {
          kind
          organisationId
          since
          givenBy
        }
        goals {
          id
          domain
          targetOn
          state
          setOn
          closedOn
        }
        services {
          id
          service
          providerId
          goalId
          state
          plannedOn
          firstDeliveredOn
          lastDeliveredOn
          deliveries
        }
        referrals {
          id
          toOrganisationId
          referredOn
          accepted
        }
      }
      timeline(asOf: $asOf, last: 100) {
        id
        version
        occurredOn
        recordedAt
        actorId
        eventType
        summary
        payload
        amended
        counts
        recordedDaysLater
        notes {
          id
          recordedAt
          actorId
          summary
          replacement
        }
      }
      assessments(asOf: $asOf) {
        on
        frameworkVersion
        scores {
          domain
          score
        }
      }
    }
    organisations {
      id
      name
    }
  }
`);

const Colleagues = graphql(`
  query Colleagues {
    users {
      id
      displayName
      role
      active
    }
  }
`);

const TimelineUpdates = graphql(`
  subscription TimelineUpdates($id: UUID!, $after: Int) {
    beneficiaryTimeline(beneficiaryId: $id, afterVersion: $after) {
      id
      version
      eventType
      actorId
    }
  }
`);

export type Case = BeneficiaryPageQuery['beneficiary'];
export type Organisations = BeneficiaryPageQuery['organisations'];
const ALL_TABS = ['timeline', 'plan', 'assessments', 'consents', 'personal', 'access'] as const;
type Tab = (typeof ALL_TABS)[number];

/** What a form is open for: a command, possibly correcting or voiding an entry. */
export type Recording = {
  spec: CommandSpec;
  corrects?: { id: string; values: Record<string, unknown> };
  fixed?: Record<string, unknown>;
};

export function BeneficiaryPage() {
  const { t } = useTranslation();
  const me = useMe();
  const { id = '' } = useParams();
  const [params, setParams] = useSearchParams();
  // The access log of the case is for its supervisors.
  const TABS = ALL_TABS.filter((name) => name !== 'access' || can(me, 'supervise'));
  const tab = (TABS as readonly string[]).includes(params.get('tab') ?? '') ? (params.get('tab') as Tab) : 'timeline';
  const [asOf, setAsOf] = useState<AsOfInput>({});
  const [data, setData] = useState<BeneficiaryPageQuery | null>(null);
  const [colleagues, setColleagues] = useState<{ id: string; displayName: string; role: string; active: boolean }[]>(
    [],
  );
  const caseworkers = useMemo(() => colleagues.filter((u) => u.role === 'CASEWORKER' && u.active), [colleagues]);
  const [recording, setRecording] = useState<Recording | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, showError] = useApiError();
  const online = useOnline();
  // Kept for a visit: when (null: not kept); and, when shown from the kept copy, since when.
  const [keptAt, setKeptAt] = useState<string | null>(null);
  const [fromKept, setFromKept] = useState(false);
  const historical = Boolean(asOf.validOn || asOf.recordedAt);

  const begin = useLatest();
  const load = useCallback(async (): Promise<number> => {
    const current = begin();
    try {
      const fresh = await request(BeneficiaryPageQueryDoc, { id, asOf: historical ? asOf : null });
      if (!current()) return fresh.beneficiary.version;
      setData(fresh);
      setFromKept(false);
      showError(null);
      // A kept case is refreshed with each read of it as it is now.
      if (!historical && (await kept(id))) {
        await keep(id, fresh);
        setKeptAt(new Date().toISOString());
      }
      return fresh.beneficiary.version;
    } catch (e) {
      if (!current()) throw e;
      const copy = e instanceof NetworkError ? await kept<BeneficiaryPageQuery>(id) : undefined;
      if (copy) {
        setData(copy.data);
        setFromKept(true);
        setKeptAt(copy.keptAt);
        showError(null);
        return copy.data.beneficiary.version;
      }
      setData(null);
      showError(e);
      throw e;
    }
  }, [id, asOf, historical, showError, begin]);

  useEffect(() => {
    load().catch(() => {});
  }, [load]);

  useEffect(() => {
    const read = () => void kept(id).then((k) => setKeptAt(k?.keptAt ?? null));
    read();
    return onKeptChange(read);
  }, [id]);

  // What was queued for this case went out (or came back refused): read the case again.
  useEffect(
    () =>
      onQueueChange(() => {
        if (navigator.onLine) load().catch(() => {});
      }),
    [load],
  );

  useEffect(() => {
    if (!can(me, 'supervise')) return;
    request(Colleagues)
      .then((d) => setColleagues(d.users))
      .catch(() => {});
  }, [me]);

  // Live: another person's entry on this case reloads it and says so.
  const version = data?.beneficiary.version;
  const loaded = version !== undefined;
  useEffect(() => {
    if (!loaded) return;
    return subscribe(TimelineUpdates, { id, after: version }, (update) => {
      const item = update.beneficiaryTimeline;
      if (item.actorId !== me.user.id) setNotice(t('case.liveUpdate', { what: t(`event.${item.eventType}`) }));
      load().catch(() => {});
    });
    // Subscribed once per case; the version only says where to start.
  }, [id, loaded]);

  const context: CaseContext | null = useMemo(
    () =>
      data && {
        id: data.beneficiary.id,
        version: data.beneficiary.version,
        goals: data.beneficiary.plan?.goals ?? [],
        services: data.beneficiary.plan?.services ?? [],
        referrals: data.beneficiary.plan?.referrals ?? [],
        organisations: data.organisations,
        caseworkers,
      },
    [data, caseworkers],
  );

  if (!data || !context) {
    return (
      <section>
        <h1>{t('case.title')}</h1>
        {error ?? <p aria-busy="true">{t('app.loading')}</p>}
      </section>
    );
  }
  const b = data.beneficiary;
  const mayRecord = can(me, 'record') && !b.erased;
  const offered = COMMANDS.filter((c) => c.who === 'record' || can(me, 'supervise'));
  const primaryCode = b.registration?.primary === false ? b.registration.primaryBeneficiaryId : null;

  const startCorrection = (entry: { id: string; eventType: string; payload: unknown }) => {
    const spec = commandFor(entry.eventType);
    if (!spec) return;
    const values = spec.fromPayload?.(entry.payload as Record<string, unknown>, context.services) ?? {};
    setRecording({ spec, corrects: { id: entry.id, values } });
  };
  const startVoid = (entry: { id: string }) => setRecording({ spec: VOID, fixed: { eventId: entry.id } });

  // Without a connection an entry on a kept case is queued, with its key and expected version.
  const send = async (spec: CommandSpec, input: Record<string, unknown>): Promise<Recorded | 'queued'> => {
    const queue = async () => {
      await enqueue(spec.id, input, b.caseCode);
      return 'queued' as const;
    };
    if (!navigator.onLine && keptAt) return queue();
    try {
      return await sendNow(spec, input);
    } catch (e) {
      if (e instanceof NetworkError && keptAt) return queue();
      throw e;
    }
  };
  const toggleKeep = async () => {
    setKeptAt(keptAt ? null : new Date().toISOString());
    if (keptAt) await release(id);
    else await keep(id, data);
  };

  return (
    <section aria-labelledby="case-title" className="case">
      <div className="page-title">
        <h1 id="case-title">
          {t('case.title')} {b.caseCode}
        </h1>
        <div className="tags">
          <span className="tag status">{t(`enum.Status.${b.status}`)}</span>
          {b.closed && <span className="tag">{t('case.closed')}</span>}
          {b.erased && <span className="tag warning">{t('case.erased')}</span>}
          {b.registration?.primary === false ? (
            <span className="tag family">{t('caseload.familyMember')}</span>
          ) : (
            <span className="tag primary">{t('caseload.primary')}</span>
          )}
        </div>
      </div>
      <dl className="facts">
        <div>
          <dt>{t('case.caseworker')}</dt>
          <dd>{b.plan?.caseworkerName ?? '—'}</dd>
        </div>
        <div>
          <dt>{t('caseload.nextReview')}</dt>
          <dd>
            {formatDay(b.nextReviewOn)}{' '}
            {b.reviewOverdue && <span className="tag warning">{t('caseload.overdue')}</span>}
          </dd>
        </div>
        <div>
          <dt>{t('field.identifiedOn')}</dt>
          <dd>{formatDay(b.registration?.identifiedOn)}</dd>
        </div>
        <div>
          <dt>{t('case.version')}</dt>
          <dd>{b.version}</dd>
        </div>
        {primaryCode && (
          <div>
            <dt>{t('case.primaryBeneficiary')}</dt>
            <dd>
              <Link to={`/cases/${primaryCode}`}>{t('case.open')}</Link>
            </dd>
          </div>
        )}
      </dl>
      {b.erased && (
        <p className="notice" role="status">
          {t('case.erasedNotice')}
        </p>
      )}
      {fromKept && (
        <p className="notice offline" role="status">
          {t('offline.showingKept', { when: formatMoment(keptAt) })}
        </p>
      )}
      {can(me, 'record') && !historical && CAN_KEEP && (
        <label className="checkbox keep">
          <input type="checkbox" checked={Boolean(keptAt)} disabled={!online} onChange={() => void toggleKeep()} />
          {t('offline.keep')}
          {keptAt && !fromKept && <span className="hint"> {t('offline.keptAt', { when: formatMoment(keptAt) })}</span>}
        </label>
      )}
      <QueuedList caseId={b.id} />
      {notice && (
        <p className="notice" role="status" aria-live="polite">
          {notice}{' '}
          <button type="button" className="link" onClick={() => setNotice(null)}>
            {t('app.dismiss')}
          </button>
        </p>
      )}
      {error}
      {mayRecord && !recording && (
        <div className="record-bar">
          <label>
            {t('case.record')}{' '}
            <select
              value=""
              onChange={(e) => {
                const spec = offered.find((c) => c.id === e.target.value);
                if (spec) setRecording({ spec });
              }}
            >
              <option value="">{t('form.choose')}</option>
              {offered.map((c) => (
                <option key={c.id} value={c.id}>
                  {t(`command.${c.id}`)}
                </option>
              ))}
            </select>
          </label>
          {b.registration?.primary !== false && online && (
            <Link className="button" to={`/register?primary=${b.id}&code=${encodeURIComponent(b.caseCode)}`}>
              {t('case.registerFamily')}
            </Link>
          )}
        </div>
      )}
      {recording && (
        <CommandForm
          key={`${recording.spec.id}-${recording.corrects?.id ?? ''}-${String(recording.fixed?.eventId ?? '')}`}
          spec={recording.spec}
          context={context}
          corrects={recording.corrects}
          fixed={recording.fixed}
          refresh={load}
          send={send}
          confirm={recording.spec.id === 'erasePersonalData' ? t('case.eraseConfirm', { code: b.caseCode }) : undefined}
          onDone={async (result) => {
            // The next entry is made against the version this one produced: the form closes
            // once the case is read again, not before.
            if (result !== 'queued') await load().catch(() => {});
            setRecording(null);
            setNotice(result === 'queued' ? t('offline.queued') : null);
          }}
          onCancel={() => setRecording(null)}
        />
      )}
      <div role="tablist" aria-label={t('case.sections')} className="tabs">
        {TABS.map((name) => (
          <button
            key={name}
            role="tab"
            type="button"
            id={`tab-${name}`}
            aria-selected={tab === name}
            aria-controls={`panel-${name}`}
            tabIndex={tab === name ? 0 : -1}
            onClick={() => setParams({ tab: name }, { replace: true })}
            onKeyDown={(e) => {
              const i = TABS.indexOf(tab);
              const next =
                e.key === 'ArrowRight'
                  ? TABS[(i + 1) % TABS.length]
                  : e.key === 'ArrowLeft'
                    ? TABS[(i + TABS.length - 1) % TABS.length]
                    : null;
              if (next) {
                setParams({ tab: next }, { replace: true });
                document.getElementById(`tab-${next}`)?.focus();
              }
            }}
          >
            {t(`case.tab.${name}`)}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} tabIndex={0}>
        {tab === 'timeline' && (
          <Timeline
            entries={b.timeline}
            asOf={asOf}
            setAsOf={setAsOf}
            mayCorrect={mayRecord}
            onCorrect={startCorrection}
            onVoid={startVoid}
            organisations={data.organisations}
          />
        )}
        {tab === 'plan' && <PlanTab plan={b.plan} organisations={data.organisations} />}
        {tab === 'assessments' && <AssessmentsTab assessments={b.assessments} />}
        {tab === 'consents' && (
          <ConsentsTab
            consents={b.plan?.consents ?? []}
            timeline={b.timeline}
            birthYear={b.registration?.birthYear ?? null}
            organisations={data.organisations}
            mayRecord={mayRecord}
            start={(id) => setRecording({ spec: COMMANDS.find((c) => c.id === id)! })}
          />
        )}
        {tab === 'access' && <AccessLog users={colleagues} beneficiaryId={b.id} />}
        {tab === 'personal' && (
          <PersonalDataTab
            id={b.id}
            erased={b.erased}
            version={b.version}
            onRecord={() => setRecording({ spec: COMMANDS.find((c) => c.id === 'recordPersonalData')! })}
          />
        )}
      </div>
    </section>
  );
}
