// The portal in a real browser (headless Chromium from Debian, driven by playwright-core):
// driven by tests/it/test_portal.py, which starts the real stack and passes it in env:
//   PORTAL_URL, USERS (JSON name -> password), JAR, PYAPP, WORK, OTHER_ID (a driver of bob's),
//   PLAYWRIGHT_CORE (path of the package), CHROMIUM.
// Prints "ok NAME" / "FAIL NAME: why" per check; screenshots go to WORK/screenshots/.
"use strict";
const { chromium } = require(process.env.PLAYWRIGHT_CORE);
const path = require("path");
const fs = require("fs");

const users = JSON.parse(process.env.USERS);
const shots = path.join(process.env.WORK, "screenshots");
fs.mkdirSync(shots, { recursive: true });
let failed = 0;

async function check(name, fn) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
}

function expect(cond, what) {
  if (!cond) throw new Error(what);
}

async function fill(page, { name, args, memory = "512m", resource = "file:" + process.env.JAR }) {
  await page.fill("#appResource", resource);
  await page.fill("#mainClass", "TestApp");
  await page.fill("#appName", name);
  await page.fill("#appArgs", args.join("\n"));
  await page.fill("#driverMemory", memory);
}

async function submitted(page) {
  await page.waitForFunction(() => /Submitted as|Not submitted/.test(document.getElementById("submitResult").textContent));
  return page.textContent("#submitResult");
}

async function openDetails(page, id) {
  await page.click(`#drivers tbody button:text-is("${id}")`);
  await page.waitForSelector("#details:not([hidden])");
}

async function stateOf(page, id) {
  return page.evaluate((sid) => {
    for (const row of document.querySelectorAll("#drivers tbody tr"))
      if (row.querySelector("td button")?.textContent === sid) return row.querySelector(".state").textContent;
    return null;
  }, id);
}

