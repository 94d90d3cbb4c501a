/** Removes the containers and volumes this test run made (by its run label), nothing else. */
export declare function cleanupDocker(id?: string): void;
