/**
 * The web console in a real browser (Debian's chromium driven by playwright-core) against the real stack:
 * the Temporal dev server and versitygw of globalSetup, a real worker, and the console's own HTTP server
 * on a free loopback port. A viewer can look but not start anything; an operator picks three months on the
 * grid, confirms a backfill, follows it to the end, opens a run's report and downloads its CRM export; a
 * request without the CSRF token is refused; every action lands in the audit log in S3. Screenshots at
 * 1280 px and 390 px go to CONSOLE_SCREENSHOT_DIR when set (look at them).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, ConsoleAuthority, readUsersFile } from '../../console/auth';
import { AUDIT_PREFIX, type AuditEntry } from '../../console/audit';
import { createConsoleApp, listen, type RunningConsole } from '../../console/server';
import { addMonths, monthOf } from '../../lib/month';
import { startConsole } from '../../scripts/commands/console';
import { loadData } from '../../scripts/commands/data';
import { listRuns } from '../../scripts/commands/runs';
import { createSchedule, describeSchedule } from '../../scripts/commands/schedule';
import { generateDataset } from '../../scripts/generate';
import { sampleValue } from '../prometheus';
import { openHarness, type Harness } from './harness';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-sync'];
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(`console browser test SKIPPED: ${CHROMIUM} does not exist (apt-get install -y chromium)`);

const DATASET = 'console-shop';
const METRICS_TOKEN = 'test-metrics-token';

describe.skipIf(!hasChromium)('web console in headless Chromium', () => {
  let harness: Harness;
  let browser: Browser;
  let consoleServer: RunningConsole;
  let dir: string;
  let tokens: { viewer: string; operator: string };
  const shots = process.env.CONSOLE_SCREENSHOT_DIR;
  // Nine months of data ending with the last month that has ended; the backfill takes the last three.
  const currentMonth = monthOf(Date.now());
  const firstMonth = addMonths(currentMonth, -9);
  const picked = [addMonths(currentMonth, -3), addMonths(currentMonth, -2), addMonths(currentMonth, -1)];

  beforeAll(async () => {
    harness = await openHarness();
    await harness.startWorker();
    dir = mkdtempSync(join(tmpdir(), 'custflow-console-'));
    await generateDataset({
      outDir: join(dir, 'data'),
      customers: 400,
      months: 9,
      seed: 5,
      startMonth: firstMonth,
    });
    for (const table of ['transactions', 'events', 'assignments'] as const)
      await loadData(
        { dataset: DATASET, format: 'canonical', table, from: join(dir, 'data', table) },
        harness.store,
      );
    const tokensFile = join(dir, 'tokens.json');
    tokens = {
      viewer: (await addUser(tokensFile, { name: 'vera', role: 'viewer' })).token,
      operator: (await addUser(tokensFile, { name: 'omar', role: 'operator' })).token,
    };
    const app = createConsoleApp({
      store: harness.store,
      client: harness.client,
      authority: new ConsoleAuthority(await readUsersFile(tokensFile), join(dir, 'state')),
      signingKey: 'test-signing-key-of-at-least-thirty-two-characters',
      secureCookies: false,
      metricsToken: METRICS_TOKEN,
    });
    consoleServer = await listen(app, '127.0.0.1', 0);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    if (shots) mkdirSync(shots, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await consoleServer?.close();
    await harness?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const signIn = async (
    name: string,
    token: string,
    width = 1280,
  ): Promise<{ context: BrowserContext; page: Page; errors: string[] }> => {
    const context = await browser.newContext({ viewport: { width, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && !/status of 40[13]/.test(message.text())) errors.push(message.text());
    });
    await page.goto(`${consoleServer.url}/datasets`);
    expect(new URL(page.url()).pathname).toBe('/login'); // no session: the login page
    await page.fill('#name', name);
    await page.fill('#token', token);
    await Promise.all([page.waitForURL('**/datasets'), page.click('button[type="submit"]')]);
    return { context, page, errors };
  };

  const screenshot = async (page: Page, name: string): Promise<void> => {
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      const png = await page.screenshot({
        fullPage: true,
        ...(shots ? { path: join(shots, `${name}-${width}.png`) } : {}),
      });
      expect(png.readUInt32BE(16)).toBe(width); // IHDR width: nothing overflows the screen sideways
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  };

  const csrfOf = (page: Page): Promise<string> =>
    page.evaluate<string>(`document.querySelector('meta[name="csrf-token"]').content`);

  /** A POST from inside the page (same origin, the session cookie goes along). */
  const postFromPage = (page: Page, path: string, body: unknown, csrf?: string): Promise<number> =>
    page.evaluate<number>(
      `fetch(${JSON.stringify(path)}, { method: 'POST', credentials: 'same-origin',
         headers: Object.assign({ 'content-type': 'application/json' }, ${JSON.stringify(csrf ? { 'x-csrf-token': csrf } : {})}),
         body: ${JSON.stringify(JSON.stringify(body))} }).then((r) => r.status)`,
    );

  const auditEntries = async (): Promise<AuditEntry[]> => {
    const objects = await harness.store.list(AUDIT_PREFIX);
    return Promise.all(objects.map((o) => harness.store.getJson<AuditEntry>(o.key)));
  };

  const scrape = async (): Promise<string> => {
    const response = await fetch(`${consoleServer.url}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    return response.text();
  };

  it('answers /healthz, and 401 to anyone without a session', async () => {
    const health = await fetch(`${consoleServer.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true });
    expect((await fetch(`${consoleServer.url}/api/runs`)).status).toBe(401);
    expect((await fetch(`${consoleServer.url}/metrics`)).status).toBe(401); // Prometheus needs its token
    const post = await fetch(`${consoleServer.url}/api/backfill`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dataset: DATASET, from: picked[0], to: picked[2], concurrency: 2 }),
    });
    expect(post.status).toBe(401);
    const wrong = await fetch(`${consoleServer.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'omar', token: 'not-his-token' }).toString(),
      redirect: 'manual',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
  });

  it('refuses to listen beyond loopback when nobody is configured', async () => {
    const saved = process.env.CUSTFLOW_CONSOLE_TOKENS_FILE;
    delete process.env.CUSTFLOW_CONSOLE_TOKENS_FILE;
    try {
      await expect(startConsole({ host: '0.0.0.0', port: 0 })).rejects.toThrow(/only listen on loopback/);
    } finally {
      if (saved !== undefined) process.env.CUSTFLOW_CONSOLE_TOKENS_FILE = saved;
    }
  });

  it('lets a viewer look at the grid but start nothing', async () => {
    const { context, page, errors } = await signIn('vera', tokens.viewer);
    await expect(page.locator(`[data-grid="${DATASET}"] table.months`).count()).resolves.toBe(1);
    // nine months of history, none run yet; no launch controls for a viewer
    expect(await page.locator(`[data-grid="${DATASET}"] .cell.missing[title]`).count()).toBe(9);
    expect(await page.locator('button[data-launch]').count()).toBe(0);
    expect(await page.locator('button.cell').count()).toBe(0);
    const csrf = await csrfOf(page);
    const body = { dataset: DATASET, from: picked[0], to: picked[2], concurrency: 2 };
    expect(await postFromPage(page, '/api/backfill', body, csrf)).toBe(403);
    expect(await postFromPage(page, '/api/run', { dataset: DATASET, month: picked[0] }, csrf)).toBe(403);
    expect(await postFromPage(page, '/api/schedule', { dataset: DATASET, action: 'trigger' }, csrf)).toBe(
      403,
    );
    expect(await listRuns(DATASET, harness.store)).toEqual([]);
    await screenshot(page, 'datasets-viewer');
    expect(errors).toEqual([]);
    await context.close();
    const refused = (await auditEntries()).filter((e) => e.user === 'vera');
    expect(refused.map((e) => [e.action, e.result.ok ? 200 : e.result.status]).sort()).toEqual([
      ['backfill', 403],
      ['run', 403],
      ['schedule', 403],
    ]);
  });

  it('refuses an operator request without the CSRF token (403) and starts nothing', async () => {
    const { context, page } = await signIn('omar', tokens.operator);
    const body = { dataset: DATASET, from: picked[0], to: picked[2], concurrency: 2 };
    expect(await postFromPage(page, '/api/backfill', body)).toBe(403);
    expect(await postFromPage(page, '/api/backfill', body, 'forged-token')).toBe(403);
    // a cross-site form post: no header, no field (and SameSite=Strict keeps the cookie home anyway)
    const form = await page.evaluate<number>(
      `fetch('/api/run', { method: 'POST', credentials: 'same-origin', body: new URLSearchParams({ dataset: '${DATASET}', month: '${picked[0]}' }) }).then((r) => r.status)`,
    );
    expect(form).toBe(403);
    expect(await listRuns(DATASET, harness.store)).toEqual([]);
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'custflow_session')).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
    });
    await context.close();
  });

  it('lets an operator pick three months, backfill them, follow the runs and download the results', async () => {
    const { context, page, errors } = await signIn('omar', tokens.operator);
    const grid = page.locator(`[data-grid="${DATASET}"]`);
    for (const month of picked) await grid.locator(`button.cell[data-month="${month}"]`).click();
    await expect(grid.locator('.selection').textContent()).resolves.toBe(
      `${picked[0]} to ${picked[2]} (3 picked)`,
    );
    await grid.locator('input[name="concurrency"]').fill('2');
    await screenshot(page, 'datasets-operator-picked');
    await grid.locator('button[data-launch="backfill"]').click();
    const dialog = page.locator('dialog#confirm');
    await dialog.waitFor({ state: 'visible' });
    await expect(dialog.textContent()).resolves.toContain(`Will run: ${picked.join(', ')}`);
    await screenshot(page, 'backfill-confirm');
    await Promise.all([page.waitForURL('**/backfills/**'), dialog.locator('button.primary').click()]);

    // The backfill page follows the months live until all three completed.
    // (polled from the test: the page's CSP forbids evaluating strings, so waitForFunction cannot run there)
    const deadline = Date.now() + 280_000;
    let scrapedRunning = false; // the metrics saw a run RUNNING, so the summary cache must let it go later
    while ((await page.locator('tr[data-status="COMPLETED"]').count()) < 3) {
      expect(await page.locator('tr[data-status="FAILED"]').count()).toBe(0);
      scrapedRunning ||=
        (sampleValue(await scrape(), 'custflow_runs', { dataset: DATASET, status: 'RUNNING' }) ?? 0) > 0;
      if (Date.now() > deadline) throw new Error('the backfill did not complete in time');
      await page.waitForTimeout(1000);
    }
    await screenshot(page, 'backfill-done');

    // Prometheus: the three completed months, the rest missing, a worker polling, stage durations.
    const metrics = await scrape();
    expect(scrapedRunning).toBe(true);
    expect(sampleValue(metrics, 'custflow_runs', { dataset: DATASET, status: 'COMPLETED' })).toBe(3);
    expect(sampleValue(metrics, 'custflow_runs', { dataset: DATASET, status: 'RUNNING' })).toBeUndefined();
    expect(sampleValue(metrics, 'custflow_months', { dataset: DATASET, state: 'completed' })).toBe(3);
    expect(sampleValue(metrics, 'custflow_months', { dataset: DATASET, state: 'missing' })).toBe(6);
    expect(sampleValue(metrics, 'custflow_dataset_overdue_seconds', { dataset: DATASET })).toBe(0);
    expect(
      sampleValue(metrics, 'custflow_run_stage_duration_seconds_count', {
        dataset: DATASET,
        stage: 'ingest',
      }),
    ).toBe(3);
    expect(sampleValue(metrics, 'custflow_task_queue_pollers', { type: 'activity' })).toBeGreaterThan(0);
    expect(sampleValue(metrics, 'custflow_temporal_up')).toBe(1);

    await page.goto(`${consoleServer.url}/runs?dataset=${DATASET}&status=completed`);
    expect(await page.locator('tr[data-run]').count()).toBe(3);
    expect(
      (
        await page.evaluate<string[]>(
          `[...document.querySelectorAll('tr[data-run]')].map((r) => r.dataset.month)`,
        )
      ).sort(),
    ).toEqual(picked);
    await screenshot(page, 'runs');
    await page.goto(`${consoleServer.url}/datasets`);
    for (const month of picked)
      expect(await grid.locator(`.cell.completed[data-month="${month}"]`).count()).toBe(1);

    // A run page: the DAG, the report in its frame, the downloads.
    await page.goto(`${consoleServer.url}/runs?dataset=${DATASET}&month=${picked[2]}`);
    await Promise.all([page.waitForURL('**/runs/*'), page.locator('tr[data-run] a').first().click()]);
    expect(await page.locator('.stage[data-status="completed"], .stage[data-status="cached"]').count()).toBe(
      10,
    );
    const frame = page.frameLocator('iframe.report');
    await frame.locator('body').waitFor();
    expect(await frame.locator('h1').first().textContent()).toBeTruthy();
    const reportHeaders = await page.evaluate<string>(
      `fetch(document.querySelector('iframe.report').src).then((r) => r.headers.get('content-security-policy'))`,
    );
    expect(reportHeaders).toContain("default-src 'none'");
    await screenshot(page, 'run');
    if (shots) await page.locator('iframe.report').screenshot({ path: join(shots, 'run-report-frame.png') });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('a[href$="/download/crm"]'),
    ]);
    const csv = readFileSync(await download.path(), 'utf8');
    expect(csv.split('\n')[0]).toContain('customer_id');
    expect(csv.trim().split('\n').length).toBeGreaterThan(100);
    expect(errors).toEqual([]);
    await context.close();

    const started = (await auditEntries()).filter((e) => e.user === 'omar' && e.action === 'backfill');
    expect(started.map((e) => e.result.ok)).toEqual([false, false, true]); // two forged, one confirmed
    expect(started.find((e) => e.result.ok)?.request).toEqual({
      dataset: DATASET,
      from: picked[0],
      to: picked[2],
      concurrency: 2,
    });
    // nothing secret in the audit log
    expect(JSON.stringify(await auditEntries())).not.toContain(tokens.operator);
  });

  it('lets an operator pause, unpause and trigger the schedule, replay a run and cancel one, each confirmed', async () => {
    await createSchedule(harness.client, { dataset: DATASET }, harness.store);
    const { context, page, errors } = await signIn('omar', tokens.operator);
    const dialog = page.locator('dialog#confirm');
    const card = page.locator(`#dataset-${DATASET}`);
    // exact: hasText matches substrings without case, and "Unpause" contains "pause"
    const scheduleButton = (label: string) =>
      card.locator('form[data-action="schedule"]').getByRole('button', { name: label, exact: true });
    const confirm = async (title: string): Promise<void> => {
      await dialog.waitFor({ state: 'visible' });
      expect(await dialog.locator('h2').textContent()).toBe(title);
      await dialog.locator('button.primary').click();
    };
    /** Waits (polling from the test, as the page's CSP forbids evaluated strings) for a locator to exist. */
    const until = async (what: string, found: () => Promise<boolean>, ms = 60_000): Promise<void> => {
      const deadline = Date.now() + ms;
      while (!(await found())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await page.waitForTimeout(250);
      }
    };

    // Pause: the dialog's Cancel changes nothing; Confirm pauses, and the page shows it.
    await scheduleButton('Pause').click();
    await dialog.waitFor({ state: 'visible' });
    await dialog.locator('button.cancel').click();
    expect((await describeSchedule(harness.client, DATASET)).paused).toBe(false);
    await scheduleButton('Pause').click();
    await confirm(`Pause the schedule of ${DATASET}?`);
    await until('the paused badge', async () => (await card.locator('.badge.paused').count()) === 1);
    expect((await describeSchedule(harness.client, DATASET)).paused).toBe(true);
    await scheduleButton('Unpause').click();
    await confirm(`Unpause the schedule of ${DATASET}?`);
    await until('the Pause button again', async () => (await scheduleButton('Pause').count()) === 1);
    expect((await describeSchedule(harness.client, DATASET)).paused).toBe(false);

    // Trigger: the run of the month before now starts; the runs list follows it until it completes.
    await scheduleButton('Trigger now').click();
    await Promise.all([page.waitForURL('**/runs?*since=*'), confirm(`Run the schedule of ${DATASET} now?`)]);
    const monthRows = page.locator(`tr[data-run][data-month="${picked[2]}"]`);
    await until('the triggered run to complete', async () => {
      expect(await page.locator('tr[data-run][data-status="FAILED"]').count()).toBe(0);
      return (
        (await monthRows.count()) === 2 &&
        (await page.locator('tr[data-run][data-status="RUNNING"]').count()) === 0
      );
    });

    // Replay from the report: the browser lands on the new run and follows it to the end.
    await Promise.all([page.waitForURL('**/runs/*'), monthRows.first().locator('a').first().click()]);
    const triggeredRunId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() ?? '');
    await page.selectOption('form[data-action="replay"] select[name="fromStage"]', 'report');
    await page.click('form[data-action="replay"] button[type="submit"]');
    await dialog.waitFor({ state: 'visible' });
    await expect(dialog.textContent()).resolves.toContain('Will run again: report (a stage whose inputs');
    await expect(dialog.textContent()).resolves.toContain(
      'Reused from this run: ingest, clean, features, segment, clv, churn, forecast, experiment, recommend',
    );
    await Promise.all([
      page.waitForURL((url) => url.pathname.startsWith('/runs/') && !url.pathname.endsWith(triggeredRunId)),
      confirm('Replay this run?'),
    ]);
    const replayedRunId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() ?? '');
    const runStatus = page.locator('[data-run-status]');
    await until(
      'the replay to complete',
      async () => (await runStatus.getAttribute('data-run-status').catch(() => null)) === 'COMPLETED',
    );
    expect((await listRuns(DATASET, harness.store)).find((r) => r.runId === replayedRunId)?.replayOf).toBe(
      triggeredRunId,
    );
    await screenshot(page, 'run-replayed');

    // A forced replay from clean, cancelled from its page while it runs.
    await page.selectOption('form[data-action="replay"] select[name="fromStage"]', 'clean');
    await page.check('form[data-action="replay"] input[name="force"]');
    await page.click('form[data-action="replay"] button[type="submit"]');
    await Promise.all([
      page.waitForURL((url) => url.pathname.startsWith('/runs/') && !url.pathname.endsWith(replayedRunId)),
      confirm('Replay this run?'),
    ]);
    const forcedRunId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() ?? '');
    await page.click('form[data-action="cancel"] button[type="submit"]');
    await confirm('Cancel this run?');
    await until('the run to end cancelled', async () =>
      /^CANCELL?ED$/.test((await runStatus.getAttribute('data-run-status').catch(() => null)) ?? ''),
    );
    // Which stages finished before the cancel landed depends on timing (clean takes a second here); the
    // page must show the ones that did not as cancelled.
    const stageStatuses = await Promise.all(
      (await page.locator('.stage[data-stage]').all()).map((node) => node.getAttribute('data-status')),
    );
    expect(stageStatuses).toContain('cancelled');
    await screenshot(page, 'run-cancelled');
    expect(errors).toEqual([]);
    await context.close();

    const actions = (await auditEntries())
      .filter((e) => e.user === 'omar' && e.result.ok && ['schedule', 'replay', 'cancel'].includes(e.action))
      .map((e) => [e.action, e.request.action ?? e.request.fromStage ?? e.request.runId]);
    expect(actions).toEqual([
      ['schedule', 'pause'],
      ['schedule', 'unpause'],
      ['schedule', 'trigger'],
      ['replay', 'report'],
      ['replay', 'clean'],
      ['cancel', forcedRunId],
    ]);
  });
});
