"""What a task needs from the host before its containers start: Docker networks and volumes, host ports,
secrets and environment files, the task cgroup, and each container's Docker configuration.
"""
