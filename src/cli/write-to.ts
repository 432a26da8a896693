import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { tempName } from '../core/atomic.js';

/** Writes to stdout, or to `output` through a temp file renamed when complete; waits when the pipe is full. */
export async function writeTo(output: string | undefined, produce: (write: (text: string) => Promise<void>) => Promise<void>): Promise<void> {
  const target = output === undefined ? undefined : resolve(output);
  const temp = target === undefined ? undefined : tempName(target);
  if (target) await mkdir(dirname(target), { recursive: true });
  const stream: NodeJS.WritableStream | WriteStream = temp === undefined ? process.stdout : createWriteStream(temp);
  const write = async (text: string) => {
    if (!stream.write(text)) await once(stream, 'drain');
  };
  try {
    await produce(write);
    if (temp !== undefined) {
      await new Promise<void>((ok, fail) => (stream as WriteStream).end((e?: Error | null) => (e ? fail(e) : ok())));
      await rename(temp, target!);
    }
  } catch (error) {
    if (temp !== undefined) {
      (stream as WriteStream).destroy();
      await rm(temp, { force: true });
    }
    throw error;
  }
}
