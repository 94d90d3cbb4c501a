/** The OpenSSH client (ssh, sftp, scp) as the tests and benches run it: one key, no prompts. */
export interface OpenSshOptions {
    port: number;
    key: string;
    /** A known_hosts file to check the host key against; without one any host key is taken. */
    knownHosts?: string;
    /** ssh takes -p, sftp and scp -P. */
    portFlag?: "-p" | "-P";
    /** More -o options (e.g. "ConnectTimeout=20"). */
    options?: string[];
}
export declare function opensshArgs(o: OpenSshOptions): string[];
