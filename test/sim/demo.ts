/** The demo fleet of `npm run sim` and `npm start`: a little of everything the extension shows. */
import type { Simulator } from './index';

export function demoFleet(sim: Simulator): void {
  sim.addUser('bob');
  sim.createWorkspace({ name: 'dev', agents: [{ name: 'main', scripts: [{ display_name: 'Install tools', start_blocks_login: true }] }] });
  sim.createWorkspace({ name: 'api', template: 'kubernetes', agents: [{ name: 'main' }, { name: 'gpu', os: 'linux', arch: 'arm64' }] });
  sim.createWorkspace({
    name: 'web',
    agents: [
      {
        name: 'main',
        children: [{ name: 'frontend' }],
        // The sub-agent runs in a dev container whose configuration changed: "Rebuild Dev Container" applies it.
        devcontainers: [{ name: 'frontend', agent: 'frontend', workspaceFolder: '/home/coder/web', dirty: true }],
      },
    ],
  });
  sim.createWorkspace({ name: 'scratch', state: 'stopped' });
  // A suspend/resume VM: its agent process survives every build and never reports its lifecycle.
  sim.createWorkspace({ name: 'vm', template: 'suspend-resume-vm', keepsAgentProcess: true });
  sim.createWorkspace({ owner: 'bob', name: 'pairing' });
}
