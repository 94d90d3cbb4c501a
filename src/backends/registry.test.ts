import { describe, expect, it } from "vitest";
import { parseServerConfig } from "../server/config/load.ts";
import { backendSection } from "./config-section.ts";
import { defineBackend } from "./definition.ts";
import { detectionOrder } from "./detect.ts";
import { backendNames, defaultBackends, knownBackends, registerBackend } from "./registry.ts";

describe("backend registry", () => {
  it("lists every backend once, in order; only those with a factory are built", () => {
    expect(backendNames()).toEqual(["docker", "qemu", "firecracker", "vz"]);
    expect(knownBackends()).toEqual(["docker", "qemu", "firecracker", "vz"]);
    // firecracker runs on Linux only, vz on macOS only: enabled by default there, and elsewhere only when named (the vfkit stand-in's tests).
    expect(defaultBackends("linux")).toEqual(["docker", "qemu", "firecracker"]);
    expect(defaultBackends("darwin")).toEqual(["docker", "qemu", "vz"]);
  });

  it("a registered backend gets its config section and names in server.yaml, and no place in detection", () => {
    registerBackend(defineBackend({ name: "unit-test", section: backendSection({}), create: () => ({}) as never }));
    expect(() => registerBackend(defineBackend({ name: "docker", section: backendSection({}) }))).toThrow(/registered already/);
    const config = parseServerConfig("default_backend: unit-test\nunit-test:\n  default_cpus: 3\n") as unknown as Record<string, { default_cpus: number }>;
    expect(config["unit-test"]!.default_cpus).toBe(3);
    expect(config.default_backend).toBe("unit-test");
    expect(() => parseServerConfig("unit-test:\n  colour: blue\n")).toThrow(/unknown key "unit-test.colour"/);
    expect(detectionOrder("linux")).toEqual(["firecracker", "qemu", "docker"]);
    expect(knownBackends()).toEqual(["docker", "qemu", "firecracker", "vz", "unit-test"]);
  });
});
