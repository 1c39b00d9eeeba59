/**
 * The web console: `custflow console`. A Hono application on Node's HTTP server (@hono/node-server), that
 * reads what the CLI reads (run summaries and the file catalog in S3, schedules in Temporal) and starts
 * what the CLI starts (run, backfill, replay, schedule actions, cancel) through the same functions.
 *
 * Access (console/auth.ts): every page needs a session; every POST needs the session's CSRF token (a
 * form field or the x-csrf-token header); every action needs the operator role. Without a session an API
 * call answers 401 and a page redirects to /login; a viewer's action answers 403, as does any POST
 * without the right CSRF token. Each action, allowed or refused, is written to the audit log in S3.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { serve, type ServerType } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Client } from '@temporalio/client';
import { Hono, type Context, type Next } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import { z } from 'zod';
import { startBackfill } from '../scripts/commands/backfill';
import { explainConnectionError } from '../lib/connections';
import { startReplay } from '../scripts/commands/replay';
import { startRun } from '../scripts/commands/run';
import { MonthRefusedError } from '../scripts/commands/runnableMonths';
import { scheduleAction } from '../scripts/commands/schedule';
import { STAGE_NAMES } from '../lib/stageRegistry';
import { listDatasetNames } from '../lib/datasets';
import { temporalSettings, type TemporalSettings } from '../lib/env';
import { monthRange, parseMonth } from '../lib/month';
import type { ObjectStore } from '../lib/objectStore';
import { listRuns, readRunSummary, RunSummaryCache, waitForRunRecord } from '../lib/runSummaries';
import { runListRow, type RunSummary } from '../lib/runTypes';
import { workflowUiLink } from '../lib/temporal';
import type { backfill } from '../workflows/backfill';
import { backfillProgressQuery, progressQuery } from '../workflows/queries';
import { CONSOLE_CSS, CONSOLE_JS } from './assets';
import { readAudit, writeAudit, type AuditEntry } from './audit';
import {
  csrfTokenFor,
  csrfTokenMatches,
  decodeSession,
  encodeSession,
  newSession,
  SESSION_TTL_MS,
  type ConsoleAuthority,
  type Session,
} from './auth';
import type { Html } from './html';
import { consoleMetricFamilies, taskQueueStates } from './metrics';
import { datasetOverviews, filteredRuns, launchPlan } from './overview';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from './prometheusText';
import {
  auditPage,
  backfillDetail,
  backfillPage,
  datasetsPage,
  loginPage,
  messagePage,
  runDetail,
  runPage,
  runsPage,
  runsTable,
  type PageContext,
} from './pages';

export interface ConsoleDependencies {
  store: ObjectStore;
  client: Client;
  authority: ConsoleAuthority;
  /** Signs session cookies and derives CSRF tokens; random per process unless configured. */
  signingKey: string;
  /** Mark cookies Secure even over plain HTTP (behind a TLS-terminating proxy). */
  secureCookies: boolean;
  temporal?: TemporalSettings;
  /**
   * A bearer token Prometheus must present at GET /metrics (CUSTFLOW_CONSOLE_METRICS_TOKEN); without one
   * the metrics (counts and durations per dataset and stage, nothing secret) answer anyone who can reach
   * the console.
   */
  metricsToken?: string;
  /** For page load timings: called with the route and the server time in ms. */
  onTiming?: (route: string, ms: number) => void;
}

type Env = { Variables: { session: Session } };

const SESSION_COOKIE = 'custflow_session';

/** A refusal the client can act on: the status and a sentence. */
class HttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 503,
    message: string,
  ) {
    super(message);
  }
}

/** Why starting something failed, as an HTTP status: bad requests are the caller's to fix. */
function statusOf(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const unreachable = explainConnectionError(error);
  if (unreachable) return new HttpError(503, unreachable.message);
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof MonthRefusedError) return new HttpError(400, message);
  if (/^no run with id|^no schedule for/.test(message)) return new HttpError(404, message);
  if (/already in progress|still running|already started/i.test(message)) return new HttpError(409, message);
  return new HttpError(400, message);
}

const month = z.string().refine((m) => {
  try {
    parseMonth(m);
    return true;
  } catch {
    return false;
  }
}, 'a month as YYYY-MM');
const dataset = z.string().min(1);
const flag = z
  .union([z.boolean(), z.enum(['true', 'on', 'false', ''])])
  .transform((v) => v === true || v === 'true' || v === 'on');

