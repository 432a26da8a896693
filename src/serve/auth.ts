import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

// Optional API key: `Authorization: Bearer KEY` on every route but the health probes (load balancers
// and orchestrators call those without credentials). Both sides are hashed to one length first, so
// the comparison is constant-time and leaks neither the key nor its length; a refusal says only 401.

/** The health probes: open without a key, never rate-limited. */
export const HEALTH_ROUTES = new Set(['/ping', '/health', '/v2/health/live', '/v2/health/ready']);
const digest = (text: string) => createHash('sha256').update(text).digest();

export function requireApiKey(app: FastifyInstance, key: string): void {
  const expected = digest(key);
  app.addHook('onRequest', async (request, reply) => {
    if (HEALTH_ROUTES.has(request.routeOptions.url ?? '')) return;
    const header = request.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!timingSafeEqual(digest(given), expected)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error_code: 'UNAUTHENTICATED', message: 'unauthorized' });
    }
  });
}
