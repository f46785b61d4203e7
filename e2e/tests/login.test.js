// Login, the language switch (before and after login), redirects and logout.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { setup, login } = require("../lib/harness");

let h;
before(async () => {
  h = await setup();
});
after(async () => {
  if (h) {
    await h.close();
  }
});

test("the console starts in Simplified Chinese and switches to English before login", async () => {
  const page = await h.newPage();
  const resp = await page.goto("/");
  assert.equal(resp.status(), 200);
  assert.match(page.url(), /\/ui\/login$/);
  assert.equal(await page.getAttribute("html", "lang"), "zh-CN");
  assert.equal(await page.textContent("h1"), "登录");
  assert.equal(await page.textContent('label[for="org"]'), "机构代码");
  // The organisation field has the focus: typing can start at once.
  assert.equal(await page.evaluate(() => document.activeElement.id), "org");

  await Promise.all([page.waitForURL(/\/ui\/login/), page.click('[data-testid="lang-switch"]')]);
  assert.equal(await page.getAttribute("html", "lang"), "en");
  assert.equal(await page.textContent("h1"), "Log in");
  assert.equal(await page.textContent('label[for="password"]'), "Password");
  assert.equal(await page.textContent('[data-testid="lang-switch"]'), "中文");
  // The language form field follows the switch.
  assert.equal(await page.inputValue("#lang"), "en");
  h.assertClean();
});

test("a wrong password is refused with a translated message", async () => {
  const page = await h.newPage();
  await page.goto("/ui/login");
  await page.fill("#org", "demo");
  await page.fill("#login", "clerk");
  await page.fill("#password", "not-the-password");
  const [resp] = await Promise.all([page.waitForNavigation(), page.click('[data-testid="login-form"] button[type="submit"]')]);
  assert.equal(resp.status(), 401);
  assert.equal(await page.textContent('[data-testid="login-error"]'), "机构代码、用户名或密码不正确。");
  // What was typed (except the password) is kept.
  assert.equal(await page.inputValue("#login"), "clerk");
  assert.equal(await page.inputValue("#password"), "");
  h.assertClean();
});

test("staff log in, see the intake in Chinese, switch to English, and log out", async () => {
  const page = await h.newPage();
  await login(page, { user: "clerk" });
  assert.match(page.url(), /\/ui\/intake$/);
  assert.equal(await page.getAttribute("html", "lang"), "zh-CN");
  assert.equal(await page.textContent("h1"), "登记来件");
  assert.match(await page.textContent('[data-testid="who"]'), /收发员/);
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === "mr_session");
  assert.ok(session, "session cookie set");
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, "Lax");
  assert.equal(session.path, "/");

  await Promise.all([page.waitForURL(/\/ui\/intake$/), page.click('[data-testid="lang-switch"]')]);
  assert.equal(await page.getAttribute("html", "lang"), "en");
  assert.equal(await page.textContent("h1"), "Intake");
  assert.equal(await page.textContent('label[for="tracking"]'), "Tracking number (scan or type)");
  assert.equal(await page.textContent('nav.mainnav a[href="/ui/items"]'), "Items");
  assert.match(await page.textContent('[data-testid="who"]'), /Mailroom staff/);
  // The scripts get their strings in the page language too.
  const strings = JSON.parse(await page.textContent("#i18n"));
  assert.equal(strings["js.choose_recipient"], "Choose a recipient first.");
  assert.equal(strings["status.received"], "Received");

  await Promise.all([page.waitForURL(/\/ui\/login$/), page.click('[data-testid="logout"]')]);
  assert.equal(await page.textContent("h1"), "Log in");
  const after = await page.context().cookies();
  assert.ok(!after.some((c) => c.name === "mr_session" && c.value), "session cookie cleared");
  // The old session is gone: pages send us back to the login.
  await page.goto("/ui/items");
  assert.match(page.url(), /\/ui\/login\?next=%2Fui%2Fitems$/);
  h.assertClean();
});

test("login returns to the page asked for, but never to another site", async () => {
  const page = await h.newPage();
  await page.goto("/ui/items?status=held");
  assert.match(page.url(), /\/ui\/login\?next=/);
  await page.fill("#org", "demo");
  await page.fill("#login", "clerk");
  await page.fill("#password", "mailroom-demo");
  await Promise.all([page.waitForURL(/\/ui\/items\?status=held$/), page.click('[data-testid="login-form"] button[type="submit"]')]);
  assert.equal(await page.inputValue("#status"), "held");

  const other = await h.newPage();
  await other.goto("/ui/login?next=//evil.example/");
  await other.fill("#org", "demo");
  await other.fill("#login", "clerk");
  await other.fill("#password", "mailroom-demo");
  await Promise.all([other.waitForURL(/\/ui\/intake$/), other.click('[data-testid="login-form"] button[type="submit"]')]);
  assert.equal(new URL(other.url()).host, new URL(h.base).host);
  h.assertClean();
});

test("unknown pages get a translated 404 page", async () => {
  const page = await h.newPage();
  const resp = await page.goto("/ui/no-such-page");
  assert.equal(resp.status(), 404);
  assert.equal(await page.textContent("h1"), "未找到");
  await page.context().addCookies([{ name: "mr_lang", value: "en", url: h.base }]);
  await page.goto("/ui/no-such-page");
  assert.equal(await page.textContent("h1"), "Not found");
  h.assertClean();
});
