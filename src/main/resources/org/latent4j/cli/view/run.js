// latent4j view RUN_DIR: polls /api/run (the run's history per epoch) and /api/reconstructions.
"use strict";
(() => {
  const $ = id => document.getElementById(id);
  const LOSS = [
    ["train_neg_elbo", "train -ELBO", 0, false], ["test_neg_elbo", "held-out -ELBO", 0, true],
    ["train_reconstruction", "train reconstruction", 1, false], ["test_reconstruction", "held-out reconstruction", 1, true],
    ["train_kl", "train KL", 2, false], ["test_kl", "held-out KL", 2, true], ["train_penalty", "penalties", 4, false]];
  const SHOWN = new Set(["epoch", "epoch_s", "samples_per_s", "active_units", "kl_per_dimension", "warning", ...LOSS.map(l => l[0])]);
  const hook = window.latent4jRun = { state: null, recon: null, polls: 0, errors: [] };
  let lastKey = "";

  function draw(s) {
    const h = s.history || [];
    const xs = h.map(e => e.epoch);
    $("title").textContent = "latent4j run " + s.run;
    const st = $("status");
    st.textContent = s.status;
    st.className = "badge " + s.status;
    const last = h[h.length - 1];
    $("summary").textContent = (h.length ? `epoch ${h.length}` + (s.epochs_planned ? ` of ${s.epochs_planned}` : "") : "no epoch finished yet")
      + (last && Number.isFinite(last.test_neg_elbo) ? `, held-out -ELBO ${L4.fmt(last.test_neg_elbo)}` : "")
      + (s.seconds ? `, ${L4.fmt(s.seconds)} s` : "") + (s.data ? ` · data ${s.data}` : "");
    const series = LOSS.filter(l => h.some(e => Number.isFinite(e[l[0]]))).map(l => ({
      key: l[0], name: l[1], xs: xs, ys: h.map(e => e[l[0]]), color: L4.PALETTE[l[2]], dashed: l[3], group: l[2] >= 2 ? "klc" : "loss" }));
    for (const g of ["loss", "klc"]) {
      const mine = series.filter(se => se.group === g);
      L4.lineChart($(g), { series: mine, xlabel: "epoch", ylabel: "nats", integerX: true, xMax: s.epochs_planned || 0, zero: g === "klc" });
      $(g + "-legend").innerHTML = "";
      for (const se of mine) {
        const sp = document.createElement("span");
        sp.style.setProperty("--c", se.color);
        sp.textContent = se.name + (se.dashed ? " (dashed)" : "");
        $(g + "-legend").appendChild(sp);
      }
    }
    const klEntry = [...h].reverse().find(e => Array.isArray(e.kl_per_dimension));
    if (klEntry) {
      const kl = klEntry.kl_per_dimension;
      L4.barChart($("kl"), { values: kl, xlabel: "latent dimension", line: 0.01,
        color: (i, v) => v >= 0.01 ? L4.PALETTE[0] : "#afb8c1" });
      $("kl-note").textContent = `epoch ${klEntry.epoch}: ${klEntry.active_units} of ${kl.length} active units `
        + "(posterior mean varies with variance above 0.01); grey bars carry less than 0.01 nats (collapsed); "
        + `${kl.filter(v => v < 0.01).length} collapsed` + (klEntry.warning ? " · " + klEntry.warning : "");
      L4.barChart($("active"), { values: h.map(e => e.active_units), labels: xs, xlabel: "epoch", max: kl.length });
    } else {
      $("kl").textContent = "";
      $("kl-note").textContent = "no KL per dimension: the model has no Gaussian latent";
      $("active").textContent = "not a VAE";
    }
    L4.lineChart($("speed"), { series: [{ key: "samples_per_s", name: "rows per second", xs: xs, ys: h.map(e => e.samples_per_s), color: L4.PALETTE[2] }],
      xlabel: "epoch", ylabel: "rows / s", integerX: true, width: 360, height: 220, zero: true });
    // Any other number the history carries per epoch (e.g. a VQ model's codebook health) gets a chart of its own.
    const extra = $("extra");
    extra.textContent = "";
    const keys = [...new Set(h.flatMap(e => Object.keys(e)))].filter(k => !SHOWN.has(k) && h.some(e => typeof e[k] === "number"));
    for (const k of keys) {
      const card = document.createElement("section");
      card.className = "card";
      card.innerHTML = "<h2></h2><div></div>";
      card.firstChild.textContent = k.replace(/_/g, " ");
      extra.appendChild(card);
      L4.lineChart(card.lastChild, { series: [{ key: k, name: k, xs: xs, ys: h.map(e => e[k]), color: L4.PALETTE[5] }],
        xlabel: "epoch", integerX: true, width: 360, height: 220 });
    }
  }

  function drawRecon(r) {
    const box = $("recon");
    box.textContent = "";
    if (r.message) { box.textContent = r.message; return; }
    $("recon-title").textContent = `Reconstructions of held-out rows by the model of epoch ${r.epoch}`;
    const n = r.inputs.length;
    if (r.width > 0) {
      const grid = document.createElement("div");
      grid.className = "recon-grid";
      grid.style.gridTemplateColumns = `120px repeat(${n}, auto)`;
      for (const [name, rows] of [["input", r.inputs], ["reconstruction", r.outputs]]) {
        const l = document.createElement("div");
        l.className = "label"; l.textContent = name; grid.appendChild(l);
        for (const row of rows) {
          const c = document.createElement("canvas");
          c.dataset.kind = name;
          L4.greyImage(c, row, r.width, r.height, 0, Math.max(1, ...r.inputs.flat()), 3);
          grid.appendChild(c);
        }
      }
      box.appendChild(grid);
    } else {
      const wrap = document.createElement("div");
      wrap.className = "row";
      for (let i = 0; i < Math.min(4, n); i++) {
        const d = document.createElement("div");
        wrap.appendChild(d);
        L4.barChart(d, { values: r.outputs[i], markers: r.inputs[i], xlabel: `row ${i + 1}: reconstruction (bars), input (black marks)`, width: 300, height: 180 });
      }
      box.appendChild(wrap);
    }
  }

  async function poll() {
    try {
      const s = await L4.getJson("/api/run");
      hook.state = s;
      hook.polls++;
      draw(s);
      const key = s.status + ":" + (s.history || []).length;
      if (key !== lastKey) {
        const r = await L4.getJson("/api/reconstructions");
        hook.recon = r;
        drawRecon(r);
        if (!r.message || s.status === "waiting") lastKey = key;
      }
    } catch (e) {
      hook.errors.push(String(e));
      $("summary").textContent = "cannot reach the server: " + e.message;
    }
    setTimeout(poll, hook.state && hook.state.status === "finished" ? 5000 : 1500);
  }
  poll();
})();
