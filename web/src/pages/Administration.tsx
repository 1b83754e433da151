// The organisation's people and keys: users (administrators add them), API tokens (issued,
// shown once, revoked), and the access log: who read which record, and why.
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { graphql } from '../gql';
import type { AdministrationQuery, Role, Scope } from '../gql/graphql';
import { request } from '../api/client';
import { CheckboxGroup, Field } from '../components/Field';
import { useSimpleForm } from '../components/SimpleForm';
import { useApiError } from '../components/useApiError';
import { formatMoment } from '../i18n';
import { can, useMe } from '../session';
import { ROLES } from '../vocabulary';
import { AccessLog } from './AccessLog';

const Administration = graphql(`
  query Administration {
    users {
      id
      email
      displayName
      role
      active
    }
  }
`);
const Tokens = graphql(`
  query Tokens {
    apiTokens {
      id
      userId
      name
      scopes
      createdAt
      expiresAt
      revokedAt
    }
  }
`);
const CreateUser = graphql(`
  mutation CreateUser($input: CreateUserInput!) {
    createUser(input: $input) {
      id
    }
  }
`);
const IssueToken = graphql(`
  mutation IssueToken($input: IssueApiTokenInput!) {
    issueApiToken(input: $input) {
      secret
      token {
        id
      }
    }
  }
`);
const RevokeToken = graphql(`
  mutation RevokeToken($id: UUID!) {
    revokeApiToken(id: $id)
  }
`);

type Users = AdministrationQuery['users'];
const SCOPES: Scope[] = ['READ', 'WRITE', 'PERSONAL_DATA'];

export default function AdministrationPage() {
  const { t } = useTranslation();
  const me = useMe();
  const [users, setUsers] = useState<Users>([]);
  const [error, showError] = useApiError();
  const load = useCallback(() => {
    request(Administration)
      .then((d) => setUsers(d.users))
      .catch(showError);
  }, [showError]);
  useEffect(load, [load]);
  const admin = can(me, 'administer');
  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">{t('nav.administration')}</h1>
      {error}
      <h2>{t('admin.users')}</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">{t('admin.name')}</th>
            <th scope="col">{t('admin.email')}</th>
            <th scope="col">{t('admin.role')}</th>
            <th scope="col">{t('admin.active')}</th>
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.id}>
              <td>{u.displayName}</td>
              <td>{u.email}</td>
              <td>{t(`enum.Role.${u.role}`)}</td>
              <td>{u.active ? t('admin.yes') : t('admin.no')}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {admin && <AddUser onAdded={load} />}
      {admin && <TokensSection users={users} />}
      <h2>{t('admin.accessLog')}</h2>
      <AccessLog users={users} />
      <p>
        <Link to="/graphiql">{t('admin.graphiql')}</Link>
      </p>
    </section>
  );
}

