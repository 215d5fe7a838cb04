/**
 * What real networks need between the extension and a deployment: extra headers from the
 * user's header command (./headerCommand), an HTTP(S) proxy chosen the way the coder CLI chooses it (Go's
 * ProxyFromEnvironment rules, plus VS Code's own proxy settings), extra trusted CAs and an
 * explicit insecure switch. The decisions are pure functions; createNetwork() turns them into
 * a `fetch` (undici, with its Agent/ProxyAgent as dispatcher) and a Node agent for WebSocket
 * upgrades (https-proxy-agent tunnels with CONNECT, which is what a WebSocket needs).
 * No header value, token or proxy password is ever put in a log line or an error.
 */
import { readFile as fsReadFile } from 'node:fs/promises';
import * as https from 'node:https';
import type { Agent as HttpAgent } from 'node:http';
import { BlockList, isIP } from 'node:net';
import * as os from 'node:os';
import * as tls from 'node:tls';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Dispatcher } from 'undici';
import { silentLogger, type Logger } from '../common/log';
import { runHeaderCommand, type ExecFn } from './headerCommand';

export { HeaderCommandError, parseHeaderOutput, runHeaderCommand, type ExecFn } from './headerCommand';

// ---------------------------------------------------------------- proxy decision

export interface ProxySettings {
  /** VS Code's `http.proxy`: when set, it is used instead of the environment's proxies. */
  httpProxy?: string;
  /** VS Code's `http.noProxy`, added to NO_PROXY. */
  noProxy?: readonly string[];
  env: Record<string, string | undefined>;
}

export type ProxyDecision =
  { kind: 'direct'; reason: string } | { kind: 'proxy'; url: string; reason: string } | { kind: 'invalid'; reason: string };

const envOf = (env: Record<string, string | undefined>, name: string): string | undefined =>
  env[name]?.trim() || env[name.toLowerCase()]?.trim() || undefined;

/** A proxy URL for logs: without user name and password. */
export function describeProxy(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(unparsable proxy URL)';
  }
}

function stripBrackets(host: string): string {
  return host
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
}

function effectivePort(u: URL): string {
  return u.port || (u.protocol === 'https:' || u.protocol === 'wss:' ? '443' : '80');
}

/** Splits "host:port" / "[v6]:port" / "v6" into host and optional port. */
function splitHostPort(entry: string): { host: string; port?: string } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (v6) return { host: v6[1] ?? '', port: v6[2] };
  if (isIP(entry) === 6) return { host: entry };
  const m = /^(.*):(\d+)$/.exec(entry);
  return m ? { host: m[1] ?? '', port: m[2] } : { host: entry };
}

/**
 * NO_PROXY matching as Go's httpproxy does it (the coder CLI's rules): entries separated by
 * commas or spaces; `*` matches everything; an IP or a CIDR range matches addresses; a domain
 * matches itself and its subdomains, `.domain` (or `*.domain`) only its subdomains; an entry
 * with `:port` matches that port only. Returns the matching entry, for the log.
 */
export function matchNoProxy(target: URL, noProxy: string): string | undefined {
  const host = stripBrackets(target.hostname);
  const port = effectivePort(target);
  const hostIp = isIP(host);
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return entry;
    if (entry.includes('/')) {
      const [addr = '', bits = ''] = entry.split('/');
      const family = isIP(addr);
      if (!family || !hostIp || !/^\d+$/.test(bits)) continue;
      const list = new BlockList();
      try {
        list.addSubnet(addr, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
        if (list.check(host, hostIp === 6 ? 'ipv6' : 'ipv4')) return entry;
      } catch {
        // A malformed range matches nothing, as in Go.
      }
      continue;
    }
    const { host: h, port: p } = splitHostPort(entry);
    if (p !== undefined && p !== port) continue;
    const name = stripBrackets(h);
    if (isIP(name)) {
      if (hostIp && name === host) return entry;
      continue;
    }
    if (name.startsWith('*.') || name.startsWith('.')) {
      const suffix = name.startsWith('*.') ? name.slice(1) : name;
      if (host.endsWith(suffix)) return entry;
    } else if (host === name || host.endsWith(`.${name}`)) {
      return entry;
    }
  }
  return undefined;
}

function isLoopback(host: string): boolean {
  const h = stripBrackets(host);
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h === '::1';
}

