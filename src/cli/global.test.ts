import { afterEach, describe, expect, it } from "vitest";
import { globalOptions, wantsJson } from "./global.ts";

describe("global options", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it("come from flags, else from SHED_* variables", () => {
    process.env.SHED_SERVER = "prod";
    process.env.SHED_TIMEOUT = "3s";
    expect(globalOptions({})).toMatchObject({ server: "prod", timeoutMs: 3000, json: false });
    expect(globalOptions({ server: "dev", timeout: "500ms", json: true })).toMatchObject({ server: "dev", timeoutMs: 500, json: true });
    expect(globalOptions({ timeout: "0" }).timeoutMs).toBe(0);
  });

  it("leave a command's own flag of the same name alone", () => {
    delete process.env.SHED_TIMEOUT;
    expect(globalOptions({ timeout: "5m" }, { timeout: { type: "string", description: "" } }).timeoutMs).toBe(10_000);
  });

  it("find --json before -- only", () => {
    expect(wantsJson(["list", "--json"])).toBe(true);
    expect(wantsJson(["exec", "a", "--", "ls", "--json"])).toBe(false);
  });
});
