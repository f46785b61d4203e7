// Outbound mail in the real console, from request to carrier hand-off: an employee asks for an
// international parcel to Japan (address in Japanese, customs lines), which waits for approval
// over the cost centre's limit; finance approves; the mailroom accepts it at the counter (weighed,
// postage charged), puts it in a batch for its carrier, scans it out with the scan box and hands
// the batch to the courier; the employee then sees it dispatched with its timeline, and its label
// is a PDF. The request form re-shows its values with the problem, and the Chinese console shows
// no untranslated key.
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

/** Catalogue keys that leaked into the page (a missing key is shown as the key itself). */
async function untranslated(page) {
  const text = await page.evaluate(() => document.body.innerText);
  const prefixes = "outbound|nav|common|action|kind|event|item|status|timeline|detail|items|error|errorpage";
  return text.match(new RegExp(`\\b(?:${prefixes})\\.[a-z_]+(?:\\.[a-z_]+)*\\b`, "g")) || [];
}

const RATES =
  "carrier,method,zone,max_weight_g,price,step_price\n" +
  "china_post,registered,domestic,500,8.00,\n" +
  "china_post,international,asia,2000,95.00,20.00\n" +
  "china_post,international,world,2000,140.00,30.00\n" +
  "ems,express,world,5000,260.00,40.00\n";

/** A date-time as a `datetime-local` value in site time (Asia/Shanghai, UTC+8). */
function siteTime(ms) {
  return new Date(ms + 8 * 3600 * 1000).toISOString().slice(0, 16);
}

let prepared = null;

/**
 * Sets up through the API, once: the rate table, a cost centre with an approval limit of ¥100,
 * a topped-up postage account.
 */
function postageSetup() {
  if (!prepared) {
    prepared = (async () => {
      const admin = await h.newPage();
      await login(admin, { user: "admin", lang: "en" });
      const imported = await admin.evaluate(async (csv) => {
        const token = document.querySelector('meta[name="csrf-token"]').content;
        const r = await fetch("/api/v1/postage/rates/import", {
          method: "POST",
          headers: { "Content-Type": "text/csv", "X-CSRF-Token": token, Accept: "application/json" },
          body: csv,
        });
        return r.status;
      }, RATES);
      assert.equal(imported, 200);
      const cc = await apiInPage(admin, "POST", "/api/v1/postage/cost-centres", {
        code: "E2E-OB",
        name: "Outbound test",
        approval_limit: 10000,
      });
      assert.equal(cc.status, 201, JSON.stringify(cc.data));
      const account = await apiInPage(admin, "POST", "/api/v1/postage/accounts", { name: "E2E franking" });
      assert.equal(account.status, 201, JSON.stringify(account.data));
      const topUp = await apiInPage(admin, "POST", `/api/v1/postage/accounts/${account.data.id}/top-ups`, {
        amount: 100000,
      });
      assert.equal(topUp.status, 201, JSON.stringify(topUp.data));
      return { cc, account };
    })();
  }
  return prepared;
}

/** The send's status label on its page. */
async function statusOf(page) {
  return (await page.textContent('[data-testid="status"]')).trim();
}

/** Submits a form by its button and waits for the page it leads to. */
async function submit(page, selector) {
  await Promise.all([page.waitForLoadState("load"), page.waitForNavigation(), page.click(selector)]);
}