/** Which proxy, if any, a request to `target` goes through, and why (for the log). */
export function decideProxy(target: string, s: ProxySettings): ProxyDecision {
  let u: URL;
  try {
    u = new URL(target);
  } catch {
    return { kind: 'invalid', reason: 'the target URL cannot be parsed' };
  }
  const secure = u.protocol === 'https:' || u.protocol === 'wss:';
  const fromSetting = s.httpProxy?.trim();
  const varName = secure ? 'HTTPS_PROXY' : 'HTTP_PROXY';
  const proxy = fromSetting || envOf(s.env, varName);
  if (!proxy) return { kind: 'direct', reason: 'no proxy configured' };
  const source = fromSetting ? 'the http.proxy setting' : varName;
  // Go never proxies loopback addresses; a local deployment (or simulator) stays reachable.
  if (isLoopback(u.hostname)) return { kind: 'direct', reason: `${u.hostname} is a loopback address` };
  const noProxy = [envOf(s.env, 'NO_PROXY') ?? '', ...(s.noProxy ?? [])].join(',');
  const hit = matchNoProxy(u, noProxy);
  if (hit !== undefined) return { kind: 'direct', reason: `NO_PROXY entry "${hit}" matches ${u.hostname}` };
  // "proxy:3128" means http://proxy:3128, as in Go.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`;
  let p: URL;
  try {
    p = new URL(withScheme);
  } catch {
    return { kind: 'invalid', reason: `the proxy from ${source} is not a valid URL` };
  }
  if (p.protocol !== 'http:' && p.protocol !== 'https:') {
    return { kind: 'invalid', reason: `the proxy from ${source} uses ${p.protocol}; only http: and https: proxies are supported` };
  }
  return { kind: 'proxy', url: p.toString(), reason: `${source} (${describeProxy(p.toString())})` };
}

// ---------------------------------------------------------------- TLS

export interface TlsOptions {
  /** Trusted roots: Node's own plus the extra CA file; undefined = Node's defaults. */
  ca?: string[];
  rejectUnauthorized: boolean;
}

/** Extra CAs are added to the public roots (not instead of them), as the setting promises. */
export function tlsOptions(caPem: string | undefined, insecure: boolean, roots: readonly string[] = tls.rootCertificates): TlsOptions {
  return { ...(caPem ? { ca: [...roots, caPem] } : {}), rejectUnauthorized: !insecure };
}

/** Reads the CA file (a leading ~ is the home directory) and checks that it holds a PEM certificate. */
export async function loadCaFile(file: string, readFile: (p: string) => Promise<string>, homedir: string): Promise<string> {
  const path = file.startsWith('~') ? homedir + file.slice(1) : file;
  let text: string;
  try {
    text = await readFile(path);
  } catch (e) {
    throw new Error(`Cannot read the CA file ${path} (coderStatus.tlsCaFile): ${(e as NodeJS.ErrnoException).code ?? String(e)}`, {
      cause: e,
    });
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`The CA file ${path} (coderStatus.tlsCaFile) holds no PEM certificate ("-----BEGIN CERTIFICATE-----").`);
  }
  return text;
}

// ---------------------------------------------------------------- createNetwork

export interface NetworkOptions {
  deploymentUrl: string;
  /** coderStatus.headerCommand */
  headerCommand?: string;
  /** coderStatus.tlsCaFile */
  tlsCaFile?: string;
  /** coderStatus.insecure: no TLS verification towards the deployment. */
  insecure?: boolean;
  /** VS Code's http.proxy, http.noProxy, http.proxyStrictSSL, http.proxyAuthorization. */
  httpProxy?: string;
  noProxy?: readonly string[];
  proxyStrictSSL?: boolean;
  proxyAuthorization?: string | null;
  env?: Record<string, string | undefined>;
  platform?: string;
  homedir?: string;
  readFile?: (path: string) => Promise<string>;
  exec?: ExecFn;
  headerTimeoutMs?: number;
  /** Header command output is reused this long (bursts of requests run it once). Default 5 s. */
  headerCacheMs?: number;
  now?: () => number;
  log?: Logger;
}

