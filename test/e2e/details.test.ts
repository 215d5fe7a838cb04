// The agent details panel in the packaged extension inside code-server: opened from the
// agent's row in the tree, it renders in Chromium under its strict CSP, shows names and log
// lines that carry HTML as plain text without running anything, updates live when the
// deployment changes (lifecycle, new log lines, a rebuild with a new agent ID) and its buttons
// run the extension's commands. A panel open when a reconnect reloads the window comes back
// after the reload, on the agent's new ID, with the ID change in its history.
//
// The first deployment is a small local server (the shared FakeServer) offering REST only: the
// sync falls down its ladder to polling, which is enough to show that updates arrive by
// themselves. The reload test runs against the simulator, whose rebuild is a real one.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Frame } from 'playwright-core';
import type { WebSocket } from 'ws';
import { startSimulator } from '../sim';
import { FakeServer, USER_JSON, workspaceJson } from '../unit/api/fakeServer';
import { withE2E, type Workbench } from './harness';

const TOKEN = 'detail0001-DDDDDDDDDDDDDDDDDDDDDD';
const WS_NAME = 'dev<script>window.__pwned=2</script>';
const AGENT_NAME = 'main<img src=x onerror="window.__pwned=1">';
const AGENT_ID = 'agent-0001-aaaa-bbbb-cccccccccccc';

const NEW_AGENT_ID = 'agent-0002-dddd-eeee-ffffffffffff';

interface Deployment {
  server: FakeServer;
  setLifecycle(state: string): void;
  pushLog(id: number, output: string): void;
  /** A rebuild: build 4 with a new agent row (new ID, same name), lifecycle created. */
  rebuild(): void;
}

async function deployment(t: TestContext): Promise<Deployment> {
  let lifecycle = 'created';
  let agentId = AGENT_ID;
  let build = 3;
  const logSockets = new Set<WebSocket>();
  const ws = () => {
    const json = workspaceJson({ id: 'ws-1', name: WS_NAME, buildNumber: build, agents: [{ id: agentId, name: AGENT_NAME, lifecycle }] });
    const agent = (json.latest_build as { resources: Array<{ agents: Array<Record<string, unknown>> }> }).resources[0]!.agents[0]!;
    agent.scripts = [
      { display_name: 'dotfiles <b>bold</b>', run_on_start: true, run_on_stop: false, start_blocks_login: true, timeout: 300 },
    ];
    agent.first_connected_at = '2026-01-01T00:00:05Z';
    agent.last_connected_at = new Date().toISOString();
    if (lifecycle !== 'created') agent.started_at = '2026-01-01T00:01:00Z';
    if (lifecycle === 'ready') agent.ready_at = '2026-01-01T00:01:04Z';
    return json;
  };
  const server = await new FakeServer().listen();
  server
    .json('GET /api/v2/buildinfo', {
      external_url: '',
      version: 'v2.24.1',
      dashboard_url: '',
      agent_api_version: '2.6',
      deployment_id: 'd',
    })
    .json('GET /api/v2/users/me', USER_JSON)
    .json('GET /api/v2/workspaces', () => ({ workspaces: [ws()], count: 1 }))
    .json('GET /api/v2/workspaces/ws-1', () => ws())
    .ws(`/api/v2/workspaceagents/${NEW_AGENT_ID}/logs`, () => (sock) => {
      sock.send(
        JSON.stringify([{ id: 1, created_at: new Date().toISOString(), output: 'new agent says hello', level: 'info', source_id: 's1' }]),
      );
    })
    .ws(`/api/v2/workspaceagents/${AGENT_ID}/logs`, () => (sock) => {
      logSockets.add(sock);
      sock.on('close', () => logSockets.delete(sock));
      sock.send(
        JSON.stringify([
          { id: 1, created_at: '2026-01-01T00:00:06Z', output: 'Cloning dotfiles', level: 'info', source_id: 's1' },
          {
            id: 2,
            created_at: '2026-01-01T00:00:07Z',
            output: 'oops <img src=x onerror="window.__pwned=3"><script>window.__pwned=4</script>',
            level: 'error',
            source_id: 's1',
          },
        ]),
      );
    });
  t.after(() => server.close());
  return {
    server,
    setLifecycle: (s) => (lifecycle = s),
    rebuild: () => {
      agentId = NEW_AGENT_ID;
      build = 4;
      lifecycle = 'created';
    },
    pushLog: (id, output) => {
      for (const s of logSockets)
        s.send(JSON.stringify([{ id, created_at: new Date().toISOString(), output, level: 'info', source_id: 's1' }]));
    },
  };
}

/** The frame of the details page (VS Code nests it in two iframes), if it is open. */
async function findDetailsFrame(wb: Workbench): Promise<Frame | undefined> {
  for (const f of wb.page.frames()) {
    if (await f.evaluate(() => document.getElementById('agent-title') !== null).catch(() => false)) return f;
  }
  return undefined;
}

/**
 * Clicks the row's inline "Show Agent Details" until the panel is there: a click that lands
 * while the polled tree re-renders the row can reach the command without its node.
 */
