/** One id per test process: labels what this run made, so cleanup removes exactly that. */
export const runId = process.env.SHED_TEST_RUN_ID ?? `${process.pid.toString(36)}${Date.now().toString(36)}`;

export const testLabels: Record<string, string> = {
  "shed.test": "1",
  "shed.test.run": runId,
};

/** Container/volume name prefix for servers started by this run. */
export const namePrefix = `shedt-${runId}-`;
