// latent4j view: small hand-written SVG and canvas helpers shared by the two pages (no library, no network).
"use strict";
const L4 = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

  function el(tag, attrs, parent) {
    const e = document.createElementNS(NS, tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function text(parent, x, y, s, attrs) {
    const t = el("text", Object.assign({ x: x, y: y }, attrs || {}), parent);
    t.textContent = s;
    return t;
  }

  // About n round tick values covering [lo, hi].
  function ticks(lo, hi, n) {
    if (!(hi > lo)) { hi = lo + 1; }
    const raw = (hi - lo) / Math.max(1, n);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map(m => m * mag).find(s => s >= raw) || raw;
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    return out;
  }

  // A tick label: as many decimals as the step needs, thousands as "k".
  function tickFmt(v, step) {
    if (Math.abs(v) >= 10000 && step >= 1000) return (v / 1000).toFixed(Math.max(0, -Math.floor(Math.log10(step / 1000)))) + "k";
    return v.toFixed(Math.min(6, Math.max(0, -Math.floor(Math.log10(step) + 1e-9))));
  }

  function fmt(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return "n/a";
    const a = Math.abs(v);
    return a !== 0 && (a >= 1e5 || a < 1e-3) ? v.toExponential(2) : (a >= 100 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toFixed(4));
  }

  // A line chart of series [{name, xs, ys, color}] into an <svg> it makes in container; points are circles
  // with class "point" and data-x, data-series (the run page's test reads them).
  function lineChart(container, opt) {
    container.textContent = "";
    const W = opt.width || 520, H = opt.height || 300, m = { l: 64, r: 12, t: 12, b: 40 };
    const svg = el("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}` }, container);
    const all = opt.series.flatMap(s => s.xs.map((x, i) => [x, s.ys[i]])).filter(p => Number.isFinite(p[1]));
    if (all.length === 0) { text(svg, W / 2, H / 2, "no values yet", { "text-anchor": "middle" }); return svg; }
    let x0 = Math.min(...all.map(p => p[0])), x1 = Math.max(...all.map(p => p[0]));
    if (opt.xMax && opt.xMax > x1) x1 = opt.xMax;
    if (x1 === x0) { x0 -= 1; x1 += 1; }
    let y0 = Math.min(...all.map(p => p[1])), y1 = Math.max(...all.map(p => p[1]));
    if (opt.zero) y0 = Math.min(0, y0);
    const pad = (y1 - y0) * 0.06 || Math.abs(y1) * 0.1 || 1;
    y0 -= opt.zero && y0 === 0 ? 0 : pad; y1 += pad;
    const X = x => m.l + (x - x0) / (x1 - x0) * (W - m.l - m.r);
    const Y = y => H - m.b - (y - y0) / (y1 - y0) * (H - m.t - m.b);
    const grid = el("g", { class: "grid" }, svg), axis = el("g", { class: "axis" }, svg);
    const yt = ticks(y0, y1, 5), ys = yt.length > 1 ? yt[1] - yt[0] : 1;
    for (const v of yt) {
      el("line", { x1: m.l, x2: W - m.r, y1: Y(v), y2: Y(v) }, grid);
      text(axis, m.l - 5, Y(v) + 4, tickFmt(v, ys), { "text-anchor": "end" });
    }
    const xt = ticks(x0, x1, Math.min(10, Math.max(1, Math.round(x1 - x0)))).filter(v => !opt.integerX || Number.isInteger(v));
    for (const v of xt) {
      el("line", { x1: X(v), x2: X(v), y1: H - m.b, y2: H - m.b + 4 }, axis);
      text(axis, X(v), H - m.b + 16, tickFmt(v, xt.length > 1 ? xt[1] - xt[0] : 1), { "text-anchor": "middle" });
    }
    el("path", { d: `M${m.l},${m.t}V${H - m.b}H${W - m.r}`, fill: "none" }, axis);
    if (opt.xlabel) text(svg, (m.l + W - m.r) / 2, H - 6, opt.xlabel, { "text-anchor": "middle" });
    if (opt.ylabel) text(svg, 11, (m.t + H - m.b) / 2, opt.ylabel, { "text-anchor": "middle", transform: `rotate(-90 11 ${(m.t + H - m.b) / 2})` });
    for (const s of opt.series) {
      const g = el("g", { class: "series", "data-series": s.key || s.name }, svg);
      const pts = s.xs.map((x, i) => [x, s.ys[i]]).filter(p => Number.isFinite(p[1]));
      if (pts.length > 1) {
        el("path", { d: "M" + pts.map(p => `${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join("L"), fill: "none", stroke: s.color,
          "stroke-width": 2, "stroke-dasharray": s.dashed ? "5 3" : "" }, g);
      }
      for (const p of pts) {
        const c = el("circle", { class: "point", cx: X(p[0]), cy: Y(p[1]), r: 3, fill: s.color, "data-x": p[0], "data-y": p[1] }, g);
        el("title", {}, c).textContent = `${s.name}, ${opt.xlabel || "x"} ${p[0]}: ${fmt(p[1])}`;
      }
    }
    return svg;
  }

  // Vertical bars of values (labels under them), each coloured by color(i, v).
  function barChart(container, opt) {
    container.textContent = "";
    const v = opt.values, n = v.length, m = { l: 58, r: 10, t: 10, b: opt.labelSpace || 34 };
    // Bars at most 48 px wide: a chart of few values is narrower than asked.
    const W = Math.min(opt.width || 520, Math.max(220, m.l + m.r + 48 * n)), H = opt.height || 220;
    const svg = el("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}` }, container);
    if (n === 0) { text(svg, W / 2, H / 2, "no values", { "text-anchor": "middle" }); return svg; }
    let lo = Math.min(0, ...v.filter(Number.isFinite)), hi = Math.max(0, ...v.filter(Number.isFinite));
    if (opt.min !== undefined) lo = Math.min(lo, opt.min);
    if (opt.max !== undefined) hi = Math.max(hi, opt.max);
    if (hi === lo) hi = lo + 1;
    const Y = y => H - m.b - (y - lo) / (hi - lo) * (H - m.t - m.b);
    const bw = (W - m.l - m.r) / n;
    const axis = el("g", { class: "axis" }, svg);
    const bt = ticks(lo, hi, 4), bs = bt.length > 1 ? bt[1] - bt[0] : 1;
    for (const t of bt) {
      el("line", { x1: m.l - 3, x2: m.l, y1: Y(t), y2: Y(t) }, axis);
      text(axis, m.l - 5, Y(t) + 4, tickFmt(t, bs), { "text-anchor": "end" });
    }
    el("path", { d: `M${m.l},${m.t}V${H - m.b}H${W - m.r}`, fill: "none" }, axis);
    el("line", { x1: m.l, x2: W - m.r, y1: Y(0), y2: Y(0), stroke: "#8c959f" }, axis);
    const every = Math.max(1, Math.ceil(n / 40));
    for (let i = 0; i < n; i++) {
      const y = Number.isFinite(v[i]) ? v[i] : 0;
      const r = el("rect", { class: "bar", x: m.l + i * bw + bw * 0.1, width: Math.max(1, bw * 0.8), y: Math.min(Y(y), Y(0)),
        height: Math.abs(Y(y) - Y(0)), fill: opt.color ? opt.color(i, y) : PALETTE[0], "data-value": v[i] }, svg);
      el("title", {}, r).textContent = `${opt.labels ? opt.labels[i] : i}: ${fmt(v[i])}`;
      if (opt.markers && Number.isFinite(opt.markers[i])) {
        el("line", { x1: m.l + i * bw, x2: m.l + (i + 1) * bw, y1: Y(opt.markers[i]), y2: Y(opt.markers[i]), stroke: "#1f2328", "stroke-width": 2 }, svg);
      }
      if (i % every === 0) {
        const lx = m.l + (i + 0.5) * bw, ly = H - m.b + 12;
        text(svg, lx, ly, opt.labels ? String(opt.labels[i]).slice(0, 12) : String(i + 1),
          opt.rotate ? { "text-anchor": "end", transform: `rotate(-40 ${lx} ${ly})` } : { "text-anchor": "middle" });
      }
    }
    if (opt.line !== undefined) el("line", { x1: m.l, x2: W - m.r, y1: Y(opt.line), y2: Y(opt.line), stroke: "#d62728", "stroke-dasharray": "4 3" }, svg);
    if (opt.xlabel) text(svg, (m.l + W - m.r) / 2, H - 3, opt.xlabel, { "text-anchor": "middle" });
    return svg;
  }

  // The grey level the pages draw value v with: round(255 * clamp((v - lo) / (hi - lo), 0, 1)).
  function grey(v, lo, hi) {
    const t = (v - lo) / (hi - lo);
    return Math.round(255 * Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)));
  }

  // Draws values (width x height, row major) into canvas at one canvas pixel per value; CSS scales it up.
  function greyImage(canvas, values, w, h, lo, hi, scale) {
    canvas.width = w; canvas.height = h;
    canvas.classList.add("pixels");
    canvas.style.width = (w * (scale || 4)) + "px"; canvas.style.height = (h * (scale || 4)) + "px";
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(w, h);
    for (let i = 0; i < w * h; i++) {
      const g = grey(values[i], lo, hi);
      img.data[4 * i] = g; img.data[4 * i + 1] = g; img.data[4 * i + 2] = g; img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    return canvas;
  }

  // The red channel of every canvas pixel (the grey levels drawn), for the browser test.
  function canvasGreys(canvas) {
    const d = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    const out = [];
    for (let i = 0; i < d.length; i += 4) out.push(d[i]);
    return out;
  }

  async function request(url, init) {
    const r = await fetch(url, init);
    const body = await r.json();
    if (!r.ok) throw new Error(body.error || ("HTTP " + r.status));
    return body;
  }
  const getJson = url => request(url, { cache: "no-store" });
  const postJson = (url, body) => request(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

  return { el, text, ticks, tickFmt, fmt, lineChart, barChart, grey, greyImage, canvasGreys, getJson, postJson, PALETTE };
})();
