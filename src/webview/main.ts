/**
 * Entry point of the details-panel page (bundled for the browser into dist/webview.js).
 *
 * It holds no state of its own beyond what is on screen: when VS Code recreates the page (the
 * panel was hidden), it says `ready` and the host sends everything again.
 */
import type { DetailsAction, DetailsPanelState, HostMessage, WebviewMessage } from '../protocol/detailsPanel';
import { ACTIONS, parseHostMessage } from '../protocol/detailsPanel';
import { renderView, type Sections } from './render';
import { LogPane } from './logs';
import { el } from './dom';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  /** What VS Code keeps for the panel and hands to the extension's serializer after a reload. */
  setState(state: DetailsPanelState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const BUTTONS: Record<DetailsAction, { label: string; title: string }> = {
  replay: { label: 'Replay lifecycle', title: 'Ask the agent to report its lifecycle again (starting, then ready)' },
  reinitialize: { label: 'Reinitialize agent', title: 'Restart the agent process and run its startup scripts again' },
  restart: { label: 'Restart workspace', title: 'Stop and start the workspace: the agent gets a new ID' },
  reconnect: { label: 'Reconnect', title: 'Reconnect this window to the agent' },
};

async function registerToolkit(): Promise<void> {
  // Dynamic imports: the toolkit is an ES module and this file is type-checked as CommonJS;
  // esbuild inlines them into the single bundle. One module per component (instead of the
  // package index) keeps the unused components out of the bundle.
  const [ds, button, tag, divider, link, ring, dataGrid] = await Promise.all([
    import('@vscode/webview-ui-toolkit/dist/vscode-design-system.js'),
    import('@vscode/webview-ui-toolkit/dist/button/index.js'),
    import('@vscode/webview-ui-toolkit/dist/tag/index.js'),
    import('@vscode/webview-ui-toolkit/dist/divider/index.js'),
    import('@vscode/webview-ui-toolkit/dist/link/index.js'),
    import('@vscode/webview-ui-toolkit/dist/progress-ring/index.js'),
    import('@vscode/webview-ui-toolkit/dist/data-grid/index.js'),
  ]);
  ds.provideVSCodeDesignSystem().register(
    button.vsCodeButton(),
    tag.vsCodeTag(),
    divider.vsCodeDivider(),
    link.vsCodeLink(),
    ring.vsCodeProgressRing(),
    dataGrid.vsCodeDataGrid(),
    dataGrid.vsCodeDataGridRow(),
    dataGrid.vsCodeDataGridCell(),
  );
}

function section(id: string): HTMLElement {
  return el('section', { attrs: { id } });
}

function buildPage(vscode: VsCodeApi): {
  sections: Sections;
  logs: LogPane;
  buttons: Map<DetailsAction, HTMLElement>;
  loading: HTMLElement;
} {
  const root = document.getElementById('app') ?? document.body;
  const sections: Sections = {
    header: el('header', { attrs: { id: 'header' } }),
    banner: el('p', { className: 'banner', attrs: { id: 'connection-banner', role: 'alert' } }),
    overview: section('overview'),
    timeline: section('timeline'),
    history: section('id-history'),
    scripts: section('scripts'),
  };
  sections.banner.hidden = true;
  const buttons = new Map<DetailsAction, HTMLElement>();
  const bar = el('div', { className: 'actions', attrs: { role: 'toolbar', 'aria-label': 'Agent actions' } });
  for (const action of ACTIONS) {
    const b = el('vscode-button', {
      text: BUTTONS[action].label,
      attrs: {
        id: `action-${action}`,
        title: BUTTONS[action].title,
        appearance: action === 'reconnect' ? 'primary' : 'secondary',
        disabled: '',
      },
    });
    b.addEventListener('click', () => {
      if (b.hasAttribute('disabled')) return;
      b.setAttribute('disabled', '');
      b.classList.add('busy');
      vscode.postMessage({ type: 'action', action });
    });
    buttons.set(action, b);
    bar.append(b);
  }
  const logs = new LogPane(section('logs'));
  const loading = el('div', { className: 'loading' }, el('vscode-progress-ring'), 'Loading agent details…');
  const columns = el('div', { className: 'columns' }, sections.overview, el('div', {}, sections.timeline, sections.history));
  root.replaceChildren(loading, sections.header, sections.banner, bar, el('vscode-divider'), columns, sections.scripts, logs.root);
  return { sections, logs, buttons, loading };
}

async function main(): Promise<void> {
  const vscode = acquireVsCodeApi();
  await registerToolkit();
  const page = buildPage(vscode);
  let enabled: Record<DetailsAction, boolean> = { replay: false, reinitialize: false, restart: false, reconnect: false };

  const syncButtons = (): void => {
    for (const [action, b] of page.buttons) {
      if (b.classList.contains('busy')) continue;
      if (enabled[action]) b.removeAttribute('disabled');
      else b.setAttribute('disabled', '');
    }
  };

  const handle = (msg: HostMessage): void => {
    switch (msg.type) {
      case 'init':
        vscode.setState(msg.panelState);
        break;
      case 'state':
        page.loading.hidden = true;
        document.body.classList.remove('gone');
        renderView(page.sections, msg.agent);
        enabled = msg.agent.actions;
        syncButtons();
        break;
      case 'gone':
        page.loading.hidden = true;
        document.body.classList.add('gone');
        page.sections.banner.hidden = false;
        page.sections.banner.textContent = msg.reason;
        enabled = { replay: false, reinitialize: false, restart: false, reconnect: false };
        syncButtons();
        break;
      case 'logs':
        page.logs.append(msg.lines, msg.reset);
        break;
      case 'logStatus':
        page.logs.setStatus(msg.status, msg.message);
        break;
      case 'actionDone': {
        const b = page.buttons.get(msg.action);
        b?.classList.remove('busy');
        syncButtons();
        break;
      }
    }
  };

  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    const checked = parseHostMessage(event.data);
    if (!checked.ok) {
      // Never render what failed validation; the reason names a path, not the content.
      console.warn(`details panel: ignored an invalid message (${checked.reason})`);
      return;
    }
    handle(checked.message);
  });
  vscode.postMessage({ type: 'ready' });
}

void main();
