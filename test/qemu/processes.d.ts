import type { TestServer } from "../harness/index.ts";
/** Pids of QEMU processes running this server's instance `name` (by their command line). */
export declare function qemuProcesses(server: TestServer, name: string): number[];
