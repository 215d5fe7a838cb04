/**
 * Where a deployment URL and session token can come from outside the extension's own secret
 * storage: the environment, the `coder` CLI's login and the logins of the official Coder Remote
 * extension. Pure: the file system, environment and home directory are injected so that every
 * platform's rules are unit-tested anywhere. Nothing here ever writes.
 */
import * as path from 'node:path';
import { errorText } from './errors';

export type CredentialSource = 'env' | 'cli-config' | 'coder-remote';

export interface CredentialCandidate {
  url: string;
  token: string;
  source: CredentialSource;
  /** Human-readable origin, e.g. "CODER_URL + CODER_SESSION_TOKEN" or the config directory. */
  origin: string;
}

export interface CredentialEnvironment {
  env: Record<string, string | undefined>;
  /** Returns the file's text, undefined when there is none; throws (or rejects) when it exists but cannot be read. */
  readFile: (file: string) => Promise<string | undefined> | string | undefined;
  homedir: string;
  /** `process.platform`, or any other name (treated as a POSIX system). */
  platform: string;
  /** A file that exists but could not be read: discovery goes on without it, and says so here. */
  onReadError?: (file: string, error: unknown) => void;
  /**
   * The global storage folder of the Coder Remote extension (`coder.coder-remote`, a sibling of
   * this extension's own); undefined: not looked at.
   */
  coderRemoteDir?: string;
  /** Names of the entries of a folder, or undefined when it cannot be read. Needed for coderRemoteDir. */
  listDir?: (dir: string) => Promise<string[] | undefined> | string[] | undefined;
}

/** path.join of the platform the paths are for (the tests run every platform's rules anywhere). */
/** The id of the official Coder extension, whose global storage folder holds its logins. */
export const CODER_REMOTE_EXTENSION_ID = 'coder.coder-remote';

/** The coder CLI's config directory for this platform (CODER_CONFIG_DIR wins). */
export function cliConfigDir(e: Pick<CredentialEnvironment, 'env' | 'homedir' | 'platform'>): string {
  const override = e.env.CODER_CONFIG_DIR?.trim();
  if (override) return override;
  const join = joinFor(e.platform);
  if (e.platform === 'darwin') return join(e.homedir, 'Library', 'Application Support', 'coderv2');
  if (e.platform === 'win32') {
    const appData = e.env.APPDATA?.trim() || join(e.homedir, 'AppData', 'Roaming');
    return join(appData, 'coderv2');
  }
  const xdg = e.env.XDG_CONFIG_HOME?.trim();
  return join(xdg || join(e.homedir, '.config'), 'coderv2');
}

/**
 * Every usable (url, token) pair, best first: the environment, then the CLI login. A pair with
 * an unusable URL is skipped; a missing file is not an error.
 */
export async function findCredentials(e: CredentialEnvironment): Promise<CredentialCandidate[]> {
  const out: CredentialCandidate[] = [];
  const envUrl = e.env.CODER_URL?.trim();
  const envToken = e.env.CODER_SESSION_TOKEN?.trim();
  const dir = cliConfigDir(e);
  const join = joinFor(e.platform);
  const read = async (name: string) => {
    const file = join(dir, name);
    try {
      return (await e.readFile(file))?.trim() || undefined;
    } catch (err) {
      e.onReadError?.(file, err);
      return undefined;
    }
  };
  const cliUrl = await read('url');
  const cliToken = await read('session');

  if (envUrl && envToken) push(out, envUrl, envToken, 'env', 'CODER_URL + CODER_SESSION_TOKEN');
  // The CLI's own rule: an environment variable overrides just its half of the login.
  else if (envUrl && cliToken) push(out, envUrl, cliToken, 'env', `CODER_URL + ${join(dir, 'session')}`);
  else if (envToken && cliUrl) push(out, cliUrl, envToken, 'env', `${join(dir, 'url')} + CODER_SESSION_TOKEN`);
  if (cliUrl && cliToken) push(out, cliUrl, cliToken, 'cli-config', dir);
  for (const c of await coderRemoteLogins(e)) push(out, c.url, c.token, 'coder-remote', c.origin);
  return out;
}

