// What the client keeps for offline field work lives in IndexedDB, encrypted (AES-GCM) with a key
// made at first use after sign-in. The key is a non-extractable CryptoKey: scripts can use it
// but not read it out. Signing out deletes the key and everything it encrypted.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';

interface OfflineSchema extends DBSchema {
  /** The one key (`current`). */
  keys: { key: string; value: CryptoKey };
  /** Encrypted records: cases kept for a visit, queued commands. */
  sealed: { key: string; value: { iv: Uint8Array; data: ArrayBuffer } };
}

const NAME = 'roadback-offline';

/**
 * Whether this browser can keep anything: the Web Crypto API exists only in a secure context
 * (HTTPS, or the machine itself), and without it nothing is kept, rather than kept in clear.
 */
export const CAN_KEEP = Boolean(globalThis.crypto?.subtle);
let db: Promise<IDBPDatabase<OfflineSchema>> | null = null;

function open(): Promise<IDBPDatabase<OfflineSchema>> {
  db ??= openDB<OfflineSchema>(NAME, 1, {
    upgrade(database) {
      database.createObjectStore('keys');
      database.createObjectStore('sealed');
    },
  });
  return db;
}

async function key(create: boolean): Promise<CryptoKey | undefined> {
  const database = await open();
  const existing = await database.get('keys', 'current');
  if (existing || !create) return existing;
  const made = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  await database.put('keys', made, 'current');
  return made;
}

/** Keeps a value under a name, encrypted. */
export async function seal(name: string, value: unknown): Promise<void> {
  const k = (await key(true))!;
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const plain = new TextEncoder().encode(JSON.stringify(value));
  const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, k, plain);
  await (await open()).put('sealed', { iv, data }, name);
}

/** Reads a value kept under a name (undefined: none, or the key has left). */
export async function unseal<T>(name: string): Promise<T | undefined> {
  if (!CAN_KEEP) return undefined;
  const k = await key(false);
  if (!k) return undefined;
  const record = await (await open()).get('sealed', name);
  if (!record) return undefined;
  const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: record.iv as BufferSource }, k, record.data);
  return JSON.parse(new TextDecoder().decode(plain)) as T;
}

/** Removes one kept value. */
export async function unsealRemove(name: string): Promise<void> {
  await (await open()).delete('sealed', name);
}

/** The names of everything kept that starts with a prefix. */
export async function sealedNames(prefix: string): Promise<string[]> {
  if (!CAN_KEEP) return [];
  const names = await (await open()).getAllKeys('sealed');
  return names.filter((n) => n.startsWith(prefix)).sort();
}

/** Sign-out: the key leaves, and with it everything kept. */
export async function forgetOfflineKey(): Promise<void> {
  const database = await open();
  const tx = database.transaction(['keys', 'sealed'], 'readwrite');
  await Promise.all([tx.objectStore('keys').clear(), tx.objectStore('sealed').clear(), tx.done]);
}
