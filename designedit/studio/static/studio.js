// The studio page: the live render (server-sent events), overlays, the plan, errors, and gestures that the
// server writes into the scene file. Plain ES module, no build step.
import { toCanvas, canvasPerScreen, layerAt, scaleAbout } from "./geometry.js";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const HANDLE_PX = 12; // the resize handle's side on screen

// what the page shows now; window.studio is read by the tests and the bench (times from performance.now())
const studio = (window.studio = {
  state: null, shown: 0, plan: 0, overlays: null, selected: null, drag: null,
  released: null, shownAt: {}, gestures: [],
});

// the token came in the address (?token=); the server has set its cookie, so the address need not keep it
if (new URLSearchParams(location.search).has("token")) history.replaceState(null, "", location.pathname);

function text(node, value) { node.textContent = value; }

function showState(state) {
  studio.state = state;
  $("busy").hidden = !state.busy;
  if (state.scene) text($("scene"), state.scene);
  if (state.status && state.status.line) {
    const s = state.status;
    const parts = [s.at, `${s.seconds.toFixed(2)} s`, `${s.unet_evals} UNet evaluations`, `${s.cache_hits} cache hits`];
    if (s.resumed_at_step != null) parts.push(`resumed at step ${s.resumed_at_step}`);
    text($("status"), `${parts.join(" \u00b7 ")} (${s.renderer})`);
  }
  if (state.picture && state.picture.n !== studio.shown) loadPicture(state.picture.n);
  const failed = Boolean(state.failed);
  $("errors").hidden = !failed;
  document.body.classList.toggle("failed", failed);
  fillList($("error-list"), failed ? state.errors || [] : []);
  const warnings = failed ? [] : state.warnings || [];
  $("warnings").hidden = warnings.length === 0;
  fillList($("warning-list"), warnings);
  if (state.overlays && state.plan_n !== studio.plan) {
    studio.plan = state.plan_n;
    drawOverlays(state.overlays);
    $("plan").src = `/api/plan.svg?n=${state.plan_n}`;
  }
}

function fillList(list, lines) {
  list.replaceChildren(...lines.map((line) => { const li = document.createElement("li"); li.textContent = line; return li; }));
}

function loadPicture(n) {
  const img = new Image();
  img.onload = () => {
    if (n < studio.shown) return; // a later picture was shown meanwhile
    const shownAt = performance.now();
    studio.shown = n;
    studio.shownAt[n] = shownAt;
    const picture = $("picture");
    picture.dataset.n = String(n);
    if ($("before").getAttribute("aria-pressed") !== "true") {
      picture.src = img.src; // already loaded: the swap shows at once
      picture.dataset.showing = "after";
    }
  };
  img.src = `/api/picture?n=${n}`;
}

// ------------------------------------------------------------------ overlays

function pathEl(d, layer) {
  const p = document.createElementNS(SVG, "path");
  p.setAttribute("d", d || "M0 0Z");
  p.setAttribute("fill-rule", "evenodd");
  if (layer) p.dataset.layer = layer;
  return p;
}

function drawOverlays(o) {
  studio.overlays = o;
  const svg = $("overlay");
  svg.setAttribute("viewBox", `0 0 ${o.canvas[0]} ${o.canvas[1]}`);
  $("g-remove").replaceChildren(...(o.remove ? [pathEl(o.remove)] : []));
  $("g-edit").replaceChildren(...(o.edit ? [pathEl(o.edit)] : []));
  $("g-cut").replaceChildren(...o.layers.map((l) => pathEl(l.cut, l.id)));
  $("g-landed").replaceChildren(...o.layers.map((l) => pathEl(l.landed, l.id)));
  $("g-hit").replaceChildren(...o.layers.map((l) => pathEl(l.landed, l.id)));
  if (studio.selected && !o.layers.some((l) => l.id === studio.selected)) studio.selected = null;
  select(studio.selected);
}

function layerInfo(id) { return studio.overlays ? studio.overlays.layers.find((l) => l.id === id) : null; }

function select(id) {
  studio.selected = id;
  for (const p of $("g-landed").children) p.classList.toggle("selected", p.dataset.layer === id);
  $("tools").hidden = !id;
  text($("selected"), id ? `layer ${id}` : "");
  drawHandle();
}

function drawHandle() {
  const g = $("g-handle");
  const info = layerInfo(studio.selected);
  if (!info || !info.box) { g.replaceChildren(); return; }
  const side = HANDLE_PX * canvasPerScreen($("overlay"), studio.overlays.canvas);
  const r = document.createElementNS(SVG, "rect");
  r.setAttribute("x", info.box[2] - side / 2);
  r.setAttribute("y", info.box[3] - side / 2);
  r.setAttribute("width", side);
  r.setAttribute("height", side);
  r.id = "resize-handle";
  g.replaceChildren(r);
}

