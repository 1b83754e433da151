// Another organisation's case cannot be opened, listed or found.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { URL, accessible, clean, launch, registered, screenshot, session, signIn } from '../lib.mjs';

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

test('a caseworker of another organisation cannot open the case', async () => {
  const owner = await session(browser);
  await signIn(owner.page, 'caseworker1@shpresa.demo');
  const person = await registered(owner.page);

  const stranger = await session(browser);
  await signIn(stranger.page, 'caseworker1@rrugaere.demo');
  await stranger.page.goto(`${URL}/cases/${person.id}`);
  await stranger.page
    .getByRole('alert')
    .filter({ hasText: 'This case does not exist or is not yours to see.' })
    .waitFor();
  assert.equal(await stranger.page.getByText(person.code).count(), 0);
  await accessible(stranger.page, 'refused case');
  await screenshot(stranger.page, 'isolation-refused');

  // Nor is it found by its code in their caseload.
  await stranger.page.goto(`${URL}/`);
  await stranger.page.getByLabel('Only my cases').uncheck();
  await stranger.page.getByRole('searchbox', { name: 'Case code' }).fill(person.code);
  await stranger.page.getByText('No cases match these filters.').waitFor();
  await clean(stranger.page, stranger.errors);
});
