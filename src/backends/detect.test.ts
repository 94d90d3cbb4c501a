import { describe, expect, it } from "vitest";
import type { BackendName } from "../api/schemas/shed.ts";
import type { ProbeResult } from "./backend.ts";
import { absentReason, detectionOrder, pickBackend, whyNotChosen } from "./detect.ts";

/** What a probe can say about a backend on a host. */
const STATES = {
  absent: undefined,
  unavailable: { ok: false, reason: "not here" },
  emulated: { ok: true, emulated: true, reason: "VMs run emulated under TCG (slow): no /dev/kvm on this host" },
  ok: { ok: true },
} satisfies Record<string, ProbeResult | undefined>;
type State = keyof typeof STATES;

function probes(states: Partial<Record<BackendName, State>>): Map<BackendName, ProbeResult> {
  const out = new Map<BackendName, ProbeResult>();
  for (const [name, state] of Object.entries(states) as [BackendName, State][]) {
    const p = STATES[state];
    if (p) out.set(name, p);
  }
  return out;
}

/**
 * The rule, written as it is stated: Linux picks firecracker (usable KVM + binary) ->
 * qemu with usable KVM -> docker -> qemu under TCG; an emulated VM is never the default while
 * Docker runs. When nothing is available: the first enabled backend of the order.
 */
function expectedLinux(fc: State, qemu: State, docker: State): BackendName | undefined {
  if (fc === "ok") return "firecracker";
  if (qemu === "ok") return "qemu";
  if (docker === "ok") return "docker";
  if (qemu === "emulated") return "qemu";
  return (["firecracker", "qemu", "docker"] as const).find((n) => ({ firecracker: fc, qemu, docker })[n] !== "absent");
}

/** Firecracker needs KVM and Docker runs natively: only qemu can be up but emulated (TCG). */
const FIRECRACKER: State[] = ["absent", "unavailable", "ok"];
const QEMU: State[] = ["absent", "unavailable", "emulated", "ok"];
const DOCKER: State[] = ["absent", "unavailable", "ok"];

describe("backend detection", () => {
  it("the order per platform", () => {
    expect(detectionOrder("linux")).toEqual(["firecracker", "qemu", "docker"]);
    expect(detectionOrder("darwin")).toEqual(["vz", "docker"]);
  });

  it("Linux: every combination of probe results picks what the rule says", () => {
    let cases = 0;
    for (const fc of FIRECRACKER) {
      for (const qemu of QEMU) {
        for (const docker of DOCKER) {
          const got = pickBackend(detectionOrder("linux"), probes({ firecracker: fc, qemu, docker }));
          expect(got.chosen, `firecracker ${fc}, qemu ${qemu}, docker ${docker}`).toBe(expectedLinux(fc, qemu, docker));
          expect(got.reason.length).toBeGreaterThan(0);
          cases++;
        }
      }
    }
    expect(cases).toBe(36);
  });

  it("macOS: vz, then docker; never a backend outside the order", () => {
    const order = detectionOrder("darwin");
    expect(pickBackend(order, probes({ vz: "ok", docker: "ok", qemu: "ok" })).chosen).toBe("vz");
    expect(pickBackend(order, probes({ vz: "unavailable", docker: "ok", qemu: "ok" })).chosen).toBe("docker");
    expect(pickBackend(order, probes({ docker: "ok" })).chosen).toBe("docker");
    expect(pickBackend(order, probes({ qemu: "ok" })).chosen).toBeUndefined();
  });

  it("says why, naming what it passed over", () => {
    const order = detectionOrder("linux");
    expect(pickBackend(order, probes({ qemu: "emulated", docker: "ok" })).reason).toBe(
      "detected docker: the first available in the order firecracker -> qemu -> docker " +
        "(qemu: VMs run emulated under TCG (slow): no /dev/kvm on this host)",
    );
    expect(pickBackend(order, probes({ qemu: "ok", docker: "ok" })).reason).toBe(
      "detected qemu: the first available in the order firecracker -> qemu -> docker",
    );
    expect(pickBackend(order, probes({ qemu: "emulated", docker: "unavailable" })).reason).toBe(
      "detected qemu, the only available backend, though its VMs run emulated (VMs run emulated under TCG (slow): no /dev/kvm on this host)",
    );
    expect(pickBackend(order, probes({ qemu: "unavailable", docker: "unavailable" })).reason).toBe(
      "no backend is available (qemu: not here; docker: not here); qemu is the default until one is",
    );
    expect(pickBackend(order, new Map()).reason).toBe("none of the backends firecracker, qemu, docker is enabled on this server");
  });

  it("explains a backend that is available but not the default", () => {
    expect(whyNotChosen("qemu", "docker", STATES.emulated, false)).toBe(
      "VMs run emulated under TCG (slow): no /dev/kvm on this host; docker is preferred while it is available; " +
        "use it per shed with `shed create --backend qemu`, or set default_backend: qemu in server.yaml",
    );
    expect(whyNotChosen("docker", "qemu", STATES.ok, false)).toBe(
      "available; qemu comes first in detection order; use it per shed with `shed create --backend docker`, or set default_backend: docker in server.yaml",
    );
    expect(whyNotChosen("docker", "qemu", STATES.ok, true)).toMatch(/^available, not the default: default_backend is qemu in server\.yaml; /);
  });

  it("explains a backend the server does not have", () => {
    expect(absentReason("vz", false, "linux")).toBe("vz runs on macOS (Apple Silicon) only");
    expect(absentReason("firecracker", false, "darwin")).toBe("firecracker runs on Linux with KVM only");
    expect(absentReason("firecracker", false, "linux")).toBe("this shed-server build has no firecracker backend yet");
    expect(absentReason("qemu", true, "linux")).toBe("not enabled: enabled_backends in server.yaml leaves it out (add qemu to use it)");
  });
});