test("outbound parcel to Japan: request, approval, acceptance, batch scan-out and hand-over", async () => {
  const { cc } = await postageSetup();

  // The employee finds Outbound in the navigation and opens the request form.
  const emp = await h.newPage();
  await login(emp, { user: "employee", lang: "en" });
  await Promise.all([emp.waitForURL(/\/ui\/outbound$/), emp.click('nav.mainnav a[href="/ui/outbound"]')]);
  assert.equal((await emp.textContent("h1")).trim(), "My sends");
  await Promise.all([emp.waitForURL(/\/ui\/outbound\/new$/), emp.click('[data-testid="new-request"]')]);
  await emp.fill("#recipient-name", "山田太郎");
  await emp.fill("#country", "日本");
  await emp.fill("#address", "〒100-0005\n東京都千代田区丸の内1-9-1");
  await emp.fill("#postal-code", "12");
  await emp.fill("#recipient-phone", "+81 3 1234 5678");
  await emp.selectOption("#kind", "parcel");
  await emp.fill("#contents", "Conference gifts");
  await emp.selectOption("#method", "international");
  await emp.selectOption("#carrier", "china_post");
  await emp.fill("#weight", "1500");
  const ccLabel = await emp.evaluate(() =>
    [...document.querySelectorAll("#cost-centre option")].map((o) => o.textContent).find((t) => t.startsWith("E2E-OB")),
  );
  assert.ok(ccLabel, "the cost centre is offered");
  await emp.selectOption("#cost-centre", { label: ccLabel });
  await emp.selectOption("#customs-category", "gift");
  const lines = [
    ["men's cotton T-shirts", "3", "600", "45.00", "USD", "6109.10", "CN"],
    ["porcelain tea cups", "2", "700", "30.00", "USD", "691110", "China"],
  ];
  for (const [i, l] of lines.entries()) {
    const n = i + 1;
    await emp.fill(`#l${n}-description`, l[0]);
    await emp.fill(`#l${n}-quantity`, l[1]);
    await emp.fill(`#l${n}-weight`, l[2]);
    await emp.fill(`#l${n}-value`, l[3]);
    await emp.fill(`#l${n}-currency`, l[4]);
    await emp.fill(`#l${n}-hs`, l[5]);
    await emp.fill(`#l${n}-origin`, l[6]);
  }
  // A postal code Japan does not have: the form comes back filled, with the problem.
  await submit(emp, '[data-testid="submit-request"]');
  await emp.waitForSelector('[data-testid="form-error"]');
  assert.match(await emp.textContent('[data-testid="form-error"]'), /'12' is not a valid .* for Japan/);
  assert.equal(await emp.inputValue("#recipient-name"), "山田太郎");
  assert.equal(await emp.inputValue("#address"), "〒100-0005\n東京都千代田区丸の内1-9-1");
  assert.equal(await emp.inputValue("#l2-description"), "porcelain tea cups");
  assert.equal(await emp.inputValue("#cost-centre"), cc.data.id);
  assert.deepEqual(await untranslated(emp), []);
  await screenshot(emp, "outbound-request-error-en");

  // Put right: the request is taken and waits for approval (¥135 estimated, over ¥100).
  await emp.fill("#postal-code", "");
  await submit(emp, '[data-testid="submit-request"]');
  await emp.waitForURL(/\/ui\/outbound\/[0-9a-f-]{36}\?done=created$/);
  const itemUrl = new URL(emp.url()).pathname;
  assert.equal(await statusOf(emp), "Awaiting approval");
  await emp.waitForSelector('[data-testid="flash"]');
  await emp.waitForSelector('[data-testid="awaiting-note"]');
  const reference = (await emp.textContent('[data-testid="reference"]')).trim();
  assert.match(await emp.textContent('[data-testid="address-lines"]'), /東京都/);
  assert.match(await emp.textContent('[data-testid="latin-lines"]'), /Chiyoda-ku, TOKYO 100-0005/);
  assert.match(await emp.textContent('[data-testid="fields"]'), /¥135\.00/);
  assert.equal(await emp.textContent('[data-testid="customs-form"]'), "CN22");
  assert.equal(await emp.locator('[data-testid="approve-form"]').count(), 0, "employees do not approve");
  assert.equal(await emp.locator('[data-testid="cancel-form"]').count(), 1, "the requester may cancel");
  // The list shows it among the employee's sends.
  await emp.goto("/ui/outbound");
  const row = emp.locator(`tr[data-ref="${reference}"]`);
  assert.equal(await row.count(), 1);
  assert.equal((await row.locator('[data-testid="row-status"]').textContent()).trim(), "Awaiting approval");
  assert.match(await row.textContent(), /JP/);

  // Finance approves.
  const finance = await h.newPage();
  await login(finance, { user: "finance", lang: "en" });
  await finance.goto(itemUrl);
  await submit(finance, '[data-testid="approve"]');
  assert.match(finance.url(), /\?done=approve$/);
  assert.equal(await statusOf(finance), "Requested");

  // The mailroom accepts it at the counter: weighed, charged to the account.
  const clerk = await h.newPage();
  await login(clerk, { user: "clerk", lang: "en" });
  await clerk.goto(itemUrl);
  await clerk.fill("#accept-weight", "1500");
  const accountLabel = await clerk.evaluate(() =>
    [...document.querySelectorAll("#accept-account option")].map((o) => o.textContent).find((t) => t.startsWith("E2E franking")),
  );
  await clerk.selectOption("#accept-account", { label: accountLabel });
  await submit(clerk, '[data-testid="accept"]');
  assert.match(clerk.url(), /\?done=accept$/);
  assert.equal(await statusOf(clerk), "Accepted for dispatch");
  const fields = await clerk.textContent('[data-testid="fields"]');
  assert.match(fields, /Postage charged\s*¥135\.00/);

  // A batch for its carrier, collected in an hour.
  await clerk.goto("/ui/outbound/batches");
  await clerk.selectOption("#batch-carrier", "china_post");
  await clerk.fill("#batch-collection", siteTime(Date.now() + 3600 * 1000));
  await submit(clerk, '[data-testid="create-batch"]');
  await clerk.waitForURL(/\/ui\/outbound\/batches\/[0-9a-f-]{36}\?done=created$/);
  const batchUrl = new URL(clerk.url()).pathname;
  assert.equal(await clerk.locator(`tr[data-ref="${reference}"]`).count(), 1, "the accepted item is in the batch");
  assert.equal((await clerk.textContent(`tr[data-ref="${reference}"] [data-testid="scanned"]`)).trim(), "");
  assert.equal(await clerk.getAttribute('[data-testid="manifest-pdf"]', "href"), `/api/v1/outbound/batches/${batchUrl.split("/").pop()}/manifest.pdf`);
  // The scan box has the focus; the scanner types the reference and Enter.
  assert.equal(await clerk.evaluate(() => document.activeElement && document.activeElement.id), "scan-code");
  await Promise.all([clerk.waitForURL(/done=scanned/), clerk.keyboard.type(`${reference}\n`)]);
  await clerk.waitForSelector('[data-testid="flash"]');
  assert.match(await clerk.textContent('[data-testid="flash"]'), new RegExp(reference));
  assert.equal((await clerk.textContent(`tr[data-ref="${reference}"] [data-testid="scanned"]`)).trim(), "✓");
  assert.equal(await clerk.evaluate(() => document.activeElement && document.activeElement.id), "scan-code", "ready for the next scan");
  await screenshot(clerk, "outbound-batch-scanned-en");
  // Hand-over to the courier.
  await clerk.fill("#courier-name", "李师傅");
  await submit(clerk, '[data-testid="hand-over"]');
  assert.match(await clerk.textContent('[data-testid="flash"]'), /Handed over: 1 dispatched/);
  assert.equal((await clerk.textContent('[data-testid="batch-status"]')).trim(), "Handed over");
  assert.equal(await clerk.textContent('[data-testid="courier"]'), "李师傅");
  await clerk.goto("/ui/outbound/batches");
  assert.equal(await clerk.locator('[data-testid="batches"] tbody tr').count() >= 1, true);

  // The employee sees it dispatched, with the custody timeline.
  await emp.goto(itemUrl);
  assert.equal(await statusOf(emp), "Dispatched");
  const kinds = await emp.$$eval('[data-testid="timeline"] li', (els) => els.map((e) => e.dataset.kind));
  for (const k of [
    "outbound_requested",
    "outbound_approve",
    "outbound_accept",
    "outbound_batched",
    "outbound_scanned_out",
    "outbound_dispatch",
  ]) {
    assert.ok(kinds.includes(k), `timeline has ${k}: ${kinds}`);
  }
  assert.match(await emp.textContent('[data-testid="timeline"]'), /Handed to the carrier[\s\S]*李师傅|李师傅[\s\S]*Handed to the carrier/);
  assert.equal(await emp.locator('[data-testid="actions"]').count(), 0, "nothing left for the employee to do");
  // The label link answers with a PDF (the session cookie authorises it).
  const href = await emp.getAttribute('[data-testid="label-pdf"]', "href");
  const pdf = await emp.evaluate(async (u) => {
    const r = await fetch(u);
    const b = new Uint8Array(await r.arrayBuffer());
    return { status: r.status, type: r.headers.get("content-type"), magic: String.fromCharCode(...b.slice(0, 5)) };
  }, href);
  assert.deepEqual(pdf, { status: 200, type: "application/pdf", magic: "%PDF-" });
  await screenshot(emp, "outbound-dispatched-en");

  // In Chinese: translated, no key shown, on every outbound page.
  await Promise.all([emp.waitForSelector('html[lang="zh-CN"]'), emp.click('[data-testid="lang-switch"]')]);
  assert.equal(await statusOf(emp), "已交寄");
  assert.deepEqual(await untranslated(emp), []);
  for (const path of ["/ui/outbound", "/ui/outbound/new"]) {
    await emp.goto(path);
    assert.deepEqual(await untranslated(emp), [], path);
  }
  await Promise.all([clerk.waitForSelector('html[lang="zh-CN"]'), clerk.click('[data-testid="lang-switch"]')]);
  for (const path of [itemUrl, batchUrl, "/ui/outbound/batches", "/ui/outbound"]) {
    await clerk.goto(path);
    assert.deepEqual(await untranslated(clerk), [], path);
  }
  await screenshot(clerk, "outbound-list-zh");
  h.assertClean();
});

