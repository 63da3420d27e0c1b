// Switchyard dashboard: small progressive enhancements. Every page works
// without this file except copy-to-clipboard and auto-refresh.
(function () {
  "use strict";

  // A polite live region so screen readers hear "Copied".
  var live = null;
  function announce(text) {
    if (!live) {
      live = document.createElement("div");
      live.className = "visually-hidden";
      live.setAttribute("role", "status");
      live.setAttribute("aria-live", "polite");
      document.body.appendChild(live);
    }
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  // (1) Copy to clipboard: <button type="button" data-copy="TEXT" hidden>.
  // The buttons are rendered hidden and only shown when this script runs.
  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); });
    }
    return fallbackCopy(text);
  }

  function showCopied(button, text) {
    if (button.dataset.label === undefined) button.dataset.label = button.textContent;
    button.textContent = text;
    button.classList.add("copied");
    announce(text);
    window.clearTimeout(button._copyTimer);
    button._copyTimer = window.setTimeout(function () {
      button.textContent = button.dataset.label;
      button.classList.remove("copied");
      delete button.dataset.label;
    }, 1500);
  }

  function initCopy() {
    var buttons = document.querySelectorAll("[data-copy]");
    for (var i = 0; i < buttons.length; i++) buttons[i].hidden = false;
    document.addEventListener("click", function (ev) {
      var button = ev.target.closest ? ev.target.closest("[data-copy]") : null;
      if (!button) return;
      ev.preventDefault();
      copyText(button.getAttribute("data-copy")).then(
        function () { showCopied(button, "Copied"); },
        function () { showCopied(button, "Copy failed"); }
      );
    });
  }

  // (2) Auto-refresh: <body data-refresh="SECONDS">. Skipped while a form
  // field has focus, text is selected or the tab is hidden; open <details>
  // (those with an id) stay open across the reload.
  var OPEN_KEY = "switchyard.open-details:" + window.location.pathname + window.location.search;

  function isEditing() {
    var el = document.activeElement;
    if (el && el !== document.body) {
      if (el.isContentEditable) return true;
      if (/^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName)) return true;
    }
    var sel = window.getSelection ? window.getSelection() : null;
    return !!(sel && !sel.isCollapsed && String(sel).length > 0);
  }

  function rememberOpenDetails() {
    try {
      var ids = [];
      var open = document.querySelectorAll("details[id][open]");
      for (var i = 0; i < open.length; i++) ids.push(open[i].id);
      window.sessionStorage.setItem(OPEN_KEY, JSON.stringify(ids));
    } catch (e) { /* storage unavailable: ignore */ }
  }

  function restoreOpenDetails() {
    try {
      var raw = window.sessionStorage.getItem(OPEN_KEY);
      if (!raw) return;
      window.sessionStorage.removeItem(OPEN_KEY);
      var ids = JSON.parse(raw);
      for (var i = 0; i < ids.length; i++) {
        var el = document.getElementById(ids[i]);
        if (el && el.tagName === "DETAILS") el.open = true;
      }
    } catch (e) { /* ignore */ }
  }

  function initRefresh() {
    restoreOpenDetails();
    var seconds = parseInt(document.body.getAttribute("data-refresh") || "", 10);
    if (!(seconds > 0)) return;
    var delay = seconds * 1000;
    function tick() {
      if (document.hidden || isEditing()) {
        window.setTimeout(tick, Math.min(delay, 2000));
        return;
      }
      rememberOpenDetails();
      window.location.reload();
    }
    window.setTimeout(tick, delay);
  }

  // (3) Confirmation: <form data-confirm="MESSAGE">.
  function initConfirm() {
    document.addEventListener("submit", function (ev) {
      var form = ev.target;
      if (!form || !form.getAttribute) return;
      var message = form.getAttribute("data-confirm");
      if (message && !window.confirm(message)) {
        ev.preventDefault();
        ev.stopImmediatePropagation();
      }
    }, true);
  }

  function init() {
    initCopy();
    initRefresh();
    initConfirm();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
