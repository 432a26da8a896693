import { parentPort, workerData } from 'node:worker_threads';
import { MlopsError } from '../core/errors.js';
import { predictionBackend } from './open.js';
import type { SinkCall, SinkError, SinkReply, SinkSource } from './thread-sink.js';

// The prediction log's writer thread (thread-sink.ts): opens the sink, then answers each call in turn.

const errorOf = (error: unknown): SinkError => ({ message: (error as Error).message, kind: error instanceof MlopsError ? error.kind : undefined });
const reply = (message: SinkReply) => parentPort!.postMessage(message);

const source = workerData as SinkSource;
try {
  const sink = await predictionBackend(source.uri, source.root).sink();
  let queue = Promise.resolve();
  parentPort!.on('message', (call: SinkCall) => {
    queue = queue.then(async () => {
      try {
        if (call.op === 'write') await sink.write(call.batch);
        const value = call.op === 'prune' ? await sink.prune(new Date(call.before)) : undefined;
        if (call.op === 'close') await sink.close();
        reply({ id: call.id, value });
      } catch (error) {
        reply({ id: call.id, error: errorOf(error) });
      }
    });
  });
  reply({ id: -1 });
} catch (error) {
  reply({ id: -1, error: errorOf(error) });
}
