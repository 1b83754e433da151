// A supervisor's work on a case: reassigning it, erasing a person's data (with its reason and a
// confirmation) and reading who accessed the record; administration as a supervisor sees it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { URL, accessible, clean, launch, registered, screenshot, session, signIn } from '../lib.mjs';

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

test('a supervisor reassigns a case, erases the personal data, and the page shows the erasure', async () => {
  const caseworker = await session(browser);
  await signIn(caseworker.page, 'caseworker1@shpresa.demo');
  const person = await registered(caseworker.page, { personalData: { givenName: 'Vjosa', familyName: 'Krasniqi' } });

  const { page, errors } = await session(browser);
  await signIn(page, 'supervisor@shpresa.demo');
  await page.goto(`${URL}/cases/${person.id}?tab=personal`);
  await page.getByText('Krasniqi').waitFor();

  await page.locator('.record-bar select').selectOption('transferCase');
  const transfer = page.getByRole('form', { name: 'Reassign to a caseworker' });
  await transfer.getByLabel('Caseworker').selectOption({ label: 'Shtëpia e Shpresës caseworker 2' });
  await transfer.getByRole('button', { name: 'Save' }).click();
  await transfer.waitFor({ state: 'detached' });
  await page.locator('.facts').getByText('Shtëpia e Shpresës caseworker 2').waitFor();

  await page.locator('.record-bar select').selectOption('erasePersonalData');
  const erase = page.getByRole('form', { name: 'Erase personal data' });
  await erase.getByRole('button', { name: 'Save' }).click();
  await erase.getByText('This is needed.').waitFor(); // the reason
  await erase.getByLabel('Reason').selectOption('PERSON_REQUESTED');
  let asked = '';
  page.once('dialog', (dialog) => {
    asked = dialog.message();
    void dialog.accept();
  });
  await erase.getByRole('button', { name: 'Save' }).click();
  await erase.waitFor({ state: 'detached' });
  assert.match(asked, new RegExp(`Erase the personal data of ${person.code}\\? This cannot be undone.`));
  await page.locator('.tags').getByText('personal data erased').waitFor();
  await page.getByText("This person's personal data has been erased.").first().waitFor();
  assert.equal(await page.getByText('Krasniqi').count(), 0);
  await page.getByRole('tab', { name: 'Timeline' }).click();
  await page
    .getByRole('list', { name: 'Timeline' })
    .locator('li.entry', { hasText: 'Personal data erased' })
    .filter({ hasText: 'The person asked' })
    .waitFor();
  await accessible(page, 'erased case');
  await screenshot(page, 'supervisor-1-erased');

  await page.getByRole('tab', { name: 'Access log' }).click();
  const log = page.getByRole('tabpanel');
  await log.getByText('Erased personal data').waitFor();
  await log.getByText('Read personal data').first().waitFor();
  await accessible(page, 'access log of a case');
  await screenshot(page, 'supervisor-2-access-log');

  await page.getByRole('navigation').getByRole('link', { name: 'Administration' }).click();
  await page.getByRole('heading', { name: 'Users' }).waitFor();
  assert.equal(await page.getByRole('heading', { name: 'API tokens' }).count(), 0, 'tokens are for administrators');
  await accessible(page, 'administration as a supervisor');
  await clean(page, errors);
});

test('an administrator adds a user and issues and revokes a token', async () => {
  const { page, errors } = await session(browser);
  await signIn(page, 'admin@shpresa.demo');
  await page.getByRole('heading', { name: 'Users' }).waitFor();
  const add = page.getByRole('form', { name: 'Add a user' });
  const email = `new-${Date.now()}@shpresa.demo`;
  await add.getByLabel('E-mail address').fill(email);
  await add.getByLabel('Name').fill('Arta Hoxha');
  await add.getByLabel('Password').fill('short');
  await add.getByRole('button', { name: 'Add a user' }).click();
  await add
    .locator('.field', { has: page.getByLabel('Password') })
    .locator('.field-error')
    .waitFor();
  await screenshot(page, 'admin-1-refused-password');
  await add.getByLabel('Password').fill('a long enough passphrase');
  await add.getByRole('button', { name: 'Add a user' }).click();
  await page.getByRole('cell', { name: email }).waitFor();

  const issue = page.getByRole('form', { name: 'Issue a token' });
  await issue.getByLabel('Holder').selectOption({ label: 'Shtëpia e Shpresës integrator (Integrator)' });
  await issue.getByLabel('Token name').fill('NRM sync');
  await issue.getByRole('button', { name: 'Issue a token' }).click();
  const secret = await issue.locator('code.secret').textContent();
  assert.match(secret, /^rbk_/);
  await page.getByRole('cell', { name: 'NRM sync', exact: true }).waitFor();
  await accessible(page, 'administration');
  await screenshot(page, 'admin-2-token');
  page.once('dialog', (d) => void d.accept());
  await page.getByRole('button', { name: 'Revoke NRM sync' }).click();
  await page.getByText(/^revoked /).waitFor();
  await clean(page, errors);
});
