// A refusal from the server in the reader's language. The server words its reasons in English
// (stable codes beside them): in English its own sentence is shown; in another language the
// code's sentence from the catalogue, with the server's specific wording after it, marked as
// English for screen readers.
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

export type Refused = { code: string; reason?: string; message: string };

export function useRefusal(): (refused: Refused) => ReactNode {
  const { t, i18n } = useTranslation();
  return (refused) => {
    if (i18n.language === 'en') return refused.message;
    const general =
      refused.code === 'VALIDATION'
        ? t(refused.reason && i18n.exists(`rule.${refused.reason}`) ? `rule.${refused.reason}` : 'rule.OTHER')
        : t(`error.${refused.code}`);
    return (
      <>
        {general}{' '}
        <span lang="en" className="server-detail">
          {t('rule.detail')} {refused.message}
        </span>
      </>
    );
  };
}
