import { parentPort } from 'node:worker_threads';
import { FoldRunner, type CvData, type FoldTask } from './cv.js';

// Worker thread entry: receives the CV data once, then fits one (candidate, fold) task per message.
let runner: FoldRunner | undefined;

parentPort!.on('message', (message: { init: CvData } | { task: FoldTask }) => {
  if ('init' in message) {
    runner = new FoldRunner(message.init);
    return;
  }
  runner!.run(message.task).then(
    (result) => parentPort!.postMessage({ result }),
    (error: unknown) => parentPort!.postMessage({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
