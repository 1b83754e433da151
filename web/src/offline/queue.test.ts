// The offline queue against a scripted server: order, one send per entry, versions that follow
// the queue's own entries, conflicts held with the case's later entries, reapplying and discarding.
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { discard, enqueue, queued, reapply, sync } from './queue';
import { forgetOfflineKey } from './vault';

type Sent = { command: string; expectedVersion: number; idempotencyKey: string };

/** A case on a server: appends when the expected version is current, else a conflict. */
function server(start: number, refuse: (input: Record<string, unknown>) => string | null = () => null) {
  const state = { version: start, sent: [] as Sent[], seen: new Map<string, number>() };
  vi.stubGlobal('fetch', async (_url: string, init: { body: string }) => {
    const { query, variables } = JSON.parse(init.body);
    const command = /\{\s*(\w+)\(input/.exec(query)![1];
    const input = variables.input;
    state.sent.push({ command, expectedVersion: input.expectedVersion, idempotencyKey: input.idempotencyKey });
    const json = (body: unknown) => ({ json: async () => body, status: 200 });
    const replay = state.seen.get(input.idempotencyKey);
    if (replay !== undefined) return json({ data: { [command]: { beneficiaryId: 'b', version: replay, events: [] } } });
    if (input.expectedVersion !== state.version)
      return json({
        errors: [
          {
            message: `this record is at version ${state.version}`,
            extensions: { code: 'CONFLICT', currentVersion: state.version },
          },
        ],
      });
    const refusal = refuse(input);
    if (refusal) return json({ errors: [{ message: refusal, extensions: { code: 'VALIDATION', field: 'to' } }] });
    state.version += 1;
    state.seen.set(input.idempotencyKey, state.version);
    return json({ data: { [command]: { beneficiaryId: 'b', version: state.version, events: [] } } });
  });
  return state;
}

const made = (command: string, version: number, extra: Record<string, unknown> = {}) =>
  enqueue(
    command,
    {
      beneficiaryId: 'b',
      expectedVersion: version,
      idempotencyKey: crypto.randomUUID(),
      occurredOn: '2026-12-01',
      ...extra,
    },
    'AL-1',
  );

beforeEach(() => forgetOfflineKey());
afterEach(() => vi.unstubAllGlobals());

describe('the offline queue', () => {
  it('sends in order, once each, each on top of the one before', async () => {
    const s = server(4);
    await made('recordServiceDelivery', 4, { service: 'MEDICAL' });
    await made('recordServiceDelivery', 4, { service: 'EDUCATION' });
    await made('changeStatus', 4, { to: 'IN_CRISIS_CARE' });
    expect(await sync()).toEqual({ accepted: 3, held: 0 });
    expect(s.sent.map((x) => [x.command, x.expectedVersion])).toEqual([
      ['recordServiceDelivery', 4],
      ['recordServiceDelivery', 5],
      ['changeStatus', 6],
    ]);
    expect(await queued()).toEqual([]);
    expect(await sync()).toEqual({ accepted: 0, held: 0 });
  });

  it("holds an entry that meets someone else's, with the case's later entries behind it", async () => {
    const s = server(4);
    await made('changeStatus', 4, { to: 'IN_TRANSITION' });
    await made('recordServiceDelivery', 4, { service: 'LEGAL' });
    s.version = 5; // a colleague recorded meanwhile
    expect(await sync()).toEqual({ accepted: 0, held: 2 });
    const [first, second] = await queued();
    expect(first.state).toBe('conflict');
    expect(first.reason).toContain('version 5');
    expect(second.state).toBe('waiting');
    expect(s.sent).toHaveLength(1);

    // Applied to the case as it is now: a new key, the current version; the next follows it.
    expect(await reapply(first, 5)).toEqual({ accepted: 2, held: 0 });
    expect(s.sent.slice(1).map((x) => x.expectedVersion)).toEqual([5, 6]);
    expect(s.sent[1].idempotencyKey).not.toBe(s.sent[0].idempotencyKey);
    expect(s.version).toBe(7);
  });

  it("keeps a refused entry with the server's reason; the next ones go on without it", async () => {
    const s = server(2, (input) => (input.to === 'DECEASED' ? 'not from this status' : null));
    await made('changeStatus', 2, { to: 'DECEASED' });
    await made('recordServiceDelivery', 2, { service: 'LEGAL' });
    expect(await sync()).toEqual({ accepted: 1, held: 1 });
    const [refused] = await queued();
    expect([refused.state, refused.reason]).toEqual(['refused', 'not from this status']);
    expect(s.sent.map((x) => x.expectedVersion)).toEqual([2, 2]);
    await discard(refused);
    expect(await queued()).toEqual([]);
  });

  it('a resend after a lost answer carries the same key and version', async () => {
    const s = server(1);
    await made('changeStatus', 1, { to: 'IN_CRISIS_CARE' });
    const real = globalThis.fetch;
    let drop = true;
    vi.stubGlobal('fetch', async (url: string, init: { body: string }) => {
      const answer = await real(url, init);
      if (drop) {
        drop = false;
        throw new TypeError('connection lost'); // recorded, but the answer never arrived
      }
      return answer;
    });
    expect(await sync()).toEqual({ accepted: 0, held: 0 });
    expect(await sync()).toEqual({ accepted: 1, held: 0 });
    expect(s.sent).toHaveLength(2);
    expect(s.sent[0]).toEqual(s.sent[1]);
    expect(s.version).toBe(2);
  });
});
