// Open the server's GraphiQL page in a real headless Chromium, type a query with the keyboard,
// click the run button and read the result from the page, as a person would.
//
//   node run-query.mjs <graphql endpoint URL> <text to wait for in the result> [screenshot.png]
//
// Prints one JSON line: what the editor holds, the result text read from the page, every URL the
// page asked for, and any request for another host (aborted: the page must need none), console
// error or Content-Security-Policy violation. tests/test_graphiql_browser.py checks it.
import { chromium } from "playwright-core";

const [endpoint, awaited, screenshot] = process.argv.slice(2);
if (!endpoint || !awaited) {
  console.error("usage: node run-query.mjs <graphql endpoint URL> <text to wait for> [screenshot.png]");
  process.exit(2);
}
const QUERY = "{ sessions(filter: {saved: null}) { totalCount edges { node { id name } } } }";
const TIMEOUT_MS = 30_000;
const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

const isLocal = (url) => {
  const { protocol, hostname } = new URL(url);
  return protocol === "data:" || protocol === "blob:" || LOCAL_HOSTS.has(hostname);
};
// The lines an editor shows, as text: CodeMirror draws runs of spaces with no-break spaces and
// an empty line with a zero-width space.
const editorText = (selector) =>
  [...document.querySelectorAll(`${selector} .CodeMirror-line`)]
    .map((line) => line.textContent.replaceAll("\u200b", "").replaceAll("\u00a0", " "))
    .join("\n");

const browser = await chromium.launch({
  executablePath: process.env.KALITO_CHROMIUM || "/usr/bin/chromium",
  headless: true,
});
const requested = [];
const external = [];
const consoleErrors = [];
// On a failure too, so that the test's message shows what the page asked for and what broke.
const report = (fields) =>
  console.log(JSON.stringify({ chromium: browser.version(), requested, external, consoleErrors, ...fields }));
try {
  const context = await browser.newContext();
  context.setDefaultTimeout(TIMEOUT_MS);
  // Every request passes here: a local one goes on, any other is refused and recorded.
  await context.route("**/*", (route) => {
    const url = route.request().url();
    requested.push(`${route.request().method()} ${url}`);
    if (isLocal(url)) return route.continue();
    external.push(url);
    return route.abort("blockedbyclient");
  });
  await context.routeWebSocket(/.*/, (socket) => {
    requested.push(`WEBSOCKET ${socket.url()}`);
    if (isLocal(socket.url())) return socket.connectToServer();
    external.push(socket.url());
    return socket.close();
  });
  await context.addInitScript(() => {
    window.cspViolations = [];
    document.addEventListener("securitypolicyviolation", (event) =>
      window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`),
    );
  });

  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(`uncaught: ${error.message}`));

  await page.goto(endpoint);
  const queryEditor = page.locator(".graphiql-query-editor .CodeMirror");
  await queryEditor.waitFor({ state: "visible" });

  // Replace the welcome text with the query, one key at a time.
  await queryEditor.click();
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.press("Backspace");
  await page.keyboard.type(QUERY, { delay: 5 });
  const editorQuery = await page.evaluate(editorText, ".graphiql-query-editor");

  await page.getByRole("button", { name: /execute query/i }).click();
  await page.waitForFunction(
    (text) =>
      [...document.querySelectorAll(".graphiql-response .CodeMirror-line")]
        .some((line) => line.textContent.includes(text)),
    awaited,
  );
  const resultText = await page.evaluate(editorText, ".graphiql-response");
  const cspViolations = await page.evaluate(() => window.cspViolations);
  if (screenshot) await page.screenshot({ path: screenshot });

  report({ typed: QUERY, editorQuery, resultText, cspViolations });
} catch (error) {
  report({ error: String(error) });
  process.exitCode = 1;
} finally {
  await browser.close();
}
