/**
 * Renders an AgentDetailsView into the page's sections. The view is already decided by the
 * host; this file only turns it into elements (as text) and never interprets it further. Every
 * word on the page comes from the host's strings.
 */
import type { AgentDetailsView, DetailsStrings } from '../protocol/detailsPanel';
import { el, fill, formatClock, formatDuration, formatTime, grid, safeHttpUrl } from './dom';

export interface Sections {
  header: HTMLElement;
  banner: HTMLElement;
  diagnosis: HTMLElement;
  overview: HTMLElement;
  timeline: HTMLElement;
  history: HTMLElement;
  scripts: HTMLElement;
}

function connectionText(v: AgentDetailsView, t: DetailsStrings): string | undefined {
  switch (v.connection.kind) {
    case 'offline':
      // What is shown is the last state heard before the connection went down.
      return v.connection.since !== null ? fill(t.offlineSince, formatTime(v.connection.since)) : t.offline;
    case 'signed-out':
      return t.signedOut;
    case 'connecting':
      return t.connecting;
    case 'idle':
      return t.idle;
    case 'live':
      return undefined;
  }
}

function renderHeader(target: HTMLElement, v: AgentDetailsView, t: DetailsStrings): void {
  const title = v.parentName ? `${v.workspaceName}.${v.parentName} › ${v.agentName}` : `${v.workspaceName}.${v.agentName}`;
  target.replaceChildren(
    el('h1', { text: title, attrs: { id: 'agent-title' } }),
    el(
      'div',
      { className: 'tags' },
      el('span', { className: `lifecycle severity-${v.severity}`, text: v.label, attrs: { id: 'lifecycle-label' } }),
      el('vscode-tag', { text: v.status, attrs: { title: t.statusTitle } }),
      v.bound && el('vscode-tag', { text: t.boundTag }),
      v.stuck && el('vscode-tag', { className: 'stuck', text: t.stuckTag }),
    ),
    el('div', { className: 'subtitle', text: fill(t.subtitle, v.ownerName, v.workspaceName, v.deploymentUrl) }),
    ...(v.detail ? [el('p', { className: 'detail', text: v.detail })] : []),
  );
}

function row(name: string, value: Node | string): HTMLElement[] {
  return [el('dt', { text: name }), el('dd', {}, value)];
}

function renderOverview(target: HTMLElement, v: AgentDetailsView, t: DetailsStrings): void {
  const link = safeHttpUrl(v.troubleshootingUrl);
  const health = v.health.healthy ? t.healthy : v.health.reason ? fill(t.unhealthyBecause, v.health.reason) : t.unhealthy;
  const version = v.version || t.unknownVersion;
  const dl = el(
    'dl',
    { className: 'facts' },
    ...row(t.agentId, el('code', { text: v.agentId, attrs: { id: 'agent-id' } })),
    ...row(t.lifecycle, v.lifecycle),
    ...row(t.status, v.status),
    ...row(t.build, fill(t.buildValue, v.build.number, v.build.transition, v.build.jobStatus)),
    ...row(t.version, v.apiVersion ? fill(t.versionWithApi, version, v.apiVersion) : version),
    ...row(t.osArch, `${v.os || '?'} / ${v.arch || '?'}`),
    ...row(t.health, el('span', { className: v.health.healthy ? 'healthy' : 'unhealthy', text: health })),
    ...row(t.directory, v.directory ?? '-'),
    ...row(t.created, formatTime(v.times.createdAt)),
    ...row(t.firstConnected, formatTime(v.times.firstConnectedAt)),
    ...row(t.lastConnected, formatTime(v.times.lastConnectedAt)),
    ...(v.times.disconnectedAt !== null ? row(t.disconnected, formatTime(v.times.disconnectedAt)) : []),
    ...row(t.started, formatTime(v.times.startedAt)),
    ...row(t.ready, formatTime(v.times.readyAt)),
    ...(link ? row(t.troubleshooting, el('vscode-link', { text: link, attrs: { href: link } })) : []),
    ...devcontainerRows(v, t),
  );
  target.replaceChildren(el('h2', { text: t.agentHeading }), dl);
}

