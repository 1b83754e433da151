// Runs the browser tests against the real server: a fresh SQLite directory with the demo program
// loaded, `roadback serve` on a free port serving the built bundle (web/dist), then every
// `tests/*.test.mjs` in Debian's headless Chromium. Screenshots go to browser/screenshots/.
//
//   node browser/run.mjs                # all
//   node browser/run.mjs offline        # only test files whose name contains "offline"
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const web = resolve(here, '..');
const repo = resolve(web, '..');
const binary =
  process.env.ROADBACK_BIN ?? join(process.env.CARGO_TARGET_DIR ?? join(repo, 'target'), 'debug', 'roadback');
if (!existsSync(binary)) throw new Error(`no roadback binary at ${binary}: build it (cargo build -p roadback-server)`);
if (!existsSync(join(web, 'dist', 'index.html'))) throw new Error('the web client is not built: npm run build');

const port = await new Promise((ok) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => ok(port));
  });
});
const data = mkdtempSync(join(tmpdir(), 'roadback-browser-'));
const env = { ...process.env, RUST_LOG: 'warn' };
delete env.DATABASE_URL;
delete env.ROADBACK_DATA_DIR;

const loaded = spawnSync(binary, ['demo', 'load'], { cwd: data, env, stdio: ['ignore', 'ignore', 'inherit'] });
if (loaded.status !== 0) throw new Error('roadback demo load failed');

const server = spawn(binary, ['serve', '--listen', `127.0.0.1:${port}`, '--web-dir', join(web, 'dist')], {
  cwd: data,
  env,
  stdio: ['ignore', 'ignore', 'inherit'],
});
const url = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
  try {
    if ((await fetch(`${url}/readyz`)).ok) break;
  } catch {}
  if (i > 300) throw new Error('the server did not become ready');
  await new Promise((r) => setTimeout(r, 100));
}

const only = process.argv[2];
const files = readdirSync(join(here, 'tests'))
  .filter((f) => f.endsWith('.test.mjs') && (!only || f.includes(only)))
  .map((f) => join(here, 'tests', f));
const tests = spawn(process.execPath, ['--test', '--test-concurrency=1', ...files], {
  env: { ...process.env, ROADBACK_URL: url, ROADBACK_DATA: data, ROADBACK_BIN: binary },
  stdio: 'inherit',
});
const code = await new Promise((ok) => tests.on('exit', (c) => ok(c ?? 1)));
server.kill('SIGTERM');
await new Promise((ok) => server.on('exit', ok));
rmSync(data, { recursive: true, force: true });
process.exit(code);
