// latent4j view --model: the 2-D map of the data's codes; clicks and drags are decoded in the JVM (/api/decode).
"use strict";
(async () => {
  const $ = id => document.getElementById(id);
  const info = await L4.getJson("/api/model");
  const map = $("map"), ctx = map.getContext("2d");
  const pts = info.points, n = pts.length, dim = info.latent_dim;
  const isImage = info.width > 0;
  const lo = info.value_min, hi = info.value_max;
  const scores = info.scores || null;
  // Page-side state and the hooks the browser test reads.
  const hook = window.latent4jView = { info: info, seq: 0, last: null, strip: null, roundTripsMs: [], errors: [] };

  $("title").textContent = "latent4j latent explorer: " + info.model;
  $("summary").textContent = `${info.kind}, ${info.input_dim} features, ${dim}-d latent; map: ${info.projection}; ${n} rows`;
  $("map-title").textContent = n ? `The codes of ${n} rows` + (scores ? ", coloured by anomaly score" : info.labels ? ", coloured by label" : "")
    : "The latent plane (no --data: no rows to map)";

  // Map frame: the points' box with a margin, or +-3 (the prior's bulk) without data.
  const M = 36;
  let u0 = -3, u1 = 3, v0 = -3, v1 = 3;
  if (n) {
    u0 = Math.min(...pts.map(p => p[0])); u1 = Math.max(...pts.map(p => p[0]));
    v0 = Math.min(...pts.map(p => p[1])); v1 = Math.max(...pts.map(p => p[1]));
    const du = (u1 - u0) * 0.05 || 1, dv = (v1 - v0) * 0.05 || 1;
    u0 -= du; u1 += du; v0 -= dv; v1 += dv;
  }
  const W = map.width, H = map.height;
  const sx = u => M + (u - u0) / (u1 - u0) * (W - 2 * M);
  const sy = v => H - M - (v - v0) / (v1 - v0) * (H - 2 * M);
  const mu = x => u0 + (x - M) / (W - 2 * M) * (u1 - u0);
  const mv = y => v0 + (H - M - y) / (H - 2 * M) * (v1 - v0);

  // The code a map point stands for: mean + u c1 + v c2 (a projection), else (u, v, 0, ...).
  function codeAt(u, v) {
    if (info.components) return info.mean.map((m, j) => m + u * info.components[0][j] + v * info.components[1][j]);
    const z = new Array(dim).fill(0);
    z[0] = u; if (dim > 1) z[1] = v;
    return z;
  }

  // Colours: by score (blue to red through yellow), else by label, else one colour.
  let threshold = info.detector ? info.detector.threshold : NaN;
  let sMin = 0, sMax = 1;
  if (scores) {
    const sorted = [...scores].sort((a, b) => a - b);
    sMin = sorted[0]; sMax = sorted[sorted.length - 1];
    if (!Number.isFinite(threshold)) threshold = sorted[Math.floor(0.95 * (sorted.length - 1))];
  }
  function scoreColour(s) {
    const t = Math.min(1, Math.max(0, (s - sMin) / ((sMax - sMin) || 1)));
    const stops = [[49, 54, 149], [116, 173, 209], [254, 224, 144], [244, 109, 67], [165, 0, 38]];
    const x = t * (stops.length - 1), i = Math.min(stops.length - 2, Math.floor(x)), f = x - i;
    const c = stops[i].map((a, k) => Math.round(a + f * (stops[i + 1][k] - a)));
    return `rgb(${c[0]},${c[1]},${c[2]})`;
  }
  const colour = i => scores ? scoreColour(scores[i]) : info.labels ? L4.PALETTE[((info.labels[i] % 10) + 10) % 10] : L4.PALETTE[0];

  let a = null, b = null;   // the picked points: {code, x, y, row}
  function drawMap() {
    ctx.clearRect(0, 0, W, H);
    ctx.strokeStyle = "#d1d9e0"; ctx.lineWidth = 1;
    ctx.strokeRect(M, M, W - 2 * M, H - 2 * M);
    ctx.fillStyle = "#59636e"; ctx.font = "12px system-ui, sans-serif"; ctx.textAlign = "center";
    ctx.fillText(info.x_axis, W / 2, H - 10);
    const ut = L4.ticks(u0, u1, 6), vt = L4.ticks(v0, v1, 6);
    for (const t of ut) { ctx.fillText(L4.tickFmt(t, ut[1] - ut[0] || 1), sx(t), H - M + 14); }
    ctx.save(); ctx.translate(12, H / 2); ctx.rotate(-Math.PI / 2); ctx.fillText(info.y_axis, 0, 0); ctx.restore();
    ctx.textAlign = "right";
    for (const t of vt) { ctx.fillText(L4.tickFmt(t, vt[1] - vt[0] || 1), M - 4, sy(t) + 4); }
    const order = scores ? [...Array(n).keys()].sort((p, q) => scores[p] - scores[q]) : [...Array(n).keys()];
    ctx.globalAlpha = 0.75;
    for (const i of order) {
      const flagged = scores && scores[i] > threshold;
      ctx.fillStyle = colour(i);
      ctx.beginPath(); ctx.arc(sx(pts[i][0]), sy(pts[i][1]), flagged ? 3.6 : 2.2, 0, 2 * Math.PI); ctx.fill();
      if (flagged) { ctx.strokeStyle = "#1f2328"; ctx.lineWidth = 1; ctx.stroke(); }
    }
    ctx.globalAlpha = 1;
    for (const [p, name] of [[a, "A"], [b, "B"]]) {
      if (!p) continue;
      ctx.strokeStyle = "#000"; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.moveTo(p.x - 8, p.y); ctx.lineTo(p.x + 8, p.y); ctx.moveTo(p.x, p.y - 8); ctx.lineTo(p.x, p.y + 8); ctx.stroke();
      ctx.fillStyle = "#000"; ctx.textAlign = "left"; ctx.font = "bold 13px system-ui, sans-serif"; ctx.fillText(name, p.x + 7, p.y - 7);
    }
    if (a && b) {
      ctx.setLineDash([4, 3]); ctx.strokeStyle = "#000"; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(a.x, a.y); ctx.lineTo(b.x, b.y); ctx.stroke(); ctx.setLineDash([]);
    }
  }

  // Legend and the detector's slider.
  if (scores) {
    $("detector").hidden = false;
    const sl = $("threshold");
    sl.min = sMin; sl.max = sMax; sl.step = (sMax - sMin) / 1000 || 1; sl.value = threshold;
    const upd = () => {
      const k = scores.filter(s => s > threshold).length;
      $("threshold-value").textContent = L4.fmt(threshold) + (info.detector && Number.isFinite(info.detector.threshold)
        && threshold === info.detector.threshold ? " (the detector's)" : "");
      $("flagged").textContent = `${k} of ${n} rows score above it (${info.detector.score}); ringed on the map`;
    };
    sl.addEventListener("input", () => { threshold = Number(sl.value); upd(); drawMap(); });
    upd();
    $("legend").innerHTML = `<span style="--c:${scoreColour(sMin)}">low score ${L4.fmt(sMin)}</span><span style="--c:${scoreColour(sMax)}">high ${L4.fmt(sMax)}</span>`;
  } else if (info.labels) {
    const classes = [...new Set(info.labels)].sort((p, q) => p - q);
    for (const c of classes.slice(0, 20)) {
      const sp = document.createElement("span");
      sp.style.setProperty("--c", L4.PALETTE[((c % 10) + 10) % 10]);
      sp.textContent = info.class_names && info.class_names[c] ? info.class_names[c] : "class " + c;
      $("legend").appendChild(sp);
    }
  }

  // Drawing a decoded row: an image, or bars (with the picked row's values as black marks).
  function drawRow(box, values, scale, marks) {
    box.textContent = "";
    if (isImage) {
      const c = document.createElement("canvas");
      L4.greyImage(c, values, info.width, info.height, lo, hi, scale);
      box.appendChild(c);
      return c;
    }
    L4.barChart(box, { values: values, markers: marks, labels: info.feature_names, rotate: !!info.feature_names,
      labelSpace: info.feature_names ? 70 : 34, width: Math.max(320, Math.min(900, 24 * values.length)), height: 240,
      min: lo, max: hi, xlabel: info.feature_names ? "" : "feature" });
    return box.firstChild;
  }

  // Decoding: one request in flight at a time; a drag keeps only its latest point while waiting.
  let busy = false, pending = null;
  async function decode(p) {
    if (busy) { pending = p; return; }
    busy = true;
    try {
      const t0 = performance.now();
      const r = await L4.postJson("/api/decode", { codes: [p.code] });
      const rt = performance.now() - t0;
      hook.roundTripsMs.push(rt);
      const seq = ++hook.seq;
      const shown = drawRow($("decoded"), r.outputs[0], isImage ? 7 : 1, p.row !== null && p.input ? p.input : undefined);
      hook.last = { seq: seq, code: p.code, row: p.row, map: [p.u, p.v], outputs: r.outputs[0], decodeMs: r.decode_ms, roundTripMs: rt };
      hook.decodedCanvas = isImage ? shown : null;
      $("code").textContent = "z = [" + p.code.map(v => v.toFixed(3)).join(", ") + "]" + (p.row !== null ? `  (row ${p.row}'s code)` : "");
      $("latency").textContent = `decoded in the JVM in ${r.decode_ms.toFixed(2)} ms` + (p.fromLink ? " (picked by the page's address)"
        : `; ${rt.toFixed(1)} ms from click to answer`);
    } catch (e) {
      hook.errors.push(String(e));
      $("latency").textContent = "decode failed: " + e.message;
    } finally {
      busy = false;
      if (pending) { const q = pending; pending = null; decode(q); }
    }
  }

  async function showRow(p) {
    if (p.row === null) { $("input-box").hidden = true; $("contrib-box").hidden = true; return; }
    const r = await L4.getJson("/api/row?i=" + p.row);
    p.input = r.input;
    $("input-box").hidden = false;
    const lab = r.label !== undefined ? ", " + (info.class_names && info.class_names[r.label] ? info.class_names[r.label] : "class " + r.label) : "";
    $("input-title").textContent = `row ${p.row}${lab}` + (r.score !== undefined ? `, score ${L4.fmt(r.score)}` : "");
    drawRow($("input"), r.input, isImage ? 7 : 1);
    if (r.contributions) {
      $("contrib-box").hidden = false;
      $("contrib-title").textContent = `Row ${p.row}: each feature's part of its score`;
      const box = $("contrib");
      box.textContent = "";
      if (isImage) {
        const c = document.createElement("canvas");
        L4.greyImage(c, r.contributions, info.width, info.height, 0, Math.max(...r.contributions) || 1, 7);
        box.appendChild(c);
        const top = r.contributions.map((v, i) => [v, i]).sort((x, y) => y[0] - x[0]).slice(0, 5);
        const t = document.createElement("div");
        t.className = "note";
        t.textContent = "brightest = largest part; top pixels (row, column): " + top.map(([v, i]) => `(${Math.floor(i / info.width)}, ${i % info.width}) ${L4.fmt(v)}`).join(", ");
        box.appendChild(t);
      } else {
        L4.barChart(box, { values: r.contributions, labels: info.feature_names, rotate: !!info.feature_names,
          labelSpace: info.feature_names ? 70 : 34, width: Math.max(320, Math.min(900, 24 * r.contributions.length)), height: 200 });
      }
      hook.contributions = r.contributions;
    } else {
      $("contrib-box").hidden = true;
    }
    hook.rowShown = p.row;
  }

  async function strip() {
    if (!a || !b) return;
    try {
      const r = await L4.postJson("/api/interpolate", { a: a.code, b: b.code, steps: 10, how: "linear" });
      hook.strip = r;
      $("strip-box").hidden = false;
      $("strip-title").textContent = `Interpolation from A to B (10 codes on the straight line, decoded in one batch in ${r.decode_ms.toFixed(2)} ms)`;
      const box = $("strip");
      box.textContent = "";
      for (const row of r.outputs) {
        const d = document.createElement("div");
        box.appendChild(d);
        if (isImage) drawRow(d, row, 3);
        else L4.barChart(d, { values: row, width: 150, height: 110, min: lo, max: hi });
      }
    } catch (e) {
      hook.errors.push(String(e));
    }
  }

  // A point of the map under the mouse: a row's dot within 5 px gives that row's code (on a click, not a drag).
  function pick(ev, snap) {
    const rect = map.getBoundingClientRect();
    const x = (ev.clientX - rect.left) * W / rect.width, y = (ev.clientY - rect.top) * H / rect.height;
    let row = null;
    if (snap && n) {
      let best = 25;
      for (let i = 0; i < n; i++) {
        const dx = sx(pts[i][0]) - x, dy = sy(pts[i][1]) - y, d = dx * dx + dy * dy;
        if (d < best) { best = d; row = i; }
      }
    }
    const u = row !== null ? pts[row][0] : mu(x), v = row !== null ? pts[row][1] : mv(y);
    return { x: row !== null ? sx(u) : x, y: row !== null ? sy(v) : y, u: u, v: v, row: row, code: null };
  }

  async function withCode(p) {
    if (p.row !== null) {
      const r = await L4.getJson("/api/row?i=" + p.row);
      p.code = r.code; p.input = r.input;
    } else {
      p.code = codeAt(p.u, p.v);
    }
    return p;
  }

  // A press starts a drag at once (the row under it may take a request to fetch); a move during that wins.
  let dragging = false, moved = false;
  map.addEventListener("mousedown", async ev => {
    const second = ev.shiftKey && a;
    if (!second) { dragging = true; moved = false; }
    const p = await withCode(pick(ev, true));
    if (second) { b = p; drawMap(); strip(); return; }
    if (moved) return;
    a = p; b = null; $("strip-box").hidden = true;
    drawMap(); decode(p); showRow(p);
  });
  map.addEventListener("mousemove", ev => {
    if (!dragging) return;
    moved = true;
    const p = pick(ev, false);
    p.code = codeAt(p.u, p.v);
    a = p; b = null; $("strip-box").hidden = true;
    drawMap(); decode(p);
  });
  window.addEventListener("mouseup", () => {
    if (dragging) { dragging = false; if (moved) showRow(a); }
  });

  // Screen position of row i's dot, and the map point under a screen position (for the browser test).
  hook.screenOf = i => { const r = map.getBoundingClientRect(); return [r.left + sx(pts[i][0]) * r.width / W, r.top + sy(pts[i][1]) * r.height / H]; };
  hook.mapAt = (cx, cy) => { const r = map.getBoundingClientRect(); return [mu((cx - r.left) * W / r.width), mv((cy - r.top) * H / r.height)]; };
  hook.decodedGreys = () => hook.decodedCanvas ? L4.canvasGreys(hook.decodedCanvas) : null;

  drawMap();
  // #a=ROW&b=ROW picks rows at load (for links and screenshots).
  const want = new URLSearchParams(location.hash.slice(1));
  if (want.has("a") && n) {
    const ia = Math.min(n - 1, Math.max(0, Number(want.get("a")) | 0));
    a = await withCode({ x: sx(pts[ia][0]), y: sy(pts[ia][1]), u: pts[ia][0], v: pts[ia][1], row: ia, fromLink: true });
    drawMap(); await decode(a); await showRow(a);
    if (want.has("b")) {
      const ib = Math.min(n - 1, Math.max(0, Number(want.get("b")) | 0));
      b = await withCode({ x: sx(pts[ib][0]), y: sy(pts[ib][1]), u: pts[ib][0], v: pts[ib][1], row: ib });
      drawMap(); await strip();
    }
  }
  hook.ready = true;
})().catch(e => { document.getElementById("summary").textContent = "error: " + e.message; (window.latent4jView = window.latent4jView || { errors: [] }).errors.push(String(e)); });
