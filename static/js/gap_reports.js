// Team gap reports: poll a small JSON endpoint to move the progress bar of a run, or to reveal
// the download link of an export once a worker has built it. Without JavaScript the pages have a
// refresh link instead.
(function () {
  "use strict";
  var INTERVAL = 1000;

  function poll(url, onData) {
    var stopped = false;
    function tick() {
      if (stopped) return;
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (data) {
          if (onData(data) === false) stopped = true;
        })
        .catch(function () { /* a dropped request: try again at the next tick */ })
        .then(function () { if (!stopped) window.setTimeout(tick, INTERVAL); });
    }
    tick();
  }

  var run = document.querySelector("[data-progress-url]");
  if (run) {
    var bar = document.getElementById("gap-progress-bar");
    var percent = run.querySelector("[data-progress-percent]");
    var units = run.querySelector("[data-progress-units]");
    var status = run.querySelector("[data-progress-status]");
    poll(run.dataset.progressUrl, function (data) {
      bar.value = data.progress;
      bar.textContent = data.progress + "%";
      percent.textContent = data.progress + "%";
      units.textContent = data.units_done + " / " + data.units_total + " " + (units.dataset.unitWord || "");
      status.textContent = data.status_label;
      document.querySelectorAll("[data-run-status]").forEach(function (badge) {
        badge.textContent = data.status_label;
        badge.className = "badge gap-status-" + data.status;
      });
      if (data.finished) {
        run.classList.add("is-finished");
        // Give the bar a moment at 100% before the page shows the units.
        window.setTimeout(function () { window.location.assign(run.dataset.reloadUrl); }, 1200);
        return false;
      }
      return true;
    });
  }

  var exportBox = document.querySelector("[data-export-status-url]");
  if (exportBox) {
    var badge = exportBox.querySelector("[data-export-status]");
    var waiting = exportBox.querySelector("[data-export-waiting]");
    var link = document.getElementById("gap-download");
    poll(exportBox.dataset.exportStatusUrl, function (data) {
      badge.textContent = data.status_label;
      badge.className = "badge gap-export-" + data.status;
      if (data.ready) {
        link.href = data.download_url;
        link.hidden = false;
        if (waiting) waiting.hidden = true;
        return false;
      }
      if (data.status === "failed") {
        if (waiting) waiting.textContent = data.error;
        return false;
      }
      return true;
    });
  }
})();
