/** `name` is the image's ref inside the layout (a layout may hold other builds' refs too). */
export declare function baseImage(): Promise<{
    ref: string;
    layout: string;
    name: string;
}>;
/** The agent baked into the test image: SHED_AGENT_PATH, else dist/shed-agent. */
export declare function agentPath(): string;
/** Why VM tests cannot run here, or undefined. Printed once by the caller's skip. */
export declare function vmTestsMissing(): string | undefined;
/** Why the base image cannot be built here (root, debootstrap, ...), or undefined; printed once. */
export declare function guestImageMissing(): string | undefined;
export declare function baseImageInDocker(): Promise<string>;
