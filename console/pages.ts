/**
 * The console's pages, rendered on the server from the same data the CLI prints. Every value goes through
 * `html` (escaped). Live parts (a running run's DAG, the runs list, a backfill) are fragments that the page
 * script re-fetches while they change.
 */
import { STAGE_NAMES, dependenciesOf, downstreamOf, type StageName } from '../lib/stageRegistry';
import type { RunSummary, StageSummary } from '../lib/runTypes';
import { formatDuration } from '../scripts/commands/output';
import type { AuditEntry } from './audit';
import type { Session } from './auth';
import { html, type Html, type HtmlValue } from './html';
import type { DatasetOverview, MonthCell, RunFilter } from './overview';

export interface PageContext {
  session: Session;
  csrfToken: string;
}

const MONTH_LABELS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function layout(
  title: string,
  body: Html,
  options: { page?: PageContext; active?: 'datasets' | 'runs' | 'audit' } = {},
): Html {
  const { page, active } = options;
  const nav = (name: 'datasets' | 'runs' | 'audit', label: string): Html =>
    html`<a href="/${name}" class="${active === name ? 'active' : ''}">${label}</a>`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        ${page ? html`<meta name="csrf-token" content="${page.csrfToken}" />` : ''}
        <title>${title} · custflow</title>
        <link rel="stylesheet" href="/static/console.css" />
        <script src="/static/console.js" defer></script>
      </head>
      <body>
        <header class="top">
          <div class="wrap">
            <a class="brand" href="/">custflow</a>
            ${
              page
                ? html`<nav>${nav('datasets', 'Datasets')}${nav('runs', 'Runs')}${nav('audit', 'Audit')}</nav>
                    <div class="who">
                      <span>${page.session.name}</span
                      ><span class="badge ${page.session.role}">${page.session.role}</span>
                      <form method="post" action="/logout">
                        <input type="hidden" name="_csrf" value="${page.csrfToken}" /><button type="submit">
                          Sign out
                        </button>
                      </form>
                    </div>`
                : ''
            }
          </div>
        </header>
        <main class="wrap">${body}</main>
        <dialog id="confirm">
          <h2></h2>
          <div class="body"></div>
          <div class="actions">
            <button type="button" class="cancel">Cancel</button
            ><button type="button" class="primary">Confirm</button>
          </div>
        </dialog>
      </body>
    </html>`;
}

export function loginPage(options: { error?: string; name?: string; loopbackOnly: boolean }): Html {
  return layout(
    'Sign in',
    html`<div class="card login">
      <h1>Sign in to custflow</h1>
      ${options.error ? html`<div class="error">${options.error}</div>` : ''}
      <form method="post" action="/login">
        <label for="name">Name</label
        ><input id="name" name="name" autocomplete="username" value="${options.name ?? ''}" required />
        <label for="token">Token</label
        ><input id="token" name="token" type="password" autocomplete="current-password" required />
        <button class="primary" type="submit">Sign in</button>
      </form>
      <p class="muted small">
        ${
          options.loopbackOnly
            ? 'No users are configured: use the one-time login link the console printed when it started.'
            : 'Tokens are issued with `custflow console add-user`.'
        }
      </p>
    </div>`,
  );
}

const when = (iso: string | null | undefined): string =>
  iso ? iso.replace('T', ' ').slice(0, 16) + ' UTC' : '–';

export function statusBadge(status: string): Html {
  return html`<span class="badge ${status.toLowerCase()}">${status.toLowerCase()}</span>`;
}

function monthTable(overview: DatasetOverview, operator: boolean): Html {
  const byYear = new Map<string, MonthCell[]>();
  for (const cell of overview.months) {
    const year = cell.month.slice(0, 4);
    byYear.set(year, [...(byYear.get(year) ?? []), cell]);
  }
  const rows = [...byYear.entries()].map(([year, cells]) => {
    const slots = MONTH_LABELS.map((_, i) => {
      const month = `${year}-${String(i + 1).padStart(2, '0')}`;
      const cell = cells.find((c) => c.month === month);
      if (!cell) return html`<td></td>`;
      const title = `${month}: ${cell.state}${cell.runs > 1 ? ` (${cell.runs} runs)` : ''}`;
      const label = MONTH_LABELS[i].slice(0, 3);
      if (operator)
        return html`<td>
          <button
            type="button"
            class="cell ${cell.state}"
            data-month="${month}"
            data-state="${cell.state}"
            title="${title}"
            aria-label="${title}"
          >
            ${label}
          </button>
        </td>`;
      return cell.runId
        ? html`<td>
            <a class="cell ${cell.state}" href="/runs/${cell.runId}" title="${title}" aria-label="${title}"
              >${label}</a
            >
          </td>`
        : html`<td>
            <span class="cell ${cell.state}" title="${title}" aria-label="${title}">${label}</span>
          </td>`;
    });
    return html`<tr>
      <th class="year" scope="row">${year}</th>
      ${slots}
    </tr>`;
  });
  return html`<div class="grid-wrap">
    <table class="months" aria-label="months of ${overview.dataset}">
      <thead>
        <tr>
          <th></th>
          ${MONTH_LABELS.map((m) => html`<th scope="col">${m}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>
  </div>`;
}

const LEGEND = html`<div class="legend">
  <span><span class="cell completed"></span>completed</span
  ><span><span class="cell failed"></span>failed</span> <span><span class="cell running"></span>running</span
  ><span><span class="cell missing"></span>no run</span>
</div>`;

function scheduleControls(overview: DatasetOverview, page: PageContext): HtmlValue {
  if (page.session.role !== 'operator' || !overview.schedule) return '';
  const form = (
    action: 'pause' | 'unpause' | 'trigger',
    label: string,
    question: string,
    detail: string,
  ): Html =>
    html`<form
      class="inline"
      method="post"
      action="/api/schedule"
      data-action="schedule"
      data-confirm="${question}"
      data-confirm-detail="${detail}"
    >
      <input type="hidden" name="_csrf" value="${page.csrfToken}" /><input
        type="hidden"
        name="dataset"
        value="${overview.dataset}"
      /><input type="hidden" name="action" value="${action}" /> <button type="submit">${label}</button>
    </form>`;
  return html`<div class="toolbar">
    <strong>Schedule</strong>
    ${
      overview.schedule.paused
        ? form(
            'unpause',
            'Unpause',
            `Unpause the schedule of ${overview.dataset}?`,
            'It fires again at its next time.',
          )
        : form(
            'pause',
            'Pause',
            `Pause the schedule of ${overview.dataset}?`,
            'No monthly run starts until it is unpaused.',
          )
    }${form(
      'trigger',
      'Trigger now',
      `Run the schedule of ${overview.dataset} now?`,
      'Starts the run of the month before now, as the schedule would; the runs list follows it.',
    )}
  </div>`;
}

export function datasetsPage(overviews: readonly DatasetOverview[], page: PageContext): Html {
  const operator = page.session.role === 'operator';
  const cards = overviews.map((o) => {
    const schedule = o.schedule
      ? html`${o.schedule.paused ? html`<span class="badge paused">paused</span>` : html`<span class="badge completed">active</span>`}
          <span class="small muted">${o.schedule.spec.cron.join(' ')} ${o.schedule.spec.timezone}</span>`
      : html`<span class="muted">none</span>`;
    return html`<section class="card" data-grid="${o.dataset}" id="dataset-${o.dataset}">
      <div class="card-head">
        <h2>${o.dataset}</h2>
        <span class="badge">${o.format ?? 'mixed formats'}</span>
      </div>
      <dl class="facts">
        <div>
          <dt>Last load</dt>
          <dd>${when(o.lastLoadAt)}</dd>
        </div>
        <div>
          <dt>Months with data</dt>
          <dd>${o.months.length ? `${o.months[0].month} to ${o.months[o.months.length - 1].month}` : '–'}</dd>
        </div>
        <div>
          <dt>Last completed month</dt>
          <dd>${o.lastCompletedMonth ?? '–'}</dd>
        </div>
        <div>
          <dt>Schedule</dt>
          <dd>${schedule}</dd>
        </div>
        <div>
          <dt>Next scheduled run</dt>
          <dd>${o.schedule?.paused ? 'paused' : when(o.schedule?.nextRunAt)}</dd>
        </div>
      </dl>
      ${o.problem ? html`<div class="error">${o.problem}</div>` : ''}
      ${o.months.length ? html`${monthTable(o, operator)}${LEGEND}` : ''}
      ${
        operator && o.months.length
          ? html`<div class="toolbar">
              <strong class="selection">Pick months on the grid</strong>
              <label class="small"
                >Concurrency
                <input name="concurrency" type="number" min="1" max="8" value="2" style="width:4rem"
              /></label>
              <button type="button" class="primary" data-launch="backfill" disabled>Backfill…</button>
              <button type="button" data-launch="run" disabled>Run month…</button>
              <button type="button" data-clear>Clear</button>
            </div>`
          : ''
      }
      ${scheduleControls(o, page)}
    </section>`;
  });
  return layout(
    'Datasets',
    html`<h1>Datasets</h1>
      ${operator ? html`<p class="muted">Pick months on a grid to run them: one month runs on its own, several run as a backfill over their range.</p>` : ''}
      ${overviews.length ? cards : html`<div class="card">No datasets yet: load one with <code>custflow data load</code>.</div>`}`,
    { page, active: 'datasets' },
  );
}

export function runsTable(runs: readonly RunSummary[]): Html {
  if (runs.length === 0) return html`<div class="card muted">No runs match.</div>`;
  return html`<div class="table-wrap">
    <table class="list">
      <thead>
        <tr>
          <th>Dataset</th>
          <th>Month</th>
          <th>Status</th>
          <th>Warnings</th>
          <th>Started</th>
          <th>Duration</th>
          <th>Run</th>
        </tr>
      </thead>
      <tbody>
        ${runs.map(
          (r) =>
            html`<tr data-run="${r.runId}" data-month="${r.month}" data-status="${r.status}">
              <td>${r.dataset}</td>
              <td>${r.month}</td>
              <td>${statusBadge(r.status)}</td>
              <td>${r.warnings.length || ''}</td>
              <td>${when(r.startedAt)}</td>
              <td>${formatDuration(r.durationMs)}</td>
              <td><a href="/runs/${r.runId}">${r.runId}</a></td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

export function runsPage(
  runs: readonly RunSummary[],
  filter: RunFilter,
  datasets: readonly string[],
  page: PageContext,
  fragmentUrl: string,
  /** Whether the list is still changing (a run is running, or a triggered run is awaited). */
  live: boolean,
): Html {
  const statuses = ['', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELED', 'TERMINATED'];
  return layout(
    'Runs',
    html`<h1>Runs</h1>
      <form class="filters" method="get" action="/runs">
        <label
          >Dataset<select name="dataset">
            <option value="">all</option>
            ${datasets.map((d) => html`<option value="${d}" ${d === filter.dataset ? html`selected` : ''}>${d}</option>`)}
          </select></label
        >
        <label
          >Status<select name="status">
            ${statuses.map((s) => html`<option value="${s}" ${s === (filter.status ?? '').toUpperCase() ? html`selected` : ''}>${s ? s.toLowerCase() : 'any'}</option>`)}
          </select></label
        >
        <label>Month<input name="month" type="month" value="${filter.month ?? ''}" /></label>
        <button type="submit">Filter</button>
      </form>
      <div data-live="${fragmentUrl}" data-live-now="${live ? '1' : '0'}">${runsTable(runs)}</div>`,
    { page, active: 'runs' },
  );
}

/** Columns of the DAG: a stage sits one column right of the deepest stage it reads. */
function dagColumns(): StageName[][] {
  const depth = new Map<StageName, number>();
  for (const stage of STAGE_NAMES) {
    const deps = dependenciesOf(stage);
    depth.set(stage, deps.length ? Math.max(...deps.map((d) => depth.get(d) ?? 0)) + 1 : 0);
  }
  const columns: StageName[][] = [];
  for (const stage of STAGE_NAMES) (columns[depth.get(stage) ?? 0] ??= []).push(stage);
  return columns;
}

function stageCard(runId: string, stage: StageName, entry: StageSummary | undefined): Html {
  const status = entry?.status ?? 'pending';
  const reads = dependenciesOf(stage).join(', ');
  const outputs = Object.keys(entry?.outputs ?? {});
  return html`<div class="stage ${status}" data-stage="${stage}" data-status="${status}">
    <div class="name">${stage} ${statusBadge(status)}</div>
    <div class="meta">
      ${entry && entry.durationMs ? formatDuration(entry.durationMs) : ''}${entry?.computedByRunId ? html` · cached from <a href="/runs/${entry.computedByRunId}">${entry.computedByRunId.slice(0, 16)}…</a>` : ''}${entry?.warnings?.length ? ` · ${entry.warnings.length} warning(s)` : ''}
    </div>
    ${reads ? html`<div class="meta">reads ${reads}</div>` : ''}
    ${entry?.error ? html`<div class="meta" style="color:var(--bad)">${entry.error.message}</div>` : ''}
    ${outputs.length ? html`<div class="outputs">${outputs.map((name, i) => html`${i ? ' · ' : ''}<a href="/runs/${runId}/outputs/${stage}/${name}" download>${name}</a>`)}</div>` : ''}
  </div>`;
}

/** The live part of a run page: status line, DAG, warnings. */
export function runDetail(summary: RunSummary): Html {
  const columns = dagColumns();
  return html`<p data-run-status="${summary.status}">
      ${statusBadge(summary.status)}
      <span class="muted"
        >started
        ${when(summary.startedAt)}${summary.durationMs ? ` · took ${formatDuration(summary.durationMs)}` : ''}${summary.replayOf ? html` · replay of <a href="/runs/${summary.replayOf}">${summary.replayOf}</a>` : ''}${summary.attempts?.length ? ` · attempt ${summary.attempts.length + 1}` : ''}</span
      >
    </p>
    ${summary.error ? html`<div class="error">${summary.error.message}</div>` : ''}
    <div class="dag" aria-label="stage DAG">
      ${columns.map((stages) => html`<div class="column">${stages.map((s) => stageCard(summary.runId, s, summary.stages[s]))}</div>`)}
    </div>
    ${
      summary.warnings.length
        ? html`<h3>Warnings (${summary.warnings.length}): read these before trusting the numbers</h3>
            <ul class="warnings">
              ${summary.warnings.map((w) => html`<li><strong>${w.stage}</strong> <code>${w.code}</code> ${w.message}</li>`)}
            </ul>`
        : ''
    }`;
}

export function runPage(summary: RunSummary, page: PageContext, links: { temporalUi?: string }): Html {
  const operator = page.session.role === 'operator';
  const report = summary.stages.report;
  const hasReport = Boolean(report?.outputs.html);
  const hasCrm = Boolean(report?.outputs.crm);
  const running = summary.status === 'RUNNING';
  return layout(
    `${summary.dataset} ${summary.month}`,
    html`<h1>${summary.dataset} · ${summary.month}</h1>
      <p class="muted small">
        run
        <code>${summary.runId}</code
        >${links.temporalUi ? html` · <a href="${links.temporalUi}" target="_blank" rel="noopener">Temporal Web UI</a>` : ''}
        · <a href="/api/runs/${summary.runId}">summary JSON</a>
      </p>
      <section class="card">
        <div
          data-live="/runs/${summary.runId}/live"
          data-live-now="${running ? '1' : '0'}"
          data-reload-when-done="1"
        >
          ${runDetail(summary)}
        </div>
      </section>
      ${
        hasReport || hasCrm
          ? html`<section class="card downloads">
              <h2>Downloads</h2>
              <p>
                ${hasReport ? html`<a class="button" href="/runs/${summary.runId}/download/report" download>Report (HTML)</a>` : ''}
                ${hasCrm ? html`<a class="button" href="/runs/${summary.runId}/download/crm" download>CRM export (CSV)</a>` : ''}
              </p>
            </section>`
          : ''
      }
      ${
        operator
          ? html`<section class="card">
              <h2>Actions</h2>
              ${
                running
                  ? html`<div class="toolbar">
                      <form
                        class="inline"
                        method="post"
                        action="/api/cancel"
                        data-action="cancel"
                        data-confirm="Cancel this run?"
                        data-confirm-detail="Stages in flight are cancelled; the run ends CANCELED and can be replayed later."
                      >
                        <input type="hidden" name="_csrf" value="${page.csrfToken}" /><input
                          type="hidden"
                          name="runId"
                          value="${summary.runId}"
                        /><button type="submit" class="danger">Cancel run</button>
                      </form>
                    </div>`
                  : html`<div class="toolbar">
                      <form
                        class="inline"
                        method="post"
                        action="/api/replay"
                        data-action="replay"
                        data-confirm="Replay this run?"
                        data-confirm-detail="Stages before the chosen one reuse this run's outputs; the chosen stage and everything after it run again (cache hits are reused unless forced)."
                      >
                        <input type="hidden" name="_csrf" value="${page.csrfToken}" /><input
                          type="hidden"
                          name="runId"
                          value="${summary.runId}"
                        />
                        <label class="small"
                          >Replay from
                          <select name="fromStage">
                            <option value="" data-reruns="${STAGE_NAMES.join(', ')}">the start</option>
                            ${STAGE_NAMES.map((s) => html`<option value="${s}" data-reruns="${downstreamOf(s).join(', ')}">${s}</option>`)}
                          </select></label
                        >
                        <label class="small"
                          ><input type="checkbox" name="force" value="true" /> force (recompute cache
                          hits)</label
                        >
                        <button type="submit">Replay…</button>
                      </form>
                    </div>`
              }
            </section>`
          : ''
      }
      ${
        hasReport
          ? html`<section class="card">
              <h2>Report</h2>
              <iframe
                class="report"
                src="/runs/${summary.runId}/report"
                title="report of ${summary.dataset} ${summary.month}"
                sandbox="allow-downloads"
              ></iframe>
            </section>`
          : ''
      }`,
    { page, active: 'runs' },
  );
}

export interface BackfillMonthView {
  month: string;
  runId: string | null;
  status: string;
  skipped: boolean;
  error?: string;
}

export function backfillDetail(progress: {
  dataset: string;
  from: string;
  to: string;
  status: string;
  runs: readonly BackfillMonthView[];
}): Html {
  return html`<p>
      ${statusBadge(progress.status)}
      <span class="muted">${progress.dataset}, ${progress.from} to ${progress.to}</span>
    </p>
    <div class="table-wrap">
      <table class="list">
        <thead>
          <tr>
            <th>Month</th>
            <th>Status</th>
            <th>Run</th>
          </tr>
        </thead>
        <tbody>
          ${progress.runs.map(
            (r) =>
              html`<tr data-month="${r.month}" data-status="${r.status}">
                <td>${r.month}</td>
                <td>
                  ${statusBadge(r.skipped ? 'skipped (already completed)' : r.status)}${r.error ? html` <span class="small" style="color:var(--bad)">${r.error}</span>` : ''}
                </td>
                <td>${r.runId ? html`<a href="/runs/${r.runId}">${r.runId}</a>` : ''}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>`;
}

export function backfillPage(
  workflowId: string,
  detail: Html,
  live: boolean,
  page: PageContext,
  uiLink?: string,
): Html {
  return layout(
    'Backfill',
    html`<h1>Backfill</h1>
      <p class="muted small">
        <code>${workflowId}</code
        >${uiLink ? html` · <a href="${uiLink}" target="_blank" rel="noopener">Temporal Web UI</a>` : ''}
      </p>
      <section class="card">
        <div data-live="/backfills/${workflowId}/live" data-live-now="${live ? '1' : '0'}">${detail}</div>
      </section>`,
    { page, active: 'runs' },
  );
}

export function auditPage(entries: readonly AuditEntry[], page: PageContext): Html {
  return layout(
    'Audit',
    html`<h1>Audit log</h1>
      <p class="muted">
        Every action taken in the console, newest first (stored in the bucket under runs/_audit/).
      </p>
      ${
        entries.length
          ? html`<div class="table-wrap">
              <table class="list">
                <thead>
                  <tr>
                    <th>When</th>
                    <th>Who</th>
                    <th>Action</th>
                    <th>Request</th>
                    <th>Result</th>
                  </tr>
                </thead>
                <tbody>
                  ${entries.map(
                    (e) =>
                      html`<tr>
                        <td>${when(e.at)}</td>
                        <td>${e.user} <span class="badge ${e.role}">${e.role}</span></td>
                        <td>${e.action}</td>
                        <td class="wrap-ok small"><code>${JSON.stringify(e.request)}</code></td>
                        <td class="wrap-ok small">
                          ${e.result.ok ? html`<span class="badge completed">ok</span> ${e.result.started ? JSON.stringify(e.result.started) : ''}` : html`<span class="badge failed">${e.result.status}</span> ${e.result.error}`}
                        </td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
          : html`<div class="card muted">Nothing yet.</div>`
      }`,
    { page, active: 'audit' },
  );
}

export function messagePage(title: string, message: string, page?: PageContext): Html {
  return layout(
    title,
    html`<h1>${title}</h1>
      <div class="card">${message}</div>`,
    page ? { page } : {},
  );
}
