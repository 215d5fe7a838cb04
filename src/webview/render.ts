/**
 * Renders an AgentDetailsView into the page's sections. The view is already decided by the
 * host; this file only turns it into elements (as text) and never interprets it further.
 */
import type { AgentDetailsView } from '../protocol/detailsPanel';
import { el, formatClock, formatDuration, formatTime, grid, safeHttpUrl } from './dom';

export interface Sections {
  header: HTMLElement;
  banner: HTMLElement;
  diagnosis: HTMLElement;
  overview: HTMLElement;
  timeline: HTMLElement;
  history: HTMLElement;
  scripts: HTMLElement;
}

function connectionText(v: AgentDetailsView): string | undefined {
  switch (v.connection.kind) {
    case 'offline':
      // What is shown is the last state heard before the connection went down.
      return v.connection.since !== null
        ? `The deployment cannot be reached since ${formatTime(v.connection.since)}; what is shown is as of then.`
        : 'The deployment cannot be reached; what is shown may be out of date.';
    case 'signed-out':
      return 'Signed out of the deployment: sign in again to see live state.';
    case 'connecting':
      return 'Connecting to the deployment…';
    case 'idle':
      return 'Not connected to a deployment.';
    case 'live':
      return undefined;
  }
}

function renderHeader(target: HTMLElement, v: AgentDetailsView): void {
  const title = v.parentName ? `${v.workspaceName}.${v.parentName} › ${v.agentName}` : `${v.workspaceName}.${v.agentName}`;
  target.replaceChildren(
    el('h1', { text: title, attrs: { id: 'agent-title' } }),
    el(
      'div',
      { className: 'tags' },
      el('span', { className: `lifecycle severity-${v.severity}`, text: v.label, attrs: { id: 'lifecycle-label' } }),
      el('vscode-tag', { text: v.status, attrs: { title: 'Connection status of the agent' } }),
      v.bound && el('vscode-tag', { text: 'bound to this window' }),
      v.stuck && el('vscode-tag', { className: 'stuck', text: 'stuck' }),
    ),
    el('div', { className: 'subtitle', text: `${v.ownerName}/${v.workspaceName} on ${v.deploymentUrl}` }),
    ...(v.detail ? [el('p', { className: 'detail', text: v.detail })] : []),
  );
}

function row(name: string, value: Node | string): HTMLElement[] {
  return [el('dt', { text: name }), el('dd', {}, value)];
}

function renderOverview(target: HTMLElement, v: AgentDetailsView): void {
  const link = safeHttpUrl(v.troubleshootingUrl);
  const health = v.health.healthy ? 'healthy' : `unhealthy${v.health.reason ? `: ${v.health.reason}` : ''}`;
  const dl = el(
    'dl',
    { className: 'facts' },
    ...row('Agent ID', el('code', { text: v.agentId, attrs: { id: 'agent-id' } })),
    ...row('Lifecycle', v.lifecycle),
    ...row('Status', v.status),
    ...row('Build', `#${v.build.number} ${v.build.transition} (${v.build.jobStatus})`),
    ...row('Version', v.apiVersion ? `${v.version || 'unknown'} (API ${v.apiVersion})` : v.version || 'unknown'),
    ...row('OS / arch', `${v.os || '?'} / ${v.arch || '?'}`),
    ...row('Health', el('span', { className: v.health.healthy ? 'healthy' : 'unhealthy', text: health })),
    ...row('Directory', v.directory ?? '-'),
    ...row('Created', formatTime(v.times.createdAt)),
    ...row('First connected', formatTime(v.times.firstConnectedAt)),
    ...row('Last connected', formatTime(v.times.lastConnectedAt)),
    ...(v.times.disconnectedAt !== null ? row('Disconnected', formatTime(v.times.disconnectedAt)) : []),
    ...row('Started', formatTime(v.times.startedAt)),
    ...row('Ready', formatTime(v.times.readyAt)),
    ...(link ? row('Troubleshooting', el('vscode-link', { text: link, attrs: { href: link } })) : []),
  );
  target.replaceChildren(el('h2', { text: 'Agent' }), dl);
}

function renderTimeline(target: HTMLElement, v: AgentDetailsView): void {
  const list = el('ol', { className: 'timeline', attrs: { 'aria-label': 'Lifecycle transitions' } });
  v.timeline.forEach((t, i) => {
    const prev = i > 0 ? v.timeline[i - 1] : undefined;
    const gap = prev ? formatDuration(t.at - prev.at) : '';
    list.append(
      el(
        'li',
        { className: i === v.timeline.length - 1 ? 'current' : undefined },
        el('time', { text: formatClock(t.at), attrs: { datetime: new Date(t.at).toISOString(), title: formatTime(t.at) } }),
        el('span', { className: 'state', text: t.state }),
        gap ? el('span', { className: 'gap', text: `+${gap}` }) : null,
        t.source === 'observed'
          ? el('span', {
              className: 'source',
              text: '(seen here)',
              attrs: { title: 'Time this window saw the change; the server did not record it' },
            })
          : null,
      ),
    );
  });
  target.replaceChildren(
    el('h2', { text: 'Lifecycle timeline' }),
    v.timeline.length ? list : el('p', { text: 'No transitions known yet.' }),
  );
}

function renderHistory(target: HTMLElement, v: AgentDetailsView): void {
  const rows = [...v.idHistory].reverse().map((h) => [`#${h.buildNumber}`, h.oldId, h.newId, formatTime(h.at), h.cause ?? '']);
  target.replaceChildren(
    el('h2', { text: 'Agent ID history' }),
    rows.length
      ? grid('Agent ID changes', ['Build', 'Old ID', 'New ID', 'When', 'Cause'], rows)
      : el('p', { text: 'No agent ID change seen since this window started.' }),
  );
}

function renderScripts(target: HTMLElement, v: AgentDetailsView): void {
  const yes = (b: boolean): string => (b ? 'yes' : 'no');
  const rows = v.scripts.map((s) => [
    s.name,
    yes(s.runOnStart),
    yes(s.runOnStop),
    yes(s.startBlocksLogin),
    s.timeoutSeconds > 0 ? `${s.timeoutSeconds} s` : 'none',
  ]);
  target.replaceChildren(
    el('h2', { text: 'Scripts' }),
    rows.length
      ? grid('Agent scripts', ['Script', 'On start', 'On stop', 'Blocks login', 'Timeout'], rows)
      : el('p', { text: 'This agent has no scripts.' }),
  );
}

function renderDiagnosis(target: HTMLElement, v: AgentDetailsView): void {
  target.hidden = v.diagnoses.length === 0;
  target.replaceChildren(
    el('h2', { text: 'Diagnosis' }),
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

export function renderView(s: Sections, v: AgentDetailsView): void {
  renderHeader(s.header, v);
  renderDiagnosis(s.diagnosis, v);
  const banner = connectionText(v);
  s.banner.hidden = banner === undefined;
  s.banner.textContent = banner ?? '';
  renderOverview(s.overview, v);
  renderTimeline(s.timeline, v);
  renderHistory(s.history, v);
  renderScripts(s.scripts, v);
}
