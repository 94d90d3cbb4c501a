/**
 * A real registry (`docker-registry`, distribution 2.8) for tests: on a free loopback port,
 * storing in a temp dir, optionally with htpasswd basic auth. stop() kills only its own pid.
 */
export interface TestRegistry {
    host: string;
    port: number;
    dir: string;
    pid: number;
    stop(): Promise<void>;
    /** Starts it again on the same port and storage (after stop). */
    start(): Promise<void>;
}
export interface RegistryOptions {
    /** htpasswd basic auth. */
    auth?: {
        user: string;
        password: string;
    };
    /** Bearer tokens from an issuer (see token-server.ts). */
    token?: {
        realm: string;
        service: string;
        issuer: string;
        certPath: string;
    };
}
export declare function startRegistry(dir: string, opts?: RegistryOptions): Promise<TestRegistry>;
export declare function freePort(): Promise<number>;
