import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Project } from '../project/project.js';
import { vendorFile, VENDOR_FILES } from '../plots/vendor.js';
import { httpError, RequestError } from '../serve/errors.js';
import { apiRoutes, type UiContext } from './api.js';
import { RunsIndex } from './runs-index.js';
import { writeRoutes } from './writes.js';

// `mlops ui`: the JSON API and the single-page app (plain ES modules in src/ui/app/, served as they
// are, and the vega builds from node_modules), all from this server: the page loads nothing from
// elsewhere and works offline.

export interface UiOptions {
  readonly project: Project;
  readonly host: string;
  readonly port: number;
  readonly allowWrites: boolean;
  readonly serveUrl?: URL;
}

export interface RunningUi {
  readonly url: string;
  /** Resolves once the default experiment's runs are read (the runs page answers from memory then). */
  readonly warmed: Promise<void>;
  close(): Promise<void>;
}

// dist/src/ui/server.js and src/ui/server.ts both sit two folders below the package root.
const APP_DIR = fileURLToPath(new URL('../../../src/ui/app/', import.meta.url));
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };
const APP_FILE = /^[a-z0-9-]+\.(js|css)$/;

// No inline script can run, even if a value ever slipped through unescaped; vega compiles its
// expressions with Function, hence 'unsafe-eval'.
const CSP = "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** Hosts a request may name: the address bound, or this machine's names (a DNS-rebinding page names another). */
function allowedHosts(host: string, port: number): Set<string> | undefined {
  if (host === '0.0.0.0' || host === '::') return undefined; // the user opened it to every name
  const names = new Set([host, '127.0.0.1', 'localhost', '[::1]']);
  return new Set([...names].map((n) => `${n.includes(':') && !n.startsWith('[') ? `[${n}]` : n}:${port}`));
}

export function buildUiApp(ctx: UiContext, hosts: () => Set<string> | undefined): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  app.addHook('onRequest', async (req, reply) => {
    const allowed = hosts();
    if (allowed && !allowed.has(String(req.headers.host ?? ''))) throw new RequestError(421, `unexpected Host ${JSON.stringify(req.headers.host ?? '')}`);
    reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer').header('x-frame-options', 'DENY');
  });
  app.setErrorHandler((error, _req, reply) => {
    const { statusCode, message } = httpError(error);
    return reply.code(statusCode).send({ error: message });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}` }));

  const page = async (_req: unknown, reply: import('fastify').FastifyReply) =>
    reply.type(TYPES['.html']!).header('content-security-policy', CSP).header('cache-control', 'no-cache').send(await readFile(join(APP_DIR, 'index.html')));
  app.get('/', page);
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send());
  app.get('/app/:file', async (req, reply) => {
    const file = (req.params as { file: string }).file;
    if (!APP_FILE.test(file)) throw new RequestError(404, `no file ${file}`);
    return reply.type(TYPES[extname(file)]!).header('cache-control', 'no-cache').send(await readFile(join(APP_DIR, file)));
  });
  app.get('/vendor/:file', async (req, reply) => {
    const file = (req.params as { file: string }).file;
    if (!VENDOR_FILES.includes(file)) throw new RequestError(404, `no file ${file}`);
    return reply.type(TYPES['.js']!).header('cache-control', 'max-age=86400').send(await readFile(vendorFile(file)));
  });
  apiRoutes(app, ctx);
  writeRoutes(app, ctx);
  return app;
}

export async function startUi(options: UiOptions): Promise<RunningUi> {
  const tracking = await options.project.tracking();
  const runs = new RunsIndex(tracking.store);
  const ctx: UiContext = { project: options.project, tracking, runs, allowWrites: options.allowWrites, csrfToken: randomBytes(24).toString('base64url'), serveUrl: options.serveUrl };
  let hosts: Set<string> | undefined;
  const app = buildUiApp(ctx, () => hosts);
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  hosts = allowedHosts(options.host, port);
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  const warmed = (async () => {
    const experiment = await tracking.store.getExperimentByName(tracking.experiment);
    if (experiment) await runs.warm(experiment.experiment_id);
  })();
  warmed.catch(() => undefined); // a store that cannot be read is reported by the page's requests
  return {
    url: `http://${shownHost}:${port}`,
    warmed,
    async close() {
      await app.close();
      await tracking.store.close?.(); // a database store's connections would keep the process alive
    },
  };
}
