// Writes a brotli (.br) and a gzip (.gz) copy beside every text file of the bundle, so the server
// sends them compressed without compressing on each request.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const TEXT = /\.(js|mjs|css|html|svg|json|txt|map|wasm)$/;
let raw = 0;
let br = 0;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (TEXT.test(name)) {
      const body = readFileSync(path);
      const brotli = brotliCompressSync(body, {
        params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length },
      });
      writeFileSync(`${path}.br`, brotli);
      writeFileSync(`${path}.gz`, gzipSync(body, { level: 9 }));
      raw += body.length;
      br += brotli.length;
    }
  }
}
walk(new URL('../dist', import.meta.url).pathname);
console.log(`compressed the bundle: ${(raw / 1024).toFixed(0)} KiB, ${(br / 1024).toFixed(0)} KiB with brotli`);
