/** The doctor's codes and values in words, localized. The model decides; this file only words. */
import * as vscode from 'vscode';
import type { Diagnosis } from '../../model/doctor';
import { formatDuration } from '../../model/lifecycle';

export const CODER_ISSUE_18571 = 'https://github.com/coder/coder/issues/18571';

export interface ExplainedDiagnosis {
  code: Diagnosis['code'];
  cause: string;
  fix: string;
  /** A note beside the cause, not the cause (model/doctor.ts `Diagnosis.secondary`). */
  secondary: boolean;
  /** The last lines of the log that goes with it, when loaded. */
  logLines: readonly string[];
  link?: string;
}

function str(d: Diagnosis, key: string): string {
  const v = d.values[key];
  return v === undefined ? '' : String(v);
}

function num(d: Diagnosis, key: string): number {
  const v = d.values[key];
  return typeof v === 'number' ? v : 0;
}

function cause(d: Diagnosis, now: number): string {
  switch (d.code) {
    case 'survived-build':
      return vscode.l10n.t(
        'The agent process survived the build and did not report its lifecycle on the new agent (Coder issue 18571): connected, but "created" for {0}.',
        formatDuration(num(d, 'stuckForMs')),
      );
    case 'lifecycle-not-reported':
      return vscode.l10n.t('The agent is connected but has not reported its lifecycle for {0}.', formatDuration(num(d, 'stuckForMs')));
    case 'survives-restarts':
      return vscode.l10n.t(
        'Stuck at "created" again on build #{0}, as on build #{1}: a restart does not help on this template (the VM keeps the agent process).',
        str(d, 'build'),
        str(d, 'earlierBuild'),
      );
    case 'never-connected':
      return vscode.l10n.t(
        'The agent never connected: {0} since it was created, its connection timeout is {1} s.',
        formatDuration(num(d, 'waitedMs')),
        str(d, 'timeoutSeconds'),
      );
    case 'startup-script-failed':
      if (!num(d, 'reported')) return vscode.l10n.t('A startup script failed. Scripts that block login: {0}.', str(d, 'scripts') || '-');
      return d.values.exitCode !== undefined
        ? vscode.l10n.t('Startup script {0} failed with exit code {1}.', str(d, 'scripts'), str(d, 'exitCode'))
        : vscode.l10n.t('Startup script {0} failed.', str(d, 'scripts'));
    case 'startup-script-timed-out':
      if (!num(d, 'reported'))
        return vscode.l10n.t('A startup script ran over its timeout. Scripts that block login: {0}.', str(d, 'scripts') || '-');
      return d.values.timeoutSeconds !== undefined
        ? vscode.l10n.t('Startup script {0} ran over its timeout of {1} s.', str(d, 'scripts'), str(d, 'timeoutSeconds'))
        : vscode.l10n.t('Startup script {0} ran over its timeout.', str(d, 'scripts'));
    case 'disconnected': {
      const since = num(d, 'since');
      return since > 0
        ? vscode.l10n.t(
            'The agent is disconnected since {0} ({1} ago).',
            new Date(since).toLocaleString(),
            formatDuration(Math.max(0, now - since)),
          )
        : vscode.l10n.t('The agent is disconnected.');
    }
    case 'build-failed':
      return str(d, 'error')
        ? vscode.l10n.t('Build #{0} ({1}) failed: {2}', str(d, 'build'), str(d, 'transition'), str(d, 'error'))
        : vscode.l10n.t('Build #{0} ({1}) failed.', str(d, 'build'), str(d, 'transition'));
    case 'build-canceled':
      return vscode.l10n.t('Build #{0} ({1}) was canceled.', str(d, 'build'), str(d, 'transition'));
    case 'agent-outdated':
      return vscode.l10n.t('Agent outdated: the agent runs {0}, the deployment {1}.', str(d, 'agentVersion'), str(d, 'deploymentVersion'));
  }
}

function fix(d: Diagnosis): string {
  switch (d.fix) {
    case 'restart':
      return vscode.l10n.t(
        'Restart the workspace so that a fresh agent process reports its lifecycle. If it happens again, the template must restart the agent on resume.',
      );
    case 'template-restarts-agent':
      return vscode.l10n.t(
        'Change the template so that it restarts the agent when the VM resumes (for example restart the agent service on resume). No Coder release fixes this yet: Coder issue 18571 is open.',
      );
    case 'check-build-log':
      return vscode.l10n.t(
        'The agent process did not start or cannot reach the deployment: check the build log and the troubleshooting page, then restart the workspace.',
      );
    case 'fix-script':
      return vscode.l10n.t('Fix the script (its last log lines are below). The agent can be used meanwhile.');
    case 'start-workspace':
      return vscode.l10n.t('The workspace is {0}: start it.', str(d, 'workspaceStatus'));
    case 'check-machine':
      return vscode.l10n.t(
        'The workspace still runs: its machine or its network is down. Check it in the dashboard, or restart the workspace.',
      );
    case 'fix-build':
      return vscode.l10n.t('Fix what the build error names (template or parameters), then start the workspace again.');
    case 'build-again':
      return vscode.l10n.t('Start the workspace again.');
    case 'update-agent':
      return vscode.l10n.t(
        'Update the workspace to a template version with a current agent, or restart it so that it downloads the deployment’s agent.',
      );
  }
}

export function explain(d: Diagnosis, now: number, logLines: readonly string[] = []): ExplainedDiagnosis {
  const link = d.code === 'survived-build' || d.code === 'survives-restarts' ? CODER_ISSUE_18571 : d.link;
  const secondary = d.secondary === true;
  const text = secondary ? vscode.l10n.t('Note: {0}', cause(d, now)) : cause(d, now);
  return { code: d.code, cause: text, fix: fix(d), secondary, logLines, ...(link ? { link } : {}) };
}
