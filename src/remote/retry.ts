import { RemoteUnreachableError, TransientRemoteError } from './store.js';

export const ATTEMPTS = 3;
const FIRST_DELAY_MS = 200;

/**
 * Runs `call`, again after a transient failure (a dropped connection, a timeout, a 5xx), with
 * exponential backoff and jitter: 200 ms, then 800 ms. When every attempt failed, the last error is
 * turned into one line that says how many attempts were made; other errors are thrown at once.
 */
export async function withRetries<T>(call: () => Promise<T>, attempts = ATTEMPTS): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof TransientRemoteError)) throw error;
      if (attempt >= attempts) throw new RemoteUnreachableError(`${error.message} (gave up after ${attempts} attempts)`);
      const delay = FIRST_DELAY_MS * 4 ** (attempt - 1);
      await new Promise((resolve) => setTimeout(resolve, delay * (0.75 + Math.random() / 2)));
    }
  }
}
