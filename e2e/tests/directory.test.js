// The directory in the console: people and departments (search, create, edit), sites and
// locations; only administrators change it.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { setup, login } = require("../lib/harness");

let h;
let admin;
const employeeNo = `E2E${Date.now().toString(36).toUpperCase()}`;

/** Selects the option whose label starts with `prefix`. */
async function selectByLabel(page, selector, prefix) {
  const value = await page.$eval(
    selector,
    (sel, p) => {
      const o = Array.from(sel.options).find((opt) => opt.textContent.startsWith(p));
      return o ? o.value : null;
    },
    prefix,
  );
  assert.ok(value, `an option starting with ${prefix}`);
  await page.selectOption(selector, value);
}

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

test("people are found by pinyin and by Chinese name", async () => {
  await admin.goto("/ui/people?q=zhang%20weijie");
  assert.equal(await admin.getAttribute("html", "lang"), "en");
  assert.equal(await admin.textContent("h1"), "People");
  const rows = admin.locator('[data-testid="people-table"] tbody tr');
  assert.ok((await rows.count()) >= 1);
  assert.match(await rows.first().textContent(), /张伟杰/);
  await admin.goto("/ui/people?q=" + encodeURIComponent("张伟"));
  assert.match(await admin.textContent('[data-testid="people-table"]'), /Zhang Weijie/);
  h.assertClean();
});

test("an administrator creates and edits a person", async () => {
  await admin.goto("/ui/people");
  await Promise.all([admin.waitForURL(/\/ui\/people\/new$/), admin.click('[data-testid="new-person"]')]);
  await admin.fill("#name", "欧阳测试");
  await admin.fill("#name-latin", "Ouyang Ceshi");
  await admin.fill("#employee-no", employeeNo);
  await selectByLabel(admin, "#department", "FIN ");
  await admin.fill("#email", "ouyang.ceshi@example.cn");
  await admin.fill("#aliases", "Owen\n小欧");
  await Promise.all([admin.waitForURL(/\/ui\/people\/[0-9a-f-]{36}\?saved=1$/), admin.click('[data-testid="save-person"]')]);
  assert.equal(await admin.textContent('[data-testid="saved"]'), "Saved.");
  assert.equal(await admin.inputValue("#aliases"), "Owen\n小欧");
  const personUrl = admin.url().replace(/\?saved=1$/, "");

  await admin.fill("#phone", "+86 21 5555 0100");
  await admin.uncheck("#active");
  await Promise.all([admin.waitForURL(/\?saved=1$/), admin.click('[data-testid="save-person"]')]);
  assert.equal(await admin.inputValue("#phone"), "+86 21 5555 0100");
  assert.equal(await admin.isChecked("#active"), false);

  // Aliases are searchable.
  await admin.goto("/ui/people?q=owen");
  const row = admin.locator('[data-testid="people-table"] tbody tr', { hasText: "欧阳测试" });
  assert.equal(await row.count(), 1);
  assert.match(await row.textContent(), /Left/);
  assert.equal(new URL(await row.locator("a").getAttribute("href"), h.base).href, personUrl);
  h.assertClean();
});

test("a duplicate employee number is refused in the form, keeping what was typed", async () => {
  await admin.goto("/ui/people/new");
  await admin.fill("#name", "重复工号");
  await admin.fill("#employee-no", employeeNo);
  const [resp] = await Promise.all([admin.waitForNavigation(), admin.click('[data-testid="save-person"]')]);
  assert.equal(resp.status(), 409);
  assert.match(await admin.textContent('[data-testid="form-error"]'), /^Conflict: employee number/);
  assert.equal(await admin.inputValue("#name"), "重复工号");
  h.assertClean();
});

test("departments are created, edited and deleted; sites list their locations", async () => {
  await admin.goto("/ui/departments/new");
  await admin.fill("#code", "e2e-qa");
  await admin.fill("#name", "质量保证组");
  await admin.fill("#name-en", "Quality Assurance");
  await admin.selectOption("#kind", "team");
  await selectByLabel(admin, "#parent", "RND ");
  await admin.fill("#key-contact", "E0001");
  await Promise.all([admin.waitForURL(/\/ui\/departments\/[0-9a-f-]{36}\?saved=1$/), admin.click('[data-testid="save-department"]')]);
  assert.equal(await admin.inputValue("#code"), "E2E-QA");
  assert.match(await admin.textContent("#key-contact-hint"), /张伟杰/);

  await admin.fill("#name-en", "QA team");
  await Promise.all([admin.waitForURL(/\?saved=1$/), admin.click('[data-testid="save-department"]')]);
  await admin.goto("/ui/departments?q=qa");
  const row = admin.locator('[data-testid="departments-table"] tbody tr', { hasText: "E2E-QA" });
  assert.match(await row.textContent(), /QA team/);
  assert.match(await row.textContent(), /Team/);

  await Promise.all([admin.waitForURL(/\/ui\/departments\/[0-9a-f-]{36}$/), row.locator("a").click()]);
  await Promise.all([admin.waitForURL(/\/ui\/departments$/), admin.click(".danger-zone button")]);
  assert.equal(await admin.locator('[data-testid="departments-table"] tbody tr', { hasText: "E2E-QA" }).count(), 0);

  await admin.goto("/ui/sites");
  const sites = admin.locator('[data-testid="site"]');
  assert.ok((await sites.count()) >= 1);
  assert.match(await sites.first().textContent(), /Asia\/Shanghai/);
  assert.ok((await sites.first().locator("tbody tr").count()) >= 1);
  h.assertClean();
});

test("staff may read the directory but not change it", async () => {
  const clerk = await h.newPage();
  await login(clerk, { user: "clerk" });
  await clerk.goto("/ui/people");
  assert.equal(await clerk.locator('[data-testid="new-person"]').count(), 0);
  await clerk.click('[data-testid="people-table"] tbody tr a >> nth=0');
  assert.equal(await clerk.isDisabled("#name"), true);
  assert.equal(await clerk.locator('[data-testid="save-person"]').count(), 0);
  const resp = await clerk.goto("/ui/people/new");
  assert.equal(resp.status(), 403);
  h.assertClean();
});
