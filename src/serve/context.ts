import type { Scorer } from './scoring.js';
import type { ServedModel } from './model.js';

/** What the route files need from the server, and nothing else. */
export interface ServerContext {
  readonly version: string;
  readonly scorer: Scorer;
  /** The model serving now (it may be switched between two requests, never during one). */
  model(): ServedModel;
  ready(): boolean;
}
