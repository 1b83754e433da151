// Cases a caseworker keeps for a visit: the case page's data as last read, sealed in the offline
// vault, refreshed on each online read, readable without a connection.
import { useEffect, useState } from 'react';
import { seal, sealedNames, unseal, unsealRemove } from './vault';

export type Kept<T> = { keptAt: string; data: T };
const PREFIX = 'case:';
const listeners = new Set<() => void>();
const changed = () => listeners.forEach((l) => l());

export async function keep<T>(id: string, data: T): Promise<void> {
  await seal(`${PREFIX}${id}`, { keptAt: new Date().toISOString(), data } satisfies Kept<T>);
  changed();
}

export async function kept<T>(id: string): Promise<Kept<T> | undefined> {
  return unseal<Kept<T>>(`${PREFIX}${id}`);
}

export async function release(id: string): Promise<void> {
  await unsealRemove(`${PREFIX}${id}`);
  changed();
}

export async function keptCases<T>(): Promise<Kept<T>[]> {
  const names = await sealedNames(PREFIX);
  return (await Promise.all(names.map((n) => unseal<Kept<T>>(n)))).filter((k): k is Kept<T> => Boolean(k));
}

export function onKeptChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Whether the browser says it is connected, kept current. */
export function useOnline(): boolean {
  const [online, setOnline] = useState(navigator.onLine);
  useEffect(() => {
    const on = () => setOnline(true);
    const off = () => setOnline(false);
    window.addEventListener('online', on);
    window.addEventListener('offline', off);
    return () => {
      window.removeEventListener('online', on);
      window.removeEventListener('offline', off);
    };
  }, []);
  return online;
}
