import { existsSync } from "node:fs";
import type { DoctorCheck, DoctorInput } from "../definition.ts";
import { DockerEngine } from "./engine.ts";
import type { DockerSection } from "./section.ts";

/** `shed-server doctor`'s docker line: the engine answers on its socket. */
export async function dockerDoctor({ section, enabled }: DoctorInput<DockerSection>): Promise<DoctorCheck[]> {
  const socket = section.socket;
  if (!enabled) return [{ check: "docker", status: "PASS", message: "docker backend not enabled (enabled_backends)" }];
  if (!existsSync(socket)) {
    return [
      {
        check: "docker",
        status: "FAIL",
        message: `no Docker engine socket at ${socket}`,
        fix: "install Docker (apt-get install docker.io) and start it (systemctl start docker, or dockerd); or set docker.socket",
      },
    ];
  }
  try {
    const v = await new DockerEngine(socket).version();
    return [{ check: "docker", status: "PASS", message: `Docker engine ${v.Version} (API ${v.ApiVersion}) answers on ${socket}` }];
  } catch (err) {
    const denied = /EACCES|permission/i.test(String((err as Error).message));
    return [
      {
        check: "docker",
        status: "FAIL",
        message: `the Docker engine at ${socket} does not answer: ${(err as Error).message}`,
        fix: denied ? "run shed-server as root or add its user to the docker group" : "start dockerd (systemctl start docker, or dockerd &)",
      },
    ];
  }
}
