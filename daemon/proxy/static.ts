/**
 * `www` + `wwwPrefix`: static files from a folder, answered as kubectl's `--www` answers them (Go's
 * http.FileServer under StripPrefix): index.html for folders, a listing otherwise, the folder-slash and
 * index.html redirects, Last-Modified and If-Modified-Since, 404 as "404 page not found". Unlike Go's
 * http.Dir, nothing outside the folder is ever served: the path is already clean, and a symbolic link that
 * resolves outside the folder is treated as missing.
 */
import { open, readdir, realpath, stat, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, extname, join, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { escapeHtml, NOT_FOUND, plain, send, type Reply } from './reply.js';
import { escapePath } from './route.js';

/** Go's built-in extension table (mime.TypeByExtension), plus .txt. */
const TYPES: Record<string, string> = {
  '.avif': 'image/avif',
  '.css': 'text/css; charset=utf-8',
  '.gif': 'image/gif',
  '.htm': 'text/html; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.jpeg': 'image/jpeg',
  '.jpg': 'image/jpeg',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.mjs': 'text/javascript; charset=utf-8',
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
  '.webp': 'image/webp',
  '.xml': 'text/xml; charset=utf-8',
};

/** Go's DetectContentType, reduced to its text/binary decision. */
function sniff(head: Buffer): string {
  const binary = head.some((b) => b <= 0x08 || b === 0x0b || (b >= 0x0e && b <= 0x1a) || (b >= 0x1c && b <= 0x1f));
  return binary ? 'application/octet-stream' : 'text/plain; charset=utf-8';
}

/** Go's localRedirect: a relative Location, query kept, no body. */
function localRedirect(location: string, search: string): Reply {
  return { status: 301, headers: { Location: location + search }, body: '' };
}

/** Go's dirList: a sorted list of links, folders with a trailing slash. */
async function listing(dir: string): Promise<string> {
  const entries = (await readdir(dir, { withFileTypes: true })).map((e) => (e.isDirectory() ? `${e.name}/` : e.name)).sort();
  const links = entries.map((name) => `<a href="${escapeHtml(escapePath(name))}">${escapeHtml(name)}</a>\n`);
  return `<!doctype html>\n<meta name="viewport" content="width=device-width">\n<pre>\n${links.join('')}</pre>\n`;
}

/** The real path of `rel` under `root`, or null when it is missing or resolves outside the folder. */
async function resolveInside(root: string, rel: string): Promise<string | null> {
  try {
    const realRoot = await realpath(root);
    const real = await realpath(join(realRoot, rel));
    return real === realRoot || real.startsWith(realRoot + sep) ? real : null;
  } catch {
    return null;
  }
}

/** Writes the file (or its head for HEAD) with Go's headers; 304 when If-Modified-Since covers it. */
async function sendFile(req: IncomingMessage, res: ServerResponse, file: string, size: number, mtime: Date): Promise<number> {
  const modified = new Date(Math.floor(mtime.getTime() / 1000) * 1000);
  const since = Date.parse(req.headers['if-modified-since'] ?? '');
  if (!Number.isNaN(since) && modified.getTime() <= since) {
    res.writeHead(304, { 'Last-Modified': modified.toUTCString() }).end();
    return 304;
  }
  let handle: FileHandle | null = await open(file, 'r');
  try {
    let type = TYPES[extname(file).toLowerCase()];
    if (type === undefined) {
      const head = Buffer.alloc(Math.min(512, size));
      await handle.read(head, 0, head.length, 0);
      type = sniff(head);
    }
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': String(size), 'Last-Modified': modified.toUTCString() });
    if (req.method === 'HEAD') {
      res.end();
      return 200;
    }
    const body = handle.createReadStream({ start: 0 });
    handle = null; // the stream closes it
    await pipeline(body, res);
    return 200;
  } finally {
    await handle?.close();
  }
}

/** Serves `rel` (clean, starting with "/") from `root`; resolves with the status sent. */
export async function serveStatic(req: IncomingMessage, res: ServerResponse, root: string, rel: string, search: string): Promise<number> {
  const reply = async (r: Reply) => (send(res, r), r.status);
  if (rel.endsWith('/index.html')) return reply(localRedirect('./', search));
  const real = await resolveInside(root, rel);
  if (real === null) return reply(NOT_FOUND);
  let info = await stat(real);
  let file = real;
  if (info.isDirectory()) {
    if (!rel.endsWith('/')) return reply(localRedirect(`${basename(rel)}/`, search));
    const index = await resolveInside(root, join(rel, 'index.html'));
    const indexInfo = index === null ? null : await stat(index).catch(() => null);
    if (index === null || !indexInfo?.isFile()) {
      const html = await listing(real);
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': String(Buffer.byteLength(html)), 'Last-Modified': info.mtime.toUTCString() });
      res.end(req.method === 'HEAD' ? undefined : html);
      return 200;
    }
    file = index;
    info = indexInfo;
  } else if (rel.endsWith('/')) {
    return reply(localRedirect(`../${basename(rel)}`, search));
  }
  if (!info.isFile()) return reply(NOT_FOUND);
  return sendFile(req, res, file, info.size, info.mtime);
}

/** The answer when reading the folder failed for another reason than a missing file (permissions, say). */
export function staticError(err: unknown): Reply {
  return (err as NodeJS.ErrnoException).code === 'EACCES' ? plain(403, '403 Forbidden') : plain(500, '500 Internal Server Error');
}
