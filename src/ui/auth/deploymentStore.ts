/**
 * The deployments this editor is signed in to, and where each one's session token lives.
 *
 * - Signed in through the sign-in command: the token is in SecretStorage under
 *   (`tokenSecretKey`), the URL in global state (shared by all windows).
 * - Picked up from CODER_URL/CODER_SESSION_TOKEN, the coder CLI login or Coder Remote: kept for this session
 *   only (in memory, never written anywhere), found again at the next start. Signing out of
 *   one remembers the URL as dismissed so that it is not picked up again.
 * A token never goes to settings, logs, or anything shown.
 */
import * as vscode from 'vscode';
import type { Logger } from '../../common/log';
import type { CredentialSource } from '../../api/credentials';
import { tokenSecretKey, urlOfTokenSecretKey, type PersistentState } from '../persistentState';

export type TokenSource = 'secret' | CredentialSource;

export interface DeploymentEntry {
  url: string;
  tokenSource: TokenSource;
}

export interface DeploymentsChange {
  deployments: readonly DeploymentEntry[];
  /** Deployments whose token changed (signed in again, here or in another window). */
  tokenChanged: readonly string[];
}

export class DeploymentStore implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<DeploymentsChange>();
  readonly onDidChange = this.emitter.event;
  /** Picked-up credentials of this session: url -> token and where it came from. */
  private readonly adopted = new Map<string, { token: string; source: CredentialSource }>();
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly state: PersistentState,
    private readonly log: Logger,
  ) {
    // Another window signed in or out: its globalState write is visible here, its event is not.
    this.subscription = secrets.onDidChange((e) => {
      const url = urlOfTokenSecretKey(e.key);
      if (url !== undefined) this.fire([url]);
    });
  }

  /** Every deployment, signed-in ones first; a URL appears once (a stored token wins). */
  list(): DeploymentEntry[] {
    const stored = this.stored();
    const out: DeploymentEntry[] = stored.map((url) => ({ url, tokenSource: 'secret' }));
    for (const [url, a] of this.adopted) {
      if (!stored.includes(url)) out.push({ url, tokenSource: a.source });
    }
    return out;
  }

  has(url: string): boolean {
    return this.list().some((d) => d.url === url);
  }

  isDismissed(url: string): boolean {
    return this.state.dismissedDeployments.includes(url);
  }

  /** The session token of a deployment, or undefined (then the deployment is signed out). */
  async token(url: string): Promise<string | undefined> {
    if (this.stored().includes(url)) return (await this.secrets.get(tokenSecretKey(url))) || undefined;
    return this.adopted.get(url)?.token;
  }

  /** Stores a verified token (sign-in). */
  async add(url: string, token: string): Promise<void> {
    // The list first: storing the secret fires onDidChange at once, and whoever reads the token
    // then must get the new one, not a found login the URL also has (an expired CODER_SESSION_TOKEN).
    const stored = this.stored();
    if (!stored.includes(url)) await this.state.setDeployments([...stored, url]);
    await this.secrets.store(tokenSecretKey(url), token);
    await this.undismiss(url);
    this.log.info(`signed in to ${url} (token in the secret store)`);
    this.fire([url]);
  }

  /** Uses found credentials for this session without storing them. */
  adopt(url: string, token: string, source: CredentialSource): void {
    const before = this.adopted.get(url);
    this.adopted.set(url, { token, source });
    const from = source === 'env' ? 'CODER_URL/CODER_SESSION_TOKEN' : source === 'coder-remote' ? 'Coder Remote' : 'coder CLI';
    this.log.info(`using the ${from} login for ${url}`);
    this.fire(before && before.token !== token ? [url] : []);
  }

  /** Signs out: forgets the stored token, and does not pick found credentials up again. */
  async remove(url: string): Promise<void> {
    // The found login first (the mirror of add): deleting the secret fires onDidChange at once,
    // and a found login still listed then would reopen the deployment with its token (an
    // expired CODER_SESSION_TOKEN: a second sign-in prompt right after signing out).
    this.adopted.delete(url);
    // Signed out means signed out: the same URL found in the environment or the CLI login is
    // not picked up again at the next start (signing in explicitly lifts this).
    const dismissed = this.state.dismissedDeployments;
    if (!dismissed.includes(url)) await this.state.setDismissedDeployments([...dismissed, url]);
    const stored = this.stored();
    if (stored.includes(url)) {
      await this.state.setDeployments(stored.filter((u) => u !== url));
      await this.secrets.delete(tokenSecretKey(url));
    }
    this.log.info(`signed out of ${url}`);
    this.fire([]);
  }

  private async undismiss(url: string): Promise<void> {
    const dismissed = this.state.dismissedDeployments;
    if (dismissed.includes(url)) await this.state.setDismissedDeployments(dismissed.filter((u) => u !== url));
  }

  private stored(): string[] {
    return this.state.deployments;
  }

  private fire(tokenChanged: string[]): void {
    this.emitter.fire({ deployments: this.list(), tokenChanged });
  }

  dispose(): void {
    this.subscription.dispose();
    this.emitter.dispose();
    this.adopted.clear();
  }
}
