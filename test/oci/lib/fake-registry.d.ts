/**
 * A tiny registry that lies: it serves a manifest whose layer bytes do not hash to the
 * digest the manifest gives. Only for the corrupt-blob test (a real registry would refuse
 * to store such a blob in the first place). Listens on loopback; stop() closes it.
 */
export declare function startLyingRegistry(): {
    host: string;
    stop(): void;
};
