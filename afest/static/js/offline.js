// afest tablet: never lose an entry.
//
// Forms marked data-offline="<key>" are sent with fetch. While typing, the fields are kept in
// localStorage (a draft, restored if the page is reopened). If the network fails while
// saving, the entry goes into a queue in localStorage and is re-sent when the tablet is back
// online; the server saves each client id once, so a resend can never create a duplicate.
// Without JavaScript the forms are ordinary full-page POSTs. No inline scripts (CSP).
"use strict";
(function () {
  var QUEUE = "afest:queue";
  var DRAFT = "afest:draft:";

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
  function fields(form) {
    var out = [];
    new FormData(form).forEach(function (value, name) { out.push([name, String(value)]); });
    return out;
  }
  function body(pairs) {
    var data = new URLSearchParams();
    pairs.forEach(function (p) { data.append(p[0], p[1]); });
    return data;
  }

  // --- status shown to the tutor ------------------------------------------------------
  function showStatus(text, state) {
    document.querySelectorAll("[data-sync-status]").forEach(function (el) {
      el.textContent = text;
      el.setAttribute("data-state", state);
    });
  }
  function refreshStatus() {
    var waiting = read(QUEUE, []).length;
    if (waiting) {
      showStatus(waiting === 1
        ? "1 saisie en attente d'envoi : elle est gardée sur la tablette et partira dès le retour du réseau."
        : waiting + " saisies en attente d'envoi : elles sont gardées sur la tablette et partiront dès le retour du réseau.",
        "waiting");
    } else {
      showStatus(navigator.onLine ? "Tout est enregistré sur le serveur." : "Hors connexion : vos saisies seront gardées sur la tablette.",
        navigator.onLine ? "saved" : "offline");
    }
  }

  // --- drafts -------------------------------------------------------------------------
  function draftKey(form) { return DRAFT + form.getAttribute("data-offline"); }
  function saveDraft(form) { write(draftKey(form), { at: Date.now(), fields: fields(form) }); }
  function restoreDraft(form) {
    var draft = read(draftKey(form), null);
    if (!draft || !draft.fields || form.hasAttribute("data-submitted")) { return; }
    var byName = {};
    draft.fields.forEach(function (p) { (byName[p[0]] = byName[p[0]] || []).push(p[1]); });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf_token" || !(el.name in byName)) { return; }
      var values = byName[el.name];
      if (el.type === "checkbox" || el.type === "radio") { el.checked = values.indexOf(el.value) >= 0; }
      else if (el.type !== "submit") { el.value = values[0]; }
    });
    showStatus("Brouillon retrouvé sur la tablette : vérifiez puis enregistrez.", "draft");
  }

  // --- sending --------------------------------------------------------------------------
  function send(url, pairs) {
    var data = pairs.filter(function (p) { return p[0] !== "csrf_token"; });
    data.push(["csrf_token", csrfToken()]);
    return fetch(url, {
      method: "POST", body: body(data), credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "X-CSRFToken": csrfToken() }
    });
  }
  function landedOnLogin(response) {
    return response.redirected && /\/connexion/.test(new URL(response.url).pathname);
  }
  function enqueue(form, pairs) {
    var queue = read(QUEUE, []);
    var clientId = (pairs.find(function (p) { return p[0] === "client_id"; }) || [])[1];
    queue = queue.filter(function (item) { return item.clientId !== clientId; });
    queue.push({
      url: form.action || location.href, fields: pairs, clientId: clientId,
      draft: draftKey(form), at: Date.now()
    });
    write(QUEUE, queue);
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
    if (!form.matches("form[data-offline]")) { return; }
    event.preventDefault();
    if (form.getAttribute("data-busy")) { return; } // a double tap sends once
    form.setAttribute("data-busy", "1");
    var pairs = fields(form);
    saveDraft(form);
    showStatus("Enregistrement en cours…", "sending");
    send(form.action || location.href, pairs).then(function (response) {
      if (landedOnLogin(response)) { throw new Error("session"); }
      if (response.redirected || response.ok) {
        localStorage.removeItem(draftKey(form));
        location.assign(response.url);
        return;
      }
      return response.text().then(function (html) {
        form.removeAttribute("data-busy");
        replaceEntry(html);
        showStatus("Rien n'a été enregistré : corrigez ce qui est signalé.", "error");
      });
    }).catch(function () {
      form.removeAttribute("data-busy");
      enqueue(form, pairs);
      refreshStatus();
    });
  }

  var flushing = false;
  function flush() {
    var queue = read(QUEUE, []);
    if (flushing || !queue.length || !navigator.onLine) { refreshStatus(); return; }
    flushing = true;
    var item = queue[0];
    send(item.url, item.fields).then(function (response) {
      if (landedOnLogin(response)) { throw new Error("session"); }
      // Saved (redirect) or refused (422): either way the server has answered for this entry;
      // a refused one is left as a draft on its form so that nothing typed is lost.
      if (!response.redirected && !response.ok) {
        write(item.draft, { at: Date.now(), fields: item.fields });
      } else if (item.draft) {
        var draft = read(item.draft, { fields: [] });
        var same = (draft.fields || []).some(function (p) {
          return p[0] === "client_id" && p[1] === item.clientId;
        });
        if (same) { localStorage.removeItem(item.draft); }
      }
      write(QUEUE, read(QUEUE, []).filter(function (q) { return q.clientId !== item.clientId; }));
      flushing = false;
      flush();
    }).catch(function () {
      flushing = false;
      refreshStatus();
    });
  }

  function wire(root) {
    root.querySelectorAll("form[data-offline]").forEach(function (form) {
      var id = form.querySelector("input[name=client_id]");
      if (id && !id.value) { id.value = newId(); }
      form.addEventListener("input", function () { saveDraft(form); });
      form.addEventListener("change", function () { saveDraft(form); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-offline]").forEach(restoreDraft);
    wire(document);
    refreshStatus();
    flush();
  });
  document.addEventListener("submit", onSubmit);
  window.addEventListener("online", flush);
  window.addEventListener("offline", refreshStatus);
})();
