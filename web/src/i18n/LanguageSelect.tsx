// The language switch: every language by its own name; the choice kept for this person.
import { useTranslation } from 'react-i18next';
import { LANGUAGES, setLanguage, type Language } from '.';

export function LanguageSelect({ userId, showLabel }: { userId?: string; showLabel?: boolean }) {
  const { t, i18n } = useTranslation();
  return (
    <label className="language">
      <span className={showLabel ? undefined : 'visually-hidden'}>{t('app.language')}</span>{' '}
      <select value={i18n.language} onChange={(e) => void setLanguage(e.target.value as Language, userId)}>
        {LANGUAGES.map((l) => (
          <option key={l.code} value={l.code} lang={l.code}>
            {l.name}
          </option>
        ))}
      </select>
    </label>
  );
}
