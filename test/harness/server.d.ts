import type { TestNetns } from "./netns.ts";
export declare const DIST: string;
export interface CliResult {
    code: number;
    stdout: string;
    stderr: string;
}
export interface CliOptions {
    stdin?: string | Uint8Array;
    env?: Record<string, string>;
    timeoutMs?: number;
    /** Run the CLI inside this network namespace (where its server listens). */
    netns?: TestNetns;
}
export interface TestServer {
    port: number;
    sshPort: number;
    url: string;
    dir: string;
    stateDir: string;
    configDir: string;
    configPath: string;
    logPath: string;
    pid: number;
    /** Runs dist/shed against this server. */
    shed(args: string[], opts?: CliOptions): Promise<CliResult>;
    /** Runs dist/shed and parses its single JSON line (adds --json). */
    shedJson<T = any>(args: string[], opts?: CliOptions): Promise<T>;
    restart(): Promise<void>;
    kill(signal?: NodeJS.Signals): Promise<void>;
    stop(): Promise<void>;
    /** `argv` run where the server's loopback is (inside its network namespace, if any). */
    wrap(argv: string[]): string[];
}
export interface StartOptions {
    /** Merged over the defaults written to server.yaml. */
    config?: Record<string, unknown>;
    env?: Record<string, string>;
    /** Run the server (and the CLI of `shed()`) inside this namespace (test/harness/netns.ts). */
    netns?: TestNetns;
    /** How to run shed-server (default dist/shed-server); a test backend's server runs from its own entry point. */
    command?: string[];
}
/**
 * Runs the compiled shed-server on a random loopback port with a temp state dir, and a
 * client config that points dist/shed at it. Everything lives in one temp dir.
 */
export declare function startServer(opts?: StartOptions): Promise<TestServer>;
export declare function writeClientConfig(configDir: string, httpPort: number, sshPort: number): void;
/** Runs dist/shed with the given args; never throws for a non-zero exit. */
export declare function runShed(args: string[], opts?: CliOptions): Promise<CliResult>;
