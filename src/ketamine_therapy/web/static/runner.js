// Session runner and research pages: live timers, the dose calculator, and HTMX glue.
// Timers compute from the server's UTC timestamps in data attributes, so a reload never resets them;
// the page's server time corrects for a tablet clock that is off.
(function () {
  "use strict";

  // -- HTMX: swap the runner's refusals (409 conflict/unmet, 422 invalid) like successes ------------------
  function configureHtmx() {
    if (!window.htmx) return;
    window.htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "409", swap: true, error: false },
      { code: "422", swap: true, error: false },
      { code: "[45]..", swap: false, error: true },
    ];
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    // an expired login answers with the login page: go there instead of swapping it into the column
    var xhr = event.detail.xhr;
    if (xhr && xhr.responseURL && new URL(xhr.responseURL).pathname === "/login") {
      event.detail.shouldSwap = false;
      window.location.href = xhr.responseURL;
    }
  });

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var job = document.getElementById("job");
    if (job && event.detail.elt === job) {
      // the job is gone (server restarted) or not ours: stop polling by replacing the element
      var gone = document.createElement("div");
      gone.className = "alert error";
      gone.setAttribute("role", "alert");
      gone.textContent = "This job is no longer available (" + status + "): jobs are lost when the server restarts.";
      job.replaceWith(gone);
      return;
    }
    var target = document.getElementById("observations");
    if (!target) return;
    var note = document.createElement("div");
    note.className = "form-error";
    note.setAttribute("role", "alert");
    note.textContent = status === 403
      ? "Not allowed (" + status + "): reload the page and try again."
      : "The server could not save this (" + status + "). Reload the page; nothing typed elsewhere is lost.";
    target.prepend(note);
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    // the observations column came back with the session's new version: every other form on the page
    // must send that version, or its next post would be refused as a conflict
    var column = document.getElementById("observations");
    if (!column) return;
    var version = column.getAttribute("data-version");
    document.querySelectorAll('input[name="expected_version"]').forEach(function (input) {
      input.value = version;
    });
    if (event.detail.target === column) {
      var first = column.querySelector('[aria-invalid="true"]');
      if (first) first.focus();
    }
  });

  // -- timers -----------------------------------------------------------------------------------------------
  var skewMs = 0; // server time minus this device's time, from the page's server timestamp

  function parseTime(value) {
    if (!value) return null;
    var t = Date.parse(value);
    return isNaN(t) ? null : t;
  }

  function now() {
    return Date.now() + skewMs;
  }

  function clock(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    var sec = s % 60;
    var mm = (m < 10 ? "0" : "") + m;
    var ss = (sec < 10 ? "0" : "") + sec;
    return h ? h + ":" + mm + ":" + ss : mm + ":" + ss;
  }

  function tick() {
    var t = now();
    document.querySelectorAll("[data-timer]").forEach(function (el) {
      var start = parseTime(el.getAttribute("data-start"));
      var end = parseTime(el.getAttribute("data-end"));
      if (start === null) return;
      var elapsed = el.querySelector("[data-elapsed]");
      if (elapsed) elapsed.textContent = clock(t - start);
      if (end === null) return;
      var remaining = el.querySelector("[data-remaining]");
      if (remaining) remaining.textContent = clock(end - t);
      var bar = el.querySelector("[data-progress]");
      if (bar && end > start) bar.style.width = Math.min(100, Math.max(0, (100 * (t - start)) / (end - start))) + "%";
      el.classList.toggle("done", t >= end);
    });
    document.querySelectorAll("[data-device]").forEach(function (li) {
      var at = parseTime(li.getAttribute("data-at"));
      var status = li.querySelector("[data-device-status]");
      if (at === null || !status) return;
      var waitEnd = at + 5 * 60 * 1000;
      li.classList.toggle("due", t >= at && t < waitEnd);
      li.classList.toggle("past", t >= waitEnd);
      if (t < at) status.textContent = "in " + clock(at - t);
      else if (t < waitEnd) status.textContent = "now · wait " + clock(waitEnd - t);
      else status.textContent = "wait over";
    });
  }

  // -- dose calculator ------------------------------------------------------------------------------------------
  function number(input) {
    if (!input) return null;
    var v = parseFloat(String(input.value).replace(",", "."));
    return isFinite(v) ? v : null;
  }

  function updateDose(form) {
    var perKg = number(form.querySelector("[data-mg-per-kg]"));
    var weight = number(form.querySelector("[data-weight]"));
    var minutes = number(form.querySelector("[data-duration]"));
    var total = form.querySelector("[data-total]");
    var rate = form.querySelector("[data-rate]");
    var mg = perKg !== null && weight !== null ? perKg * weight : null;
    if (total) total.textContent = mg === null ? "–" : mg.toFixed(1);
    if (rate) rate.textContent = mg === null || !minutes ? "–" : ((mg * 60) / minutes).toFixed(1);
    var warning = form.querySelector("[data-limit-warning]");
    if (warning) {
      var low = parseFloat(form.getAttribute("data-limit-low"));
      var high = parseFloat(form.getAttribute("data-limit-high"));
      warning.hidden = perKg === null || (perKg >= low && perKg <= high);
    }
  }

  // -- research: the model list follows the chosen drug ---------------------------------------------------------
  function filterModels(select) {
    var drugSelect = document.querySelector(select.getAttribute("data-models-for"));
    if (!drugSelect) return;
    var drug = drugSelect.value;
    Array.prototype.forEach.call(select.options, function (option) {
      var forDrug = option.getAttribute("data-drug");
      option.hidden = !!forDrug && forDrug !== drug;
      if (option.hidden && option.selected) select.value = "";
    });
  }

  function start() {
    configureHtmx();
    var root = document.querySelector("[data-server-now]");
    var serverNow = root ? parseTime(root.getAttribute("data-server-now")) : null;
    if (serverNow !== null) skewMs = serverNow - Date.now();
    tick();
    window.setInterval(tick, 1000);
    document.querySelectorAll("[data-dose-form]").forEach(function (form) {
      form.addEventListener("input", function () { updateDose(form); });
      updateDose(form);
    });
    document.querySelectorAll("[data-models-for]").forEach(function (select) {
      var drugSelect = document.querySelector(select.getAttribute("data-models-for"));
      if (drugSelect) drugSelect.addEventListener("change", function () { filterModels(select); });
      filterModels(select);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
