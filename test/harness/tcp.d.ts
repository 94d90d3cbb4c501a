/**
 * Reads from a forwarded port on 127.0.0.1 until `ok(text)`: each try connects, collects what
 * arrives until `ok`, the peer's close or 3 s, and the tries repeat (up to 50, 200 ms apart)
 * while the forward is still being set up. Returns the last text read.
 */
export declare function readForwardedPort(port: number, ok: (text: string) => boolean): Promise<string>;
