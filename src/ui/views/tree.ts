/**
 * The `coderStatus.agents` tree: deployments (when more than one) -> workspaces -> agents ->
 * sub-agents. Model changes refresh only the nodes they name; agents whose label shows an
 * elapsed time (or may turn stuck) are re-rendered once a second, only while the view is shown.
 */
import type { AgentDoctor } from '../doctor/agentDoctor';
import { offersFor } from '../doctor/offers';
import * as vscode from 'vscode';
import type { TimerHandle } from '../../common/clock';
import type { Disposable } from '../../common/disposable';
import type { Change } from '../../model/types';
import type { WindowBinding } from '../binding/windowBinding';
import { movesWithClock } from './classify';
import type { Ctx } from '../ctx';
import { formatDuration } from '../../model/lifecycle';
import type { DeploymentSession } from '../deployments/deploymentSession';
import type { OpenDeployments } from '../deployments/openDeployments';
import { STALE_AFTER_MS, agentItem, deploymentItem, hostOf, workspaceItem } from './treeItems';
import { childrenOfParent, containerNodeOf, devcontainerItem, subAgentOfNode } from './devcontainerNodes';
import { NodeCache, agentOf, type AgentNode, type TreeNode, type WorkspaceNode } from './treeNodes';

export const VIEW_ID = 'coderStatus.agents';
const TICK_MS = 1000;

export class AgentTree implements vscode.TreeDataProvider<TreeNode>, Disposable {
  private readonly emitter = new vscode.EventEmitter<TreeNode | TreeNode[] | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  readonly view: vscode.TreeView<TreeNode>;
  private readonly nodes = new NodeCache();
  private readonly collapsed = new Set<string>();
  private readonly subs: vscode.Disposable[] = [];
  private tick: TimerHandle | undefined;
  private staleTick: TimerHandle | undefined;

  constructor(
    private readonly ctx: Ctx,
    private readonly sessions: OpenDeployments,
    private readonly bound: WindowBinding,
    private readonly doctor: AgentDoctor,
  ) {
    this.view = vscode.window.createTreeView(VIEW_ID, { treeDataProvider: this, showCollapseAll: true });
    this.subs.push(
      this.view,
      this.emitter,
      this.view.onDidChangeVisibility((e) => {
        this.ctx.log.debug(`view ${e.visible ? 'shown' : 'hidden'}`);
        for (const s of this.sessions.list()) s.sync.setViewVisible(e.visible);
        this.reportVisible();
        this.schedule();
        // Elapsed times did not move while hidden: bring them up to date at once.
        if (e.visible) this.fireTimed();
      }),
      this.view.onDidExpandElement((e) => this.expanded(e.element, true)),
      this.view.onDidCollapseElement((e) => this.expanded(e.element, false)),
    );
    sessions.onDidChangeSessions(() => {
      const open = new Set(this.sessions.list());
      this.nodes.prune((n) => open.has(n.session));
      for (const s of open) s.sync.setViewVisible(this.view.visible);
      this.refreshAll();
    });
    sessions.onDidChange(({ session, changes }) => this.onChanges(session, changes));
    bound.onDidChange(() => this.refreshAll());
    // A log tail for a diagnosis arrived: only agent tooltips change, and they are rare.
    doctor.onDidChange(() => this.refreshAll());
    // A repair route turned out missing: the rows' menus offer what works instead.
    ctx.onDidChangeOperations(() => this.refreshAll());
  }

  /** Tooltips are left to resolveTreeItem: built on hover, so the ages they show are current. */
  getTreeItem(node: TreeNode): vscode.TreeItem {
    const item = this.buildItem(node);
    item.tooltip = undefined;
    return item;
  }

  resolveTreeItem(item: vscode.TreeItem, node: TreeNode): vscode.TreeItem {
    item.tooltip = this.buildItem(node).tooltip;
    return item;
  }