export interface Network {
  /** A fetch for the REST client and SSE: proxy, CA and insecure applied per target origin. */
  readonly fetch: typeof fetch;
  /** The agent for WebSocket upgrades to the deployment (undefined: Node's default is right). */
  readonly wsAgent: HttpAgent | undefined;
  wsAgentFor(url: string): HttpAgent | undefined;
  /** The header command's headers (empty without one). Rejects with a HeaderCommandError. */
  headers(): Promise<Record<string, string>>;
  /** One line for the log: proxy, CA, verification. Nothing secret. */
  readonly summary: string;
  dispose(): Promise<void>;
}

type Undici = typeof import('undici'); // eslint-disable-line @typescript-eslint/consistent-type-imports -- a type of the lazily loaded module, not an import of it
let undici: Undici | undefined;

/**
 * undici is only needed with a proxy, an extra CA or insecure mode; the direct path uses Node's
 * own fetch. The build puts it in its own file (dist/undici.js) so that most users never load
 * it and activation stays cheap; run from sources, it is the package itself.
 */
function loadUndici(): Undici {
  if (!undici) {
    const bundled = path.join(__dirname, 'undici.js');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    undici = (existsSync(bundled) ? require(bundled) : require('undici')) as Undici;
  }
  return undici;
}

const importProxyModule = () => import('https-proxy-agent');
type HttpsProxyAgentModule = Awaited<ReturnType<typeof importProxyModule>>;

/**
 * Only a proxy needs it: the build puts it in its own file (dist/proxyAgent.js, CommonJS) like
 * undici. From source it is the package itself, an ES module, hence the dynamic import.
 */
