import * as vscode from 'vscode';
import { systemClock } from './common/clock';
import { agentCommands } from './ui/commands/agentCommands';
import { registerCommandTable } from './ui/commands/commandTable';
import { provideDevcontainerRecreate } from './ui/commands/devcontainerCommands';
import { viewCommands } from './ui/commands/viewCommands';
import { WindowBinding } from './ui/binding/windowBinding';
import { adoptConfiguredUrl } from './ui/auth/configuredUrl';
import { Ctx } from './ui/ctx';
import { AgentDetails } from './ui/details/command';
import { DetailsPanel } from './ui/details/panel';
import { ReconnectDriver } from './ui/binding/reconnectDriver';
import { OpenDeployments } from './ui/deployments/openDeployments';
import { startSignIn } from './ui/auth/signIn';
import { StatusBar } from './ui/views/statusBar';
import { AgentTree } from './ui/views/tree';
import { AgentDoctor } from './ui/doctor/agentDoctor';
import { ViewStateKeys } from './ui/views/viewState';

export function activate(context: vscode.ExtensionContext): void {
  const started = performance.now();
  const log = vscode.window.createOutputChannel('Coder Workspace Status', { log: true });
  context.subscriptions.push(log);
  log.info(`activating ${context.extension.id} ${(context.extension.packageJSON as { version: string }).version}`);
  const ctx = new Ctx(context, log, systemClock);

  // The deployments to open (stored logins, env and CLI logins found at start).
  const auth = startSignIn(context, ctx.state, { log });
  const store = auth.store;
  const sessions = ctx.pushCleanup(new OpenDeployments(ctx, store));
  const bound = ctx.pushCleanup(new WindowBinding(ctx, sessions));
  ctx.pushCleanup(new ViewStateKeys(ctx, sessions, bound));
  const doctor = ctx.pushCleanup(new AgentDoctor(ctx, sessions));
  ctx.pushCleanup(provideDevcontainerRecreate(ctx));
  ctx.pushCleanup(new AgentTree(ctx, sessions, bound, doctor));
  ctx.pushCleanup(new StatusBar(ctx, sessions, bound, doctor));
  const driver = ctx.pushCleanup(new ReconnectDriver(ctx, sessions, bound, doctor));
  const details = new AgentDetails(ctx, sessions, bound, driver, doctor);
  const deps = { ctx, sessions, bound, driver, details, doctor };
  registerCommandTable(
    { ctx, secrets: () => sessions.list().flatMap((s) => s.client.secrets) },
    { ...auth.commands, ...viewCommands(deps), ...agentCommands(deps) },
  );
  ctx.pushCleanup({ dispose: () => DetailsPanel.disposeAll() });

  void adoptConfiguredUrl(ctx, store).catch((e: unknown) => log.error(`coderStatus.url: ${String(e)}`));
  void sessions.reconcile();
  log.info(`activated in ${(performance.now() - started).toFixed(1)} ms`);
}

export function deactivate(): void {}
