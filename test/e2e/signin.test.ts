// Sign-in as a user does it, in the packaged extension inside code-server: the URL and token
// input boxes, the token page link, a rejected token, the token kept across a reload and
// nowhere on disk or in the logs, sign-out; and logins found in the environment and the coder
// CLI config picked up by themselves, two deployments side by side.
//
// The deployments are small local servers answering the two sign-in calls (buildinfo,
// users/me) and an empty workspace list, so that this test does not depend on the fleet.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { withE2E, type Workbench } from './harness';
import { fileSources, sweep } from './secrets';

const TOKEN = 'k3yid12345-s3cretS3cretS3cretS3cret';

interface Deployment {
  url: string;
  meCalls: number;
}

async function deployment(t: TestContext, token: string, username: string): Promise<Deployment> {
  const d: Deployment = { url: '', meCalls: 0 };
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === '/api/v2/buildinfo')
      return send(200, { external_url: d.url, version: 'v2.24.1', dashboard_url: d.url, agent_api_version: '2.6', deployment_id: 'dep' });
    if (req.headers['coder-session-token'] !== token) {
      return send(401, {
        message: 'You are signed out or your session has expired. Please sign in again to continue.',
        detail: 'API key is invalid.',
      });
    }
    if (path === '/api/v2/users/me') {
      d.meCalls++;
      return send(200, { id: 'u1', username, email: `${username}@example.com`, name: username, status: 'active', roles: [] });
    }
    if (path === '/api/v2/workspaces') return send(200, { workspaces: [], count: 0 });
    return send(404, { message: 'Resource not found or you do not have access to this resource' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  d.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return d;
}

const INPUT = '.quick-input-widget .quick-input-box input';
const TITLE = '.quick-input-widget .quick-input-title';
const MESSAGE = '.quick-input-widget .quick-input-message';

async function quickInputText(wb: Workbench, selector: string): Promise<string> {
  const el = wb.page.locator(selector);
  return (await el.isVisible()) ? el.innerText() : '';
}

async function reload(wb: Workbench): Promise<void> {
  await wb.runCommand('Developer: Reload Window');
  await wb.page.locator('.monaco-workbench').waitFor({ state: 'attached', timeout: 90_000 });
  await wb.page.locator('.activitybar .action-item').first().waitFor({ state: 'visible', timeout: 90_000 });
}

test('sign in through the input boxes, survive a reload, sign out', { timeout: 300_000 }, async (t) => {
  const dep = await deployment(t, TOKEN, 'alice');
  await withE2E(t, { secrets: [TOKEN] }, async ({ wb, server, step }) => {
    await step('the URL box checks the deployment before going on', async () => {
      // The palette lists the extension's commands once the workbench has registered them.
      await wb.waitFor(
        () => wb.paletteCommands('Coder Status: Sign'),
        (c) => c.includes('Coder Status: Sign In...'),
        { what: 'Sign In in the palette' },
      );
      await wb.runCommand('Coder Status: Sign In...');
      const input = wb.page.locator(INPUT);
      await input.waitFor({ state: 'visible' });
      assert.match(await quickInputText(wb, TITLE), /1\/2/);
      await input.fill('ftp://nope');
      await wb.waitFor(
        () => quickInputText(wb, MESSAGE),
        (s) => /Only http and https/.test(s),
        { what: 'the URL scheme message' },
      );
      await input.fill('http://127.0.0.1:9'); // nothing listens on the discard port
      await wb.page.keyboard.press('Enter');
      await wb.waitFor(
        () => quickInputText(wb, MESSAGE),
        (s) => /No Coder deployment answers/.test(s),
        { what: 'the unreachable message' },
      );
      await input.fill(dep.url);
      await wb.page.keyboard.press('Enter');
      await wb.waitFor(
        () => quickInputText(wb, TITLE),
        (s) => /2\/2/.test(s),
        { what: 'the token step' },
      );
    });

    await step('the token box is a password box that links the token page and rejects a bad token', async () => {
      const input = wb.page.locator(INPUT);
      assert.equal(await input.getAttribute('type'), 'password');
      assert.ok((await quickInputText(wb, MESSAGE)).includes(`${dep.url}/cli-auth`));
      const linkButton = wb.page.locator(`.quick-input-widget [aria-label="Open ${dep.url}/cli-auth"]`);
      assert.equal(await linkButton.count(), 1, 'a button opens the token page');
      await input.fill('wrong-token');
      await wb.page.keyboard.press('Enter');
      await wb.waitFor(
        () => quickInputText(wb, MESSAGE),
        (s) => /rejected this token/.test(s),
        { what: 'the rejection' },
      );
      await input.fill(TOKEN);
      await wb.page.keyboard.press('Enter');
      await wb.waitFor(
        () => wb.notifications(),
        (n) => n.some((s) => s.includes('Signed in to') && s.includes('as alice')),
        { what: 'the signed-in notification' },
      );
      assert.ok(dep.meCalls >= 1, 'the token was checked with users/me (the session that opens afterwards asks again)');
    });

    await step('signed in: Sign Out is offered, and the token survives a reload', async () => {
      await wb.waitFor(
        () => wb.paletteCommands('Coder Status: Sign'),
        (c) => c.includes('Coder Status: Sign Out'),
        { what: 'Sign Out in the palette' },
      );
      // Enabled once a deployment is signed in (disabled before, see the activation test).
      await wb.waitFor(
        () => wb.paletteCommands('Coder Status: Replay'),
        (c) => c.includes('Coder Status: Replay Agent Lifecycle'),
        { what: 'Replay Agent Lifecycle enabled in the palette' },
      );
      await wb.openView();
      await wb.waitFor(
        () => wb.welcomeText(),
        (s) => !s.includes('not signed in'),
        { what: 'the signed-out welcome to go away' },
      );
      await reload(wb);
      await wb.waitFor(
        async () => server.extensionLog(),
        (s) => s.includes(`signed in to 1 deployment(s): ${dep.url}`),
        { what: 'the stored deployment after the reload' },
      );
      await wb.waitFor(
        () => wb.paletteCommands('Coder Status: Sign'),
        (c) => c.includes('Coder Status: Sign Out'),
        { what: 'Sign Out after the reload' },
      );
    });

    await step('the token is nowhere in settings, logs or other files of the user data', async () => {
      assert.deepEqual(sweep(fileSources([server.userDataDir, server.home]), [TOKEN]).hits, []);
      assert.ok(!server.extensionHostLog().includes(TOKEN));
      assert.ok(!server.serverOutput().includes(TOKEN));
      assert.ok(!(await wb.page.content()).includes(TOKEN));
    });

    await step('sign out', async () => {
      await wb.runCommand('Coder Status: Sign Out');
      await wb.waitFor(
        () => wb.notifications(),
        (n) => n.some((s) => s.includes('Signed out of')),
        { what: 'the signed-out notification' },
      );
      await wb.waitFor(
        () => wb.paletteCommands('Coder Status: Sign'),
        (c) => !c.includes('Coder Status: Sign Out'),
        { what: 'Sign Out hidden again' },
      );
      await wb.waitFor(
        () => wb.paletteCommands('Coder Status: Replay'),
        (c) => !c.includes('Coder Status: Replay Agent Lifecycle'),
        { what: 'Replay Agent Lifecycle disabled again' },
      );
      await reload(wb);
      await wb.waitFor(
        async () => server.extensionLog(),
        (s) => s.includes('signed in to 0 deployment(s)'),
        { what: 'no deployment after the reload' },
      );
    });
  });
});

test('logins from the environment and the coder CLI are picked up, side by side', { timeout: 300_000 }, async (t) => {
  const fromEnv = await deployment(t, TOKEN, 'alice');
  const cliToken = 'cl1token99-AAAAAAAAAAAAAAAAAAAAAA';
  const fromCli = await deployment(t, cliToken, 'bob');
  const configDir = mkdtempSync(join(tmpdir(), 'coderv2-'));
  t.after(() => rmSync(configDir, { recursive: true, force: true }));
  mkdirSync(configDir, { recursive: true });
  writeFileSync(join(configDir, 'url'), `${fromCli.url}\n`);
  writeFileSync(join(configDir, 'session'), cliToken, { mode: 0o600 });

  await withE2E(
    t,
    { env: { CODER_URL: fromEnv.url, CODER_SESSION_TOKEN: TOKEN, CODER_CONFIG_DIR: configDir } },
    async ({ wb, server, step }) => {
      await step('both logins are verified and used', async () => {
        const log = await wb.waitFor(
          async () => server.extensionLog(),
          (s) =>
            s.includes(`using the CODER_URL/CODER_SESSION_TOKEN login for ${fromEnv.url}`) &&
            s.includes(`using the coder CLI login for ${fromCli.url}`),
          { what: 'both found logins in the log' },
        );
        assert.match(log, /as alice/);
        assert.match(log, /as bob/);
        assert.ok(!log.includes(TOKEN) && !log.includes(cliToken));
        await wb.waitFor(
          () => wb.paletteCommands('Coder Status: Sign'),
          (c) => c.includes('Coder Status: Sign Out'),
          { what: 'Sign Out in the palette' },
        );
      });

      await step('the sign-in pick offers the found logins first', async () => {
        await wb.runCommand('Coder Status: Sign In...');
        const rows = await wb.waitFor(
          () =>
            wb.page.$$eval('.quick-input-widget .quick-input-list .monaco-list-row', (els) =>
              els.map((e) => (e as HTMLElement).innerText.replace(/\s+/g, ' ')),
            ),
          (r) => r.length >= 3,
          { what: 'the sign-in pick rows' },
        );
        assert.ok(rows[0]?.includes(new URL(fromEnv.url).host), rows.join(' | '));
        assert.ok(rows[1]?.includes(new URL(fromCli.url).host), rows.join(' | '));
        assert.ok(
          rows.some((r) => r.includes('Another deployment')),
          rows.join(' | '),
        );
        await wb.page.keyboard.press('Escape');
      });

      await step('signing out of one asks which, and it is not picked up again', async () => {
        await wb.runCommand('Coder Status: Sign Out');
        const row = wb.page.locator('.quick-input-widget .quick-input-list .monaco-list-row').filter({ hasText: fromCli.url });
        await row.first().waitFor({ state: 'visible' });
        await row.first().click();
        await wb.waitFor(
          () => wb.notifications(),
          (n) => n.some((s) => s.includes(`Signed out of ${new URL(fromCli.url).host}`)),
          { what: 'the signed-out notification' },
        );
        await reload(wb);
        await wb.waitFor(
          async () => server.extensionLogCount(`using the CODER_URL/CODER_SESSION_TOKEN login for ${fromEnv.url}`),
          (n) => n >= 2,
          { what: 'the environment login picked up again after the reload' },
        );
        assert.equal(
          server.extensionLogCount(`using the coder CLI login for ${fromCli.url}`),
          1,
          'the dismissed CLI login stays signed out',
        );
      });
    },
  );
});

test('a Coder Remote login is picked up at activation, with no prompt', { timeout: 240_000 }, async (t) => {
  const remoteToken = 'r3mote1234-BBBBBBBBBBBBBBBBBBBBBB';
  const dep = await deployment(t, remoteToken, 'carol');
  const host = new URL(dep.url).hostname; // punycode, no port: how Coder Remote names the folder
  const folder = `User/globalStorage/coder.coder-remote/${host}`;
  await withE2E(
    t,
    { userDataFiles: { [`${folder}/url`]: `${dep.url}\n`, [`${folder}/session`]: remoteToken }, secrets: [remoteToken] },
    async ({ wb, server, step }) => {
      await step('signed in from the Coder Remote login without any input', async () => {
        const log = await wb.waitFor(
          async () => server.extensionLog(),
          (s) => s.includes(`using the Coder Remote login for ${dep.url}`) && s.includes('as carol'),
          { what: 'the Coder Remote login in the log' },
        );
        assert.ok(!log.includes(remoteToken));
        assert.ok(dep.meCalls >= 1, 'checked with users/me');
        await wb.waitFor(
          () => wb.paletteCommands('Coder Status: Sign'),
          (c) => c.includes('Coder Status: Sign Out'),
          { what: 'Sign Out in the palette' },
        );
        assert.equal(await wb.page.locator(INPUT).isVisible(), false, 'no sign-in box opened');
        assert.ok(!(await wb.notifications()).some((n) => /Sign In/.test(n)), 'no sign-in prompt');
      });

      await step('the sign-in pick names it "found: Coder Remote"', async () => {
        await wb.runCommand('Coder Status: Sign In...');
        const rows = await wb.waitFor(
          () =>
            wb.page.$$eval('.quick-input-widget .quick-input-list .monaco-list-row', (els) =>
              els.map((e) => (e as HTMLElement).innerText.replace(/\s+/g, ' ')),
            ),
          // The palette's own rows stay until the sign-in pick replaces them: wait for the pick.
          (r) => r.length >= 2 && !r.some((x) => x.includes('Coder Status: Sign In')),
          { what: 'the sign-in pick rows' },
        );
        assert.ok(rows[0]?.includes('found: Coder Remote'), rows.join(' | '));
        await wb.page.keyboard.press('Escape');
      });
    },
  );
});
