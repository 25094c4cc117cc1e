// The email block editor. It edits the block document in the form's
// "blocks" textarea (the JSON the server validates and compiles; without
// this script that textarea can be edited directly) and shows the server's
// rendering of the draft, as a chosen contact, in a sandboxed iframe. The
// server's validation errors name a block path (blocks[2].columns[1][0].url);
// the message is shown on that block.
(function () {
  "use strict";
  var root = document.getElementById("block-editor");
  var form = document.getElementById("campaign-form");
  if (!root || !form) { return; }
  var store = document.getElementById("blocks");
  var cfg = JSON.parse(root.getAttribute("data-config") || "{}");
  var L = cfg.labels || {};
  var TYPES = ["text", "heading", "image", "button", "content", "divider", "spacer", "columns", "variant"];
  var frame = document.getElementById("preview_frame");
  var errBox = document.getElementById("preview_error");
  var doc;
  try { doc = JSON.parse(store.value || "{}"); } catch (e) { doc = {}; }
  if (!doc || !Array.isArray(doc.blocks)) { doc = { blocks: [] }; }
  if (doc.blocks.length === 0) {
    doc.blocks = [{ type: "text", text: "{{Salutation}}\n\n" }];
  }

  function el(tag, attrs, kids) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { n.textContent = attrs[k]; } else { n.setAttribute(k, attrs[k]); }
    });
    (kids || []).forEach(function (k) { if (k) { n.appendChild(k); } });
    return n;
  }

  function fresh(type) {
    switch (type) {
      case "text": return { type: type, text: "" };
      case "heading": return { type: type, text: "" };
      case "image": return { type: type, url: "https://", alt: "", link: "" };
      case "button": return { type: type, label: "", url: "https://" };
      case "content": return { type: type, asset_id: 0, label: "" };
      case "spacer": return { type: type, height: 24 };
      case "columns": return { type: type, columns: [[], []] };
      case "variant": return { type: type, by: "interest", options: [{ topic: (cfg.topics || [])[0] || "", blocks: [] }], default: [] };
      default: return { type: type };
    }
  }

  // A field bound to obj[key]; changes update the document and the preview.
  function input(obj, key, label, kind) {
    var f;
    if (kind === "textarea") {
      f = el("textarea", { rows: "4" });
    } else {
      f = el("input", { type: kind || "text" });
    }
    f.value = obj[key] == null ? "" : obj[key];
    f.addEventListener("input", function () {
      obj[key] = kind === "number" ? parseInt(f.value || "0", 10) : f.value;
      changed(false);
    });
    return el("label", { text: label }, [f]);
  }

  function select(obj, key, label, options, numeric) {
    var s = el("select");
    options.forEach(function (o) {
      var opt = el("option", { value: String(o[0]), text: o[1] });
      if (String(obj[key]) === String(o[0])) { opt.selected = true; }
      s.appendChild(opt);
    });
    s.addEventListener("change", function () {
      obj[key] = numeric ? parseInt(s.value, 10) : s.value;
      changed(true);
    });
    return el("label", { text: label }, [s]);
  }

  // The published assets of the content library, fetched once when a
  // content block is first drawn.
  var assets = null;
  function loadAssets() {
    if (!assets) {
      assets = fetch(cfg.assets_url || "/email/content-assets", { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (out) { return out.assets || []; });
    }
    return assets;
  }

  // assetPicker is a content block's asset select and, under it, the card
  // the email will show (kind, title, description).
  function assetPicker(b) {
    var s = el("select", { "data-testid": "asset-picker" });
    s.appendChild(el("option", { value: "0", text: L.asset_loading }));
    var info = el("div", { "class": "be-sub muted small" });
    var wrap = el("div", {}, [el("label", { text: L.asset }, [s]), info]);
    function show(list) {
      var x = list.filter(function (a) { return a.id === b.asset_id; })[0];
      info.textContent = "";
      if (x) {
        info.appendChild(el("div", { text: x.kind_label }));
        info.appendChild(el("strong", { text: x.title }));
        if (x.description) { info.appendChild(el("div", { text: x.description })); }
      }
    }
    loadAssets().then(function (list) {
      s.textContent = "";
      s.appendChild(el("option", { value: "0", text: list.length ? "—" : L.asset_none }));
      list.forEach(function (a) { s.appendChild(el("option", { value: String(a.id), text: a.title + " (" + a.kind_label + ")" })); });
      // An asset no longer published stays selected, so the server names it.
      if (b.asset_id && !list.some(function (a) { return a.id === b.asset_id; })) {
        s.appendChild(el("option", { value: String(b.asset_id), text: "#" + b.asset_id }));
      }
      s.value = String(b.asset_id || 0);
      show(list);
      s.addEventListener("change", function () {
        b.asset_id = parseInt(s.value, 10) || 0;
        show(list);
        changed(false);
      });
    }).catch(function () { showError("", L.preview_error); });
    return wrap;
  }

  function button(text, fn, title) {
    var b = el("button", { type: "button", "class": "btn small", text: text });
    if (title) { b.setAttribute("title", title); b.setAttribute("aria-label", title); }
    b.addEventListener("click", fn);
    return b;
  }

  // renderList draws a list of blocks at path (e.g. "blocks", "blocks[1].columns[0]").
  function renderList(list, path) {
    var box = el("div", { "class": "be-list", "data-list": path });
    list.forEach(function (b, i) { box.appendChild(renderBlock(list, i, path + "[" + i + "]")); });
    var pick = el("select", { "aria-label": L.add });
    TYPES.forEach(function (t) { pick.appendChild(el("option", { value: t, text: L[t] || t })); });
    box.appendChild(el("div", { "class": "be-add" }, [pick, button("+ " + L.add, function () {
      list.push(fresh(pick.value));
      changed(true);
    })]));
    return box;
  }

  function renderBlock(list, i, path) {
    var b = list[i];
    var card = el("div", { "class": "be-block", "data-path": path, "data-testid": "block" });
    card.appendChild(el("div", { "class": "be-head" }, [
      el("strong", { text: L[b.type] || b.type }),
      button("↑", function () { if (i > 0) { list.splice(i - 1, 0, list.splice(i, 1)[0]); changed(true); } }, L.up),
      button("↓", function () { if (i < list.length - 1) { list.splice(i + 1, 0, list.splice(i, 1)[0]); changed(true); } }, L.down),
      button("✕", function () { list.splice(i, 1); changed(true); }, L.remove)
    ]));
    switch (b.type) {
      case "text":
        card.appendChild(input(b, "text", L.text, "textarea"));
        card.appendChild(el("div", { "class": "muted small", text: L.text_help }));
        break;
      case "heading":
        card.appendChild(input(b, "text", L.heading));
        break;
      case "image":
        card.appendChild(input(b, "url", L.url, "url"));
        card.appendChild(input(b, "alt", L.alt));
        card.appendChild(input(b, "link", L.link, "url"));
        break;
      case "button":
        card.appendChild(input(b, "label", L.label));
        card.appendChild(input(b, "url", L.url, "url"));
        break;
      case "content":
        card.appendChild(assetPicker(b));
        card.appendChild(input(b, "label", L.label_optional));
        card.appendChild(el("div", { "class": "muted small", text: L.content_help }));
        break;
      case "spacer":
        card.appendChild(input(b, "height", L.height, "number"));
        break;
      case "columns":
        var cols = el("div", { "class": "be-cols", style: "grid-template-columns:repeat(" + b.columns.length + ",minmax(0,1fr))" });
        b.columns.forEach(function (col, j) {
          cols.appendChild(el("div", { "class": "be-sub" }, [el("div", { "class": "muted small", text: L.column + " " + (j + 1) }), renderList(col, path + ".columns[" + j + "]")]));
        });
        card.appendChild(cols);
        card.appendChild(select({ n: b.columns.length }, "n", L.columns, [[2, "2"], [3, "3"]], true));
        card.lastChild.querySelector("select").addEventListener("change", function (e) {
          var n = parseInt(e.target.value, 10);
          while (b.columns.length < n) { b.columns.push([]); }
          b.columns.length = n;
          changed(true);
        });
        break;
      case "variant":
        card.appendChild(select(b, "by", L.by, [["interest", L.by_interest], ["segment", L.by_segment]]));
        b.options = b.options || [];
        b.options.forEach(function (o, j) {
          var op = path + ".options[" + j + "]";
          var sub = el("div", { "class": "be-sub", "data-path": op });
          var head = el("div", { "class": "be-head" }, [el("strong", { text: L.option + " " + (j + 1) }),
            button("✕", function () { b.options.splice(j, 1); changed(true); }, L.remove)]);
          sub.appendChild(head);
          if (b.by === "segment") {
            var segs = [[0, "—"]].concat((cfg.segments || []).map(function (s) { return [s.id, s.name]; }));
            sub.appendChild(select(o, "segment_id", L.segment, segs, true));
          } else {
            var t = input(o, "topic", L.topic);
            var dl = "be-topics";
            t.querySelector("input").setAttribute("list", dl);
            if (!document.getElementById(dl)) {
              var list2 = el("datalist", { id: dl });
              (cfg.topics || []).forEach(function (x) { list2.appendChild(el("option", { value: x })); });
              document.body.appendChild(list2);
            }
            sub.appendChild(t);
          }
          o.blocks = o.blocks || [];
          sub.appendChild(renderList(o.blocks, op + ".blocks"));
          card.appendChild(sub);
        });
        card.appendChild(button("+ " + L.add_option, function () {
          b.options.push(b.by === "segment" ? { segment_id: 0, blocks: [] } : { topic: "", blocks: [] });
          changed(true);
        }));
        b.default = b.default || [];
        card.appendChild(el("div", { "class": "be-sub" }, [el("div", { "class": "muted small", text: L["default"] }), renderList(b.default, path + ".default")]));
        break;
    }
    return card;
  }

  function draw() {
    root.textContent = "";
    root.appendChild(renderList(doc.blocks, "blocks"));
  }

  // Clean copies drop what does not belong to a block's type, so the JSON
  // is what the server expects (it refuses unknown members).
  function clean(list) {
    return list.map(function (b) {
      var c = { type: b.type };
      switch (b.type) {
        case "text": case "heading": c.text = b.text || ""; break;
        case "image": c.url = b.url || ""; c.alt = b.alt || ""; if (b.link) { c.link = b.link; } break;
        case "button": c.label = b.label || ""; c.url = b.url || ""; break;
        case "content": c.asset_id = b.asset_id || 0; if (b.label) { c.label = b.label; } break;
        case "spacer": c.height = b.height || 0; break;
        case "columns": c.columns = b.columns.map(clean); break;
        case "variant":
          c.by = b.by;
          c.options = (b.options || []).map(function (o) {
            var x = { blocks: clean(o.blocks || []) };
            if (b.by === "segment") { x.segment_id = o.segment_id || 0; } else { x.topic = o.topic || ""; }
            return x;
          });
          c["default"] = clean(b["default"] || []);
          break;
      }
      return c;
    });
  }

  var timer = null;
  function changed(redraw) {
    store.value = JSON.stringify({ blocks: clean(doc.blocks) });
    if (redraw) { draw(); }
    schedule();
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(preview, 400);
  }

  function showError(path, message) {
    root.querySelectorAll(".be-block.bad").forEach(function (n) { n.classList.remove("bad"); });
    root.querySelectorAll(".be-err").forEach(function (n) { n.remove(); });
    errBox.hidden = !message;
    errBox.textContent = message ? (path ? path + ": " : "") + message : "";
    if (!message || !path) { return; }
    // The deepest block whose path starts the error's path gets the message.
    var best = null;
    root.querySelectorAll("[data-path]").forEach(function (n) {
      var p = n.getAttribute("data-path");
      if (path === p || path.indexOf(p + ".") === 0 || path.indexOf(p + "[") === 0) {
        if (!best || p.length > best.getAttribute("data-path").length) { best = n; }
      }
    });
    if (best) {
      best.classList.add("bad");
      best.appendChild(el("div", { "class": "err be-err", role: "alert", text: message }));
    }
  }

  function preview() {
    var mode = form.querySelector("input[name=mode]:checked");
    var body = new URLSearchParams(new FormData(form));
    fetch("/email/campaigns/preview", { method: "POST", body: body, headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (out) {
        if (out.error) {
          showError(mode && mode.value === "blocks" ? out.error.path : "", out.error.message);
          return;
        }
        showError("", "");
        document.getElementById("preview_subject").textContent = out.subject || "";
        document.getElementById("preview_text").textContent = out.text || "";
        frame.srcdoc = out.html || "";
      })
      .catch(function () { showError("", L.preview_error); });
  }

  // Raw HTML or blocks: show the part of the form that is in use.
  function syncMode() {
    var m = form.querySelector("input[name=mode]:checked");
    var v = m ? m.value : "html";
    form.querySelectorAll("[data-mode-section]").forEach(function (s) {
      s.hidden = s.getAttribute("data-mode-section") !== v;
    });
  }
  form.querySelectorAll("input[name=mode]").forEach(function (r) {
    r.addEventListener("change", function () { syncMode(); schedule(); });
  });
  ["subject", "html", "text", "preview_contact"].forEach(function (id) {
    var n = document.getElementById(id);
    if (n) { n.addEventListener(n.tagName === "SELECT" ? "change" : "input", schedule); }
  });
  // Editing the JSON by hand redraws the editor from it.
  store.addEventListener("change", function () {
    try {
      var d = JSON.parse(store.value);
      if (d && Array.isArray(d.blocks)) { doc = d; draw(); }
    } catch (e) { /* the server names the error on preview and save */ }
    schedule();
  });
  var phone = document.getElementById("preview_phone");
  if (phone) {
    phone.addEventListener("change", function () { frame.parentNode.classList.toggle("phone", phone.checked); });
  }

  draw();
  if (!store.value) { store.value = JSON.stringify({ blocks: clean(doc.blocks) }); }
  syncMode();
  showError(root.getAttribute("data-error-path"), root.getAttribute("data-error") ? root.getAttribute("data-error").replace(/^[^:]*: /, "") : "");
  preview();
})();
