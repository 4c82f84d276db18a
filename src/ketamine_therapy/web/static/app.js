/* ketamine-therapy: small shared behaviours of the pages (no framework besides htmx).
 *
 * - Automatic logoff: the server ends a session after the idle time; this timer sends the browser to the login
 *   page when that time has passed since the last request (page load or htmx request), so no patient data stays
 *   on an unattended screen. The idle time comes from <body data-idle-seconds>.
 * - [data-copy="#id"]: copies the value (or text) of the element #id to the clipboard.
 * - [data-print]: prints the page.
 * - form[data-confirm]: asks before submitting.
 * - htmx: a 422 answer (the form again, with the field named) is swapped like a success; an expired login answers
 *   with the login page, which replaces the page instead of being swapped into it.
 */
(function () {
  "use strict";

  function idleLogoff() {
    var seconds = parseInt(document.body.getAttribute("data-idle-seconds") || "0", 10);
    if (!seconds) {
      return;
    }
    var timer = null;
    function expire() {
      var here = window.location.pathname + window.location.search;
      window.location.assign("/login?expired=1&next=" + encodeURIComponent(here));
    }
    function restart() {
      if (timer !== null) {
        window.clearTimeout(timer);
      }
      timer = window.setTimeout(expire, seconds * 1000 + 2000);
    }
    restart();
    document.body.addEventListener("htmx:afterRequest", restart);
  }

  function copyText(text, button) {
    function done() {
      var note = button.parentNode.querySelector(".copied");
      if (!note) {
        note = document.createElement("span");
        note.className = "copied";
        note.setAttribute("role", "status");
        button.parentNode.appendChild(note);
      }
      note.textContent = "Copied";
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text, done); });
    } else {
      fallbackCopy(text, done);
    }
  }

  function fallbackCopy(text, done) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "absolute";
    area.style.left = "-9999px";
    document.body.appendChild(area);
    area.select();
    try {
      if (document.execCommand("copy")) {
        done();
      }
    } finally {
      document.body.removeChild(area);
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) {
      return;
    }
    var copy = target.closest("[data-copy]");
    if (copy) {
      event.preventDefault();
      var source = document.querySelector(copy.getAttribute("data-copy"));
      if (source) {
        var text = "value" in source ? source.value : source.textContent;
        if (typeof source.select === "function") {
          source.select();
        }
        copyText(text || "", copy);
      }
      return;
    }
    if (target.closest("[data-print]")) {
      event.preventDefault();
      window.print();
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target instanceof HTMLFormElement ? event.target : null;
    var question = form && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  function configureHtmx() {
    if (window.htmx && !window.htmx.config.responseHandling.some(function (r) { return r.code === "422"; })) {
      window.htmx.config.responseHandling.unshift({ code: "422", swap: true, error: false });
    }
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.responseURL && new URL(xhr.responseURL).pathname === "/login") {
      event.detail.shouldSwap = false;
      window.location.href = xhr.responseURL;
    }
  });

  document.addEventListener("DOMContentLoaded", configureHtmx);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", idleLogoff);
  } else {
    idleLogoff();
  }
})();
