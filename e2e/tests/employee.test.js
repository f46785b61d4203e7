// The employee portal: "my mail" with where to collect each item; staff pages are refused.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { setup, login, apiInPage, screenshot } = require("../lib/harness");

let h;
let page;

before(async () => {
  h = await setup();
  page = await h.newPage();
  await login(page, { user: "employee" });
});
after(async () => {
  if (h) {
    await h.close();
  }
});

test("an employee lands on my mail and sees their items with where to collect them", async () => {
  assert.match(page.url(), /\/ui\/my$/);
  assert.equal(await page.textContent("h1"), "我的邮件");
  assert.match(await page.textContent('[data-testid="who"]'), /员工/);
  const cards = page.locator('[data-testid="my-items"] li');
  assert.ok((await cards.count()) >= 1, "the demo employee has mail");
  // Every item shown is theirs (the API agrees), each with a status and a whereabouts line.
  const mine = await apiInPage(page, "GET", "/api/v1/me/items?limit=200");
  assert.equal(mine.status, 200);
  assert.equal(await cards.count(), Math.min(mine.data.items.length, 50));
  const shown = await cards.evaluateAll((lis) => lis.map((li) => li.querySelector(".ref").textContent.trim()));
  for (const ref of shown) {
    assert.ok(mine.data.items.some((i) => i.reference === ref), `${ref} belongs to the employee`);
  }
  for (const where of await page.locator('[data-testid="my-items"] .where').allTextContents()) {
    assert.ok(where.trim().length > 0);
  }
  const ready = page.locator('[data-testid="my-items"] li[data-status="ready_for_pickup"]');
  if ((await ready.count()) > 0) {
    assert.match(await ready.first().locator(".where").textContent(), /^请到此领取：/);
    assert.match(await page.textContent('[data-testid="waiting"]'), /件邮件等您领取/);
  }
  // The navigation offers no staff pages.
  assert.equal(await page.locator('nav.mainnav a[href="/ui/intake"]').count(), 0);
  assert.equal(await page.locator('nav.mainnav a[href="/ui/items"]').count(), 0);
  await screenshot(page, "my-mail-zh");
  h.assertClean();
});

test("an employee can open their own item, without staff actions", async () => {
  await Promise.all([page.waitForURL(/\/ui\/items\/[0-9a-f-]{36}$/), page.click('[data-testid="my-items"] li a.ref >> nth=0')]);
  assert.ok(await page.isVisible('[data-testid="timeline"]'));
  assert.equal(await page.locator('[data-testid="actions"]').count(), 0);
  h.assertClean();
});

test("staff pages answer an employee with a translated 403 page", async () => {
  for (const path of ["/ui/intake", "/ui/items", "/ui/people", "/ui/departments", "/ui/sites"]) {
    const resp = await page.goto(path);
    assert.equal(resp.status(), 403, path);
    assert.equal(await page.textContent("h1"), "无权操作");
    assert.equal(await page.getAttribute(".error-page", "data-status"), "403");
  }
  // The API agrees: an employee cannot register items.
  const r = await apiInPage(page, "POST", "/api/v1/items", { recipient: { department_id: "00000000-0000-0000-0000-000000000000" } });
  assert.equal(r.status, 403);
  h.assertClean();
});

test("an employee's items of other people stay hidden", async () => {
  const staff = await h.newPage();
  await login(staff, { user: "clerk" });
  const all = await apiInPage(staff, "GET", "/api/v1/items?limit=200");
  const mine = await apiInPage(page, "GET", "/api/v1/me/items?limit=200");
  const mineIds = new Set(mine.data.items.map((i) => i.id));
  const other = all.data.items.find((i) => !mineIds.has(i.id));
  assert.ok(other, "the demo has items for other people");
  const resp = await page.goto(`/ui/items/${other.id}`);
  assert.equal(resp.status(), 404);
  assert.equal(await page.textContent("h1"), "未找到");
  h.assertClean();
});
