// afest tablet: never lose an entry, never show or send it for someone else.
//
// Forms marked data-offline="<key>" are sent with fetch. While typing, the fields are kept in
// localStorage (a draft, restored if the page is reopened). If the network fails while
// saving, the entry goes into a queue in localStorage and is re-sent when the tablet is back
// online; the server saves each client id once, so a resend can never create a duplicate.
// Drafts and the queue belong to the signed-in person (<body data-user>): another person
// signed in on the same tablet neither sees nor sends them. Signing out removes her drafts;
// entries waiting for the network stay under her name (she is warned) and leave at her next
// sign-in. A PIN typed to sign is never stored: an entry queued offline is saved unsigned,
// and the screen then offers its signature.
// The messages come translated from the page (#offline-messages). Without JavaScript the
// forms are ordinary full-page POSTs. No inline scripts (CSP).
"use strict";
(function () {
  var SECRET_FIELDS = ["secret", "sign"]; // never kept on the tablet
  var user = "";
  var messages = {};

  function t(key, count) {
    var text = messages[key] || key;
    return count === undefined ? text : text.replace("{num}", String(count));
  }
  function queueKey() { return "afest:" + user + ":queue"; }
  function draftPrefix() { return "afest:" + user + ":draft:"; }

  function read(key, fallback) {
    try { return JSON.parse(localStorage.getItem(key)) || fallback; } catch (e) { return fallback; }
  }
  function write(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* storage full */ }
  }
  function newId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID().replace(/-/g, ""); }
    return Date.now().toString(16) + Math.random().toString(16).slice(2);
  }
  function csrfToken() {
    var input = document.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }
  // The form's values but its files (a file cannot wait on the tablet: see `files`).
  function fields(form, submitter) {
    var out = [];
    new FormData(form).forEach(function (value, name) {
      if (!(value instanceof File)) { out.push([name, String(value)]); }
    });
    if (submitter && submitter.name) { out.push([submitter.name, submitter.value]); }
    return out;
  }
  function kept(pairs) {
    return pairs.filter(function (p) { return SECRET_FIELDS.indexOf(p[0]) < 0; });
  }
  // The photos and documents chosen on a form: sent with it while online (multipart), never
  // kept on the tablet (localStorage holds text only). An entry queued offline leaves without
  // them, and the tutor is told to attach them by correcting the sequence once it is saved.
  function files(form) {
    var out = [];
    form.querySelectorAll("input[type=file]").forEach(function (input) {
      Array.prototype.forEach.call(input.files || [], function (file) { out.push([input.name, file]); });
    });
    return out;
  }
  function body(pairs, attached) {
    if (!attached || !attached.length) {
      var data = new URLSearchParams();
      pairs.forEach(function (p) { data.append(p[0], p[1]); });
      return data;
    }
    var multipart = new FormData();
    pairs.forEach(function (p) { multipart.append(p[0], p[1]); });
    attached.forEach(function (p) { multipart.append(p[0], p[1], p[1].name); });
    return multipart;
  }
  function showChosen(input) {
    var list = input.closest("fieldset") && input.closest("fieldset").querySelector("[data-chosen-files]");
    if (!list) { return; }
    var max = Number(input.getAttribute("data-max-bytes")) || Infinity;
    list.textContent = "";
    input.closest("fieldset").querySelectorAll("input[type=file]").forEach(function (each) {
      Array.prototype.forEach.call(each.files || [], function (file) {
        var li = document.createElement("li");
        var size = file.size < 1048576 ? Math.max(1, Math.round(file.size / 1024)) + " ko"
          : (file.size / 1048576).toFixed(1).replace(".", ",") + " Mo";
        li.textContent = file.name + " (" + size + ")" + (file.size > max ? " — " + t("too_heavy") : "");
        if (file.size > max) { li.className = "error"; }
        list.appendChild(li);
      });
    });
  }

  // --- status shown to the tutor ------------------------------------------------------
  function showStatus(text, state, link) {
    document.querySelectorAll("[data-sync-status]").forEach(function (el) {
      el.textContent = text;
      if (link) {
        var a = document.createElement("a");
        a.href = link.href;
        a.textContent = link.text;
        el.appendChild(document.createTextNode(" "));
        el.appendChild(a);
      }
      el.setAttribute("data-state", state);
    });
  }
  var notice = null; // what a restored draft says, kept until she saves
  function refreshStatus() {
    var waiting = read(queueKey(), []).length;
    if (!waiting && notice) {
      showStatus(notice.text, notice.state);
    } else if (waiting) {
      showStatus(t(waiting === 1 ? "waiting_one" : "waiting_many", waiting), "waiting");
    } else {
      showStatus(navigator.onLine ? t("all_saved") : t("offline"), navigator.onLine ? "saved" : "offline");
    }
  }

  // --- drafts -------------------------------------------------------------------------
  function draftKey(form) { return draftPrefix() + form.getAttribute("data-offline"); }
  function saveDraft(form) { write(draftKey(form), { at: Date.now(), fields: kept(fields(form)) }); }
  function restoreDraft(form) {
    var draft = read(draftKey(form), null);
    if (!draft || !draft.fields || form.hasAttribute("data-submitted")) { return; }
    var byName = {};
    draft.fields.forEach(function (p) { (byName[p[0]] = byName[p[0]] || []).push(p[1]); });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf_token" || !(el.name in byName)) { return; }
      var values = byName[el.name];
      if (el.type === "checkbox" || el.type === "radio") { el.checked = values.indexOf(el.value) >= 0; }
      else if (el.type !== "submit" && el.type !== "password" && el.type !== "file") { el.value = values[0]; }
    });
    notice = draft.reason
      ? { text: t("sent_refused") + " " + draft.reason, state: "error" }
      : { text: t("draft_found"), state: "draft" };
    showStatus(notice.text, notice.state);
  }

  // --- sending --------------------------------------------------------------------------
  function send(url, pairs, attached) {
    var data = pairs.filter(function (p) { return p[0] !== "csrf_token"; });
    data.push(["csrf_token", csrfToken()]);
    return fetch(url, {
      method: "POST", body: body(data, attached), credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "X-CSRFToken": csrfToken() }
    });
  }
  function landedOnLogin(response) {
    return response.redirected && /\/connexion/.test(new URL(response.url).pathname);
  }
  function enqueue(form, pairs) {
    var queue = read(queueKey(), []);
    var clientId = (pairs.find(function (p) { return p[0] === "client_id"; }) || [])[1];
    queue = queue.filter(function (item) { return item.clientId !== clientId; });
    queue.push({
      url: form.action || location.href, fields: kept(pairs), clientId: clientId,
      draft: draftKey(form), at: Date.now()
    });
    write(queueKey(), queue);
  }

  // What the server said of a refused entry: the messages beside its fields, or why its
  // form is closed to her now (the protocol ended, or was given to another tutor).
  function reasonOf(html, status) {
    if (status === 403 || status === 404) { return t("closed"); }
    var doc = new DOMParser().parseFromString(html, "text/html");
    var texts = Array.prototype.map.call(doc.querySelectorAll("#entry .error"), function (el) {
      return el.textContent.trim();
    }).filter(Boolean);
    return texts.length ? texts.join(" ") : t("refused");
  }

  function replaceEntry(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.getElementById("entry");
    var current = document.getElementById("entry");
    if (fresh && current) {
      current.replaceWith(fresh);
      wire(fresh);
      var first = fresh.querySelector("[aria-invalid=true], .has-error input, .error");
      if (first && first.focus) { first.focus(); }
    }
  }

  function onSubmit(event) {
    var form = event.target;
    if (form.matches("form[data-logout]")) { return onLogout(event); }
    if (!form.matches("form[data-offline]")) { return; }
    event.preventDefault();
    if (form.getAttribute("data-busy")) { return; } // a double tap sends once
    form.setAttribute("data-busy", "1");
    var pairs = fields(form, event.submitter);
    var attached = files(form);
    notice = null;
    saveDraft(form);
    showStatus(t("sending"), "sending");
    send(form.action || location.href, pairs, attached).then(function (response) {
      if (landedOnLogin(response)) { throw new Error("session"); }
      if (response.redirected || response.ok) {
        localStorage.removeItem(draftKey(form));
        location.assign(response.url);
        return;
      }
      return response.text().then(function (html) {
        form.removeAttribute("data-busy");
        replaceEntry(html);
        showStatus(t("refused"), "error");
      });
    }).catch(function () {
      form.removeAttribute("data-busy");
      enqueue(form, pairs);
      refreshStatus();
      if (attached.length) { notice = { text: t("files_left"), state: "error" }; showStatus(notice.text, notice.state); }
    });
  }

  var flushing = false;
  function flush() {
    var queue = read(queueKey(), []);
    if (!user || flushing || !queue.length || !navigator.onLine) { refreshStatus(); return; }
    flushing = true;
    var item = queue[0];
    send(item.url, item.fields).then(function (response) {
      if (landedOnLogin(response)) { throw new Error("session"); }
      // Saved (redirect) or refused (422): either way the server has answered for this entry;
      // a refused one is left as a draft on its form so that nothing typed is lost.
      var saved = response.redirected || response.ok;
      if (!saved) {
        return response.text().then(function (html) {
          // kept as a draft on its form, with the reason: never dropped
          var reason = reasonOf(html, response.status);
          write(item.draft, { at: Date.now(), fields: item.fields, reason: reason });
          write(queueKey(), read(queueKey(), []).filter(function (q) { return q.clientId !== item.clientId; }));
          flushing = false;
          showStatus(t("sent_refused") + " " + reason, "error", { href: item.url, text: t("open_it") });
        });
      } else if (item.draft) {
        var draft = read(item.draft, { fields: [] });
        var same = (draft.fields || []).some(function (p) {
          return p[0] === "client_id" && p[1] === item.clientId;
        });
        if (same) { localStorage.removeItem(item.draft); }
      }
      write(queueKey(), read(queueKey(), []).filter(function (q) { return q.clientId !== item.clientId; }));
      flushing = false;
      if (read(queueKey(), []).length) { flush(); return; }
      // the entry's page, where she signs it (it was queued without her PIN)
      showStatus(t("sent"), "saved", { href: response.url, text: t("sign_it") });
    }).catch(function () {
      flushing = false;
      refreshStatus();
    });
  }

  // --- signing out on a shared tablet -------------------------------------------------
  // Her drafts (what she was typing, learners' words among it) go with her; entries already
  // saved on the tablet and waiting for the network stay, under her name only, and leave at
  // her next sign-in: she is told so first, and may stay signed in.
  function forgetDrafts() {
    var prefix = draftPrefix();
    Object.keys(localStorage).forEach(function (key) {
      if (key.indexOf(prefix) === 0) { localStorage.removeItem(key); }
    });
  }
  function onLogout(event) {
    var waiting = read(queueKey(), []).length;
    if (waiting && !window.confirm(t(waiting === 1 ? "logout_one" : "logout_many", waiting))) {
      event.preventDefault();
      return;
    }
    forgetDrafts();
    localStorage.removeItem("afest:pages-owner");
    if (!window.caches) { return; }
    event.preventDefault(); // her pages leave the tablet's cache before she is signed out
    var form = event.target;
    caches.delete(PAGES).catch(function () {}).then(function () { form.submit(); });
  }

  // --- the tablet opens offline (static/js/sw.js) ------------------------------------
  // Its cache of pages is the signed-in tutor's only: emptied when someone else signs in
  // on this tablet, and at sign-out; warmed, from "Mes apprenant·es", with each learner's
  // page and forms while she is online.
  var PAGES = "afest-tablet";
  function ownCache() {
    if (!window.caches) { return Promise.resolve(); }
    var owner = localStorage.getItem("afest:pages-owner");
    localStorage.setItem("afest:pages-owner", user);
    return owner && owner !== user ? caches.delete(PAGES) : Promise.resolve();
  }
  function warm() {
    if (!window.caches || !navigator.onLine) { return; }
    var links = document.querySelectorAll("a[data-tablet-learner]");
    if (!links.length) { return; }
    caches.open(PAGES).then(function (cache) {
      Array.prototype.forEach.call(links, function (a) {
        var base = a.getAttribute("href");
        [base, base + "/situation", base + "/reflexion"].forEach(function (url) {
          cache.add(new Request(url, { credentials: "same-origin" })).catch(function () {});
        });
      });
      cache.add(new Request(location.pathname, { credentials: "same-origin" })).catch(function () {});
    });
  }
  function startWorker() {
    if (!("serviceWorker" in navigator) || location.pathname.indexOf("/tablette/") !== 0) { return; }
    ownCache().then(function () {
      return navigator.serviceWorker.register("/tablette/sw.js", { scope: "/tablette/" });
    }).then(warm).catch(function () { /* no worker: the tablet still works online */ });
  }

  function wire(root) {
    root.querySelectorAll("form[data-offline]").forEach(function (form) {
      var id = form.querySelector("input[name=client_id]");
      if (id && !id.value) { id.value = newId(); }
      form.addEventListener("input", function () { saveDraft(form); });
      form.addEventListener("change", function (event) {
        if (event.target.type === "file") { showChosen(event.target); }
        saveDraft(form);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    user = document.body.getAttribute("data-user") || "";
    var source = document.getElementById("offline-messages");
    try { messages = source ? JSON.parse(source.getAttribute("data-messages")) : {}; } catch (e) { messages = {}; }
    // Entries an earlier version of this script kept ("afest:queue", "afest:draft:…") belong
    // to nobody in particular: they are left where they are, neither sent under whoever is
    // signed in now nor shown to her.
    if (!user) { return; } // signed out: nothing of anyone is restored or sent
    document.querySelectorAll("form[data-offline]").forEach(restoreDraft);
    wire(document);
    refreshStatus();
    flush();
    startWorker();
  });
  document.addEventListener("submit", onSubmit);
  window.addEventListener("online", flush);
  window.addEventListener("offline", refreshStatus);
})();
