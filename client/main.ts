#!/usr/bin/env node
/** kportctl: the command line over kportd's control socket. */
import type { Io, Output } from './command.js';
import { runCli } from './cli.js';
import { COMMANDS } from './commands/index.js';

function output(stream: NodeJS.WriteStream): Output {
  return {
    write: (text) => void stream.write(text),
    isTTY: stream.isTTY === true,
    get columns() {
      return stream.columns;
    },
    get rows() {
      return stream.rows;
    },
    onResize(listener) {
      stream.on('resize', listener);
      return () => void stream.off('resize', listener);
    },
  };
}

// A reader that goes away (`kportctl events | head -1`) ends the output; it is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(0);
});

const io: Io = {
  stdout: output(process.stdout),
  stderr: output(process.stderr),
  env: process.env,
  cwd: process.cwd(),
  platform: process.platform,
  interrupted: () => new Promise((resolve) => void process.once('SIGINT', () => resolve())),
};
// Not a top-level await: the single executable's CommonJS bundle has none.
void runCli(process.argv.slice(2), COMMANDS, io).then((code) => (process.exitCode = code));
