import type { AgentConnection } from "../../src/agent/protocol/api.ts";
export interface SuiteTarget {
    connect(): Promise<AgentConnection>;
    cleanup(): Promise<void> | void;
    /**
     * A TCP echo server (answers `echo:<what it got>`) where the agent's TCP connections go:
     * on this host for an agent running here (the default), inside the guest otherwise.
     */
    echoServer?(): Promise<{
        host: string;
        port: number;
        stop(): Promise<void> | void;
    }>;
}
/** The one protocol suite every transport runs: same requests, same answers. */
/**
 * `makeTarget` gets the suite's scratch dir, which the agent must see at the same path.
 * `skip`: why this transport cannot run here (printed by the caller), or undefined.
 */
export declare function protocolSuite(name: string, makeTarget: (dir: string) => Promise<SuiteTarget>, skip?: string): void;
