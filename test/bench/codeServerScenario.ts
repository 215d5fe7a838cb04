/** Scenario 5: the packaged extension in code-server: activation, change-to-page latency, sizes. */
import { statSync } from 'node:fs';
import { startSimulator } from '../sim';
import { defaultVsix, startCodeServer } from '../e2e/codeServer';
import { openWorkbench } from '../e2e/workbench';
import { percentile, type Figure } from './report';

export async function inVsCode(changes: number): Promise<Figure[]> {
  const sim = await startSimulator({ clock: 'real' });
  const dev = sim.createWorkspace({ name: 'dev' });
  const server = await startCodeServer({
    env: { CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.token, CODER_WORKSPACE_NAME: 'dev', CODER_WORKSPACE_AGENT_NAME: 'main' },
  });
  const wb = await openWorkbench(server.url, { logsDir: server.logsDir });
  try {
    await wb.openView();
    await wb.waitForTreeItem((i) => i.label === 'main' && /^ready/.test(i.description), 60_000);
    const agentId = sim.findAgent(dev, 'main').id;
    const lat: number[] = [];
    for (let i = 0; i < changes; i++) {
      const state = i % 2 === 0 ? 'start_timeout' : 'ready';
      const label = state === 'ready' ? /^ready/ : /^start timeout/;
      const t0 = performance.now();
      sim.setLifecycle(agentId, state);
      await wb.page.waitForFunction(
        (src) =>
          Array.from(document.querySelectorAll('.part.sidebar .monaco-list-row .label-description')).some((e) =>
            new RegExp(src).test((e as HTMLElement).innerText),
          ),
        label.source,
        { timeout: 30_000, polling: 'raf' },
      );
      lat.push(performance.now() - t0);
    }
    const activated = /activated in ([\d.]+) ms/.exec(server.extensionLog());
    return [
      { name: 'vscode_activation_ms', value: activated ? Number(activated[1]) : NaN, target: '< 50' },
      { name: 'vscode_change_visible_p50_ms', value: percentile(lat, 50) },
      { name: 'vscode_change_visible_p99_ms', value: percentile(lat, 99), target: '< 250' },
      { name: 'bundle_kb', value: statSync('dist/extension.js').size / 1024, target: '< 500' },
      { name: 'vsix_kb', value: statSync(defaultVsix).size / 1024, target: '< 1024' },
    ];
  } finally {
    await wb.close();
    await server.stop();
    await sim.close();
  }
}
