/**
 * Which repairs to offer for an agent, honestly: only what works on this deployment for this
 * agent. The lifecycle-replay and reinitialize routes are not in any Coder release; they are a
 * hook for deployments that add them. The first use of a route is its probe; once a deployment
 * answered 404/405/501 the route is not offered again until its server version changes. Pure: the
 * UI persists the memory (it must survive reloads) and supplies the facts.
 */

export type RepairOp = 'replay' | 'reinitialize';
export type RepairAction = 'recreate' | RepairOp | 'restart';
export type RouteSupport = 'unknown' | 'supported' | 'unsupported';

/** What one deployment, at one server version, answered on the repair routes. */
export interface RouteMemory {
  /** '' while the version is not known. */
  serverVersion: string;
  routes: Partial<Record<RepairOp, 'supported' | 'unsupported'>>;
}

const OPS: readonly RepairOp[] = ['replay', 'reinitialize'];

/**
 * The memory to use for a deployment: the stored one when it was made at the same server version
 * (or the version is not known yet), else a fresh one, so that an upgrade probes again.
 */
export function routesFor(stored: unknown, serverVersion: string | undefined): RouteMemory {
  const parsed = parseRouteMemory(stored);
  if (serverVersion === undefined) return parsed ?? { serverVersion: '', routes: {} };
  if (!parsed || (parsed.serverVersion !== '' && parsed.serverVersion !== serverVersion)) return { serverVersion, routes: {} };
  return { serverVersion, routes: parsed.routes };
}

export function parseRouteMemory(json: unknown): RouteMemory | undefined {
  if (!json || typeof json !== 'object') return undefined;
  const o = json as { serverVersion?: unknown; routes?: unknown };
  if (typeof o.serverVersion !== 'string' || !o.routes || typeof o.routes !== 'object') return undefined;
  const routes: RouteMemory['routes'] = {};
  for (const op of OPS) {
    const v = (o.routes as Record<string, unknown>)[op];
    if (v === 'supported' || v === 'unsupported') routes[op] = v;
  }
  return { serverVersion: o.serverVersion, routes };
}

export function supportOf(mem: RouteMemory, op: RepairOp): RouteSupport {
  return mem.routes[op] ?? 'unknown';
}

/** The answers that mean "this deployment has no such route". */
export function isUnsupportedStatus(status: number): boolean {
  return status === 404 || status === 405 || status === 501;
}

/**
 * The memory after an answer on a route: 2xx: supported; 404/405/501: unsupported (unless it
 * worked before at this version: then the 404 is about the agent, not the route); anything else
 * (a 409, a network failure) says nothing about the route. The same object when nothing changed.
 */
export function noteAnswer(mem: RouteMemory, op: RepairOp, status: number): RouteMemory {
  let next: 'supported' | 'unsupported' | undefined;
  if (status >= 200 && status < 300) next = 'supported';
  else if (isUnsupportedStatus(status) && mem.routes[op] !== 'supported') next = 'unsupported';
  if (!next || mem.routes[op] === next) return mem;
  return { serverVersion: mem.serverVersion, routes: { ...mem.routes, [op]: next } };
}

export interface OfferInput {
  routes: RouteMemory;
  /** The agent is a dev-container sub-agent whose container can be recreated (the dev-container hook). */
  devContainerRecreate: boolean;
  /** False when the doctor knows a restart will not cure this agent (model/doctor.ts restartHelps). */
  restartHelps: boolean;
}

/**
 * The repairs to offer, best first: recreating the dev container of a sub-agent (a real
 * reinitialization); the replay/reinitialize routes unless the deployment said it has none; a
 * workspace restart for any other agent, unless the doctor knows it will not help.
 */
export function repairOffers(i: OfferInput): RepairAction[] {
  const out: RepairAction[] = [];
  if (i.devContainerRecreate) out.push('recreate');
  for (const op of OPS) if (supportOf(i.routes, op) !== 'unsupported') out.push(op);
  if (!i.devContainerRecreate && i.restartHelps) out.push('restart');
  return out;
}

/** For logs and the diagnostics report: "replay=unsupported reinitialize=unknown (v2.24.1)". */
export function describeRoutes(mem: RouteMemory): string {
  return `${OPS.map((op) => `${op}=${supportOf(mem, op)}`).join(' ')}${mem.serverVersion ? ` (${mem.serverVersion})` : ''}`;
}
