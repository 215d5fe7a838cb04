/**
 * Entry point of the details-panel page (bundled for the browser into dist/webview.js).
 *
 * It holds no state of its own beyond what is on screen: when VS Code recreates the page (the
 * panel was hidden), it says `ready` and the host sends everything again, its texts first (the
 * page has no words of its own: the host localizes them).
 */
import type { DetailsAction, DetailsPanelState, DetailsStrings, HostMessage, StringKey, WebviewMessage } from '../protocol/detailsPanel';
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

const BUTTONS: Record<DetailsAction, { label: StringKey; title: StringKey }> = {
  replay: { label: 'replayLabel', title: 'replayTitle' },
  reinitialize: { label: 'reinitializeLabel', title: 'reinitializeTitle' },
  restart: { label: 'restartLabel', title: 'restartTitle' },
  reconnect: { label: 'reconnectLabel', title: 'reconnectTitle' },
  copyDiagnostics: { label: 'copyDiagnosticsLabel', title: 'copyDiagnosticsTitle' },
};

const NONE_ENABLED = Object.fromEntries(ACTIONS.map((a) => [a, false])) as Record<DetailsAction, boolean>;

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

interface Page {
  sections: Sections;
  logs: LogPane;
  buttons: Map<DetailsAction, HTMLElement>;
  loading: HTMLElement;
  strings: DetailsStrings;
}

function buildPage(vscode: VsCodeApi, strings: DetailsStrings): Page {
  const root = document.getElementById('app') ?? document.body;
  const sections: Sections = {
    header: el('header', { attrs: { id: 'header' } }),
    banner: el('p', { className: 'banner', attrs: { id: 'connection-banner', role: 'alert' } }),
    diagnosis: section('diagnosis'),
    overview: section('overview'),
    timeline: section('timeline'),
    history: section('id-history'),
    scripts: section('scripts'),
  };
  sections.banner.hidden = true;
  sections.diagnosis.hidden = true;
  const buttons = new Map<DetailsAction, HTMLElement>();
  const bar = el('div', { className: 'actions', attrs: { role: 'toolbar', 'aria-label': strings.actionsLabel } });
  for (const action of ACTIONS) {
    const b = el('vscode-button', {
      text: strings[BUTTONS[action].label],
      attrs: {
        id: `action-${action}`,
        title: strings[BUTTONS[action].title],
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
  const logs = new LogPane(section('logs'), strings);
  const loading = el('div', { className: 'loading' }, el('vscode-progress-ring'), strings.loading);
  const columns = el('div', { className: 'columns' }, sections.overview, el('div', {}, sections.timeline, sections.history));
  root.replaceChildren(
    loading,
    sections.header,
    sections.banner,
    sections.diagnosis,
    bar,
    el('vscode-divider'),
    columns,
    sections.scripts,
    logs.root,
  );
  return { sections, logs, buttons, loading, strings };
}

async function main(): Promise<void> {
  const vscode = acquireVsCodeApi();
  await registerToolkit();
  let page: Page | undefined;
  let enabled: Record<DetailsAction, boolean> = NONE_ENABLED;

  const syncButtons = (buttons: Map<DetailsAction, HTMLElement>): void => {
    for (const [action, b] of buttons) {
      if (b.classList.contains('busy')) continue;
      if (enabled[action]) b.removeAttribute('disabled');
      else b.setAttribute('disabled', '');
    }
  };

  const handle = (msg: HostMessage): void => {
    if (msg.type === 'init') {
      vscode.setState(msg.panelState);
      page ??= buildPage(vscode, msg.strings);
      return;
    }
    // The host answers `ready` with `init` first; nothing can be shown without its texts.
    if (!page) return;
    switch (msg.type) {
      case 'state':
        page.loading.hidden = true;
        document.body.classList.remove('gone');
        renderView(page.sections, msg.agent, page.strings);
        enabled = msg.agent.actions;
        syncButtons(page.buttons);
        break;
      case 'gone':
        page.loading.hidden = true;
        document.body.classList.add('gone');
        page.sections.banner.hidden = false;
        page.sections.banner.textContent = msg.reason;
        enabled = NONE_ENABLED;
        syncButtons(page.buttons);
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
        syncButtons(page.buttons);
        break;
      }
    }
  };

  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    const checked = parseHostMessage(event.data);
    if (!checked.ok) {
      // Never render what failed validation; the reason names a path, not the content.
      vscode.postMessage({ type: 'rejected', reason: checked.reason });
      return;
    }
    handle(checked.message);
  });
  vscode.postMessage({ type: 'ready' });
}

void main();
