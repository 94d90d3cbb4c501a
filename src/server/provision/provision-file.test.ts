import { describe, expect, it } from "vitest";
import { parseProvisionFile } from "./provision-file.ts";

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
