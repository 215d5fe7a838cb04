/**
 * `coderStatus.url` names the deployment; the token then comes from CODER_SESSION_TOKEN or the
 * coder CLI login (the CLI's own rule: an environment variable overrides its half of a login).
 */
import { readFile } from 'node:fs/promises';
import * as os from 'node:os';
import { findCredentials } from '../../api/credentials';
import type { Ctx } from '../ctx';
import type { DeploymentStore } from './deploymentStore';

export async function adoptConfiguredUrl(ctx: Ctx, store: DeploymentStore): Promise<void> {
  const url = ctx.config.url;
  if (!url) return;
  const found = await findCredentials({
    env: { ...process.env, CODER_URL: url },
    readFile: (p) => readFile(p, 'utf8').catch(() => undefined),
    homedir: os.homedir(),
    platform: process.platform,
  });
  const c = found[0];
  if (!c) {
    ctx.log.info(`coderStatus.url is ${url}, but no session token was found for it; use Sign In`);
    return;
  }
  if (store.has(c.url) || store.isDismissed(c.url)) return;
  ctx.log.info(`coderStatus.url ${c.url} with the token of ${c.origin}`);
  store.adopt(c.url, c.token, c.source);
}
