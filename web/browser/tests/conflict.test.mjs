// Two people on one case: the second's entry, made against the version they opened, is refused
// as a conflict, shown with a way to apply it to the case as it is now; nothing is overwritten.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { URL, accessible, clean, eventTypes, launch, registered, screenshot, session, signIn } from '../lib.mjs';

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

test('the second of two sessions sees the conflict and applies its entry again', async () => {
  const a = await session(browser);
  const b = await session(browser);
  await signIn(a.page, 'caseworker1@shpresa.demo');
  await signIn(b.page, 'supervisor@shpresa.demo');
  const person = await registered(a.page);
  await a.page.goto(`${URL}/cases/${person.id}`);
  await b.page.goto(`${URL}/cases/${person.id}`);
  await a.page.getByRole('heading', { name: `Case ${person.code}` }).waitFor();
  await b.page.getByRole('heading', { name: `Case ${person.code}` }).waitFor();

  // B starts an entry; meanwhile A records one.
  await b.page.locator('.record-bar select').selectOption('recordServiceDelivery');
  const form = b.page.getByRole('form', { name: 'Record a service delivered' });
  await form.getByLabel('Service', { exact: false }).first().selectOption('LEGAL');

  await a.page.locator('.record-bar select').selectOption('changeStatus');
  const status = a.page.getByRole('form', { name: 'Change the status' });
  await status.getByLabel('To').selectOption('IN_CRISIS_CARE');
  await status.getByRole('button', { name: 'Save' }).click();
  await status.waitFor({ state: 'detached' });

  // B saves against the version it opened: refused, with what to do, and B's entry kept.
  await form.getByRole('button', { name: 'Save' }).click();
  const conflict = form.getByRole('alert').filter({ hasText: 'Someone else recorded on this case' });
  await conflict.waitFor();
  assert.equal(await form.getByLabel('Service', { exact: false }).first().inputValue(), 'LEGAL');
  await accessible(b.page, 'conflict');
  await screenshot(b.page, 'conflict-1-shown');
  assert.deepEqual(await eventTypes(b.page, person.id), ['BeneficiaryRegistered', 'ConsentGiven', 'StatusChanged']);

  await conflict.getByRole('button', { name: 'Apply my entry to the current case' }).click();
  await form.waitFor({ state: 'detached' });
  const timeline = b.page.getByRole('list', { name: 'Timeline' });
  await timeline
    .locator('li.entry', { hasText: 'Service delivered' })
    .filter({ hasText: 'Legal assistance' })
    .waitFor();
  await timeline.locator('li.entry', { hasText: 'Status changed' }).waitFor();
  await screenshot(b.page, 'conflict-2-resolved');
  // Both entries stand, each once.
  assert.deepEqual(await eventTypes(b.page, person.id), [
    'BeneficiaryRegistered',
    'ConsentGiven',
    'StatusChanged',
    'ServiceDelivered',
  ]);
  await clean(a.page, a.errors);
  await clean(b.page, b.errors);
});
