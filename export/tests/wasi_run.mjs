// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
// wasi_run.mjs - runs a WASI command module (a C main program built for wasm32-wasi) under node's WASI
// and exits with its status: the C tests and lgrin_bench of the WebAssembly builds (tests/wasm_check.sh).
//
//   node wasi_run.mjs [--dir DIR]... MODULE.wasm [ARG]...
//
// Each DIR is readable inside the module under its own path; the environment passes through (so
// LGRIN_KERNELS picks lgrin_bench's kernel family).
import { readFile } from 'node:fs/promises';
import process from 'node:process';
import { WASI } from 'node:wasi';

const argv = process.argv.slice(2);
const preopens = {};
while (argv[0] === '--dir' && argv.length > 1) {
  preopens[argv[1]] = argv[1];
  argv.splice(0, 2);
}
if (argv.length < 1) {
  console.error('usage: node wasi_run.mjs [--dir DIR]... MODULE.wasm [ARG]...');
  process.exit(2);
}
const wasi = new WASI({ version: 'preview1', args: argv, env: process.env, preopens, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(argv[0]));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exit(wasi.start(instance));
