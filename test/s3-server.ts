// A real S3 server (s3rver) for tests and the bench, run as its own process: s3rver needs Node's
// --openssl-legacy-provider (its list paging), which the test runner itself should not run with.
// Usage: node --openssl-legacy-provider dist/test/s3-server.js DIR BUCKET...; prints the port, then
// serves on 127.0.0.1 until stdin closes or it is sent SIGTERM.
import S3rver from 's3rver';

const [directory, ...buckets] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  directory: directory!,
  silent: true,
  configureBuckets: buckets.map((name) => ({ name, configs: [] })),
});
const address = (await server.run()) as { port: number };
process.stdout.write(`${address.port}\n`);
const stop = () => void server.close().then(() => process.exit(0));
process.stdin.on('end', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
