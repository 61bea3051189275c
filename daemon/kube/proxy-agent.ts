/**
 * The agent for a cluster with a proxy-url: socks-proxy-agent for socks5:// (and socks4), hpagent (an HTTP
 * CONNECT tunnel) for http(s)://. Imported only for such clusters; its imports are static, as a CommonJS
 * package's named exports reach a bundle's dynamic import() only through a module of ours.
 */
import type { Agent, AgentOptions } from 'node:https';
import { HttpsProxyAgent } from 'hpagent';
import { SocksProxyAgent } from 'socks-proxy-agent';

/** A keep-alive agent with `options` that reaches the API server through `proxyUrl`. */
export function proxyAgent(proxyUrl: string, options: AgentOptions): Agent {
  if (proxyUrl.startsWith('socks')) return new SocksProxyAgent(proxyUrl, options);
  return new HttpsProxyAgent({ ...options, proxy: proxyUrl });
}
