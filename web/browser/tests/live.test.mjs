// An open timeline follows what others record, without reloading the page.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { URL, clean, delivered, launch, registered, screenshot, session, signIn } from '../lib.mjs';

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

test("a subscription brings another session's entry into an open timeline", async () => {
  const watcher = await session(browser);
  const other = await session(browser);
  await signIn(watcher.page, 'caseworker1@shpresa.demo');
  await signIn(other.page, 'supervisor@shpresa.demo');
  const person = await registered(other.page);
  await watcher.page.goto(`${URL}/cases/${person.id}`);
  const timeline = watcher.page.getByRole('list', { name: 'Timeline' });
  await timeline.locator('li.entry', { hasText: 'Consent given' }).waitFor();
  const loads = [];
  watcher.page.on('framenavigated', (f) => f === watcher.page.mainFrame() && loads.push(f.url()));
  // Give the subscription a moment to be acknowledged before the other session records.
  await watcher.page.waitForTimeout(500);

  await delivered(other.page, person.id, person.version, 'MEDICAL');

  await timeline.locator('li.entry', { hasText: 'Service delivered' }).filter({ hasText: 'Medical care' }).waitFor();
  await watcher.page.getByRole('status').filter({ hasText: 'Someone else just recorded: Service delivered' }).waitFor();
  assert.deepEqual(loads, [], 'the page was not reloaded');
  await screenshot(watcher.page, 'live-update');
  await clean(watcher.page, watcher.errors);
});
