#!/usr/bin/env node
// The `cutover` command, resolved from this file so that any cwd works (sources or build: see cutover-modules.js).
import { importCutover } from './cutover-modules.js';

const { main } = await importCutover('cli/main');
process.exitCode = await main(process.argv.slice(2));
