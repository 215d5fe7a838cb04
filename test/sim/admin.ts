/**
 * The HTTP admin surface (`/__sim/...`, header `X-Sim-Admin-Token`): the in-process API for
 * other processes (e2e tests, the demo, a person with curl).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson } from './http';
import type { FaultKind, ScenarioName, Simulator } from './index';
import { latestBuild } from './state';

export async function handleAdmin(sim: Simulator, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  if (req.headers['x-sim-admin-token'] !== sim.adminToken)
    return sendJson(res, 401, { message: 'admin token required (X-Sim-Admin-Token)' });
  const path = url.pathname.slice('/__sim/'.length);
  const body = req.method === 'POST' ? ((await readBody(req)) as Record<string, unknown>) : {};
  const wsRef = (ref: unknown) => {
    const name = typeof ref === 'string' ? ref : '';
    const ws = sim.world.findWorkspace(name);
    if (!ws) throw new Error(`no workspace ${name}`);
    return ws;
  };
  try {
    switch (`${req.method} ${path}`) {
      case 'GET state':
        return sendJson(res, 200, { workspaces: [...sim.world.workspaces.values()].map((w) => sim.getWorkspace(w.id)) });
      case 'POST log':
        sim.logRequests(body['on'] !== false);
        return sendJson(res, 200, { ok: true });
      case 'GET log':
        return sendJson(res, 200, { requests: sim.takeRequestLog() });
      case 'GET stats':
        return sendJson(res, 200, sim.stats());
      case 'POST scenario':
        sim.scenario(body['name'] as ScenarioName, wsRef(body['workspace']).id, body);
        return sendJson(res, 200, { ok: true });
      case 'POST fault':
        sim.fault(body['kind'] as FaultKind, body);
        return sendJson(res, 200, { ok: true });
      case 'POST lifecycle': {
        let agentId = typeof body['agent'] === 'string' ? body['agent'] : '';
        if (body['workspace']) {
          const a = latestBuild(wsRef(body['workspace'])).agents.find((x) => x.name === (body['agent'] ?? 'main'));
          if (!a) throw new Error('no such agent');
          agentId = a.id;
        }
        sim.setLifecycle(agentId, String(body['state']));
        return sendJson(res, 200, { ok: true, agentId });
      }
      case 'POST workspaces':
        return sendJson(res, 200, { id: sim.createWorkspace(body['spec'] as never) });
      case 'POST build':
        sim.build(wsRef(body['workspace']).id, body['transition'] as 'start');
        return sendJson(res, 200, { ok: true });
      case 'POST streams':
        sim.setStreams(body);
        return sendJson(res, 200, { ok: true });
      case 'POST operations':
        sim.setOperations(body);
        return sendJson(res, 200, { ok: true });
      case 'POST tailnet':
        sim.setTailnet(body);
        return sendJson(res, 200, { ok: true });
      case 'POST fleet':
        return sendJson(res, 200, {
          ids: sim.createFleet(Number(body['count'] ?? 1), { agentsPerWorkspace: Number(body['agentsPerWorkspace'] ?? 1) }),
        });
      case 'POST churn':
        sim.stopChurn();
        sim.startChurn(Number(body['eventsPerSecond'] ?? 100), Number(body['buildShare'] ?? 0));
        return sendJson(res, 200, { ok: true });
      case 'POST churn/stop':
        sim.stopChurn();
        return sendJson(res, 200, { ok: true });
      case 'POST restart':
        setTimeout(() => void sim.restart(), 10);
        return sendJson(res, 200, { ok: true });
      case 'POST clock/offset':
        sim.clock.setOffset(Number(body['ms'] ?? 0));
        return sendJson(res, 200, { now: sim.clock.now() });
      case 'POST clock/advance':
        await sim.clock.advance(Number(body['ms'] ?? 0));
        return sendJson(res, 200, { now: sim.clock.now() });
      default:
        return sendJson(res, 404, { message: `unknown admin route ${req.method} ${path}` });
    }
  } catch (e) {
    return sendJson(res, 400, { message: e instanceof Error ? e.message : String(e) });
  }
}
