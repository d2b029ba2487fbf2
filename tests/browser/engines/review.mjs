// The review page driven in Firefox ESR (puppeteer-core over WebDriver BiDi) or WebKitGTK, Safari's engine
// (selenium-webdriver against WebKitWebDriver and MiniBrowser): tests/browser/test_engines.py runs it against the
// live stack and checks what it reports. One scenario for both engines, behind a few driver calls.
//
//   node tests/browser/engines/review.mjs '{"engine": "firefox", "base": "http://127.0.0.1:8000",
//       "cookie": {"name": "sessionid", "value": "..."}, "job": "<uuid>", "times": [0.05, 1.2], "approve": true}'
//
// Prints one JSON object: the page's plan, its canvas at each time (PNG data URLs) before and after an
// adjustment made through the text-size slider, the adjust -> redraw time, and the parity verdict after Approve.
import puppeteer from "puppeteer-core";
import { Builder } from "selenium-webdriver";

const FIREFOX = process.env.FIREFOX || "/usr/bin/firefox-esr";
const MINIBROWSER = process.env.MINIBROWSER || "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";
const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER_URL;  // a WebKitWebDriver the test started

class Firefox {
  static async open() {
    const browser = await puppeteer.launch({ browser: "firefox", executablePath: FIREFOX, headless: true,
      extraPrefsFirefox: { "media.autoplay.default": 0 } });
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
    const engine = Object.assign(new Firefox(), { browser, page, messages: [] });
    page.on("pageerror", (error) => engine.messages.push(`pageerror: ${error.message}`));
    page.on("console", (message) => { if (message.type() === "error") engine.messages.push(message.text()); });
    return engine;
  }
  async cookie(base, { name, value }) {
    await this.page.goto(`${base}/healthz`);  // a cookie is set on the page's own origin
    await this.page.setCookie({ name, value, domain: new URL(base).hostname, path: "/" });
  }
  async goto(url) { await this.page.goto(url, { waitUntil: "load" }); }
  // `body` is a function body run in the page with `arg`: both drivers take it as text.
  async run(body, arg = null) { return this.page.evaluate(new Function("arg", body), arg); }
  async click(selector) { await this.page.click(selector); }
  async close() { await this.browser.close(); }
}

class WebKit {
  static async open() {
    const capabilities = { browserName: "MiniBrowser",
      "webkitgtk:browserOptions": { binary: MINIBROWSER, args: ["--automation"] } };
    const driver = await new Builder().usingServer(WEBKIT_DRIVER).withCapabilities(capabilities).build();
    await driver.manage().window().setRect({ width: 1400, height: 1000 });
    return Object.assign(new WebKit(), { driver });
  }
  async cookie(base, { name, value }) {
    await this.driver.get(`${base}/healthz`);  // a cookie is set on the page's own origin
    await this.driver.manage().addCookie({ name, value, path: "/" });
  }
  async goto(url) { await this.driver.get(url); }
  async run(body, arg = null) {
    // Async so that a body may await; WebDriver hands the result back through the callback.
    return this.driver.executeAsyncScript(
      `const done = arguments[arguments.length - 1];
       Promise.resolve((async (arg) => { ${body} })(arguments[0])).then(done, (e) => done({ error: String(e) }));`, arg);
  }
  async click(selector) { await (await this.driver.findElement({ css: selector })).click(); }
  async close() { await this.driver.quit(); }
}

async function until(engine, condition, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await engine.run(`return Boolean(${condition});`)) return;
    if (Date.now() > deadline) {
      const where = await engine.run("return [location.href, document.title, window.studio ? Object.keys(studio) : null];");
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (at ${JSON.stringify(where)})`);
    }
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

const CANVAS_AT = `const shots = {};
  for (const t of arg) { studio.view.drawAt(t); shots[t] = studio.view.canvas.toDataURL("image/png"); }
  studio.player.redraw();
  return shots;`;

async function scenario(engine, report, { base, cookie, job, times, approve }) {
  await engine.cookie(base, cookie);
  await engine.goto(`${base}/studio/jobs/${job}/`);
  await until(engine, "window.studio && window.studio.ready === true", 30000, "the review page");
  report.mode = await engine.run("return studio.view ? 'canvas' : 'fallback';");
  report.modeText = await engine.run("return document.getElementById('capabilities').textContent;");
  report.capabilities = await engine.run("return studio.capabilities;");
  if (report.mode !== "canvas") return;
  await until(engine, "Object.values(studio.view.payload.sprites).every((s) => studio.view.sprites.has(s.url))",
    15000, "the text sprites");
  report.userAgent = await engine.run("return navigator.userAgent;");
  report.plan = await engine.run("return studio.view.plan;");
  report.before = await engine.run(CANVAS_AT, times);
  // An adjustment through the page's own control, as a reviewer makes it.
  const count = await engine.run("return studio.adjustCount || 0;");
  await engine.run(`const slider = document.getElementById("text-scale"); slider.value = "1.3";
    slider.dispatchEvent(new Event("input", { bubbles: true })); slider.dispatchEvent(new Event("change", { bubbles: true }));`);
  await until(engine, `(studio.adjustCount || 0) > ${count}`, 15000, "the adjusted plan");
  await until(engine, "Object.values(studio.view.payload.sprites).every((s) => studio.view.sprites.has(s.url))",
    15000, "the adjusted sprites");
  report.adjustMs = await engine.run("return studio.metrics.lastAdjustMs;");
  report.adjustedPlan = await engine.run("return studio.view.plan;");
  report.after = await engine.run(CANVAS_AT, times);
  if (approve) {
    await engine.click("#approve");
    await until(engine, "document.getElementById('parity')", 120000, "the render's parity check");
    report.parity = await engine.run("return document.getElementById('parity').textContent;");
  }
}

// The report so far is printed whatever happens; a failure is in it, and the exit code says so.
const args = JSON.parse(process.argv[2]);
const engine = args.engine === "firefox" ? await Firefox.open() : await WebKit.open();
const report = { errors: [] };
try {
  await scenario(engine, report, args);
} catch (error) {
  report.failure = String(error.stack || error);
  process.exitCode = 1;
} finally {
  report.errors = [...report.errors, ...(engine.messages || [])];
  process.stdout.write(JSON.stringify(report));
  await engine.close();
}
