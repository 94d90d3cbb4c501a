import { defineConfig } from "vitest/config";

// Two projects: unit tests sit next to their code and need nothing outside the process;
// integration tests in test/ run the compiled dist/ binaries against real components.
export default defineConfig({
  test: {
    // Under Bun the forks pool cannot start (no child.channel.unref); worker threads work.
    pool: "threads",
    projects: [
      {
        test: {
          name: "unit",
          include: ["src/**/*.test.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          testTimeout: 300_000,
          hookTimeout: 600_000,
          // Integration suites share dockerd and 2 cores: run files one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