  private buildItem(node: TreeNode): vscode.TreeItem {
    if (node.kind === 'deployment') return deploymentItem(node, this.ctx.clock.now());
    if (node.kind === 'workspace') {
      const ws = node.session.fleet.workspace(node.workspaceId);
      return ws ? workspaceItem(node, ws, this.ctx.clock.now()) : new vscode.TreeItem(vscode.l10n.t('(removed)'));
    }
    if (node.kind === 'devcontainer') return devcontainerItem(node);
    const agent = agentOf(node);
    if (!agent) return new vscode.TreeItem(node.name);
    return agentItem(node, agent, {
      now: this.ctx.clock.now(),
      stuckThresholdMs: this.ctx.config.stuckThresholdMs,
      isBound: (n) => this.bound.isNode(n),
      doctor: this.doctor,
      offers: (session, ws, a) => offersFor(this.ctx, this.doctor, session, ws, a),
    });
  }

  getChildren(node?: TreeNode): TreeNode[] {
    if (!node) {
      const all = this.sessions.list();
      if (all.length === 1) return this.workspacesOf(all[0]!);
      return all.map((s) => this.nodes.deployment(s));
    }
    if (node.kind === 'deployment') return this.workspacesOf(node.session);
    const { session, workspaceId } = node;
    if (node.kind === 'workspace') {
      return session.fleet.topLevelAgents(workspaceId).map((a) => this.nodes.agent(session, workspaceId, a.name, null));
    }
    if (node.kind === 'devcontainer') {
      const sub = subAgentOfNode(node);
      return sub ? [this.nodes.agent(session, workspaceId, sub.name, node.parentName)] : [];
    }
    const agent = agentOf(node);
    if (!agent) return [];
    if (node.parentName !== null) return [];
    return childrenOfParent(this.nodes, session, workspaceId, agent);
  }

  getParent(node: TreeNode): TreeNode | undefined {
    if (node.kind === 'deployment') return undefined;
    if (node.kind === 'workspace') return this.sessions.list().length > 1 ? this.nodes.deployment(node.session) : undefined;
    if (node.kind === 'devcontainer') return this.nodes.agent(node.session, node.workspaceId, node.parentName, null);
    if (node.parentName !== null) {
      const sub = agentOf(node);
      const container = sub && containerNodeOf(this.nodes, node.session, node.workspaceId, sub, node.parentName);
      return container ?? this.nodes.agent(node.session, node.workspaceId, node.parentName, null);
    }
    return this.nodes.workspace(node.session, node.workspaceId);
  }

  private workspacesOf(session: DeploymentSession): WorkspaceNode[] {
    const list = [...session.fleet.workspaces()].sort((a, b) => a.owner_name.localeCompare(b.owner_name) || a.name.localeCompare(b.name));
    const nodes = list.map((w) => this.nodes.workspace(session, w.id));
    queueMicrotask(() => this.reportVisible());
    this.schedule();
    return nodes;
  }

  private onChanges(session: DeploymentSession, changes: Change[]): void {
    const multi = this.sessions.list().length > 1;
    const fire = new Set<TreeNode>();
    let root = false;
    for (const c of changes) {
      switch (c.kind) {
        case 'workspace-added':
        case 'workspace-removed':
          if (multi) fire.add(this.nodes.deployment(session));
          else root = true;
          if (c.kind === 'workspace-removed')
            this.nodes.prune((n) => n.kind === 'deployment' || n.session !== session || n.workspaceId !== c.workspaceId);
          break;
        case 'workspace-changed':
        case 'agent-id-changed': {
          const n = this.nodes.findWorkspaceNode(session, c.workspaceId);
          if (n) fire.add(n);
          break;
        }
        case 'agent-changed': {
          const found = session.fleet.agentById(c.agentId);
          const n = found ? this.nodes.findAgentNode(session, c.workspaceId, found.agent) : undefined;
          const w = n ? undefined : this.nodes.findWorkspaceNode(session, c.workspaceId);
          if (n ?? w) fire.add((n ?? w)!);
          break;
        }
        case 'connection-changed':
          if (multi) fire.add(this.nodes.deployment(session));
          this.updateMessage();
          break;
        case 'fleet-rung-changed':
          if (multi) fire.add(this.nodes.deployment(session));
          break;
        case 'devcontainers-changed': {
          // The parent's children (dev containers, and which sub-agent sits where) may all move.
          const parent = session.fleet.agentById(c.parentAgentId);
          const n = parent ? this.nodes.findAgentNode(session, c.workspaceId, parent.agent) : undefined;
          if (n) fire.add(n);
          break;
        }
      }
    }
    if (root) this.fire(undefined, 'root');
    else if (fire.size) this.fire([...fire], 'changed');
    this.schedule();
  }

