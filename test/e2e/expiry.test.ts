// Token expiry mid-stream, in the packaged extension inside code-server: the deployment starts
// answering 401 while the window is bound and live. The user is told once, with a Sign In
// button; nothing more goes to the deployment until they sign in; with a new token the tree and
// the status bar come back by themselves.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '../sim';
import { withE2E } from './harness';

const PROMPT = /no longer accepts the session token/;

test('token expiry mid-stream: one prompt, silence, then sign-in brings everything back', { timeout: 300_000 }, async (t) => {
  const sim = await startSimulator({ clock: 'real' });
  t.after(() => sim.close());
  sim.createWorkspace({ name: 'dev' });
  const fresh = sim.addUser('alice').token; // the token the user signs in with afterwards
  const env = { CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.token, CODER_WORKSPACE_NAME: 'dev', CODER_WORKSPACE_AGENT_NAME: 'main' };

  await withE2E(t, { env, secrets: [fresh], settings: { 'coderStatus.pollInterval': 2 } }, async ({ wb, server, step }) => {
    const asks = () => server.extensionLogCount('asking to sign in again');
    // What the extension sends to the deployment on its own: list polls, workspace reads, streams.
    const ownTraffic = () => {
      const byRoute = sim.stats().requestsByRoute;
      return Object.entries(byRoute)
        .filter(([route]) => route.startsWith('WS ') || route.startsWith('GET /workspaces'))
        .reduce((n, [, c]) => n + c, 0);
    };
    let trafficAtSignOut = 0;

    await step('bound and live', async () => {
      await wb.openView();
      await wb.waitForStatusBar((i) => i.text.includes('dev.main: ready'), 60_000);
    });

    await step('the token expires mid-stream: one prompt with a Sign In button', async () => {
      sim.fault('expire-token');
      sim.fault('drop-streams');
      await wb.waitFor(
        () => wb.notifications(),
        (n) => n.some((m) => PROMPT.test(m)),
        { what: 'the sign-in prompt' },
      );
      await wb.waitForStatusBar((i) => /signed out/.test(i.text));
      trafficAtSignOut = ownTraffic();
      assert.equal(asks(), 1);
    });

    await step('until the user signs in: no second prompt and nothing sent to the deployment', async () => {
      // An observation window (an absence has no event to wait for): three poll intervals of
      // 2 s and several stream backoffs go by while the prompt is open.
      await wb.page.waitForTimeout(6000);
      assert.equal(ownTraffic(), trafficAtSignOut, 'no poll, read or stream since the 401');
      assert.equal(asks(), 1, 'exactly one prompt');
    });

    await step('Sign In from the prompt with a new token: the tree and status bar come back', async () => {
      await wb.clickNotificationButton('no longer accepts the session token', 'Sign In');
      const url = await wb.waitForQuickInput((q) => /1\/2/.test(q.title));
      assert.equal(url.value, sim.url, 'the URL box holds the deployment that asked');
      await wb.typeIntoQuickInput(sim.url);
      await wb.waitForQuickInput((q) => /2\/2/.test(q.title));
      await wb.typeIntoQuickInput(fresh);
      await wb.waitForStatusBar((i) => i.text.includes('dev.main: ready'), 60_000);
      assert.ok(ownTraffic() > trafficAtSignOut, 'the extension talks to the deployment again');
      assert.equal(asks(), 1);
    });

    await step('Sign Out: the expired environment login is not used again, no error is shown', async () => {
      // The stored token is dropped while the same URL also has the CODER_SESSION_TOKEN login of
      // this session: that login must be forgotten first, or the deployment would reopen with it.
      const starts = () => server.extensionLogCount('starting the live connection');
      const closes = () => server.extensionLogCount(`${sim.url}: closed`);
      const startsBefore = starts();
      const closesBefore = closes();
      await wb.runCommand('Coder Status: Sign Out');
      await wb.waitFor(
        () => wb.notifications(),
        (n) => n.some((m) => m.includes('Signed out of')),
        { what: 'the signed-out notification' },
      );
      await wb.waitFor(
        async () => closes(),
        (n) => n > closesBefore,
        { what: 'the deployment closed' },
      );
      const traffic = ownTraffic();
      // An observation window: a reopen would come within one store event.
      await wb.page.waitForTimeout(3000);
      assert.equal(starts(), startsBefore, 'no live connection started after sign-out');
      assert.equal(ownTraffic(), traffic, 'nothing sent to the deployment after sign-out');
      assert.ok(!server.extensionLog().includes('cannot open the deployment'), 'no failed reopen');
      assert.ok(!(await wb.notifications()).some((m) => /cannot connect/.test(m)), 'no error notification');
      assert.equal(asks(), 1);
    });
  });
});
