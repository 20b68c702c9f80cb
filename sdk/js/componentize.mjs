#!/usr/bin/env node
// Turns one JavaScript module into a genops plugin component with componentize-js.
//
//   node componentize.mjs --source paragraph.js --wit <wit dir> --world chunker-plugin --out paragraph.wasm
//
// `genops plugin build` runs this script; it can also be run by hand. It exits 0 on success,
// or 1 with the reason on stderr, and prints nothing else.

import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));

// Every engine feature pulls WASI imports into the component, and `http` even makes it import
// `wasi:http`, which the genops host does not provide. Plugins talk to the world only through
// the genops imports, so all of them are off. The price: no console output, no Math.random,
// no Date.now, and an uncaught exception traps without a message.
const DISABLED_FEATURES = ['stdio', 'random', 'clocks', 'http', 'fetch-event'];

function fail(message) {
  process.stderr.write(`componentize: ${message}\n`);
  process.exit(1);
}

let options;
try {
  ({ values: options } = parseArgs({
    options: {
      source: { type: 'string' },
      wit: { type: 'string' },
      world: { type: 'string' },
      out: { type: 'string' },
    },
    strict: true,
  }));
} catch (error) {
  fail(error.message);
}
for (const name of ['source', 'wit', 'world', 'out']) {
  if (!options[name]) fail(`missing --${name}`);
}

let componentize;
try {
  ({ componentize } = await import('@bytecodealliance/componentize-js'));
} catch (error) {
  fail(`cannot load @bytecodealliance/componentize-js (${error.message}); run \`npm ci\` in ${here}`);
}

try {
  // Absolute paths, so the result does not depend on the folder node runs in.
  const { component } = await componentize({
    sourcePath: resolve(options.source),
    witPath: resolve(options.wit),
    worldName: options.world,
    disableFeatures: DISABLED_FEATURES,
  });
  writeFileSync(resolve(options.out), component);
} catch (error) {
  fail(String(error?.message ?? error));
}
