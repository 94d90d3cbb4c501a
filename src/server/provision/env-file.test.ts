import { describe, expect, it } from "vitest";
import { parseEnvFile } from "./env-file.ts";

describe("env_file", () => {
  it("reads KEY=VALUE lines with comments, export and quotes", () => {
    const r = parseEnvFile('# tokens\nGH_TOKEN=abc\nexport A="x y"\nB=\'q\'\n\nC=a=b\n', "/e");
    expect(r).toEqual({ env: { GH_TOKEN: "abc", A: "x y", B: "q", C: "a=b" }, warnings: [] });
  });
  it("names the file and line of what it skips", () => {
    expect(parseEnvFile("ok=1\nnot a pair\n", "/srv/env").warnings).toEqual(["/srv/env:2: not KEY=VALUE; line skipped"]);
  });
});
