// Test harness: starts the real mailroom server with demo data on a free port and a fresh
// SQLite database, and launches the system's headless Chromium through playwright-core.
// A missing binary or browser is a failure, never a skip.
"use strict";

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");
const { chromium } = require("playwright-core");

const E2E_DIR = path.resolve(__dirname, "..");
const BIN = path.resolve(E2E_DIR, process.env.MAILROOM_BIN || "../target/debug/mailroom");
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const SCREENSHOTS = path.join(E2E_DIR, "screenshots");
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** The demo password (see `mailroom serve --demo`). */
const DEMO_PASSWORD = "mailroom-demo";

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function waitForExit(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve(true);
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Starts `mailroom serve --demo` and waits until /readyz answers. */
async function startServer() {
  if (!fs.existsSync(BIN)) {
    throw new Error(`mailroom binary not found at ${BIN}: run "cargo build" first, or set MAILROOM_BIN`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailroom-e2e-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const args = ["serve", "--demo", "--db", `sqlite://${path.join(dir, "e2e.db")}`, "--addr", `127.0.0.1:${port}`];
  const child = spawn(BIN, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const keep = (chunk) => {
    log = (log + chunk.toString()).slice(-20000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`mailroom exited with code ${child.exitCode} before it was ready:\n${log}`);
    }
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) {
        break;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`mailroom did not become ready within 90 s:\n${log}`);
    }
    await sleep(100);
  }
  return {
    base,
    log: () => log,
    async stop() {
      child.kill("SIGTERM");
      if (!(await waitForExit(child, 10_000))) {
        child.kill("SIGKILL");
        await waitForExit(child, 5_000);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Launches the system Chromium headless. */
async function launchBrowser() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install the Debian "chromium" package, or set CHROMIUM_PATH`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/**
 * Starts the server and the browser; returns helpers and a `close()` for `after()`.
 * Every page opened through `newPage()` records console errors and uncaught exceptions
 * (a CSP violation is one), which `assertClean()` turns into a failure.
 */
async function setup() {
  const server = await startServer();
  let browser;
  try {
    browser = await launchBrowser();
  } catch (e) {
    await server.stop();
    throw e;
  }
  const problems = [];
  const contexts = [];

  async function newPage(options = {}) {
    const context = await browser.newContext({ baseURL: server.base, viewport: { width: 1280, height: 900 }, ...options });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on("console", (m) => {
      // HTTP error statuses are expected in some tests (403 pages, 409 answers, 422 problems).
      if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) {
        problems.push(`${page.url()}: console error: ${m.text()}`);
      }
    });
    page.on("pageerror", (e) => problems.push(`${page.url()}: uncaught: ${e.message}`));
    return page;
  }

  return {
    base: server.base,
    server,
    browser,
    newPage,
    assertClean() {
      if (problems.length) {
        throw new Error(`browser reported problems:\n${problems.join("\n")}`);
      }
    },
    async close() {
      for (const c of contexts) {
        await c.close().catch(() => {});
      }
      await browser.close().catch(() => {});
      await server.stop();
    },
  };
}

/** Logs in through the login form (the organisation, login and password fields). */
async function login(page, { org = "demo", user, password = DEMO_PASSWORD, lang } = {}) {
  await page.goto("/ui/login");
  await page.fill("#org", org);
  await page.fill("#login", user);
  await page.fill("#password", password);
  if (lang) {
    await page.selectOption("#lang", lang);
  }
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith("/ui/login")), page.click('[data-testid="login-form"] button[type="submit"]')]);
}

/** Calls the JSON API from inside the page, with the session cookie and CSRF header. */
function apiInPage(page, method, url, body) {
  return page.evaluate(
    async ({ method, url, body }) => {
      const token = document.querySelector('meta[name="csrf-token"]').content;
      const headers = { Accept: "application/json", "X-CSRF-Token": token };
      if (body !== undefined) {
        headers["Content-Type"] = "application/json";
      }
      const r = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      let data = null;
      try {
        data = await r.json();
      } catch {
        data = null;
      }
      return { status: r.status, data };
    },
    { method, url, body },
  );
}

async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** A tracking number no other test run uses. */
function uniqueTracking(prefix) {
  return `${prefix}${Date.now().toString(36).toUpperCase()}${Math.floor(Math.random() * 1e6)}`;
}

module.exports = { setup, login, apiInPage, screenshot, uniqueTracking, DEMO_PASSWORD };
