/** Severity -> theme colours. Theme colour ids keep light, dark and high-contrast themes legible. */
import * as vscode from 'vscode';
import type { Classification, Severity } from '../../model/types';

const ICON_COLOURS: Record<Severity, string> = {
  ok: 'testing.iconPassed',
  progress: 'charts.blue',
  warning: 'list.warningForeground',
  error: 'list.errorForeground',
  off: 'disabledForeground',
};

export function severityIcon(c: Pick<Classification, 'icon' | 'severity'>): vscode.ThemeIcon {
  return new vscode.ThemeIcon(c.icon, new vscode.ThemeColor(ICON_COLOURS[c.severity]));
}

/** Status-bar background: only the two colours VS Code allows there, for the two loud severities. */
export function statusBarBackground(severity: Severity): vscode.ThemeColor | undefined {
  if (severity === 'error') return new vscode.ThemeColor('statusBarItem.errorBackground');
  if (severity === 'warning') return new vscode.ThemeColor('statusBarItem.warningBackground');
  return undefined;
}