/**
 * The logins Coder Remote keeps: one folder per deployment, named after its host (punycode, no
 * port), holding `url` and `session` (older releases: `session_token`); the oldest releases kept
 * one `url` and `session_token` at the top of the storage folder. A folder that cannot be read
 * gives nothing: it is someone else's, and its absence is the common case.
 */
async function coderRemoteLogins(e: CredentialEnvironment): Promise<Array<{ url: string; token: string; origin: string }>> {
  const root = e.coderRemoteDir;
  if (!root || !e.listDir) return [];
  const join = joinFor(e.platform);
  const read = async (file: string) => {
    try {
      return (await e.readFile(file))?.trim() || undefined;
    } catch {
      return undefined;
    }
  };
  const login = async (dir: string) => {
    const url = await read(join(dir, 'url'));
    const token = (await read(join(dir, 'session'))) ?? (await read(join(dir, 'session_token')));
    return url && token ? [{ url, token, origin: dir }] : [];
  };
  let names: string[] | undefined;
  try {
    names = await e.listDir(root);
  } catch {
    names = undefined;
  }
  const out: Array<{ url: string; token: string; origin: string }> = [];
  // Sorted so that the order of found logins does not depend on the file system's.
  for (const name of [...(names ?? [])].sort()) {
    if (name === 'url' || name === 'session_token' || name.startsWith('.')) continue;
    out.push(...(await login(join(root, name))));
  }
  out.push(...(await login(root)));
  return out;
}

function push(out: CredentialCandidate[], url: string, token: string, source: CredentialSource, origin: string): void {
  const n = normalizeDeploymentUrl(url);
  if (!n.ok) return;
  if (out.some((c) => c.url === n.url && c.token === token)) return;
  out.push({ url: n.url, token, source, origin });
}

export type NormalizedUrl = { ok: true; url: string } | { ok: false; error: string };

/**
 * Turns what a user types into the deployment's base URL: https:// when no scheme is given,
 * no trailing slash, no `/api/v2` suffix. Rejects other schemes and unparsable input.
 */
export function normalizeDeploymentUrl(input: string): NormalizedUrl {
  let text = input.trim();
  if (!text) return { ok: false, error: 'The deployment URL is empty.' };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  if (!scheme) {
    if (/^[a-z][a-z0-9+.-]*:(?!\d)/i.test(text)) {
      return { ok: false, error: `"${text}" is not an http(s) URL.` };
    }
    text = `https://${text}`;
  } else if (!/^https?$/i.test(scheme[1] ?? '')) {
    return { ok: false, error: `Only http and https URLs are supported, not "${scheme[1]}:".` };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, error: `"${input.trim()}" is not a valid URL.` };
  }
  if (!url.hostname) return { ok: false, error: `"${input.trim()}" has no host name.` };
  if (url.username || url.password) return { ok: false, error: 'The URL must not contain a user name or password.' };
  let p = url.pathname.replace(/\/+$/, '');
  p = p.replace(/\/api\/v2$/i, '').replace(/\/+$/, '');
  return { ok: true, url: `${url.protocol}//${url.host}${p}` };
}

/** Where discovery failures go: one line per kind of failure (a RateLimitedLog fits). */
export interface DiscoveryLog {
  warn(key: string, message: string): void;
}

/**
 * The found logins, never rejecting: when looking fails, that is logged (once per kind through
 * the rate-limited `log`) and no login is offered, so sign-in goes on with the manual path.
 */
export async function discoverCredentials(find: () => Promise<CredentialCandidate[]>, log: DiscoveryLog): Promise<CredentialCandidate[]> {
  try {
    return await find();
  } catch (e) {
    log.warn('credential-discovery', `looking for existing Coder logins failed: ${errorText(e)}; none offered`);
    return [];
  }
}

function joinFor(platform: string): (...parts: string[]) => string {
  return platform === 'win32' ? (...p) => path.win32.join(...p) : (...p) => path.posix.join(...p);
}
