// One form for every command: the fields its spec names, checked before sending; the server's
// refusal shown beside the field it names; a conflict (someone recorded on the case since the
// form was opened) shown with what they recorded and a way to apply this entry again on the
// current record. Nothing typed is lost on a refusal.
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, NetworkError, idempotencyKey, request, today } from '../api/client';
import type { CommandSpec, FieldSpec, Recorded } from '../commands';
import { ENUMS, DOMAINS } from '../vocabulary';
import { CheckboxGroup, Field } from './Field';
import { useRefusal } from './Refusal';

export type CaseContext = {
  id: string;
  version: number;
  goals: { id: string; domain: string; state: string }[];
  services: { id: string; service: string; state: string; plannedOn?: string | null }[];
  referrals: { id: string; toOrganisationId: string; accepted: boolean }[];
  organisations: { id: string; name: string }[];
  caseworkers: { id: string; displayName: string }[];
};

type Props = {
  spec: CommandSpec;
  /** The case it is recorded on (none for a registration). */
  context?: CaseContext;
  /** Fields beyond the spec's own (a registration's family and personal-data parts). */
  extraFields?: FieldSpec[];
  /** Values to start from (a registration's country of assistance). */
  initial?: Record<string, unknown>;
  /** A correction: the entry it corrects and its values. */
  corrects?: { id: string; values: Record<string, unknown> };
  /** Extra input fixed by where the form was started (the entry a void removes). */
  fixed?: Record<string, unknown>;
  /** Reloads the case (after a conflict) and returns its current version. */
  refresh?: () => Promise<number>;
  /** Sends the command; offline work queues it instead (the default sends it now). */
  send?: (spec: CommandSpec, input: Record<string, unknown>) => Promise<Recorded | 'queued'>;
  /** After a success; the form stays busy until it resolves (the page reading the case again). */
  onDone: (result: Recorded | 'queued') => void | Promise<void>;
  onCancel: () => void;
  /** Asks for a confirmation before sending (erasure). */
  confirm?: string;
};

export async function sendNow(spec: CommandSpec, input: Record<string, unknown>): Promise<Recorded> {
  const data = await request(spec.document, { input });
  return data[spec.id];
}

function initialValues(fields: FieldSpec[], corrects?: Props['corrects']): Record<string, unknown> {
  const values: Record<string, unknown> = { occurredOn: today() };
  for (const f of fields) {
    if (f.kind === 'enums') values[f.name] = [];
    if (f.kind === 'scores') values[f.name] = DOMAINS.map((domain) => ({ domain, score: '' }));
  }
  return { ...values, ...(corrects?.values ?? {}) };
}

const NO_CASE: CaseContext = {
  id: '',
  version: 0,
  goals: [],
  services: [],
  referrals: [],
  organisations: [],
  caseworkers: [],
};

