// The live console: polls api/status once a second, updates the tiles in place, reloads each stream's frame.
"use strict";
const token = new URLSearchParams(location.search).get("token");
const q = (extra) => { const p = new URLSearchParams(extra || {}); if (token) p.set("token", token); const s = p.toString(); return s ? "?" + s : ""; };
const tiles = new Map();

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

function figure(label) {
  const value = el("b", {}, "-");
  return [el("div", {}, value, el("span", {}, label)), value];
}

function makeTile(s) {
  const tile = el("article", { class: "tile", "data-stream": s.name });
  const title = el("h3", {}, el("span", { class: "name" }, s.name), el("span", { class: "prio" }, s.priority + " · " + s.source));
  const figs = {};
  const grid = el("div", { class: "figures" });
  for (const [key, label] of [["fps_now", "fps (10 s)"], ["fps_avg", "fps avg"], ["completed", "results"],
                              ["p50", "p50 ms"], ["p99", "p99 ms"], ["dropped", "drops"]]) {
    const [box, value] = figure(label); figs[key] = value; grid.append(box);
  }
  const img = el("img", { alt: "latest frame of " + s.name, class: "frame", hidden: "" });
  img.dataset.loads = "0";
  img.onload = () => { img.dataset.loads = String(Number(img.dataset.loads) + 1); img.dataset.busy = ""; };
  img.onerror = () => { img.dataset.busy = ""; };
  const spark = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  spark.setAttribute("viewBox", "0 0 100 40"); spark.setAttribute("preserveAspectRatio", "none");
  spark.style.display = "none";
  const drops = el("div", { class: "drops" });
  const model = el("div", { class: "model" });
  tile.append(title, img, spark, grid, drops, model);
  document.getElementById("streams").append(tile);
  return { tile, figs, img, spark, drops, model, n: 0 };
}

function sparkline(svg, series) {
  const names = Object.keys(series);
  svg.style.display = names.length ? "block" : "none";
  svg.replaceChildren();
  const colours = ["#4cd964", "#5ac8fa", "#ffcc00", "#ff6b5a"];
  names.slice(0, 4).forEach((name, i) => {
    const v = series[name]; if (v.length < 2) return;
    const lo = Math.min(...v), hi = Math.max(...v), span = hi - lo || 1;
    const pts = v.map((y, x) => `${(x / (v.length - 1) * 100).toFixed(1)},${(38 - (y - lo) / span * 36).toFixed(1)}`);
    const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    line.setAttribute("points", pts.join(" ")); line.setAttribute("fill", "none");
    line.setAttribute("stroke", colours[i]); line.setAttribute("stroke-width", "1.2");
    line.setAttribute("vector-effect", "non-scaling-stroke");
    const label = document.createElementNS("http://www.w3.org/2000/svg", "title"); label.textContent = name + " " + v[v.length - 1];
    line.append(label); svg.append(line);
  });
}

function updateTile(s) {
  const t = tiles.get(s.name) || tiles.set(s.name, makeTile(s)).get(s.name);
  const dropped = Object.values(s.drops).reduce((a, b) => a + b, 0);
  const values = { fps_now: s.fps_now.toFixed(1), fps_avg: s.fps_avg.toFixed(1), completed: s.completed,
                   p50: s.latency_ms.p50_ms.toFixed(0), p99: s.latency_ms.p99_ms.toFixed(0), dropped };
  for (const [k, v] of Object.entries(values)) t.figs[k].textContent = String(v);
  const reasons = Object.entries(s.drops).filter(([, n]) => n).map(([r, n]) => `${r} ${n}`);
  t.drops.textContent = reasons.length ? "drops: " + reasons.join(", ") : "no drops";
  const last = Object.entries(s.readings).map(([k, v]) => `${k} ${v[v.length - 1]}`).join(", ");
  t.model.textContent = s.model ? `model ${s.model.name} v${s.model.version} · ${s.detections ?? 0} detections`
                                : (last ? "latest: " + last : "no model");
  t.hasFrame = s.has_frame;
  sparkline(t.spark, s.readings);
}

