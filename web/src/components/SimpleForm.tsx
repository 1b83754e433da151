// A form outside a case (users, tokens): labelled fields, the server's refusal beside the field it
// names, everything else as one sentence above the buttons.
import { useState, type FormEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api/client';
import { errorText } from './useApiError';
import { useRefusal } from './Refusal';

export function useSimpleForm<T>(submit: () => Promise<T>, fields: string[]) {
  const { t } = useTranslation();
  const [errors, setErrors] = useState<Record<string, ReactNode>>({});
  const refusal = useRefusal();
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const onSubmit = async (e: FormEvent): Promise<T | undefined> => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setFormError(null);
    try {
      return await submit();
    } catch (error) {
      if (error instanceof ApiError && error.field && fields.includes(error.field))
        setErrors({ [error.field]: refusal(error) });
      else setFormError(errorText(t, error));
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  const problem: ReactNode = formError && (
    <p className="form-error" role="alert">
      {formError}
    </p>
  );
  return { errors, onSubmit, busy, problem };
}
