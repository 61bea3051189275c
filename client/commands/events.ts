/** `kportctl events`: session changes as they happen, one line each, until Ctrl-C. */
import type { SessionStatus } from '../../daemon/api/session.js';
import { command, JSON_FLAG } from '../command.js';
import { STANDARD_EXITS } from '../help.js';
import { eventKey, eventLine, removedLine } from '../output/sessions.js';
import { styleFor } from '../output/style.js';
import { followUntilInterrupted } from './follow.js';

/** `kportctl events`. */
export const events = command({
  name: 'events',
  summary: 'follow session changes (state, reason) until Ctrl-C',
  usage: ['[--json]'],
  description: `
Prints a line for every change of a session's state or reason, and for every removal: the time,
the name, the state and the reason. Counter-only updates (traffic, connections) print nothing.
With --json, every notification is printed, one JSON object per line:
  {"type":"session.changed","at":ISO-TIME,"session":{…as kportctl list --json}}
  {"type":"session.removed","at":ISO-TIME,"name":NAME}`,
  examples: ['kportctl events', "kportctl events --json | jq -c 'select(.session.state == \"failed\")'"],
  flags: { ...JSON_FLAG },
  positionals: { min: 0, max: 0 },
  exits: STANDARD_EXITS,
  async run({ flags: f, io, connect }) {
    const interrupted = io.interrupted();
    const rpc = await connect();
    const style = styleFor(io.stdout.isTTY, io.env);
    const printed = new Map<string, string>();
    const json = (line: object) => io.stdout.write(`${JSON.stringify(line)}\n`);
    function onChanged(s: SessionStatus): void {
      if (f.json) return json({ type: 'session.changed', at: new Date().toISOString(), session: s });
      if (printed.get(s.name) === eventKey(s)) return;
      printed.set(s.name, eventKey(s));
      io.stdout.write(`${eventLine(new Date(), s, style)}\n`);
    }
    function onRemoved({ name }: { name: string }): void {
      printed.delete(name);
      if (f.json) return json({ type: 'session.removed', at: new Date().toISOString(), name });
      io.stdout.write(`${removedLine(new Date(), name, style)}\n`);
    }
    rpc.on('session.changed', onChanged);
    rpc.on('session.removed', onRemoved);
    await rpc.call('events.subscribe', {});
    return followUntilInterrupted(interrupted, rpc);
  },
});
