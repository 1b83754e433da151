// The real server on the demo program, for the browser tests and the measurements: a fresh
// SQLite directory, `roadback demo load`, then `roadback serve` on a free port and the bundle.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function startDemoServer(binary, dist) {
  const port = await new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
  const data = mkdtempSync(join(tmpdir(), 'roadback-demo-'));
  const env = { ...process.env, RUST_LOG: 'warn' };
  delete env.DATABASE_URL;
  delete env.ROADBACK_DATA_DIR;
  const loaded = spawnSync(binary, ['demo', 'load'], { cwd: data, env, stdio: ['ignore', 'ignore', 'inherit'] });
  if (loaded.status !== 0) throw new Error(`roadback demo load failed (${binary})`);
  const server = spawn(binary, ['serve', '--listen', `127.0.0.1:${port}`, '--web-dir', dist], {
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
  return {
    url,
    data,
    /** Stops the server and removes its directory. */
    async stop() {
      server.kill('SIGTERM');
      await new Promise((ok) => server.on('exit', ok));
      rmSync(data, { recursive: true, force: true });
    },
  };
}
