import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { predictionBackend } from '../src/predictions/open.js';
import type { PredictionRecord } from '../src/predictions/record.js';
import { timeOrderedId } from '../src/serve/request-id.js';

// The prediction log's writes as a server's writer thread makes them (batches of 500 rows, one
// transaction each, SQLite), in CPU time per row, into a log that already holds FILL rows: with the
// request ids a server makes (time-ordered), and as the anchor with random ones (version 4, what it
// made before). In-process, so the figure is the writes' own, whatever else runs on the machine.

const BATCH = 500;
const FILL = 100_000;
const MEASURED = 50_000;

export async function logWrites(dir: string, template: Omit<PredictionRecord, 'request_id' | 'time'>): Promise<void> {
  const kinds = [
    ['time-ordered request ids (v7)', () => timeOrderedId()],
    ['random request ids (v4, before)', () => randomUUID()],
  ] as const;
  for (const [i, [label, id]] of kinds.entries()) {
    const sink = await predictionBackend(join(dir, `log-writes-${i}.db`), dir).sink();
    const write = async (rows: number) => {
      for (let n = 0; n < rows; n += BATCH) await sink.write(Array.from({ length: BATCH }, () => ({ ...template, request_id: id(), time: new Date().toISOString() })));
    };
    await write(FILL);
    const cpu = process.cpuUsage();
    await write(MEASURED);
    const used = process.cpuUsage(cpu);
    await sink.close();
    console.log(`log writes, ${label}: ${((used.user + used.system) / MEASURED).toFixed(1)} us CPU per row (${MEASURED} rows in batches of ${BATCH}, after ${FILL}); load ${loadavg()[0]!.toFixed(2)}`);
  }
}
