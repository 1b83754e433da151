// Commands made without a connection wait here (sealed in the offline vault) with the idempotency
// key and expected version they were made with. When the connection is back they are sent in the
// order they were made, each decided by the server against the case as it is then:
// - accepted: it joins the timeline and leaves the queue;
// - a conflict (someone else recorded on the case meanwhile): it stays, shown with the reason,
//   and the case's later entries wait behind it, until the person applies it to the case as it is
//   now (or discards it); nothing is overwritten;
// - refused by a rule: it stays, shown with the server's reason, until applied again or discarded.
// A resend after a lost answer carries the same key and version, so the server never records it
// twice.
import { ApiError, NetworkError, idempotencyKey } from '../api/client';
import { commandById, type Recorded } from '../commands';
import { sendNow } from '../components/CommandForm';
import { seal, sealedNames, unseal, unsealRemove } from './vault';

export type QueuedCommand = {
  /** Order of making (also the vault name's suffix). */
  seq: number;
  command: string;
  input: Record<string, unknown> & { beneficiaryId: string; expectedVersion: number; idempotencyKey: string };
  caseCode: string;
  madeAt: string;
  state: 'waiting' | 'conflict' | 'refused';
  /** The server's reason for a conflict or refusal: its sentence, code and rule. */
  reason?: string;
  code?: string;
  rule?: string;
  /** The expected version it was last sent with (a resend keeps it, with its key). */
  sent?: number;
};

const PREFIX = 'queue:';
const name = (seq: number) => `${PREFIX}${String(seq).padStart(12, '0')}`;
const listeners = new Set<() => void>();
let syncing: Promise<SyncResult> | null = null;

export type SyncResult = { accepted: number; held: number };

/** Calls back whenever the queue changes. */
export function onQueueChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
const changed = () => listeners.forEach((l) => l());

export async function queued(): Promise<QueuedCommand[]> {
  const names = await sealedNames(PREFIX);
  const items = await Promise.all(names.map((n) => unseal<QueuedCommand>(n)));
  return items.filter((i): i is QueuedCommand => Boolean(i));
}

let lastSeq = 0;
/** Increasing in the order entries are made, even within one millisecond (the queue's order). */
function nextSeq(): number {
  lastSeq = Math.max(Date.now() * 1000, lastSeq + 1);
  return lastSeq;
}

/** Queues a command made offline. Its expected version counts the case's entries queued before it. */
export async function enqueue(
  command: string,
  input: Record<string, unknown>,
  caseCode: string,
): Promise<QueuedCommand> {
  const before = (await queued()).filter((q) => q.input.beneficiaryId === input.beneficiaryId);
  const entry: QueuedCommand = {
    seq: nextSeq(),
    command,
    input: {
      ...(input as QueuedCommand['input']),
      expectedVersion: (input.expectedVersion as number) + before.length,
    },
    caseCode,
    madeAt: new Date().toISOString(),
    state: 'waiting',
  };
  await seal(name(entry.seq), entry);
  changed();
  return entry;
}

async function save(entry: QueuedCommand) {
  await seal(name(entry.seq), entry);
}

async function remove(entry: QueuedCommand) {
  await unsealRemove(name(entry.seq));
}

/**
 * Sends what is waiting, in order. Per case, an entry's version moves with what earlier queued
 * entries actually appended (so only someone else's entry is a conflict); after a conflict the
 * case's later entries wait.
 */
export function sync(): Promise<SyncResult> {
  syncing ??= (async () => {
    let accepted = 0;
    let held = 0;
    const shift = new Map<string, number>();
    const blocked = new Set<string>();
    try {
      for (const entry of await queued()) {
        const id = entry.input.beneficiaryId;
        if (entry.state !== 'waiting' || blocked.has(id)) {
          if (entry.state === 'conflict') blocked.add(id);
          // A refused entry appended nothing where one entry was assumed.
          if (entry.state === 'refused') shift.set(id, (shift.get(id) ?? 0) - 1);
          held++;
          continue;
        }
        const spec = commandById(entry.command);
        if (!spec) continue;
        const version = entry.sent ?? entry.input.expectedVersion + (shift.get(id) ?? 0);
        if (entry.sent === undefined) {
          entry.sent = version;
          await save(entry);
        }
        try {
          const result: Recorded = await sendNow(spec, { ...entry.input, expectedVersion: version });
          // It appended `result.version - version` entries where one was assumed.
          shift.set(id, (shift.get(id) ?? 0) + result.version - version - 1);
          await remove(entry);
          accepted++;
        } catch (error) {
          if (error instanceof NetworkError) break;
          const conflict = error instanceof ApiError && error.code === 'CONFLICT';
          entry.state = conflict ? 'conflict' : 'refused';
          entry.reason = error instanceof Error ? error.message : String(error);
          entry.code = error instanceof ApiError ? error.code : 'INTERNAL';
          entry.rule = error instanceof ApiError ? error.reason : undefined;
          await save(entry);
          // Nothing was appended where one entry was assumed.
          shift.set(id, (shift.get(id) ?? 0) - 1);
          if (conflict) blocked.add(id);
          held++;
        }
        changed();
      }
    } finally {
      syncing = null;
      changed();
    }
    return { accepted, held };
  })();
  return syncing;
}

/**
 * The person looked at the case and applies a held entry to it as it is now: a new attempt, so a
 * new idempotency key, made against `currentVersion`; the case's later entries follow it.
 */
export async function reapply(entry: QueuedCommand, currentVersion: number): Promise<SyncResult> {
  const later = (await queued()).filter(
    (q) => q.input.beneficiaryId === entry.input.beneficiaryId && q.seq > entry.seq,
  );
  const delta = currentVersion - entry.input.expectedVersion;
  for (const q of [entry, ...later]) {
    if (q.state === 'refused' && q !== entry) continue;
    q.input = { ...q.input, expectedVersion: q.input.expectedVersion + delta, idempotencyKey: idempotencyKey() };
    q.state = 'waiting';
    q.reason = undefined;
    q.code = undefined;
    q.rule = undefined;
    q.sent = undefined;
    await save(q);
  }
  changed();
  return sync();
}

/** The person drops an entry they no longer want sent. Later entries of the case move up. */
export async function discard(entry: QueuedCommand): Promise<void> {
  await remove(entry);
  for (const q of (await queued()).filter(
    (q) => q.input.beneficiaryId === entry.input.beneficiaryId && q.seq > entry.seq,
  )) {
    q.input = { ...q.input, expectedVersion: q.input.expectedVersion - 1 };
    await save(q);
  }
  changed();
}
