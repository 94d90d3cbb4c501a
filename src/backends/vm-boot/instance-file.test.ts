import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readInstanceFiles, writeInstanceFile } from "./instance-file.ts";

describe("instance files", () => {
  const root = mkdtempSync(join(tmpdir(), "shed-instance-file-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("reads back what it wrote, and hands truncated, malformed or foreign files to `bad`", () => {
    const dir = join(root, "good");
    mkdirSync(dir);
    writeInstanceFile("good", "srv1", { dir, cid: 7 });
    const broken: Record<string, string> = {
      truncated: '{"name":"t","serverId":',
      "no-data": '{"name":"n","serverId":"srv1"}',
      "wrong-types": '{"name":3,"serverId":"srv1","data":{"dir":"/x"}}',
      array: "[]",
    };
    for (const [name, text] of Object.entries(broken)) {
      mkdirSync(join(root, name));
      writeFileSync(join(root, name, "instance.json"), text);
    }
    mkdirSync(join(root, "empty-dir"));
    const bad: string[] = [];
    const files = readInstanceFiles<{ dir: string; cid: number }>(root, (file) => bad.push(file));
    expect(files).toEqual([{ name: "good", serverId: "srv1", data: { dir, cid: 7 } }]);
    expect(bad.sort()).toEqual(Object.keys(broken).map((n) => join(root, n, "instance.json")).sort());
  });
});
