import Fastify from 'fastify';

// The floor under `mlops serve`'s figures (bench/serve.ts): fastify on loopback doing nothing but
// parse the same JSON body and answer a constant, so the same load generator on the same cores
// measures what HTTP and the framework alone cost. Started as a child process, like the server.

const app = Fastify({ logger: false });
app.post('/invocations', async () => ({ predictions: ['Normal_Weight'] }));
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stderr.write(`serving the floor at ${url}\n`);
process.on('SIGTERM', () => void app.close());
