// GraphiQL comes from the bundle under the same CSP as the client (no CDN), and runs a query with
// the session, and one with an integrator's token in its headers.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { URL, accessible, clean, launch, screenshot, session, signIn } from '../lib.mjs';

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

async function run(page, query) {
  const editor = page.locator('.graphiql-query-editor .CodeMirror').first();
  await editor.waitFor();
  await editor.evaluate((el, q) => el.CodeMirror.setValue(q), query);
  await page.getByRole('button', { name: /Execute query/ }).click();
}

test('GraphiQL runs queries from the bundle, with the session or a token', async () => {
  const { page, errors } = await session(browser);
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  await signIn(page, 'caseworker1@shpresa.demo');
  await page.goto(`${URL}/graphiql`);
  await run(page, '{ me { user { email } } }');
  await page.locator('.result-window').getByText('caseworker1@shpresa.demo').waitFor();
  await accessible(page, 'GraphiQL');
  await screenshot(page, 'graphiql');
  assert.deepEqual(
    requests.filter((u) => !u.startsWith(URL) && !u.startsWith('data:') && !u.startsWith('blob:')),
    [],
    'nothing from elsewhere',
  );

  // An integrator, not signed in, with a token.
  const token = spawnSync(
    process.env.ROADBACK_BIN,
    ['token', 'issue', '--email', 'integrator@shpresa.demo', '--name', 'graphiql test', '--scopes', 'read'],
    {
      cwd: process.env.ROADBACK_DATA,
      encoding: 'utf8',
    },
  ).stdout.trim();
  assert.match(token, /^rbk_/);
  const other = await session(browser);
  await other.page.goto(`${URL}/graphiql`);
  const headers = other.page.locator('.graphiql-editor-tool .CodeMirror').last();
  await headers.waitFor();
  await headers.evaluate((el, t) => el.CodeMirror.setValue(JSON.stringify({ Authorization: `Bearer ${t}` })), token);
  await run(other.page, '{ me { user { role } } }');
  await other.page.locator('.result-window').getByText('INTEGRATOR').waitFor();
  await clean(page, errors);
  await clean(other.page, other.errors);
});
