/**
 * What a session announces (`changed`, which kportctl events and waits follow): state changes at once, connection
 * counts gathered into one announcement however many connections a burst opens and closes.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import type { SessionStatus } from '../../daemon/api/session.js';
import { SessionCore } from '../../daemon/session/core.js';
import { silentLogger } from '../helpers/log.js';
import { forwardSpec } from '../helpers/specs.js';

function announcements(core: SessionCore): SessionStatus[] {
  const seen: SessionStatus[] = [];
  core.on('changed', (s: SessionStatus) => seen.push(s));
  return seen;
}

test('a burst of 100 connections is one announcement, carrying the counts the burst left', async () => {
  const core = new SessionCore(forwardSpec('web'), 'config', silentLogger());
  const seen = announcements(core);
  for (let i = 0; i < 100; i++) core.connectionOpened();
  for (let i = 0; i < 60; i++) core.connectionClosed();
  assert.equal(seen.length, 0, 'nothing is announced per connection');
  const [status] = (await once(core, 'changed')) as [SessionStatus];
  assert.deepEqual([status.counters.connectionsTotal, status.counters.connectionsActive], [100, 40]);
  assert.equal(seen.length, 1);
});

test('a state change is announced at once, with the counts not yet announced; counts after it are announced too', async () => {
  const core = new SessionCore(forwardSpec('web'), 'config', silentLogger());
  const seen = announcements(core);
  core.connectionOpened();
  core.transition('ready', 'forwarding to pod web-0');
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.state, 'ready');
  assert.equal(seen[0]!.counters.connectionsTotal, 1);
  // The state change took the pending announcement over: the next count change schedules one of its own.
  core.connectionClosed();
  const [next] = (await once(core, 'changed')) as [SessionStatus];
  assert.equal(next.counters.connectionsActive, 0);
  assert.equal(seen.length, 2);
});