async function openDetailsFromTree(wb: Workbench, row: string): Promise<Frame> {
  let lastClick = 0;
  const frame = await wb.waitFor(
    async () => {
      const f = await findDetailsFrame(wb);
      if (!f && Date.now() - lastClick > 5_000) {
        lastClick = Date.now();
        const actions = await wb.treeItemActions(row);
        assert.ok(actions.includes('Show Agent Details'), JSON.stringify(actions));
        await wb.page
          .locator('.part.sidebar .monaco-list-row')
          .filter({ has: wb.page.locator('.label-name', { hasText: row }) })
          .locator('.actions .action-label[aria-label="Show Agent Details"]')
          .first()
          .click();
      }
      return f;
    },
    (f) => f !== undefined,
    { what: 'the details page frame', timeoutMs: 45_000 },
  );
  return frame as Frame;
}

const text = (f: Frame, selector: string) => f.evaluate((s) => document.querySelector(s)?.textContent ?? '', selector);

test('details panel: renders as text, updates live, buttons run commands', { timeout: 300_000 }, async (t) => {
  const dep = await deployment(t);
  await withE2E(
    t,
    { env: { CODER_URL: dep.server.url, CODER_SESSION_TOKEN: TOKEN }, settings: { 'coderStatus.pollInterval': 2 } },
    async ({ wb, server, step }) => {
      const csp: string[] = [];
      wb.page.on('console', (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) csp.push(m.text());
      });
      let frame: Frame | undefined;

      await step('the agent row opens the panel', async () => {
        await wb.openView();
        await wb.waitForTreeItem((i) => i.label === AGENT_NAME, 60_000);
        frame = await openDetailsFromTree(wb, AGENT_NAME);
      });

      await step('names, scripts and log lines with HTML show as text and run nothing', async () => {
        const f = frame!;
        await wb.waitFor(
          () => text(f, '#agent-title'),
          (s) => s.length > 0,
          { what: 'the title' },
        );
        assert.equal(await text(f, '#agent-title'), `${WS_NAME}.${AGENT_NAME}`);
        await wb.waitFor(
          () => f.evaluate(() => document.querySelectorAll('.log-line').length),
          (n) => n >= 2,
          { what: 'the log backlog' },
        );
        const page = await f.evaluate(() => ({
          imgs: document.querySelectorAll('img').length,
          bold: document.querySelectorAll('b').length,
          scripts: Array.from(document.querySelectorAll('script'))
            .filter((s) => !/webview\.js/.test(s.getAttribute('src') ?? ''))
            .filter((s) => s.closest('#app')).length,
          pwned: (window as unknown as { __pwned?: number }).__pwned,
          logs: Array.from(document.querySelectorAll('.log-output')).map((e) => e.textContent),
          body: document.body.innerText,
        }));
        assert.equal(page.imgs, 0, 'no <img> element was created');
        assert.equal(page.bold, 0, 'no <b> element was created');
        assert.equal(page.scripts, 0, 'no <script> element inside the page content');
        assert.equal(page.pwned, undefined, 'no injected script ran');
        assert.ok(
          page.logs.some((l) => l?.includes('<script>window.__pwned=4</script>')),
          JSON.stringify(page.logs),
        );
        assert.ok(page.body.includes('dotfiles <b>bold</b>'), 'the script name is shown as typed');
        assert.ok(page.body.includes(AGENT_ID));
        assert.ok(!(await f.content()).includes(TOKEN), 'the token never reaches the page');
        await wb.waitFor(
          async () => wb.shown.some((s) => s.where.startsWith('frame') && s.content.includes('agent-title')),
          (v) => v,
          {
            what: 'the details page among the frame states the secrets sweep will read',
          },
        );
        assert.match(await text(f, '#lifecycle-label'), /created/);
        await wb.screenshot('details-panel');
      });

      await step('the panel updates live when the deployment changes', async () => {
        const f = frame!;
        const started = Date.now();
        dep.setLifecycle('ready');
        await wb.waitFor(
          () => text(f, '#lifecycle-label'),
          (s) => /^ready/.test(s),
          { what: 'the ready label', timeoutMs: 30_000 },
        );
        console.log(`lifecycle change -> details panel: ${Date.now() - started} ms`);
        const timeline = await f.evaluate(() => Array.from(document.querySelectorAll('.timeline .state')).map((e) => e.textContent));
        assert.deepEqual(timeline.slice(-1), ['ready']);
        dep.pushLog(3, 'startup script finished');
        await wb.waitFor(
          () =>
            f.evaluate(() =>
              Array.from(document.querySelectorAll('.log-output'))
                .map((e) => e.textContent)
                .join('\n'),
            ),
          (s) => s.includes('startup script finished'),
          { what: 'the new log line' },
        );
      });

      await step('a button runs its command with the agent id', async () => {
        const f = frame!;
        await wb.waitFor(
          () => f.evaluate(() => document.getElementById('action-replay')?.hasAttribute('disabled') ?? true),
          (d) => d === false,
          { what: 'replay enabled' },
        );
        await f.locator('#action-replay').click();
        await wb.waitFor(
          async () => server.extensionLog(),
          (s) => s.includes('details panel: replay requested'),
          { what: 'the replay request in the log' },
        );
        // The replay command itself belongs to the reconnect work: where it is registered, the
        // deployment gets the call; where it is not yet, the panel's attempt names the command.
        const outcome = await wb.waitFor(
          async () => {
            if (dep.server.requests.some((r) => r.method === 'POST' && r.path.includes(`/workspaceagents/${AGENT_ID}/lifecycle/replay`)))
              return 'called';
            return server.extensionLog().includes("command 'coderStatus.replayLifecycle' not found") ? 'not registered' : '';
          },
          (v) => v !== '',
          { what: 'the replay call to the deployment' },
        );
        console.log(`replay button -> coderStatus.replayLifecycle: ${outcome}`);
      });

      await step('after a rebuild the open panel follows the agent to its new ID', async () => {
        const f = frame!;
        dep.rebuild();
        await wb.waitFor(
          () => text(f, '#agent-id'),
          (s) => s === NEW_AGENT_ID,
          { what: 'the new agent ID in the panel', timeoutMs: 30_000 },
        );
        assert.match(await text(f, '#overview'), /#4 start/);
        await wb.waitFor(
          () => f.evaluate(() => Array.from(document.querySelectorAll('.log-output')).map((e) => e.textContent)),
          (l) => l.length === 1 && l[0] === 'new agent says hello',
          { what: "the new agent's logs in place of the old ones" },
        );
        assert.equal(await text(f, '#agent-title'), `${WS_NAME}.${AGENT_NAME}`);
        const history = await text(f, '#id-history');
        assert.ok(history.includes(AGENT_ID) && history.includes(NEW_AGENT_ID) && history.includes('#4'), history);
        await wb.screenshot('details-panel-after-rebuild');
        assert.deepEqual(
          csp.filter((c) => !/Applying inline style/.test(c)),
          [],
          "no CSP report other than the webview bootstrap's inline styles",
        );
        assert.ok(!server.extensionHostLog().includes(TOKEN));
        assert.ok(!server.extensionLog().includes('the page ignored an invalid message'), 'the page accepted every host message');
      });
    },
  );
});

