import { useTranslation } from 'react-i18next';

export default function Administration() {
  const { t } = useTranslation();
  return (
    <section>
      <h1>{t('nav.administration')}</h1>
    </section>
  );
}
