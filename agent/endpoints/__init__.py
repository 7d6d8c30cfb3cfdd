"""The small HTTP servers the agent runs on the host for its tasks and operators: the task metadata endpoint
v4 (what containers are told) and the introspection API, and the one server shape (``server.SmallServer``)
that they and the metrics server share.
"""
