import type { AgentConnection } from "../../../src/agent/protocol/api.ts";
import type { Progress } from "../../../src/api/schemas/shed.ts";
import type { Backend, CreateOptions, FoundInstance, Instance, InstanceData, InstanceSpec, InstanceStatus, ProbeResult } from "../../../src/backends/backend.ts";
import type { BackendContext } from "../../../src/backends/context.ts";
/**
 * The smallest backend there is, to show the seam: a shed is a shed-agent process on this
 * host (no isolation at all: tests only) with a directory of its own, `home/`, as the state
 * that stop and start keep and reset wipes. The agent runs detached with its pid file, so it
 * outlives a server that is killed and is found again by `list`. Images come through the
 * server's image source like every backend's (only their digest is kept: nothing boots them).
 */
export declare class TrivialBackend implements Backend {
    private readonly ctx;
    readonly name = "trivial";
    readonly features: {
        localDir: boolean;
        fileMounts: boolean;
        snapshots: boolean;
        suspend: boolean;
        vsock: boolean;
        shutdownHook: boolean;
        vm: boolean;
    };
    constructor(ctx: BackendContext);
    private get root();
    private files;
    probe(): Promise<ProbeResult>;
    create(spec: InstanceSpec, progress: Progress, opts?: CreateOptions): Promise<InstanceData>;
    private launch;
    start(instance: Instance, progress: Progress): Promise<InstanceData>;
    stop(instance: Instance, timeoutMs: number): Promise<void>;
    reset(instance: Instance): Promise<InstanceData>;
    delete(instance: Instance): Promise<void>;
    status(instance: Instance): Promise<InstanceStatus>;
    dialAgent(instance: Instance): Promise<AgentConnection>;
    list(): Promise<FoundInstance[]>;
    logs(instance: Instance, opts?: {
        tailBytes?: number;
    }): Promise<string>;
    private tail;
}
