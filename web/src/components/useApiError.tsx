// A failed read shown the same way everywhere: the sentence for its code, announced.
import { useCallback, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, NetworkError } from '../api/client';
import { useRefusal } from './Refusal';

export function errorText(t: (key: string) => string, error: unknown): string {
  if (error instanceof ApiError) {
    return error.code === 'VALIDATION' ? error.message : t(`error.${error.code}`);
  }
  if (error instanceof NetworkError) return t('error.NETWORK');
  return t('error.INTERNAL');
}

export function useApiError(): [ReactNode, (error: unknown) => void] {
  const { t } = useTranslation();
  const refusal = useRefusal();
  const [error, setError] = useState<unknown>(null);
  const show = useCallback((e: unknown) => setError(e), []);
  const node = error ? (
    <p className="form-error" role="alert">
      {error instanceof ApiError && error.code === 'VALIDATION' ? refusal(error) : errorText(t, error)}
    </p>
  ) : null;
  return [node, show];
}
