// A training run's admin page: while the run is running, fetch its progress
// every few seconds and stop once it has stopped or is done (the page works
// without this file; it then shows the numbers as of its loading).
(function () {
  var live = document.getElementById("training-live");
  if (!live) return;
  var every = 1000 * (parseFloat(live.getAttribute("data-every")) || 5);
  var busy = false;
  var timer = null;
  function running() {
    var box = live.querySelector("[data-running]");
    return box && box.getAttribute("data-running") === "true";
  }
  function refresh() {
    if (busy || document.hidden) return;
    busy = true;
    fetch(live.getAttribute("data-url"), {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
      .then(function (response) {
        if (!response.ok || response.redirected) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) {
        live.innerHTML = html;
        live.removeAttribute("data-stale");
        if (!running() && timer !== null) { clearInterval(timer); timer = null; }
      })
      .catch(function () { live.setAttribute("data-stale", "true"); })
      .then(function () { busy = false; });
  }
  if (running()) {
    timer = setInterval(refresh, every);
    document.addEventListener("visibilitychange", refresh);
  }
})();