function preview(id, transform) {
  for (const g of ["g-landed", "g-hit"]) {
    for (const p of $(g).children) if (p.dataset.layer === id) p.setAttribute("transform", transform);
  }
  const handle = $("resize-handle");
  if (handle) handle.setAttribute("transform", transform);
}

// ------------------------------------------------------------------ gestures

function onPointerDown(event) {
  if (!studio.overlays || event.button !== 0) return;
  const svg = $("overlay");
  const at = toCanvas(svg, studio.overlays.canvas, event.clientX, event.clientY);
  let kind = null, layer = null;
  if (event.target.id === "resize-handle") {
    kind = "resize"; layer = studio.selected;
  } else {
    layer = layerAt([...$("g-hit").children], at);
    kind = layer ? "move" : null;
  }
  select(layer);
  if (!kind) return;
  event.preventDefault();
  svg.setPointerCapture(event.pointerId);
  studio.drag = { kind, layer, from: at, to: at, info: layerInfo(layer) };
}

function onPointerMove(event) {
  const drag = studio.drag;
  if (!drag) return;
  drag.to = toCanvas($("overlay"), studio.overlays.canvas, event.clientX, event.clientY);
  if (drag.kind === "move") {
    preview(drag.layer, `translate(${drag.to.x - drag.from.x} ${drag.to.y - drag.from.y})`);
  } else {
    const [cx, cy] = drag.info.centre;
    const s = scaleAbout(drag.info.centre, drag.from, drag.to);
    preview(drag.layer, `translate(${cx} ${cy}) scale(${s}) translate(${-cx} ${-cy})`);
  }
}

function onPointerUp(event) {
  const drag = studio.drag;
  if (!drag) return;
  studio.drag = null;
  studio.released = performance.now();
  drag.to = toCanvas($("overlay"), studio.overlays.canvas, event.clientX, event.clientY);
  if (drag.kind === "move") {
    const dx = drag.to.x - drag.from.x, dy = drag.to.y - drag.from.y;
    if (Math.abs(dx) < 0.5 && Math.abs(dy) < 0.5) { preview(drag.layer, ""); return; }
    send({ kind: "move", layer: drag.layer, dx, dy });
  } else {
    const scale = scaleAbout(drag.info.centre, drag.from, drag.to);
    if (!(scale > 0) || Math.abs(scale - 1) < 0.001) { preview(drag.layer, ""); return; }
    send({ kind: "resize", layer: drag.layer, scale });
  }
}

async function send(gesture) {
  text($("notice"), "");
  const answer = await fetch("/api/gesture", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(gesture),
  });
  const body = await answer.json().catch(() => ({}));
  studio.gestures.push({ gesture, status: answer.status, body });
  if (!answer.ok) {
    text($("notice"), body.error || (body.detail && JSON.stringify(body.detail)) || `refused (${answer.status})`);
  }
  if (!answer.ok || !body.written) preview(gesture.layer, ""); // nothing new will be drawn: put the outline back
}

function toggleBefore() {
  const button = $("before");
  const on = button.getAttribute("aria-pressed") !== "true";
  button.setAttribute("aria-pressed", String(on));
  const picture = $("picture");
  picture.src = on ? `/api/background?n=${studio.shown}` : `/api/picture?n=${studio.shown}`;
  picture.dataset.showing = on ? "before" : "after";
}

function wire() {
  const svg = $("overlay");
  svg.addEventListener("pointerdown", onPointerDown);
  svg.addEventListener("pointermove", onPointerMove);
  svg.addEventListener("pointerup", onPointerUp);
  svg.addEventListener("pointercancel", () => { if (studio.drag) preview(studio.drag.layer, ""); studio.drag = null; });
  $("before").addEventListener("click", toggleBefore);
  $("flip-h").addEventListener("click", () => studio.selected && send({ kind: "flip", layer: studio.selected, axis: "horizontal" }));
  $("flip-v").addEventListener("click", () => studio.selected && send({ kind: "flip", layer: studio.selected, axis: "vertical" }));
  for (const [box, group] of [["show-remove", "g-remove"], ["show-cut", "g-cut"], ["show-landed", "g-landed"], ["show-edit", "g-edit"]]) {
    const apply = () => $(group).classList.toggle("off", !$(box).checked);
    $(box).addEventListener("change", apply);
    apply();
  }
  window.addEventListener("resize", drawHandle);
  const events = new EventSource("/api/events");
  events.addEventListener("state", (e) => showState(JSON.parse(e.data)));
}

wire();
