import { useTranslation } from 'react-i18next';

// The evaluation dashboard (curves, results, locks, exports) lands in the next part of this issue.
export default function Evaluation() {
  const { t } = useTranslation();
  return (
    <section>
      <h1>{t('nav.evaluation')}</h1>
    </section>
  );
}
