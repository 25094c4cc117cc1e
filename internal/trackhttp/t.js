/* Ryorin web tracking snippet: first-party visitor id, page views, outbound
   clicks and custom events. Honours Do Not Track / Global Privacy Control and
   the workspace's consent setting. No dependencies. */
(function (w, d, n) {
  'use strict';
  var C = /*RYORIN_CONFIG*/{};
  var VID = 'ryorin_vid', CONSENT = 'ryorin_consent', RID = '_ryid';
  var me = d.currentScript, base = me ? new URL(me.src).origin : '';
  var endpoint = base + '/t/collect';
  var queue = [], held = [], timer = 0, vid = '', rid = '', lastURL = '';
  var dnt = n.doNotTrack === '1' || w.doNotTrack === '1' || n.msDoNotTrack === '1' || n.globalPrivacyControl === true;
  // given: the visitor said yes (sent, so the server can refuse posts from a
  // cached script after the workspace starts requiring consent).
  var saved = store(CONSENT), given = saved === '1';
  var consent = C.consent ? given : saved !== '0';

  function store(k, v) {
    try {
      if (v === undefined) return w.localStorage.getItem(k);
      if (v === null) w.localStorage.removeItem(k); else w.localStorage.setItem(k, v);
    } catch (e) { /* storage blocked */ }
    return null;
  }
  function cookie(k, v, age) {
    if (v === undefined) {
      var m = d.cookie.match(new RegExp('(?:^|; )' + k + '=([A-Za-z0-9_-]{8,40})'));
      return m ? m[1] : '';
    }
    d.cookie = k + '=' + v + '; path=/; max-age=' + age + '; SameSite=Lax' + (location.protocol === 'https:' ? '; Secure' : '');
  }
  function rand(len) {
    var a = new Uint8Array(len), s = '', abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    (w.crypto || w.msCrypto).getRandomValues(a);
    for (var i = 0; i < len; i++) s += abc.charAt(a[i] & 63);
    return s;
  }
  function visitor() {
    if (vid) return vid;
    vid = cookie(VID) || store(VID) || '';
    if (!/^[A-Za-z0-9_-]{8,40}$/.test(vid)) vid = rand(22);
    cookie(VID, vid, 63072000);
    store(VID, vid);
    return vid;
  }
  function fillForms() {
    var f = d.querySelectorAll('input[name="' + VID + '"]');
    for (var i = 0; i < f.length; i++) if (!f[i].value) f[i].value = visitor();
  }
  function cleanURL() {
    var u = new URL(location.href);
    if (u.searchParams.has(RID)) {
      rid = u.searchParams.get(RID) || '';
      u.searchParams.delete(RID);
      try { history.replaceState(history.state, '', u.href); } catch (e) { /* ignore */ }
    }
    return u.href;
  }
  function push(kind, extra) {
    if (dnt) return;
    var e = { id: rand(16), kind: kind, url: cleanURL(), t: Date.now() };
    for (var k in extra) if (extra[k] !== undefined && extra[k] !== '') e[k] = extra[k];
    if (!consent) { held.push(e); return; }
    queue.push(e);
    if (queue.length >= 20) flush(); else if (!timer) timer = setTimeout(flush, 1000);
  }
  function flush() {
    clearTimeout(timer);
    timer = 0;
    if (!queue.length || dnt || !consent) return;
    var now = Date.now(), batch = queue.splice(0, 50);
    for (var i = 0; i < batch.length; i++) { batch[i].ago = Math.max(0, now - batch[i].t); delete batch[i].t; }
    var body = { vid: visitor(), consent: given, events: batch };
    if (n.webdriver) body.wd = true;
    if (rid) { body.rid = rid; rid = ''; }
    body = JSON.stringify(body);
    var sent = false;
    try { sent = n.sendBeacon && n.sendBeacon(endpoint, new Blob([body], { type: 'text/plain' })); } catch (e) { sent = false; }
    if (!sent && w.fetch) {
      fetch(endpoint, { method: 'POST', body: body, keepalive: true, credentials: 'omit', mode: 'cors', headers: { 'Content-Type': 'text/plain' } })['catch'](function () {});
    }
    if (queue.length) flush();
  }
  function pageview() {
    var u = cleanURL();
    if (u === lastURL) return;
    push('page_view', { title: d.title, referrer: lastURL || d.referrer });
    lastURL = u;
  }
  function click(ev) {
    var a = ev.target && ev.target.closest ? ev.target.closest('a[href]') : null;
    if (!a || (a.protocol !== 'http:' && a.protocol !== 'https:') || a.host === location.host) return;
    push('outbound_click', { target: a.href, title: (a.textContent || '').trim().slice(0, 200) });
    flush();
  }
  var api = {
    track: function (name, props) { push(String(name), { props: props && typeof props === 'object' ? props : undefined }); },
    page: pageview,
    consent: function (yes) {
      consent = given = !!yes;
      store(CONSENT, consent ? '1' : '0');
      if (consent) { queue = queue.concat(held); held = []; fillForms(); flush(); return; }
      held = []; queue = [];
      cookie(VID, 'x', 0); store(VID, null); vid = '';
    },
    vid: function (cb) { if (!dnt && consent && typeof cb === 'function') cb(visitor()); }
  };
  function call(args) {
    var f = api[args[0]];
    if (f) f.apply(null, Array.prototype.slice.call(args, 1));
  }
  var pre = (w.ryorin && w.ryorin.q) || [];
  w.ryorin = function () { call(arguments); };
  if (!dnt) {
    if (consent) fillForms();
    pageview();
    d.addEventListener('click', click, true);
    var ps = history.pushState;
    history.pushState = function () { var r = ps.apply(this, arguments); setTimeout(pageview, 0); return r; };
    w.addEventListener('popstate', pageview);
    w.addEventListener('pagehide', flush);
    d.addEventListener('visibilitychange', function () { if (d.visibilityState === 'hidden') flush(); });
    d.addEventListener('DOMContentLoaded', function () { if (consent) fillForms(); });
  }
  for (var i = 0; i < pre.length; i++) call(pre[i]);
})(window, document, navigator);
