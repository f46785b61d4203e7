// Intake with the keyboard only, as with a keyboard-wedge scanner: scan, choose the recipient,
// save; a second scan of the same code shows the existing item. Then the item list finds it.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { setup, login, apiInPage, screenshot, uniqueTracking } = require("../lib/harness");

let h;
let page;
const tracking = uniqueTracking("SF");
let reference;

before(async () => {
  h = await setup();
  page = await h.newPage();
  await login(page, { user: "clerk" });
});
after(async () => {
  if (h) {
    await h.close();
  }
});

function focusedId() {
  return page.evaluate(() => (document.activeElement ? document.activeElement.id : ""));
}

async function waitForFocus(id) {
  await page.waitForFunction((want) => document.activeElement && document.activeElement.id === want, id);
}

/** Moves the highlight with ArrowDown until the highlighted candidate contains `text`. */
async function highlight(text) {
  const count = await page.locator('#candidates [role="option"]').count();
  for (let i = 0; i < count; i++) {
    const current = await page.textContent('#candidates [role="option"][aria-selected="true"]');
    if (current.includes(text)) {
      return;
    }
    await page.keyboard.press("ArrowDown");
  }
  assert.fail(`no candidate contains ${text}`);
}

test("a new item is registered with the keyboard only", async () => {
  await page.goto("/ui/intake");
  assert.equal(await focusedId(), "tracking", "the tracking field has the focus on load");

  // The scanner types the code and presses Enter.
  await page.keyboard.type(tracking);
  await page.keyboard.press("Enter");
  await waitForFocus("recipient");

  // Part of the pinyin finds the person; the arrows move the highlight.
  await page.keyboard.type("zhang wei");
  await page.waitForSelector('#candidates [role="option"]');
  assert.equal(await page.getAttribute("#recipient", "aria-expanded"), "true");
  const options = page.locator('#candidates [role="option"]');
  assert.ok((await options.count()) >= 1);
  assert.equal(await options.first().getAttribute("aria-selected"), "true", "the first candidate is highlighted");
  if ((await options.count()) > 1) {
    await page.keyboard.press("ArrowDown");
    assert.equal(await options.nth(1).getAttribute("aria-selected"), "true");
    assert.equal(await page.getAttribute("#recipient", "aria-activedescendant"), "cand-1");
    await page.keyboard.press("ArrowUp");
    assert.equal(await options.first().getAttribute("aria-selected"), "true");
  }
  await highlight("张伟杰");
  await screenshot(page, "intake-candidates-zh");
  await page.keyboard.press("Enter");
  await waitForFocus("save");
  assert.match(await page.textContent('[data-testid="chosen"]'), /张伟杰/);

  // Enter on the focused Save button registers the item.
  await page.keyboard.press("Enter");
  await page.waitForSelector('[data-testid="result"]:not([hidden])');
  reference = (await page.textContent('[data-testid="result-ref"]')).trim();
  assert.match(reference, /^[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  assert.match(await page.textContent('[data-testid="recent"]'), new RegExp(reference));
  // Ready for the next scan: empty tracking field with the focus.
  await waitForFocus("tracking");
  assert.equal(await page.inputValue("#tracking"), "");
  assert.equal(await page.inputValue("#recipient"), "");

  const found = await apiInPage(page, "GET", `/api/v1/items?tracking=${tracking}`);
  assert.equal(found.status, 200);
  assert.equal(found.data.items.length, 1);
  assert.equal(found.data.items[0].reference, reference);
  // Stored at the suggested location right after saving (the default).
  assert.equal(found.data.items[0].status, "stored");
  assert.match(found.data.items[0].recipient_name, /张伟杰/);
  await screenshot(page, "intake-zh");
  h.assertClean();
});

test("scanning a registered tracking number shows the existing item, no duplicate", async () => {
  await page.goto("/ui/intake");
  await waitForFocus("tracking");
  await page.keyboard.type(tracking.toLowerCase());
  await page.keyboard.press("Enter");
  await page.waitForSelector('[data-testid="existing"]:not([hidden])');
  assert.equal((await page.textContent("#existing-link")).trim(), reference);
  assert.match(await page.getAttribute("#existing-link", "href"), /^\/ui\/items\/[0-9a-f-]{36}$/);
  assert.equal(await page.textContent("#existing-status"), "已入库");
  assert.match(await page.textContent("#existing-recipient"), /张伟杰/);
  // Cleared and focused for the next scan.
  assert.equal(await focusedId(), "tracking");
  assert.equal(await page.inputValue("#tracking"), "");

  const found = await apiInPage(page, "GET", `/api/v1/items?tracking=${tracking}`);
  assert.equal(found.data.items.length, 1, "still exactly one item");
  h.assertClean();
});

test("a letter without tracking number goes to a department, with optional fields by keyboard", async () => {
  await page.goto("/ui/intake");
  await waitForFocus("tracking");
  // No tracking number: Enter goes straight to the recipient.
  await page.keyboard.press("Enter");
  await waitForFocus("recipient");
  await page.keyboard.type("财务");
  await page.waitForSelector('#candidates [role="option"]');
  await highlight("财务部");
  await page.keyboard.press("Enter");
  await waitForFocus("save");
  assert.match(await page.textContent('[data-testid="chosen"]'), /财务部/);
  // Back one field with Shift+Tab to the notes, type, and Enter saves from there.
  await page.keyboard.press("Shift+Tab");
  await waitForFocus("notes");
  await page.keyboard.type("E2E 键盘备注");
  await page.keyboard.press("Enter");
  await page.waitForSelector('[data-testid="result"]:not([hidden])');
  const ref = (await page.textContent('[data-testid="result-ref"]')).trim();
  assert.notEqual(ref, reference);
  const found = await apiInPage(page, "GET", `/api/v1/items?tracking=${ref}`);
  assert.equal(found.data.items.length, 1);
  assert.equal(found.data.items[0].notes, "E2E 键盘备注");
  assert.equal(found.data.items[0].tracking_number, null);
  assert.ok(found.data.items[0].recipient_department_id);
  await waitForFocus("tracking");
  assert.equal((await page.locator('[data-testid="recent"] li').count()), 1);
  h.assertClean();
});

test("problems from the API are shown inline and translated", async () => {
  await page.goto("/ui/intake");
  // Too short to be a tracking number: the lookup answers 422.
  await page.keyboard.type("12");
  await page.keyboard.press("Enter");
  await page.waitForSelector('[data-testid="intake-error"]:not([hidden])');
  assert.match(await page.textContent('[data-testid="intake-error"]'), /^输入有误：/);
  assert.equal(await focusedId(), "tracking");

  // Saving without a recipient is caught before the API.
  await page.fill("#tracking", "");
  await page.focus("#save");
  await page.keyboard.press("Enter");
  assert.equal(await page.textContent('[data-testid="intake-error"]'), "请先选择收件人。");
  assert.equal(await focusedId(), "recipient");

  // A damaged item needs a description: the API's detail is shown with a translated prefix.
  await page.keyboard.type("zhang weijie");
  await page.waitForSelector('#candidates [role="option"]');
  await page.keyboard.press("Enter");
  await waitForFocus("save");
  await page.selectOption("#condition", "damaged");
  assert.equal(await page.isVisible("#damage"), true);
  await page.focus("#save");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => /damage/.test(document.querySelector('[data-testid="intake-error"]').textContent));
  assert.match(await page.textContent('[data-testid="intake-error"]'), /^输入有误：describe the damage/);
  assert.equal(await focusedId(), "damage");
  await page.keyboard.type("右下角受潮");
  await page.keyboard.press("Enter");
  await page.waitForSelector('[data-testid="intake-error"]', { state: "hidden" });
  await page.waitForSelector('[data-testid="result"]:not([hidden])');
  h.assertClean();
});

test("the item list finds the item by search and filters by status", async () => {
  await page.goto("/ui/items");
  assert.equal(await page.textContent("h1"), "邮件物品");
  // The demo has more than one page of items.
  assert.equal(await page.locator('[data-testid="items-table"] tbody tr').count(), 50);
  await Promise.all([page.waitForURL(/cursor=/), page.click('[data-testid="next-page"]')]);
  assert.ok((await page.locator('[data-testid="items-table"] tbody tr').count()) >= 1);

  await page.goto("/ui/items");
  await page.fill("#q", tracking);
  await Promise.all([page.waitForURL(/q=/), page.press("#q", "Enter")]);
  const rows = page.locator('[data-testid="items-table"] tbody tr');
  assert.equal(await rows.count(), 1);
  assert.equal((await rows.first().locator("a.ref").textContent()).trim(), reference);
  assert.match(await rows.first().textContent(), /张伟杰/);
  assert.match(await rows.first().textContent(), /已入库/);
  // Shown in Shanghai time: yyyy-mm-dd hh:mm.
  assert.match(await rows.first().locator("td").last().textContent(), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
  await page.goto("/ui/items");
  await screenshot(page, "items-zh");
  await page.goto(`/ui/items?q=${tracking}`);

  await page.selectOption("#status", "held");
  await page.fill("#q", "");
  await Promise.all([page.waitForURL(/status=held/), page.click('[data-testid="filters"] button[type="submit"]')]);
  const held = page.locator('[data-testid="items-table"] tbody tr');
  assert.ok((await held.count()) >= 1);
  for (const s of await held.evaluateAll((trs) => trs.map((tr) => tr.dataset.status))) {
    assert.equal(s, "held");
  }
  assert.match(await held.first().textContent(), /已扣留/);

  await page.goto(`/ui/items?q=${tracking}&status=held`);
  assert.match(await page.textContent('[data-testid="items-empty"]'), /没有符合条件的来件/);
  h.assertClean();
});
