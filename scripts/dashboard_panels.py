"""The dashboard's panels and variables as data, for scripts/dashboard.py to lay out.

Each row is (row title, [(panel title, kind, unit, [(legend, PromQL), ...], width)]); every
expression filters by the `cluster`, `service`, `family` and `task` variables defined at the end.
"""

from __future__ import annotations

C = 'cluster_name=~"$cluster"'
S = f'{C}, service_name=~"$service"'
T = f'{S}, task_definition_family=~"$family", task_id=~"$task"'
RATE = "$__rate_interval"
MIB = 1048576

# (row title, [(panel title, kind, unit, [(legend, expr), ...], width)])
ROWS: list[tuple[str, list[tuple[str, str, str, list[tuple[str, str]], int]]]] = [  # Panel, in dashboard.py
    (
        "Cluster overview",
        [
            (
                "Running tasks",
                "stat",
                "none",
                [("tasks", f'sum(ecs_cluster_tasks{{{C}, status="RUNNING"}})')],
                4,
            ),
            ("Services", "stat", "none", [("services", f"sum(ecs_cluster_services{{{C}}})")], 4),
            (
                "Container instances",
                "stat",
                "none",
                [
                    (
                        "connected {{agent_connected}}",
                        f"sum by (agent_connected) (ecs_cluster_container_instances{{{C}}})",
                    )
                ],
                4,
            ),
            (
                "CPU utilized vs reserved (CPU units)",
                "timeseries",
                "none",
                [
                    (
                        "CpuUtilized",
                        f"sum(rate(ecs_container_cpu_usage_seconds_total{{{C}}}[{RATE}])) * 1024",
                    ),
                    ("CpuReserved", f"sum(ecs_task_cpu_reserved_vcpus{{{C}}}) * 1024"),
                ],
                6,
            ),
            (
                "Memory utilized vs reserved (MiB)",
                "timeseries",
                "none",
                [
                    ("MemoryUtilized", f"sum(ecs_container_memory_utilized_bytes{{{C}}}) / {MIB}"),
                    ("MemoryReserved", f"sum(ecs_task_memory_reserved_bytes{{{C}}}) / {MIB}"),
                ],
                6,
            ),
        ],
    ),
    (
        "Services",
        [
            (
                "Desired, running, pending tasks",
                "timeseries",
                "none",
                [
                    ("{{service_name}} desired", f"ecs_service_desired_tasks{{{S}}}"),
                    ("{{service_name}} running", f"ecs_service_running_tasks{{{S}}}"),
                    ("{{service_name}} pending", f"ecs_service_pending_tasks{{{S}}}"),
                ],
                12,
            ),
            (
                "Deployments",
                "timeseries",
                "none",
                [("{{service_name}}", f"ecs_service_deployments{{{S}}}")],
                6,
            ),
            (
                "Rollout state",
                "table",
                "none",
                [("{{service_name}} {{rollout_state}}", f"ecs_service_rollout_state{{{S}}} == 1")],
                6,
            ),
        ],
    ),
    (
        "Tasks and containers",
        [
            (
                "Task CPU (CPU units)",
                "timeseries",
                "none",
                [
                    (
                        "{{task_id}}",
                        f"sum by (task_id) (rate(ecs_container_cpu_usage_seconds_total{{{T}}}[{RATE}])) * 1024",
                    )
                ],
                8,
            ),
            (
                "Task CPU % of reserved",
                "timeseries",
                "percent",
                [
                    (
                        "{{task_id}}",
                        f"100 * sum by (task_id) (rate(ecs_container_cpu_usage_seconds_total{{{T}}}[{RATE}]))"
                        f" / sum by (task_id) (ecs_task_cpu_reserved_vcpus{{{T}}})",
                    )
                ],
                8,
            ),
            (
                "Container CPU % of reserved",
                "timeseries",
                "percent",
                [
                    (
                        "{{task_id}} {{container_name}}",
                        f"100 * rate(ecs_container_cpu_usage_seconds_total{{{T}}}[{RATE}])"
                        f" / ecs_container_cpu_reserved_vcpus{{{T}}}",
                    )
                ],
                8,
            ),
            (
                "Container memory vs reservation (MiB)",
                "timeseries",
                "none",
                [
                    (
                        "{{task_id}} {{container_name}} utilized",
                        f"ecs_container_memory_utilized_bytes{{{T}}} / {MIB}",
                    ),
                    (
                        "{{task_id}} {{container_name}} reserved",
                        f"ecs_container_memory_reserved_bytes{{{T}}} / {MIB}",
                    ),
                ],
                8,
            ),
            (
                "Task memory % of reserved",
                "timeseries",
                "percent",
                [
                    (
                        "{{task_id}}",
                        f"100 * sum by (task_id) (ecs_container_memory_utilized_bytes{{{T}}})"
                        f" / sum by (task_id) (ecs_task_memory_reserved_bytes{{{T}}})",
                    )
                ],
                8,
            ),
            (
                "Task network (bytes/s)",
                "timeseries",
                "Bps",
                [
                    (
                        "{{task_id}} rx",
                        f"sum by (task_id) (rate(ecs_task_network_receive_bytes_total{{{T}}}[{RATE}]))",
                    ),
                    (
                        "{{task_id}} tx",
                        f"sum by (task_id) (rate(ecs_task_network_transmit_bytes_total{{{T}}}[{RATE}]))",
                    ),
                ],
                8,
            ),
            (
                "Container storage (bytes/s)",
                "timeseries",
                "Bps",
                [
                    (
                        "{{task_id}} {{container_name}} read",
                        f"rate(ecs_container_storage_read_bytes_total{{{T}}}[{RATE}])",
                    ),
                    (
                        "{{task_id}} {{container_name}} write",
                        f"rate(ecs_container_storage_write_bytes_total{{{T}}}[{RATE}])",
                    ),
                ],
                8,
            ),
            (
                "Restarts",
                "timeseries",
                "none",
                [("{{task_id}} {{container_name}}", f"ecs_container_restarts_total{{{T}}}")],
                8,
            ),
            (
                "Unhealthy containers",
                "timeseries",
                "none",
                [
                    (
                        "{{task_id}} {{container_name}}",
                        f'ecs_container_health_status{{{T}, status="UNHEALTHY"}}',
                    )
                ],
                8,
            ),
        ],
    ),
    (
        "Instances",
        [
            (
                "CPU registered vs remaining (vCPU)",
                "timeseries",
                "none",
                [
                    (
                        "{{container_instance_id}} registered",
                        f"ecs_container_instance_cpu_registered_vcpus{{{C}}}",
                    ),
                    (
                        "{{container_instance_id}} remaining",
                        f"ecs_container_instance_cpu_remaining_vcpus{{{C}}}",
                    ),
                ],
                6,
            ),
            (
                "Memory registered vs remaining",
                "timeseries",
                "bytes",
                [
                    (
                        "{{container_instance_id}} registered",
                        f"ecs_container_instance_memory_registered_bytes{{{C}}}",
                    ),
                    (
                        "{{container_instance_id}} remaining",
                        f"ecs_container_instance_memory_remaining_bytes{{{C}}}",
                    ),
                ],
                6,
            ),
            (
                "Running tasks per instance",
                "timeseries",
                "none",
                [("{{container_instance_id}}", f"ecs_container_instance_running_tasks{{{C}}}")],
                6,
            ),
            (
                "Agent connected",
                "stat",
                "none",
                [("{{container_instance_id}}", f"ecs_container_instance_agent_connected{{{C}}}")],
                6,
            ),
            (
                "Agent: Docker event lag p99 (s)",
                "timeseries",
                "s",
                [
                    (
                        "p99",
                        "histogram_quantile(0.99, sum by (le) "
                        f"(rate(minecs_agent_docker_event_lag_seconds_bucket[{RATE}])))",
                    )
                ],
                8,
            ),
            (
                "Agent: state reports pending",
                "timeseries",
                "none",
                [("{{instance}}", "minecs_agent_state_reports_pending")],
                8,
            ),
            (
                "Controller: API requests/s by operation",
                "timeseries",
                "reqps",
                [("{{operation}}", f"sum by (operation) (rate(minecs_api_requests_total[{RATE}]))")],
                8,
            ),
        ],
    ),
]

VARIABLES = [
    ("cluster", "Cluster", "label_values(ecs_cluster_services, cluster_name)"),
    ("service", "Service", f"label_values(ecs_service_desired_tasks{{{C}}}, service_name)"),
    ("family", "Task family", f"label_values(ecs_task_info{{{S}}}, task_definition_family)"),
    ("task", "Task", f'label_values(ecs_task_info{{{S}, task_definition_family=~"$family"}}, task_id)'),
]