const ACTION_BODIES = {
  run: z.object({ dataset, month }).strict(),
  backfill: z
    .object({
      dataset,
      from: month,
      to: month,
      concurrency: z.coerce.number().int().min(1).max(32).default(2),
    })
    .strict(),
  replay: z
    .object({
      runId: z.string().min(1),
      fromStage: z.enum(['', ...STAGE_NAMES]).optional(),
      force: flag.optional(),
    })
    .strict(),
  schedule: z.object({ dataset, action: z.enum(['pause', 'unpause', 'trigger']) }).strict(),
  cancel: z.object({ runId: z.string().min(1) }).strict(),
} as const;

type ActionName = keyof typeof ACTION_BODIES;

/** How long a run or replay action waits for the run's record before sending the browser to its page. */
const RUN_RECORD_WAIT_MS = 10_000;

/** How long the runs list keeps polling for the run a schedule trigger starts. */
const FOLLOW_MS = 60_000;

/** Where a run started by an action can be followed. */
const runLocation = (runId: string): string => `/runs/${encodeURIComponent(runId)}`;

export function createConsoleApp(deps: ConsoleDependencies): Hono<Env> {
  const app = new Hono<Env>();
  const settings = deps.temporal ?? temporalSettings();
  // finished summaries are final: each page load reads only the index listing and running or new runs
  const runCache = new RunSummaryCache();

  const securityHeaders = (c: Context, csp: string): void => {
    c.header('Content-Security-Policy', csp);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'same-origin');
    c.header('Cache-Control', 'no-store');
  };
  const PAGE_CSP =
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

  app.use('*', async (c: Context<Env>, next: Next) => {
    const started = performance.now();
    await next();
    if (!c.res.headers.has('Content-Security-Policy')) securityHeaders(c, PAGE_CSP);
    const ms = performance.now() - started;
    // server time of every response, for the browser's devtools and for measuring page loads
    c.res.headers.set('Server-Timing', `app;dur=${ms.toFixed(1)}`);
    deps.onTiming?.(`${c.req.method} ${c.req.routePath}`, ms);
  });

  app.get('/healthz', (c) => c.json({ ok: true, service: 'custflow-console' }));
  // Before the session check: Prometheus has no session; it may have a bearer token.
  app.get('/metrics', async (c) => {
    if (deps.metricsToken !== undefined && !bearerMatches(c.req.header('authorization'), deps.metricsToken))
      return c.text('metrics need Authorization: Bearer <CUSTFLOW_CONSOLE_METRICS_TOKEN>\n', 401);
    const [overviews, runs, queues] = await Promise.all([
      datasetOverviews(deps.store, deps.client, Date.now(), runCache),
      listRuns(undefined, deps.store, runCache),
      taskQueueStates(deps.client, settings.namespace, settings.taskQueue).catch(() => undefined),
    ]);
    const families = consoleMetricFamilies({
      overviews,
      runs,
      taskQueues: queues ?? [],
      temporalReachable: queues !== undefined,
      now: Date.now(),
    });
    return c.body(renderPrometheus(families), 200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE });
  });
  app.get('/favicon.ico', (c) => c.body(null, 204));
  app.get('/static/console.css', (c) =>
    c.body(CONSOLE_CSS, 200, { 'Content-Type': 'text/css; charset=utf-8' }),
  );
  app.get('/static/console.js', (c) =>
    c.body(CONSOLE_JS, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }),
  );

  const isSecure = (c: Context): boolean => deps.secureCookies || new URL(c.req.url).protocol === 'https:';
  const startSession = async (c: Context, user: { name: string; role: Session['role'] }): Promise<void> => {
    await setSignedCookie(c, SESSION_COOKIE, encodeSession(newSession(user)), deps.signingKey, {
      httpOnly: true,
      sameSite: 'Strict',
      secure: isSecure(c),
      path: '/',
      maxAge: Math.floor(SESSION_TTL_MS / 1000),
    });
  };
  const readSession = async (c: Context): Promise<Session | undefined> => {
    const value = await getSignedCookie(c, deps.signingKey, SESSION_COOKIE);
    return typeof value === 'string' ? decodeSession(value) : undefined;
  };

  const renderPage = (c: Context, page: Html, status: 200 | 400 | 401 | 403 | 404 = 200): Response =>
    c.html(page.value, status);

  app.get('/login', async (c) => {
    const once = c.req.query('once');
    if (once) {
      const user = await deps.authority.redeem(once);
      if (user) {
        await startSession(c, user);
        return c.redirect('/datasets', 303);
      }
      return renderPage(
        c,
        loginPage({
          error: 'That one-time login was already used or has expired.',
          loopbackOnly: !deps.authority.hasConfiguredUsers,
        }),
        401,
      );
    }
    return renderPage(c, loginPage({ loopbackOnly: !deps.authority.hasConfiguredUsers }));
  });
  app.post('/login', async (c) => {
    const body = await c.req.parseBody();
    const name = typeof body.name === 'string' ? body.name : '';
    const token = typeof body.token === 'string' ? body.token : '';
    const user = name && token ? await deps.authority.signIn(name, token) : undefined;
    if (!user)
      return renderPage(
        c,
        loginPage({
          error: 'Unknown name or wrong token.',
          name,
          loopbackOnly: !deps.authority.hasConfiguredUsers,
        }),
        401,
      );
    await startSession(c, user);
    return c.redirect('/datasets', 303);
  });

  // Everything below needs a session.
  app.use('*', async (c: Context<Env>, next: Next) => {
    const session = await readSession(c);
    if (!session) {
      if (c.req.path.startsWith('/api/') || c.req.method !== 'GET')
        return c.json({ error: 'sign in first (no session)' }, 401);
      return c.redirect(`/login`, 303);
    }
    c.set('session', session);
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      const presented = c.req.header('x-csrf-token') ?? (await formField(c, '_csrf'));
      if (!csrfTokenMatches(deps.signingKey, session, presented)) {
        await audit(
          c,
          session,
          c.req.path.replace(/^\/api\//, ''),
          {},
          { ok: false, status: 403, error: 'missing or wrong CSRF token' },
        );
        return c.json({ error: 'missing or wrong CSRF token: reload the page and try again' }, 403);
      }
    }
    await next();
  });

  const pageContext = (c: Context<Env>): PageContext => {
    const session = c.get('session');
    return { session, csrfToken: csrfTokenFor(deps.signingKey, session) };
  };

  const audit = async (
    c: Context,
    session: Session,
    action: string,
    request: Record<string, unknown>,
    result: AuditEntry['result'],
  ): Promise<void> => {
    let from: string | undefined;
    try {
      from = getConnInfo(c).remote.address;
    } catch {
      from = undefined;
    }
    await writeAudit(deps.store, {
      at: new Date().toISOString(),
      user: session.name,
      role: session.role,
      action,
      request,
      result,
      ...(from ? { from } : {}),
    });
  };

  app.post('/logout', (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/login', 303);
  });

  app.get('/', (c) => c.redirect('/datasets', 303));

  app.get('/datasets', async (c) => {
    const overviews = await datasetOverviews(deps.store, deps.client, Date.now(), runCache);
    return renderPage(c, datasetsPage(overviews, pageContext(c)));
  });
  app.get('/api/datasets', async (c) =>
    c.json(await datasetOverviews(deps.store, deps.client, Date.now(), runCache)),
  );

  const runFilter = (c: Context): { dataset?: string; status?: string; month?: string } => ({
    dataset: c.req.query('dataset') || undefined,
    status: c.req.query('status') || undefined,
    month: c.req.query('month') || undefined,
  });
  /**
   * `?since=ISO` (where a schedule trigger lands): keep following the list until a run started at or after
   * that instant has appeared and ended, for at most FOLLOW_MS (the schedule starts the run a moment later).
   */
  const following = (c: Context, runs: readonly RunSummary[]): boolean => {
    const since = Date.parse(c.req.query('since') ?? '');
    if (Number.isNaN(since) || Date.now() - since > FOLLOW_MS) return false;
    return !runs.some((r) => Date.parse(r.startedAt) >= since);
  };
  const live = (c: Context, runs: readonly RunSummary[]): boolean =>
    runs.some((r) => r.status === 'RUNNING') || following(c, runs);
  app.get('/runs', async (c) => {
    const filter = runFilter(c);
    const [runs, datasets] = await Promise.all([
      filteredRuns(deps.store, filter, runCache),
      listDatasetNames(deps.store),
    ]);
    const since = c.req.query('since');
    const query = new URLSearchParams(
      Object.entries({ ...filter, since }).filter((e): e is [string, string] => Boolean(e[1])),
    );
    return renderPage(
      c,
      runsPage(runs, filter, datasets, pageContext(c), `/runs-live?${query.toString()}`, live(c, runs)),
    );
  });
  app.get('/runs-live', async (c) => {
    const runs = await filteredRuns(deps.store, runFilter(c), runCache);
    c.header('X-Live', live(c, runs) ? '1' : '0');
    return c.html(runsTable(runs).value);
  });
  app.get('/api/runs', async (c) =>
    c.json((await filteredRuns(deps.store, runFilter(c), runCache)).map(runListRow)),
  );

  /** The stored summary; while it says RUNNING, the workflow's own progress (live stage states). */
  const liveSummary = async (runId: string): Promise<RunSummary> => {
    const stored = await readRunSummary(runId, deps.store).catch((error: unknown) => {
      throw statusOf(error);
    });
    if (stored.status !== 'RUNNING') return stored;
    const handle = deps.client.workflow.getHandle(stored.workflowId);
    try {
      const description = await handle.describe();
      if (description.status.name !== 'RUNNING') {
        // ended (cancelled, terminated) without writing its final summary: say what Temporal says
        const again = await readRunSummary(runId, deps.store);
        return again.status !== 'RUNNING'
          ? again
          : { ...again, status: description.status.name as RunSummary['status'] };
      }
      const progress = await handle.query(progressQuery);
      return progress.runId === runId ? { ...stored, ...progress } : stored;
    } catch {
      return stored;
    }
  };

  app.get('/runs/:runId', async (c) => {
    const summary = await liveSummary(c.req.param('runId'));
    return renderPage(
      c,
      runPage(summary, pageContext(c), { temporalUi: workflowUiLink(settings, summary.workflowId) }),
    );
  });
  app.get('/runs/:runId/live', async (c) => {
    const summary = await liveSummary(c.req.param('runId'));
    c.header('X-Live', summary.status === 'RUNNING' ? '1' : '0');
    return c.html(runDetail(summary).value);
  });
  app.get('/api/runs/:runId', async (c) => c.json(await liveSummary(c.req.param('runId'))));

  const runOutput = async (
    runId: string,
    stage: string,
    name: string,
  ): Promise<{ key: string; uri: string }> => {
    const summary = await readRunSummary(runId, deps.store).catch((error: unknown) => {
      throw statusOf(error);
    });
    // only what the summary lists: a path in the URL never becomes an arbitrary key
    const uri = summary.stages[stage]?.outputs[name];
    if (!uri) throw new HttpError(404, `run ${runId} has no output ${stage}/${name}`);
    return { key: deps.store.keyFromUri(uri), uri };
  };
  const download = async (
    c: Context,
    runId: string,
    stage: string,
    name: string,
    filename: string,
  ): Promise<Response> => {
    const { key } = await runOutput(runId, stage, name);
    return c.body(await objectStream(deps.store, key), 200, {
      'Content-Type': contentTypeOf(key),
      'Content-Disposition': `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
    });
  };
  app.get('/runs/:runId/outputs/:stage/:name', async (c) => {
    const { runId, stage, name } = c.req.param();
    const { key } = await runOutput(runId, stage, name);
    return download(c, runId, stage, name, `${runId}-${stage}-${key.split('/').pop() ?? name}`);
  });
  app.get('/runs/:runId/download/report', async (c) => {
    const runId = c.req.param('runId');
    return download(c, runId, 'report', 'html', `report-${runId}.html`);
  });
  app.get('/runs/:runId/download/crm', async (c) => {
    const runId = c.req.param('runId');
    return download(c, runId, 'report', 'crm', `crm-${runId}.csv`);
  });
  // The report in the page's iframe: the stored HTML with the report's own CSP (no script, no network)
  // as a header too, sandboxed, framable only by the console.
  app.get('/runs/:runId/report', async (c) => {
    const { key } = await runOutput(c.req.param('runId'), 'report', 'html');
    const body = await objectStream(deps.store, key);
    securityHeaders(
      c,
      "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox allow-downloads",
    );
    return c.body(body, 200, { 'Content-Type': 'text/html; charset=utf-8' });
  });

  app.get('/backfills/:workflowId', async (c) => {
    const workflowId = c.req.param('workflowId');
    const progress = await backfillProgress(deps.client, workflowId);
    return renderPage(
      c,
      backfillPage(
        workflowId,
        backfillDetail(progress),
        progress.status === 'RUNNING',
        pageContext(c),
        workflowUiLink(settings, workflowId),
      ),
    );
  });
  app.get('/backfills/:workflowId/live', async (c) => {
    const progress = await backfillProgress(deps.client, c.req.param('workflowId'));
    c.header('X-Live', progress.status === 'RUNNING' ? '1' : '0');
    return c.html(backfillDetail(progress).value);
  });
  app.get('/api/backfills/:workflowId', async (c) =>
    c.json(await backfillProgress(deps.client, c.req.param('workflowId'))),
  );

  app.get('/api/plan', async (c) => {
    const parsed = z.object({ dataset, from: month, to: month }).safeParse(c.req.query());
    if (!parsed.success) throw new HttpError(400, describeZodError(parsed.error));
    const { from, to } = parsed.data;
    if (from > to) throw new HttpError(400, `from ${from} is after to ${to}`);
    return c.json(await launchPlan(deps.store, parsed.data.dataset, monthRange(from, to)));
  });

  app.get('/audit', async (c) => renderPage(c, auditPage(await readAudit(deps.store), pageContext(c))));

  // Actions: operators only, each written to the audit log with its outcome.
  const action = <A extends ActionName>(
    name: A,
    perform: (
      body: z.infer<(typeof ACTION_BODIES)[A]>,
    ) => Promise<{ location: string } & Record<string, unknown>>,
  ): void => {
    app.post(`/api/${name}`, async (c) => {
      const session = c.get('session');
      const json = (c.req.header('content-type') ?? '').includes('application/json');
      const raw = json
        ? ((await c.req.json().catch(() => ({}))) as Record<string, unknown>)
        : await formBody(c);
      const request = Object.fromEntries(Object.entries(raw).filter(([k]) => k !== '_csrf'));
      try {
        if (session.role !== 'operator')
          throw new HttpError(403, `${session.name} is a viewer: only operators may ${name}`);
        const parsed = ACTION_BODIES[name].safeParse(request);
        if (!parsed.success) throw new HttpError(400, describeZodError(parsed.error));
        const outcome = await perform(parsed.data as z.infer<(typeof ACTION_BODIES)[A]>);
        await audit(c, session, name, request, { ok: true, started: outcome });
        return json ? c.json({ ok: true, ...outcome }) : c.redirect(outcome.location, 303);
      } catch (error) {
        const refusal = statusOf(error);
        await audit(c, session, name, request, { ok: false, status: refusal.status, error: refusal.message });
        return c.json({ error: refusal.message }, refusal.status);
      }
    });
  };

  action('run', async (body) => {
    const started = await startRun(deps.client, { dataset: body.dataset, month: body.month }, deps.store);
    await waitForRunRecord(deps.store, started.runId, RUN_RECORD_WAIT_MS);
    return { runId: started.runId, workflowId: started.workflowId, location: runLocation(started.runId) };
  });
  action('backfill', async (body) => {
    const started = await startBackfill(deps.client, body, deps.store);
    return {
      workflowId: started.workflowId,
      location: `/backfills/${encodeURIComponent(started.workflowId)}`,
    };
  });
  action('replay', async (body) => {
    const started = await startReplay(
      deps.client,
      { runId: body.runId, fromStage: body.fromStage || undefined, force: body.force ?? false },
      deps.store,
    );
    await waitForRunRecord(deps.store, started.runId, RUN_RECORD_WAIT_MS);
    return { runId: started.runId, workflowId: started.workflowId, location: runLocation(started.runId) };
  });
  action('schedule', async (body) => {
    const result = await scheduleAction(deps.client, body.action, body.dataset);
    // a trigger starts a run a moment later: follow the dataset's runs until it appears and ends
    const location =
      body.action === 'trigger'
        ? `/runs?${new URLSearchParams({ dataset: body.dataset, since: new Date().toISOString() }).toString()}`
        : `/datasets#dataset-${body.dataset}`;
    return { result, location };
  });
  action('cancel', async (body) => {
    const summary = await readRunSummary(body.runId, deps.store);
    if (summary.status !== 'RUNNING')
      throw new HttpError(409, `run ${body.runId} is ${summary.status}, not running`);
    const handle = deps.client.workflow.getHandle(summary.workflowId);
    const description = await handle.describe();
    if (description.status.name !== 'RUNNING')
      throw new HttpError(409, `workflow ${summary.workflowId} is ${description.status.name}, not running`);
    await handle.cancel();
    return { runId: body.runId, workflowId: summary.workflowId, location: runLocation(body.runId) };
  });

  app.notFound((c) =>
    c.req.path.startsWith('/api/')
      ? c.json({ error: `no such endpoint ${c.req.path}` }, 404)
      : c.html(messagePage('Not found', `Nothing at ${c.req.path}.`).value, 404),
  );
  app.onError((error, c) => {
    const refusal = statusOf(error);
    if (c.req.path.startsWith('/api/') || c.req.header('accept')?.includes('application/json'))
      return c.json({ error: refusal.message }, refusal.status);
    return c.html(messagePage(`Error ${refusal.status}`, refusal.message).value, refusal.status);
  });
  return app;
}

