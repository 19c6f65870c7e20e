"""Running crawls: the runner, scheduled runs and their policy, leases, workers, the guard."""