export function CommandForm({
  spec,
  context = NO_CASE,
  extraFields = [],
  initial,
  corrects,
  fixed,
  refresh,
  send = sendNow,
  onDone,
  onCancel,
  confirm,
}: Props) {
  const { t } = useTranslation();
  const fields = [...spec.fields, ...extraFields];
  const [values, setValues] = useState<Record<string, unknown>>(() => ({
    ...initialValues(fields, corrects),
    ...initial,
  }));
  const [errors, setErrors] = useState<Record<string, ReactNode>>({});
  const [formError, setFormError] = useState<ReactNode>(null);
  const refusal = useRefusal();
  const [conflict, setConflict] = useState<{ current: number } | null>(null);
  const [busy, setBusy] = useState(false);
  // The version this entry is made against: the case as it was when the form opened.
  const [expectedVersion, setExpectedVersion] = useState(context.version);
  const key = useRef(idempotencyKey());
  // Keyboard and screen-reader users land in the form that just opened.
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => {
    form.current?.querySelector<HTMLElement>('input, select')?.focus();
  }, []);

  const set = (name: string, value: unknown) => {
    setValues((v) => ({ ...v, [name]: value }));
    setErrors(({ [name]: _, ...rest }) => rest);
  };

  function check(): Record<string, ReactNode> {
    const found: Record<string, ReactNode> = {};
    for (const f of fields) {
      const v = values[f.name];
      if (f.required && (v === undefined || v === '' || v === null || (Array.isArray(v) && v.length === 0)))
        found[f.name] = t('form.required');
      if (f.kind === 'scores' && Array.isArray(v) && v.every((s) => s.score === ''))
        found[f.name] = t('form.scoresRequired');
    }
    return found;
  }

  // The server names the input field (`givenName` for `personalData.givenName`).
  const fieldNamed = (name: string) => fields.find((f) => f.name === name || f.name.endsWith(`.${name}`));

  function input(version: number): Record<string, unknown> {
    const body: Record<string, unknown> = {
      ...(spec.opens ? {} : { beneficiaryId: context.id, expectedVersion: version }),
      idempotencyKey: key.current,
      ...(corrects ? { corrects: corrects.id } : {}),
      ...fixed,
    };
    for (const f of fields) {
      const v = values[f.name];
      if (v === '' || v === undefined || v === null) continue;
      // `personalData.givenName` goes into the input's `personalData` object.
      const [outer, inner] = f.name.split('.');
      const target = inner ? ((body[outer] ??= {}) as Record<string, unknown>) : body;
      const name = inner ?? outer;
      if (f.kind === 'number') target[name] = Number(v);
      else if (f.kind === 'scores')
        target[name] = (v as { domain: string; score: string | number }[])
          .filter((s) => s.score !== '')
          .map((s) => ({ domain: s.domain, score: Number(s.score) }));
      else target[name] = typeof v === 'string' ? v.trim() : v;
    }
    if (spec.id === 'recordAssessment') body.frameworkVersion = 1;
    return body;
  }

  async function submit(version: number) {
    const found = check();
    setErrors(found);
    setFormError(null);
    if (Object.keys(found).length) return;
    if (confirm && !window.confirm(confirm)) return;
    setBusy(true);
    try {
      const result = await send(spec, input(version));
      key.current = idempotencyKey();
      await onDone(result);
    } catch (error) {
      if (error instanceof ApiError) {
        if (error.code === 'CONFLICT' && error.reason !== 'IDEMPOTENCY_KEY_REUSED') {
          setConflict({ current: error.currentVersion ?? version });
        } else if (error.code === 'VALIDATION' && error.field && fieldNamed(error.field)) {
          setErrors({ [fieldNamed(error.field)!.name]: refusal(error) });
        } else {
          if (error.reason === 'IDEMPOTENCY_KEY_REUSED') key.current = idempotencyKey();
          // A rule's refusal in the reader's language; other failures are said by their code.
          setFormError(
            error.code === 'VALIDATION' || error.code === 'CONFLICT' ? refusal(error) : t(`error.${error.code}`),
          );
        }
      } else if (error instanceof NetworkError) {
        setFormError(t('error.NETWORK'));
      } else {
        setFormError(String(error));
      }
    } finally {
      setBusy(false);
    }
  }

  async function reapply() {
    const current = refresh ? await refresh() : expectedVersion;
    setConflict(null);
    setExpectedVersion(current);
    // A new attempt on a newer record is a new change: a new idempotency key.
    key.current = idempotencyKey();
    await submit(current);
  }

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void submit(expectedVersion);
  };

  const title = corrects ? t('form.correcting', { what: t(`command.${spec.id}`) }) : t(`command.${spec.id}`);
  return (
    <form ref={form} className="command-form" onSubmit={onSubmit} aria-label={title} noValidate>
      <h3>{title}</h3>
      {fields.map((f) => (
        <FieldControl key={f.name} spec={f} value={values[f.name]} error={errors[f.name]} set={set} context={context} />
      ))}
      {formError && (
        <p className="form-error" role="alert">
          {formError}
        </p>
      )}
      {conflict && (
        <div className="conflict" role="alert">
          <h4>{t('conflict.title')}</h4>
          <p>{t('conflict.body', { version: conflict.current })}</p>
          <div className="actions">
            <button type="button" className="primary" onClick={() => void reapply()} disabled={busy}>
              {t('conflict.reapply')}
            </button>
            <button type="button" onClick={onCancel}>
              {t('conflict.discard')}
            </button>
          </div>
        </div>
      )}
      {!conflict && (
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? t('form.saving') : t('form.save')}
          </button>
          <button type="button" onClick={onCancel}>
            {t('form.cancel')}
          </button>
        </div>
      )}
    </form>
  );
}

