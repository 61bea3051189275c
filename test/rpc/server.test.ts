/**
 * The control socket's boundary, in-process with a stub dispatch table: JSON-RPC 2.0 as the spec has it for
 * every malformed message.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DaemonStatus } from '../../daemon/api/rpc.js';
import type { Handlers } from '../../daemon/rpc/methods.js';
import { RpcServer } from '../../daemon/rpc/server.js';
import { silentLogger } from '../helpers/log.js';
import { RawRpc } from '../helpers/raw-rpc.js';

const unused = () => {
  throw new Error('not used by this test');
};

/** A dispatch table where only what a test sets is callable; `daemon.status` answers at once. */
function table(over: Partial<Handlers> = {}): Handlers {
  return {
    'daemon.status': () => ({ pid: 1 }) as DaemonStatus,
    'daemon.shutdown': unused,
    'config.reload': unused,
    'session.list': () => [],
    'session.get': unused,
    'session.add': unused,
    'session.remove': unused,
    'session.restart': unused,
    'session.wait': unused,
    'events.subscribe': unused,
    'logs.read': unused,
    ...over,
  };
}

/** An RpcServer on a socket in a temp folder. */
async function serve(handlers: Handlers = table()) {
  const dir = mkdtempSync(join(tmpdir(), 'kport-rpc-'));
  const socket = join(dir, 'kportd.sock');
  const server = new RpcServer(handlers, { sessions: new EventEmitter(), logs: new EventEmitter() }, silentLogger());
  await server.listen(socket);
  return {
    socket,
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

type Answer = { jsonrpc: string; id: unknown; result?: unknown; error?: { code: number } };

describe('JSON-RPC 2.0 at the boundary', () => {
  let srv: Awaited<ReturnType<typeof serve>>;
  before(async () => (srv = await serve()));
  after(() => srv.close());

  /** The one message that `text` is answered with. */
  async function answerTo(text: string): Promise<unknown> {
    const rpc = await RawRpc.open(srv.socket);
    try {
      rpc.send(text);
      return (await rpc.take(1))[0];
    } finally {
      await rpc.close();
    }
  }
  const invalid = { jsonrpc: '2.0', id: null, error: { code: -32600 } };
  const shape = (a: unknown) => {
    const { jsonrpc, id, result, error } = a as Answer;
    return error ? { jsonrpc, id, error: { code: error.code } } : { jsonrpc, id, result };
  };

  test('null and [null] are invalid requests, answered as a single object and as an array', async () => {
    assert.deepEqual(shape(await answerTo('null')), invalid);
    const batch = await answerTo('[null]');
    assert.ok(Array.isArray(batch));
    assert.deepEqual(batch.map(shape), [invalid]);
  });

  test('an id that is not a string, a number or null is refused with id null, not echoed', async () => {
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    for (const id of [deep, '{"a":1}', '[1]', 'true']) {
      assert.deepEqual(shape(await answerTo(`{"jsonrpc":"2.0","method":"daemon.status","id":${id}}`)), invalid, `id ${id.slice(0, 20)}`);
    }
  });

  test('params that are not an object or an array are an invalid request, answered with the id', async () => {
    assert.deepEqual(shape(await answerTo('{"jsonrpc":"2.0","method":"daemon.status","params":5,"id":7}')), { ...invalid, id: 7 });
  });

  test('a batch is answered with an array, even of one; an empty batch with a single error', async () => {
    const one = await answerTo('[{"jsonrpc":"2.0","method":"daemon.status","id":1}]');
    assert.ok(Array.isArray(one));
    assert.deepEqual(one.map(shape), [{ jsonrpc: '2.0', id: 1, result: { pid: 1 } }]);
    const mixed = await answerTo(
      '[{"jsonrpc":"2.0","method":"daemon.status","id":1},{"jsonrpc":"2.0","method":"daemon.status"},5,{"jsonrpc":"2.0","method":"no.such","id":"x"}]',
    );
    assert.ok(Array.isArray(mixed));
    const sorted = (answers: unknown[]) => answers.map(shape).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    assert.deepEqual(sorted(mixed), sorted([{ jsonrpc: '2.0', id: 1, result: { pid: 1 } }, invalid, { jsonrpc: '2.0', id: 'x', error: { code: -32601 } }]));
    assert.deepEqual(shape(await answerTo('[]')), invalid);
  });

  test('a batch of notifications gets no answer; bad JSON gets -32700', async () => {
    const rpc = await RawRpc.open(srv.socket);
    try {
      rpc.send('[{"jsonrpc":"2.0","method":"daemon.status"},{"jsonrpc":"2.0","method":"session.list"}]');
      rpc.send('{oops');
      rpc.send('{"jsonrpc":"2.0","method":"session.list","id":2}');
      const answers = (await rpc.take(2)).map(shape);
      assert.deepEqual(answers, [{ jsonrpc: '2.0', id: null, error: { code: -32700 } }, { jsonrpc: '2.0', id: 2, result: [] }]);
    } finally {
      await rpc.close();
    }
    assert.equal(rpc.messages.length, 2);
  });
});
