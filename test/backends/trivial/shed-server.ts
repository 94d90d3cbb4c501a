/**
 * shed-server with the trivial backend: the registry line a backend needs, then the real
 * entry point. (A backend of shed itself is that line in src/backends/registry.ts instead.)
 */
import { registerBackend } from "../../../src/backends/registry.ts";
import { trivial } from "./index.ts";

registerBackend(trivial);
await import("../../../src/bin/shed-server.ts");
