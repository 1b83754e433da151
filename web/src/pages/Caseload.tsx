// The caseload: the cases the signed-in person may see, filtered; overdue reviews and recent
// activity at a glance; people assisted in their own right told apart from family members.
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { graphql } from '../gql';
import type { BeneficiaryFilter, CaseloadPageQuery, Status } from '../gql/graphql';
import { NetworkError, request, subscribe } from '../api/client';
import { formatDay, formatMoment, formatNumber } from '../i18n';
import { keptCases, onKeptChange } from '../offline/kept';
import { useMe } from '../session';
import { STATUSES } from '../vocabulary';
import { useApiError } from '../components/useApiError';
import { useLatest } from '../components/useLatest';

const CaseloadPage = graphql(`
  query CaseloadPage($first: Int!, $after: String, $filter: BeneficiaryFilter) {
    caseload {
      openCases
      overdueReviews
      caseworkers {
        caseworkerId
        caseworkerName
        openCases
        closedCases
      }
    }
    beneficiaries(first: $first, after: $after, filter: $filter) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          caseCode
          organisationId
          status
          closed
          nextReviewOn
          reviewOverdue
          erased
          registration {
            primary
            relationship
            primaryBeneficiaryId
          }
          plan {
            lastActivityOn
            caseworkerName
          }
        }
      }
    }
  }
`);

const CaseloadChanged = graphql(`
  subscription CaseloadChanged {
    caseload {
      beneficiaryId
    }
  }
`);

type Row = CaseloadPageQuery['beneficiaries']['edges'][number]['node'];
const PAGE = 25;

