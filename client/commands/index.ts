/** The dispatch table: every kportctl verb, in the order `kportctl --help` lists them. */
import type { Command } from '../command.js';
import { add } from './add.js';
import { completeWords, completion } from './completion.js';
import { start, stop } from './daemon.js';
import { disable, enable } from './enable.js';
import { env } from './env.js';
import { events } from './events.js';
import { gateway } from './gateway.js';
import { list } from './list.js';
import { logs } from './logs.js';
import { port } from './port.js';
import { proxy } from './proxy.js';
import { reload } from './reload.js';
import { remove } from './remove.js';
import { restart } from './restart.js';
import { service } from './service.js';
import { status } from './status.js';
import { version } from './version.js';
import { wait } from './wait.js';

/** Every verb. */
export const COMMANDS: readonly Command[] = [list, add, proxy, gateway, env, remove, restart, enable, disable, wait, port, events, status, reload, logs, start, stop, service, version, completion, completeWords];
