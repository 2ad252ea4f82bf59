// A customer and an agent in two contexts of a real headless Chromium
// (playwright-core), driven through the demo pages. The Go test restarts
// the server when asked.
//
// usage: node browser.mjs BASE_URL ARTIFACTS_DIR AGENT_TOKEN CHROMIUM_PATH [AGENT_BASE_URL]
// (the agent uses another server of the cluster when AGENT_BASE_URL is given)
// lines: "restart" (the test stops the server, then sends {"op":"stopped"};
// after "reconnecting" it starts it again and sends {"op":"started"}; after
// "reconnected" it sends {"op":"resumed"} once the server has both pages
// back in the ticket), "done" with the screenshots written.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { emit, commands } from "#interop/harness.mjs";
import { launch } from "./chromium.mjs";

const [base, artifacts, token, executablePath, agentArg] = process.argv.slice(2);
const agentBase = agentArg || base;
mkdirSync(artifacts, { recursive: true });
const cmds = commands();
async function waitFor(op) {
  for (;;) {
    const { value, done } = await cmds.next();
    if (done) throw new Error(`stdin closed while waiting for ${op}`);
    if (value.op === op) return;
  }
}

const browser = await launch(executablePath);
const shots = [];
async function shot(page, name) {
  const path = join(artifacts, name + ".png");
  await page.screenshot({ path, fullPage: true });
  shots.push(path);
}

try {
  const customerCtx = await browser.newContext({ viewport: { width: 390, height: 760 }, deviceScaleFactor: 2 });
  const agentCtx = await browser.newContext({ viewport: { width: 1200, height: 760 } });
  const customer = await customerCtx.newPage();
  const agent = await agentCtx.newPage();
  for (const [who, page] of [["customer", customer], ["agent", agent]]) {
    page.setDefaultTimeout(20000);
    page.on("console", (m) => console.error(`${who} console ${m.type()}: ${m.text()}`));
    page.on("pageerror", (err) => emit("error", { message: `${who} page error: ${err.message}` }));
  }
  // Chromium caches nothing here: the served bundle, not the CDN, must load.
  let cdn = 0;
  for (const ctx of [customerCtx, agentCtx]) {
    ctx.on("request", (r) => {
      if (r.url().startsWith("https://cdn.socket.io/")) cdn++;
    });
  }

  // The agent signs in: first with a wrong token, then with the right one.
  await agent.goto(agentBase + "/agent#token=wrong");
  await agent.fill("#agent-name", "Bob");
  await agent.click("#signin-button");
  await agent.locator("#signin-error").filter({ hasText: "Wrong agent token" }).waitFor();
  await agent.fill("#token", token);
  await agent.click("#signin-button");
  await agent.locator("#desk").waitFor();
  await agent.locator("#queue-empty").waitFor();

  // The customer opens a ticket; it shows up in the agent's queue.
  await customer.goto(base + "/");
  await customer.fill("#name", "Ann");
  await customer.click("#open");
  await customer.locator("#chat").waitFor();
  const queued = agent.locator("#queue li", { hasText: "Ann" });
  await queued.waitFor();
  await queued.locator("button.claim").click();
  await agent.locator("#conv-name", { hasText: "Ann" }).waitFor();
  await agent.locator("#queue-empty").waitFor();
  await customer.locator("#ticket-status", { hasText: "Bob is helping you" }).waitFor();

  // Messages both ways, with typing indicators and delivery ticks.
  async function say(from, to, text, typingName) {
    await from.locator("#text").pressSequentially(text.slice(0, 3), { delay: 30 });
    await to.locator("#typing", { hasText: `${typingName} is typing…` }).waitFor();
    await from.locator("#text").pressSequentially(text.slice(3));
    await from.locator("#text").press("Enter");
    await from.locator("li.msg.mine.delivered", { hasText: text }).waitFor();
    await to.locator("li.msg.theirs", { hasText: text }).waitFor();
    await to.locator("#typing").waitFor({ state: "hidden" });
  }
  await say(customer, agent, "Hello, my parcel is late", "Ann");
  await say(agent, customer, "Sorry about that, let me check", "Bob");
  await shot(customer, "customer");
  await shot(agent, "agent");

  // The server restarts: both pages show the banner, reconnect and carry on.
  emit("restart");
  await waitFor("stopped");
  await customer.locator("#banner", { hasText: "Reconnecting" }).waitFor();
  await agent.locator("#banner", { hasText: "Reconnecting" }).waitFor();
  await shot(customer, "customer-reconnecting");
  emit("reconnecting");
  await waitFor("started");
  await customer.locator("#banner").waitFor({ state: "hidden" });
  await agent.locator("#banner").waitFor({ state: "hidden" });
  await customer.locator("#ticket-status", { hasText: "Bob is helping you" }).waitFor();
  // Both pages are connected; the test waits until the server has them back
  // in the ticket's rooms (typing is not stored: it must not race that).
  emit("reconnected");
  await waitFor("resumed");
  await say(customer, agent, "Are you still there?", "Ann");
  await say(agent, customer, "Yes, it ships today", "Bob");
  const joined = await customer.locator("li.note", { hasText: "Bob joined the chat." }).count();
  if (joined !== 1) throw new Error(`"Bob joined the chat." shown ${joined} times`);
  await shot(customer, "customer-after-restart");
  await shot(agent, "agent-after-restart");
  await agent.setViewportSize({ width: 390, height: 760 });
  await shot(agent, "agent-phone");

  // Order tracking: pushed status updates, up to the last one.
  const orders = await customerCtx.newPage();
  await orders.goto(base + "/orders");
  await orders.fill("#order-id", "A-1001");
  await orders.click("#track");
  await orders.locator('[data-order="A-1001"] .status', { hasText: "delivered" }).waitFor();
  await shot(orders, "orders");

  // Presence: the agent sees the customer leave.
  await agent.locator("#presence", { hasText: "Online" }).waitFor();
  await customer.close();
  await agent.locator("#presence", { hasText: "Offline" }).waitFor();

  if (cdn > 0) throw new Error(`${cdn} requests to the CDN: the served client bundle was not used`);
  emit("done", { screenshots: shots });
} finally {
  await browser.close();
}
