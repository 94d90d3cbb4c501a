import { describe, expect, it } from "vitest";
import { containerSpec } from "./container-spec.ts";

describe("docker container spec", () => {
  const spec = containerSpec({
    spec: { name: "web", image: "img", cpus: 1.5, memoryMb: 512, env: { A: "1" }, mounts: [] },
    image: "img",
    labels: { "shed.name": "web" },
    bundleDir: "/state/agent/v1",
    loader: "ld-linux-x86-64.so.2",
    runDir: "/state/run/web",
    volume: "shed-web-workspace",
    binds: ["/src:/workspace/src:ro"],
  }) as any;

  it("runs the bundled agent through its own loader under the engine's init", () => {
    expect(spec.Entrypoint).toEqual([
      "/.shed/lib/ld-linux-x86-64.so.2",
      "--library-path",
      "/.shed/lib",
      "/.shed/bin/shed-agent",
      "serve",
      "--listen",
      "unix:/.shed/run/agent.sock",
    ]);
    expect(spec.HostConfig.Init).toBe(true);
  });

  it("mounts the bundle read-only, the run dir and the workspace volume (made by the engine, with the shed's labels)", () => {
    expect(spec.HostConfig.Binds).toEqual(["/state/agent/v1:/.shed:ro", "/state/run/web:/.shed/run", "/src:/workspace/src:ro"]);
    expect(spec.HostConfig.Mounts).toEqual([
      { Type: "volume", Source: "shed-web-workspace", Target: "/workspace", VolumeOptions: { NoCopy: false, Labels: { "shed.name": "web" } } },
    ]);
  });

  it("a host directory at /workspace takes the volume's place", () => {
    const local = containerSpec({
      spec: { name: "web", image: "img", cpus: 1, memoryMb: 512, env: {}, mounts: [] },
      image: "img",
      labels: {},
      bundleDir: "/b",
      loader: "ld",
      runDir: "/r",
      volume: "v",
      binds: ["/home/me/app:/workspace"],
    }) as any;
    expect(local.HostConfig.Mounts).toBeUndefined();
    expect(local.HostConfig.Binds).toContain("/home/me/app:/workspace");
  });

  it("turns --cpus and --memory into limits and sets the SHED_* variables", () => {
    expect(spec.HostConfig.NanoCpus).toBe(1_500_000_000);
    expect(spec.HostConfig.Memory).toBe(512 * 1024 * 1024);
    expect(spec.HostConfig.PidsLimit).toBe(4096);
    expect(spec.Env).toEqual(expect.arrayContaining(["SHED_CONTAINER=true", "SHED_NAME=web", "SHED_WORKSPACE=/workspace", "A=1"]));
    expect(spec.Hostname).toBe("web");
  });
});
