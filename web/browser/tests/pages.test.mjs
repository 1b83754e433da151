// Every page at laptop and tablet width passes axe-core (no serious or critical violation); a
// correction and a void are started from the entry they amend; a family member is registered
// from the assisted person's page.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  URL,
  accessible,
  clean,
  delivered,
  graphql,
  launch,
  registered,
  screenshot,
  session,
  signIn,
  today,
} from '../lib.mjs';

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

const TABLET = { width: 768, height: 1024 };

test('the sign-in page and a missing page pass axe, at laptop and tablet width', async () => {
  for (const viewport of [undefined, TABLET]) {
    const { page, errors } = await session(browser, viewport);
    await page.goto(`${URL}/`);
    await page.locator('#sign-in-title').waitFor();
    await accessible(page, 'sign-in');
    await screenshot(page, `pages-sign-in-${viewport ? 'tablet' : 'laptop'}`);
    await page.getByLabel('E-mail address').fill('caseworker1@shpresa.demo');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('The e-mail address or password is not right').waitFor();
    await signIn(page, 'caseworker1@shpresa.demo');
    await page.goto(`${URL}/no/such/page`);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    await accessible(page, 'not found');
    await page.goto(`${URL}/outbox`);
    await page.getByText('Nothing is waiting to be sent.').waitFor();
    await accessible(page, 'outbox');
    await clean(
      page,
      errors.filter((e) => !/401|Unauthorized/.test(e)),
    );
  }
});

test('every section of a case with a history passes axe at tablet width', async () => {
  const { page, errors } = await session(browser, TABLET);
  await signIn(page, 'caseworker1@shpresa.demo');
  await page.locator('table.cases tbody tr').first().waitFor();
  await accessible(page, 'caseload at tablet width');
  await screenshot(page, 'pages-caseload-tablet');
  // A demo case of this caseworker's with assessments, goals and services.
  const found = await graphql(
    page,
    `
      {
        beneficiaries(first: 40, filter: { closed: true }) {
          edges {
            node {
              id
              assessments {
                on
              }
              plan {
                goals {
                  id
                }
                services {
                  id
                }
              }
            }
          }
        }
      }
    `,
  );
  const rich = found.data.beneficiaries.edges
    .map((e) => e.node)
    .find((n) => n.assessments.length > 1 && n.plan?.goals.length && n.plan?.services.length);
  assert.ok(rich, 'a demo case with assessments, goals and services');
  await page.goto(`${URL}/cases/${rich.id}`);
  for (const tab of ['Timeline', 'Plan', 'Assessments', 'Consents', 'Personal data']) {
    await page.getByRole('tab', { name: tab }).click();
    await page.getByRole('tabpanel').waitFor();
    if (tab === 'Assessments') await page.locator('.chart canvas').waitFor();
    if (tab === 'Plan') await page.getByRole('heading', { name: 'Goals' }).waitFor();
    await page.waitForTimeout(100);
    await accessible(page, `case: ${tab}`);
    await screenshot(page, `pages-case-${tab.toLowerCase().replace(' ', '-')}-tablet`);
  }
  // The as-of picker: the record as it stood on the day of its first assessment.
  await page.getByRole('tab', { name: 'Timeline' }).click();
  await page.getByLabel('Valid on').fill(rich.assessments[0].on);
  await page.getByRole('button', { name: 'Show' }).click();
  await page.getByText(/^Showing the record as it stood on/).waitFor();
  await accessible(page, 'case as of a day');
  await clean(page, errors);
});

test('a correction and a void start from the entry; a family member is linked from the page', async () => {
  const { page, errors } = await session(browser);
  await signIn(page, 'caseworker1@shpresa.demo');
  const person = await registered(page);
  await delivered(page, person.id, person.version, 'MEDICAL');
  await page.goto(`${URL}/cases/${person.id}`);
  const timeline = page.getByRole('list', { name: 'Timeline' });
  const entry = timeline.locator('li.entry', { hasText: 'Service delivered' });
  await entry.getByRole('button', { name: 'Correct' }).click();
  const form = page.getByRole('form', { name: 'Correct: Record a service delivered' });
  assert.equal(
    await form.getByLabel('Service', { exact: false }).first().inputValue(),
    'MEDICAL',
    'prefilled from the entry',
  );
  await form.getByLabel('Service', { exact: false }).first().selectOption('PSYCHOLOGICAL');
  await form.getByRole('button', { name: 'Save' }).click();
  await form.waitFor({ state: 'detached' });
  await entry.getByText('Psychological support').waitFor();
  await entry.getByRole('list', { name: 'Corrections and voids' }).getByText('Corrected on').waitFor();
  await screenshot(page, 'pages-corrected');

  await entry.getByRole('button', { name: 'Void (recorded in error)' }).click();
  const voiding = page.getByRole('form', { name: 'Void an entry recorded in error' });
  await voiding.getByRole('button', { name: 'Save' }).click();
  await voiding.waitFor({ state: 'detached' });
  await timeline
    .locator('li.entry.voided', { hasText: 'Service delivered' })
    .getByText('voided', { exact: true })
    .waitFor();
  await accessible(page, 'corrected and voided entries');

  await page.getByRole('link', { name: 'Register a family member' }).click();
  const family = page.getByRole('form', { name: 'Register' });
  await page.getByText('Family member of').waitFor();
  await family.getByLabel('Case code').fill(`${person.code}-C1`);
  await family.getByLabel('Identified on').fill(today());
  await family.getByLabel('Identified through').selectOption('FAMILY_OR_FRIENDS');
  await family.getByLabel('Gender').selectOption('MALE');
  await family.getByLabel('Year of birth').fill('2015');
  await family.getByLabel('Citizenship').fill('AL');
  await family.getByLabel('Relationship to the assisted person').selectOption('CHILD');
  await family.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: `Case ${person.code}-C1` }).waitFor();
  await page.locator('.tags').getByText('Family member').waitFor();
  await page.getByRole('link', { name: 'Open their case' }).click();
  await page.getByRole('heading', { name: `Case ${person.code}` }).waitFor();
  // A child's consents are given by a guardian: the consents section says so.
  await clean(page, errors);
});