async function loadProxyModule(): Promise<HttpsProxyAgentModule> {
  const bundled = path.join(__dirname, 'proxyAgent.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a file of the build, found at run time
  return existsSync(bundled) ? (require(bundled) as HttpsProxyAgentModule) : importProxyModule();
}

/**
 * An agent tunnelling through the proxy with CONNECT. https-proxy-agent takes the target's
 * TLS options from each request, and the stream code passes `ws` nothing but the agent, so the
 * deployment's CA and verification are added here.
 */
function tunnelAgent(
  mod: HttpsProxyAgentModule,
  proxyUrl: string,
  proxyTls: TlsOptions,
  targetTls: TlsOptions,
  headers: Record<string, string>,
): HttpAgent {
  type ConnectArgs = Parameters<InstanceType<HttpsProxyAgentModule['HttpsProxyAgent']>['connect']>;
  class TunnelAgent extends mod.HttpsProxyAgent<string> {
    override connect(
      req: ConnectArgs[0],
      opts: ConnectArgs[1],
    ): ReturnType<InstanceType<HttpsProxyAgentModule['HttpsProxyAgent']>['connect']> {
      return super.connect(req, { ...opts, ...targetTls });
    }
  }
  return new TunnelAgent(proxyUrl, { ...proxyTls, headers, keepAlive: false });
}

/**
 * Builds the network pieces for one deployment. Async because it reads the CA file; throws a
 * clear Error for an unreadable CA file or an unusable proxy setting.
 */
export async function createNetwork(o: NetworkOptions): Promise<Network> {
  const log = o.log ?? silentLogger;
  const env = o.env ?? process.env;
  const now = o.now ?? Date.now;
  const caPem = o.tlsCaFile?.trim()
    ? await loadCaFile(o.tlsCaFile.trim(), o.readFile ?? ((p) => fsReadFile(p, 'utf8')), o.homedir ?? os.homedir())
    : undefined;
  const targetTls = tlsOptions(caPem, o.insecure === true);
  const proxyTls: TlsOptions = { ...(caPem ? { ca: targetTls.ca } : {}), rejectUnauthorized: o.proxyStrictSSL !== false };
  const proxyHeaders: Record<string, string> = o.proxyAuthorization ? { 'Proxy-Authorization': o.proxyAuthorization } : {};
  const settings: ProxySettings = { httpProxy: o.httpProxy, noProxy: o.noProxy, env };
  const proxyMod = await loadProxyModule();

  const decide = (url: string): ProxyDecision => {
    const d = decideProxy(url, settings);
    if (d.kind === 'invalid') throw new Error(`Cannot use the proxy: ${d.reason}.`);
    return d;
  };
  const first = decide(o.deploymentUrl);

  // One dispatcher per proxy choice (direct, or a given proxy URL), shared by all origins.
  const dispatchers = new Map<string, Dispatcher>();
  const dispatcherFor = (url: string): Dispatcher => {
    const d = decide(url);
    const key = d.kind === 'proxy' ? d.url : 'direct';
    let disp = dispatchers.get(key);
    if (!disp) {
      const { ca, rejectUnauthorized } = targetTls;
      const { Agent: UndiciAgent, ProxyAgent } = loadUndici();
      disp =
        d.kind === 'proxy'
          ? new ProxyAgent({
              uri: d.url,
              requestTls: { ca, rejectUnauthorized },
              proxyTls: { ca: proxyTls.ca, rejectUnauthorized: proxyTls.rejectUnauthorized },
              ...(o.proxyAuthorization ? { token: o.proxyAuthorization } : {}),
            })
          : new UndiciAgent({ connect: { ca, rejectUnauthorized } });
      dispatchers.set(key, disp);
    }
    return disp;
  };

  const agents = new Map<string, HttpAgent | undefined>();
  const wsAgentFor = (url: string): HttpAgent | undefined => {
    const d = decide(url);
    const secure = /^(wss|https):/i.test(url);
    const key = `${d.kind === 'proxy' ? d.url : 'direct'}|${secure}`;
    if (agents.has(key)) return agents.get(key);
    let agent: HttpAgent | undefined;
    if (d.kind === 'proxy') agent = tunnelAgent(proxyMod, d.url, proxyTls, targetTls, proxyHeaders);
    else if (secure && (targetTls.ca || !targetTls.rejectUnauthorized)) agent = new https.Agent({ ...targetTls, keepAlive: false });
    agents.set(key, agent);
    return agent;
  };

  const fetchImpl = ((input: string | URL | Request, init?: RequestInit) => {
    // Node's global Request belongs to another undici than this fetch: take URLs only.
    if (typeof input !== 'string' && !(input instanceof URL)) {
      return Promise.reject(new TypeError('network.fetch takes a URL (string or URL) and an init object'));
    }
    const url = input.toString();
    const plain = decide(url).kind === 'direct' && targetTls.ca === undefined && targetTls.rejectUnauthorized;
    if (plain) return fetch(url, init);
    const undiciFetch = loadUndici().fetch;
    return undiciFetch(url, { ...(init as object), dispatcher: dispatcherFor(url) });
  }) as unknown as typeof fetch;

  // Single flight plus a short reuse window: a burst of reconnecting streams runs the command once.
  let cached: { at: number; value: Promise<Record<string, string>> } | undefined;
  const cacheMs = o.headerCacheMs ?? 5_000;
  const headers = (): Promise<Record<string, string>> => {
    const command = o.headerCommand?.trim();
    if (!command) return Promise.resolve({});
    if (cached && now() - cached.at < cacheMs) return cached.value;
    const value = runHeaderCommand({
      command,
      url: o.deploymentUrl,
      env,
      platform: o.platform ?? process.platform,
      exec: o.exec,
      timeoutMs: o.headerTimeoutMs,
    }).then(
      (h) => {
        log.debug(`header command gave ${Object.keys(h).length} header(s): ${Object.keys(h).join(', ') || '(none)'}`);
        return h;
      },
      (e: unknown) => {
        cached = undefined; // a failure is not reused: the next request tries again
        log.warn(`header command: ${e instanceof Error ? e.message : String(e)}`);
        throw e;
      },
    );
    cached = { at: now(), value };
    return value;
  };

  const summary = [
    first.kind === 'proxy' ? `proxy ${first.reason}` : `direct (${first.reason})`,
    caPem ? `extra CA from ${o.tlsCaFile?.trim()}` : 'system CAs',
    targetTls.rejectUnauthorized ? 'TLS verified' : 'TLS NOT verified (coderStatus.insecure)',
    o.headerCommand?.trim() ? 'header command set' : 'no header command',
  ].join(', ');

  return {
    fetch: fetchImpl,
    wsAgent: wsAgentFor(o.deploymentUrl),
    wsAgentFor,
    headers,
    summary,
    async dispose() {
      for (const a of agents.values()) a?.destroy();
      agents.clear();
      await Promise.allSettled([...dispatchers.values()].map((d) => d.close()));
      dispatchers.clear();
    },
  };
}
