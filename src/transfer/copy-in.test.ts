import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../test/harness/temp-dir.ts";
import { planCopy } from "./copy-in.ts";

const tempDir = useTempDirs();

function tree(): string {
  const root = tempDir("copy");
  mkdirSync(join(root, "certs/old"), { recursive: true });
  mkdirSync(join(root, "cache"));
  writeFileSync(join(root, "certs/a.pem"), "a");
  writeFileSync(join(root, "certs/old/b.pem"), "bb");
  writeFileSync(join(root, "certs/readme.txt"), "r");
  writeFileSync(join(root, "cache/x.pem"), "x");
  writeFileSync(join(root, "run.sh"), "#!/bin/sh\n");
  chmodSync(join(root, "run.sh"), 0o755);
  symlinkSync(join(root, "nowhere"), join(root, "dangling"));
  return root;
}

describe("copy plans", () => {
  it("sends a file under the target's name into the target's directory, mode kept", () => {
    const root = tree();
    const plan = planCopy({ source: join(root, "run.sh"), target: "/usr/local/bin/run" });
    expect(plan.dir).toBe("/usr/local/bin");
    expect(plan.entries.map((e) => [e.name, e.type, e.size, e.mode])).toEqual([["run", "file", 10, 0o755]]);
  });

  it("walks a directory in order, skipping dangling links; excludes prune whole directories", () => {
    const root = tree();
    const all = planCopy({ source: root, target: "/opt/t" });
    expect(all.dir).toBe("/opt/t");
    expect(all.entries.map((e) => e.name)).toEqual(["cache", "cache/x.pem", "certs", "certs/a.pem", "certs/old", "certs/old/b.pem", "certs/readme.txt", "run.sh"]);
    const pruned = planCopy({ source: root, target: "/opt/t", exclude: ["cache", "certs/old"] });
    expect(pruned.entries.map((e) => e.name)).toEqual(["certs", "certs/a.pem", "certs/readme.txt", "run.sh"]);
  });

  it("include globs pick files by base name (no slash) or by relative path", () => {
    const root = tree();
    expect(planCopy({ source: root, target: "/t", include: ["*.pem"] }).entries.map((e) => e.name)).toEqual([
      "cache/x.pem",
      "certs/a.pem",
      "certs/old/b.pem",
    ]);
    expect(planCopy({ source: root, target: "/t", include: ["certs/*.pem"] }).entries.map((e) => e.name)).toEqual(["certs/a.pem"]);
  });

  it("says which source is missing", () => {
    expect(() => planCopy({ source: "/no/such/file", target: "/x" })).toThrow("/no/such/file does not exist on this machine");
  });
});
