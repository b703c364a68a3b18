// The dashboard page: a snapshot over REST, then live updates over one WebSocket.
// Reconnects with ?since=<last seq>&epoch=<hub> and so resumes exactly where it left off.
"use strict";

const WINDOWS = 30;
const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
// What the page has shown and when: a browser test reads it to measure update latency.
const shown = { seq: 0, epoch: "", alerts: {}, windows: 0, latestWindow: null };
window.streamlab = shown;

let chart = null;
let retryMs = 500;

const $ = (selector) => document.querySelector(selector);
const euros = (cents) => (cents / 100).toLocaleString("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const hhmm = (ms) => new Date(ms).toISOString().slice(11, 16);
const clock = (ms) => new Date(ms).toISOString().slice(11, 19);
const el = (tag, attrs = {}, text = "") => {
  const node = document.createElement(tag);
  Object.entries(attrs).forEach(([k, v]) => node.setAttribute(k, v));
  node.textContent = text;
  return node;
};

async function getJSON(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

async function load() {
  const snap = await getJSON(`/api/snapshot?windows=${WINDOWS}`);
  drawChart(snap.chart);
  $("#categories").replaceChildren(...snap.categories.map(categoryItem));
  const newest = snap.categories.map((c) => c.latest).filter(Boolean)
    .sort((a, b) => b.window_start_ms - a.window_start_ms)[0];
  if (newest) showLatest(newest);
  $("#alerts").replaceChildren(...snap.alerts.map((a) => alertItem(a, false)));
  drawHealth(snap.health);
  shown.seq = snap.seq;
  shown.epoch = snap.epoch;  // a restarted dashboard counts anew: it answers this with a reset
  connect();
}

// --8<-- [start:connect]
function connect() {
  setStatus("connecting", "connecting");
  const ws = new WebSocket(`ws://${location.host}/ws?since=${shown.seq}&epoch=${shown.epoch}`);
  ws.onopen = () => { retryMs = 500; setStatus("live", "live"); };
  ws.onmessage = (event) => handle(JSON.parse(event.data), ws);
  ws.onclose = () => {
    setStatus("down", `reconnecting in ${(retryMs / 1000).toFixed(1)}s`);
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 5000);
  };
}

function handle(msg, ws) {
  if (msg.type === "reset") { ws.onclose = null; ws.close(); load(); return; }  // missed too much, or a restart: reload
  if (msg.seq <= shown.seq) return;
  shown.seq = msg.seq;
  if (msg.type === "window") onWindow(msg.data);
  else if (msg.type === "alert") $("#alerts").prepend(alertItem(msg.data, true));
  else if (msg.type === "health") drawHealth(msg.data);
  else if (msg.type === "ack") document.querySelectorAll(`[data-alert-id="${msg.data.alert_id}"]`)
    .forEach((li) => li.classList.add("acknowledged"));
}
// --8<-- [end:connect]

function setStatus(cls, text) {
  const badge = $("#connection");
  badge.className = `status ${cls}`;
  badge.textContent = text;
}

function drawChart(data) {
  const labels = data.window_starts_ms;
  const datasets = Object.entries(data.series).map(([category, cents], i) => ({
    label: category, data: cents.map((c) => c / 100), borderColor: COLORS[i % COLORS.length],
    backgroundColor: COLORS[i % COLORS.length], tension: 0.2, pointRadius: 2,
  }));
  if (chart) chart.destroy();
  chart = new Chart($("#revenue-chart"), {
    type: "line",
    data: { labels, datasets },
    options: {
      animation: false, maintainAspectRatio: false,
      scales: { x: { ticks: { callback: (v, i) => hhmm(labels[i]) } }, y: { title: { display: true, text: "EUR" } } },
      plugins: { legend: { position: "right" } },
    },
  });
}

function onWindow(w) {
  const labels = chart.data.labels;
  let at = labels.indexOf(w.window_start_ms);
  if (at < 0) {
    at = labels.findIndex((start) => start > w.window_start_ms);
    if (at < 0) at = labels.length;
    labels.splice(at, 0, w.window_start_ms);
    chart.data.datasets.forEach((d) => d.data.splice(at, 0, 0));
  }
  let series = chart.data.datasets.find((d) => d.label === w.category);
  if (!series) {
    const color = COLORS[chart.data.datasets.length % COLORS.length];
    series = { label: w.category, data: labels.map(() => 0), borderColor: color, backgroundColor: color, tension: 0.2 };
    chart.data.datasets.push(series);
  }
  series.data[at] = w.revenue_cents / 100;
  while (labels.length > WINDOWS) { labels.shift(); chart.data.datasets.forEach((d) => d.data.shift()); }
  chart.update();
  shown.windows += 1;
  showLatest(w);
  const item = document.querySelector(`#categories [data-category="${w.category}"]`);
  if (item) item.replaceWith(categoryItem({ category: w.category, latest: w }));
  else $("#categories").append(categoryItem({ category: w.category, latest: w }));
}

function showLatest(w) {
  shown.latestWindow = w;
  $("#latest-window").textContent = `latest window ${hhmm(w.window_start_ms)}–${hhmm(w.window_end_ms)} UTC: `
    + `${w.category} ${w.orders} orders, ${w.items} items, ${euros(w.revenue_cents)} EUR`;
}

function categoryItem(c) {
  const latest = c.latest ? `${euros(c.latest.revenue_cents)} EUR at ${hhmm(c.latest.window_start_ms)}` : "no window yet";
  const li = el("li", { "data-category": c.category }, `${c.category} — ${latest}`);
  li.onclick = () => showProducts(c.category);
  return li;
}

async function showProducts(category) {
  const panel = $("#products");
  panel.hidden = false;
  try {
    const body = await getJSON(`/api/categories/${encodeURIComponent(category)}/products?limit=10`);
    const rows = body.products.map(() => el("tr"));
    body.products.forEach((p, i) => rows[i].append(el("td", {}, p.product_id), el("td", {}, p.name || ""),
      el("td", {}, String(p.units ?? 0)), el("td", {}, `${euros(p.revenue_cents ?? 0)} EUR`)));
    const table = el("table");
    const head = el("tr");
    ["product", "name", "units", "revenue"].forEach((h) => head.append(el("th", {}, h)));
    table.append(el("caption", {}, `${category}: products by revenue (Lesson 16 store)`), head, ...rows);
    panel.replaceChildren(table);
  } catch (err) { panel.replaceChildren(el("p", { class: "bad" }, String(err))); }
}

function alertItem(a, live) {
  if (!(a.alert_id in shown.alerts)) shown.alerts[a.alert_id] = Date.now();
  const li = el("li", { "data-alert-id": a.alert_id, class: live ? "new" : "" });
  li.append(el("span", { class: `sev sev-${a.severity}` }, a.severity), a.job  // a platform alert: a job, not a card
    ? ` ${a.rule} · ${a.job} · ${a.restarts} restarts · ${clock(a.ts_ms)}`
    : ` ${a.rule} · ${a.card_id} · ${euros(a.amount_cents)} EUR · ${clock(a.ts_ms)}`);
  if (a.acknowledged) li.classList.add("acknowledged");
  li.onclick = () => showEvidence(a.alert_id);
  return li;
}

async function showEvidence(alertId) {
  const panel = $("#evidence");
  panel.hidden = false;
  try {
    const a = await getJSON(`/api/alerts/${encodeURIComponent(alertId)}`);
    if (a.job) { panel.replaceChildren(el("p", {}, `${a.rule} (${a.severity}): ${a.detail}`)); return; }
    panel.replaceChildren(
      el("p", {}, `${a.rule} (${a.severity}) on ${a.card_id}: ${a.detail}`),
      el("p", {}, `payments: ${a.payment_ids.join(", ")} · countries: ${a.countries.join(" → ")} · `
        + `amount ${euros(a.amount_cents)} EUR`),
      el("p", {}, `other alerts on this card: ${a.card_alerts.map((o) => o.rule).join(", ") || "none"}`));
  } catch (err) { panel.replaceChildren(el("p", { class: "bad" }, String(err))); }
}

function drawHealth(h) {
  if (!h || !h.jobs) return;
  $("#health tbody").replaceChildren(...h.jobs.map((j) => {
    const tr = el("tr", { "data-job": j.job });
    const cp = j.last_checkpoint ? `#${j.last_checkpoint.id}, ${j.last_checkpoint.age_s}s ago` : "–";
    const failure = j.last_failure ? `${j.last_failure_age_s}s ago: ${j.last_failure}` : "–";
    tr.append(el("td", {}, j.name),
      el("td", { class: j.state === "RUNNING" && !j.restart_loop ? "" : "bad" },
        j.restart_loop ? `${j.state}, RESTART LOOP` : j.state),
      el("td", {}, cp), el("td", {}, j.lag === null ? "–" : String(j.lag)),
      el("td", { class: j.restart_loop ? "bad" : "" }, j.restarts === null ? "–" : String(j.restarts)),
      el("td", { class: "failure" }, failure));
    return tr;
  }));
}

load().catch((err) => { setStatus("down", "unavailable"); console.error(err); setTimeout(load, 2000); });
