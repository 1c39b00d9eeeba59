/** The report's stylesheet, inlined into the document (no external resource). */

export const CSS = `
:root{--text:#1e293b;--muted:#64748b;--border:#e2e8f0;--bg:#f4f6f9;--card:#fff;--accent:#2f6fdf;--ink:#0f172a}
*{box-sizing:border-box}
html{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{margin:0;background:var(--bg);color:var(--text);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","Liberation Sans",sans-serif}
.wrap{max-width:1100px;margin:0 auto;padding:0 20px}
.masthead{background:var(--ink);color:#fff;padding:28px 0 22px}
.eyebrow{text-transform:uppercase;letter-spacing:.08em;font-size:12px;color:#94a3b8;font-weight:600}
h1{font-size:26px;line-height:1.25;margin:4px 0 10px;font-weight:650;overflow-wrap:break-word}
.meta{display:flex;flex-wrap:wrap;gap:4px 22px;color:#cbd5e1;font-size:13px}
.meta b{color:#fff;font-weight:600}
.toc{margin-top:14px;font-size:13px}
.toc a{color:#93c5fd;text-decoration:none;margin-right:18px}
.page{padding:26px 0 8px}
.page-head{display:flex;align-items:baseline;gap:14px;border-bottom:2px solid var(--ink);padding-bottom:6px;margin-bottom:4px}
.page-head h2{font-size:21px;margin:0;font-weight:650}
.page-head span{color:var(--muted);font-size:13px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px;margin:16px 0}
.kpi{background:var(--card);border:1px solid var(--border);border-radius:8px;padding:12px 14px}
.kpi .label{font-size:11px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em;font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.kpi .value{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums;line-height:1.3;margin-top:2px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.kpi .value.word{font-size:18px;line-height:1.6;text-overflow:clip;overflow:visible;letter-spacing:-.01em}
.kpi .sub{font-size:12px;color:var(--muted)}
.card{background:var(--card);border:1px solid var(--border);border-radius:10px;padding:18px 20px;margin:16px 0;break-inside:avoid}
.card h3{margin:0 0 2px;font-size:16px;font-weight:650}
.card h4{margin:14px 0 6px;font-size:13px;font-weight:650;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.lede{color:var(--muted);margin:0 0 12px;font-size:13px}
.grid2{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:20px;align-items:start}
@media (max-width:900px){.grid2{grid-template-columns:minmax(0,1fr)}}
table{border-collapse:collapse;width:100%;font-size:13px;font-variant-numeric:tabular-nums}
th{text-align:left;font-weight:600;color:var(--muted);font-size:12px;border-bottom:1px solid #cbd5e1;padding:6px 8px;white-space:nowrap}
td{padding:5px 8px;border-bottom:1px solid #eef1f5;vertical-align:top;overflow-wrap:break-word}
table.kv{width:auto;min-width:55%}
table.kv td:first-child{color:var(--muted);padding-right:28px}
tbody tr:nth-child(even){background:#fafbfd}
tr.chosen td{background:#eef4ff;font-weight:600}
.tw{overflow-x:auto}
.nowrap{white-space:nowrap}
td .sub{color:var(--muted);font-size:12px}
.num{text-align:right;white-space:nowrap}
th.num{text-align:right}
code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;background:#f1f5f9;padding:1px 4px;border-radius:4px;overflow-wrap:break-word}
/* only identifiers with no word in them (URIs, run ids) may break anywhere; names wrap at their underscores (<wbr>) */
code.id{overflow-wrap:anywhere}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;font-weight:600;white-space:nowrap}
.ok{background:#dcfce7;color:#166534}.warn{background:#fef3c7;color:#92400e}.bad{background:#fee2e2;color:#991b1b}.neutral{background:#e2e8f0;color:#334155}
.na{background:#f8fafc;border:1px dashed #cbd5e1;color:var(--muted);padding:10px 14px;border-radius:8px;margin:8px 0}
.note{color:var(--muted);font-size:12.5px;margin:8px 0 0}
.error{color:#991b1b;font-size:12.5px}
.warnings{background:#fff7e6;border:1px solid #f0b429;border-left:6px solid #d97706;border-radius:8px;padding:12px 16px;margin:18px 0 0;color:#3d2a00}
.warnings h2{font-size:15px;margin:0 0 6px;color:#92400e}
.warnings ul{margin:0;padding-left:18px;font-size:13.5px}
.warnings code{font-size:12px;color:#92400e}
svg.chart{display:block;max-width:100%;height:auto;font-family:inherit;font-size:11px;margin:4px 0}
.multiples{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:12px;margin:12px 0}
.multiple{border:1px solid var(--border);border-radius:8px;padding:8px 10px}
.multiple h5{margin:0;font-size:14px;font-weight:650;overflow-wrap:break-word}
.multiple .figures{font-size:12px;color:var(--muted);margin:2px 0 2px}
.personas{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:12px;margin-top:12px}
.persona{border:1px solid var(--border);border-left-width:5px;border-radius:8px;padding:10px 14px}
.persona h5{margin:0;font-size:14.5px;font-weight:650;overflow-wrap:break-word}
.persona .figures{font-size:12.5px;color:var(--muted);margin:2px 0 6px;font-variant-numeric:tabular-nums}
.persona p{margin:0 0 6px;font-size:13px}
.persona ul{margin:0;padding-left:18px;font-size:13px}
.stats{display:flex;flex-wrap:wrap;gap:6px 22px;font-size:13px;margin:4px 0 10px}
.stats span{color:var(--muted)}
.stats b{font-variant-numeric:tabular-nums;font-weight:600}
details.appendix>summary{cursor:pointer;font-weight:650;font-size:15px}
details.appendix[open]>summary{margin-bottom:8px}
dl.reasons{margin:10px 0 0;font-size:13px}
dl.reasons dt{margin-top:6px}
dl.reasons dd{margin:2px 0 0 0;color:var(--text)}
footer{color:var(--muted);font-size:12px;padding:18px 0 36px;border-top:1px solid var(--border);margin-top:20px}
@media print{
  body{background:#fff;font-size:12px}
  .masthead{padding:16px 0}
  .page{break-before:page;padding-top:0}
  .page:first-of-type{break-before:auto}
  .card{border-color:#d5dbe3}
  .toc{display:none}
}
@page{size:A4;margin:12mm}
`;
