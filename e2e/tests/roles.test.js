// Roles in the console: the operator's on-site clerk switches between the organisations it
// serves; auditors read and verify but change nothing; finance sees its categories.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { setup, login, apiInPage, screenshot } = require("../lib/harness");

let h;

before(async () => {
  h = await setup();
});
after(async () => {
  if (h) {
    await h.close();
  }
});

async function switchTo(page, slug) {
  await page.selectOption('[data-testid="org-switch"]', slug);
  await Promise.all([page.waitForURL((u) => u.pathname !== "/ui/tenant"), page.click('[data-testid="org-go"]')]);
}

test("the operator's clerk switches between the organisations it is assigned to", async () => {
  const page = await h.newPage();
  await login(page, { org: "operator", user: "clerk", lang: "en" });
  assert.match(page.url(), /\/ui\/intake$/);
  const options = await page.locator('[data-testid="org-switch"] option').evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(options, ["operator", "demo", "demo-hospital"]);
  // At home the clerk has no mail to handle.
  let me = await apiInPage(page, "GET", "/api/v1/me");
  assert.equal(me.data.tenant, "operator");
  assert.equal((await apiInPage(page, "GET", "/api/v1/items")).data.items.length, 0);
  await switchTo(page, "demo");
  me = await apiInPage(page, "GET", "/api/v1/me");
  assert.equal(me.data.tenant, "demo");
  assert.equal(me.data.role, "staff");
  assert.ok(me.data.site_id, "in the company the clerk works at one site");
  assert.equal(await page.inputValue('[data-testid="org-switch"]'), "demo");
  await page.goto("/ui/items");
  assert.ok((await page.locator("table tbody tr").count()) > 0, "the company's items are listed");
  await screenshot(page, "operator-clerk-in-demo");
  await switchTo(page, "demo-hospital");
  me = await apiInPage(page, "GET", "/api/v1/me");
  assert.equal(me.data.tenant, "demo-hospital");
  assert.equal(me.data.site_id, null);
  await switchTo(page, "operator");
  assert.equal((await apiInPage(page, "GET", "/api/v1/me")).data.tenant, "operator");
  h.assertClean();
});

test("an auditor reads items, reports and the custody log, and changes nothing", async () => {
  const page = await h.newPage();
  await login(page, { user: "auditor", lang: "en" });
  assert.match(page.url(), /\/ui\/items$/);
  assert.equal(await page.locator('nav.mainnav a[href="/ui/intake"]').count(), 0);
  assert.equal(await page.locator('nav.mainnav a[href="/ui/reports"]').count(), 1);
  await Promise.all([page.waitForURL(/\/ui\/items\/[0-9a-f-]{36}$/), page.click("table tbody tr a >> nth=0")]);
  assert.ok(await page.isVisible('[data-testid="timeline"]'));
  assert.equal(await page.locator('[data-testid="actions"]').count(), 0);
  await page.goto("/ui/reports");
  assert.equal(await page.textContent("h1"), "Reports");
  await Promise.all([page.waitForURL(/verify=1/), page.click('[data-testid="verify-custody"]')]);
  assert.match(await page.textContent('[data-testid="custody-verdict"]'), /^Intact: \d+ custody events/);
  await screenshot(page, "auditor-reports");
  const resp = await page.goto("/ui/intake");
  assert.equal(resp.status(), 403);
  const r = await apiInPage(page, "POST", "/api/v1/items", { recipient: { department_id: "00000000-0000-0000-0000-000000000000" } });
  assert.equal(r.status, 403);
  h.assertClean();
});

test("finance sees invoices and bank statements besides its own mail", async () => {
  const page = await h.newPage();
  await login(page, { user: "finance", lang: "en" });
  assert.match(page.url(), /\/ui\/items$/);
  const me = (await apiInPage(page, "GET", "/api/v1/me")).data;
  const all = (await apiInPage(page, "GET", "/api/v1/items?limit=200")).data.items;
  assert.ok(all.some((i) => i.category === "invoice"), "the demo has invoices");
  for (const i of all) {
    const own = i.recipient_person_id === me.person_id || i.recipient_department_id === me.department_id;
    // A confidential item finance may list (a bank statement) shows no category to them.
    const withheld = i.redacted && i.confidentiality !== "internal";
    assert.ok(own || withheld || ["invoice", "bank_statement"].includes(i.category), `${i.reference} (${i.category})`);
  }
  h.assertClean();
});
