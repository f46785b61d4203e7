// Photos kept with an item: staff upload one on the item page (a file input that opens the
// phone's rear camera), it shows on the page and in the timeline; the image loads under the
// console's content security policy.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { setup, login, apiInPage, screenshot, uniqueTracking } = require("../lib/harness");

let h;
let page;
let itemId;

before(async () => {
  h = await setup();
  page = await h.newPage();
  await login(page, { user: "clerk", lang: "en" });
  const people = await apiInPage(page, "GET", "/api/v1/people?q=zhang%20weijie");
  const person = people.data.items.find((p) => p.name === "张伟杰");
  assert.ok(person, "demo person 张伟杰 exists");
  const created = await apiInPage(page, "POST", "/api/v1/items", {
    tracking_number: uniqueTracking("SF"),
    recipient: { person_id: person.id },
  });
  assert.equal(created.status, 201);
  itemId = created.data.id;
});
after(async () => {
  if (h) {
    await h.close();
  }
});

/** A PNG drawn in the page: a white "label" with black bars. */
async function labelPng() {
  const dataUrl = await page.evaluate(() => {
    const c = document.createElement("canvas");
    c.width = 320;
    c.height = 200;
    const g = c.getContext("2d");
    g.fillStyle = "#fff";
    g.fillRect(0, 0, 320, 200);
    g.fillStyle = "#000";
    for (let x = 20; x < 300; x += 7) {
      g.fillRect(x, 40, (x % 3) + 2, 120);
    }
    return c.toDataURL("image/png");
  });
  return Buffer.from(dataUrl.split(",")[1], "base64");
}

test("staff keep a photo with an item", async () => {
  await page.goto(`/ui/items/${itemId}`);
  assert.equal(await page.getAttribute("#photo-file", "capture"), "environment");
  assert.equal(await page.textContent('[data-testid="photos-none"]'), "No photos yet.");
  await page.setInputFiles("#photo-file", { name: "label.png", mimeType: "image/png", buffer: await labelPng() });
  await Promise.all([page.waitForLoadState("load"), page.waitForSelector('[data-testid="photo"]'), page.click('form[data-photo-upload] button[type="submit"]')]);
  const photos = page.locator('[data-testid="photo"]');
  assert.equal(await photos.count(), 1);
  await page.waitForFunction(() => {
    const img = document.querySelector('[data-testid="photo"]');
    return img && img.complete && img.naturalWidth === 320;
  });
  const event = page.locator('[data-testid="timeline"] li[data-kind="photo_added"]');
  assert.equal(await event.count(), 1);
  assert.match(await event.textContent(), /Photo added/);
  assert.match(await event.textContent(), /[0-9a-f]{64}/);
  await screenshot(page, "item-photo");
  h.assertClean();
});

test("a file that is not a photo is refused in the page", async () => {
  await page.goto(`/ui/items/${itemId}`);
  await page.setInputFiles("#photo-file", { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello") });
  await page.click('form[data-photo-upload] button[type="submit"]');
  const error = page.locator("[data-photo-error]");
  await error.waitFor({ state: "visible" });
  assert.equal(await error.textContent(), "The photo must be a PNG or JPEG image.");
  assert.equal(await page.locator('[data-testid="photo"]').count(), 1);
  h.assertClean();
});
