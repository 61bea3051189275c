/**
 * A context's credentials and TLS settings, as kubectl applies them: CA, client certificate,
 * server name and skip-verify from the cluster and user; then a bearer token or basic auth, or a
 * token file (read again each time the credentials are renewed: a rotated token is picked up), or
 * an authenticator from @kubernetes/client-node — exec plugins (with their credential cache and
 * refresh) and auth-provider token files always, the legacy oidc/azure/gcp auth-providers loaded
 * only when a user names one.
 */
import type { Authenticator } from '@kubernetes/client-node/dist/auth.js';
import type { Cluster } from '@kubernetes/client-node/dist/config_types.js';
import { ExecAuth } from '@kubernetes/client-node/dist/exec_auth.js';
import { FileAuth } from '@kubernetes/client-node/dist/file_auth.js';
import { readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { KportError } from '../api/errors.js';
import { HEADER_VALUE } from '../io/header-value.js';
import type { KubeUser } from './kubeconfig.js';

/** What a request to the API server needs: TLS material and auth headers. Never log it. */
export interface Credentials {
  headers: Record<string, string>;
  ca?: Buffer;
  cert?: Buffer | string;
  key?: Buffer | string;
  servername?: string;
  rejectUnauthorized?: boolean;
}

const LEGACY_PROVIDERS: Record<string, () => Promise<Authenticator>> = {
  oidc: async () => new (await import('@kubernetes/client-node/dist/oidc_auth.js')).OpenIDConnectAuth(),
  azure: async () => new (await import('@kubernetes/client-node/dist/azure_auth.js')).AzureAuth(),
  gcp: async () => new (await import('@kubernetes/client-node/dist/gcp_auth.js')).GoogleCloudPlatformAuth(),
};

function material(file: string | undefined, data: string | undefined, what: string): Buffer | undefined {
  try {
    if (file) return readFileSync(file);
  } catch (err) {
    throw new KportError('KUBECONFIG', `cannot read the ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return data ? Buffer.from(data, 'base64') : undefined;
}

/** Produces fresh credentials for one cluster+user on every call (exec plugins refresh behind it). */
export class CredentialSource {
  /** One authenticator per source, so an exec plugin's credentials are cached across calls. */
  private authenticator: Authenticator | null | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly user: KubeUser,
  ) {}

  private async pickAuthenticator(): Promise<Authenticator | null> {
    if (this.authenticator !== undefined) return this.authenticator;
    const legacy = LEGACY_PROVIDERS[(this.user.authProvider as { name?: string } | undefined)?.name ?? ''];
    const candidates = [new ExecAuth(), new FileAuth()];
    this.authenticator = legacy ? await legacy() : candidates.find((a) => a.isAuthProvider(this.user)) ?? null;
    return this.authenticator;
  }

  /** Current credentials; throws KportError KUBECONFIG when a file is unreadable or an exec plugin fails. */
  async get(): Promise<Credentials> {
    const { cluster, user } = this;
    const opts: RequestOptions & { headers: Record<string, string> } = { headers: {} };
    if (cluster.skipTLSVerify) opts.rejectUnauthorized = false;
    if (cluster.tlsServerName) opts.servername = cluster.tlsServerName;
    opts.ca = material(cluster.caFile, cluster.caData, 'certificate authority');
    opts.cert = material(user.certFile, user.certData, 'client certificate');
    opts.key = material(user.keyFile, user.keyData, 'client key');
    if (user.impersonateUser) opts.headers['Impersonate-User'] = user.impersonateUser;
    const auth = await this.pickAuthenticator();
    try {
      await auth?.applyAuthentication(user, opts);
    } catch (err) {
      // JSON.parse quotes the start of what it could not read: a plugin's output can be a bare token.
      const why = err instanceof SyntaxError ? 'the exec plugin printed something other than an ExecCredential (JSON)' : (err as Error).message;
      throw new KportError('KUBECONFIG', `credentials for user "${user.name}" failed: ${why}`);
    }
    const token = user.token || (user.tokenFile && material(user.tokenFile, undefined, 'token file')?.toString('utf8').trim());
    if (token) opts.headers.Authorization = `Bearer ${token}`;
    if (user.username) opts.headers.Authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
    // A value Node cannot send would fail every request as if the server were unreachable: name the cause.
    if (Object.values(opts.headers).some((v) => !HEADER_VALUE.test(v))) {
      throw new KportError('KUBECONFIG', `the credentials of user "${user.name}" hold a line break or control character: check its token, token file or plugin`);
    }
    const creds: Credentials = { headers: opts.headers };
    for (const k of ['ca', 'cert', 'key', 'servername', 'rejectUnauthorized'] as const) if (opts[k] !== undefined) Object.assign(creds, { [k]: opts[k] });
    return creds;
  }
}