export function Caseload() {
  const { t } = useTranslation();
  const me = useMe();
  const [filter, setFilter] = useState<{
    status: '' | Status;
    overdue: boolean;
    closed: '' | 'open' | 'closed';
    mine: boolean;
    code: string;
  }>({
    status: '',
    overdue: false,
    closed: 'open',
    mine: me.user.role === 'CASEWORKER',
    code: '',
  });
  const [rows, setRows] = useState<Row[]>([]);
  const [page, setPage] = useState<{ total: number; next: string | null; open: number; overdue: number } | null>(null);
  const [loads, setLoads] = useState<CaseloadPageQuery['caseload']['caseworkers']>([]);
  const [loading, setLoading] = useState(true);
  const [error, showError] = useApiError();
  const [offline, setOffline] = useState(false);
  const [keptList, setKeptList] = useState<{ id: string; caseCode: string; keptAt: string }[]>([]);

  useEffect(() => {
    const read = () =>
      void keptCases<{ beneficiary: { id: string; caseCode: string } }>()
        .then((all) =>
          setKeptList(
            all.map((k) => ({ id: k.data.beneficiary.id, caseCode: k.data.beneficiary.caseCode, keptAt: k.keptAt })),
          ),
        )
        .catch(() => setKeptList([]));
    read();
    return onKeptChange(read);
  }, []);

  const begin = useLatest();
  // The case code is looked up once typing pauses, not at every key.
  const [code, setCode] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => setFilter((f) => (f.code === code ? f : { ...f, code })), 300);
    return () => clearTimeout(timer);
  }, [code]);

  const load = useCallback(
    async (after: string | null) => {
      const current = begin();
      const f: BeneficiaryFilter = {};
      if (filter.status) f.status = filter.status;
      if (filter.overdue) f.reviewOverdue = true;
      if (filter.closed) f.closed = filter.closed === 'closed';
      if (filter.mine) f.caseworkerId = me.user.id;
      if (filter.code.trim()) f.caseCode = filter.code.trim();
      setLoading(true);
      try {
        const data = await request(CaseloadPage, { first: PAGE, after, filter: f });
        if (!current()) return;
        const nodes = data.beneficiaries.edges.map((e) => e.node);
        setLoads(data.caseload.caseworkers);
        setRows((old) => (after ? [...old, ...nodes] : nodes));
        setPage({
          total: data.beneficiaries.totalCount,
          next: data.beneficiaries.pageInfo.hasNextPage ? (data.beneficiaries.pageInfo.endCursor ?? null) : null,
          open: data.caseload.openCases,
          overdue: data.caseload.overdueReviews,
        });
        showError(null);
        setOffline(false);
      } catch (e) {
        if (!current()) return;
        if (e instanceof NetworkError) setOffline(true);
        else showError(e);
      } finally {
        if (current()) setLoading(false);
      }
    },
    [filter, me.user.id, showError, begin],
  );

  useEffect(() => {
    void load(null);
  }, [load]);

  // Someone recorded on a case of this caseload: the first page is read again.
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = subscribe(CaseloadChanged, {}, () => {
      clearTimeout(timer);
      timer = setTimeout(() => void load(null), 500);
    });
    return () => {
      clearTimeout(timer);
      stop();
    };
  }, [load]);

  return (
    <section aria-labelledby="caseload-title">
      <div className="page-title">
        <h1 id="caseload-title">{t('caseload.title')}</h1>
        <Link className="button primary" to="/register">
          {t('caseload.register')}
        </Link>
      </div>
      {page && (
        <p className="summary">
          {t('caseload.summary', { open: formatNumber(page.open), overdue: formatNumber(page.overdue) })}
        </p>
      )}
      {offline && (
        <p className="notice offline" role="status">
          {t('offline.caseloadOffline')}
        </p>
      )}
      {keptList.length > 0 && (
        <section className="kept" aria-labelledby="kept-title">
          <h2 id="kept-title">{t('offline.keptTitle')}</h2>
          <ul>
            {keptList.map((k) => (
              <li key={k.id}>
                <Link to={`/cases/${k.id}`}>{k.caseCode}</Link> ·{' '}
                {t('offline.keptAt', { when: formatMoment(k.keptAt) })}
              </li>
            ))}
          </ul>
        </section>
      )}
      {me.user.role === 'SUPERVISOR' && loads.length > 0 && (
        <details className="loads">
          <summary>{t('caseload.loads')}</summary>
          <table>
            <thead>
              <tr>
                <th scope="col">{t('caseload.caseworker')}</th>
                <th scope="col">{t('caseload.openCount')}</th>
                <th scope="col">{t('caseload.closedCount')}</th>
              </tr>
            </thead>
            <tbody>
              {loads.map((l) => (
                <tr key={l.caseworkerId}>
                  <td>{l.caseworkerName ?? '—'}</td>
                  <td>{formatNumber(l.openCases)}</td>
                  <td>{formatNumber(l.closedCases)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
      <form className="filters" role="search" aria-label={t('caseload.filters')} onSubmit={(e) => e.preventDefault()}>
        <label>
          {t('caseload.caseCode')}
          <input type="search" value={code} onChange={(e) => setCode(e.target.value)} />
        </label>
        <label>
          {t('field.status')}
          <select
            value={filter.status}
            onChange={(e) => setFilter({ ...filter, status: e.target.value as Status | '' })}
          >
            <option value="">{t('caseload.anyStatus')}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`enum.Status.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('caseload.cases')}
          <select
            value={filter.closed}
            onChange={(e) => setFilter({ ...filter, closed: e.target.value as '' | 'open' | 'closed' })}
          >
            <option value="open">{t('caseload.openOnly')}</option>
            <option value="closed">{t('caseload.closedOnly')}</option>
            <option value="">{t('caseload.openAndClosed')}</option>
          </select>
        </label>
        <label className="checkbox">
          <input
            type="checkbox"
            checked={filter.overdue}
            onChange={(e) => setFilter({ ...filter, overdue: e.target.checked })}
          />
          {t('caseload.overdueOnly')}
        </label>
        <label className="checkbox">
          <input
            type="checkbox"
            checked={filter.mine}
            onChange={(e) => setFilter({ ...filter, mine: e.target.checked })}
          />
          {t('caseload.mine')}
        </label>
      </form>
      {error}
      <table className="cases">
        <caption className="visually-hidden">{t('caseload.title')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('caseload.caseCode')}</th>
            <th scope="col">{t('caseload.person')}</th>
            <th scope="col">{t('field.status')}</th>
            <th scope="col">{t('caseload.nextReview')}</th>
            <th scope="col">{t('caseload.lastActivity')}</th>
            <th scope="col">{t('caseload.caseworker')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id} className={row.reviewOverdue ? 'overdue' : undefined}>
              <td>
                <Link to={`/cases/${row.id}`}>{row.caseCode}</Link>
              </td>
              <td>
                {row.registration?.primary === false ? (
                  <span className="tag family">
                    {t('caseload.familyMember')}
                    {row.registration.relationship && ` · ${t(`enum.Relationship.${row.registration.relationship}`)}`}
                  </span>
                ) : (
                  <span className="tag primary">{t('caseload.primary')}</span>
                )}
                {row.organisationId !== me.user.organisationId && (
                  <span className="tag">{t('caseload.referredIn')}</span>
                )}
              </td>
              <td>
                {t(`enum.Status.${row.status}`)}
                {row.closed && <span className="tag">{t('case.closed')}</span>}
              </td>
              <td>
                {formatDay(row.nextReviewOn)}
                {row.reviewOverdue && <span className="tag warning">{t('caseload.overdue')}</span>}
              </td>
              <td>{formatDay(row.plan?.lastActivityOn)}</td>
              <td>{row.plan?.caseworkerName ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {!loading && rows.length === 0 && <p>{t('caseload.none')}</p>}
      {page && (
        <p className="summary" aria-live="polite">
          {t('caseload.showing', { shown: formatNumber(rows.length), total: formatNumber(page.total) })}
        </p>
      )}
      {page?.next && (
        <button type="button" onClick={() => void load(page.next)} disabled={loading}>
          {t('caseload.more')}
        </button>
      )}
    </section>
  );
}
