/**
 * The control socket's boundary, in-process with a stub dispatch table: JSON-RPC 2.0 as the spec has it for
 * every malformed message, and the bounds that keep one client from exhausting the daemon.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MAX_BATCH, MAX_PENDING_CALLS, RPC_CODES, type DaemonStatus } from '../../daemon/api/rpc.js';
import type { Handlers } from '../../daemon/rpc/methods.js';
import { RpcServer } from '../../daemon/rpc/server.js';
import { silentLogger } from '../helpers/log.js';
import { RawRpc } from '../helpers/raw-rpc.js';
import { waitUntil } from '../helpers/wait.js';

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
    'session.enable': unused,
    'session.disable': unused,
    'session.wait': unused,
    'events.subscribe': unused,
    'logs.read': unused,
    'cluster.names': unused,
    ...over,
  };
}

/** An RpcServer on a socket in a temp folder. */
async function serve(handlers: Handlers = table(), opts: { heartbeatMs?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'kport-rpc-'));
  const socket = join(dir, 'kportd.sock');
  const server = new RpcServer(handlers, { sessions: new EventEmitter(), logs: new EventEmitter() }, silentLogger(), opts);
  await server.listen(socket);
  return {
    socket,
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

type Answer = { jsonrpc: string; id: unknown; result?: unknown; error?: { code: number; message: string } };

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

describe('bounded work per client', () => {
  const request = (id: number, method = 'daemon.status', params: unknown = {}) => ({ jsonrpc: '2.0', id, method, params });

  test(`a batch of more than ${MAX_BATCH} calls gets one -32600 that says so; ${MAX_BATCH} are answered`, async () => {
    const srv = await serve();
    const rpc = await RawRpc.open(srv.socket);
    try {
      const batch = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => request(i)));
      rpc.send(batch(2_000));
      const [refused] = (await rpc.take(1)) as Answer[];
      assert.equal(refused!.id, null);
      assert.equal(refused!.error?.code, -32600);
      assert.match(refused!.error!.message, /batch of 2000 calls.*at most 100/);
      rpc.send(batch(MAX_BATCH));
      const answered = (await rpc.take(2))[1];
      assert.ok(Array.isArray(answered));
      assert.equal(answered.length, MAX_BATCH);
    } finally {
      await rpc.close();
      await srv.close();
    }
  });

  test(`at most ${MAX_PENDING_CALLS} calls wait per connection; closing it releases them`, async () => {
    let waiting = 0;
    const srv = await serve(
      table({
        'session.wait': (_p, caller) =>
          new Promise((_resolve, reject) => {
            waiting++;
            caller.signal.addEventListener('abort', () => (waiting--, reject(caller.signal.reason as Error)), { once: true });
          }),
      }),
    );
    const rpc = await RawRpc.open(srv.socket);
    try {
      const extra = 44;
      for (let i = 0; i < MAX_PENDING_CALLS + extra; i++) rpc.send(JSON.stringify(request(i, 'session.wait', { name: 'x' })));
      const refused = (await rpc.take(extra)) as Answer[];
      assert.deepEqual(new Set(refused.map((a) => a.error?.code)), new Set([RPC_CODES.LIMIT_EXCEEDED]));
      assert.equal(waiting, MAX_PENDING_CALLS);
      await rpc.close();
      await waitUntil(() => waiting === 0, 'the pending waits to be released');
    } finally {
      await srv.close();
    }
  });

  test('a client that leaves its answers unread is disconnected, not buffered for without bound', async () => {
    let signal: AbortSignal | null = null;
    const srv = await serve(
      table({
        'logs.read': (_p, caller) => {
          signal = caller.signal;
          return { lines: ['x'.repeat(1 << 20)] };
        },
      }),
    );
    const rpc = await RawRpc.open(srv.socket);
    try {
      rpc.ws.pause();
      const asked = 64;
      for (let i = 0; i < asked; i++) rpc.send(JSON.stringify(request(i, 'logs.read')));
      await waitUntil(() => signal?.aborted === true, 'kportd to drop the connection', 10_000);
      rpc.ws.resume();
      await rpc.closed;
      assert.ok(rpc.messages.length < asked, `all ${asked} MiB of answers were queued`);
    } finally {
      await srv.close();
    }
  });

  test('a connection that stops answering pings is closed; one that answers stays', async () => {
    const srv = await serve(table(), { heartbeatMs: 50 });
    const silent = await RawRpc.open(srv.socket, { autoPong: false });
    const alive = await RawRpc.open(srv.socket);
    try {
      await silent.closed;
      assert.equal(alive.ws.readyState, alive.ws.OPEN);
      alive.send(JSON.stringify(request(1)));
      assert.deepEqual(((await alive.take(1)) as Answer[]).map((a) => a.id), [1]);
    } finally {
      await alive.close();
      await srv.close();
    }
  });
});

describe('the socket file', () => {
  test('is 0600; a folder kportd makes for it is 0700, a folder that was there keeps its mode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kport-rpc-'));
    try {
      chmodSync(dir, 0o755); // the user's own folder, e.g. KPORT_SOCKET=$HOME/kportd.sock
      for (const [socket, folder, mode] of [[join(dir, 'kportd.sock'), dir, 0o755], [join(dir, 'made', 'kportd.sock'), join(dir, 'made'), 0o700]] as const) {
        const server = new RpcServer(table(), { sessions: new EventEmitter(), logs: new EventEmitter() }, silentLogger());
        await server.listen(socket);
        try {
          assert.equal(statSync(socket).mode & 0o777, 0o600);
          assert.equal(statSync(folder).mode & 0o777, mode, folder);
        } finally {
          await server.close();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
