import type { InstanceSpec } from "../backend.ts";

/** Where things are inside a Docker shed. */
export const GUEST_BUNDLE_DIR = "/.shed";
export const GUEST_RUN_DIR = "/.shed/run";
export const GUEST_AGENT_SOCKET = "/.shed/run/agent.sock";
export const WORKSPACE = "/workspace";
/** When the spec names none (docker.pids_limit's default). */
export const DEFAULT_PIDS_LIMIT = 4096;

export interface ContainerSpecInput {
  spec: InstanceSpec;
  image: string;
  labels: Record<string, string>;
  bundleDir: string;
  loader: string;
  runDir: string;
  volume: string;
  /**
   * The volume is not filled from the image's /workspace when the container is created (the
   * engine does that to an empty volume): a spawn's volume is the snapshot's copy, exactly.
   */
  volumeNoCopy?: boolean;
  /** Extra binds ("host:guest[:ro]") from config mounts and provisioning. */
  binds?: string[];
}

/**
 * The Engine API body for a shed's container: the agent (from the read-only bundle) is the
 * main process under the engine's init, reached over a socket in the writable run dir.
 */
export function containerSpec(input: ContainerSpecInput): Record<string, unknown> {
  const { spec } = input;
  const volumeAtWorkspace = !coversWorkspace(input.binds ?? []);
  const env = {
    SHED_CONTAINER: "true",
    SHED_NAME: spec.name,
    SHED_WORKSPACE: WORKSPACE,
    ...spec.env,
  };
  return {
    Image: input.image,
    Hostname: spec.name,
    Labels: input.labels,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    WorkingDir: WORKSPACE,
    User: "0:0",
    Entrypoint: [
      `${GUEST_BUNDLE_DIR}/lib/${input.loader}`,
      "--library-path",
      `${GUEST_BUNDLE_DIR}/lib`,
      `${GUEST_BUNDLE_DIR}/bin/shed-agent`,
      "serve",
      "--listen",
      `unix:${GUEST_AGENT_SOCKET}`,
    ],
    Cmd: [],
    Tty: false,
    OpenStdin: false,
    HostConfig: {
      Init: true,
      Binds: [`${input.bundleDir}:${GUEST_BUNDLE_DIR}:ro`, `${input.runDir}:${GUEST_RUN_DIR}`, ...(input.binds ?? [])],
      // The volume as a mount with its labels: the engine makes it with the container, one
      // request fewer before the start. A host directory at /workspace (--local-dir) takes its place.
      ...(volumeAtWorkspace
        ? {
            Mounts: [
              {
                Type: "volume",
                Source: input.volume,
                Target: WORKSPACE,
                VolumeOptions: { NoCopy: input.volumeNoCopy === true, Labels: input.labels },
              },
            ],
          }
        : {}),
      NanoCpus: Math.round(spec.cpus * 1e9),
      Memory: spec.memoryMb * 1024 * 1024,
      // A fork bomb in one shed must not starve the host or the other sheds.
      PidsLimit: spec.pidsLimit ?? DEFAULT_PIDS_LIMIT,
      RestartPolicy: { Name: "unless-stopped" },
    },
  };
}

/** Whether a bind ("host:guest[:ro]") is mounted at /workspace itself, in the volume's place. */
export function coversWorkspace(binds: string[]): boolean {
  return binds.some((b) => b.split(":")[1] === WORKSPACE);
}