function updatePanels(st) {
  const lanes = document.getElementById("lanes"); lanes.replaceChildren();
  for (const lane of st.accelerator.lanes) {
    const bar = el("div", { class: "bar" }, el("i", { style: `width:${(lane.busy_ratio * 100).toFixed(1)}%` }));
    lanes.append(el("div", {}, `${lane.name} (${lane.takes}): busy ${(lane.busy_ratio * 100).toFixed(0)}%, ${lane.jobs} jobs`), bar);
  }
  const classes = {};
  for (const s of Object.values(st.accelerator.streams)) classes[s.priority] = (classes[s.priority] || 0) + s.queued;
  lanes.append(el("div", {}, "queued: " + (Object.entries(classes).map(([c, n]) => `${c} ${n}`).join(", ") || "none")));
  const cloud = document.getElementById("cloud"); cloud.replaceChildren();
  if (!st.cloud) { cloud.append("no cloud link configured"); }
  else {
    const up = st.cloud.link.connected;
    cloud.append(el("div", { class: up ? "up" : "down" }, `${st.cloud.link.link || "link"} ${up ? "up" : "down"}`),
      el("div", {}, `outbox: ${st.cloud.outbox.entries ?? "-"} entries, ${st.cloud.outbox.bytes ?? "-"} bytes, ` +
        `oldest ${st.cloud.outbox.oldest_age_s == null ? "-" : st.cloud.outbox.oldest_age_s.toFixed(1) + " s"}`),
      el("div", {}, `committed ${st.cloud.committed}, delivered ${st.cloud.delivered}`));
  }
  const events = document.getElementById("events"); events.replaceChildren();
  for (const e of st.events) {
    const when = new Date(e.ts * 1000).toLocaleTimeString();
    events.append(el("li", {}, `${when} ${e.stream} ${e.kind}: ${JSON.stringify(e.payload).slice(0, 160)}`));
  }
  if (!st.events.length) events.append(el("li", {}, "none yet"));
  updateHistory(st.model_updates);
}

// Model pushes, newest first: received / verified / active / rejected (reason) / rolled_back.
function updateHistory(history) {
  const list = document.getElementById("updates"); list.replaceChildren();
  if (history === null) { list.append(el("li", {}, "model updates are not configured")); return; }
  for (const h of history) {
    const when = new Date(h.ts * 1000).toLocaleTimeString();
    const why = h.reason ? `: ${h.reason}` : "";
    const back = h.restored_version ? ` (now v${h.restored_version})` : "";
    list.append(el("li", { class: `update ${h.state}` }, `${when} ${h.name ?? "?"} v${h.version ?? "?"} ${h.state}${back}${why}`));
  }
  if (!history.length) list.append(el("li", {}, "none yet"));
}

// Frames reload at the server's jpeg_fps at most, each tile only after its previous frame arrived.
let frameEvery = 1000;
function frames() {
  for (const [name, t] of tiles) {
    if (!t.hasFrame || t.img.dataset.busy) continue;
    t.img.hidden = false; t.img.dataset.busy = "1";
    t.img.src = `streams/${encodeURIComponent(name)}/latest.jpg` + q({ n: ++t.n });
  }
  setTimeout(frames, frameEvery);
}

async function poll() {
  try {
    const r = await fetch("api/status" + q(), { cache: "no-store" });
    const st = await r.json();
    document.getElementById("device").textContent = st.device;
    document.getElementById("uptime").textContent = `up ${Math.round(st.uptime_s)} s`;
    document.getElementById("state").textContent = st.ready ? "running" : "starting";
    frameEvery = 1000 / (st.http ? st.http.jpeg_fps : 1);
    for (const [name, t] of tiles) if (!st.streams.some((s) => s.name === name)) { t.tile.remove(); tiles.delete(name); }
    st.streams.forEach(updateTile);
    updatePanels(st);
  } catch (err) {
    document.getElementById("state").textContent = "runtime unreachable";
  }
  setTimeout(poll, 1000);
}
poll();
frames();
