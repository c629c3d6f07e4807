// SPDX-License-Identifier: Apache-2.0
// The dashboard page: everything inline, nothing fetched but
// /dashboard/data from the daemon itself.
#include "scheduler/api/dashboard.h"

namespace lowcarb::scheduler::api {

namespace {

constexpr std::string_view kPage = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lowcarb dashboard</title>
<style>
  :root { --fg:#1d2b24; --muted:#62726a; --line:#d7e0db; --green:#1f8a4c;
          --red:#c0392b; --bg:#f6f8f7; --win:rgba(31,138,76,.18); }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.4 system-ui, sans-serif; color:var(--fg);
         background:var(--bg); }
  header { padding:12px 20px; background:#17372a; color:#fff;
           display:flex; gap:24px; align-items:baseline; }
  header h1 { font-size:18px; margin:0; }
  header span { color:#b8d4c5; }
  main { padding:12px 20px; display:grid; gap:16px; }
  section { background:#fff; border:1px solid var(--line); border-radius:6px;
            padding:12px 16px; }
  h2 { font-size:15px; margin:0 0 8px; }
  #totals { display:flex; gap:28px; flex-wrap:wrap; }
  #totals div b { display:block; font-size:20px; }
  #totals div span { color:var(--muted); font-size:12px; }
  .zones { display:grid; grid-template-columns:repeat(auto-fit,minmax(420px,1fr));
           gap:12px; }
  .zone h3 { margin:0 0 4px; font-size:14px; }
  .zone .meta { color:var(--muted); font-size:12px; }
  svg { width:100%; height:auto; display:block; }
  svg .axis { stroke:var(--line); }
  svg text { font-size:10px; fill:var(--muted); }
  svg .forecast { fill:none; stroke:#2c6fbb; stroke-width:1.8; }
  svg .observed { fill:none; stroke:#555; stroke-width:1.4;
                  stroke-dasharray:4 3; }
  svg .window { fill:var(--win); stroke:var(--green); }
  svg .window-label { fill:var(--green); font-size:10px; }
  svg .now { stroke:var(--red); stroke-dasharray:3 3; }
  table { border-collapse:collapse; width:100%; font-size:13px; }
  th, td { text-align:left; padding:4px 8px; border-bottom:1px solid var(--line); }
  th { color:var(--muted); font-weight:600; }
  td.num { text-align:right; font-variant-numeric:tabular-nums; }
  .saved { color:var(--green); } .lost { color:var(--red); }
  #status.error { color:var(--red); }
  .legend { font-size:12px; color:var(--muted); }
  .legend i { display:inline-block; width:18px; height:3px; margin:0 4px 3px 10px;
              vertical-align:middle; }
</style>
</head>
<body data-state="loading">
<header><h1>lowcarb</h1><span id="now"></span><span id="status">loading…</span></header>
<main>
  <section><h2>Totals</h2><div id="totals"></div></section>
  <section><h2>Forecast and chosen windows</h2>
    <div class="legend"><i style="background:#2c6fbb"></i>forecast
      <i style="background:#555"></i>observed
      <i style="background:rgba(31,138,76,.4)"></i>job window
      <i style="background:#c0392b"></i>now (gCO2eq/kWh)</div>
    <div class="zones" id="zones"></div></section>
  <section><h2>Queue</h2><table id="queue"><thead><tr><th>job</th><th>name</th>
    <th>state</th><th>zone</th><th>planned start</th><th>deadline</th>
    <th class="num">expected kg</th><th class="num">run-now kg</th></tr></thead>
    <tbody></tbody></table></section>
  <section><h2>Jobs: realized vs run now</h2><table id="jobs"><thead><tr>
    <th>job</th><th>name</th><th>state</th><th>zone</th><th>ran</th>
    <th class="num">kWh</th><th class="num">realized g/kWh</th>
    <th class="num">run-now g/kWh</th><th class="num">realized kg</th>
    <th class="num">run-now kg</th><th class="num">saved kg</th></tr></thead>
    <tbody></tbody></table></section>
</main>
<script>
"use strict";
const TERMINAL = ["succeeded", "failed", "cancelled", "expired", "lost"];
function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}
function svg(tag, attrs, text) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}
function fmtTime(s) { return s ? s.replace("T", " ").replace(/:00Z$/, "Z") : "—"; }
function num(v, digits) {
  return (v === null || v === undefined || isNaN(v)) ? "—" : Number(v).toFixed(digits);
}
function token() {
  const m = /(?:^|[#&])token=([^&]*)/.exec(location.hash);
  return m ? decodeURIComponent(m[1]) : "";
}
function drawZone(zone, jobs, now) {
  const box = el("div", {"class": "zone", "data-zone": zone.zone});
  box.appendChild(el("h3", {}, zone.zone));
  box.appendChild(el("div", {"class": "meta"}, zone.error ? "forecast unavailable: " + zone.error
      : (zone.provider || "") + (zone.stale ? " (stale)" : "")));
  const pts = zone.forecast.filter(p => p.value !== null);
  const obs = zone.observed.filter(p => p.value !== null);
  const mine = jobs.filter(j => j.zone === zone.zone && j.planned_start);
  const times = pts.concat(obs).flatMap(p => [Date.parse(p.start), Date.parse(p.end)]);
  if (!times.length) { box.appendChild(el("p", {}, "no data")); return box; }
  const t0 = Math.min(...times), t1 = Math.max(...times);
  const vals = pts.concat(obs).map(p => p.value);
  const vmax = Math.max(...vals) * 1.1 || 1;
  const W = 600, H = 200, L = 40, R = 10, T = 10, B = 24;
  const x = t => L + (t - t0) / (t1 - t0 || 1) * (W - L - R);
  const y = v => H - B - v / vmax * (H - T - B);
  const s = svg("svg", {viewBox: `0 0 ${W} ${H}`, "data-zone": zone.zone, role: "img"});
  s.appendChild(svg("line", {"class": "axis", x1: L, y1: H - B, x2: W - R, y2: H - B}));
  s.appendChild(svg("line", {"class": "axis", x1: L, y1: T, x2: L, y2: H - B}));
  for (let i = 0; i <= 4; i++) {
    const v = vmax * i / 4;
    s.appendChild(svg("text", {x: 2, y: y(v) + 3}, Math.round(v)));
  }
  for (let i = 0; i <= 4; i++) {
    const t = t0 + (t1 - t0) * i / 4;
    s.appendChild(svg("text", {x: x(t) - 28, y: H - 8},
        new Date(t).toISOString().slice(5, 16).replace("T", " ")));
  }
  for (const j of mine) {
    const a = Date.parse(j.started_at || j.planned_start);
    const b = j.ended_at ? Date.parse(j.ended_at) : a + j.duration_s * 1000;
    const xa = Math.max(L, x(a)), xb = Math.min(W - R, x(b));
    if (xb <= xa) continue;
    s.appendChild(svg("rect", {"class": "window", "data-job": j.id, x: xa, y: T,
                              width: xb - xa, height: H - T - B}));
    s.appendChild(svg("text", {"class": "window-label", x: xa + 2, y: T + 10}, j.name || j.id));
  }
  const path = (list, cls) => {
    if (!list.length) return;
    let d = "";
    for (const p of list) {
      const a = x(Date.parse(p.start)), b = x(Date.parse(p.end)), v = y(p.value);
      d += (d ? "L" : "M") + a.toFixed(1) + "," + v.toFixed(1) + "L" + b.toFixed(1) + "," + v.toFixed(1);
    }
    s.appendChild(svg("path", {"class": cls, d: d, "data-points": list.length}));
  };
  path(obs, "observed");
  path(pts, "forecast");
  const tn = Date.parse(now);
  if (tn >= t0 && tn <= t1) {
    s.appendChild(svg("line", {"class": "now", x1: x(tn), y1: T, x2: x(tn), y2: H - B}));
  }
  box.appendChild(s);
  return box;
}
function row(cells, attrs) {
  const tr = el("tr", attrs);
  for (const c of cells) {
    const td = el("td", c.cls ? {"class": c.cls, "data-field": c.field} : {"data-field": c.field},
                  c.text);
    tr.appendChild(td);
  }
  return tr;
}
function render(d) {
  document.getElementById("now").textContent = "now " + fmtTime(d.now);
  const rep = d.report || {};
  const totals = document.getElementById("totals");
  totals.textContent = "";
  const saved = rep.saved_kg || 0;
  const items = [["jobs", d.jobs.length, 0, "jobs"],
                 ["job_count", rep.job_count || 0, 0, "jobs with energy"],
                 ["kwh", rep.kwh, 3, "kWh"],
                 ["realized_kg", rep.realized_kg, 3, "kg CO2eq realized"],
                 ["counterfactual_kg", rep.counterfactual_kg, 3, "kg if run now"],
                 ["saved_kg", saved, 3, "kg saved"]];
  for (const [field, value, digits, label] of items) {
    const div = el("div", {"data-field": field});
    div.appendChild(el("b", {"class": field === "saved_kg" ? (saved >= 0 ? "saved" : "lost") : ""},
                       num(value, digits)));
    div.appendChild(el("span", {}, label));
    totals.appendChild(div);
  }
  const zones = document.getElementById("zones");
  zones.textContent = "";
  for (const z of d.zones) zones.appendChild(drawZone(z, d.jobs, d.now));
  const queue = document.querySelector("#queue tbody");
  queue.textContent = "";
  for (const j of d.jobs.filter(j => !TERMINAL.includes(j.state))) {
    queue.appendChild(row([
      {field: "id", text: j.id}, {field: "name", text: j.name || ""},
      {field: "state", text: j.state}, {field: "zone", text: j.zone || "—"},
      {field: "planned_start", text: fmtTime(j.planned_start)},
      {field: "deadline", text: fmtTime(j.deadline)},
      {field: "expected_kg", cls: "num", text: num(j.expected_kg, 4)},
      {field: "run_now_kg", cls: "num", text: num(j.run_now_kg, 4)}], {"data-job": j.id}));
  }
  const jobs = document.querySelector("#jobs tbody");
  jobs.textContent = "";
  for (const j of d.jobs.filter(j => j.emissions)) {
    const e = j.emissions;
    const cf = e.kwh > 0 ? e.counterfactual_kg * 1000 / e.kwh : null;
    jobs.appendChild(row([
      {field: "id", text: j.id}, {field: "name", text: j.name || ""},
      {field: "state", text: j.state}, {field: "zone", text: j.zone || "—"},
      {field: "ran", text: fmtTime(j.started_at) + " → " + fmtTime(j.ended_at)},
      {field: "kwh", cls: "num", text: num(e.kwh, 4)},
      {field: "realized_gco2_per_kwh", cls: "num", text: num(e.mean_gco2_per_kwh, 1)},
      {field: "counterfactual_gco2_per_kwh", cls: "num", text: num(cf, 1)},
      {field: "realized_kg", cls: "num", text: num(e.realized_kg, 4)},
      {field: "counterfactual_kg", cls: "num", text: num(e.counterfactual_kg, 4)},
      {field: "saved_kg", cls: "num " + (e.saved_kg >= 0 ? "saved" : "lost"),
       text: num(e.saved_kg, 4)}], {"data-job": j.id}));
  }
}
async function refresh() {
  const status = document.getElementById("status");
  try {
    const r = await fetch("/dashboard/data", {headers: {"Authorization": "Bearer " + token()},
                                              cache: "no-store"});
    if (!r.ok) throw new Error(r.status === 401
        ? "no or wrong token: open /dashboard#token=<token>" : "HTTP " + r.status);
    render(await r.json());
    status.textContent = "updated " + new Date().toISOString().slice(11, 19) + "Z";
    status.className = "";
    document.body.dataset.state = "ready";
  } catch (err) {
    status.textContent = String(err.message || err);
    status.className = "error";
    document.body.dataset.state = "error";
  }
}
refresh();
setInterval(refresh, 30000);
</script>
</body>
</html>
)html";

}  // namespace

std::string_view dashboard_page() { return kPage; }

}  // namespace lowcarb::scheduler::api
