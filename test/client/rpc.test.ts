/** The RPC client in-process against the fake: typed calls, error codes, notifications, and a daemon that is gone. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { JSONRPCErrorException } from 'json-rpc-2.0';
import { connect, DaemonNotRunning, type RpcClient } from '../../client/rpc.js';
import { KportError } from '../../daemon/api/errors.js';
import { JSONRPC_CODES } from '../../daemon/api/rpc.js';
import type { SessionStatus } from '../../daemon/api/session.js';
import { FakeDaemon, forwardSpec, rpcError, sessionStatus } from './fake-daemon.js';

describe('rpc client', () => {
  let fake: FakeDaemon;
  let rpc: RpcClient;
  before(async () => {
    fake = await FakeDaemon.start(
      {
        'session.get': ({ name }) => {
          if (name === 'bad-params') throw new JSONRPCErrorException('Invalid params', JSONRPC_CODES.INVALID_PARAMS);
          if (name === 'no-method') throw new JSONRPCErrorException('Method not found', JSONRPC_CODES.METHOD_NOT_FOUND);
          throw rpcError('NOT_FOUND', `no session named "${name}"`);
        },
      },
      [sessionStatus(forwardSpec('web'))],
    );
    rpc = await connect(fake.socket);
  });
  after(async () => {
    await rpc.close();
    await fake.close();
  });

  test('a call resolves with the typed result', async () => {
    const list = await rpc.call('session.list', {});
    assert.deepEqual(list.map((s) => s.name), ['web']);
    assert.deepEqual(fake.paramsOf('session.list'), [{}]);
  });

  test('a kport error keeps its stable code and details', async () => {
    await assert.rejects(rpc.call('session.get', { name: 'nope' }), (err: unknown) => {
      assert.ok(err instanceof KportError);
      assert.equal(err.code, 'NOT_FOUND');
      assert.equal(err.message, 'no session named "nope"');
      return true;
    });
  });

  test('JSON-RPC protocol errors without kport data map to INVALID_PARAMS or INTERNAL', async () => {
    await assert.rejects(rpc.call('session.get', { name: 'bad-params' }), (err: unknown) => err instanceof KportError && err.code === 'INVALID_PARAMS');
    await assert.rejects(rpc.call('session.get', { name: 'no-method' }), (err: unknown) => err instanceof KportError && err.code === 'INTERNAL');
  });

  test('notifications reach their handlers in order', async () => {
    const seen: string[] = [];
    const done = new Promise<void>((resolve) => {
      rpc.on('session.changed', (s) => seen.push(`${s.name}:${s.state}`));
      rpc.on('session.removed', ({ name }) => {
        seen.push(`removed:${name}`);
        resolve();
      });
    });
    await rpc.call('events.subscribe', {});
    fake.notify('session.changed', sessionStatus(forwardSpec('a'), { state: 'waiting' }));
    fake.notify('session.changed', sessionStatus(forwardSpec('a')));
    fake.notify('session.removed', { name: 'a' });
    await done;
    assert.deepEqual(seen, ['a:waiting', 'a:ready', 'removed:a']);
  });

  test('no socket, or nothing answering: DaemonNotRunning, saying which', async () => {
    await assert.rejects(connect(`${fake.dir}/missing.sock`), (err: unknown) => err instanceof DaemonNotRunning && err.why === 'missing');
  });

  test('kportd going away: pending and later calls reject with DaemonNotRunning, closed resolves', async () => {
    let received = () => {};
    const arrived = new Promise<void>((resolve) => (received = resolve));
    // Never answers: the call stays pending until the connection goes.
    const doomed = await FakeDaemon.start({ 'session.get': () => (received(), new Promise<SessionStatus>(() => {})) });
    const client = await connect(doomed.socket);
    const pending = assert.rejects(client.call('session.get', { name: 'web' }), (err: unknown) => err instanceof DaemonNotRunning && err.why === 'closed');
    await arrived;
    await doomed.close();
    await pending;
    assert.ok((await client.closed) instanceof DaemonNotRunning);
    await assert.rejects(client.call('session.list', {}), DaemonNotRunning);
    await client.close();
  });
});
