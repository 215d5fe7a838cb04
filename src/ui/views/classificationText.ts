/**
 * The model's classifications in the user's language. The model says what a state means as a
 * code and its values (`Classification.text`); this is the one place that turns them into
 * words. A classification without a code (built by hand) is shown as its own label.
 */
import * as vscode from 'vscode';
import type { Classification, ClassificationText } from '../../model/types';

/** The short text of a row or the status bar: "ready", "starting 1m 12s", ... */
export function labelText(c: Classification): string {
  return c.text ? label(c.text) : c.label;
}

/** The one sentence of why and what to do, for tooltips; undefined when there is none. */
export function detailText(c: Classification): string | undefined {
  return c.text ? detail(c.text) : c.detail;
}

function label(t: ClassificationText): string {
  const v = t.value ?? '';
  switch (t.code) {
    case 'agent.off':
      return vscode.l10n.t('off');
    case 'agent.unknownStatus':
    case 'agent.unknownLifecycle':
    case 'workspace.unknownStatus':
      return vscode.l10n.t('unknown: {0}', v);
    case 'agent.timeout':
      return vscode.l10n.t('timeout: never connected');
    case 'agent.disconnectedShuttingDown':
    case 'agent.shuttingDown':
      return vscode.l10n.t('shutting down');
    case 'agent.disconnected':
      return vscode.l10n.t('disconnected');
    case 'agent.connecting':
      return vscode.l10n.t('connecting');
    case 'agent.createdStuck':
      return vscode.l10n.t('created, connected: lifecycle not reported for {0}', t.duration ?? '');
    case 'agent.created':
      return vscode.l10n.t('created, connected');
    case 'agent.starting':
      return t.duration === undefined ? vscode.l10n.t('starting') : vscode.l10n.t('starting {0}', t.duration);
    case 'agent.ready':
      return vscode.l10n.t('ready');
    case 'agent.startTimeout':
      return vscode.l10n.t('start timeout');
    case 'agent.startError':
      return t.reason ? vscode.l10n.t('start error: {0}', t.reason) : vscode.l10n.t('start error');
    case 'agent.shutdownTimeout':
      return vscode.l10n.t('shutdown timeout');
    case 'agent.shutdownError':
      return vscode.l10n.t('shutdown error');
    case 'workspace.building':
      return t.queue === undefined
        ? vscode.l10n.t('{0}: {1}', t.transition ?? '', v)
        : vscode.l10n.t('{0}: {1} (queue {2})', t.transition ?? '', v, t.queue);
    case 'workspace.running':
      return vscode.l10n.t('running');
    case 'workspace.stopped':
      return vscode.l10n.t('stopped');
    case 'workspace.deleted':
      return vscode.l10n.t('deleted');
    case 'workspace.failed':
      return vscode.l10n.t('failed');
    case 'workspace.canceled':
      return vscode.l10n.t('canceled');
    case 'agent.other':
    case 'workspace.other':
      return v;
  }
}

function detail(t: ClassificationText): string | undefined {
  const v = t.value ?? '';
  switch (t.code) {
    case 'agent.off':
      return vscode.l10n.t('The agent has shut down.');
    case 'agent.unknownStatus':
      return vscode.l10n.t('The deployment reported an agent status this extension does not know ({0}).', v);
    case 'agent.timeout':
      return vscode.l10n.t(
        "The agent did not connect within {0}s. Check the workspace's startup or the troubleshooting link.",
        t.seconds ?? '?',
      );
    case 'agent.disconnectedShuttingDown':
      return vscode.l10n.t('The agent is shutting down.');
    case 'agent.disconnected':
      return vscode.l10n.t('The agent lost its connection to the control plane.');
    case 'agent.connecting':
      return vscode.l10n.t('Waiting for the agent to connect.');
    case 'agent.createdStuck':
      return vscode.l10n.t(
        'The agent is connected but never reported its lifecycle (it may have survived a rebuild). Replay its lifecycle or reinitialize it.',
      );
    case 'agent.created':
      return vscode.l10n.t('The agent connected and should report "starting" soon.');
    case 'agent.starting':
      return t.blocking
        ? vscode.l10n.t('Startup scripts are running; login waits for them.')
        : vscode.l10n.t('Startup scripts are running; the agent is already usable.');
    case 'agent.ready':
      return vscode.l10n.t('The agent is connected and its startup has finished.');
    case 'agent.startTimeout':
      return vscode.l10n.t('A startup script took longer than its timeout. The agent is usable; check its logs.');
    case 'agent.startError':
      return vscode.l10n.t('A startup script failed. The agent is usable; check its logs.');
    case 'agent.shuttingDown':
      return vscode.l10n.t('The agent is running its shutdown scripts.');
    case 'agent.shutdownTimeout':
      return vscode.l10n.t('A shutdown script took longer than its timeout.');
    case 'agent.shutdownError':
      return vscode.l10n.t('A shutdown script failed.');
    case 'agent.unknownLifecycle':
      return vscode.l10n.t('The deployment reported a lifecycle state this extension does not know ({0}).', v);
    case 'workspace.building':
      return vscode.l10n.t('Build #{0} ({1}) is {2}.', t.build ?? '?', t.transition ?? '', v);
    case 'workspace.unknownStatus':
      return vscode.l10n.t('The deployment reported a workspace status this extension does not know ({0}).', v);
    case 'workspace.failed':
      return t.error
        ? vscode.l10n.t('Build #{0} failed: {1}', t.build ?? '?', t.error)
        : vscode.l10n.t('Build #{0} failed.', t.build ?? '?');
    case 'workspace.canceled':
      return vscode.l10n.t('Build #{0} was canceled.', t.build ?? '?');
    case 'agent.other':
    case 'workspace.running':
    case 'workspace.stopped':
    case 'workspace.deleted':
    case 'workspace.other':
      return undefined;
  }
}
