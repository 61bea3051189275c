/**
 * JSON-RPC 2.0's envelope, checked at kportd's boundary as the spec has it. json-rpc-2.0 trusts its input (a
 * `null` message throws, an object id is echoed, a batch of one is answered with a bare object), so every message
 * is taken apart here first: which parts are requests to run, and the error answer for each part that is not.
 */
import type { JSONRPCErrorResponse, JSONRPCID, JSONRPCRequest } from 'json-rpc-2.0';
import { JSONRPC_CODES, MAX_BATCH, type RpcErrorData } from '../api/rpc.js';

/** One part of a message: a request to run, or the answer to send for it as it is. */
export type Part = { request: JSONRPCRequest } | { answer: JSONRPCErrorResponse };

/** A message: a single part (answered with an object), or a batch (answered with an array, §6). */
export type Message = { batch: false; part: Part } | { batch: true; parts: Part[] };

/** An error answer. */
export function errorResponse(id: JSONRPCID, code: number, message: string, data?: RpcErrorData): JSONRPCErrorResponse {
  return { jsonrpc: '2.0', id, error: { code, message, ...(data ? { data } : {}) } };
}

const invalid = (id: JSONRPCID, why: string): Part => ({ answer: errorResponse(id, JSONRPC_CODES.INVALID_REQUEST, `Invalid Request: ${why}`) });

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const isId = (v: unknown): v is JSONRPCID => typeof v === 'string' || typeof v === 'number' || v === null;

function describe(v: unknown): string {
  if (v === null) return 'null';
  return Array.isArray(v) ? 'an array' : typeof v;
}

/** One request object (§4), or why it is not one; the id is echoed only when it is a valid id. */
function partOf(value: unknown): Part {
  if (!isObject(value)) return invalid(null, `expected a request object, got ${describe(value)}`);
  const hasId = Object.hasOwn(value, 'id');
  if (hasId && !isId(value.id)) return invalid(null, `id must be a string, a number or null, not ${describe(value.id)}`);
  const id = hasId ? (value.id as JSONRPCID) : null;
  if (value.jsonrpc !== '2.0') return invalid(id, 'jsonrpc must be "2.0"');
  if (typeof value.method !== 'string') return invalid(id, 'method must be a string');
  const { params } = value;
  if (params !== undefined && (typeof params !== 'object' || params === null)) return invalid(id, `params must be an object or an array, not ${describe(params)}`);
  return { request: value as unknown as JSONRPCRequest };
}

/** Takes a parsed message apart; an empty batch (§6) or one over MAX_BATCH is one invalid request. */
export function readMessage(payload: unknown): Message {
  if (!Array.isArray(payload)) return { batch: false, part: partOf(payload) };
  if (payload.length === 0) return { batch: false, part: invalid(null, 'an empty batch') };
  if (payload.length > MAX_BATCH) return { batch: false, part: invalid(null, `a batch of ${payload.length} calls; at most ${MAX_BATCH} are allowed`) };
  return { batch: true, parts: payload.map(partOf) };
}
