/**
 * Sign-in and sign-out: `coderStatus.signIn` asks for a deployment URL (checked with
 * GET /buildinfo) and a session token (checked with GET /users/me), then stores the token in
 * SecretStorage; credentials found in the environment, the coder CLI login or Coder Remote are offered
 * first, and picked up by themselves at start. Every check runs through the user's network
 * settings (proxy, CA file, header command), so that what works here works for the session.
 */
import { readdir, readFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { l10n } from 'vscode';
import { systemClock } from '../../common/clock';
import type { Logger } from '../../common/log';
import { RateLimitedLog } from '../../sync/rateLimitedLog';
import { CoderClient } from '../../api/client';
import {
  CODER_REMOTE_EXTENSION_ID,
  discoverCredentials,
  findCredentials,
  normalizeDeploymentUrl,
  type CredentialCandidate,
  type CredentialSource,
  type DiscoveryLog,
} from '../../api/credentials';
import { CoderApiError, isAuthError } from '../../api/errors';
import { createNetwork, type Network } from '../../api/network';
import type { BuildInfo, User } from '../../api/schemas';
import { UserRefusal, type CommandTable } from '../commands/commandTable';
import type { PersistentState } from '../persistentState';
import { DeploymentStore, type DeploymentEntry } from './deploymentStore';

/** The network pieces for a deployment, from coderStatus.* and VS Code's http.* settings. */
export async function networkFromSettings(url: string, log: Logger): Promise<Network> {
  const cfg = vscode.workspace.getConfiguration();
  const proxyOff = cfg.get<string>('http.proxySupport') === 'off';
  const env = { ...process.env };
  if (proxyOff) for (const k of Object.keys(env)) if (/^(https?|no)_proxy$/i.test(k)) delete env[k];
  return createNetwork({
    deploymentUrl: url,
    headerCommand: cfg.get<string>('coderStatus.headerCommand'),
    tlsCaFile: cfg.get<string>('coderStatus.tlsCaFile'),
    insecure: cfg.get<boolean>('coderStatus.insecure'),
    httpProxy: proxyOff ? undefined : cfg.get<string>('http.proxy'),
    noProxy: cfg.get<string[]>('http.noProxy'),
    proxyStrictSSL: cfg.get<boolean>('http.proxyStrictSSL'),
    proxyAuthorization: proxyOff ? undefined : cfg.get<string | null>('http.proxyAuthorization'),
    env,
    log,
  });
}

/** The two checks of a sign-in, for one deployment URL. */
export interface DeploymentProbe {
  buildInfo(): Promise<BuildInfo>;
  me(token: string): Promise<User>;
  dispose(): Promise<void>;
}

export interface SignInOptions {
  log: Logger;
  /** Credentials found outside the extension. Default: environment, coder CLI login, Coder Remote. */
  findCandidates?: () => Promise<CredentialCandidate[]>;
  /** Default: a CoderClient over networkFromSettings(). */
  probe?: (url: string) => Promise<DeploymentProbe>;
}

interface SignInDeps extends Required<SignInOptions> {
  store: DeploymentStore;
  /** Discovery failures, once per kind and minute: they recur at every sign-in and start. */
  discoveryLog: DiscoveryLog;
}

async function defaultProbe(url: string, log: Logger): Promise<DeploymentProbe> {
  const network = await networkFromSettings(url, log);
  const client = (token: string) =>
    new CoderClient({ baseUrl: url, token, fetch: network.fetch.bind(network), headers: () => network.headers(), timeoutMs: 15_000 });
  return { buildInfo: () => client('').buildInfo(), me: (t) => client(t).me(), dispose: () => network.dispose() };
}

/** Coder Remote's global storage folder: a sibling of this extension's own. */
function coderRemoteDir(context: vscode.ExtensionContext): string | undefined {
  const own = context.globalStorageUri;
  return own.scheme === 'file' ? path.join(path.dirname(own.fsPath), CODER_REMOTE_EXTENSION_ID) : undefined;
}

function defaultCandidates(context: vscode.ExtensionContext, log: DiscoveryLog): Promise<CredentialCandidate[]> {
  return findCredentials({
    env: process.env,
    // No file is no login; a file that cannot be read is worth a line in the log.
    readFile: async (p) => {
      try {
        return await readFile(p, 'utf8');
      } catch (e) {
        if (isMissing(e)) return undefined;
        throw e;
      }
    },
    homedir: os.homedir(),
    platform: process.platform,
    onReadError: (file, e) => log.warn(`credential-file:${file}`, `cannot read ${file}: ${describeError(e)}; that login is not offered`),
    coderRemoteDir: coderRemoteDir(context),
    listDir: (d) => readdir(d).catch(() => undefined),
  });
}

function isMissing(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** How a found login is named wherever found logins are shown. */
function foundText(source: CredentialSource, origin: string): string {
  return source === 'coder-remote' ? l10n.t('found: Coder Remote') : l10n.t('Use the login from {0}', origin);
}

function describeError(e: unknown): string {
  if (e instanceof CoderApiError) return e.detail ? `${e.message} (${e.detail})` : e.message;
  return e instanceof Error ? e.message : String(e);
}

function host(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

type Step<T> = { kind: 'done'; value: T } | { kind: 'back' } | { kind: 'cancel' };

interface BoxSpec<T> {
  title: string;
  prompt: string;
  placeholder?: string;
  value?: string;
  password?: boolean;
  back?: boolean;
  buttons?: Array<vscode.QuickInputButton & { run(): void }>;
  /** Instant check on every keystroke; a message blocks accepting. */
  validate?: (value: string) => string | undefined;
  /** The slow check on Enter, with the box busy; a string is shown as the error. */
  accept: (value: string) => Promise<{ value: T } | string>;
}

/** One input box that stays open while its value is checked, and shows why a value failed. */
function inputStep<T>(spec: BoxSpec<T>): Promise<Step<T>> {
  return new Promise((resolve) => {
    const box = vscode.window.createInputBox();
    const subs: vscode.Disposable[] = [box];
    let settled = false;
    const finish = (r: Step<T>) => {
      if (settled) return;
      settled = true;
      for (const d of subs) d.dispose();
      resolve(r);
    };
    box.title = spec.title;
    box.prompt = spec.prompt;
    box.placeholder = spec.placeholder;
    box.value = spec.value ?? '';
    box.password = spec.password === true;
    box.ignoreFocusOut = true;
    box.buttons = [...(spec.back ? [vscode.QuickInputButtons.Back] : []), ...(spec.buttons ?? [])];
    subs.push(
      box.onDidChangeValue((v) => (box.validationMessage = spec.validate?.(v))),
      box.onDidTriggerButton((b) => {
        if (b === vscode.QuickInputButtons.Back) finish({ kind: 'back' });
        else spec.buttons?.find((x) => x === b)?.run();
      }),
      box.onDidAccept(async () => {
        if (box.busy || spec.validate?.(box.value)) return;
        box.busy = true;
        box.enabled = false;
        const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: spec.title }, () =>
          spec.accept(box.value).catch((e: unknown) => describeError(e)),
        );
        box.busy = false;
        box.enabled = true;
        if (typeof r === 'string') box.validationMessage = r;
        else finish({ kind: 'done', value: r.value });
      }),
      box.onDidHide(() => finish({ kind: 'cancel' })),
    );
    box.show();
  });
}

async function askUrl(deps: SignInDeps, initial: string): Promise<Step<string>> {
  return inputStep<string>({
    title: l10n.t('Sign In to Coder (1/2): deployment'),
    prompt: l10n.t('The URL of your Coder deployment'),
    placeholder: 'https://coder.example.com',
    value: initial,
    validate: (v) => {
      const n = normalizeDeploymentUrl(v);
      return !v.trim() || n.ok ? undefined : n.error;
    },
    accept: async (v) => {
      const n = normalizeDeploymentUrl(v);
      if (!n.ok) return n.error;
      const probe = await deps.probe(n.url).catch((e: unknown) => describeError(e));
      if (typeof probe === 'string') return probe;
      try {
        const info = await probe.buildInfo();
        deps.log.info(`sign-in: ${n.url} is Coder ${info.version}`);
        return { value: n.url };
      } catch (e) {
        return l10n.t('No Coder deployment answers at {0}: {1}', n.url, describeError(e));
      } finally {
        await probe.dispose();
      }
    },
  });
}

async function askToken(deps: SignInDeps, url: string): Promise<Step<{ token: string; user: User }>> {
  const tokenPage = `${url}/cli-auth`;
  return inputStep({
    title: l10n.t('Sign In to Coder (2/2): session token'),
    prompt: l10n.t('Paste a session token from {0} (the button above opens it).', tokenPage),
    placeholder: l10n.t('Session token'),
    password: true,
    back: true,
    buttons: [
      {
        iconPath: new vscode.ThemeIcon('link-external'),
        tooltip: l10n.t('Open {0}', tokenPage),
        run: () => void vscode.env.openExternal(vscode.Uri.parse(tokenPage)),
      },
    ],
    validate: (v) => (/\s/.test(v.trim()) ? l10n.t('A session token has no spaces.') : undefined),
    accept: async (v) => {
      const token = v.trim();
      if (!token) return l10n.t('Paste the token shown on the token page.');
      const probe = await deps.probe(url).catch((e: unknown) => describeError(e));
      if (typeof probe === 'string') return probe;
      try {
        return { value: { token, user: await probe.me(token) } };
      } catch (e) {
        return isAuthError(e)
          ? l10n.t('The deployment rejected this token: {0}', describeError(e))
          : l10n.t('Cannot check the token: {0}', describeError(e));
      } finally {
        await probe.dispose();
      }
    },
  });
}

/** Verifies found credentials with a notification progress; undefined when they do not work. */
async function verifyCandidate(deps: SignInDeps, c: CredentialCandidate): Promise<User | undefined> {
  return vscode.window
    .withProgress({ location: vscode.ProgressLocation.Notification, title: l10n.t('Signing in to {0}…', host(c.url)) }, async () => {
      const probe = await deps.probe(c.url);
      try {
        await probe.buildInfo();
        return await probe.me(c.token);
      } catch (e) {
        void vscode.window.showErrorMessage(l10n.t('The login from {0} does not work for {1}: {2}', c.origin, c.url, describeError(e)));
        return undefined;
      } finally {
        await probe.dispose();
      }
    })
    .then(undefined, (e: unknown) => {
      void vscode.window.showErrorMessage(l10n.t('Cannot sign in to {0}: {1}', c.url, describeError(e)));
      return undefined;
    });
}

type Pick = vscode.QuickPickItem & { candidate?: CredentialCandidate };

/** The sign-in command. Resolves to the deployment signed in to, or undefined if cancelled. */
export async function signIn(deps: SignInDeps, presetUrl?: string): Promise<string | undefined> {
  let url: string | undefined;
  if (!presetUrl) {
    const candidates = await discoverCredentials(deps.findCandidates, deps.discoveryLog);
    if (candidates.length > 0) {
      const items: Pick[] = candidates.map((c) => ({
        label: `$(key) ${host(c.url)}`,
        description: deps.store.has(c.url) ? l10n.t('{0} (signed in)', c.url) : c.url,
        detail: foundText(c.source, c.origin),
        candidate: c,
      }));
      items.push(
        { label: '', kind: vscode.QuickPickItemKind.Separator },
        { label: `$(globe) ${l10n.t('Another deployment…')}`, detail: l10n.t('Enter a URL and a session token') },
      );
      const picked = await vscode.window.showQuickPick(items, {
        title: l10n.t('Sign In to Coder'),
        placeHolder: l10n.t('Found logins come first'),
        ignoreFocusOut: true,
      });
      if (!picked) return undefined;
      if (picked.candidate) {
        const c = picked.candidate;
        const user = await verifyCandidate(deps, c);
        if (user) return finishSignIn(deps, c.url, c.token, user);
        url = c.url; // the URL is fine or was already reported; let the user paste a token
      }
    }
  }
  const initial = presetUrl ?? vscode.workspace.getConfiguration().get<string>('coderStatus.url')?.trim() ?? '';
  for (;;) {
    if (!url) {
      const u = await askUrl(deps, initial);
      if (u.kind !== 'done') return undefined;
      url = u.value;
    }
    const t = await askToken(deps, url);
    if (t.kind === 'cancel') return undefined;
    if (t.kind === 'back') {
      url = undefined;
      continue;
    }
    return finishSignIn(deps, url, t.value.token, t.value.user);
  }
}

async function finishSignIn(deps: SignInDeps, url: string, token: string, user: User): Promise<string> {
  await deps.store.add(url, token);
  deps.log.info(`sign-in: ${url} as ${user.username}`);
  void vscode.window.showInformationMessage(l10n.t('Signed in to {0} as {1}.', host(url), user.username));
  return url;
}

function sourceText(d: DeploymentEntry): string {
  if (d.tokenSource === 'secret') return l10n.t('Signed in');
  if (d.tokenSource === 'coder-remote') return l10n.t('found: Coder Remote');
  return d.tokenSource === 'env' ? l10n.t('Found in the environment') : l10n.t('Found in the coder CLI login');
}

/** The sign-out command: the given deployment, the only one, or a pick among several. */
export async function signOut(deps: SignInDeps, url?: string): Promise<void> {
  const all = deps.store.list();
  let target: DeploymentEntry | undefined = url ? all.find((d) => d.url === url) : all.length === 1 ? all[0] : undefined;
  if (!target && all.length > 1) {
    const picked = await vscode.window.showQuickPick(
      all.map((d) => ({ label: host(d.url), description: d.url, detail: sourceText(d), d })),
      { title: l10n.t('Sign Out of a Coder Deployment') },
    );
    target = picked?.d;
  }
  if (!target) {
    if (all.length === 0) throw new UserRefusal(l10n.t('You are not signed in to any Coder deployment.'));
    return;
  }
  await deps.store.remove(target.url);
  void vscode.window.showInformationMessage(l10n.t('Signed out of {0}.', host(target.url)));
}

/**
 * Picks up CODER_URL/CODER_SESSION_TOKEN and the coder CLI login at start, unless signed out
 * of that URL before. A rejected token is skipped; an unreachable deployment is used anyway
 * (the session will show it offline and recover), so that a network blip at start does not
 * look like being signed out.
 */
export async function adoptFoundCredentials(deps: SignInDeps): Promise<void> {
  const candidates = await discoverCredentials(deps.findCandidates, deps.discoveryLog);
  for (const c of candidates) {
    if (deps.store.has(c.url) || deps.store.isDismissed(c.url)) continue;
    let probe: DeploymentProbe | undefined;
    try {
      probe = await deps.probe(c.url);
      const user = await probe.me(c.token);
      deps.log.info(`found login for ${c.url} (${c.origin}) works, as ${user.username}`);
    } catch (e) {
      if (isAuthError(e)) {
        deps.log.warn(`found login for ${c.url} (${c.origin}) was rejected: ${describeError(e)}; not used`);
        continue;
      }
      deps.log.warn(`found login for ${c.url} (${c.origin}) could not be checked: ${describeError(e)}; using it`);
    } finally {
      await probe?.dispose();
    }
    deps.store.adopt(c.url, c.token, c.source);
  }
}

/**
 * Opens the deployment store, keeps the `coderStatus.signedIn` context key current and picks
 * up found logins. Returns the store (which deployments to open a session for: onDidChange,
 * list(), token(url)) and the coderStatus.signIn / coderStatus.signOut entries of the command table.
 */
export function startSignIn(
  context: vscode.ExtensionContext,
  state: PersistentState,
  opts: SignInOptions,
): { store: DeploymentStore; commands: CommandTable } {
  const store = new DeploymentStore(context.secrets, state, opts.log);
  const discoveryLog = new RateLimitedLog(opts.log, systemClock);
  const deps: SignInDeps = {
    store,
    log: opts.log,
    discoveryLog,
    findCandidates: opts.findCandidates ?? (() => defaultCandidates(context, discoveryLog)),
    probe: opts.probe ?? ((url) => defaultProbe(url, opts.log)),
  };
  const setSignedIn = () => void vscode.commands.executeCommand('setContext', 'coderStatus.signedIn', store.list().length > 0);
  context.subscriptions.push(store, store.onDidChange(setSignedIn));
  setSignedIn();
  const stored = store.list();
  opts.log.info(`signed in to ${stored.length} deployment(s)${stored.length ? `: ${stored.map((d) => d.url).join(', ')}` : ''}`);
  void adoptFoundCredentials(deps).catch((e: unknown) => opts.log.error(`picking up found logins failed: ${describeError(e)}`));
  const urlArg = (url: unknown) => (typeof url === 'string' ? url : undefined);
  return {
    store,
    commands: {
      'coderStatus.signIn': (url) => signIn(deps, urlArg(url)),
      'coderStatus.signOut': (url) => signOut(deps, urlArg(url)),
    },
  };
}
