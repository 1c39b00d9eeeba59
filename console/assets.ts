/**
 * The console's stylesheet and its one script, served from /static/ (the pages' CSP allows scripts and
 * styles from the console itself only, so there is no inline script for an injected value to become).
 * Plain CSS and plain browser JavaScript, kept here as text: no front-end build step.
 */
export const CONSOLE_CSS = `
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#f6f8fa; --card:#fff; --accent:#0969da;
  --ok:#1a7f37; --ok-bg:#dafbe1; --bad:#cf222e; --bad-bg:#ffebe9; --run:#0969da; --run-bg:#ddf4ff;
  --miss:#eaeef2; --warn:#9a6700; --warn-bg:#fff8c5; }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
header.top { background:#24292f; color:#fff; }
header.top .wrap { display:flex; flex-wrap:wrap; align-items:center; gap:.5rem 1.25rem; padding:.6rem 1rem; }
header.top .brand { font-weight:700; font-size:1.05rem; color:#fff; letter-spacing:.01em; }
header.top nav { display:flex; gap:1rem; flex:1; }
header.top nav a { color:#d0d7de; padding:.15rem 0; border-bottom:2px solid transparent; }
header.top nav a.active { color:#fff; border-bottom-color:#fd8c73; }
header.top .who { display:flex; align-items:center; gap:.6rem; color:#d0d7de; font-size:.9rem; }
header.top .who form { margin:0; }
.wrap { max-width: 1200px; margin: 0 auto; padding: 1rem; }
h1 { font-size:1.5rem; margin:.4rem 0 1rem; } h2 { font-size:1.15rem; margin:0; } h3 { font-size:1rem; margin:1rem 0 .5rem; }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:1rem 1.1rem; margin-bottom:1rem; }
.card-head { display:flex; flex-wrap:wrap; align-items:center; gap:.5rem 1rem; justify-content:space-between; margin-bottom:.6rem; }
.facts { display:grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap:.4rem 1rem; margin:.2rem 0 .8rem; }
.facts div { min-width:0; } .facts dt { color:var(--muted); font-size:.8rem; } .facts dd { margin:0; font-weight:600; overflow-wrap:anywhere; }
.muted { color:var(--muted); } .small { font-size:.85rem; }
.badge { display:inline-block; padding:.05rem .5rem; border-radius:999px; font-size:.78rem; font-weight:600; background:var(--miss); color:var(--fg); white-space:nowrap; }
.badge.completed, .badge.cached { background:var(--ok-bg); color:var(--ok); }
.badge.failed, .badge.canceled, .badge.terminated, .badge.timed_out { background:var(--bad-bg); color:var(--bad); }
.badge.running { background:var(--run-bg); color:var(--run); }
.badge.operator { background:#fbefff; color:#8250df; } .badge.viewer { background:var(--miss); }
.badge.paused { background:var(--warn-bg); color:var(--warn); }
button, .button { font:inherit; font-size:.9rem; padding:.35rem .8rem; border-radius:6px; border:1px solid var(--line); background:#f6f8fa; color:var(--fg); cursor:pointer; }
button.primary { background:#1f883d; border-color:#1a7f37; color:#fff; font-weight:600; }
button.danger { color:var(--bad); }
button:disabled { opacity:.5; cursor:not-allowed; }
header.top button { background:transparent; color:#d0d7de; border-color:#57606a; padding:.2rem .6rem; }
input, select { font:inherit; font-size:.9rem; padding:.3rem .5rem; border:1px solid var(--line); border-radius:6px; background:#fff; }
form.inline { display:inline-flex; flex-wrap:wrap; gap:.4rem; align-items:center; margin:0; }
.grid-wrap { overflow-x:auto; }
table.months { border-collapse:separate; border-spacing:4px; }
table.months th { font-weight:500; color:var(--muted); font-size:.75rem; text-align:center; }
table.months th.year { text-align:right; padding-right:.3rem; font-size:.85rem; color:var(--fg); }
.cell { display:block; width:2.6rem; height:2rem; border-radius:5px; border:2px solid transparent; background:var(--miss);
  font-size:.7rem; line-height:1.75rem; text-align:center; color:var(--muted); padding:0; cursor:default; }
.cell.completed { background:#4ac26b; color:#fff; } .cell.failed { background:#e5534b; color:#fff; }
.cell.running { background:#54aeff; color:#fff; animation: pulse 1.4s ease-in-out infinite; }
.cell.missing { background: repeating-linear-gradient(45deg, #eaeef2, #eaeef2 4px, #f6f8fa 4px, #f6f8fa 8px); }
table.months td:empty::before { content:''; display:block; width:2.6rem; } /* months without data keep their column's width */
button.cell { cursor:pointer; } button.cell:hover { border-color:#57606a; }
.cell.selected { border-color:#8250df; box-shadow:0 0 0 2px #c297ff; }
@keyframes pulse { 50% { opacity:.55; } }
.legend { display:flex; flex-wrap:wrap; gap:.8rem; font-size:.8rem; color:var(--muted); margin:.4rem 0; }
.legend .cell { display:inline-block; width:1rem; height:1rem; vertical-align:-3px; margin-right:.3rem; }
.toolbar { display:flex; flex-wrap:wrap; gap:.5rem .8rem; align-items:center; padding:.6rem .7rem; background:var(--bg); border-radius:8px; margin-top:.6rem; }
.table-wrap { overflow-x:auto; }
table.list { width:100%; border-collapse:collapse; background:var(--card); }
table.list th, table.list td { text-align:left; padding:.45rem .6rem; border-bottom:1px solid var(--line); white-space:nowrap; }
table.list th { font-size:.8rem; color:var(--muted); font-weight:600; background:var(--bg); }
table.list td.wrap-ok { white-space:normal; }
.filters { display:flex; flex-wrap:wrap; gap:.5rem; align-items:end; margin-bottom:1rem; }
.filters label { display:flex; flex-direction:column; font-size:.8rem; color:var(--muted); gap:.15rem; }
.filters select, .filters input, .filters button { height:2.2rem; box-sizing:border-box; } /* one row: a month input is taller */
.dag { display:flex; gap:.8rem; overflow-x:auto; padding-bottom:.3rem; }
.dag .column { display:flex; flex-direction:column; gap:.6rem; min-width:150px; flex:1; }
.stage { border:1px solid var(--line); border-left:5px solid var(--miss); border-radius:8px; padding:.45rem .6rem; background:#fff; }
.stage.completed, .stage.cached { border-left-color:#4ac26b; } .stage.failed { border-left-color:#e5534b; }
.stage.running { border-left-color:#54aeff; } .stage.skipped { border-left-color:#afb8c1; }
.stage .name { font-weight:600; } .stage .meta { font-size:.78rem; color:var(--muted); }
.stage .outputs { font-size:.78rem; margin-top:.2rem; overflow-wrap:anywhere; }
.warnings { list-style:none; padding:0; margin:0; } .warnings li { background:var(--warn-bg); border-radius:6px; padding:.35rem .6rem; margin-bottom:.35rem; font-size:.88rem; }
.warnings code { color:var(--warn); }
.error { background:var(--bad-bg); color:var(--bad); border-radius:6px; padding:.5rem .7rem; margin:.5rem 0; }
.notice { background:var(--run-bg); border-radius:6px; padding:.5rem .7rem; margin:.5rem 0; }
iframe.report { width:100%; height:80vh; border:1px solid var(--line); border-radius:8px; background:#fff; }
dialog { border:1px solid var(--line); border-radius:10px; max-width:min(560px, 92vw); padding:1.1rem; }
dialog::backdrop { background:rgba(31,35,40,.45); }
dialog .actions { display:flex; gap:.5rem; justify-content:flex-end; margin-top:1rem; }
.login { max-width:380px; margin:8vh auto; }
.login label { display:block; margin:.6rem 0 .2rem; font-size:.9rem; }
.login input { width:100%; }
.login button { margin-top:1rem; width:100%; }
.downloads a.button { display:inline-block; margin:.2rem .4rem .2rem 0; }
@media (max-width: 640px) {
  body { font-size:14px; } .wrap { padding:.7rem; } h1 { font-size:1.25rem; }
  .card { padding:.8rem; }
  .cell { width:1.25rem; height:1.4rem; line-height:1.2rem; font-size:0; border-width:2px; }
  table.months { border-spacing:2px; } table.months td:empty::before { width:1.25rem; }
  table.months th { font-size:.6rem; } table.months th.year { font-size:.7rem; padding-right:.15rem; }
  .dag { flex-direction:column; } .dag .column { min-width:0; }
  header.top nav { order:3; flex-basis:100%; }
  table.list th, table.list td { padding:.4rem .45rem; }
}
`;

