import { runId } from "./run-id.ts";
import { sh } from "./host.ts";

/** Removes the containers and volumes this test run made (by its run label), nothing else. */
export function cleanupDocker(id = runId): void {
  const filter = `--filter label=shed.test.run=${id}`;
  sh(`docker ps -aq ${filter} | xargs -r docker rm -f -v >/dev/null 2>&1`, { allowFail: true });
  sh(`docker volume ls -q ${filter} | xargs -r docker volume rm -f >/dev/null 2>&1`, { allowFail: true });
  sh(`docker images -q ${filter} | xargs -r docker rmi -f >/dev/null 2>&1`, { allowFail: true });
}
