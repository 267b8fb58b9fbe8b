// A page that waits for the study (a step with nothing to show yet) listens on
// the journey websocket and moves on by itself when the participant's step
// changes: the transition service pushes every change (studies/steps.py).
(function () {
  var page = document.querySelector("[data-journey-socket]");
  if (!page || !window.WebSocket) { return; }
  var shown = page.getAttribute("data-step");
  var delay = 1000;
  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + page.getAttribute("data-journey-socket"));
    socket.onmessage = function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (message.type === "state" && message.step && message.step !== shown) {
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
