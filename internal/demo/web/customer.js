// The customer page: open a ticket on /support and chat with an agent.
"use strict";

(async () => {
  const $ = (id) => document.getElementById(id);
  // The ticket survives a reload of the tab, and lets the server resume it
  // after a reconnection or a restart.
  let ticketId = sessionStorage.getItem("ticketId");
  let name = sessionStorage.getItem("name");
  let agent = null;
  const transcript = new Transcript($("messages"));
  const showTyping = typingIndicator($("typing"));

  let io;
  try {
    io = await loadClient();
  } catch (err) {
    $("banner").textContent = "Cannot load the Socket.IO client: " + err.message;
    $("banner").hidden = false;
    return;
  }
  const socket = io("/support", { auth: (cb) => cb(ticketId ? { ticketId, name } : {}) });
  watchConnection(socket, $("banner"));
  const typing = typingSender((on) => socket.emit("typing", on));

  function setStatus(text) {
    $("ticket-status").textContent = text;
  }
  function showChat(open) {
    $("start").hidden = open;
    $("chat").hidden = !open;
    $("composer").hidden = false;
    $("new-ticket").hidden = true;
    if (open) $("text").focus();
  }
  function assigned(who) {
    if (who && who !== agent) transcript.note(`${who} joined the chat.`);
    agent = who || null;
    setStatus(agent ? `${agent} is helping you` : "Waiting for an agent…");
  }

  if (ticketId) showChat(true);

  $("start-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const wanted = $("name").value.trim();
    if (!wanted) return;
    $("open").disabled = true;
    socket.emit("ticket:open", { name: wanted }, (res) => {
      $("open").disabled = false;
      if (!res || !res.ticketId) {
        $("start-error").textContent = (res && res.error) || "Could not open a ticket.";
        $("start-error").hidden = false;
        return;
      }
      $("start-error").hidden = true;
      ticketId = res.ticketId;
      name = wanted;
      sessionStorage.setItem("ticketId", ticketId);
      sessionStorage.setItem("name", name);
      transcript.clear();
      agent = null;
      setStatus("Waiting for an agent…");
      transcript.note("Ticket opened. An agent will be with you shortly.");
      showChat(true);
    });
  });

  $("composer").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = $("text").value.trim();
    if (!text) return;
    $("text").value = "";
    typing.stop();
    const li = transcript.add({ from: "customer", name, text, ts: Date.now() }, true);
    socket.emit("message:send", { text }, (res) => transcript.delivered(li, res));
  });
  $("text").addEventListener("input", () => typing.input());

  $("new-ticket").addEventListener("click", () => {
    transcript.clear();
    showChat(false);
    $("name").value = name || "";
    $("name").focus();
  });

  socket.on("message", (m) => {
    showTyping("", false);
    transcript.add(m, false);
  });
  socket.on("typing", (t) => {
    if (t.from === "agent") showTyping(t.name, t.typing);
  });
  socket.on("ticket:assigned", (t) => assigned(t.agent));
  // After a reconnection: what the server knows of the ticket.
  socket.on("ticket:state", (st) => {
    for (const m of st.messages || []) {
      const li = transcript.add(m, m.from === "customer");
      if (li && m.from === "customer") transcript.delivered(li, m);
    }
    // After a server restart the agent may not be back yet: keep the one we know.
    if (st.agent) assigned(st.agent);
  });
  socket.on("ticket:closed", (t) => {
    if (t.ticketId !== ticketId) return;
    transcript.note(`This chat was closed (${t.reason}).`);
    setStatus("Closed");
    showTyping("", false);
    ticketId = null;
    agent = null;
    sessionStorage.removeItem("ticketId");
    $("composer").hidden = true;
    $("new-ticket").hidden = false;
  });
})();
