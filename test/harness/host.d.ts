/** Does the host have this command? For skips that say why. */
export declare function hasCommand(cmd: string): boolean;
export declare function dockerAvailable(): boolean;
/** Reason to skip, printed once, or undefined when everything needed is here. */
export declare function missing(needs: {
    docker?: boolean;
    commands?: string[];
}): string | undefined;
export declare function sh(cmd: string, opts?: {
    allowFail?: boolean;
}): string;
