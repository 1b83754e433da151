// Every interface string comes from a catalogue; a key missing from one is reported (tests fail
// on it) and shown in English rather than as its key.
import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import en from './en.json';
import sq from './sq.json';
import sr from './sr.json';
import mk from './mk.json';

export const LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'sq', name: 'Shqip' },
  { code: 'sr', name: 'Српски' },
  { code: 'mk', name: 'Македонски' },
] as const;
export type Language = (typeof LANGUAGES)[number]['code'];
export const CATALOGUES = { en, sq, sr, mk } as const;

declare global {
  interface Window {
    /** Keys asked for but missing from the language in use (read by the browser tests). */
    __roadbackMissing?: string[];
  }
}

const STORED = 'roadback.language';

function isLanguage(value: string | null | undefined): value is Language {
  return LANGUAGES.some((l) => l.code === value);
}

/** The language to start in: the last one chosen on this browser, else the browser's own. */
function initial(): Language {
  const stored = localStorage.getItem(STORED);
  if (isLanguage(stored)) return stored;
  const preferred = navigator.languages?.map((l) => l.slice(0, 2)).find(isLanguage);
  return preferred ?? 'en';
}

void i18n.use(initReactI18next).init({
  resources: Object.fromEntries(Object.entries(CATALOGUES).map(([code, strings]) => [code, { translation: strings }])),
  lng: initial(),
  fallbackLng: 'en',
  interpolation: { escapeValue: false },
  returnNull: false,
  saveMissing: true,
  missingKeyHandler: (languages, _namespace, key) => {
    const missing = (window.__roadbackMissing ??= []);
    missing.push(`${languages.join(',')}:${key}`);
    console.error(`untranslated: ${key} (${languages.join(',')})`);
  },
});
document.documentElement.lang = i18n.language;
i18n.on('languageChanged', (lng) => {
  document.documentElement.lang = lng;
});

/** Switches the language and remembers it for this user (and, before sign-in, this browser). */
export async function setLanguage(language: Language, userId?: string): Promise<void> {
  localStorage.setItem(STORED, language);
  if (userId) localStorage.setItem(`${STORED}.${userId}`, language);
  await i18n.changeLanguage(language);
}

/** After sign-in: the language this user chose last time, if any. */
export async function restoreLanguage(userId: string): Promise<void> {
  const chosen = localStorage.getItem(`${STORED}.${userId}`);
  if (isLanguage(chosen) && chosen !== i18n.language) await setLanguage(chosen, userId);
}

const locale = () => i18n.language;

/** A calendar day (YYYY-MM-DD) in the user's language. */
export function formatDay(day: string | null | undefined): string {
  if (!day) return '—';
  const [y, m, d] = day.split('-').map(Number);
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeZone: 'UTC' }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
}

/** A moment (RFC 3339) in the user's language and time zone. */
export function formatMoment(moment: string | null | undefined): string {
  if (!moment) return '—';
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(moment));
}

/** A number in the user's language. */
export function formatNumber(value: number | null | undefined, digits = 0): string {
  if (value == null || Number.isNaN(value)) return '—';
  return new Intl.NumberFormat(locale(), {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  }).format(value);
}

/** A share (0..1) as a percentage. */
export function formatShare(value: number | null | undefined): string {
  if (value == null) return '—';
  return new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 1 }).format(value);
}

export default i18n;