async function formBody(c: Context): Promise<Record<string, unknown>> {
  const body = await c.req.parseBody();
  return Object.fromEntries(Object.entries(body).filter(([, v]) => typeof v === 'string'));
}

/** A field of a form-encoded body (Hono caches the parsed body, so the handler can read it again). */
async function formField(c: Context, name: string): Promise<string | undefined> {
  const type = c.req.header('content-type') ?? '';
  if (!type.includes('application/x-www-form-urlencoded') && !type.includes('multipart/form-data'))
    return undefined;
  const value = (await c.req.parseBody())[name];
  return typeof value === 'string' ? value : undefined;
}

/** An object's bytes as a stream: a CRM export of a million customers is not held in memory. */
async function objectStream(store: ObjectStore, key: string): Promise<ReadableStream> {
  const result = await store.client.send(new GetObjectCommand({ Bucket: store.bucket, Key: key }));
  if (!result.Body) throw new Error(`empty body for ${store.uri(key)}`);
  return result.Body.transformToWebStream();
}

/** Constant-time comparison of an Authorization header with the expected bearer token. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = Buffer.from(header ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

function describeZodError(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
}

function contentTypeOf(key: string): string {
  if (key.endsWith('.html')) return 'text/html; charset=utf-8';
  if (key.endsWith('.csv')) return 'text/csv; charset=utf-8';
  if (key.endsWith('.json')) return 'application/json';
  return 'application/octet-stream';
}

async function backfillProgress(
  client: Client,
  workflowId: string,
): Promise<Parameters<typeof backfillDetail>[0]> {
  const handle = client.workflow.getHandle<typeof backfill>(workflowId);
  let status: string;
  try {
    status = (await handle.describe()).status.name;
  } catch (error) {
    throw new HttpError(
      404,
      `no backfill ${workflowId} (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (status === 'COMPLETED') {
    const result = await handle.result();
    return { ...result, status, runs: result.runs };
  }
  try {
    return { ...(await handle.query(backfillProgressQuery)), status };
  } catch {
    const [, , dataset = '', from = '', to = ''] =
      /^custflow-backfill-(.+)-(\d{4}-\d{2})-(\d{4}-\d{2})$/.exec(workflowId) ?? [];
    return { dataset, from, to, status, runs: [] };
  }
}

export interface RunningConsole {
  url: string;
  server: ServerType;
  close(): Promise<void>;
}

/** Serves the app on host:port (port 0: a free one); resolves once listening. */
export function listen(app: Hono<Env>, host: string, port: number): Promise<RunningConsole> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (info: AddressInfo) => {
      const shownHost = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      resolve({
        url: `http://${shownHost}:${info.port}`,
        server,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
    server.once('error', reject);
  });
}

/** A signing key for sessions: CUSTFLOW_CONSOLE_SESSION_KEY (shared by replicas), or random per start. */
export function sessionSigningKey(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.CUSTFLOW_CONSOLE_SESSION_KEY;
  if (configured !== undefined) {
    if (configured.length < 32)
      throw new Error(
        'CUSTFLOW_CONSOLE_SESSION_KEY must be at least 32 characters (e.g. openssl rand -hex 32)',
      );
    return configured;
  }
  return randomBytes(32).toString('base64url');
}
