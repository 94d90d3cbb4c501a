/**
 * A token issuer for docker-registry's `auth.token` mode (the Docker token flow): it checks
 * basic credentials and signs ES256 JWTs with a self-signed certificate the registry trusts
 * (rootcertbundle), carried in the `x5c` header. Anonymous callers get pull access only to
 * repositories under `public/`. Counts requests, so tests can see the token cache at work.
 */
export interface TokenServer {
    realm: string;
    service: string;
    issuer: string;
    certPath: string;
    requests: {
        scopes: string[];
        user?: string;
    }[];
    stop(): void;
}
export declare function startTokenServer(dir: string, user: {
    name: string;
    password: string;
}): TokenServer;
