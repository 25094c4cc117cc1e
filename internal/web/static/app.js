// Ryorin UI behaviour. Everything works without this file (plain forms and
// links); it adds drag-and-drop on the deal board, the phone menu, select-all
// and confirmations.
(function () {
  "use strict";
  var $ = function (s, r) { return (r || document).querySelector(s); };
  var $$ = function (s, r) { return Array.prototype.slice.call((r || document).querySelectorAll(s)); };

  // Phone: open and close the side navigation.
  var toggle = $(".menu-toggle"), side = $(".side");
  if (toggle && side) {
    toggle.addEventListener("click", function () { side.classList.toggle("open"); });
  }

  // Keyboard: "/" jumps to the global search, as in most web apps.
  document.addEventListener("keydown", function (e) {
    var t = e.target, tag = t && t.tagName;
    if (e.key === "/" && !e.ctrlKey && !e.metaKey && tag !== "INPUT" && tag !== "TEXTAREA" && tag !== "SELECT" && !t.isContentEditable) {
      var q = $("input.search");
      if (q) { e.preventDefault(); q.focus(); }
    }
  });

  // The printable quote's print button.
  $$("[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });

  // Confirm destructive actions.
  $$("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      var n = $$("input[name=id]:checked", f).length || $$("input[name=id]:checked").length;
      var msg = f.getAttribute("data-confirm").replace("{n}", n);
      if (!window.confirm(msg)) { e.preventDefault(); }
    });
  });

  // Lists: select all rows, and show the bulk bar when something is selected.
  var all = $("input[data-select-all]");
  function syncBulk() {
    var n = $$("input[name=id]:checked").length, bar = $(".bulkbar");
    if (bar) {
      bar.hidden = n === 0;
      var c = $(".bulkbar .count");
      if (c) { c.textContent = c.getAttribute("data-tpl").replace("{n}", n); }
    }
  }
  if (all) {
    all.addEventListener("change", function () {
      $$("input[name=id]").forEach(function (c) { c.checked = all.checked; });
      syncBulk();
    });
  }
  $$("input[name=id]").forEach(function (c) { c.addEventListener("change", syncBulk); });
  syncBulk();

  // Bulk forms carry the selected ids from the table (the checkboxes sit
  // outside the form so the table stays a table).
  $$("form.bulk").forEach(function (f) {
    f.addEventListener("submit", function () {
      $$("input[type=hidden][name=id]", f).forEach(function (h) { h.remove(); });
      $$("input[name=id]:checked").forEach(function (c) {
        var h = document.createElement("input");
        h.type = "hidden"; h.name = "id"; h.value = c.value; f.appendChild(h);
      });
    });
  });

  // Activity logger: show the call outcome only for calls, the due date only for tasks.
  $$(".logbox").forEach(function (box) {
    function sync() {
      var k = ($("input[name=kind]:checked", box) || {}).value;
      $$("[data-for]", box).forEach(function (el) {
        el.hidden = el.getAttribute("data-for").split(" ").indexOf(k) < 0;
      });
    }
    $$("input[name=kind]", box).forEach(function (r) { r.addEventListener("change", sync); });
    sync();
  });

  // Deal board: drag a card to another column. The move is an ordinary form
  // POST (the same one the per-card "move to" select submits), sent with
  // fetch; the page reloads so totals stay right.
  var dragged = null;
  $$(".card[draggable]").forEach(function (card) {
    card.addEventListener("dragstart", function (e) {
      dragged = card; card.classList.add("dragging");
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", card.getAttribute("data-id"));
    });
    card.addEventListener("dragend", function () { card.classList.remove("dragging"); dragged = null; });
  });
  $$(".col[data-stage]").forEach(function (col) {
    col.addEventListener("dragover", function (e) { if (dragged) { e.preventDefault(); col.classList.add("drop"); } });
    col.addEventListener("dragleave", function () { col.classList.remove("drop"); });
    col.addEventListener("drop", function (e) {
      e.preventDefault(); col.classList.remove("drop");
      if (!dragged) { return; }
      var form = $("form.move", dragged);
      if (!form) { return; }
      var sel = $("select[name=stage_id]", form);
      sel.value = col.getAttribute("data-stage");
      if (sel.getAttribute("data-current") === sel.value) { return; }
      $(".cards", col).appendChild(dragged);
      if (col.getAttribute("data-kind") === "lost") { form.submit(); return; }
      fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin", redirect: "follow" })
        .then(function (r) { window.location.href = r.url || window.location.href; })
        .catch(function () { form.submit(); });
    });
  });
  // Without drag-and-drop (phones, keyboards): choosing a stage submits.
  $$("form.move select").forEach(function (s) {
    s.addEventListener("change", function () { s.form.submit(); });
  });
  // Segment editor: a changed field re-renders its row (operators and value
  // input depend on it); any other change refreshes the live count.
  $$("form[data-segment-editor]").forEach(function (f) {
    var out = $("[data-live-count]", f), bad = $("[data-live-error]", f), timer = null;
    var preview = $("button[name=do][value=preview]", f);
    function count() {
      var body = new URLSearchParams(new FormData(f));
      body.delete("do");
      fetch(f.getAttribute("data-count-url"), { method: "POST", body: body, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (j) {
          if (out) { out.textContent = j.error ? "—" : j.display; }
          if (bad) { bad.textContent = j.error || ""; }
        })
        .catch(function () {});
    }
    f.addEventListener("change", function (e) {
      if (e.target.hasAttribute("data-field") || e.target.name.slice(-3) === ".op") { f.requestSubmit(preview); return; }
      clearTimeout(timer); timer = setTimeout(count, 250);
    });
    f.addEventListener("input", function (e) {
      if (e.target.tagName !== "INPUT" || e.target.name.indexOf("c.") !== 0) { return; }
      clearTimeout(timer); timer = setTimeout(count, 400);
    });
  });
})();
