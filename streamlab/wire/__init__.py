"""Facts on the wire that the platform, the jobs and the oracle share: what a lesson's job
reads and writes. Standard library only, so a job's frozen release carries nothing more."""
