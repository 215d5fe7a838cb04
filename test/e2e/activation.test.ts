// The packaged extension, installed into a real VS Code (code-server) with no credentials:
// it activates cleanly, shows its activity-bar entry and view with the signed-out welcome,
// and its commands are in the command palette.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extensionId, withE2E } from './harness';

test('activation without credentials', { timeout: 300_000 }, (t) =>
  withE2E(t, {}, async ({ wb, server, step }) => {
    await step('the activity bar has the "Coder Status" entry', async () => {
      await wb.waitFor(
        () => wb.activityBarItems(),
        (items) => items.includes('Coder Status'),
        {
          what: 'the "Coder Status" activity-bar entry',
        },
      );
    });

    await step('the view shows the signed-out welcome', async () => {
      await wb.openView('Coder Status');
      const title = await wb.waitFor(
        () => wb.sideBarTitle(),
        (s) => /coder status/i.test(s),
        {
          what: 'the side-bar title',
        },
      );
      assert.match(title, /workspace agents/i);
      const welcome = await wb.waitFor(
        () => wb.welcomeText(),
        (s) => s.includes('not signed in'),
        {
          what: 'the signed-out welcome content',
        },
      );
      assert.match(welcome, /You are not signed in to a Coder deployment/);
      assert.match(welcome, /Sign In/);
    });

    await step('the extension activated without errors', async () => {
      // Either outcome ends the wait: the extension's own "activating" line or a failure.
      const host = await wb.waitFor(
        async () => server.extensionHostLog(),
        (s) => s.includes(`activating ${extensionId}`) || activationErrors(s).length > 0,
        { what: `the activation of ${extensionId} in the extension-host log` },
      );
      assert.deepEqual(activationErrors(host), [], 'activation errors in the extension-host log');
      assert.match(host, new RegExp(`_doActivateExtension ${escape(extensionId)}`));
      assert.match(server.extensionLog(), new RegExp(`\\[info\\] activating ${escape(extensionId)}`));
      assert.doesNotMatch(server.extensionLog(), /\[error\]/);
    });

    await step('the command palette lists the commands', async () => {
      const expected = ['Coder Status: Refresh', 'Coder Status: Show Logs', 'Coder Status: Sign In...'];
      const titles = await wb.paletteCommands('Coder Status:', (shown) => expected.every((e) => shown.includes(e)));
      // Hidden from the palette while signed out / by design.
      assert.ok(!titles.includes('Coder Status: Sign Out'), `"Sign Out" hidden when signed out: ${JSON.stringify(titles)}`);
      assert.ok(!titles.includes('Coder Status: Copy Agent ID'), 'Copy Agent ID is only in the tree menu');
      // Disabled (`enablement`) while no deployment is signed in: the palette does not offer them.
      for (const needsDeployment of [
        'Coder Status: Replay Agent Lifecycle',
        'Coder Status: Bind Window to Agent',
        'Coder Status: Reconnect',
      ]) {
        assert.ok(!titles.includes(needsDeployment), `"${needsDeployment}" disabled when signed out: ${JSON.stringify(titles)}`);
      }
    });

    await step('"Show Logs" opens the extension\'s output channel', async () => {
      await wb.runCommand('Coder Status: Show Logs');
      await wb.waitFor(
        () => wb.page.locator('.part.panel .monaco-editor .view-lines').allInnerTexts(),
        (texts) => texts.some((s) => s.includes('activating')),
        { what: 'the log lines in the Output panel' },
      );
    });

    assert.deepEqual(
      wb.pageErrors.filter((e) => e.includes(extensionId)),
      [],
    );
  }),
);

/** Lines of the extension-host log that report an error of this extension. */
function activationErrors(log: string): string[] {
  return log.split('\n').filter((line) => line.includes(extensionId) && /\[error\]|Activating extension .* failed/i.test(line));
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
