import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api/client';
import { Field } from '../components/Field';
import { LanguageSelect } from '../i18n/LanguageSelect';
import { useSession } from '../session';

export function SignIn() {
  const { t } = useTranslation();
  const { signIn } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(email.trim(), password);
    } catch (err) {
      setError(
        err instanceof ApiError && err.code !== 'INTERNAL'
          ? err.code === 'UNAUTHENTICATED' || err.code === 'VALIDATION'
            ? t('signIn.failed')
            : t(`error.${err.code}`)
          : t('error.NETWORK'),
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" className="sign-in">
      <form onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">{t('signIn.title')}</h1>
        <p>{t('signIn.intro')}</p>
        <Field label={t('signIn.email')}>
          {(c) => (
            <input
              {...c}
              type="email"
              autoComplete="username"
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              required
            />
          )}
        </Field>
        <Field label={t('signIn.password')}>
          {(c) => (
            <input
              {...c}
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              required
            />
          )}
        </Field>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {t('signIn.submit')}
        </button>
        <LanguageSelect showLabel />
      </form>
    </main>
  );
}
