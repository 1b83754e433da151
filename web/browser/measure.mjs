// Measures the web client on the demo program (scripts/bench web): the bundle's sizes, and the
// first load of the caseload in Debian's headless Chromium, on loopback and on an emulated slow
// mobile connection, with a cold cache and again with the bundle cached. Prints a Markdown
// section for BENCHMARKS.md. Speed is measured here, never asserted in a test.
//
//   node web/browser/measure.mjs <roadback binary> [runs]
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { startDemoServer } from './demo-server.mjs';
import { launch } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(here, '..', 'dist');
const [binaryArg, runsArg] = process.argv.slice(2);
const binary = resolve(binaryArg);
const RUNS = Number(runsArg ?? 7);
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;

// The bundle: each file as sent (brotli), by what loads it.
const assets = readdirSync(join(dist, 'assets')).filter((f) => /\.(js|css)$/.test(f));
const size = (f) => {
  const body = readFileSync(join(dist, 'assets', f));
  return { raw: body.length, gzip: gzipSync(body, { level: 9 }).length, br: brotliCompressSync(body).length };
};
const files = assets.map((f) => ({ f, ...size(f) })).sort((a, b) => b.raw - a.raw);
const first = readFileSync(join(dist, 'index.html'), 'utf8');
const loadedFirst = files.filter((x) => first.includes(x.f));

const { url, stop } = await startDemoServer(binary, dist);

// A mobile connection as field offices report them (Chrome DevTools' "Slow 3G" profile is
// 400 kbit/s and 2 s round trips; this is its "Fast 3G": 1.6 Mbit/s down, 750 kbit/s up, 562 ms).
const NETWORKS = [
  { name: 'loopback', conditions: null },
  {
    name: '3G (1.6 Mbit/s, 562 ms round trip)',
    conditions: {
      offline: false,
      latency: 562,
      downloadThroughput: (1.6e6 / 8) * 0.9,
      uploadThroughput: (750e3 / 8) * 0.9,
    },
  },
];

const browser = await launch();
const chromium = browser.version();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const network of NETWORKS) {
  const cold = [];
  const warm = [];
  let bytes = 0;
  for (let run = 0; run < RUNS; run++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    // Signed in beforehand (the cookie), so the load measured is the caseload's alone.
    await page.goto(`${url}/sign-in`);
    await page.evaluate(async () => {
      await fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: 'mutation { signIn(email: "caseworker1@shpresa.demo", password: "roadback-demo") { expiresAt } }',
        }),
      });
    });
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.clearBrowserCache');
    if (network.conditions) await cdp.send('Network.emulateNetworkConditions', network.conditions);
    let transferred = 0;
    cdp.on('Network.loadingFinished', (e) => (transferred += e.encodedDataLength));
    for (const list of [cold, warm]) {
      const started = Date.now();
      await page.goto(`${url}/`);
      await page.locator('table.cases tbody tr').first().waitFor({ timeout: 120_000 });
      list.push(Date.now() - started);
      if (list === cold) bytes = transferred;
    }
    await context.close();
  }
  rows.push({ network: network.name, cold: median(cold), warm: median(warm), bytes });
}
await browser.close();
await stop();

const date = new Date().toISOString().slice(0, 10);
const out = [];
out.push(`Run of \`scripts/bench web\` on ${date}: ${process.env.BENCH_MACHINE ?? ''}; Chromium ${chromium}`.trim());
out.push('');
out.push(
  `The first load of the caseload: from navigating to \`/\` (signed in) until the first row of the caseload table is on screen, on the demo program (caseworker1@shpresa.demo, 25 cases a page), SQLite, the release binary; median of ${RUNS} fresh browser contexts. "Cold": nothing cached; "warm": the same page loaded again (the bundle cached, \`immutable\`; the page and the data fetched again).`,
);
out.push('');
out.push('| connection | cold load | warm load | transferred (cold) |');
out.push('|---|---:|---:|---:|');
for (const r of rows)
  out.push(
    `| ${r.network} | ${r.cold.toLocaleString('en')} ms | ${r.warm.toLocaleString('en')} ms | ${kib(r.bytes)} |`,
  );
out.push('');
out.push(
  'The bundle (`web/dist/assets`), each file as built, gzip -9 and brotli (what the server sends to a browser that takes it):',
);
out.push('');
out.push('| file | loaded | size | gzip | brotli |');
out.push('|---|---|---:|---:|---:|');
const named = (f) => f.replace(/-[\w-]{8}\./, '.');
const listed = files.filter((x) => loadedFirst.includes(x) || x.raw >= 10 * 1024);
for (const x of listed)
  out.push(
    `| \`${named(x.f)}\` | ${loadedFirst.includes(x) ? 'first page' : 'when opened'} | ${kib(x.raw)} | ${kib(x.gzip)} | ${kib(x.br)} |`,
  );
const rest = files.filter((x) => !listed.includes(x));
const sum = (k) => rest.reduce((n, x) => n + x[k], 0);
if (rest.length)
  out.push(
    `| ${rest.length} smaller chunks (GraphiQL's editor modes, lazy pages) | when opened | ${kib(sum('raw'))} | ${kib(sum('gzip'))} | ${kib(sum('br'))} |`,
  );
const firstBr = loadedFirst.reduce((n, x) => n + x.br, 0);
out.push('');
out.push(
  `What the first page needs: ${kib(firstBr)} with brotli (GraphiQL and its editor load only at \`/graphiql\`).`,
);
console.log(out.join('\n'));
