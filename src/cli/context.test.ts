import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { setCliContext } from "./context.ts";

/** Opening the connection ahead (preconnect) reads the config early; what is wrong there is still said by client(), when asked. */
describe("setCliContext with preconnect", () => {
  const saved = process.env.SHED_CONFIG_DIR;
  const dirs: string[] = [];
  afterEach(() => {
    if (saved === undefined) delete process.env.SHED_CONFIG_DIR;
    else process.env.SHED_CONFIG_DIR = saved;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const globals = (server?: string) => ({ server, verbose: false, json: false, timeoutMs: 1000 });

  it("an unknown -s NAME does not throw at start-up, and is the client's error", () => {
    const dir = mkdtempSync(join(tmpdir(), "shed-ctx-"));
    dirs.push(dir);
    writeFileSync(join(dir, "config.yaml"), "servers: {}\n");
    process.env.SHED_CONFIG_DIR = dir;
    const ctx = setCliContext(globals("nope"), { preconnect: true });
    expect(() => ctx.client()).toThrow(/nope/);
  });

  it("a broken config file does not throw at start-up either", () => {
    const dir = mkdtempSync(join(tmpdir(), "shed-ctx-"));
    dirs.push(dir);
    writeFileSync(join(dir, "config.yaml"), "servers: [unclosed\n");
    process.env.SHED_CONFIG_DIR = dir;
    const ctx = setCliContext(globals(), { preconnect: true });
    expect(() => ctx.client()).toThrow();
  });
});
