"""The task state machine: the engine that routes assignments and Docker events to one runner per task,
the runner and its container records, the pure ordering and status tables, and the state file that lets a
restarted agent re-adopt its containers.
"""
