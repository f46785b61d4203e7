// Intake intelligence on the intake screen: a scan is recognised (carrier, check digit), pinyin
// initials find the recipient, the classification rules suggest category, priority and route
// from what is written on the envelope, the storage planner suggests a shelf, and saving
// registers the item classified as suggested and stores it there.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { setup, login, apiInPage, screenshot } = require("../lib/harness");

let h;
let page;

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

function waitForFocus(id) {
  return page.waitForFunction((want) => document.activeElement && document.activeElement.id === want, id);
}

function text(testid) {
  return page.textContent(`[data-testid="${testid}"]`);
}

test("scan → carrier, recipient, rules and location suggested → save", async () => {
  await page.goto("/ui/intake");
  // The intake page offers the label-photo reader beside the scan field.
  await page.waitForSelector('[data-testid="label-photo"] button');
  await waitForFocus("tracking");

  // A UPS label (valid check digit), scanned.
  await page.keyboard.type("1Z999AA10123456784");
  await page.keyboard.press("Enter");
  await page.waitForSelector('[data-testid="detection"]:not([hidden])');
  assert.equal(await page.getAttribute('[data-testid="detection"]', "data-carrier"), "ups");
  assert.equal(await page.getAttribute('[data-testid="det-check"]', "data-check"), "verified");
  assert.equal(await page.inputValue("#carrier"), "ups");

  // Pinyin initials find 张伟杰 among the recipients.
  await waitForFocus("recipient");
  await page.keyboard.type("zwj");
  await page.waitForSelector('#candidates [role="option"]');
  const options = page.locator('#candidates [role="option"]');
  let picked = false;
  for (let i = 0; i < (await options.count()); i++) {
    const current = await page.textContent('#candidates [role="option"][aria-selected="true"]');
    if (current.includes("张伟杰")) {
      picked = true;
      break;
    }
    await page.keyboard.press("ArrowDown");
  }
  assert.ok(picked, "张伟杰 is among the candidates for zwj");
  await page.keyboard.press("Enter");
  await waitForFocus("save");

  // What is written on the envelope: an urgent complaint.
  await page.fill("#notes", "紧急投诉：送错货");
  await page.dispatchEvent("#notes", "change");
  await page.waitForFunction(() => {
    const r = document.querySelector('[data-testid="sugg-rules"]');
    return r && r.textContent.includes("urgent-complaints");
  });
  assert.equal((await text("sugg-category")).trim(), "投诉");
  assert.equal((await text("sugg-priority")).trim(), "加急");
  assert.equal((await text("sugg-route")).trim(), "department:CS");
  assert.match(await text("sugg-location"), /SH-S\d|Shelf|货架/);
  assert.ok(await page.isChecked('[data-testid="store-at"]'), "storing at the suggestion is the default");
  // Category and priority stay on "automatic": the rules decide them when saving.
  assert.equal(await page.inputValue("#category"), "");
  assert.equal(await page.inputValue("#priority"), "");
  await screenshot(page, "intake-suggestions-zh");

  await page.click("#save");
  await page.waitForSelector('[data-testid="result"]:not([hidden])');
  const reference = (await text("result-ref")).trim();
  const found = await apiInPage(page, "GET", `/api/v1/items?tracking=${reference}`);
  assert.equal(found.status, 200);
  const item = found.data.items[0];
  assert.equal(item.tracking_number, "1Z999AA10123456784");
  assert.equal(item.carrier, "ups");
  assert.match(item.recipient_name, /张伟杰/);
  assert.equal(item.category, "complaint");
  assert.equal(item.priority, "urgent");
  assert.equal(item.route, "department:CS");
  assert.equal(item.status, "stored", "stored at the suggested location right after saving");
  assert.ok(item.location_id);

  // The item explains itself: which rules fired and why.
  const why = await apiInPage(page, "GET", `/api/v1/items/${item.id}/explanation`);
  assert.equal(why.status, 200);
  const fired = why.data.decision.fired.map((f) => f.rule);
  assert.deepEqual(fired.slice().sort(), ["complaints", "complaints-due", "urgent-complaints"]);
  // Ready for the next scan.
  await waitForFocus("tracking");
  h.assertClean();
});

test("confidential suggestions ask for the seal and point to the secure room", async () => {
  await page.goto("/ui/intake");
  await waitForFocus("tracking");
  await page.keyboard.press("Enter");
  await waitForFocus("recipient");
  await page.keyboard.type("财务");
  await page.waitForSelector('#candidates [role="option"]');
  await page.keyboard.press("Enter");
  await waitForFocus("save");
  await page.fill("#notes", "增值税发票 2026-11");
  await page.dispatchEvent("#notes", "change");
  await page.waitForFunction(() => {
    const r = document.querySelector('[data-testid="sugg-rules"]');
    return r && r.textContent.includes("invoices");
  });
  assert.equal((await text("sugg-confidentiality")).trim(), "机密");
  await page.waitForSelector('[data-testid="sugg-seal"]');
  assert.match(await text("sugg-location"), /SEC|保密室|Secure/);
  // With the seal number the item is saved, sealed, and put in the secure room.
  await page.fill("#seal", "E2E-SEAL-0001");
  await page.click("#save");
  await page.waitForSelector('[data-testid="result"]:not([hidden])');
  const reference = (await text("result-ref")).trim();
  const found = await apiInPage(page, "GET", `/api/v1/items?tracking=${reference}`);
  const item = found.data.items[0];
  assert.equal(item.category, "invoice");
  assert.equal(item.confidentiality, "confidential");
  assert.equal(item.status, "stored");
  const loc = await apiInPage(page, "GET", "/api/v1/locations");
  const where = loc.data.items.find((l) => l.id === item.location_id);
  assert.ok(where && where.security_level >= 2, `stored at a secure location: ${JSON.stringify(where)}`);
  h.assertClean();
});
