import { describe, expect, it } from "vitest";
import type { ShedError } from "../../api/errors.ts";
import { assertActionAllowed, canTransition } from "./transitions.ts";

describe("shed state machine", () => {
  it("allows the lifecycle", () => {
    expect(canTransition("creating", "running")).toBe(true);
    expect(canTransition("running", "stopped")).toBe(true);
    expect(canTransition("stopped", "running")).toBe(true);
    expect(canTransition("stopped", "deleting")).toBe(true);
    expect(canTransition("error", "deleting")).toBe(true);
  });

  it("refuses the impossible", () => {
    expect(canTransition("deleting", "running")).toBe(false);
    expect(canTransition("creating", "stopped")).toBe(false);
  });

  const code = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      return (err as ShedError).code;
    }
    return "ok";
  };

  it("gives the code that says why an action is refused", () => {
    expect(code(() => assertActionAllowed("a", "running", "reset"))).toBe("SHED_NOT_STOPPED");
    expect(code(() => assertActionAllowed("a", "running", "delete"))).toBe("SHED_NOT_STOPPED");
    expect(code(() => assertActionAllowed("a", "running", "delete", true))).toBe("ok");
    expect(code(() => assertActionAllowed("a", "stopped", "exec"))).toBe("SHED_NOT_RUNNING");
    expect(code(() => assertActionAllowed("a", "creating", "start"))).toBe("SHED_BUSY");
    expect(code(() => assertActionAllowed("a", "stopped", "reset"))).toBe("ok");
    expect(code(() => assertActionAllowed("a", "stopped", "stop"))).toBe("ok");
  });
});
