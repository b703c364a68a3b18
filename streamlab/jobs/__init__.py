"""Operating the lessons' Flink jobs: deploy and frozen releases, rollout and rollback,
savepoints and restores, the operations catalog, recovery drills, one operation per job at a
time, health, waiting for progress, and pruning what they leave on disk."""
