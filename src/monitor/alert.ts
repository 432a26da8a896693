import { UsageError } from '../core/errors.js';

// `--alert-webhook URL`: a failed check POSTs a JSON summary (Slack-style incoming webhooks, an
// alert manager, a chat bot). The exit code stays the alert cron and CI act on; a webhook that cannot
// be reached is told on stderr, and never turns a check into a success or a success into a failure.

/** Checked before the check runs, so a typo fails at once rather than when an alert is due. */
export function checkWebhookUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--alert-webhook: not a URL: ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--alert-webhook: expected an http:// or https:// URL, got ${JSON.stringify(text)}`);
  return url;
}

export interface AlertSummary {
  readonly check: 'drift' | 'outcomes';
  readonly status: 'failed';
  /** One line a person reads in a chat message. */
  readonly text: string;
  readonly model: string;
  readonly from: string;
  readonly to: string;
  readonly run_id: string;
  readonly details: unknown;
}

const TIMEOUT_MS = 10_000;

/** Posts the summary; a refusal or a network error is returned as a message, not thrown. */
export async function postAlert(url: URL, summary: AlertSummary): Promise<string | undefined> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(summary),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await response.arrayBuffer();
    return response.ok ? undefined : `the webhook answered ${response.status} ${response.statusText}`;
  } catch (error) {
    return `the webhook could not be reached: ${(error as Error).message}`;
  }
}
