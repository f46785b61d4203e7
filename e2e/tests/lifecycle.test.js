// An item's life in the console: its detail page and timeline, storing it at a location,
// notifying, ready for pickup, a refused (stale) action, and the pickup with a drawn signature.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { setup, login, apiInPage, screenshot, uniqueTracking } = require("../lib/harness");

let h;
let page;
let itemId;
let reference;
const tracking = uniqueTracking("JD");

before(async () => {
  h = await setup();
  page = await h.newPage();
  await login(page, { user: "clerk" });
  const people = await apiInPage(page, "GET", "/api/v1/people?q=zhang%20weijie");
  const person = people.data.items.find((p) => p.name === "张伟杰");
  assert.ok(person, "demo person 张伟杰 exists");
  const created = await apiInPage(page, "POST", "/api/v1/items", {
    tracking_number: tracking,
    recipient: { person_id: person.id },
    kind: "document",
    priority: "urgent",
    sender: { name: "李娜", organisation: "上海市税务局" },
  });
  assert.equal(created.status, 201);
  itemId = created.data.id;
  reference = created.data.reference;
});
after(async () => {
  if (h) {
    await h.close();
  }
});

async function status() {
  return page.getAttribute('[data-testid="status"]', "data-status");
}

async function act(action) {
  await Promise.all([page.waitForURL(new RegExp(`/ui/items/${itemId}\\?done=${action}$`)), page.click(`button[data-action="${action}"]`)]);
}