test("CSV mailing: a bad line refuses the file and is named; the corrected file creates every send", async () => {
  const { cc } = await postageSetup();
  const clerk = await h.newPage();
  await login(clerk, { user: "clerk", lang: "en" });
  await clerk.goto("/ui/outbound");
  await clerk.waitForSelector('[data-testid="mailing-form"]');
  const bad = "recipient,street,city,region,postal_code,country\n" + "李雷,南京路1号,上海市,上海市,200001,CN\n" + "韩梅梅,中山路2号,南京市,江苏省,21000,CN\n";
  // The chosen file is read into the text box.
  await clerk.setInputFiles("#mailing-file", { name: "survey.csv", mimeType: "text/csv", buffer: Buffer.from(bad) });
  await clerk.waitForFunction(() => document.querySelector("#mailing-csv").value.includes("韩梅梅"));
  await clerk.selectOption("#mailing-method", "registered");
  await clerk.selectOption("#mailing-carrier", "china_post");
  await clerk.selectOption("#mailing-cc", cc.data.id);
  await clerk.fill("#mailing-contents", "Satisfaction survey");
  await clerk.fill("#mailing-weight", "20");
  // The mailroom sends it on an employee's behalf.
  await clerk.fill("#mailing-requester", "E0001");
  await submit(clerk, '[data-testid="mailing-submit"]');
  await clerk.waitForSelector('[data-testid="bad-lines"]');
  const lines = await clerk.$$eval('[data-testid="bad-lines"] li', (els) => els.map((e) => e.textContent));
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.match(lines[0], /^Line 3: /);
  assert.equal(await clerk.inputValue("#mailing-contents"), "Satisfaction survey", "the form keeps what was typed");
  assert.deepEqual(await untranslated(clerk), []);
  // Put right: both sends are created, at ¥8.00 each.
  await clerk.fill("#mailing-csv", bad.replace(",21000,", ",210000,"));
  await submit(clerk, '[data-testid="mailing-submit"]');
  await clerk.waitForSelector('[data-testid="mailing-result"]');
  assert.match(await clerk.textContent('[data-testid="mailing-summary"]'), /2 sends, 0 awaiting approval, estimated postage ¥16\.00/);
  await Promise.all([clerk.waitForURL(/mailing=/), clerk.click('[data-testid="mailing-result"] a')]);
  assert.equal(await clerk.locator('[data-testid="outbound-table"] tbody tr').count(), 2);
  await Promise.all([clerk.waitForSelector('html[lang="zh-CN"]'), clerk.click('[data-testid="lang-switch"]')]);
  assert.deepEqual(await untranslated(clerk), []);
  await screenshot(clerk, "outbound-mailing-zh");
  h.assertClean();
});
