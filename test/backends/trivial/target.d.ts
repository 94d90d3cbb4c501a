import type { LifecycleTarget } from "../target.ts";
/** The trivial backend in the lifecycle suite: its own shed-server entry point, an image from an OCI layout. */
export declare const trivialTarget: LifecycleTarget;
