import { ConfigError, HTTP_STATUS, MlopsError } from '../core/errors.js';

/** A request the server refuses: the status and a message safe to send (never a stack trace). */
export class RequestError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** Bad data in a request, located by field and row (1-based, as a user counts them). */
export const badInput = (detail: string, where: { row?: number; field?: string } = {}) =>
  new RequestError(400, [where.row === undefined ? '' : `row ${where.row}`, where.field === undefined ? '' : `field '${where.field}'`, detail].filter(Boolean).join(': '));

/**
 * The status and message for any error a handler throws. A ConfigError from the transform names a
 * CSV line (data row r at line r + 2): in a request that is row r + 1 and a field. Anything that is
 * not ours to blame on the client is a 500 with no detail.
 */
export function httpError(error: unknown): { statusCode: number; message: string; internal: boolean } {
  if (error instanceof RequestError) return { statusCode: error.statusCode, message: error.message, internal: false };
  if (error instanceof ConfigError) {
    const { line, key } = error.where;
    return { statusCode: 400, message: badInput(error.detail, { row: line === undefined ? undefined : line - 1, field: key }).message, internal: false };
  }
  // Every other error of a known kind: its status from the shared table; only a client's kinds say why.
  if (error instanceof MlopsError && HTTP_STATUS[error.kind] < 500) return { statusCode: HTTP_STATUS[error.kind], message: error.message, internal: false };
  // fastify's own client errors (bad JSON, body too large, unsupported media type) carry a 4xx status.
  const status = (error as { statusCode?: number }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return { statusCode: status, message: (error as Error).message, internal: false };
  return { statusCode: 500, message: 'internal server error', internal: true };
}
