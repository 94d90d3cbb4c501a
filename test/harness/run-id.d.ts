/** One id per test process: labels what this run made, so cleanup removes exactly that. */
export declare const runId: string;
export declare const testLabels: Record<string, string>;
/** Container/volume name prefix for servers started by this run. */
export declare const namePrefix: string;
