import * as vscode from 'vscode';
import { systemClock } from './common/clock';
import { AGENT_COMMANDS } from './ui/commands/agentCommands';
import { WindowBinding } from './ui/binding/windowBinding';
import { registerCommands } from './ui/commands/viewCommands';
import { adoptConfiguredUrl } from './ui/auth/configuredUrl';
import { Ctx } from './ui/ctx';
import { AgentDetails } from './ui/details/command';
import { DetailsPanel } from './ui/details/panel';
import { ReconnectDriver } from './ui/binding/reconnectDriver';
import { OpenDeployments } from './ui/deployments/openDeployments';
import { registerSignIn } from './ui/auth/signIn';
import { StatusBar } from './ui/views/statusBar';
import { AgentTree } from './ui/views/tree';
import { ViewStateKeys } from './ui/views/viewState';

export function activate(context: vscode.ExtensionContext): void {
  const started = performance.now();
  const log = vscode.window.createOutputChannel('Coder Workspace Status', { log: true });
  context.subscriptions.push(log);
  log.info(`activating ${context.extension.id} ${context.extension.packageJSON.version as string}`);
  const ctx = new Ctx(context, log, systemClock);

  // Sign-in/out commands and the deployments to open (stored logins, env and CLI logins found at start).
  const store = registerSignIn(context, { log });
  const sessions = ctx.pushCleanup(new OpenDeployments(ctx, store));
  const bound = ctx.pushCleanup(new WindowBinding(ctx, sessions));
  ctx.pushCleanup(new ViewStateKeys(ctx, sessions, bound));
  ctx.pushCleanup(new AgentTree(ctx, sessions, bound));
  ctx.pushCleanup(new StatusBar(ctx, sessions, bound));
  const driver = ctx.pushCleanup(new ReconnectDriver(ctx, sessions, bound));
  const agentDeps = { ctx, sessions, bound, driver };
  const details = new AgentDetails(ctx, sessions, bound, driver);
  registerCommands(
    { ctx, sessions, bound, details },
    Object.fromEntries(Object.entries(AGENT_COMMANDS).map(([id, f]) => [id, f(agentDeps)])),
  );
  ctx.pushCleanup({ dispose: () => DetailsPanel.disposeAll() });

  void adoptConfiguredUrl(ctx, store).catch((e: unknown) => log.error(`coderStatus.url: ${String(e)}`));
  void sessions.reconcile();
  log.info(`activated in ${(performance.now() - started).toFixed(1)} ms`);
}

export function deactivate(): void {}
