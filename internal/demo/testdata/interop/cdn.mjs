// The customer page on a server without the client bundle: it must load the
// client from the public CDN. The CDN is answered locally with the npm copy,
// so the test needs no Internet access.
//
// usage: node cdn.mjs BASE_URL CHROMIUM_PATH BUNDLE_PATH
import { readFileSync } from "node:fs";
import { emit } from "#interop/harness.mjs";
import { launch } from "./chromium.mjs";

const [base, executablePath, bundlePath] = process.argv.slice(2);
const browser = await launch(executablePath);
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(20000);
  const cdn = [];
  await page.route("https://cdn.socket.io/**", (route) => {
    cdn.push(route.request().url());
    route.fulfill({ contentType: "application/javascript", body: readFileSync(bundlePath) });
  });
  await page.goto(base + "/");
  await page.fill("#name", "Ann");
  await page.click("#open");
  await page.locator("#chat").waitFor();
  emit("done", { cdn });
} finally {
  await browser.close();
}
