// A page that waits for the study (a step with nothing to show yet) listens on
// the journey websocket and moves on by itself when the participant's step
// changes or background work for it is done: the services push both
// (studies/steps.py). Whatever happens to the socket, the page loads again
// every few seconds (a push from a worker in another process cannot reach it
// without a shared channel layer), and at the wait's time limit the server
// moves the participant on.
(function () {
  var page = document.querySelector("[data-journey-socket]");
  if (!page) { return; }
  var limit = parseFloat(page.getAttribute("data-reload-after") || "0");
  if (limit > 0) { setTimeout(function () { location.reload(); }, limit * 1000); }
  if (!window.WebSocket) { return; }
  var shown = page.getAttribute("data-step");
  var delay = 1000;
  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + page.getAttribute("data-journey-socket"));
    socket.onmessage = function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (message.type === "state" && message.step && (message.step !== shown || message.refresh)) {
        location.reload();
      }
    };
    socket.onopen = function () { delay = 1000; };
    socket.onclose = function (event) {
      if (event.code === 4403) { return; }  // no participant in this browser: nothing to follow
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
