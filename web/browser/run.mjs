// Runs the browser tests against the real server: a fresh SQLite directory with the demo program
// loaded, `roadback serve` on a free port serving the built bundle (web/dist), then every
// `tests/*.test.mjs` in Debian's headless Chromium. Screenshots go to browser/screenshots/.
//
//   node browser/run.mjs                # all
//   node browser/run.mjs offline        # only test files whose name contains "offline"
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDemoServer } from './demo-server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const web = resolve(here, '..');
const repo = resolve(web, '..');
const binary =
  process.env.ROADBACK_BIN ?? join(process.env.CARGO_TARGET_DIR ?? join(repo, 'target'), 'debug', 'roadback');
if (!existsSync(binary)) throw new Error(`no roadback binary at ${binary}: build it (cargo build -p roadback-server)`);
if (!existsSync(join(web, 'dist', 'index.html'))) throw new Error('the web client is not built: npm run build');

const { url, data, stop } = await startDemoServer(binary, join(web, 'dist'));

const only = process.argv[2];
const files = readdirSync(join(here, 'tests'))
  .filter((f) => f.endsWith('.test.mjs') && (!only || f.includes(only)))
  .map((f) => join(here, 'tests', f));
const tests = spawn(process.execPath, ['--test', '--test-concurrency=1', ...files], {
  env: { ...process.env, ROADBACK_URL: url, ROADBACK_DATA: data, ROADBACK_BIN: binary },
  stdio: 'inherit',
});
const code = await new Promise((ok) => tests.on('exit', (c) => ok(c ?? 1)));
await stop();
process.exit(code);
