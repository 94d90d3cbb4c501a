/** Temp dirs for a test file, all removed after its tests (call at the top of a describe/file). */
export declare function useTempDirs(): (prefix: string) => string;
