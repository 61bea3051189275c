#!/usr/bin/env node
/** kportd: the kport daemon's command line. */
import { runCheck } from '../config/check.js';

const [verb, ...rest] = process.argv.slice(2);
if (verb === 'check') {
  const result = await runCheck(rest[0], process.env);
  process.stdout.write(result.text);
  process.exitCode = result.code;
} else {
  process.stderr.write('kportd: the daemon is not built yet; only `kportd check [FILE]` works\n');
  process.exitCode = 2;
}
