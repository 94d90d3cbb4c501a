import type { LifecycleTarget } from "./target.ts";
/**
 * The lifecycle every backend must pass, driven through the CLI against a real server:
 * create -> exec -> list -> stop -> start -> reset -> delete on one shed; a duplicate is
 * refused; a failed create leaves nothing; a kill -9 of shed-server and a restart re-adopt
 * running and stopped sheds; host directories, --local-dir and provisioning hooks where the
 * backend's features say it mounts them (and the server refuses them where they say not).
 * The main shed boots three times (create, start, start after reset), the mounted one once.
 */
export declare function lifecycleSuite(target: LifecycleTarget): void;