export const CONSOLE_JS = `
'use strict';
const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? '';

async function postJson(url, body) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrf, accept: 'application/json' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || response.status + ' ' + response.statusText);
  return data;
}

const dialog = document.getElementById('confirm');
function confirmDialog(title, bodyHtmlNodes) {
  return new Promise((resolve) => {
    if (!dialog) return resolve(window.confirm(title));
    dialog.querySelector('h2').textContent = title;
    const body = dialog.querySelector('.body');
    body.replaceChildren(...bodyHtmlNodes);
    dialog.querySelector('.error')?.remove();
    const ok = dialog.querySelector('button.primary');
    const cancel = dialog.querySelector('button.cancel');
    const done = (value) => { ok.onclick = null; cancel.onclick = null; dialog.close(); resolve(value); };
    ok.onclick = () => done(true);
    cancel.onclick = () => done(false);
    dialog.showModal();
  });
}
function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}
function showError(container, message) {
  container.querySelector('.error')?.remove();
  container.prepend(el('div', message, 'error'));
}

// Month grids: operators pick months; the range from the earliest to the latest picked is what runs.
for (const grid of document.querySelectorAll('[data-grid]')) {
  const dataset = grid.dataset.grid;
  const picked = new Set();
  const toolbar = grid.querySelector('.toolbar');
  const label = toolbar?.querySelector('.selection');
  const backfillButton = toolbar?.querySelector('[data-launch="backfill"]');
  const runButton = toolbar?.querySelector('[data-launch="run"]');
  const range = () => { const months = [...picked].sort(); return { from: months[0], to: months[months.length - 1], count: months.length }; };
  const refresh = () => {
    const r = range();
    for (const cell of grid.querySelectorAll('button.cell')) cell.classList.toggle('selected', picked.has(cell.dataset.month));
    if (!label) return;
    label.textContent = r.count === 0 ? 'Pick months on the grid' : r.from === r.to ? r.from : r.from + ' to ' + r.to + ' (' + r.count + ' picked)';
    if (backfillButton) backfillButton.disabled = r.count === 0;
    if (runButton) runButton.disabled = r.count !== 1;
  };
  for (const cell of grid.querySelectorAll('button.cell')) {
    cell.addEventListener('click', () => { const m = cell.dataset.month; picked.has(m) ? picked.delete(m) : picked.add(m); refresh(); });
  }
  toolbar?.querySelector('[data-clear]')?.addEventListener('click', () => { picked.clear(); refresh(); });
  for (const button of toolbar ? toolbar.querySelectorAll('[data-launch]') : []) {
    button.addEventListener('click', async () => {
      const kind = button.dataset.launch;
      const r = range();
      const concurrency = Number(toolbar.querySelector('input[name="concurrency"]').value);
      try {
        const plan = await (await fetch('/api/plan?' + new URLSearchParams({ dataset, from: r.from, to: r.to }), { headers: { accept: 'application/json' } })).json();
        if (plan.error) throw new Error(plan.error);
        const nodes = [];
        nodes.push(el('p', kind === 'run'
          ? 'Run ' + dataset + ' as of the end of ' + r.from + '.'
          : 'Backfill ' + dataset + ' from ' + r.from + ' to ' + r.to + ', ' + concurrency + ' month(s) at a time.'));
        nodes.push(el('p', 'Will run: ' + (plan.willRun.length ? plan.willRun.join(', ') : 'nothing')));
        if (plan.completed.length) nodes.push(el('p', (kind === 'run'
          ? 'Already completed (stages whose inputs are unchanged are reused from the cache): '
          : 'Already completed, skipped: ') + plan.completed.map((c) => c.month).join(', '), 'muted'));
        if (!(await confirmDialog(kind === 'run' ? 'Start this run?' : 'Start this backfill?', nodes))) return;
        button.disabled = true;
        const started = kind === 'run'
          ? await postJson('/api/run', { dataset, month: r.from })
          : await postJson('/api/backfill', { dataset, from: r.from, to: r.to, concurrency });
        window.location.assign(started.location);
      } catch (error) {
        showError(grid, error.message);
        button.disabled = false;
      }
    });
  }
  refresh();
}

// Where an action lands: another page, or this page again (reloaded, since only a #hash may differ).
function followTo(location) {
  const target = new URL(location || window.location.href, window.location.href);
  if (target.pathname + target.search === window.location.pathname + window.location.search) {
    window.location.hash = target.hash;
    window.location.reload();
  } else window.location.assign(target.href);
}

// Action forms (schedule, replay, cancel): confirm, then post as JSON with the CSRF header, then follow.
for (const form of document.querySelectorAll('form[data-action]')) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = Object.fromEntries(new FormData(form));
    delete body._csrf;
    for (const box of form.querySelectorAll('input[type="checkbox"]')) body[box.name] = box.checked;
    // getAttribute, never form.action or form.dataset: the schedule form has inputs named "action" and
    // "dataset", which the DOM exposes under those very names (form.action is then the input element)
    const message = form.getAttribute('data-confirm');
    const detail = [el('p', form.getAttribute('data-confirm-detail') || '')];
    // a replay says which stages run again and which this run's outputs are reused for
    const stageChoice = form.querySelector('select[name="fromStage"]');
    if (stageChoice) {
      const reruns = (stageChoice.selectedOptions[0]?.getAttribute('data-reruns') || '').split(', ').filter(Boolean);
      const reused = [...stageChoice.options].map((o) => o.value).filter((s) => s && !reruns.includes(s));
      const forced = body.force === true;
      detail.push(el('p', 'Will run again: ' + reruns.join(', ') + (forced ? ' (forced: computed even where the cache has them)' : ' (a stage whose inputs are unchanged is reused from the cache)')));
      detail.push(el('p', 'Reused from this run: ' + (reused.length ? reused.join(', ') : 'nothing'), 'muted'));
    }
    if (message && !(await confirmDialog(message, detail))) return;
    try {
      const result = await postJson(form.getAttribute('action'), body);
      followTo(result.location);
    } catch (error) {
      showError(form.closest('.card') || document.body, error.message);
    }
  });
}

// Live sections: re-fetch the fragment every 2 s while the server says it is still changing.
for (const section of document.querySelectorAll('[data-live]')) {
  const tick = async () => {
    try {
      const response = await fetch(section.dataset.live, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
      if (response.ok) {
        section.innerHTML = await response.text();
        if (response.headers.get('x-live') !== '1') {
          section.removeAttribute('data-live');
          // a run page shows its downloads, report and next actions once the run has ended
          if (section.dataset.reloadWhenDone === '1') window.location.reload();
          return;
        }
      }
    } catch { /* the next tick tries again */ }
    setTimeout(tick, 2000);
  };
  if (section.dataset.liveNow === '1') setTimeout(tick, 2000);
}
`;
