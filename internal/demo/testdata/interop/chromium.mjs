// Launches the system Chromium headless for the browser tests.
import { chromium } from "playwright-core";

// launch starts Chromium at executablePath; playwright gives every launch a
// fresh temporary user-data-dir.
export function launch(executablePath) {
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--no-sandbox",
      "--headless",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}
