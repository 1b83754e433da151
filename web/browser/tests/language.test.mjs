// Switching language changes every visible string: nothing is left in English, no key is missing
// from a catalogue, and the choice is remembered.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { URL, accessible, clean, launch, registered, screenshot, session, signIn } from '../lib.mjs';

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

const catalogue = (language) =>
  JSON.parse(readFileSync(new globalThis.URL(`../../src/i18n/${language}.json`, import.meta.url), 'utf8'));
function strings(tree, out = []) {
  for (const v of Object.values(tree)) typeof v === 'string' ? out.push(v) : strings(v, out);
  return out;
}
// English interface strings as they would appear whole on a page (those without placeholders).
const ENGLISH = new Set(
  strings(catalogue('en'))
    .filter((s) => !s.includes('{{'))
    .map((s) => s.trim()),
);

/** Every string a person can see or hear on the page: text, options, labels for assistive technology. */
async function visibleStrings(page) {
  return page.evaluate(() => {
    const out = new Set();
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent.trim();
      const parent = node.parentElement;
      if (!text || !parent || parent.closest('script,style')) continue;
      if (parent.tagName === 'OPTION' || parent.getClientRects().length) out.add(text);
    }
    for (const el of document.querySelectorAll('[aria-label],[placeholder],[title]'))
      for (const a of ['aria-label', 'placeholder', 'title'])
        if (el.getAttribute(a)) out.add(el.getAttribute(a).trim());
    return [...out];
  });
}

/** The pages a caseworker moves through, each in its states worth reading. */
async function tour(page, person, visit) {
  await page.goto(`${URL}/`);
  await page.locator('table.cases tbody tr').first().waitFor();
  await visit('caseload');
  await page.goto(`${URL}/register`);
  await page.locator('form').first().waitFor();
  await visit('register');
  await page.goto(`${URL}/cases/${person.id}`);
  await page.locator('.record-bar select').waitFor();
  for (const tab of ['timeline', 'plan', 'assessments', 'consents', 'personal']) {
    await page.locator(`#tab-${tab}`).click();
    await page.locator(`#panel-${tab}`).waitFor();
    await page.waitForTimeout(150);
    await visit(`case-${tab}`);
  }
  await page.locator('.record-bar select').selectOption('recordAssessment');
  await page.locator('form.command-form').waitFor();
  await visit('assessment-form');
}

test('every visible string changes with the language, in all four', async () => {
  const { page, errors } = await session(browser);
  await signIn(page, 'caseworker1@shpresa.demo');
  const person = await registered(page);
  const seenInEnglish = new Map();
  await tour(page, person, async (where) => seenInEnglish.set(where, new Set(await visibleStrings(page))));

  for (const language of ['sq', 'sr', 'mk']) {
    await page.goto(`${URL}/`);
    await page.locator('header .language select').selectOption(language);
    await page.waitForFunction((l) => document.documentElement.lang === l, language);
    await tour(page, person, async (where) => {
      const seen = await visibleStrings(page);
      const english = seen.filter((s) => ENGLISH.has(s));
      assert.deepEqual(english, [], `${language} ${where}: still in English`);
      // What reads the same in both languages must be data (codes, names, dates, numbers).
      const data = /Roadback|Shtëpia e Shpresës( caseworker 1)?|English|Shqip|Српски|Македонски|[·*–—:\s]/g;
      const same = seen.filter((s) => seenInEnglish.get(where)?.has(s) && !/\d/.test(s) && s.replace(data, '') !== '');
      assert.deepEqual(same, [], `${language} ${where}: unchanged`);
      if (where === 'case-timeline' || where === 'caseload') await screenshot(page, `language-${language}-${where}`);
    });
    await accessible(page, `${language} assessment form`);
    // A rule's refusal is said in the language too (the server's own English wording after it).
    await page.locator('form.command-form button[type="button"]').last().click(); // cancel the assessment
    await page.locator('.record-bar select').selectOption('recordServiceDelivery');
    const form = page.locator('form.command-form');
    await form.locator('select[name="service"]').selectOption('MEDICAL');
    await form.locator('input[name="occurredOn"]').fill('2099-01-01');
    await form.locator('button[type="submit"]').click();
    const refusal = form.locator('.field', { has: page.locator('input[name="occurredOn"]') }).locator('.field-error');
    await refusal.getByText(catalogue(language).rule.IN_THE_FUTURE).waitFor();
    assert.equal(await refusal.locator('[lang="en"]').count(), 1);
  }
  // The choice stays with the person: after signing out and in again it is still Macedonian.
  await page.getByRole('button', { name: catalogue('mk').app.signOut }).click();
  await page.locator('#sign-in-title').waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'mk');
  await clean(page, errors);
});