test("the item page shows all fields and the registration in the timeline", async () => {
  await page.goto(`/ui/items/${itemId}`);
  assert.equal(await page.textContent('[data-testid="reference"]'), reference);
  assert.equal(await status(), "received");
  assert.equal(await page.textContent('[data-testid="status"]'), "已接收");
  const fields = await page.textContent("dl.fields");
  for (const want of [tracking, "张伟杰", "文件", "加急", "李娜", "上海市税务局"]) {
    assert.ok(fields.includes(want), `fields show ${want}`);
  }
  const events = page.locator('[data-testid="timeline"] li');
  assert.equal(await events.count(), 1);
  assert.equal(await events.first().getAttribute("data-kind"), "registered");
  const first = await events.first().textContent();
  assert.match(first, /登记/);
  assert.match(first, /clerk/);
  assert.match(first, /\d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
  // Only the actions the state machine allows from "received".
  const offered = await page.locator('[data-testid="actions"] [data-action]').evaluateAll((els) => els.map((e) => e.dataset.action));
  assert.deepEqual(offered.sort(), ["forward", "hold", "return_to_sender", "store"]);
  h.assertClean();
});

test("store at a location, notify and mark ready for pickup", async () => {
  await page.goto(`/ui/items/${itemId}`);
  const option = await page.locator("#loc-store option").first();
  const locationLabel = (await option.textContent()).split(" · ")[0];
  await page.selectOption("#loc-store", await option.getAttribute("value"));
  await act("store");
  assert.equal(await status(), "stored");
  assert.match(await page.textContent('[data-testid="flash"]'), /已完成：入库/);
  const storeEvent = page.locator('[data-testid="timeline"] li[data-kind="store"]');
  assert.match(await storeEvent.textContent(), new RegExp(locationLabel.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  assert.match(await storeEvent.textContent(), /已接收 → 已入库/);
  assert.match(await page.textContent("dl.fields"), new RegExp(locationLabel.split(" ")[0]));

  await act("notify");
  assert.equal(await status(), "notified");
  await act("ready_for_pickup");
  assert.equal(await status(), "ready_for_pickup");
  assert.equal(await page.textContent('[data-testid="status"]'), "待领取");
  h.assertClean();
});

test("an action that no longer fits the status is refused with a translated error", async () => {
  // A second tab still shows the item as "ready for pickup" after it was put on hold in the first.
  const stale = await h.newPage();
  await stale.context().addCookies(await page.context().cookies());
  await stale.goto(`/ui/items/${itemId}`);
  assert.equal(await stale.getAttribute('[data-testid="status"]', "data-status"), "ready_for_pickup");

  await page.goto(`/ui/items/${itemId}`);
  await page.fill("#note-hold", "收件人出差，暂存");
  await act("hold");
  assert.equal(await status(), "held");
  assert.match(await page.textContent('[data-testid="timeline"] li[data-kind="hold"]'), /收件人出差，暂存/);

  // "Ready for pickup" offered "hold" too; on the stale page, hold again.
  await stale.fill("#note-hold", "再次扣留");
  const [resp] = await Promise.all([stale.waitForNavigation(), stale.click('button[data-action="hold"]')]);
  assert.equal(resp.status(), 409);
  const error = await stale.textContent('[data-testid="action-error"]');
  assert.match(error, /^当前状态下不允许此操作：cannot hold an item that is held/);
  // The page now shows the real status and what is possible from it.
  assert.equal(await stale.getAttribute('[data-testid="status"]', "data-status"), "held");
  assert.equal(await stale.locator('button[data-action="release"]').count(), 1);
  // Links lead back to the item page, not to the form's target.
  assert.match(await stale.getAttribute('[data-testid="lang-switch"]', "href"), new RegExp(`next=%2Fui%2Fitems%2F${itemId}$`));

  await act("release");
  assert.equal(await status(), "stored");
  await act("ready_for_pickup");
  assert.equal(await status(), "ready_for_pickup");
  h.assertClean();
});

test("pickup with a signature drawn on the pad", async () => {
  await page.goto(`/ui/items/${itemId}`);
  await Promise.all([page.waitForURL(/\/handover\?action=pick_up$/), page.click('a[data-action="pick_up"]')]);
  assert.equal(await page.textContent("h1 .ref"), reference);
  assert.equal(await page.inputValue("#taken-by"), "张伟杰");

  // Without a signature the form is not sent.
  await page.click("#handover-submit");
  assert.equal(await page.textContent('[data-testid="handover-error"]'), "请先签名（或上传签名图片）。");

  await page.selectOption("#id-type", "staff_card");
  await page.fill("#id-digits", "0042");
  await page.fill("#place", "一楼收发室柜台");
  const box = await page.locator('[data-testid="signature-pad"]').boundingBox();
  const points = [
    [0.1, 0.7], [0.2, 0.3], [0.3, 0.75], [0.4, 0.35], [0.5, 0.7], [0.6, 0.4], [0.75, 0.6], [0.9, 0.45],
  ];
  await page.mouse.move(box.x + box.width * points[0][0], box.y + box.height * points[0][1]);
  await page.mouse.down();
  for (const [x, y] of points.slice(1)) {
    await page.mouse.move(box.x + box.width * x, box.y + box.height * y, { steps: 6 });
  }
  await page.mouse.up();
  // Ink on the canvas.
  const inked = await page.evaluate(() => {
    const c = document.getElementById("signature-pad");
    const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let dark = 0;
    for (let i = 0; i < px.length; i += 4) {
      if (px[i] < 128) {
        dark++;
      }
    }
    return dark;
  });
  assert.ok(inked > 100, `the pad has ink (${inked} dark pixels)`);
  await screenshot(page, "handover-zh");

  await Promise.all([page.waitForURL(new RegExp(`/ui/items/${itemId}\\?done=pick_up$`)), page.click("#handover-submit")]);
  assert.equal(await status(), "picked_up");
  assert.equal(await page.textContent('[data-testid="status"]'), "已领取");
  const record = await page.textContent('[data-testid="handover-record"]');
  assert.match(record, /张伟杰/);
  assert.match(record, /工牌，尾号 0042/);
  assert.match(record, /一楼收发室柜台/);
  await page.waitForFunction(() => {
    const img = document.querySelector('[data-testid="signature"]');
    return img && img.complete && img.naturalWidth > 0;
  });
  const sig = await page.evaluate(async (id) => {
    const r = await fetch(`/api/v1/items/${id}/signature`);
    const bytes = new Uint8Array(await r.arrayBuffer());
    return { status: r.status, type: r.headers.get("content-type"), magic: Array.from(bytes.slice(0, 4)) };
  }, itemId);
  assert.equal(sig.status, 200);
  assert.equal(sig.type, "image/png");
  assert.deepEqual(sig.magic, [0x89, 0x50, 0x4e, 0x47]);
  const pickup = await page.textContent('[data-testid="timeline"] li[data-kind="pick_up"]');
  assert.match(pickup, /待领取 → 已领取/);
  assert.match(pickup, /张伟杰/);
  // Closed: nothing more to do.
  assert.equal(await page.locator('[data-testid="actions"] [data-action]').count(), 0);
  await screenshot(page, "item-detail-zh");

  await page.click('[data-testid="lang-switch"]');
  await page.waitForSelector('html[lang="en"]');
  assert.equal(await page.textContent('[data-testid="status"]'), "Picked up");
  assert.match(await page.textContent('[data-testid="handover-record"]'), /Staff card ending 0042/);
  await screenshot(page, "item-detail-en");
  h.assertClean();
});

test("a signature can be uploaded as an SVG file instead", async () => {
  const people = await apiInPage(page, "GET", "/api/v1/people?q=zhang%20weijie");
  const created = await apiInPage(page, "POST", "/api/v1/items", {
    tracking_number: uniqueTracking("EA"),
    recipient: { person_id: people.data.items[0].id },
  });
  const id = created.data.id;
  const location = (await apiInPage(page, "GET", "/api/v1/locations")).data.items[0].id;
  for (const body of [{ action: "store", location_id: location }, { action: "notify" }, { action: "out_for_delivery" }]) {
    const r = await apiInPage(page, "POST", `/api/v1/items/${id}/transitions`, body);
    assert.equal(r.status, 200, JSON.stringify(r.data));
  }
  await page.goto(`/ui/items/${id}`);
  await Promise.all([page.waitForURL(/\/handover\?action=deliver$/), page.click('a[data-action="deliver"]')]);
  await page.fill("#taken-by", "王芳（代收）");
  await page.setInputFiles("#signature-file", {
    name: "signature.svg",
    mimeType: "image/svg+xml",
    buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="60"><path d="M5 50 C 40 0, 80 0, 195 40" stroke="#000" fill="none"/></svg>'),
  });
  await page.waitForFunction(() => document.getElementById("file-name").textContent === "signature.svg");
  await Promise.all([page.waitForURL(/\?done=deliver$/), page.click("#handover-submit")]);
  assert.equal(await status(), "delivered");
  assert.match(await page.textContent('[data-testid="taken-by"]'), /王芳（代收）/);
  await page.waitForFunction(() => {
    const img = document.querySelector('[data-testid="signature"]');
    return img && img.complete && img.naturalWidth > 0;
  });
  h.assertClean();
});
