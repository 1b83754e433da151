import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { forgetOfflineKey, seal, sealedNames, unseal } from './vault';

describe('the offline vault', () => {
  it('keeps values encrypted and gives them back', async () => {
    await seal('case:1', { caseCode: 'AL-1', version: 3 });
    expect(await unseal('case:1')).toEqual({ caseCode: 'AL-1', version: 3 });
    expect(await sealedNames('case:')).toEqual(['case:1']);
  });

  it('stores no plain text', async () => {
    await seal('case:2', { name: 'Drita' });
    const raw = await new Promise<unknown>((resolve) => {
      const open = indexedDB.open('roadback-offline');
      open.onsuccess = () => {
        const get = open.result.transaction('sealed').objectStore('sealed').get('case:2');
        get.onsuccess = () => resolve(get.result);
      };
    });
    const bytes = new Uint8Array((raw as { data: ArrayBuffer }).data);
    expect(new TextDecoder().decode(bytes)).not.toContain('Drita');
  });

  it('forgets everything when the key leaves (sign-out)', async () => {
    await seal('queue:1', { command: 'changeStatus' });
    await forgetOfflineKey();
    expect(await unseal('queue:1')).toBeUndefined();
    expect(await sealedNames('')).toEqual([]);
  });
});
