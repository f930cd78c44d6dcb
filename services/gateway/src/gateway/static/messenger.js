// TempMessenger page: live list of expiring messages.
//
// Updates arrive over Server-Sent Events (GET /messages/stream); while the stream
// is down the page polls GET /messages every second instead. The time a message
// has left always comes from the server (expires_in, or expires - created for a
// just-announced one); the page only counts it down. Message text is only ever
// assigned to textContent, never parsed as HTML.
"use strict";

(() => {
  const POLL_MS = 1000;
  const TICK_MS = 200;
  const RETRY_STREAM_MS = 15000;
  const PAGE_SIZE = 100;

  const list = document.getElementById("messages");
  const empty = document.getElementById("empty");
  const form = document.getElementById("compose");
  const input = document.getElementById("text");
  const sendButton = document.getElementById("send");
  const errorBox = document.getElementById("error");
  const connection = document.getElementById("connection");

  // id -> {created, deadline, lifetime, item, countdown, bar}
  const shown = new Map();
  let pollTimer = null;

  function setConnection(state, label) {
    connection.dataset.state = state;
    connection.textContent = label;
  }

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = false;
  }

  function clearError() {
    errorBox.hidden = true;
    errorBox.textContent = "";
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Show a message with `leftMs` to live, or refresh its deadline if already shown.
  function show(message, leftMs) {
    if (leftMs <= 0) return;
    const deadline = performance.now() + leftMs;
    const known = shown.get(message.id);
    if (known) {
      known.deadline = deadline;
      return;
    }
    const item = element("li", "message");
    item.dataset.id = message.id;
    const text = element("p", "text", message.text);
    const meta = element("p", "meta");
    const time = element("time", "created", new Date(message.created).toLocaleTimeString());
    time.dateTime = new Date(message.created).toISOString();
    const countdown = element("span", "countdown");
    meta.append(time, countdown);
    const track = element("div", "lifetime");
    const bar = element("div", "lifetime-bar");
    track.append(bar);
    item.append(text, meta, track);

    const entry = {
      created: message.created,
      deadline,
      lifetime: Math.max(message.expires - message.created, leftMs),
      item,
      countdown,
      bar,
    };
    shown.set(message.id, entry);
    // Newest first: before the first shown message created earlier than this one.
    let before = null;
    for (const other of shown.values()) {
      if (other !== entry && other.created < entry.created &&
          (before === null || other.created > before.created)) {
        before = other;
      }
    }
    list.insertBefore(item, before ? before.item : null);
    tick();
  }

  function tick() {
    const now = performance.now();
    for (const [id, entry] of shown) {
      const left = entry.deadline - now;
      if (left <= 0) {
        entry.item.remove();
        shown.delete(id);
        continue;
      }
      entry.countdown.textContent = `expires in ${Math.ceil(left / 1000)} s`;
      entry.bar.style.width = `${Math.min(100, (100 * left) / entry.lifetime)}%`;
    }
    empty.hidden = shown.size > 0;
  }

  async function sync() {
    try {
      const response = await fetch(`/messages?limit=${PAGE_SIZE}`, { cache: "no-store" });
      if (!response.ok) throw new Error(await errorMessage(response));
      for (const message of await response.json()) show(message, message.expires_in);
      if (connection.dataset.state === "offline") setConnection("polling", "polling");
    } catch (error) {
      setConnection("offline", "cannot reach the server");
    }
  }

  async function errorMessage(response) {
    try {
      const body = await response.json();
      return body.message || `HTTP ${response.status}`;
    } catch {
      return `HTTP ${response.status}`;
    }
  }

  function startPolling() {
    if (pollTimer === null) pollTimer = setInterval(sync, POLL_MS);
  }

  function stopPolling() {
    if (pollTimer !== null) clearInterval(pollTimer);
    pollTimer = null;
  }

  function connectStream() {
    const source = new EventSource("/messages/stream");
    source.addEventListener("message_created", (event) => {
      const message = JSON.parse(event.data);
      show(message, message.expires - message.created);
    });
    source.onopen = () => {
      setConnection("live", "live");
      stopPolling();
      sync(); // whatever was posted while the stream was down
    };
    source.onerror = () => {
      startPolling();
      if (source.readyState === EventSource.CLOSED) {
        // Refused (e.g. the feed is full): poll, and try the stream again later.
        setConnection("polling", "polling");
        setTimeout(connectStream, RETRY_STREAM_MS);
      } else {
        setConnection("polling", "reconnecting…");
      }
    };
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    sendButton.disabled = true;
    try {
      const response = await fetch("/messages", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ message: input.value }),
      });
      if (response.status === 429) {
        // Rate-limited: say when to try again; the typed text stays in the box.
        const wait = response.headers.get("Retry-After");
        showError(`Not sent: ${await errorMessage(response)}. Try again in ${wait} s.`);
        return;
      }
      if (response.status !== 201) {
        showError(`Not sent: ${await errorMessage(response)}`);
        return;
      }
      const message = await response.json();
      input.value = "";
      show(message, message.expires_in);
    } catch (error) {
      showError("Not sent: cannot reach the server.");
    } finally {
      sendButton.disabled = false;
      input.focus();
    }
  });

  setInterval(tick, TICK_MS);
  sync();
  if ("EventSource" in window) {
    connectStream();
  } else {
    setConnection("polling", "polling");
    startPolling();
  }
})();