  /** Every refresh handed to VS Code, with its epoch-ms time (the bench times the page against it). */
  private fire(nodes: TreeNode[] | undefined, why: string): void {
    this.ctx.log.debug(`tree: refresh ${why} ${nodes ? nodes.length : 'all'} at ${this.ctx.clock.now()}`);
    this.emitter.fire(nodes);
  }

  refreshAll(): void {
    this.updateMessage();
    this.fire(undefined, 'all');
  }

  /** Agent nodes whose text depends on the clock: an elapsed time, or a stuck threshold ahead. */
  private timedNodes(): AgentNode[] {
    return this.nodes.agentNodes().filter((n) => {
      const a = agentOf(n);
      return a !== undefined && movesWithClock(a);
    });
  }

  private fireTimed(): void {
    const timed = this.timedNodes();
    if (timed.length) this.fire(timed, 'timed');
    this.updateMessage();
  }

  /** Agent nodes of workspaces without a stream: their "as of" age moves by the minute. */
  private unstreamedNodes(): AgentNode[] {
    return this.nodes.agentNodes().filter((n) => !n.session.fleet.isLive(n.workspaceId));
  }

  /** A coarse timer of its own for the ages, so that they do not wake the tree every second. */
  private scheduleStale(): void {
    if (this.staleTick || !this.view.visible || this.unstreamedNodes().length === 0) return;
    this.staleTick = this.ctx.clock.setTimeout(() => {
      this.staleTick = undefined;
      if (!this.view.visible) return;
      const nodes = this.unstreamedNodes();
      if (nodes.length) this.emitter.fire(nodes);
      this.scheduleStale();
    }, STALE_AFTER_MS);
  }

  /** Keeps one timer while the view is shown and something on it moves with the clock. */
  private schedule(): void {
    this.scheduleStale();
    if (this.tick || !this.view.visible) return;
    const offline = this.sessions.list().some((s) => s.fleet.connection.kind === 'offline');
    if (!offline && this.timedNodes().length === 0) return;
    this.tick = this.ctx.clock.setTimeout(() => {
      this.tick = undefined;
      if (!this.view.visible) return;
      this.fireTimed();
      this.schedule();
    }, TICK_MS);
  }

  /** The honest banner: when a deployment is unreachable, say so and how old the shown state is. */
  private updateMessage(): void {
    const now = this.ctx.clock.now();
    const lines: string[] = [];
    for (const s of this.sessions.list()) {
      const c = s.fleet.connection;
      if (c.kind === 'offline' && s.fleet.workspaces().length > 0) {
        lines.push(
          vscode.l10n.t('{0} is unreachable: showing the state from {1} ago.', hostOf(s.url), formatDuration(Math.max(0, now - c.since))),
        );
      } else if (c.kind === 'signed-out') {
        lines.push(vscode.l10n.t('{0}: signed out ({1}).', hostOf(s.url), c.error));
      }
    }
    const message = lines.length ? lines.join(' ') : undefined;
    if (this.view.message !== message) this.view.message = message;
  }

  private expanded(node: TreeNode, expanded: boolean): void {
    if (node.kind !== 'workspace') return;
    const key = `${node.session.url}\n${node.workspaceId}`;
    if (expanded) this.collapsed.delete(key);
    else this.collapsed.add(key);
    this.reportVisible();
  }

  /** Tells each sync which workspaces are on screen and open (they get live streams first). */
  private reportVisible(): void {
    for (const s of this.sessions.list()) {
      const ids = this.view.visible
        ? s.fleet
            .workspaces()
            .map((w) => w.id)
            .filter((id) => !this.collapsed.has(`${s.url}\n${id}`))
        : [];
      s.sync.setVisibleWorkspaces(ids);
    }
  }

  dispose(): void {
    this.tick?.cancel();
    this.staleTick?.cancel();
    for (const d of this.subs) d.dispose();
  }
}
