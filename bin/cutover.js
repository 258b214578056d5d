#!/usr/bin/env node
// The `cutover` command: TypeScript sources run through tsx, resolved from this file, so any cwd works.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
