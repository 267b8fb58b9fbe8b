// The study console: copy the study link, and refresh the live part every
// few seconds from the server (the page still works without this file).
(function () {
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-copy"));
    var status = button.parentNode.querySelector(".copy-status");
    function done(ok) { if (status) status.textContent = ok ? "Copied." : "Select the link and copy it."; }
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () { done(true); }, function () { done(document.execCommand("copy")); });
    } else {
      done(document.execCommand("copy"));  // plain http on a lab machine: the old way still works
    }
  });

  var live = document.getElementById("console-live");
  if (!live) return;
  var every = 1000 * (parseFloat(live.getAttribute("data-every")) || 10);
  var busy = false;
  function refresh() {
    if (busy || document.hidden) return;
    busy = true;
    fetch(live.getAttribute("data-url"), {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
      .then(function (response) {
        // A login page after the session ran out also answers 200: keep the numbers and say so.
        if (!response.ok || response.redirected) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) { live.innerHTML = html; live.removeAttribute("data-stale"); })
      .catch(function () { live.setAttribute("data-stale", "true"); })  // keep the last numbers; try again
      .then(function () { busy = false; });
  }
  setInterval(refresh, every);
  document.addEventListener("visibilitychange", refresh);
})();
