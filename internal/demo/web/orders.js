// The order tracking page: /orders pushes "order:status" to the room of
// each tracked order.
"use strict";

(async () => {
  const $ = (id) => document.getElementById(id);
  const STEPS = ["placed", "packed", "shipped", "delivered"];
  const orders = new Map(); // orderId -> {status, at, node}
  $("order-id").value = "A" + Math.floor(1000 + Math.random() * 9000);

  let io;
  try {
    io = await loadClient();
  } catch (err) {
    $("banner").textContent = "Cannot load the Socket.IO client: " + err.message;
    $("banner").hidden = false;
    return;
  }
  const socket = io("/orders");
  watchConnection(socket, $("banner"));

  function render(st) {
    let o = orders.get(st.orderId);
    if (!o) {
      o = { node: h("li", { class: "card order", "data-order": st.orderId }) };
      orders.set(st.orderId, o);
      $("orders").prepend(o.node);
    }
    Object.assign(o, st);
    const current = STEPS.indexOf(st.status);
    o.node.replaceChildren(
      h("div", { class: "order-head" }, h("strong", {}, "Order " + st.orderId), h("span", { class: "status" }, st.status)),
      h(
        "ol",
        { class: "steps" },
        ...STEPS.map((s, i) => h("li", { class: i < current ? "done" : i === current ? "current" : "" }, s)),
      ),
      h("small", { class: "muted" }, "Updated " + timeOf(st.at)),
    );
  }

  function track(orderId) {
    socket.emit("order:track", { orderId }, (res) => {
      if (!res || res.error) {
        $("track-error").textContent = (res && res.error) || "No answer.";
        $("track-error").hidden = false;
        return;
      }
      $("track-error").hidden = true;
      render(res);
    });
  }

  $("track-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const id = $("order-id").value.trim();
    if (id) track(id);
  });
  socket.on("order:status", render);
  // Rooms do not survive a reconnection: track every order again.
  socket.on("connect", () => {
    for (const id of orders.keys()) track(id);
  });
})();
