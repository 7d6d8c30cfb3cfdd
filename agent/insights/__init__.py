"""Container Insights on the host: cgroup readers, the metric families per task and container, their
Prometheus text exposition, and the metrics server that answers scrapes.
"""