test(
  'details panel: a reconnect reload restores it, on the new agent ID, with the change in its history',
  { timeout: 300_000 },
  async (t) => {
    const sim = await startSimulator({
      clock: 'real',
      agentTimings: { connectMs: 300, startingMs: 300, readyMs: 1500 },
      buildTimings: { pendingMs: 300, runningMs: 600 },
    });
    t.after(() => sim.close());
    const dev = sim.createWorkspace({ name: 'dev' });
    const env = { CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.token, CODER_WORKSPACE_NAME: 'dev', CODER_WORKSPACE_AGENT_NAME: 'main' };
    const activations = 'activating coderstatus.coder-workspace-status';
    await withE2E(t, { env, settings: { 'coderStatus.reconnect.action': 'reload' } }, async ({ wb, server, step }) => {
      const oldId = sim.findAgent(dev, 'main').id;

      await step('the details panel of the bound agent is open', async () => {
        await wb.openView();
        await wb.waitForStatusBar((i) => i.text.includes('dev.main: ready'), 60_000);
        await wb.runCommand('Coder Status: Show Agent Details');
        const f = await wb.waitFor(
          () => findDetailsFrame(wb),
          (x) => x !== undefined,
          { what: 'the details page frame', timeoutMs: 45_000 },
        );
        await wb.waitFor(
          () => text(f!, '#agent-id'),
          (s) => s === oldId,
          { what: 'the agent ID in the panel' },
        );
      });

      await step('a rebuild reloads the window and the panel comes back on the new agent ID', async () => {
        sim.scenario('rebuild', dev);
        await wb.waitFor(
          async () => server.extensionLogCount(activations),
          (n) => n === 2,
          { what: 'the reload', timeoutMs: 60_000 },
        );
        await wb.page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
        const newId = sim.findAgent(dev, 'main').id;
        assert.notEqual(newId, oldId);
        // The page of a restored panel is a new frame: look it up again until it shows the agent.
        const shown = await wb.waitFor(
          async () => {
            const f = await findDetailsFrame(wb);
            return f ? { id: await text(f, '#agent-id'), history: await text(f, '#id-history') } : undefined;
          },
          (v) => v?.id === newId,
          { what: 'the restored panel on the new agent ID', timeoutMs: 60_000 },
        );
        assert.ok(shown?.history.includes(oldId) && shown.history.includes(newId), shown?.history);
        assert.match(server.extensionLog(), /details panel for main in workspace \S+ restored/);
        assert.equal(server.extensionLogCount(activations), 2, 'exactly one reload');
        assert.ok(!server.extensionLog().includes('the page ignored an invalid message'), 'the page accepted every host message');
        await wb.screenshot('details-panel-restored');
      });
    });
  },
);
