import type { LifecycleTarget } from "../target.ts";
/** Docker in the lifecycle suite: the Debian test image through a config alias, its container and volume as the instance. */
export declare const dockerTarget: LifecycleTarget;