function AddUser({ onAdded }: { onAdded: () => void }) {
  const { t } = useTranslation();
  const [v, setV] = useState({ email: '', displayName: '', role: 'CASEWORKER' as Role, password: '' });
  const [done, setDone] = useState<string | null>(null);
  const form = useSimpleForm(
    () =>
      request(CreateUser, {
        input: { email: v.email.trim(), displayName: v.displayName.trim(), role: v.role, password: v.password || null },
      }),
    ['email', 'displayName', 'role', 'password'],
  );
  return (
    <form
      className="command-form"
      aria-labelledby="add-user"
      onSubmit={async (e) => {
        const made = await form.onSubmit(e);
        if (made) {
          setDone(t('admin.added', { name: v.displayName }));
          setV({ email: '', displayName: '', role: 'CASEWORKER', password: '' });
          onAdded();
        }
      }}
    >
      <h3 id="add-user">{t('admin.addUser')}</h3>
      <Field label={t('admin.email')} error={form.errors.email}>
        {(c) => <input {...c} type="email" value={v.email} onChange={(e) => setV({ ...v, email: e.target.value })} />}
      </Field>
      <Field label={t('admin.name')} error={form.errors.displayName}>
        {(c) => <input {...c} value={v.displayName} onChange={(e) => setV({ ...v, displayName: e.target.value })} />}
      </Field>
      <Field label={t('admin.role')} error={form.errors.role}>
        {(c) => (
          <select {...c} value={v.role} onChange={(e) => setV({ ...v, role: e.target.value as Role })}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {t(`enum.Role.${r}`)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label={t('admin.password')} hint={t('admin.passwordHint')} error={form.errors.password}>
        {(c) => (
          <input
            {...c}
            type="password"
            autoComplete="new-password"
            value={v.password}
            onChange={(e) => setV({ ...v, password: e.target.value })}
          />
        )}
      </Field>
      {form.problem}
      {done && <p role="status">{done}</p>}
      <button type="submit" className="primary" disabled={form.busy}>
        {t('admin.addUser')}
      </button>
    </form>
  );
}

function TokensSection({ users }: { users: Users }) {
  const { t } = useTranslation();
  const me = useMe();
  const [tokens, setTokens] = useState<
    {
      id: string;
      userId: string;
      name: string;
      scopes: Scope[];
      createdAt: string;
      expiresAt?: string | null;
      revokedAt?: string | null;
    }[]
  >([]);
  const [v, setV] = useState({ userId: me.user.id, name: '', scopes: ['READ'] as Scope[], expiresInDays: '90' });
  const [secret, setSecret] = useState<string | null>(null);
  const [error, showError] = useApiError();
  const load = useCallback(() => {
    request(Tokens)
      .then((d) => setTokens(d.apiTokens))
      .catch(showError);
  }, [showError]);
  useEffect(load, [load]);
  const form = useSimpleForm(
    () =>
      request(IssueToken, {
        input: {
          userId: v.userId,
          name: v.name.trim(),
          scopes: v.scopes,
          expiresInDays: v.expiresInDays ? Number(v.expiresInDays) : null,
        },
      }),
    ['userId', 'name', 'scopes', 'expiresInDays'],
  );
  const holders = users.filter((u) => u.id === me.user.id || u.role === 'INTEGRATOR');
  const who = (id: string) => users.find((u) => u.id === id)?.displayName ?? '—';
  return (
    <>
      <h2>{t('admin.tokens')}</h2>
      {error}
      <table>
        <thead>
          <tr>
            <th scope="col">{t('admin.tokenName')}</th>
            <th scope="col">{t('admin.holder')}</th>
            <th scope="col">{t('admin.scopes')}</th>
            <th scope="col">{t('admin.issued')}</th>
            <th scope="col">{t('admin.expires')}</th>
            <th scope="col">
              <span className="visually-hidden">{t('admin.revoke')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {tokens.map((k) => (
            <tr key={k.id}>
              <td>{k.name}</td>
              <td>{who(k.userId)}</td>
              <td>{k.scopes.map((s) => t(`admin.scope.${s}`)).join(', ')}</td>
              <td>{formatMoment(k.createdAt)}</td>
              <td>{k.expiresAt ? formatMoment(k.expiresAt) : t('admin.never')}</td>
              <td>
                {k.revokedAt ? (
                  t('admin.revokedOn', { when: formatMoment(k.revokedAt) })
                ) : (
                  <button
                    type="button"
                    onClick={() => {
                      if (window.confirm(t('admin.revokeConfirm', { name: k.name })))
                        void request(RevokeToken, { id: k.id }).then(load, showError);
                    }}
                  >
                    {t('admin.revoke')} <span className="visually-hidden">{k.name}</span>
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        className="command-form"
        aria-labelledby="issue-token"
        onSubmit={async (e) => {
          const issued = await form.onSubmit(e);
          if (issued) {
            setSecret(issued.issueApiToken.secret);
            load();
          }
        }}
      >
        <h3 id="issue-token">{t('admin.issueToken')}</h3>
        <Field label={t('admin.holder')} error={form.errors.userId}>
          {(c) => (
            <select {...c} value={v.userId} onChange={(e) => setV({ ...v, userId: e.target.value })}>
              {holders.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.displayName} ({t(`enum.Role.${u.role}`)})
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('admin.tokenName')} error={form.errors.name}>
          {(c) => <input {...c} value={v.name} onChange={(e) => setV({ ...v, name: e.target.value })} />}
        </Field>
        <CheckboxGroup
          legend={t('admin.scopes')}
          options={SCOPES}
          value={v.scopes}
          onChange={(scopes) => setV({ ...v, scopes })}
          label={(s) => t(`admin.scope.${s}`)}
          error={form.errors.scopes}
        />
        <Field label={t('admin.expiresInDays')} error={form.errors.expiresInDays}>
          {(c) => (
            <input
              {...c}
              type="number"
              min={1}
              value={v.expiresInDays}
              onChange={(e) => setV({ ...v, expiresInDays: e.target.value })}
            />
          )}
        </Field>
        {form.problem}
        {secret && (
          <div className="notice" role="status">
            <p>{t('admin.secretOnce')}</p>
            <code className="secret">{secret}</code>
          </div>
        )}
        <button type="submit" className="primary" disabled={form.busy}>
          {t('admin.issueToken')}
        </button>
      </form>
    </>
  );
}
