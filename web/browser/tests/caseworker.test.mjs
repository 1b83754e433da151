// A caseworker's day: signs in, registers a person (a refused value shown beside its field),
// records consent, a service and a status change, and finds them on the timeline.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { accessible, clean, launch, screenshot, session, signIn, today } from '../lib.mjs';

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

/** Chooses a command from the case page's "Record" list and returns its form. */
export async function startRecording(page, command, title) {
  await page.locator('.record-bar select').selectOption(command);
  return page.getByRole('form', { name: title });
}

test('a caseworker registers a person and records consent, a service and a status change', async () => {
  const { page, errors } = await session(browser);
  await signIn(page, 'caseworker1@shpresa.demo');
  await page.getByRole('heading', { name: 'Caseload' }).waitFor();
  await page.locator('table.cases tbody tr').first().waitFor();
  await accessible(page, 'caseload');
  await screenshot(page, 'caseworker-1-caseload');

  await page.getByRole('navigation').getByRole('link', { name: 'Register a person' }).click();
  const form = page.getByRole('form', { name: 'Register' });
  const code = `T-${Date.now()}`;
  await form.getByLabel('Case code').fill(code);
  await form.getByLabel('Identified on').fill('2026-11-02');
  await form.getByLabel('Identified through').selectOption('NGO');
  await form.getByLabel('Gender').selectOption('FEMALE');
  await form.getByLabel('Year of birth').fill('1994');
  await form.getByLabel('Month of birth').fill('13');
  await form.getByLabel('Citizenship').fill('AL');
  await form.getByLabel('Sexual exploitation').check();
  await form.getByLabel('Given name').fill('Drita');
  await form.getByRole('button', { name: 'Save' }).click();

  // The server's refusal sits beside the field it names, and is that field's description.
  const month = form.locator('.field', { has: page.getByLabel('Month of birth') });
  await month.locator('.field-error').getByText('the birth month must be 1 to 12').waitFor();
  const description = await form.getByLabel('Month of birth').evaluate((input) =>
    input
      .getAttribute('aria-describedby')
      ?.split(' ')
      .map((id) => document.getElementById(id)?.textContent)
      .join(' '),
  );
  assert.match(description, /birth month must be 1 to 12/);
  assert.equal(await form.getByLabel('Case code').inputValue(), code, 'nothing typed is lost');
  await accessible(page, 'registration form with an error');
  await screenshot(page, 'caseworker-2-validation');

  await form.getByLabel('Month of birth').fill('5');
  await form.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: `Case ${code}` }).waitFor();
  assert.match(page.url(), /\/cases\/[0-9a-f-]{36}$/);

  let recording = await startRecording(page, 'giveConsent', 'Record consent given');
  await recording.getByLabel('Consent to').selectOption('ASSISTANCE');
  await recording.getByLabel('Given by').selectOption('BENEFICIARY');
  await recording.getByLabel('Evidence').selectOption('SIGNED_FORM');
  await recording.getByRole('button', { name: 'Save' }).click();
  await recording.waitFor({ state: 'detached' });

  recording = await startRecording(page, 'recordServiceDelivery', 'Record a service delivered');
  await recording.getByLabel('Service', { exact: false }).first().selectOption('PSYCHOLOGICAL');
  await recording.getByRole('button', { name: 'Save' }).click();
  await recording.waitFor({ state: 'detached' });

  recording = await startRecording(page, 'changeStatus', 'Change the status');
  await recording.getByLabel('To').selectOption('IN_CRISIS_CARE');
  await recording.getByLabel('Day it happened').fill(today());
  await recording.getByRole('button', { name: 'Save' }).click();
  await recording.waitFor({ state: 'detached' });

  const timeline = page.getByRole('list', { name: 'Timeline' });
  for (const [type, detail] of [
    ['Registered', code],
    ['Consent given', 'Assistance'],
    ['Service delivered', 'Psychological support'],
    ['Status changed', 'In crisis care'],
    ['Personal data recorded', ''],
  ]) {
    await timeline.locator('li.entry', { hasText: type }).filter({ hasText: detail }).waitFor();
  }
  assert.equal(await timeline.locator('li.entry').count(), 5);
  await page.getByRole('tab', { name: 'Consents' }).click();
  await page.getByRole('tabpanel').getByText('Assistance').first().waitFor();
  await accessible(page, 'consents');
  await page.getByRole('tab', { name: 'Timeline' }).click();
  await accessible(page, 'beneficiary page');
  await screenshot(page, 'caseworker-3-timeline');
  await clean(page, errors);
});
