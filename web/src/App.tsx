// The shell: who is signed in decides what is offered; each page is one route.
import { lazy, Suspense, useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Navigate, NavLink, Route, Routes, useLocation } from 'react-router-dom';
import { LanguageSelect } from './i18n/LanguageSelect';
import { can, useSession } from './session';
import { SignIn } from './pages/SignIn';
import { Caseload } from './pages/Caseload';
import { Register } from './pages/Register';
import { BeneficiaryPage } from './pages/Beneficiary';
import { NotFound } from './pages/NotFound';
import { OutboxBadge, OutboxPage, useSyncWhenOnline } from './components/Outbox';

const Evaluation = lazy(() => import('./pages/Evaluation'));
const Administration = lazy(() => import('./pages/Administration'));
const GraphiQLPage = lazy(() => import('./pages/GraphiQL'));

export function App() {
  const { t } = useTranslation();
  const { me } = useSession();
  const location = useLocation();
  // A new page takes the focus to its content (as a page load would), not left on the link.
  useEffect(() => {
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [location.pathname]);
  // GraphiQL is for integrators too, who sign in with a token in its headers, not here.
  if (location.pathname === '/graphiql') {
    return (
      <Suspense fallback={<p aria-busy="true">{t('app.loading')}</p>}>
        <main id="main" className="graphiql-main">
          <h1 className="visually-hidden">GraphiQL</h1>
          <GraphiQLPage />
        </main>
      </Suspense>
    );
  }
  if (me === undefined) {
    return (
      <main className="loading" aria-busy="true">
        {t('app.loading')}
      </main>
    );
  }
  if (me === null) {
    if (location.pathname !== '/sign-in') return <Navigate to="/sign-in" replace state={{ from: location.pathname }} />;
    return <SignIn />;
  }
  const home = can(me, 'record') ? '/' : can(me, 'evaluate') ? '/evaluation' : '/administration';
  return (
    <>
      <a className="skip" href="#main">
        {t('app.skip')}
      </a>
      <Header />
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p aria-busy="true">{t('app.loading')}</p>}>
          <Routes>
            <Route path="/sign-in" element={<Navigate to={home} replace />} />
            <Route path="/" element={can(me, 'record') ? <Caseload /> : <Navigate to={home} replace />} />
            <Route path="/register" element={<Register />} />
            <Route path="/cases/:id" element={<BeneficiaryPage />} />
            <Route path="/outbox" element={<OutboxPage />} />
            <Route path="/evaluation" element={<Evaluation />} />
            <Route path="/administration" element={<Administration />} />
            <Route path="*" element={<NotFound />} />
          </Routes>
        </Suspense>
      </main>
    </>
  );
}

function Header() {
  const { t } = useTranslation();
  const { me, signOut } = useSession();
  useSyncWhenOnline();
  if (!me) return null;
  return (
    <header className="app-header">
      <Link to="/" className="brand">
        Roadback
      </Link>
      <nav aria-label={t('app.navigation')}>
        <ul>
          {can(me, 'record') && (
            <li>
              <NavLink to="/" end>
                {t('nav.caseload')}
              </NavLink>
            </li>
          )}
          {can(me, 'record') && (
            <li>
              <NavLink to="/register">{t('nav.register')}</NavLink>
            </li>
          )}
          {can(me, 'evaluate') && (
            <li>
              <NavLink to="/evaluation">{t('nav.evaluation')}</NavLink>
            </li>
          )}
          {(can(me, 'administer') || can(me, 'supervise')) && (
            <li>
              <NavLink to="/administration">{t('nav.administration')}</NavLink>
            </li>
          )}
        </ul>
      </nav>
      <div className="who">
        <OutboxBadge />
        <span>
          {me.user.displayName} · {t(`enum.Role.${me.user.role}`)}
          {me.organisation && ` · ${me.organisation.name}`}
        </span>
        <LanguageSelect userId={me.user.id} />
        <button type="button" onClick={() => void signOut()}>
          {t('app.signOut')}
        </button>
      </div>
    </header>
  );
}
