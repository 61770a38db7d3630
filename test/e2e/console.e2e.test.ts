// The web console in a real headless Chromium (Debian's `chromium`, driven by playwright-core)
// against the local stack: sign in, a lease created through the API appears by itself, its
// timeline, release from the page; admins see other owners' leases, users do not; text from
// providers renders as text; a bad token is told clearly. Screenshots of the main pages go to
// test-results/console/. Skipped with a message where no Chromium is installed (.ci/run installs it).
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Lease } from "../../src/contract/lease";
import { startStack } from "../../scripts/stack.mjs";
import { closedPortUrl, tempDir } from "../node/cli/helpers/run-cli";

const CHROMIUM = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p): p is string => Boolean(p && existsSync(p)));
if (!CHROMIUM) console.warn("[console e2e] skipped: no chromium (apt-get install chromium, or set CHROMIUM_PATH)");
const SHOTS = join("test-results", "console");

type Stack = Awaited<ReturnType<typeof startStack>>;

describe.skipIf(!CHROMIUM)("the web console in Chromium", () => {
  let stack: Stack;
  let browser: Browser;
  let persistTo: string;
  const output: string[] = [];
  const dialogs: string[] = [];

  const api = async (path: string, token: string, init: { method?: string; body?: unknown } = {}) => {
    const res = await fetch(`${stack.url}${path}`, {
      method: init.method ?? "GET",
      headers: { authorization: `Bearer ${token}`, ...(init.body ? { "content-type": "application/json" } : {}) },
      body: init.body ? JSON.stringify(init.body) : undefined,
    });
    return (await res.json()) as any;
  };
  const newLease = async (token: string, extra: Record<string, unknown> = {}) => {
    const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl console-test";
    return (await api("/v1/leases", token, { method: "POST", body: { provider: "lambda", sshPublicKey: key, ...extra } })) as Lease;
  };
  async function signIn(page: Page, token: string) {
    await page.goto(stack.url);
    await page.fill("#token", token);
    await page.click("button[type=submit]");
  }
  async function openPage(): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    page.on("dialog", (dialog) => {
      dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      // Confirmations are the page's own (release/resume); anything else would be an injection.
      void (dialog.type() === "confirm" ? dialog.accept() : dialog.dismiss());
    });
    return page;
  }

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    persistTo = tempDir("crabbox-console-state-");
    const port = Number(new URL(await closedPortUrl()).port);
    stack = await startStack({ port, persistTo, bootMs: 300, launchIntervalMs: 0, onOutput: (s: string, l: string) => output.push(`[${s}] ${l}`), log: (m: string) => output.push(m) });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("a bad token gets a clear error and nothing else", async () => {
    const page = await openPage();
    await signIn(page, "cbx_not_a_real_token_0000000000");
    await expect.poll(() => page.textContent("[role=alert]")).toMatch(/That token was not accepted/);
    expect(await page.$("#who")).toBeNull();
    await page.screenshot({ path: join(SHOTS, "signin-error.png") });
    await page.close();
  });

  it("signs in; a lease created through the API appears by itself; its timeline; release from the page ends it", async () => {
    const page = await openPage();
    await signIn(page, stack.token);
    await page.waitForSelector("#who");
    expect(await page.textContent("#who")).toBe("dev (user)");
    const lease = await newLease(stack.token);
    const row = page.locator(`tr[data-lease="${lease.slug}"]`);
    await row.waitFor({ timeout: 30_000 });
    await expect.poll(async () => row.textContent(), { timeout: 30_000 }).toMatch(/ready|active/);
    await page.screenshot({ path: join(SHOTS, "my-leases.png") });
    await row.locator("a").click();
    await page.waitForSelector("svg.timeline rect");
    expect(await page.locator("svg.timeline text").allTextContents()).toContain("provisioning");
    expect(await page.textContent("#endpoint")).toContain(`crabbox ssh ${lease.slug}`);
    await page.screenshot({ path: join(SHOTS, "lease.png") });
    await page.click("button.danger");
    await expect.poll(async () => (await api(`/v1/leases/${lease.id}`, stack.token)).state, { timeout: 30_000 }).toBe("released");
    await expect.poll(() => page.textContent("h1"), { timeout: 10_000 }).toContain("released");
    expect(dialogs.filter((d) => d.startsWith("confirm"))).toHaveLength(1);
    await page.close();
  });

  it("renders provider text as text: an injected <img onerror> in an event stays inert", async () => {
    const payload = "<img src=x onerror=alert(1)>";
    await fetch(`${stack.emulator.lambda.url}/_emulator/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ faults: [{ method: "POST", path: "/api/v1/instance-operations/launch", kind: "status", status: 400, code: "global/invalid-parameters", message: payload }] }),
    });
    const lease = await newLease(stack.token);
    await expect.poll(async () => (await api(`/v1/leases/${lease.id}`, stack.token)).state, { timeout: 30_000 }).toMatch(/released|failed/);
    const page = await openPage();
    await signIn(page, stack.token);
    await page.waitForSelector("#who");
    await page.goto(`${stack.url}/#/lease/${lease.id}`);
    await page.waitForSelector("#events");
    await expect.poll(() => page.textContent("#events")).toContain(payload);
    expect(await page.locator("main img").count()).toBe(0);
    expect(dialogs.filter((d) => d.startsWith("alert"))).toEqual([]);
    await page.close();
  });

  it("an admin sees another owner's lease (and the admin pages); that owner's neighbour does not", async () => {
    const lease = await newLease(stack.token);
    const other = (await api("/v1/admin/tokens", stack.adminToken, { method: "POST", body: { owner: "neighbour" } })).token as string;
    const admin = await openPage();
    await signIn(admin, stack.adminToken);
    await admin.waitForSelector("#who");
    await admin.goto(`${stack.url}/#/admin`);
    await admin.locator(`#all-leases tr[data-lease="${lease.slug}"]`).waitFor({ timeout: 30_000 });
    expect(await admin.textContent(`#all-leases tr[data-lease="${lease.slug}"]`)).toContain("dev");
    await admin.waitForSelector("#config td");
    expect(await admin.textContent("#credentials")).toContain("configured");
    expect(await admin.textContent("main")).not.toContain(stack.emulator.lambda.apiKey);
    await admin.screenshot({ path: join(SHOTS, "admin.png"), fullPage: true });
    await admin.goto(`${stack.url}/#/providers`);
    await admin.waitForSelector("#matrix td");
    expect(await admin.textContent("#matrix")).toContain("sealos");
    await admin.screenshot({ path: join(SHOTS, "providers.png") });
    await admin.close();

    const neighbour = await openPage();
    await signIn(neighbour, other);
    await neighbour.waitForSelector("#who");
    await expect.poll(() => neighbour.textContent("main")).toContain("No live leases");
    expect(await neighbour.textContent("main")).not.toContain(lease.slug);
    await neighbour.goto(`${stack.url}/#/admin`);
    expect(await neighbour.textContent("main")).toContain("No such page");
    await neighbour.close();
    await api(`/v1/leases/${lease.id}/release`, stack.token, { method: "POST", body: {} });
  });
});
