package web

// embedScript renders a form from its configuration into the embedding page
// (into <div id="ryorin-form-KEY">, or before the script tag) and posts it
// with fetch as a form-encoded simple request. Every text goes in with
// textContent, never as HTML. Without JavaScript, the plain-HTML embed or
// the hosted page does the same job.
const embedScript = `(function (cfg) {
  var d = document;
  var host = d.getElementById("ryorin-form-" + cfg.key);
  if (!host) {
    var sc = d.querySelector('script[src*="/f/' + cfg.key + '.js"]');
    if (!sc) return;
    host = d.createElement("div");
    sc.parentNode.insertBefore(host, sc);
  }
  if (!d.getElementById("ryorin-form-css")) {
    var st = d.createElement("style");
    st.id = "ryorin-form-css";
    st.textContent = ".ryorin-form{max-width:560px;font:inherit}.ryorin-form .rf{margin:0 0 12px}" +
      ".ryorin-form label{display:block;font-weight:600;margin:0 0 4px}.ryorin-form .rf-opt{font-weight:400;display:inline-block;margin-right:12px}" +
      ".ryorin-form input[type=text],.ryorin-form input[type=email],.ryorin-form input[type=tel],.ryorin-form input[type=number]," +
      ".ryorin-form input[type=date],.ryorin-form select,.ryorin-form textarea{width:100%;box-sizing:border-box;padding:8px 10px;border:1px solid #c9d1da;border-radius:6px;font:inherit}" +
      ".ryorin-form .rf-err{color:#c0392b;font-size:.85em;margin-top:3px}.ryorin-form .rf-req{color:#c0392b;font-size:.8em;margin-left:6px}" +
      ".ryorin-form button{padding:10px 20px;border:0;border-radius:6px;background:#1f4e79;color:#fff;font:inherit;cursor:pointer}" +
      ".ryorin-form .rf-hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}";
    d.head.appendChild(st);
  }
  function el(tag, props, text) {
    var e = d.createElement(tag);
    for (var k in props) e.setAttribute(k, props[k]);
    if (text) e.textContent = text;
    return e;
  }
  function hidden(form, name, value) {
    if (value) form.appendChild(el("input", { type: "hidden", name: name, value: value }));
  }
  var form = el("form", { "class": "ryorin-form", action: cfg.action, method: "post", novalidate: "" });
  var errs = {};
  cfg.inputs.forEach(function (f) {
    var row = el("div", { "class": "rf" });
    var id = "ryorin-" + cfg.key + "-" + f.key.replace(/\W/g, "-");
    var label = el("label", { "for": id }, f.label);
    if (f.required) label.appendChild(el("span", { "class": "rf-req" }, cfg.required_tag));
    var input;
    if (f.type === "checkboxes") {
      row.appendChild(el("label", {}, f.label));
      (f.options || []).forEach(function (o) {
        var l = el("label", { "class": "rf-opt" });
        l.appendChild(el("input", { type: "checkbox", name: f.key, value: o.value }));
        l.appendChild(d.createTextNode(" " + o.label));
        row.appendChild(l);
      });
    } else if (f.type === "checkbox") {
      var lc = el("label", { "class": "rf-opt" });
      lc.appendChild(el("input", { type: "checkbox", name: f.key, value: "1", id: id }));
      lc.appendChild(d.createTextNode(" " + f.label));
      row.appendChild(lc);
    } else {
      row.appendChild(label);
      if (f.type === "select") {
        input = el("select", { id: id, name: f.key });
        input.appendChild(el("option", { value: "" }, ""));
        (f.options || []).forEach(function (o) { input.appendChild(el("option", { value: o.value }, o.label)); });
      } else if (f.type === "textarea") {
        input = el("textarea", { id: id, name: f.key, rows: "4" });
      } else {
        input = el("input", { id: id, name: f.key, type: f.type, autocomplete: f.autocomplete || "on" });
      }
      if (f.required) input.setAttribute("required", "");
      row.appendChild(input);
    }
    errs[f.key] = row.appendChild(el("div", { "class": "rf-err", role: "alert" }));
    form.appendChild(row);
  });
  if (cfg.consent) {
    var row = el("div", { "class": "rf" });
    var l = el("label", { "class": "rf-opt" });
    l.appendChild(el("input", { type: "checkbox", name: "consent", value: "1" }));
    l.appendChild(d.createTextNode(" " + cfg.consent));
    if (cfg.consent_required) l.appendChild(el("span", { "class": "rf-req" }, cfg.required_tag));
    row.appendChild(l);
    errs.consent = row.appendChild(el("div", { "class": "rf-err", role: "alert" }));
    form.appendChild(row);
  }
  var hp = el("div", { "class": "rf-hp", "aria-hidden": "true" });
  hp.appendChild(el("input", { type: "text", name: cfg.honeypot, tabindex: "-1", autocomplete: "off" }));
  form.appendChild(hp);
  hidden(form, "_t", cfg.token);
  hidden(form, "lang", cfg.lang);
  hidden(form, "page_url", location.href);
  hidden(form, "referrer", d.referrer);
  var m = /(?:^|;\s*)ryorin_vid=([^;]+)/.exec(d.cookie);
  if (m) hidden(form, "ryorin_vid", decodeURIComponent(m[1]));
  var q = new URLSearchParams(location.search);
  ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"].forEach(function (k) { hidden(form, k, q.get(k)); });
  errs._form = form.appendChild(el("div", { "class": "rf-err", role: "alert" }));
  var btn = form.appendChild(el("button", { type: "submit" }, cfg.submit));
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    for (var k in errs) errs[k].textContent = "";
    btn.disabled = true;
    btn.textContent = cfg.sending;
    fetch(cfg.action, { method: "POST", body: new URLSearchParams(new FormData(form)), headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (res) {
        btn.disabled = false;
        btn.textContent = cfg.submit;
        if (res.errors) {
          for (var k in res.errors) (errs[k] || errs._form).textContent = res.errors[k];
          return;
        }
        if (!res.ok && res.error) { errs._form.textContent = res.error.message || cfg.failed; return; }
        if (res.redirect) { location.href = res.redirect; return; }
        var done = el("div", { "class": "ryorin-form", role: "status" });
        String(res.message || "").split("\n").forEach(function (line) { done.appendChild(el("p", {}, line)); });
        form.parentNode.replaceChild(done, form);
      })
      .catch(function () {
        btn.disabled = false;
        btn.textContent = cfg.submit;
        errs._form.textContent = cfg.failed;
      });
  });
  host.appendChild(form);
})`
