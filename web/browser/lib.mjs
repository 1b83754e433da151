// What every browser test does: start Chromium, sign in as a demo user, save a screenshot, scan
// the page with axe-core, check that no interface string was missing from the catalogue.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const URL = process.env.ROADBACK_URL;
export const PASSWORD = 'roadback-demo';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const SHOTS = join(here, 'screenshots');
mkdirSync(SHOTS, { recursive: true });

/** Debian's Chromium, headless, with nothing that calls out to the network. */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/** The browser sessions' time zone: UTC+14, the earliest, so for most of each day the browser's
 * calendar is a day ahead of UTC's and a test that mixes the two fails every time, not only in
 * the hour after midnight in Tirane (where the TVRP works, UTC+1 or +2). */
export const TIME_ZONE = 'Pacific/Kiritimati';

/** A fresh browser session (its own cookies and storage) at laptop size, or another. */
export async function session(browser, viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport, locale: 'en-GB', timezoneId: TIME_ZONE });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource|WebSocket/.test(m.text())) errors.push(m.text());
  });
  return { context, page, errors };
}

/** Signs in through the form, as a person would. */
export async function signIn(page, email) {
  await page.goto(`${URL}/sign-in`);
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** Saves a screenshot under browser/screenshots/. */
export async function screenshot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** axe-core on the page as it is: no serious or critical violation. */
export async function accessible(page, what) {
  // Evaluated through the DevTools protocol: the page's CSP (no inline scripts) stays in force.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  const result = await page.evaluate(async () => axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} — ${v.nodes
          .slice(0, 3)
          .map((n) => n.target.join(' '))
          .join(', ')}`,
    );
  assert.deepEqual(bad, [], `${what}: accessibility violations`);
}

/** No interface string was asked for that a catalogue lacks, and nothing failed in the page. */
export async function clean(page, errors) {
  const missing = await page.evaluate(() => window.__roadbackMissing ?? []);
  assert.deepEqual(missing, [], 'untranslated keys');
  assert.deepEqual(errors, [], 'errors in the page');
}

/** GraphQL from inside the page (its session cookie, same origin), for setting up and checking. */
export async function graphql(page, query, variables = {}) {
  return page.evaluate(
    async ({ query, variables }) => {
      const response = await fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      return response.json();
    },
    { query, variables },
  );
}

/**
 * A person registered through the API with consent to assistance, for tests that need a fresh
 * case; returns its id and code.
 */
export async function registered(
  page,
  { code = `T-${Date.now()}-${Math.floor(Math.random() * 1000)}`, personalData } = {},
) {
  const key = () => crypto.randomUUID();
  const day = today();
  const made = await graphql(
    page,
    `
      mutation ($i: RegisterBeneficiaryInput!) {
        registerBeneficiary(input: $i) {
          beneficiaryId
          version
        }
      }
    `,
    {
      i: {
        idempotencyKey: key(),
        occurredOn: day,
        caseCode: code,
        gender: 'FEMALE',
        birthYear: 1990,
        citizenship: 'AL',
        countryOfAssistance: 'AL',
        identifiedOn: day,
        identificationRoute: 'OUTREACH',
        personalData,
      },
    },
  );
  assert.ok(made.data, JSON.stringify(made.errors));
  const { beneficiaryId: id, version } = made.data.registerBeneficiary;
  const consent = await graphql(
    page,
    `
      mutation ($i: GiveConsentInput!) {
        giveConsent(input: $i) {
          version
        }
      }
    `,
    {
      i: {
        beneficiaryId: id,
        expectedVersion: version,
        idempotencyKey: key(),
        occurredOn: day,
        kind: 'ASSISTANCE',
        givenBy: 'BENEFICIARY',
        evidence: 'SIGNED_FORM',
      },
    },
  );
  assert.ok(consent.data, JSON.stringify(consent.errors));
  return { id, code, version: consent.data.giveConsent.version };
}

/** Records a service delivered today through the API, as `page`'s user; its new version. */
export async function delivered(page, id, expectedVersion, service) {
  const recorded = await graphql(
    page,
    `
      mutation ($i: RecordServiceDeliveryInput!) {
        recordServiceDelivery(input: $i) {
          version
        }
      }
    `,
    { i: { beneficiaryId: id, expectedVersion, idempotencyKey: crypto.randomUUID(), occurredOn: today(), service } },
  );
  assert.ok(recorded.data, JSON.stringify(recorded.errors));
  return recorded.data.recordServiceDelivery.version;
}

/** The event types of a case's timeline, oldest first, as the server holds them. */
export async function eventTypes(page, id) {
  const read = await graphql(
    page,
    `
      query ($id: UUID!) {
        beneficiary(id: $id) {
          timeline(last: 500) {
            eventType
            version
          }
        }
      }
    `,
    { id },
  );
  assert.ok(read.data, JSON.stringify(read.errors));
  return read.data.beneficiary.timeline.sort((a, b) => a.version - b.version).map((e) => e.eventType);
}

/** Today as the browser's calendar has it (in [TIME_ZONE], not UTC: the web client's forms
 * default to that day, and between midnight there and midnight UTC the two differ). */
export function today() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: TIME_ZONE }).format(new Date());
}
