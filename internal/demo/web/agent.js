// The agent desk: sign in on /agents with the agent token, claim tickets
// from the shared queue, chat with customers.
"use strict";

(async () => {
  const $ = (id) => document.getElementById(id);
  const tickets = new Map(); // ticketId -> {id, name, online, closed, unread, messages}
  let selected = null;
  let socket = null;
  let queue = [];
  const transcript = new Transcript($("messages"));
  const showTyping = typingIndicator($("typing"));

  const hash = new URLSearchParams(location.hash.slice(1));
  $("token").value = hash.get("token") || sessionStorage.getItem("agentToken") || "";
  $("agent-name").value = sessionStorage.getItem("agentName") || "";
  for (const id of JSON.parse(sessionStorage.getItem("agentTickets") || "[]")) {
    tickets.set(id, { id, name: "", online: false, closed: false, unread: 0, messages: [] });
  }

  function toast(text) {
    $("toast").textContent = text;
    $("toast").hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => ($("toast").hidden = true), 4000);
  }
  function openIds() {
    return [...tickets.values()].filter((t) => !t.closed).map((t) => t.id);
  }
  function saveTickets() {
    sessionStorage.setItem("agentTickets", JSON.stringify(openIds()));
  }

  function renderQueue() {
    $("queue-count").textContent = queue.length;
    $("queue-empty").hidden = queue.length > 0;
    $("queue").replaceChildren(
      ...queue.map((q) =>
        h(
          "li",
          { class: "item", "data-ticket": q.ticketId },
          h("span", { class: "dot " + (q.online ? "on" : "off"), title: q.online ? "Online" : "Offline" }),
          h("span", { class: "grow" }, h("strong", {}, q.name), h("small", {}, ago(q.openedAt))),
          h("button", { type: "button", class: "claim", onclick: () => claim(q.ticketId) }, "Claim"),
        ),
      ),
    );
  }

  function renderMine() {
    const list = [...tickets.values()];
    $("mine-empty").hidden = list.length > 0;
    $("mine").replaceChildren(
      ...list.map((t) =>
        h(
          "li",
          {
            class: "item selectable" + (t.id === selected ? " selected" : "") + (t.closed ? " closed" : ""),
            "data-ticket": t.id,
            onclick: () => select(t.id),
          },
          h("span", { class: "dot " + (t.online ? "on" : "off"), title: t.online ? "Online" : "Offline" }),
          h("span", { class: "grow" }, h("strong", {}, t.name || "Customer"), t.closed ? h("small", {}, "closed") : null),
          t.unread ? h("span", { class: "badge" }, String(t.unread)) : null,
        ),
      ),
    );
  }

  function renderConversation() {
    const t = tickets.get(selected);
    transcript.clear();
    showTyping("", false);
    $("composer").hidden = !t || t.closed;
    $("close-ticket").hidden = !t || t.closed;
    $("conv-name").textContent = t ? t.name || "Customer" : "No ticket selected";
    $("presence").textContent = !t ? "" : t.closed ? "Closed" : t.online ? "Online" : "Offline";
    $("presence").className = "status " + (t && t.online && !t.closed ? "online" : "");
    if (!t) return;
    for (const m of t.messages) {
      if (m.note) transcript.note(m.note);
      else {
        const li = transcript.add(m, m.from === "agent");
        if (li && m.pending) m.pending(li);
        else if (li && m.from === "agent") transcript.delivered(li, m.failed ? null : m);
      }
    }
  }

  function select(id) {
    selected = id;
    const t = tickets.get(id);
    if (t) t.unread = 0;
    renderMine();
    renderConversation();
    if (t && !t.closed) $("text").focus();
  }

  // upsert merges what the server knows of a ticket.
  function upsert(st) {
    let t = tickets.get(st.ticketId);
    if (!t) {
      t = { id: st.ticketId, name: "", online: false, closed: false, unread: 0, messages: [] };
      tickets.set(t.id, t);
    }
    t.name = st.name || t.name;
    t.online = st.online;
    t.closed = false;
    const known = new Set(t.messages.map((m) => m.id));
    for (const m of st.messages || []) if (!known.has(m.id)) t.messages.push(m);
    saveTickets();
    return t;
  }

  function claim(ticketId) {
    socket.emit("ticket:claim", { ticketId }, (res) => {
      if (!res || !res.ok) {
        toast("Could not claim: " + ((res && res.error) || "no answer"));
        return;
      }
      upsert(res.ticket);
      select(res.ticket.ticketId);
    });
  }

  function connect(token, name) {
    socket = io("/agents", { auth: (cb) => cb({ token, name, tickets: openIds() }) });
    watchConnection(socket, $("banner"));
    const typing = typingSender((on) => selected && socket.emit("typing", { ticketId: selected, typing: on }));

    socket.on("connect", () => {
      sessionStorage.setItem("agentToken", token);
      sessionStorage.setItem("agentName", name);
      $("signin").hidden = true;
      $("desk").hidden = false;
      $("me").textContent = name;
    });
    socket.on("connect_error", (err) => {
      if (err.message !== "unauthorized") return; // the client retries by itself
      socket.disconnect();
      sessionStorage.removeItem("agentToken");
      $("desk").hidden = true;
      $("signin").hidden = false;
      $("signin-button").disabled = false;
      $("signin-error").textContent = "Wrong agent token: the server refused it (unauthorized).";
      $("signin-error").hidden = false;
    });
    socket.on("queue", (q) => {
      queue = q;
      renderQueue();
    });
    socket.on("ticket:state", (st) => {
      upsert(st);
      renderMine();
      if (st.ticketId === selected) renderConversation();
    });
    socket.on("message", (m) => {
      const t = tickets.get(m.ticketId);
      if (!t) return;
      t.messages.push(m);
      if (m.ticketId === selected) {
        showTyping("", false);
        transcript.add(m, false);
      } else {
        t.unread++;
        renderMine();
      }
    });
    socket.on("typing", (ev) => {
      if (ev.ticketId === selected && ev.from === "customer") showTyping(ev.name, ev.typing);
    });
    socket.on("presence", (p) => {
      const t = tickets.get(p.ticketId);
      if (!t) return;
      t.online = p.online;
      renderMine();
      if (p.ticketId === selected) renderConversation();
    });
    socket.on("ticket:closed", (ev) => {
      const t = tickets.get(ev.ticketId);
      if (!t) return;
      t.closed = true;
      t.messages.push({ note: `Ticket closed: ${ev.reason}.` });
      saveTickets();
      renderMine();
      if (ev.ticketId === selected) renderConversation();
    });

    $("composer").onsubmit = (ev) => {
      ev.preventDefault();
      const text = $("text").value.trim();
      if (!text || !selected) return;
      $("text").value = "";
      typing.stop();
      const t = tickets.get(selected);
      const m = { ticketId: t.id, from: "agent", name, text, ts: Date.now() };
      t.messages.push(m);
      let li = transcript.add(m, true);
      // The conversation may be re-rendered before the ack: follow the new row.
      m.pending = (row) => (li = row);
      socket.emit("message:send", { ticketId: t.id, text }, (res) => {
        delete m.pending;
        if (res && res.id) Object.assign(m, res);
        else m.failed = true;
        transcript.delivered(li, res);
      });
    };
    $("text").oninput = () => typing.input();
    $("close-ticket").onclick = () => {
      const id = selected;
      socket.emit("ticket:close", { ticketId: id }, (res) => {
        if (!res || !res.ok) {
          toast("Could not close: " + ((res && res.error) || "no answer"));
          return;
        }
        const t = tickets.get(id);
        t.closed = true;
        t.messages.push({ note: "You closed this ticket." });
        saveTickets();
        renderMine();
        if (id === selected) renderConversation();
      });
    };
  }

  let io;
  try {
    io = await loadClient();
  } catch (err) {
    $("banner").textContent = "Cannot load the Socket.IO client: " + err.message;
    $("banner").hidden = false;
    return;
  }

  $("signin-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const name = $("agent-name").value.trim();
    const token = $("token").value;
    if (!name || !token) return;
    $("signin-error").hidden = true;
    $("signin-button").disabled = true;
    connect(token, name);
  });
  $("signout").addEventListener("click", () => {
    socket.disconnect();
    sessionStorage.clear();
    location.reload();
  });
  setInterval(renderQueue, 30000); // refresh the waiting times

  if ($("token").value && $("agent-name").value) connect($("token").value, $("agent-name").value);
})();
