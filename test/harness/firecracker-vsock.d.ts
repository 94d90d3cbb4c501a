/**
 * Firecracker's hybrid vsock, stood in for at its boundary (Firecracker cannot run here): a
 * unix socket that wants exactly `CONNECT <port>\n` as its first line, closes the connection
 * for any other line or a port nobody listens on (as Firecracker does), answers
 * `OK <host port>\n`, and then carries the bytes both ways with backpressure (here to a real
 * compiled shed-agent on another unix socket, the "guest").
 */
export declare function fakeFirecrackerVsock(path: string, agentSock: string, guestPort: number): Promise<{
    seen: string[];
    stop: () => void;
}>;
