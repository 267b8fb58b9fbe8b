/* The moral graph explorer: draws the snapshot's values and kept edges with
   cytoscape (installed by npm, served as a static file), filters them by
   context or scenario, and shows a value's card or an edge's counts and
   stories in the side panel. Without cytoscape the page keeps its tables.
   The cytoscape instance is window.mgeGraph. */
(function () {
  "use strict";

  var root = document.getElementById("graph-explorer");
  var select = document.getElementById("context-filter");
  var note = document.getElementById("graph-js-note");
  var status = document.getElementById("graph-status");
  var panel = document.getElementById("graph-panel");
  var keptRows = Array.prototype.slice.call(document.querySelectorAll("#kept-edges tbody tr[data-contexts]"));
  var keptCount = document.getElementById("kept-count");

  // The snapshot select moves to another snapshot straight away.
  Array.prototype.forEach.call(document.querySelectorAll("select[data-navigate]"), function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });

  if (!root) { return; }
  if (typeof window.cytoscape !== "function") {
    if (note) { note.textContent = "The drawing of the graph is not available here; the tables below show everything in it."; }
    return;
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-no-js]"), function (el) { el.hidden = true; });
  root.hidden = false;
  if (status) { status.textContent = "Loading the graph…"; }

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function fixed(x, digits) {
    return typeof x === "number" ? x.toFixed(digits) : "–";
  }

  function selectedContexts(data, choice) {
    var parts = (choice || "").split(":");
    if (parts[0] === "context" && data.contexts[parts[1]]) { return [parts[1]]; }
    if (parts[0] === "scenario") {
      var ids = Object.keys(data.contexts).filter(function (cid) { return data.contexts[cid].scenario === parts[1]; });
      return ids.length ? ids : null;
    }
    return null;
  }

  function scoresFor(data, choice) {
    var parts = (choice || "").split(":");
    if (parts[0] === "context" && data.scores.context[parts[1]]) { return data.scores.context[parts[1]]; }
    if (parts[0] === "scenario" && data.scores.scenario[parts[1]]) { return data.scores.scenario[parts[1]]; }
    var out = {};
    data.nodes.forEach(function (n) { if (typeof n.score === "number") { out[n.id] = n.score; } });
    return out;
  }

  function sizes(scores) {
    var max = 0;
    Object.keys(scores).forEach(function (k) { max = Math.max(max, scores[k]); });
    return function (id) {
      var s = scores[id];
      if (!max || typeof s !== "number") { return 18; }
      return Math.round(18 + 50 * Math.sqrt(s / max));
    };
  }

  // Layers by the longest chain of arrows below a value, so every arrow
  // points upwards: the wisest values on top (kept edges have no cycles).
  function layered(data) {
    var ids = data.nodes.map(function (n) { return n.id; });
    var succ = {}, preds = {}, indegree = {}, level = {};
    ids.forEach(function (id) { succ[id] = []; preds[id] = []; indegree[id] = 0; level[id] = 0; });
    data.edges.forEach(function (e) {
      if (!(e.source in succ) || !(e.target in succ)) { return; }
      succ[e.source].push(e.target);
      preds[e.target].push(e.source);
      indegree[e.target] += 1;
    });
    var queue = ids.filter(function (id) { return indegree[id] === 0; });
    while (queue.length) {
      var id = queue.shift();
      succ[id].forEach(function (t) {
        level[t] = Math.max(level[t], level[id] + 1);
        indegree[t] -= 1;
        if (indegree[t] === 0) { queue.push(t); }
      });
    }
    var layers = [];
    if (!ids.length) { return function () { return { x: 0, y: 0 }; }; }
    ids.forEach(function (id) { (layers[level[id]] = layers[level[id]] || []).push(id); });
    var x = {}, gapX = 230, gapY = 130;
    function place(layer) {
      layer.forEach(function (id, i) { x[id] = (i - (layer.length - 1) / 2) * gapX; });
    }
    function mean(list, fallback) {
      return list.length ? list.reduce(function (sum, id) { return sum + x[id]; }, 0) / list.length : fallback;
    }
    // Connected values first, loose ones at the ends of the bottom row.
    layers[0].sort(function (a, b) { return (succ[b].length > 0) - (succ[a].length > 0); });
    place(layers[0]);
    for (var pass = 0; pass < 2; pass += 1) {
      for (var l = 1; l < layers.length; l += 1) {
        layers[l].sort(function (a, b) { return mean(preds[a], x[a] || 0) - mean(preds[b], x[b] || 0); });
        place(layers[l]);
      }
      layers[0].sort(function (a, b) { return mean(succ[a], x[a]) - mean(succ[b], x[b]); });
      place(layers[0]);
    }
    // A wide layer wraps onto several rows (all above the layer below), so
    // the drawing stays about as wide as it is high.
    var perRow = Math.max(4, Math.ceil(Math.sqrt(ids.length) * 1.2));
    var y = {}, top = 0;
    layers.forEach(function (layer) {
      var rows = Math.ceil(layer.length / perRow);
      layer.forEach(function (id, i) {
        var row = Math.floor(i / perRow), inRow = Math.min(perRow, layer.length - row * perRow);
        x[id] = (i % perRow - (inRow - 1) / 2 + (row % 2 ? 0.5 : 0)) * gapX;
        y[id] = -(top + row) * gapY;
      });
      top += rows;
    });
    return function (node) { return { x: x[node.id()], y: y[node.id()] }; };
  }

  function draw(data) {
    var nodes = {};
    data.nodes.forEach(function (n) { nodes[n.id] = n; });
    var edges = {};
    data.edges.forEach(function (e) { edges[e.id] = e; });
    var size = sizes(scoresFor(data, ""));
    var elements = data.nodes.map(function (n) {
      return { group: "nodes", data: { id: n.id, label: n.title, size: size(n.id) } };
    }).concat(data.edges.map(function (e) {
      return { group: "edges", data: { id: e.id, source: e.source, target: e.target } };
    }));

    var cy = window.cytoscape({
      container: document.getElementById("graph-canvas"),
      elements: elements,
      minZoom: 0.15,
      maxZoom: 3,
      wheelSensitivity: 0.3,
      style: [
        { selector: "node", style: {
          "width": "data(size)", "height": "data(size)", "background-color": "#2f6f4f",
          "label": "data(label)", "font-size": 11, "color": "#1d1d1f", "text-wrap": "wrap", "text-max-width": 130,
          // Beside the circle: arrows arrive from below and leave upwards.
          "text-valign": "center", "text-halign": "right", "text-margin-x": 5,
          "text-background-color": "#fff", "text-background-opacity": 0.8, "text-background-padding": 1,
          "min-zoomed-font-size": 7 } },
        { selector: "edge", style: {
          "width": 1.6, "line-color": "#9aa59f", "target-arrow-color": "#9aa59f", "target-arrow-shape": "triangle",
          "curve-style": "bezier", "arrow-scale": 1.1 } },
        { selector: "node:selected", style: { "background-color": "#b3261e", "border-width": 3, "border-color": "#f2c5c1" } },
        { selector: "edge:selected", style: { "line-color": "#b3261e", "target-arrow-color": "#b3261e", "width": 3.5 } },
        { selector: ".filtered-out", style: { "display": "none" } }
      ],
      layout: { name: "preset", positions: layered(data), fit: true, padding: 30 }
    });
    window.mgeGraph = cy;
    window.mgeGraphData = data;

    function showNode(id) {
      var n = nodes[id];
      if (!n) { return; }
      panel.replaceChildren();
      panel.appendChild(el("p", "Value", { "class": "eyebrow" }));
      panel.appendChild(el("h2", n.title, { id: "panel-title" }));
      panel.appendChild(el("p", n.description));
      if (n.policies.length) {
        panel.appendChild(el("h3", "What it pays attention to"));
        var ul = el("ul", null, { "class": "card-policies" });
        n.policies.forEach(function (p) { ul.appendChild(el("li", p)); });
        panel.appendChild(ul);
      }
      var dl = el("dl");
      dl.appendChild(el("dt", "PageRank"));
      dl.appendChild(el("dd", fixed(n.score, 4), { "data-field": "score" }));
      dl.appendChild(el("dt", "Position"));
      var rank = n.rank ? "rank " + n.rank + " of " + data.nodes.length + (n.too_few_votes ? ", too few votes (" + n.votes + " of " + n.min_votes + ")" : (n.interval_text ? ", " + n.interval_text : "")) : "not ranked";
      dl.appendChild(el("dd", rank, { "data-field": "rank" }));
      if (n.interval && typeof n.interval.top_share === "number") {
        dl.appendChild(el("dt", "First in"));
        dl.appendChild(el("dd", Math.round(n.interval.top_share * 100) + "% of bootstrap samples" + (n.stable ? " (stable)" : "")));
      }
      panel.appendChild(dl);
      var node = cy.getElementById(id);
      var from = node.incomers("node").map(function (m) { return nodes[m.id()].title; });
      var to = node.outgoers("node").map(function (m) { return nodes[m.id()].title; });
      if (to.length) {
        panel.appendChild(el("h3", "Participants found wiser than this"));
        var ulTo = el("ul");
        to.forEach(function (t) { ulTo.appendChild(el("li", t)); });
        panel.appendChild(ulTo);
      }
      if (from.length) {
        panel.appendChild(el("h3", "Found wiser than"));
        var ulFrom = el("ul");
        from.forEach(function (t) { ulFrom.appendChild(el("li", t)); });
        panel.appendChild(ulFrom);
      }
      if (n.admin_url) {
        var p = el("p");
        p.appendChild(el("a", "Provenance in the admin (source cards, merges, approvals)", { href: n.admin_url }));
        panel.appendChild(p);
      }
    }

    function contextText(cid) {
      var c = data.contexts[cid];
      return c ? c.text : "context " + cid;
    }

    function showEdge(id) {
      var e = edges[id];
      if (!e) { return; }
      var a = nodes[e.source], b = nodes[e.target];
      panel.replaceChildren();
      panel.appendChild(el("p", "Transition", { "class": "eyebrow" }));
      panel.appendChild(el("h2", a.title + " → " + b.title, { id: "panel-title" }));
      panel.appendChild(el("p", "Participants agreed that “" + b.title + "” is wiser than “" + a.title + "”.", { "class": "meta" }));
      var dl = el("dl");
      [["Wiser", e.counts.wiser], ["Not wiser", e.counts.not_wiser], ["Not sure", e.counts.unsure],
       ["Less wise (yes on the reverse)", e.counts.less_wise], ["Impressions", e.counts.impressions],
       ["Likelihood", fixed(e.likelihood, 3)], ["Entropy", fixed(e.entropy, 3)]].forEach(function (row) {
        dl.appendChild(el("dt", row[0]));
        dl.appendChild(el("dd", row[1] === undefined ? "–" : row[1]));
      });
      panel.appendChild(dl);
      panel.appendChild(el("h3", "Contexts"));
      var ul = el("ul");
      e.contexts.forEach(function (cid) { ul.appendChild(el("li", contextText(cid))); });
      panel.appendChild(ul);
      panel.appendChild(el("h3", e.stories.length > 1 ? "Stories" : "Story"));
      if (!e.stories.length) {
        panel.appendChild(el("p", "No active story for this direction.", { "class": "meta" }));
      }
      e.stories.forEach(function (s) {
        var fig = el("figure", null, { "class": "story" });
        fig.appendChild(el("figcaption", contextText(s.context)));
        fig.appendChild(el("blockquote", s.text));
        panel.appendChild(fig);
      });
    }

    function clearPanel() {
      panel.replaceChildren(el("p", "Click a value or an arrow to read it here.", { "class": "meta" }));
    }

    cy.on("tap", "node", function (evt) { showNode(evt.target.id()); });
    cy.on("tap", "edge", function (evt) { showEdge(evt.target.id()); });
    cy.on("tap", function (evt) { if (evt.target === cy) { clearPanel(); } });

    function applyFilter(choice) {
      var chosen = selectedContexts(data, choice);
      var resize = sizes(scoresFor(data, chosen ? choice : ""));
      var shownEdges = 0;
      cy.batch(function () {
        cy.edges().forEach(function (edge) {
          var e = edges[edge.id()];
          var show = !chosen || e.contexts.some(function (c) { return chosen.indexOf(c) >= 0; });
          edge.toggleClass("filtered-out", !show);
          if (show) { shownEdges += 1; }
        });
        cy.nodes().forEach(function (node) {
          var visible = !chosen || node.connectedEdges().some(function (edge) { return !edge.hasClass("filtered-out"); });
          node.toggleClass("filtered-out", !visible);
          node.data("size", resize(node.id()));
        });
      });
      var rowsShown = 0;
      keptRows.forEach(function (row) {
        var ids = (row.getAttribute("data-contexts") || "").split(" ");
        var show = !chosen || ids.some(function (c) { return chosen.indexOf(c) >= 0; });
        row.hidden = !show;
        if (show) { rowsShown += 1; }
      });
      if (keptCount) { keptCount.textContent = chosen ? rowsShown + " of " + keptRows.length : String(keptRows.length); }
      if (status) {
        status.textContent = data.nodes.length + " values, " + shownEdges + " of " + data.edges.length + " kept edges shown" +
          (chosen ? " for " + (select.options[select.selectedIndex] || {}).text : "") + ".";
      }
      cy.fit(cy.elements(":visible"), 30);
      if (cy.zoom() > 1.3) {  // a small graph: readable, not blown up
        cy.zoom(1.3);
        cy.center(cy.elements(":visible"));
      }
      var url = new URL(window.location.href);
      if (choice) { url.searchParams.set("context", choice); } else { url.searchParams.delete("context"); }
      window.history.replaceState(null, "", url);
    }

    if (select) {
      select.addEventListener("change", function () { applyFilter(select.value); });
      applyFilter(select.value);
    } else {
      applyFilter("");
    }

    Array.prototype.forEach.call(document.querySelectorAll("[data-node]"), function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var id = button.getAttribute("data-node");
        cy.elements().unselect();
        cy.getElementById(id).select();
        showNode(id);
        root.scrollIntoView({ behavior: "smooth", block: "start" });
      });
    });
    if (note) { note.textContent = "Drag to move, scroll to zoom. The tables below show the same graph."; }
  }

  fetch(root.getAttribute("data-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    })
    .then(draw)
    .catch(function (err) {
      root.hidden = true;
      if (note) { note.textContent = "The graph could not be drawn (" + err.message + "); the tables below show everything in it."; }
    });
})();
