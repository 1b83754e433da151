// Field work without a connection: a case kept for a visit opens offline; entries made offline
// are queued and sent in order when the connection is back, each recorded exactly once; one that
// meets someone else's entry is held and shown for reapplying, and nothing is overwritten.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  URL,
  accessible,
  clean,
  delivered,
  eventTypes,
  launch,
  registered,
  screenshot,
  session,
  signIn,
} from '../lib.mjs';

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

async function record(page, command, title, fill) {
  await page.locator('.record-bar select').selectOption(command);
  const form = page.getByRole('form', { name: title });
  await fill(form);
  await form.getByRole('button', { name: 'Save' }).click();
  await form.waitFor({ state: 'detached' });
}

test('entries made offline are sent once each on reconnect; a conflicting one is held for reapplying', async () => {
  const { context, page, errors } = await session(browser);
  await signIn(page, 'caseworker1@shpresa.demo');
  const person = await registered(page);
  await page.goto(`${URL}/cases/${person.id}`);
  await page.getByLabel('Keep on this device for a visit (encrypted)').check();
  await page.locator('.keep .hint').getByText(/kept/).waitFor();

  // Off the network: the caseload offers what was kept; the case opens from the device.
  await context.setOffline(true);
  await page.getByRole('navigation').getByRole('link', { name: 'Caseload' }).click();
  await page.getByText('No connection: only the cases kept on this device can be opened.').waitFor();
  await page
    .getByRole('region', { name: 'Kept on this device for visits' })
    .getByRole('link', { name: person.code })
    .click();
  await page.getByText(/^No connection: this is the case as kept on this device/).waitFor();

  await record(page, 'recordServiceDelivery', 'Record a service delivered', (f) =>
    f.getByLabel('Service', { exact: false }).first().selectOption('MEDICAL'),
  );
  await record(page, 'recordServiceDelivery', 'Record a service delivered', (f) =>
    f.getByLabel('Service', { exact: false }).first().selectOption('EDUCATION'),
  );
  await record(page, 'changeStatus', 'Change the status', (f) => f.getByLabel('To').selectOption('IN_CRISIS_CARE'));
  const queue = page.getByRole('region', { name: '3 entries not sent yet' });
  await queue.waitFor();
  assert.equal(await queue.getByText('waiting for the connection').count(), 3);
  await page.getByRole('link', { name: '3 entries waiting to send' }).waitFor();
  await accessible(page, 'offline case with queued entries');
  await screenshot(page, 'offline-1-queued');

  // Back online: sent in order, each once.
  await context.setOffline(false);
  await queue.waitFor({ state: 'detached' });
  const timeline = page.getByRole('list', { name: 'Timeline' });
  await timeline.locator('li.entry', { hasText: 'Status changed' }).waitFor();
  assert.deepEqual(await eventTypes(page, person.id), [
    'BeneficiaryRegistered',
    'ConsentGiven',
    'ServiceDelivered',
    'ServiceDelivered',
    'StatusChanged',
  ]);
  await screenshot(page, 'offline-2-sent');

  // Offline again; meanwhile a colleague records on the same case.
  await context.setOffline(true);
  await record(page, 'changeStatus', 'Change the status', (f) => f.getByLabel('To').selectOption('IN_TRANSITION'));
  const colleague = await session(browser);
  await signIn(colleague.page, 'supervisor@shpresa.demo');
  await delivered(colleague.page, person.id, 5, 'LEGAL');

  await context.setOffline(false);
  const held = page.getByRole('region', { name: '1 entry not sent yet' });
  await held.getByText('someone else recorded on the case first').waitFor();
  await held
    .locator('.reason')
    .getByText(/someone/)
    .waitFor();
  // Nothing of ours was written over theirs.
  assert.deepEqual((await eventTypes(page, person.id)).slice(-1), ['ServiceDelivered']);
  await accessible(page, 'held entry');
  await screenshot(page, 'offline-3-conflict');

  await held.getByRole('button', { name: 'Apply to the case as it is now' }).click();
  await held.waitFor({ state: 'detached' });
  assert.deepEqual(await eventTypes(page, person.id), [
    'BeneficiaryRegistered',
    'ConsentGiven',
    'ServiceDelivered',
    'ServiceDelivered',
    'StatusChanged',
    'ServiceDelivered',
    'StatusChanged',
  ]);
  await timeline.locator('li.entry', { hasText: 'Status changed' }).filter({ hasText: 'In transition' }).waitFor();
  await screenshot(page, 'offline-4-reapplied');

  // Signing out takes the key, and with it everything kept.
  page.on('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.locator('#sign-in-title').waitFor();
  const left = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const open = indexedDB.open('roadback-offline');
        open.onsuccess = () => {
          const tx = open.result.transaction(['keys', 'sealed']);
          const keys = tx.objectStore('keys').count();
          const sealed = tx.objectStore('sealed').count();
          tx.oncomplete = () => resolve([keys.result, sealed.result]);
        };
      }),
  );
  assert.deepEqual(left, [0, 0]);
  await clean(
    page,
    errors.filter((e) => !/ERR_INTERNET_DISCONNECTED/.test(e)),
  );
});
