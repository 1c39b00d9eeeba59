/**
 * Run notifications against a real HTTP server on loopback: the Slack-compatible body, retries on 5xx
 * and throttling, no retry on a client error, the URL kept out of every result, and settings from the
 * environment (a secret file, event filters).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { notifyRunEnd, runEvent, webhookSettings, type WebhookSettings } from '../../../lib/notify';
import type { RunSummary, StageStatus, StageSummary } from '../../../lib/runTypes';

interface Received {
  path: string;
  contentType: string | undefined;
  body: Record<string, unknown>;
}

let server: Server;
let base: string;
let received: Received[];
/** Status codes to answer with, in order; 200 once they run out. */
let answers: number[];

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  server = createServer((request, response) => {
    void readBody(request).then((text) => {
      received.push({
        path: request.url ?? '',
        contentType: request.headers['content-type'],
        body: JSON.parse(text) as Record<string, unknown>,
      });
      response.statusCode = answers.shift() ?? 200;
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  received = [];
  answers = [];
});

function summary(overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    runId: '20261203T080000Z-4e5f60718293',
    workflowId: 'custflow-shop-2024-01',
    dataset: 'shop',
    month: '2024-01',
    status: 'COMPLETED',
    cutoff: '2024-01-31T23:59:59.999Z',
    configHash: 'abc',
    startedAt: '2026-12-03T08:00:00.000Z',
    stages: {},
    warnings: [],
    summaryUri: 's3://custflow/runs/shop/2024-01/x/run.json',
    ...overrides,
  };
}

const stage = (status: StageStatus): StageSummary => ({ status, durationMs: 0, outputs: {}, metrics: {} });

const settings = (path: string, overrides: Partial<WebhookSettings> = {}): WebhookSettings => ({
  url: `${base}${path}`,
  events: new Set(['failed', 'cancelled', 'warning', 'completed']),
  attempts: 3,
  backoffMs: 10,
  timeoutMs: 2_000,
  ...overrides,
});

describe('run notifications', () => {
  it('posts a Slack-compatible body naming the run and its warnings', async () => {
    const run = summary({
      warnings: [{ stage: 'clv', code: 'clv_boundary_limit_model', message: 'scored with the limit' }],
    });
    const result = await notifyRunEnd(run, settings('/services/T000/B000/secret-token'));
    expect(result).toEqual({ event: 'warning', delivered: true, attempts: 1, status: 200 });
    expect(received).toHaveLength(1);
    expect(received[0].contentType).toBe('application/json');
    expect(received[0].body.text).toBe(
      ':warning: custflow run 20261203T080000Z-4e5f60718293 of shop 2024-01 completed with 1 warning\n• clv: scored with the limit',
    );
    expect(received[0].body.custflow).toMatchObject({
      event: 'warning',
      idempotencyKey: '20261203T080000Z-4e5f60718293:COMPLETED',
      warnings: 1,
    });
  });

  it('retries 5xx and throttling with backoff, and gives up on a client error at once', async () => {
    answers = [503, 429];
    const failed = summary({
      status: 'FAILED',
      error: { message: 'stage clean failed: bad file', type: 'X' },
    });
    const retried = await notifyRunEnd(failed, settings('/hook'));
    expect(retried).toMatchObject({ event: 'failed', delivered: true, attempts: 3, status: 200 });
    expect(received.map((r) => r.body.text)).toEqual(Array(3).fill(received[0].body.text));
    expect(String(received[0].body.text)).toContain('FAILED: stage clean failed: bad file');

    received = [];
    answers = [404];
    const refused = await notifyRunEnd(failed, settings('/gone'));
    expect(refused).toMatchObject({ delivered: false, attempts: 1, status: 404 });
    expect(received).toHaveLength(1);
  });

  it('reports a cancelled run as cancelled, never as failed', async () => {
    const cancelled = summary({
      status: 'CANCELED',
      error: { message: 'the run was cancelled', type: 'RunCancelled' },
      stages: {
        ingest: stage('completed'),
        clean: stage('cancelled'),
        features: stage('cancelled'),
      },
    });
    expect(runEvent(cancelled)).toBe('cancelled');
    const result = await notifyRunEnd(cancelled, settings('/hook'));
    expect(result).toEqual({ event: 'cancelled', delivered: true, attempts: 1, status: 200 });
    expect(received[0].body.text).toBe(
      ':octagonal_sign: custflow run 20261203T080000Z-4e5f60718293 of shop 2024-01 was CANCELED before it finished (stopped: clean, features); nothing failed',
    );
    expect(String(received[0].body.text)).not.toContain('FAILED');
    expect(received[0].body.custflow).toMatchObject({ event: 'cancelled', status: 'CANCELED' });

    // subscribed to failures only: a cancellation is not one
    received = [];
    expect(await notifyRunEnd(cancelled, settings('/hook', { events: new Set(['failed']) }))).toBeUndefined();
    expect(received).toHaveLength(0);
  });

  it('never puts the URL in its result when the endpoint is down', async () => {
    const down = { ...settings('/services/secret-token'), url: 'http://127.0.0.1:9/services/secret-token' };
    const result = await notifyRunEnd(summary(), down);
    expect(result?.delivered).toBe(false);
    expect(result?.attempts).toBe(3);
    expect(JSON.stringify(result)).not.toContain('secret-token');
    expect(JSON.stringify(result)).not.toContain('127.0.0.1');
  });

  it('sends only the subscribed events', async () => {
    const onlyFailures = settings('/hook', { events: new Set(['failed']) });
    expect(await notifyRunEnd(summary(), onlyFailures)).toBeUndefined();
    expect(received).toHaveLength(0);
    expect(runEvent({ status: 'FAILED', warnings: [] })).toBe('failed');
    expect(runEvent({ status: 'COMPLETED', warnings: [] })).toBe('completed');
  });
});

describe('webhook settings', () => {
  it('reads the URL from the environment or a secret file, and checks the event names', async () => {
    expect(await webhookSettings({})).toBeUndefined();
    const dir = await mkdtemp(join(tmpdir(), 'custflow-webhook-'));
    try {
      const file = join(dir, 'url');
      await writeFile(file, `${base}/from-file\n`, { mode: 0o600 });
      const fromFile = await webhookSettings({
        CUSTFLOW_WEBHOOK_URL_FILE: file,
        CUSTFLOW_WEBHOOK_EVENTS: 'failed',
      });
      expect(fromFile?.url).toBe(`${base}/from-file`);
      expect([...(fromFile?.events ?? [])]).toEqual(['failed']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    await expect(webhookSettings({ CUSTFLOW_WEBHOOK_URL: 'ftp://x/secret' })).rejects.toThrow(
      'CUSTFLOW_WEBHOOK_URL must be an http(s) URL (the value is not shown: it is a secret)',
    );
    await expect(
      webhookSettings({ CUSTFLOW_WEBHOOK_URL: `${base}/x`, CUSTFLOW_WEBHOOK_EVENTS: 'failed,done' }),
    ).rejects.toThrow('CUSTFLOW_WEBHOOK_EVENTS: unknown event done');
  });
});
