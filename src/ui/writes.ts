import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { UsageError } from '../core/errors.js';
import { RequestError } from '../serve/errors.js';
import { userName } from '../tracking/tracked-run.js';
import type { UiContext } from './api.js';

// The routes that change state: promote and roll back an alias. They exist only with --allow-writes,
// and each request must carry the page's CSRF token (X-CSRF-Token) and, when the browser sends one, an
// Origin of this server: another site open in the same browser can neither read the token (no CORS
// headers) nor send the header without a preflight this server never grants.

export const CSRF_HEADER = 'x-csrf-token';

function checkCsrf(req: FastifyRequest, token: string): void {
  const given = Buffer.from(String(req.headers[CSRF_HEADER] ?? ''));
  const wanted = Buffer.from(token);
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) throw new RequestError(403, 'missing or wrong CSRF token: reload the page');
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${req.headers.host}`) throw new RequestError(403, `cross-origin write refused (Origin ${origin})`);
}

function body(req: FastifyRequest): Record<string, unknown> {
  const value = req.body;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError('expected a JSON object body');
  return value as Record<string, unknown>;
}

const text = (value: unknown, field: string, fallback?: string): string => {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' && typeof value !== 'number') throw new UsageError(`field '${field}': expected a string`);
  return String(value);
};

export function writeRoutes(app: FastifyInstance, ctx: UiContext): void {
  app.addHook('preHandler', async (req) => {
    if (req.method === 'GET' || req.method === 'HEAD') return;
    if (!ctx.allowWrites) throw new RequestError(403, 'read-only: start `mlops ui --allow-writes` to promote or roll back');
    checkCsrf(req, ctx.csrfToken);
  });

  /** With `dry_run`: the gate report the confirmation shows; without: the move, behind the same gates. */
  app.post('/api/models/:name/promote', async (req) => {
    const [{ promote }, { checkModelName, parseVersionRef }] = await Promise.all([import('../registry/lifecycle.js'), import('../registry/names.js')]);
    const b = body(req);
    const name = checkModelName((req.params as { name: string }).name);
    const outcome = await promote(ctx.project, {
      name,
      ref: parseVersionRef(text(b.version, 'version')),
      alias: text(b.alias, 'alias', 'champion'),
      dryRun: b.dry_run === true,
      user: userName(),
    });
    return outcome;
  });

  app.post('/api/models/:name/rollback', async (req) => {
    const [{ rollback }, { checkModelName }] = await Promise.all([import('../registry/lifecycle.js'), import('../registry/names.js')]);
    const name = checkModelName((req.params as { name: string }).name);
    return rollback(ctx.project, { name, alias: text(body(req).alias, 'alias', 'champion'), user: userName() });
  });
}
