import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../../test/harness/temp-dir.ts";
import { parseProvisionFile } from "./provision-file.ts";
import { parseAddDir } from "./provisioner.ts";

const tempDir = useTempDirs();

describe(".shed/provision.yaml", () => {
  it("takes hooks and env", () => {
    const f = parseProvisionFile("hooks:\n  install: a.sh\n  startup: b.sh\nenv:\n  A_B: x\n", "p.yaml");
    expect(f).toEqual({ hooks: { install: "a.sh", startup: "b.sh" }, env: { A_B: "x" } });
    expect(parseProvisionFile("", "p.yaml")).toEqual({ hooks: {}, env: {} });
  });
  it("names the file and key of what is wrong", () => {
    expect(parseProvisionFile("hooks:\n  install: [1]\n", "/w/p.yaml")).toMatch(/^\/w\/p\.yaml is invalid: .*hooks\.install/);
    expect(parseProvisionFile("env:\n  1BAD: x\n", "p.yaml")).toMatch(/environment variable name/);
    expect(parseProvisionFile("hooks: [", "p.yaml")).toMatch(/not valid YAML/);
  });
});

describe("--add-dir", () => {
  it("takes SRC[:DST][:ro]", () => {
    const src = tempDir("add");
    expect(parseAddDir(src)).toEqual({ source: src, target: `/workspace/${src.split("/").pop()}`, readonly: false });
    expect(parseAddDir(`${src}:/opt/x:ro`)).toEqual({ source: src, target: "/opt/x", readonly: true });
    expect(() => parseAddDir(`${src}:rel`)).toThrow(/absolute path in the shed/);
    expect(() => parseAddDir("/no/such/dir")).toThrow(/not a directory on the server's host/);
    expect(() => parseAddDir(`${src}:/a:/b`)).toThrow(/SRC\[:DST\]\[:ro\]/);
  });
});