/** A dev-container sub-agent: the container it runs in. */
function devcontainerRows(v: AgentDetailsView, t: DetailsStrings): HTMLElement[] {
  const d = v.devcontainer;
  if (!d) return [];
  return [
    ...row(
      t.devcontainer,
      el('span', { className: `severity-${d.severity}`, text: `${d.name}: ${d.label}`, attrs: { id: 'devcontainer' } }),
    ),
    ...row(t.devcontainerFolder, d.workspaceFolder || '-'),
    ...row(t.devcontainerConfig, d.configPath || '-'),
    ...(d.container ? row(t.devcontainerContainer, d.container) : []),
    ...(d.error ? row(t.devcontainerError, el('span', { className: 'unhealthy', text: d.error })) : []),
  ];
}

function renderTimeline(target: HTMLElement, v: AgentDetailsView, t: DetailsStrings): void {
  const list = el('ol', { className: 'timeline', attrs: { 'aria-label': t.timelineLabel } });
  v.timeline.forEach((e, i) => {
    const prev = i > 0 ? v.timeline[i - 1] : undefined;
    const gap = prev ? formatDuration(e.at - prev.at, t) : '';
    list.append(
      el(
        'li',
        { className: i === v.timeline.length - 1 ? 'current' : undefined },
        el('time', { text: formatClock(e.at), attrs: { datetime: new Date(e.at).toISOString(), title: formatTime(e.at) } }),
        el('span', { className: 'state', text: e.state }),
        gap ? el('span', { className: 'gap', text: `+${gap}` }) : null,
        e.source === 'observed' ? el('span', { className: 'source', text: t.seenHere, attrs: { title: t.seenHereTitle } }) : null,
      ),
    );
  });
  target.replaceChildren(el('h2', { text: t.timelineHeading }), v.timeline.length ? list : el('p', { text: t.noTransitions }));
}

function renderHistory(target: HTMLElement, v: AgentDetailsView, t: DetailsStrings): void {
  const rows = [...v.idHistory].reverse().map((h) => [`#${h.buildNumber}`, h.oldId, h.newId, formatTime(h.at), h.cause ?? '']);
  target.replaceChildren(
    el('h2', { text: t.historyHeading }),
    rows.length ? grid(t.historyLabel, [t.build, t.oldId, t.newId, t.when, t.cause], rows) : el('p', { text: t.noIdChanges }),
  );
}

function renderScripts(target: HTMLElement, v: AgentDetailsView, t: DetailsStrings): void {
  const yes = (b: boolean): string => (b ? t.yes : t.no);
  const rows = v.scripts.map((s) => [
    s.name || t.unnamedScript,
    yes(s.runOnStart),
    yes(s.runOnStop),
    yes(s.startBlocksLogin),
    s.timeoutSeconds > 0 ? fill(t.seconds, s.timeoutSeconds) : t.noTimeout,
  ]);
  target.replaceChildren(
    el('h2', { text: t.scriptsHeading }),
    rows.length ? grid(t.scriptsLabel, [t.script, t.onStart, t.onStop, t.blocksLogin, t.timeout], rows) : el('p', { text: t.noScripts }),
  );
}

function renderDiagnosis(target: HTMLElement, v: AgentDetailsView, t: DetailsStrings): void {
  target.hidden = v.diagnoses.length === 0;
  target.replaceChildren(
    el('h2', { text: t.diagnosisHeading }),
    ...v.diagnoses.map((d) => {
      const link = safeHttpUrl(d.link);
      return el(
        'div',
        { className: 'diagnosis', attrs: { 'data-code': d.code } },
        el('p', { className: 'cause', text: d.cause }),
        el('p', { className: 'fix', text: d.fix }),
        d.logLines.length ? el('pre', { className: 'log-tail', text: d.logLines.join('\n') }) : null,
        link ? el('vscode-link', { text: link, attrs: { href: link } }) : null,
      );
    }),
  );
}

export function renderView(s: Sections, v: AgentDetailsView, t: DetailsStrings): void {
  renderHeader(s.header, v, t);
  renderDiagnosis(s.diagnosis, v, t);
  const banner = connectionText(v, t);
  s.banner.hidden = banner === undefined;
  s.banner.textContent = banner ?? '';
  renderOverview(s.overview, v, t);
  renderTimeline(s.timeline, v, t);
  renderHistory(s.history, v, t);
  renderScripts(s.scripts, v, t);
}
