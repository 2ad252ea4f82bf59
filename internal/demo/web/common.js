// Shared by the demo pages: loading the official client, the connection
// banner and small DOM helpers. No framework, no build step.
"use strict";

// The public CDN copy of the client version the server is tested with, used
// when the server has no copy (npm packages not installed).
const CDN_CLIENT = "https://cdn.socket.io/4.8.4/socket.io.min.js";

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error("cannot load " + src));
    document.head.appendChild(s);
  });
}

// loadClient returns the global io() of the official client, loaded from
// this server or else from the CDN.
async function loadClient() {
  if (!window.io) {
    try {
      await loadScript("/socket.io/socket.io.min.js");
    } catch {
      await loadScript(CDN_CLIENT);
    }
  }
  return window.io;
}

// h builds an element; children are nodes or strings (never parsed as HTML).
function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v == null) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) {
    if (c != null && c !== false) node.append(c);
  }
  return node;
}

function timeOf(ts) {
  return new Date(ts).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function ago(ts) {
  const min = Math.floor((Date.now() - ts) / 60000);
  return min < 1 ? "just now" : min === 1 ? "1 min ago" : `${min} min ago`;
}

// watchConnection shows the banner while the socket is disconnected; the
// client reconnects by itself.
function watchConnection(socket, banner) {
  const show = (text) => {
    banner.textContent = text;
    banner.hidden = false;
  };
  socket.on("connect", () => {
    banner.hidden = true;
  });
  socket.on("disconnect", () => {
    if (socket.active) show("Connection lost. Reconnecting…");
  });
  socket.io.on("reconnect_attempt", (n) => show(`Connection lost. Reconnecting (attempt ${n})…`));
}

// typingSender emits start/stop typing around keystrokes.
function typingSender(emit) {
  let timer = null;
  const stop = () => {
    if (timer) {
      clearTimeout(timer);
      timer = null;
      emit(false);
    }
  };
  return {
    input() {
      if (!timer) emit(true);
      else clearTimeout(timer);
      timer = setTimeout(stop, 2000);
    },
    stop,
  };
}

// typingIndicator shows "<name> is typing…", hiding itself if the stop
// event is lost.
function typingIndicator(node) {
  let timer = null;
  return (name, typing) => {
    clearTimeout(timer);
    node.textContent = typing ? `${name} is typing…` : "";
    node.hidden = !typing;
    if (typing) timer = setTimeout(() => (node.hidden = true), 6000);
  };
}

// Transcript renders a list of messages; own messages get delivery ticks.
class Transcript {
  constructor(list) {
    this.list = list;
    this.ids = new Set();
  }
  clear() {
    this.list.replaceChildren();
    this.ids.clear();
  }
  // add shows a message once (by id); mine marks it as sent by this page.
  add(m, mine) {
    if (m.id && this.ids.has(m.id)) return null;
    if (m.id) this.ids.add(m.id);
    const tick = h("span", { class: "tick", title: "Sending" }, "…");
    const li = h(
      "li",
      { class: "msg " + (mine ? "mine" : "theirs") },
      h(
        "div",
        { class: "bubble" },
        mine ? null : h("span", { class: "who" }, m.name || (m.from === "agent" ? "Agent" : "Customer")),
        h("p", {}, m.text),
        h("span", { class: "meta" }, h("time", {}, timeOf(m.ts || Date.now())), mine ? tick : null),
      ),
    );
    li.tick = tick;
    this.list.append(li);
    this.list.scrollTop = this.list.scrollHeight;
    return li;
  }
  // delivered marks a pending own message acknowledged by the server.
  delivered(li, res) {
    if (res && res.id) {
      this.ids.add(res.id);
      li.tick.textContent = "✓";
      li.tick.title = "Delivered";
      li.classList.add("delivered");
    } else {
      li.tick.textContent = "!";
      li.tick.title = (res && res.error) || "Not delivered";
      li.classList.add("failed");
    }
  }
  note(text) {
    this.list.append(h("li", { class: "note" }, text));
    this.list.scrollTop = this.list.scrollHeight;
  }
}