function FieldControl({
  spec,
  value,
  error,
  set,
  context,
}: {
  spec: FieldSpec;
  value: unknown;
  error?: ReactNode;
  set: (name: string, value: unknown) => void;
  context: CaseContext;
}) {
  const { t } = useTranslation();
  const label = t(`field.${spec.name}`) + (spec.required ? ' *' : '');
  const str = (value ?? '') as string;
  const select = (options: { value: string; label: string }[]) => (
    <Field label={label} error={error}>
      {(control) => (
        <select {...control} name={spec.name} value={str} onChange={(e) => set(spec.name, e.target.value)}>
          <option value="">{t('form.choose')}</option>
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
  switch (spec.kind) {
    case 'date':
      return (
        <Field label={label} error={error}>
          {(control) => (
            <input
              {...control}
              type="date"
              name={spec.name}
              value={str}
              onChange={(e) => set(spec.name, e.target.value)}
            />
          )}
        </Field>
      );
    case 'text':
      return (
        <Field label={label} error={error}>
          {(control) => (
            <input {...control} name={spec.name} value={str} onChange={(e) => set(spec.name, e.target.value)} />
          )}
        </Field>
      );
    case 'number':
      return (
        <Field label={label} error={error}>
          {(control) => (
            <input
              {...control}
              type="number"
              name={spec.name}
              value={str}
              onChange={(e) => set(spec.name, e.target.value)}
            />
          )}
        </Field>
      );
    case 'enum':
      return select(ENUMS[spec.enum].map((v) => ({ value: v, label: t(`enum.${spec.enum}.${v}`) })));
    case 'enums':
      return (
        <CheckboxGroup
          legend={label}
          options={ENUMS[spec.enum] as readonly string[]}
          value={(value ?? []) as string[]}
          onChange={(v) => set(spec.name, v)}
          label={(v) => t(`enum.${spec.enum}.${v}`)}
          error={error}
        />
      );
    case 'goal':
      return select(
        context.goals.map((g) => ({
          value: g.id,
          label: `${t(`enum.ReintegrationDomain.${g.domain}`)} (${t(`enum.GoalState.${g.state}`)})`,
        })),
      );
    case 'service':
      return select(
        context.services.map((s) => ({
          value: s.id,
          label: `${t(`enum.ServiceType.${s.service}`)} (${t(`enum.ServiceState.${s.state}`)})`,
        })),
      );
    case 'organisation':
      return select(context.organisations.map((o) => ({ value: o.id, label: o.name })));
    case 'caseworker':
      return select(context.caseworkers.map((u) => ({ value: u.id, label: u.displayName })));
    case 'referral':
      return select(
        context.referrals
          .filter((r) => !r.accepted)
          .map((r) => ({
            value: r.id,
            label: context.organisations.find((o) => o.id === r.toOrganisationId)?.name ?? r.id,
          })),
      );
    case 'scores': {
      const scores = (value ?? []) as { domain: string; score: string | number }[];
      return (
        <fieldset className={error ? 'field field-invalid scores' : 'field scores'}>
          <legend>{label}</legend>
          {scores.map((s, i) => (
            <Field key={s.domain} label={t(`enum.ReintegrationDomain.${s.domain}`)}>
              {(control) => (
                <select
                  {...control}
                  value={String(s.score)}
                  onChange={(e) =>
                    set(
                      spec.name,
                      scores.map((x, j) => (j === i ? { ...x, score: e.target.value } : x)),
                    )
                  }
                >
                  <option value="">{t('form.notAssessed')}</option>
                  {[1, 2, 3, 4, 5].map((n) => (
                    <option key={n} value={n}>
                      {n}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          ))}
          {error && (
            <span className="field-error" role="alert">
              {error}
            </span>
          )}
        </fieldset>
      );
    }
  }
}
