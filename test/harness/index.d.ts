export { cleanupDocker } from "./docker.ts";
export { dockerAvailable, hasCommand, missing, sh } from "./host.ts";
export { ensureTestImage, TEST_IMAGES } from "./images.ts";
export { namePrefix, runId, testLabels } from "./run-id.ts";
export { DIST, runShed, startServer, type TestServer, writeClientConfig } from "./server.ts";
