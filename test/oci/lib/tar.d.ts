/** A tar of a directory as a stream (GNU tar), for loading test layouts. */
export declare function tarOfDir(dir: string): ReadableStream<Uint8Array>;
