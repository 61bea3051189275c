/** The metrics' HTTP server: GET /metrics answers with a scrape; any other request gets 404. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { formatHostPort } from '../../config/addresses.js';
import { listenTcp } from '../session/listen.js';

/** The path Prometheus scrapes. */
export const METRICS_PATH = '/metrics';

/** Produces the text exposition (KportMetrics). */
export interface Scraper {
  scrape(): Promise<string>;
  readonly contentType: string;
}

/** A listening metrics server. */
export interface MetricsServer {
  /** Where GET /metrics answers, with the port actually bound. */
  readonly url: string;
  /** Stops listening and ends open (keep-alive) connections. */
  close(): Promise<void>;
}

/** A scrape reads in-memory counters only; anything slower is a stuck client, not a slow scrape. */
const REQUEST_TIMEOUT_MS = 10_000;

/** Listens on address:port (0: any free port); PORT_IN_USE or BIND_FAILED when it cannot. */
export async function serveMetrics(address: string, port: number, scraper: Scraper, log: Logger): Promise<MetricsServer> {
  const server = createServer({ requestTimeout: REQUEST_TIMEOUT_MS }, (req, res) => void answer(req, res, scraper, log));
  const bound = await listenTcp(server, address, port);
  return { url: `http://${formatHostPort(address, bound)}${METRICS_PATH}`, close: () => closeServer(server) };
}

async function answer(req: IncomingMessage, res: ServerResponse, scraper: Scraper, log: Logger): Promise<void> {
  const path = (req.url ?? '').split('?', 1)[0];
  if (req.method !== 'GET' || path !== METRICS_PATH) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found: kportd serves GET ${METRICS_PATH} only\n`);
    return;
  }
  try {
    const text = await scraper.scrape();
    res.writeHead(200, { 'content-type': scraper.contentType }).end(text);
  } catch (err) {
    log.error({ err: (err as Error).message }, 'metrics scrape failed');
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics scrape failed; see the kportd log\n');
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Scrapers keep their connection alive between scrapes: close() alone would wait for them to leave.
    server.closeAllConnections();
  });
}
