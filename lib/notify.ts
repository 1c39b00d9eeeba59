/**
 * Run notifications: one Slack-compatible JSON POST when a run fails, is cancelled, completes with warnings,
 * or completes. A cancelled run is its own event: someone stopped it on purpose, nothing broke.
 * The webhook URL is a secret (Slack puts its token in the path): it comes from the worker's environment
 * (CUSTFLOW_WEBHOOK_URL, or CUSTFLOW_WEBHOOK_URL_FILE naming a file that holds it), never from workflow
 * input or config, and it is never logged or put in an error message. Delivery is retried a few times with
 * backoff; a webhook that stays down is logged and does not change the run's outcome.
 */
import { readFile } from 'node:fs/promises';
import type { RunSummary } from './runTypes';

export type RunEvent = 'failed' | 'cancelled' | 'warning' | 'completed';

export interface WebhookSettings {
  url: string;
  /** Which outcomes are sent (CUSTFLOW_WEBHOOK_EVENTS, comma separated; default all four). */
  events: ReadonlySet<RunEvent>;
  attempts: number;
  /** Delay before the second attempt; doubles after each failure. */
  backoffMs: number;
  timeoutMs: number;
}

export interface DeliveryResult {
  event: RunEvent;
  delivered: boolean;
  attempts: number;
  /** HTTP status of the last attempt, when there was an answer. */
  status?: number;
  /** Why the last attempt failed, without the URL. */
  error?: string;
}

const ALL_EVENTS: readonly RunEvent[] = ['failed', 'cancelled', 'warning', 'completed'];

/** Webhook settings from the environment, or undefined when no webhook is configured. */
export async function webhookSettings(
  env: NodeJS.ProcessEnv = process.env,
): Promise<WebhookSettings | undefined> {
  let url = env.CUSTFLOW_WEBHOOK_URL;
  if (!url && env.CUSTFLOW_WEBHOOK_URL_FILE) {
    url = (await readFile(env.CUSTFLOW_WEBHOOK_URL_FILE, 'utf8')).trim();
  }
  if (!url) return undefined;
  if (!/^https?:\/\//.test(url)) {
    throw new Error('CUSTFLOW_WEBHOOK_URL must be an http(s) URL (the value is not shown: it is a secret)');
  }
  const named = (env.CUSTFLOW_WEBHOOK_EVENTS ?? ALL_EVENTS.join(','))
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const unknown = named.filter((e) => !ALL_EVENTS.includes(e as RunEvent));
  if (unknown.length > 0) {
    throw new Error(
      `CUSTFLOW_WEBHOOK_EVENTS: unknown event ${unknown.join(', ')} (known: ${ALL_EVENTS.join(', ')})`,
    );
  }
  return { url, events: new Set(named as RunEvent[]), attempts: 4, backoffMs: 1_000, timeoutMs: 10_000 };
}

/** The event a finished run raises: cancelled, failed, completed with warnings, or completed. */
export function runEvent(summary: Pick<RunSummary, 'status' | 'warnings'>): RunEvent {
  if (summary.status === 'CANCELED') return 'cancelled';
  if (summary.status !== 'COMPLETED') return 'failed';
  return (summary.warnings ?? []).length > 0 ? 'warning' : 'completed';
}

/** The message body: `text` for Slack and chat tools, `custflow` for machines. */
export function webhookPayload(summary: RunSummary): Record<string, unknown> {
  const event = runEvent(summary);
  const warnings = summary.warnings ?? [];
  const run = `custflow run ${summary.runId} of ${summary.dataset} ${summary.month}`;
  const heads: Record<RunEvent, string> = {
    failed: `:x: ${run} FAILED: ${summary.error?.message ?? 'see the run summary'}`,
    cancelled: `:octagonal_sign: ${run} was CANCELED before it finished (${unfinishedStages(summary)}); nothing failed`,
    warning: `:warning: ${run} completed with ${warnings.length} warning${warnings.length === 1 ? '' : 's'}`,
    completed: `:white_check_mark: ${run} completed`,
  };
  const head = heads[event];
  const lines = warnings.slice(0, 10).map((w) => `• ${w.stage}: ${w.message.slice(0, 300)}`);
  if (warnings.length > 10)
    lines.push(`• … and ${warnings.length - 10} more (run summary: ${summary.summaryUri})`);
  return {
    text: [head, ...lines].join('\n'),
    custflow: {
      // a receiver can drop repeats: an activity retried after sending sends the same key again
      idempotencyKey: `${summary.runId}:${summary.status}`,
      event,
      runId: summary.runId,
      dataset: summary.dataset,
      month: summary.month,
      status: summary.status,
      warnings: warnings.length,
      summaryUri: summary.summaryUri,
      reportUri: summary.reportUri ?? null,
    },
  };
}

/** The stages a cancelled run stopped, for its message. */
function unfinishedStages(summary: Pick<RunSummary, 'stages'>): string {
  const stopped = Object.entries(summary.stages)
    .filter(([, entry]) => entry.status === 'cancelled')
    .map(([stage]) => stage);
  return stopped.length > 0 ? `stopped: ${stopped.join(', ')}` : 'no stage was running';
}

/** POST the run's outcome when its event is subscribed; retried with backoff; never throws. */
export async function notifyRunEnd(
  summary: RunSummary,
  settings: WebhookSettings,
): Promise<DeliveryResult | undefined> {
  const event = runEvent(summary);
  if (!settings.events.has(event)) return undefined;
  const body = JSON.stringify(webhookPayload(summary));
  let delay = settings.backoffMs;
  let last: DeliveryResult = { event, delivered: false, attempts: 0 };
  for (let attempt = 1; attempt <= settings.attempts; attempt++) {
    try {
      const response = await fetch(settings.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(settings.timeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined);
      last = { event, delivered: response.ok, attempts: attempt, status: response.status };
      // 4xx other than throttling will not get better by asking again
      if (response.ok || (response.status < 500 && response.status !== 429)) return last;
      last.error = `HTTP ${response.status}`;
    } catch (error) {
      last = { event, delivered: false, attempts: attempt, error: describeNetworkError(error) };
    }
    if (attempt < settings.attempts) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay *= 2;
    }
  }
  return last;
}

/** A fetch failure named by its code or class only: undici's messages can carry the URL. */
function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return 'timed out';
  return error instanceof Error ? error.name : 'network error';
}
