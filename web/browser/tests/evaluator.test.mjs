// An evaluator's dashboard: curves with bands and the numbers at risk under them, medians, the
// results table with a withheld cell saying why, a data lock checked again, and an export with
// its codebook downloaded.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { accessible, clean, launch, screenshot, session, signIn } from '../lib.mjs';

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

test('an evaluator sees curves with numbers at risk and a withheld cell, locks the results and downloads an export', async () => {
  const { page, errors } = await session(browser);
  await signIn(page, 'evaluator@shpresa.demo');
  await page.getByRole('heading', { name: 'Program results' }).waitFor({ timeout: 30_000 });
  assert.match(page.url(), /\/evaluation$/, "the evaluation dashboard is an evaluator's home");

  const results = page.locator('table.results');
  assert.ok((await results.locator('tbody tr').count()) >= 7, 'a line per country and the total');
  await page.locator('.chart canvas').first().waitFor();
  const atRisk = page.getByRole('table', { name: 'Numbers at risk' });
  await atRisk.waitFor();
  assert.match(await atRisk.locator('tbody tr').first().locator('td').first().textContent(), /^[\d,.\s]+$/);
  await page.getByRole('table', { name: 'Median time to the outcome' }).waitFor();
  await page.getByText(/^Log-rank test: χ² = /).waitFor();

  const withheld = page.locator('.withheld').first();
  await withheld.waitFor();
  assert.match(await withheld.textContent(), /withheld/);
  assert.match(await withheld.getAttribute('title'), /Withheld: fewer people than the threshold|worked out/);
  await accessible(page, 'evaluation dashboard');
  await screenshot(page, 'evaluator-1-dashboard');

  const lock = page.getByRole('form', { name: 'Lock these results' });
  const name = `report-${Date.now()}`;
  await lock.getByLabel('Name').fill(name);
  await lock.getByRole('button', { name: 'Lock' }).click();
  await lock.getByText(`Locked as ${name}.`).waitFor({ timeout: 30_000 });
  await page.getByRole('button', { name: `Check it again ${name}` }).click();
  await page.getByText('Still the same.').waitFor({ timeout: 30_000 });

  await page.getByLabel('File').selectOption('ADTTE');
  await page.getByRole('button', { name: 'Prepare the export' }).click();
  const link = page.getByRole('link', { name: /^Download .*\.csv$/ }).first();
  await link.waitFor({ timeout: 30_000 });
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const csv = readFileSync(await download.path(), 'utf8');
  assert.match(csv.split('\n')[0], /USUBJID.*PARAMCD.*AVAL.*CNSR/);
  assert.ok(csv.split('\n').length > 100);
  const [book] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: /codebook\.csv$/ }).click(),
  ]);
  assert.match(book.suggestedFilename(), /\.codebook\.csv$/);
  assert.match(readFileSync(await book.path(), 'utf8'), /USUBJID/);
  await screenshot(page, 'evaluator-2-export');
  await clean(page, errors);
});
