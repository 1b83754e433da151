// Research exports at the dashboard's cut-offs: the file and its codebook, downloaded together.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { graphql } from '../../gql';
import type { Censoring, EvaluationExportQuery, ExportFormat, Origin } from '../../gql/graphql';
import { request } from '../../api/client';
import { useApiError } from '../../components/useApiError';
import { formatNumber } from '../../i18n';

const ExportDoc = graphql(`
  query EvaluationExport($format: ExportFormat!, $cutOff: CutOffInput, $origin: Origin!, $censoring: Censoring!) {
    evaluationExport(format: $format, cutOff: $cutOff, origin: $origin, censoring: $censoring) {
      format
      fileName
      rows
      digest
      csv
      codebookCsv
      codebook {
        name
        label
        type
        values {
          code
          meaning
        }
      }
    }
  }
`);

type File = EvaluationExportQuery['evaluationExport'];
const FORMATS: ExportFormat[] = ['WIDE', 'LONG', 'ADTTE'];

function useBlobUrl(text: string | undefined): string | undefined {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    if (text === undefined) return;
    const made = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
    setUrl(made);
    return () => URL.revokeObjectURL(made);
  }, [text]);
  return url;
}

export function Exports({
  cutOff,
  origin,
  censoring,
}: {
  cutOff: { validOn: string; recordedAt: string };
  origin: Origin;
  censoring: Censoring;
}) {
  const { t } = useTranslation();
  const [format, setFormat] = useState<ExportFormat>('WIDE');
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, showError] = useApiError();
  const data = useBlobUrl(file?.csv);
  const codebook = useBlobUrl(file?.codebookCsv);
  const prepare = async () => {
    setBusy(true);
    setFile(null);
    try {
      const d = await request(ExportDoc, { format, cutOff, origin, censoring });
      setFile(d.evaluationExport);
      showError(null);
    } catch (e) {
      showError(e);
    } finally {
      setBusy(false);
    }
  };
  const codebookName = file?.fileName.replace(/\.csv$/, '.codebook.csv');
  return (
    <>
      <h2>{t('evaluation.exports')}</h2>
      <p className="hint">{t('evaluation.exportsIntro')}</p>
      <div className="filters">
        <label>
          {t('evaluation.format')}
          <select value={format} onChange={(e) => setFormat(e.target.value as ExportFormat)}>
            {FORMATS.map((f) => (
              <option key={f} value={f}>
                {t(`evaluation.formatValue.${f}`)}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="primary" onClick={() => void prepare()} disabled={busy}>
          {busy ? t('evaluation.computing') : t('evaluation.prepare')}
        </button>
      </div>
      {error}
      {file && data && codebook && (
        <div className="export">
          <p role="status">
            {t('evaluation.exportReady', { rows: formatNumber(file.rows), digest: file.digest.slice(0, 16) })}
          </p>
          <p className="actions">
            <a className="button primary" href={data} download={file.fileName}>
              {t('evaluation.download', { file: file.fileName })}
            </a>
            <a className="button" href={codebook} download={codebookName}>
              {t('evaluation.download', { file: codebookName })}
            </a>
          </p>
          <details>
            <summary>{t('evaluation.codebook')}</summary>
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('evaluation.variable')}</th>
                  <th scope="col">{t('evaluation.label')}</th>
                  <th scope="col">{t('evaluation.type')}</th>
                  <th scope="col">{t('evaluation.values')}</th>
                </tr>
              </thead>
              <tbody>
                {file.codebook.map((v) => (
                  <tr key={v.name}>
                    <td>
                      <code>{v.name}</code>
                    </td>
                    <td>{v.label}</td>
                    <td>{v.type}</td>
                    <td>{v.values.map((x) => `${x.code} = ${x.meaning}`).join('; ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </div>
      )}
    </>
  );
}
