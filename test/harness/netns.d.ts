/**
 * Network namespaces a test makes, so that bridges, taps, NAT and nftables rules never touch
 * this machine's own network: a "host" namespace in which shed-server (and the CLI) run as
 * on a server's host, joined by a veth pair to an "outside" namespace that stands for the
 * networks beyond it (a default route points there). Removing a namespace ends the processes
 * still in it (all started by the test: the server, its VMs, dnsmasq) and with them every
 * link and ruleset made inside.
 */
export interface TestNetns {
    name: string;
    /** `argv` run inside the namespace (`ip netns exec NAME ...`). */
    wrap(argv: string[]): string[];
    /** Runs a command inside; throws with its stderr when it fails. */
    run(argv: string[]): string;
}
export interface TestNetwork {
    host: TestNetns;
    outside: TestNetns;
    /** The host namespace's address on the veth, and the outside's (a documentation range). */
    hostAddr: string;
    outsideAddr: string;
    remove(): Promise<void>;
}
/** Why netns tests cannot run here (not root, no `ip`), or undefined. */
export declare function netnsMissing(): string | undefined;
export declare function makeTestNetwork(): TestNetwork;
/** Namespaces of this test run still present (for a check that teardown removed them). */
export declare function leftoverNetns(): string[];
