// The interview chat. Protocol: docs/interview-protocol.md.
// What the participant types is kept in localStorage until the server has
// saved it, so a reload or a dropped connection never loses it.
(function () {
  "use strict";
  var root = document.getElementById("interview");
  if (!root) return;
  var wsUrl = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + root.dataset.ws;
  var maxChars = parseInt(root.dataset.maxChars, 10) || 4000;
  // No text of an answer for this long: offer Retry rather than a silent wait.
  var retryAfter = (parseFloat(root.dataset.retryAfter) || 30) * 1000;
  var draftKey = "mge-draft-" + root.dataset.interview;
  var pendingKey = "mge-pending-" + root.dataset.interview;

  var log = document.getElementById("chat-log");
  var composer = document.getElementById("composer");
  var input = document.getElementById("message");
  var sendButton = document.getElementById("send");
  var counter = document.getElementById("char-count");
  var statusLine = document.getElementById("status");
  var retryButton = document.getElementById("retry");
  var cardBox = document.getElementById("card");
  var editor = document.getElementById("card-editor");

  var ws = null;
  var backoff = 500;
  var reconnectTimer = null;
  var waitTimer = null;
  var replying = false;
  var finished = false;
  var sentAny = false;  // the participant has answered in this page: keep the cursor in the answer box
  var streaming = {};  // reply_id -> element
  var shown = {};  // seq -> true: a resent message is not drawn twice
  var currentCard = null;
  var pending = JSON.parse(localStorage.getItem(pendingKey) || "null");  // {client_id, text}

  input.value = localStorage.getItem(draftKey) || (pending ? pending.text : "");

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  // The page's words, translated by the template (data-text-* on #interview);
  // "{name}" in them is replaced by values[name].
  function say(key, values) {
    var text = root.dataset["text" + key] || "";
    return text.replace(/\{(\w+)\}/g, function (whole, name) {
      return values && name in values ? String(values[name]) : whole;
    });
  }

  function setStatus(text) { statusLine.textContent = text || ""; }

  function updateControls() {
    var length = input.value.length;
    counter.textContent = length > maxChars * 0.8 ? length + " / " + maxChars : "";
    sendButton.disabled = finished || replying || !!pending || !input.value.trim() || length > maxChars;
    input.disabled = finished;
  }

  function addMessage(role, text, extraClass) {
    var el = document.createElement("div");
    el.className = "msg " + role + (extraClass ? " " + extraClass : "");
    el.textContent = text;
    el.dir = "auto";  // a message in another script than the page's reads in its own direction
    if (role === "assistant") el.setAttribute("aria-label", say("Interviewer"));
    log.appendChild(el);
    keepInView(el);
    return el;
  }

  // Once a card is shown it is what the participant must see: its bottom (the
  // Submit button) is kept above the sticky answer box, which would otherwise
  // cover it on a phone (new messages go above the card, and scrolling to them
  // pushed the card under the box). The latest message shows above the card.
  function revealCard() {
    if (cardBox.hidden) return;
    var gap = 8;
    root.classList.remove("card-tall");
    var card = cardBox.getBoundingClientRect();
    var limit = Math.min(window.innerHeight, composer.getBoundingClientRect().top) - gap;
    if (card.height > limit - gap) {
      // No room above the answer box: it stops following the screen and waits below the card.
      root.classList.add("card-tall");
      card = cardBox.getBoundingClientRect();
      limit = Math.min(window.innerHeight, composer.getBoundingClientRect().top) - gap;
    }
    var by = 0;
    if (card.bottom > limit) by = card.bottom - limit;
    if (card.top - by < gap) by = card.top - gap;  // taller than the room left: its top first
    if (Math.abs(by) >= 1) window.scrollBy(0, by);
  }

  function keepInView(el) {
    if (!cardBox.hidden) revealCard(); else el.scrollIntoView({block: "end"});
  }

  function renderCard(card) {
    currentCard = card;
    root.classList.toggle("card-open", !!card && !finished);
    if (!card || finished) root.classList.remove("card-tall");
    if (!card) { cardBox.hidden = true; return; }
    cardBox.hidden = false;
    cardBox.querySelector(".card-title").textContent = card.title;
    cardBox.querySelector(".card-description").textContent = card.description;
    var list = cardBox.querySelector(".card-policies");
    list.textContent = "";
    card.policies.forEach(function (policy) {
      var li = document.createElement("li");
      li.textContent = policy;
      list.appendChild(li);
    });
    cardBox.querySelector(".card-revision").textContent =
      say(card.source === "participant_edit" ? "VersionEdited" : "Version", {revision: card.revision});
    document.getElementById("submit-card").disabled = finished;
    document.getElementById("edit-card").disabled = finished;
    revealCard();
  }

  function clearPending() {
    pending = null;
    localStorage.removeItem(pendingKey);
    localStorage.removeItem(draftKey);
  }

  function send(frame) {
    if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(frame)); return true; }
    setStatus(say("NotConnected"));
    return false;
  }

  // Waiting for the interviewer: the timer restarts with every piece of text.
  function expectReply() {
    clearTimeout(waitTimer);
    waitTimer = setTimeout(function () {
      waitTimer = null;
      retryButton.hidden = false;
      setStatus(say("NoAnswer"));
    }, retryAfter);
  }

  function stopWaiting() { clearTimeout(waitTimer); waitTimer = null; }

  function sendPending() { if (pending) send({type: "user_message", text: pending.text, client_id: pending.client_id}); }

  function handle(frame) {
    switch (frame.type) {
      case "state":
        log.textContent = "";
        streaming = {};
        shown = {};
        frame.messages.forEach(function (m) { shown[m.seq] = true; addMessage(m.role, m.content); });
        finished = frame.interview.status !== "active";
        renderCard(frame.card);
        replying = frame.replying;
        if (pending && frame.messages.some(function (m) { return m.client_message_id === pending.client_id; })) {
          clearPending();
          input.value = "";
        } else if (pending) {
          sendPending();
        }
        retryButton.hidden = !(frame.last_error && frame.awaiting_reply && !frame.replying);
        if (!retryButton.hidden) setStatus(say("CouldNotAnswer"));
        else setStatus("");
        if (frame.awaiting_reply && retryButton.hidden && !finished) expectReply(); else stopWaiting();
        break;
      case "message":
        if (!shown[frame.message.seq]) addMessage(frame.message.role, frame.message.content);
        shown[frame.message.seq] = true;
        if (pending && frame.message.client_message_id === pending.client_id) {
          clearPending();
          input.value = "";
        }
        if (frame.message.role === "user") expectReply();
        break;
      case "reply_started":
        replying = true;
        retryButton.hidden = true;
        setStatus("");
        streaming[frame.reply_id] = addMessage("assistant", "", "streaming");
        expectReply();
        break;
      case "delta":
        var el = streaming[frame.reply_id];
        if (el) { el.textContent += frame.text; keepInView(el); }
        expectReply();
        break;
      case "reply_failed":
        if (streaming[frame.reply_id]) streaming[frame.reply_id].remove();
        delete streaming[frame.reply_id];
        replying = false;
        stopWaiting();
        break;
      case "message_complete":
        shown[frame.message.seq] = true;
        var done = streaming[frame.reply_id];
        if (done) {
          if (frame.message.content) { done.textContent = frame.message.content; done.classList.remove("streaming"); }
          else done.remove();
          delete streaming[frame.reply_id];
        } else if (frame.message.content) {
          addMessage("assistant", frame.message.content);
        }
        replying = false;
        // A turn that was only a tool call (the card writer) has more to come.
        if (frame.message.content) stopWaiting(); else expectReply();
        // Ready for the next answer: the cursor goes back to the (sticky) answer box.
        if (!finished && sentAny && document.activeElement !== input) { input.focus({preventScroll: true}); }
        break;
      case "card_shown":
        renderCard(frame.card);
        break;
      case "submitted":
        finished = true;
        stopWaiting();
        renderCard(frame.card);
        setStatus("");
        addMessage("assistant", say("Submitted"));
        setTimeout(function () { location.assign(frame.next_url); }, 1200);
        break;
      case "error":
        replying = frame.code === "busy" ? replying : false;
        if (frame.code === "busy" || frame.code === "too_long" || frame.code === "empty" || frame.code === "closed") {
          clearPendingButKeepText();
        } else if (frame.code === "bad_text") {
          // Never resend text the server cannot store; keep it without the offending characters.
          if (pending) pending.text = pending.text.replace(/[\u0000\p{Cs}]/gu, "");
          clearPendingButKeepText();
        }
        if (currentCard) document.getElementById("submit-card").disabled = finished;  // e.g. a refused submit
        setStatus(frame.message);
        if (frame.retry) retryButton.hidden = false;
        if (frame.code === "busy" && replying) expectReply(); else stopWaiting();
        break;
    }
    updateControls();
  }

  function clearPendingButKeepText() {
    if (pending) { input.value = pending.text; localStorage.setItem(draftKey, pending.text); }
    pending = null;
    localStorage.removeItem(pendingKey);
  }

  function connect() {
    ws = new WebSocket(wsUrl);
    ws.onopen = function () { backoff = 500; setStatus(""); };
    ws.onmessage = function (event) {
      try { handle(JSON.parse(event.data)); } catch (e) { setStatus(say("BadFrame")); }
    };
    ws.onclose = function (event) {
      if (finished) return;
      if (event.code === 4403 || event.code === 4404) { location.reload(); return; }
      setStatus(say("ConnectionLost"));
      reconnectTimer = setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 10000);
    };
  }

  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || replying || pending || finished) return;
    if (text.length > maxChars) { setStatus(say("TooLong", {max: maxChars})); return; }
    pending = {client_id: newId(), text: text};
    sentAny = true;
    localStorage.setItem(pendingKey, JSON.stringify(pending));
    send({type: "user_message", text: text, client_id: pending.client_id});
    updateControls();
  });

  input.addEventListener("input", function () {
    localStorage.setItem(draftKey, input.value);
    updateControls();
  });
  input.addEventListener("keydown", function (event) {
    // Enter sends on a keyboard; Shift+Enter makes a new line.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && window.matchMedia("(pointer: fine)").matches) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  retryButton.addEventListener("click", function () {
    retryButton.hidden = true;
    setStatus("");
    if (ws && ws.readyState === WebSocket.CLOSED) {  // do not wait for the next reconnect attempt
      clearTimeout(reconnectTimer);
      backoff = 500;
      connect();
      return;  // the fresh state answers any unanswered turn
    }
    // A fresh snapshot first: an answer this page missed is drawn, not asked for again.
    send({type: "state"});
    send({type: "retry"});
  });
  document.getElementById("submit-card").addEventListener("click", function () {
    this.disabled = true;
    send({type: "submit"});
  });
  document.getElementById("edit-card").addEventListener("click", function () {
    if (!currentCard) return;
    document.getElementById("edit-title").value = currentCard.title;
    document.getElementById("edit-description").value = currentCard.description;
    document.getElementById("edit-policies").value = currentCard.policies.join("\n");
    editor.hidden = false;
    document.getElementById("edit-title").focus();
  });
  document.getElementById("cancel-edit").addEventListener("click", function () { editor.hidden = true; });
  editor.addEventListener("submit", function (event) {
    event.preventDefault();
    var policies = document.getElementById("edit-policies").value.split("\n")
      .map(function (p) { return p.trim(); }).filter(Boolean);
    if (send({type: "card_edit", title: document.getElementById("edit-title").value,
              description: document.getElementById("edit-description").value, policies: policies})) {
      editor.hidden = true;
    }
  });

  updateControls();
  connect();
})();
