// Two-stage intake in the real console: quick-scan two items with the keyboard (each saved at
// once as "details pending"), find them in the exception queue, resolve one by searching the
// recipient with the keyboard; then a normal scan shows the detected carrier, and a product
// barcode is warned about.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { setup, login, apiInPage, screenshot, uniqueTracking } = require("../lib/harness");

let h;
let page;
const first = uniqueTracking("QA");
const second = uniqueTracking("QB");
const saved = {};

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

test("quick scan saves each scan at once, from the keyboard", async () => {
  await page.goto("/ui/intake");
  assert.equal(await focusedId(), "tracking");
  // The quick-scan switch sits just before the tracking field: Shift+Tab, Space.
  await page.keyboard.press("Shift+Tab");
  assert.equal(await focusedId(), "quick");
  await page.keyboard.press("Space");
  await waitForFocus("tracking");
  assert.equal(await page.isChecked("#quick"), true);
  assert.equal(await page.isVisible("#recipient"), false, "quick scan asks for nothing but the scan");

  for (const code of [first, second]) {
    await page.keyboard.type(code);
    await page.keyboard.press("Enter");
  }
  await page.waitForFunction(() => document.querySelectorAll("#quick-list li").length === 2);
  assert.equal(await focusedId(), "tracking", "ready for the next scan");
  assert.equal(await page.inputValue("#tracking"), "");
  const rows = await page.$$eval("#quick-list li", (lis) =>
    lis.map((li) => ({ reference: li.dataset.reference, text: li.textContent })),
  );
  // Newest first.
  assert.match(rows[0].text, new RegExp(second));
  assert.match(rows[1].text, new RegExp(first));
  saved[second] = rows[0].reference;
  saved[first] = rows[1].reference;
  for (const code of [first, second]) {
    const r = await apiInPage(page, "GET", `/api/v1/items?tracking=${code}`);
    assert.equal(r.data.items.length, 1);
    assert.equal(r.data.items[0].status, "received");
    assert.equal(r.data.items[0].details_pending, true);
    assert.equal(r.data.items[0].recipient_person_id, null);
  }
  await screenshot(page, "intake-quick-scan");
  h.assertClean();
});

test("the scans wait in the exception queue; one is resolved by searching its recipient", async () => {
  // The queue is in the navigation.
  await page.goto("/ui/intake");
  await Promise.all([page.waitForURL(/\/ui\/exceptions/), page.click('nav.mainnav a[href="/ui/exceptions"]')]);
  const row = (code) => page.locator(`[data-testid="exception"][data-reference="${saved[code]}"]`);
  assert.equal(await row(first).count(), 1);
  assert.equal(await row(second).count(), 1);
  assert.match(await row(first).textContent(), new RegExp(first));
  assert.equal(await row(first).getAttribute("class").then((c) => c.includes("reason-missing_recipient")), true);
  await screenshot(page, "exceptions-queue");

  // Keyboard: focus the first one's search, type, arrows, Enter picks, Enter assigns.
  await row(first).locator(".recipient-search").focus();
  await page.keyboard.type("zhang wei");
  await row(first).locator('[role="option"]').first().waitFor();
  const options = row(first).locator('[role="option"]');
  let picked = false;
  for (let i = 0; i < (await options.count()); i++) {
    const current = await row(first).locator('[role="option"][aria-selected="true"]').textContent();
    if (current.includes("张伟杰")) {
      picked = true;
      break;
    }
    await page.keyboard.press("ArrowDown");
  }
  assert.ok(picked, "张伟杰 is among the candidates");
  await page.keyboard.press("Enter");
  await row(first).locator(".chosen:not([hidden])").waitFor();
  await Promise.all([page.waitForURL(/\/ui\/exceptions\?done=/), page.keyboard.press("Enter")]);
  assert.match(await page.textContent('[data-testid="flash"]'), new RegExp(saved[first]));
  assert.equal(await row(first).count(), 0, "resolved: gone from the open queue");
  assert.equal(await row(second).count(), 1, "the other one still waits");

  const r = await apiInPage(page, "GET", `/api/v1/items?tracking=${first}`);
  const item = r.data.items[0];
  assert.match(item.recipient_name, /张伟杰/);
  const events = await apiInPage(page, "GET", `/api/v1/items/${item.id}/events`);
  assert.equal(events.data.items[events.data.items.length - 1].kind, "exception_resolved");

  // The item page shows it still has details pending, with the form to fill them in.
  await page.goto(`/ui/items/${item.id}`);
  assert.equal(await page.isVisible('[data-testid="details-pending"]'), true);
  await page.selectOption("#edit-kind", "letter");
  await page.fill("#edit-notes", "filled in later");
  await Promise.all([page.waitForURL(/saved=1/), page.click('[data-testid="save-details"]')]);
  assert.equal(await page.isVisible('[data-testid="details-pending"]'), false);
  const after = await apiInPage(page, "GET", `/api/v1/items/${item.id}`);
  assert.equal(after.data.kind, "letter");
  assert.equal(after.data.details_pending, false);
  h.assertClean();
});

test("a normal scan shows the detected carrier before the recipient", async () => {
  await page.goto("/ui/intake");
  // Quick scan is remembered; switch it off.
  if (await page.isChecked("#quick")) {
    await page.click("#quick");
  }
  assert.equal(await page.isVisible("#recipient"), true);
  await page.focus("#tracking");
  await page.keyboard.type("1Z999AA10123456784");
  await page.keyboard.press("Enter");
  await waitForFocus("recipient");
  await page.waitForSelector('[data-testid="detection"]:not([hidden])');
  assert.match(await page.textContent('[data-testid="det-carrier"]'), /UPS/);
  assert.equal(await page.getAttribute('[data-testid="det-check"]', "data-check"), "verified");
  assert.equal(await page.isVisible('[data-testid="det-warn"]'), false);
  assert.equal(await page.inputValue("#carrier"), "ups", "the carrier is filled in");
  await screenshot(page, "intake-carrier-detected");

  // A product barcode is not a tracking number: warned about.
  await page.fill("#tracking", "");
  await page.focus("#tracking");
  await page.keyboard.type("4006381333931");
  await page.keyboard.press("Enter");
  await page.waitForSelector('[data-testid="det-warn"]:not([hidden])');
  assert.match(await page.textContent('[data-testid="det-warn"]'), /EAN/);
  h.assertClean();
});
