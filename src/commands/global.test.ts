import { describe, expect, it } from "vitest";
import { extractGlobalOptions } from "./global.ts";

describe("global options", () => {
  it("are taken from before or after the command", () => {
    expect(extractGlobalOptions(["--json", "list"])).toEqual({ globals: { json: true, verbose: false }, rest: ["list"] });
    expect(extractGlobalOptions(["list", "--json", "-s", "prod", "-v"])).toEqual({
      globals: { json: true, verbose: true, server: "prod" },
      rest: ["list"],
    });
    expect(extractGlobalOptions(["--server=x", "info", "a"]).globals.server).toBe("x");
  });

  it("leave everything after -- alone (the remote command's own flags)", () => {
    const { globals, rest } = extractGlobalOptions(["exec", "a", "--", "ls", "--json", "-v"]);
    expect(globals).toEqual({ json: false, verbose: false });
    expect(rest).toEqual(["exec", "a", "--", "ls", "--json", "-v"]);
  });

  it("refuse -s without a value", () => {
    expect(() => extractGlobalOptions(["list", "-s"])).toThrow("-s needs a server name");
  });
});