async function waitState(page, id, state, ms) {
  const t0 = Date.now();
  for (;;) {
    if ((await stateOf(page, id)) === state) return;
    if (Date.now() - t0 > ms) throw new Error(`${id} not ${state} (is ${await stateOf(page, id)})`);
    await page.waitForTimeout(500);
  }
}

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ["--no-sandbox"] });
  const context = await browser.newContext({ httpCredentials: { username: "alice", password: users.alice } });
  const page = await context.newPage();
  const problems = [];
  // The browser logs every non-2xx answer as a console error; the 403 of the policy
  // refusal below is one the page expects and explains.
  page.on("console", (m) => {
    if (m.type() === "error" && !/status of 403/.test(m.text())) problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(String(e)));
  let finishedId, longId;

  await check("shows who is signed in", async () => {
    await page.goto(process.env.PORTAL_URL);
    await page.waitForFunction(() => /Signed in as/.test(document.getElementById("who").textContent));
    expect((await page.textContent("#who")).includes("alice"), await page.textContent("#who"));
    await page.screenshot({ path: path.join(shots, "portal-start.png"), fullPage: true });
  });

  await check("keyboard reaches the form first and every field has a label", async () => {
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement.id) === "appFile", "first Tab stop");
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll("input, textarea")]
      .filter((i) => !(i.labels && i.labels.length) && !i.getAttribute("aria-label")).map((i) => i.id));
    expect(unlabelled.length === 0, "unlabelled: " + unlabelled);
  });

  await check("submit the test app and watch it reach FINISHED", async () => {
    await fill(page, { name: "portal-finished", args: [path.join(process.env.WORK, "portal-1.txt"), "0", "0"] });
    await page.click("#addProp");
    await page.fill("[aria-label='Property 1 name']", "spark.sgportal.flag");
    await page.fill("[aria-label='Property 1 value']", "yes");
    await page.click("#submitButton");
    const text = await submitted(page);
    const m = /Submitted as (driver-\d{14}-\d{4})/.exec(text);
    expect(m, text);
    finishedId = m[1];
    await waitState(page, finishedId, "FINISHED", 90000);
    await page.screenshot({ path: path.join(shots, "portal-finished.png"), fullPage: true });
    const out = fs.readFileSync(path.join(process.env.WORK, "portal-1.txt"), "utf8");
    expect(out.includes("prop\tspark.sgportal.flag\tyes"), "the driver did not get the property");
  });

  await check("submit a long one and kill it", async () => {
    await fill(page, { name: "portal-long", args: [path.join(process.env.WORK, "portal-2.txt"), "120", "0"] });
    await page.click("#submitButton");
    const m = /Submitted as (driver-\d{14}-\d{4})/.exec(await submitted(page));
    expect(m, "not submitted");
    longId = m[1];
    await waitState(page, longId, "RUNNING", 90000);
    page.once("dialog", (d) => d.accept());
    await page.click(`button[aria-label='Kill ${longId}']`);
    await waitState(page, longId, "KILLED", 60000);
  });

  await check("a policy refusal is explained", async () => {
    await fill(page, { name: "portal-big", args: ["x"], memory: "4g" });
    await page.click("#submitButton");
    const text = await submitted(page);
    expect(/Not submitted \(HTTP 403\): a driver with 4096 MiB of memory is refused .*max driver-memory/.test(text), text);
    await page.screenshot({ path: path.join(shots, "portal-refused.png"), fullPage: true });
  });

  await check("details of a driver", async () => {
    await page.click(`text=${finishedId}`);
    await page.waitForSelector("#details:not([hidden])");
    expect((await page.textContent("#detailsText")).includes("State: FINISHED"), await page.textContent("#detailsText"));
  });

  await check("another user's driver is not visible", async () => {
    await page.reload();
    await page.waitForFunction(() => /Signed in as/.test(document.getElementById("who").textContent));
    const ids = await page.$$eval("#drivers tbody td button", (b) => b.map((x) => x.textContent));
    expect(ids.includes(finishedId) && !ids.includes(process.env.OTHER_ID), JSON.stringify(ids));
  });

  await check("readable on a narrow screen", async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    await page.screenshot({ path: path.join(shots, "portal-narrow.png"), fullPage: true });
    const culprits = await page.evaluate(() => [...document.querySelectorAll("body *")]
      .filter((e) => e.getBoundingClientRect().right > 376).slice(0, 5)
      .map((e) => `${e.tagName}#${e.id}.${e.className} ${Math.round(e.getBoundingClientRect().right)}px`));
    expect(wide <= 376, `page is ${wide}px wide on a 375px screen: ${culprits.join(", ")}`);
  });

  let uploadedJar;
  await check("upload a jar with the file picker, submit it, its output shows while it runs, FINISHED", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.setInputFiles("#appFile", process.env.JAR);
    await page.waitForFunction(() => /Uploaded|Not uploaded/.test(document.getElementById("uploadResult").textContent));
    const said = await page.textContent("#uploadResult");
    expect(said.startsWith("Uploaded test-app.jar"), said);
    uploadedJar = await page.inputValue("#appResource");
    expect(/^http:\/\/127\.0\.0\.1:\d+\/files\/[0-9a-f]{64}\/test-app\.jar$/.test(uploadedJar), uploadedJar);
    await page.screenshot({ path: path.join(shots, "portal-upload.png"), fullPage: true });
    await fill(page, { name: "portal-upload", resource: uploadedJar,
                       args: [path.join(process.env.WORK, "portal-up.txt"), "6", "0", "from-the-portal"] });
    await page.click("#submitButton");
    const m = /Submitted as (driver-\d{14}-\d{4})/.exec(await submitted(page));
    expect(m, "not submitted: " + await page.textContent("#submitResult"));
    await waitState(page, m[1], "RUNNING", 90000);
    await openDetails(page, m[1]);
    // followed: the line the driver printed at its start appears while it still runs
    await page.waitForFunction(() => /TestApp stdout: .*from-the-portal/.test(document.getElementById("logText").textContent),
                               null, { timeout: 60000 });
    expect((await stateOf(page, m[1])) === "RUNNING", "no longer running when its output showed");
    await page.screenshot({ path: path.join(shots, "portal-logs.png"), fullPage: true });
    await waitState(page, m[1], "FINISHED", 90000);
    await page.waitForFunction(() => [...document.querySelectorAll("#timeline li")].map((l) => l.className).join(" ")
                               === "done done done", null, { timeout: 10000 });
    const steps = await page.$$eval("#timeline li", (l) => l.map((x) => x.textContent));
    expect(steps[0].startsWith("Submitted") && steps[2].startsWith("Finished"), JSON.stringify(steps));
    await page.click("#showStderr");
    await page.waitForFunction(() => /Launch Command/.test(document.getElementById("logText").textContent));
    await page.click("#closeDetails");
  });

  // pyapp.py is a real PySpark application: a SparkSession and a DataFrame aggregation on an
  // executor, whose result the driver prints
  await check("drop a .py onto the form and run it: no main class, its job's output, FINISHED", async () => {
    const source = fs.readFileSync(process.env.PYAPP, "utf8");
    const dt = await page.evaluateHandle((text) => {
      const d = new DataTransfer();
      d.items.add(new File([text], "pyapp.py", { type: "text/x-python" }));
      return d;
    }, source);
    await page.fill("#appName", "");
    await page.dispatchEvent("#drop", "drop", { dataTransfer: dt });
    await page.waitForFunction(() => /Uploaded pyapp\.py|Not uploaded/.test(document.getElementById("uploadResult").textContent));
    expect(/\/pyapp\.py$/.test(await page.inputValue("#appResource")), await page.inputValue("#appResource"));
    expect(await page.isDisabled("#mainClass") && await page.isVisible("#pythonNote"), "main class still asked for");
    expect((await page.inputValue("#appName")) === "pyapp", await page.inputValue("#appName"));
    const out = path.join(process.env.WORK, "portal-py.txt");
    await page.fill("#appArgs", [out, "ok"].join("\n"));
    await page.click("#submitButton");
    const m = /Submitted as (driver-\d{14}-\d{4})/.exec(await submitted(page));
    expect(m, "not submitted: " + await page.textContent("#submitResult"));
    await waitState(page, m[1], "FINISHED", 120000);
    await openDetails(page, m[1]);
    await page.waitForFunction(() => /pyapp stdout: .* ok/.test(document.getElementById("logText").textContent));
    await page.waitForFunction(() => /pyapp result: a=3 b=2 c=1/.test(document.getElementById("logText").textContent));
    // its application, as the listing found it: the id, and the driver's log on its worker
    await page.waitForFunction(() => /Application: app-\d{14}-\d{4}/.test(document.getElementById("appLinks").textContent));
    const logLink = await page.getAttribute("#appLinks a:text-is('Driver log on its worker')", "href");
    expect(new RegExp(`/logPage/\\?driverId=${m[1]}&logType=stderr$`).test(logLink || ""), logLink);
    const appId = /app-\d{14}-\d{4}/.exec(await page.textContent("#appLinks"))[0];
    expect((await page.textContent(`#drivers tbody tr:has(button:text-is("${m[1]}")) .appid`)) === appId, "no app id in the list");
    await page.screenshot({ path: path.join(shots, "portal-python.png"), fullPage: true });
    const written = fs.readFileSync(out, "utf8");
    expect(written.includes("arg\t2\tok"), "the script did not get its argument");
    expect(written.includes("job\tresult\ta=3 b=2 c=1"), "the job's result is not in its output: " + written);
    await page.click("#closeDetails");
  });

  await check("a failed driver's timeline says so", async () => {
    await fill(page, { name: "portal-fails", resource: uploadedJar, args: [path.join(process.env.WORK, "portal-f.txt"), "0", "3"] });
    await page.click("#submitButton");
    const m = /Submitted as (driver-\d{14}-\d{4})/.exec(await submitted(page));
    expect(m, "not submitted: " + await page.textContent("#submitResult"));
    await waitState(page, m[1], "FAILED", 90000);
    await openDetails(page, m[1]);
    await page.waitForFunction(() => /Failed/.test(document.querySelector("#timeline li.bad")?.textContent || ""));
    await page.screenshot({ path: path.join(shots, "portal-timeline.png"), fullPage: true });
    await page.click("#closeDetails");
  });

  await check("filter the drivers by state and name, with the count", async () => {
    await page.setViewportSize({ width: 1200, height: 900 });
    const rows = () => page.$$eval("#drivers tbody tr", (trs) => trs.map((r) => [
      r.querySelector("td button")?.textContent, r.querySelector(".state").textContent]));
    await page.selectOption("#filterState", "FINISHED");
    await page.click("#applyFilters");
    await page.waitForFunction(() => [...document.querySelectorAll("#drivers tbody .state")]
      .every((c) => c.textContent === "FINISHED"));
    const finished = await rows();
    expect(finished.length > 0 && finished.some(([id]) => id === finishedId), JSON.stringify(finished));
    expect((await page.textContent("#pageInfo")) === `1–${finished.length} of ${finished.length}`,
      await page.textContent("#pageInfo"));
    await page.selectOption("#filterState", "");
    await page.fill("#filterName", "portal-long");
    await page.click("#applyFilters");
    await page.waitForFunction(() => document.getElementById("pageInfo").textContent === "1–1 of 1");
    expect(JSON.stringify((await rows()).map(([id]) => id)) === JSON.stringify([longId]), JSON.stringify(await rows()));
    expect(await page.isDisabled("#nextPage") && await page.isDisabled("#prevPage"), "pager buttons");
    await page.screenshot({ path: path.join(shots, "portal-filtered.png"), fullPage: true });
    await page.fill("#filterName", "");
    await page.click("#applyFilters");
  });

  await check("no console errors", async () => {
    expect(problems.length === 0, problems.join("\n"));
  });
  await browser.close();
  process.exit(failed ? 1 : 0);
})().catch((e) => { console.log(`FAIL browser: ${e.stack || e}`); process.exit(1); });
