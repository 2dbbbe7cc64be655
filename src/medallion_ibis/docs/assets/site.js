/* medallion-ibis docs: highlight a table's lineage on hover. No dependencies, no network.
   Script errors are recorded on <html data-script-errors>, and a successful start sets
   <html data-ready="yes">, so a headless browser test can tell both apart. */
(function () {
  "use strict";
  var root = document.documentElement;

  window.addEventListener("error", function (event) {
    var seen = root.getAttribute("data-script-errors") || "";
    root.setAttribute("data-script-errors", seen + (event.message || "error") + "; ");
  });

  function reachable(start, next) {
    var found = {};
    var pending = [start];
    while (pending.length) {
      var id = pending.pop();
      (next[id] || []).forEach(function (other) {
        if (!found[other]) {
          found[other] = true;
          pending.push(other);
        }
      });
    }
    return found;
  }

  function wire(svg) {
    var nodes = svg.querySelectorAll(".node");
    var edges = svg.querySelectorAll(".edge");
    var down = {};
    var up = {};
    edges.forEach(function (edge) {
      var from = edge.getAttribute("data-from");
      var to = edge.getAttribute("data-to");
      (down[from] = down[from] || []).push(to);
      (up[to] = up[to] || []).push(from);
    });

    function clear() {
      svg.querySelectorAll(".dimmed, .lit").forEach(function (element) {
        element.classList.remove("dimmed", "lit");
      });
    }

    function light(id) {
      var related = Object.assign({}, reachable(id, down), reachable(id, up));
      related[id] = true;
      nodes.forEach(function (node) {
        var other = node.getAttribute("data-node");
        node.classList.add(related[other] ? "lit" : "dimmed");
      });
      edges.forEach(function (edge) {
        var inside = related[edge.getAttribute("data-from")] && related[edge.getAttribute("data-to")];
        edge.classList.add(inside ? "lit" : "dimmed");
      });
    }

    nodes.forEach(function (node) {
      node.addEventListener("mouseenter", function () { light(node.getAttribute("data-node")); });
      node.addEventListener("mouseleave", clear);
      node.addEventListener("focus", function () { light(node.getAttribute("data-node")); });
      node.addEventListener("blur", clear);
    });
    svg.setAttribute("data-wired", String(nodes.length));
  }

  function start() {
    document.querySelectorAll("svg.lineage").forEach(wire);
    root.setAttribute("data-ready", "yes");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
