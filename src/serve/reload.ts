import { findVersion } from '../registry/lifecycle.js';
import { parseModelUri } from '../registry/names.js';
import { openRegistry } from '../registry/open.js';
import type { Project } from '../project/project.js';
import { loadServedModel, type ServedModel } from './model.js';

/**
 * The model being served, switched atomically when the URI it was asked for (an alias, or `latest`)
 * comes to mean another version: the new version is loaded in the background while the old one keeps
 * answering, then one assignment switches. A request reads the slot once, so it is answered wholly by
 * one version. A version that fails to load leaves the old one serving; `warn` says why, once per version.
 */
export class ModelSlot {
  private timer?: NodeJS.Timeout;
  private checking = false;
  private failed?: number;

  constructor(
    private served: ServedModel,
    private readonly project: Project,
    private readonly onSwitch: (model: ServedModel) => void,
    private readonly warn: (message: string) => void,
  ) {}

  get current(): ServedModel {
    return this.served;
  }

  /** Polls the registry every `intervalMs` (a URI with a fixed version or a path never moves). */
  watch(intervalMs: number): void {
    const uri = parseModelUri(this.served.source);
    if (!uri || uri.ref.kind === 'version' || intervalMs <= 0) return;
    this.timer = setInterval(() => void this.check(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One look at the registry; switches when the URI now names another loadable version. */
  async check(): Promise<void> {
    const uri = parseModelUri(this.served.source);
    if (!uri || this.checking) return;
    this.checking = true;
    try {
      const { registry } = await openRegistry(this.project);
      const target = (await findVersion(registry, uri.name, uri.ref)).version;
      if (target === this.served.version || target === this.failed) return;
      try {
        const next = await loadServedModel(this.project, this.served.source);
        this.served = next;
        this.failed = undefined;
        this.onSwitch(next);
      } catch (error) {
        this.failed = target;
        this.warn(`cannot switch to ${uri.name} version ${target}, still serving version ${this.served.version}: ${(error as Error).message}`);
      }
    } catch (error) {
      this.warn(`cannot read the registry (still serving version ${this.served.version}): ${(error as Error).message}`);
    } finally {
      this.checking = false;
    }
  }
}
