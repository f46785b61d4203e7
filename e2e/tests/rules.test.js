// Classification and routing rules in the console: the administrator's rules page (the version in
// force, validation errors with their line, saving a new version, the history) and the item
// page's "why".
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { setup, login, apiInPage, uniqueTracking } = require("../lib/harness");

let h;
let admin;

before(async () => {
  h = await setup();
  admin = await h.newPage();
  await login(admin, { user: "admin", lang: "en" });
});
after(async () => {
  if (h) {
    await h.close();
  }
});

test("an administrator edits the rules, sees errors with their line, and items explain themselves", async () => {
  await admin.goto("/ui/rules");
  assert.equal(await admin.textContent("h1"), "Classification and routing rules");
  // The demo company runs the default pack with its key partners.
  assert.match(await admin.textContent('[data-testid="rules-in-force"]'), /Version 1/);
  const source = await admin.inputValue('[data-testid="rules-source"]');
  assert.match(source, /Acme Components Ltd/);

  // An invalid rule: the error names the line and the rule; nothing is saved.
  await admin.fill('[data-testid="rules-source"]', '[[rule]]\nname = "bad"\nwhen.keywords = ["x"]\nthen.priority = "asap"\n');
  await admin.click('[data-testid="save-rules"]');
  const error = await admin.textContent('[data-testid="rules-error"]');
  assert.match(error, /Line 4/);
  assert.match(error, /bad/);
  assert.match(error, /asap/);

  // A valid change becomes version 2.
  const marked = `${source}\n[[rule]]\nname = "e2e-marker"\nwhen.keywords = ["E2E-MARK"]\nthen.priority = "urgent"\n`;
  await admin.fill('[data-testid="rules-source"]', marked);
  await Promise.all([admin.waitForURL(/\/ui\/rules\?saved=1$/), admin.click('[data-testid="save-rules"]')]);
  assert.match(await admin.textContent('[data-testid="rules-in-force"]'), /Version 2/);
  assert.equal(await admin.locator('[data-testid="rules-versions"] tbody tr').count(), 2);

  // An item registered now is classified by it, and its page says why.
  const people = await apiInPage(admin, "GET", "/api/v1/people?limit=1");
  const person = people.data.items[0].id;
  const reg = await apiInPage(admin, "POST", "/api/v1/items", {
    tracking_number: uniqueTracking("RULE"),
    recipient: { person_id: person },
    sender: { organisation: "Acme Components Ltd" },
    notes: "E2E-MARK 采购合同",
  });
  assert.equal(reg.status, 201, JSON.stringify(reg.data));
  assert.equal(reg.data.category, "contract");
  assert.equal(reg.data.priority, "high");
  assert.equal(reg.data.route, "person:E0003");
  await admin.goto(`/ui/items/${reg.data.id}`);
  const why = await admin.textContent('[data-testid="why"]');
  assert.match(why, /partner-contracts/);
  assert.match(why, /is in key_partners/);
  assert.match(why, /e2e-marker/);
  assert.match(why, /rule "partner-contracts" set it first/);
  h.assertClean();
});
