/** The trivial backend's definition: what a backend folder's index.ts exports. */
export declare const trivial: import("../../../src/backends/definition.ts").BackendDefinition<{
    default_image?: string | undefined;
    image_aliases: {
        [x: string]: string;
    };
    default_cpus: number;
    default_memory_mb: number;
    pull_policy: "missing" | "always" | "never";
    stop_timeout: number;
}, "trivial">;
