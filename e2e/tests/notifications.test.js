// Notification settings and follow-up in the real console: the template editor previews the
// wording with sample data while it is typed (and flags unknown variables) before anything is
// saved; webhook endpoints show their generated secret once and refuse loopback URLs; employees
// keep their own language, quiet hours and digest; the service-level dashboard renders in both
// languages; and a damaged item's "contact the sender" task is closed from the exception queue.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { setup, login, apiInPage, screenshot, uniqueTracking } = require("../lib/harness");

let h;

before(async () => {
  h = await setup();
});
after(async () => {
  if (h) {
    await h.close();
  }
});

/** Catalogue keys that leaked into the page (a missing key is shown as the key itself). */
async function untranslated(page) {
  const text = await page.evaluate(() => document.body.innerText);
  const prefixes = "notif|pref|sla|tasks|exceptions|nav|common|action|priority|event|item|status|category|lang|timeline|detail";
  return text.match(new RegExp(`\\b(?:${prefixes})\\.[a-z_]+(?:\\.[a-z_]+)*\\b`, "g")) || [];
}

/** Polls `fn` (no fixed waiting): resolves with its first truthy answer. */
async function eventually(fn, what, ms = 15_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) {
      return v;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("template editor: live preview before saving, unknown variables flagged, save and reset", async () => {
  const page = await h.newPage();
  await login(page, { user: "admin", lang: "en" });
  // Notifications is in the navigation; it opens the template list.
  await Promise.all([
    page.waitForURL(/\/ui\/notifications\/templates$/),
    page.click('nav.mainnav a[href="/ui/notifications/templates"]'),
  ]);
  await page.waitForSelector('[data-testid="templates"]');
  await Promise.all([
    page.waitForURL(/\/ui\/notifications\/templates\/arrival\/en$/),
    page.click('a[href="/ui/notifications/templates/arrival/en"]'),
  ]);
  assert.equal(await page.getAttribute("html", "lang"), "en");
  await page.waitForSelector('[data-testid="is-default"]');
  const defaultSubject = await page.inputValue("#subject");
  const defaultBody = await page.inputValue("#body");
  assert.ok(defaultSubject.length > 0 && defaultBody.length > 0);
  // The built-in wording is previewed with sample data: no placeholder is left.
  const before = await page.textContent('[data-testid="preview-subject"]');
  assert.doesNotMatch(before, /\{\{/);

  // A new subject: the preview follows while typing, nothing saved yet.
  const subject = "Parcel {{reference}} is waiting for {{recipient_name}}";
  await page.fill("#subject", subject);
  await page.waitForFunction(() => {
    const p = document.querySelector('[data-testid="preview-subject"]');
    return p && p.textContent.startsWith("Parcel ");
  });
  const previewed = await page.textContent('[data-testid="preview-subject"]');
  assert.match(previewed, /^Parcel \S+ is waiting for \S/);
  assert.doesNotMatch(previewed, /\{\{|reference|recipient_name/, "filled with sample values");
  assert.equal(new URL(page.url()).search, "", "still the editor, not saved");
  assert.equal(await page.isVisible('[data-testid="is-default"]'), true);
  // The server still has the built-in wording.
  const stored = await page.evaluate(async () => {
    const r = await fetch("/ui/notifications/templates/arrival/en");
    const doc = new DOMParser().parseFromString(await r.text(), "text/html");
    return doc.querySelector("#subject").value;
  });
  assert.equal(stored, defaultSubject);

  // An unknown variable is flagged while typing.
  await page.fill("#body", `${defaultBody}\n{{nonsense}}`);
  await page.waitForSelector('[data-testid="template-error"]');
  assert.match(await page.textContent('[data-testid="template-error"]'), /nonsense/);
  assert.deepEqual(await untranslated(page), []);
  await screenshot(page, "notify-template-error-en");
  // Saving it anyway is refused by the server: the page keeps what was typed, shows the error
  // and no preview.
  await Promise.all([page.waitForLoadState("load"), page.click('[data-testid="save-template"]')]);
  await page.waitForSelector('[data-testid="template-error"]');
  assert.match(await page.textContent('[data-testid="template-error"]'), /nonsense/);
  assert.equal(await page.inputValue("#subject"), subject);
  assert.equal(await page.locator('[data-testid="template-preview"]').count(), 0);
  // Fixed: the error goes away and the preview comes back while typing.
  await page.fill("#body", `${defaultBody}\nSee you at the front desk.`);
  await page.waitForSelector('[data-testid="template-error"]', { state: "detached" });
  await page.waitForFunction(() => {
    const p = document.querySelector('[data-testid="preview-text"]');
    return p && p.textContent.includes("See you at the front desk.");
  });
  await screenshot(page, "notify-template-preview-en");

  // Saved, and kept after a reload.
  await Promise.all([page.waitForURL(/\/arrival\/en\?saved=1$/), page.click('[data-testid="save-template"]')]);
  await page.waitForSelector('[data-testid="saved"]');
  await page.goto("/ui/notifications/templates/arrival/en");
  assert.equal(await page.inputValue("#subject"), subject);
  assert.match(await page.inputValue("#body"), /See you at the front desk\.$/);
  assert.equal(await page.isVisible('[data-testid="is-default"]'), false);
  assert.match(await page.textContent('[data-testid="preview-subject"]'), /^Parcel /);
  // The list marks it as customised.
  await page.goto("/ui/notifications/templates");
  const cell = page.locator('td:has(a[href="/ui/notifications/templates/arrival/en"])');
  assert.equal(await cell.locator(".badge").count(), 1);

  // Reset to the built-in wording.
  await page.goto("/ui/notifications/templates/arrival/en");
  await Promise.all([page.waitForURL(/\/arrival\/en\?reset=1$/), page.click('[data-testid="reset-template"]')]);
  assert.equal(await page.inputValue("#subject"), defaultSubject);
  assert.equal(await page.inputValue("#body"), defaultBody);
  assert.equal(await page.isVisible('[data-testid="is-default"]'), true);
  h.assertClean();
});

test("endpoints: a webhook's generated secret is shown once; loopback URLs are refused", async () => {
  const page = await h.newPage();
  await login(page, { user: "admin", lang: "en" });
  await page.goto("/ui/notifications/templates");
  await Promise.all([page.waitForURL(/\/ui\/notifications\/endpoints$/), page.click('[data-testid="tab-endpoints"]')]);
  await page.waitForSelector('[data-testid="no-endpoints"]');
  assert.equal(await page.inputValue("#ep-kind"), "webhook");

  await page.fill("#ep-name", "Front desk hook");
  await page.fill("#ep-url", "https://hooks.example.com/mailroom");
  await Promise.all([page.waitForLoadState("load"), page.click('[data-testid="save-endpoint"]')]);
  await page.waitForSelector('[data-testid="generated-secret"]');
  const secret = (await page.textContent('[data-testid="generated-secret"] code')).trim();
  assert.match(secret, /^whsec_\S{16,}$/);
  const rows = page.locator('[data-testid="endpoints"] tbody tr');
  assert.equal(await rows.count(), 1);
  assert.match(await rows.first().textContent(), /Front desk hook/);
  assert.match(await rows.first().textContent(), /hooks\.example\.com/);
  assert.notEqual((await page.textContent('[data-testid="secret-state"]')).trim(), "");
  await screenshot(page, "notify-endpoint-created-en");
  // Shown once: neither the list nor the endpoint's own page shows it again.
  await page.goto("/ui/notifications/endpoints");
  assert.equal(await page.locator('[data-testid="generated-secret"]').count(), 0);
  assert.ok(!(await page.content()).includes(secret));
  await Promise.all([page.waitForURL(/\/ui\/notifications\/endpoints\/[0-9a-f-]+$/), page.click('[data-testid="edit-endpoint"]')]);
  assert.ok(!(await page.content()).includes(secret));
  assert.equal(await page.inputValue("#ep-secret"), "");

  // A loopback URL is refused, with a translated message, and nothing is added.
  await page.goto("/ui/notifications/endpoints");
  await page.fill("#ep-name", "Loopback");
  await page.fill("#ep-url", "http://127.0.0.1:9/x");
  await Promise.all([page.waitForLoadState("load"), page.click('[data-testid="save-endpoint"]')]);
  await page.waitForSelector('[data-testid="endpoint-error"]');
  assert.match(await page.textContent('[data-testid="endpoint-error"]'), /127\.0\.0\.1/);
  assert.deepEqual(await untranslated(page), []);
  assert.equal(await page.locator('[data-testid="endpoints"] tbody tr').count(), 1);
  assert.equal(await page.inputValue("#ep-name"), "Loopback", "the form keeps what was typed");
  await screenshot(page, "notify-endpoint-refused-en");
  // The same in Chinese: translated, no key shown.
  await Promise.all([page.waitForSelector('html[lang="zh-CN"]'), page.click('[data-testid="lang-switch"]')]);
  await page.fill("#ep-name", "Loopback");
  await page.fill("#ep-url", "http://127.0.0.1:9/x");
  await Promise.all([page.waitForLoadState("load"), page.click('[data-testid="save-endpoint"]')]);
  await page.waitForSelector('[data-testid="endpoint-error"]');
  const zh = await page.textContent('[data-testid="endpoint-error"]');
  assert.match(zh, /[\u4e00-\u9fff]/, `a Chinese message: ${zh}`);
  assert.deepEqual(await untranslated(page), []);
  h.assertClean();
});

test("my notifications: language, quiet hours and a daily digest are kept", async () => {
  const page = await h.newPage();
  await login(page, { user: "employee" });
  await page.goto("/ui/my");
  await Promise.all([page.waitForURL(/\/ui\/my\/notifications$/), page.click('[data-testid="my-notifications"]')]);
  await page.waitForSelector('[data-testid="pref-form"]');
  assert.deepEqual(await untranslated(page), []);
  await page.selectOption("#pref-lang", "en");
  await page.fill("#pref-quiet-start", "22:00");
  await page.fill("#pref-quiet-end", "07:30");
  await page.check("#pref-digest");
  await page.fill("#pref-digest-at", "08:15");
  await Promise.all([page.waitForURL(/\/ui\/my\/notifications\?saved=1$/), page.click('[data-testid="save-pref"]')]);
  await page.waitForSelector('[data-testid="saved"]');

  await page.goto("/ui/my/notifications");
  assert.equal(await page.inputValue("#pref-lang"), "en");
  assert.equal(await page.inputValue("#pref-quiet-start"), "22:00");
  assert.equal(await page.inputValue("#pref-quiet-end"), "07:30");
  assert.equal(await page.isChecked("#pref-digest"), true);
  assert.equal(await page.inputValue("#pref-digest-at"), "08:15");
  assert.equal(await page.locator('[data-testid="pref-defaults"]').count(), 0);
  await screenshot(page, "my-notifications-zh");

  h.assertClean();
});

test("service levels: the supervisor's dashboard renders its sections in both languages", async () => {
  const page = await h.newPage();
  await login(page, { user: "supervisor" });
  await Promise.all([page.waitForURL(/\/ui\/service-levels$/), page.click('nav.mainnav a[href="/ui/service-levels"]')]);
  assert.equal(await page.getAttribute("html", "lang"), "zh-CN");
  for (const section of ["pending", "breaches", "at-risk", "unclaimed"]) {
    const s = page.locator(`section[data-testid="${section}"]`);
    assert.equal(await s.count(), 1, section);
    assert.equal(await s.locator("h2").isVisible(), true, section);
    assert.match(await s.locator("h2").textContent(), /[\u4e00-\u9fff]/, `${section} has a Chinese heading`);
  }
  assert.deepEqual(await untranslated(page), []);
  await screenshot(page, "service-levels-zh");

  await Promise.all([page.waitForSelector('html[lang="en"]'), page.click('[data-testid="lang-switch"]')]);
  assert.match(await page.textContent("h1"), /[A-Za-z]/);
  assert.deepEqual(await untranslated(page), []);
  // What the page lists agrees with the API.
  const api = await apiInPage(page, "GET", "/api/v1/service-levels");
  assert.equal(api.status, 200);
  const counts = {
    pending: api.data.pending_approvals.length,
    breaches: api.data.breaches.length,
    "at-risk": api.data.at_risk.length,
    unclaimed: api.data.unclaimed.length,
  };
  for (const [section, n] of Object.entries(counts)) {
    assert.equal(await page.locator(`section[data-testid="${section}"] tbody tr`).count(), n, section);
  }
  h.assertClean();
});

test("tasks: a damaged item's 'contact the sender' task is closed from the exception queue", async () => {
  const page = await h.newPage();
  await login(page, { user: "clerk", lang: "en" });
  const people = await apiInPage(page, "GET", "/api/v1/people?q=zhang%20weijie");
  const person = people.data.items.find((p) => p.name === "张伟杰");
  assert.ok(person, "demo person 张伟杰 exists");
  const created = await apiInPage(page, "POST", "/api/v1/items", {
    tracking_number: uniqueTracking("DM"),
    recipient: { person_id: person.id },
    condition: "damaged",
    damage_description: "corner crushed, contents loose",
    sender: { name: "李娜", organisation: "华东设备有限公司", address: "上海市浦东新区张江路 88 号" },
  });
  assert.equal(created.status, 201, JSON.stringify(created.data));
  const { id: itemId, reference } = created.data;
  // The dispatcher opens the task in the background.
  await eventually(async () => {
    const r = await apiInPage(page, "GET", "/api/v1/tasks");
    return r.data.items.find((k) => k.item_id === itemId);
  }, "the contact-the-sender task");

  await page.goto("/ui/exceptions");
  const task = page.locator(`[data-testid="task"][data-reference="${reference}"]`);
  assert.equal(await task.count(), 1);
  const text = await task.textContent();
  for (const want of ["华东设备有限公司", "张江路 88 号", "corner crushed", "张伟杰"]) {
    assert.ok(text.includes(want), `the task shows ${want}`);
  }
  assert.deepEqual(await untranslated(page), []);
  await screenshot(page, "exceptions-task-en");
  await task.locator('input[name="note"]').fill("Called Ms Li; replacement on its way");
  await Promise.all([page.waitForURL(/\/ui\/exceptions\?task=/), task.locator('[data-testid="task-done"]').click()]);
  assert.match(await page.textContent('[data-testid="flash"]'), new RegExp(reference));
  assert.equal(await task.count(), 0, "closed: gone from the queue");

  await page.goto(`/ui/items/${itemId}`);
  const event = page.locator('[data-testid="timeline"] li[data-kind="sender_contacted"]');
  assert.equal(await event.count(), 1);
  const line = await event.textContent();
  assert.match(line, /Sender contacted/);
  assert.match(line, /replacement on its way/);
  h.assertClean();
});
