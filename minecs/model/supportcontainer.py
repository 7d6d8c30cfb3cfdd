"""The container definition rows of the task definition support table: ``containerDefinitions[]``.

Keyed by the path under ``containerDefinitions[].``; ``minecs.model.support`` joins them with the
task-level and volume rows of ``minecs.model.supporttable``, where the row type is.
"""

from __future__ import annotations

from collections.abc import Mapping

from minecs.model.supporttable import Entry, honoured, ignored

CONTAINER: Mapping[str, Entry] = {
    "name": honoured(
        "Part of the Docker name (`ecs-<family>-<revision>-<name>-<hex>`) and the "
        "`com.amazonaws.ecs.container-name` label; what dependsOn, links and volumesFrom refer to "
        "(`agent/provision/containerconfig.py`)."
    ),
    "image": honoured(
        "Made present per the agent's pull behaviour (ECS's default, always, once, prefer-cached) and run; "
        "a failure is `CannotPullContainerError` (`agent/tasks/engine.py`, `agent/tasks/runner.py`)."
    ),
    "repositoryCredentials": ignored(
        "The secret is not read: the engine pulls with its own registry credentials (`docker login` on the "
        "host), else a private image fails with `CannotPullContainerError`.",
        whole=True,
        sample={"credentialsParameter": "arn:aws:secretsmanager:us-east-1:000000000000:secret:registry"},
    ),
    "cpu": honoured(
        "Docker CpuShares, clamped to 2..262144 as the ECS agent does (`agent/provision/containerconfig.py`); "
        "reserved by placement when the task has no cpu (`minecs/scheduling/needs.py`)."
    ),
    "memory": honoured(
        "Docker hard limit, raised to 4 MiB as the ECS agent does (`agent/provision/containerconfig.py`); an OOM kill "
        "is reported as `OutOfMemoryError`. Reserved by placement unless memoryReservation is set."
    ),
    "memoryReservation": honoured(
        "Docker soft limit (MemoryReservation); what placement reserves when set (`minecs/scheduling/needs.py`)."
    ),
    "links": honoured(
        "Docker links (`name:alias`), bridge mode only as in ECS; each adds a START dependency "
        "(`minecs/validation/graph.py`, `agent/tasks/ordering.py`)."
    ),
    "portMappings": honoured(
        "Per member below. None allowed with networkMode none, and a static host port at most once per task "
        "(`minecs/validation/network.py`)."
    ),
    "portMappings[].containerPort": honoured(
        "Published on the agent's publish address (`agent/provision/resources.py`); "
        "under awsvpc on the pause container."
    ),
    "portMappings[].hostPort": honoured(
        "bridge: a static port is claimed, omitted or 0 takes a dynamic port from `ip_local_port_range` minus "
        "the reserved ports (`agent/provision/ports.py`). host: equals containerPort and is claimed, so a second copy "
        "is refused. awsvpc: equals containerPort, but the host side is a dynamic port, the task having the "
        "host's IP. Static ports count in placement (`minecs/scheduling/needs.py`)."
    ),
    "portMappings[].protocol": honoured("tcp or udp, for the Docker binding and the port reservation."),
    "portMappings[].name": ignored("Names a port for Service Connect, which minecs does not have."),
    "portMappings[].appProtocol": ignored(
        "Used by Service Connect and load balancer health checks, which minecs does not have."
    ),
    "portMappings[].containerPortRange": ignored(
        "Checked (the form, bridge or awsvpc only) but not published: the agent maps only mappings with a "
        "containerPort (`agent/provision/resources.py`), so nothing outside reaches the range. "
        "Use one mapping per port.",
        sample="8000-8010",
    ),
    "essential": honoured(
        "When an essential container stops, the task stops (`EssentialContainerExited`); task health comes "
        "from the essential containers (`agent/tasks/taskstatus.py`)."
    ),
    "restartPolicy": honoured(
        "Restarted in place (`docker start`) when enabled, its exit code is not in ignoredExitCodes and it "
        "ran for restartAttemptPeriod; a restarted essential container does not stop the task "
        "(`agent/tasks/runner.py`).",
        whole=True,
    ),
    "entryPoint": honoured("Docker Entrypoint (`agent/provision/containerconfig.py`)."),
    "command": honoured(
        "Docker Cmd; RunTask's container override replaces it (`agent/provision/containerconfig.py`)."
    ),
    "environment": honoured(
        "Container environment: wins over environmentFiles, loses to RunTask overrides, the metadata "
        "endpoint variables and secrets (`agent/provision/containerconfig.py`).",
        whole=True,
    ),
    "environmentFiles": honoured(
        "Read by the agent before the task starts, top-down, `VAR=VALUE` lines. Unlike ECS, `value` is a "
        "file path on the host, not an S3 object (`type` is still `s3`); an unreadable file fails the task "
        "with `ResourceInitializationError` (`agent/provision/secrets.py`, `agent/provision/resources.py`).",
        whole=True,
    ),
    "mountPoints": honoured(
        "Docker binds of the declared volume at containerPath, read-only when readOnly "
        "(`agent/provision/containerconfig.py`).",
        whole=True,
    ),
    "volumesFrom": honoured(
        "Docker VolumesFrom, read-only when readOnly; the source container is created first "
        "(a CREATE dependency, `agent/tasks/ordering.py`).",
        whole=True,
    ),
    "linuxParameters": honoured(
        "Per member below, each a Docker HostConfig setting (`agent/provision/containerconfig.py`)."
    ),
    "linuxParameters.capabilities": honoured(
        "Docker CapAdd and CapDrop; names checked against ECS's list (`minecs/validation/containers.py`).",
        whole=True,
    ),
    "linuxParameters.devices": honoured(
        "Docker Devices `hostPath:containerPath:permissions` (rwm when no permissions are given).", whole=True
    ),
    "linuxParameters.initProcessEnabled": honoured("Docker Init (`--init`)."),
    "linuxParameters.sharedMemorySize": honoured("Docker ShmSize, in MiB."),
    "linuxParameters.tmpfs": honoured("Docker Tmpfs, `size=<n>m` plus the mountOptions.", whole=True),
    "linuxParameters.maxSwap": honoured(
        "Docker MemorySwap = memory + maxSwap; applied only when the container sets `memory`."
    ),
    "linuxParameters.swappiness": honoured("Docker MemorySwappiness."),
    "secrets": honoured(
        "Resolved before the task starts and set as environment variables, which win over all others. Unlike "
        "ECS, values come from the agent's local store, one 0600 file per secret named by the ARN's last "
        "segment (`agent/provision/secrets.py`); a missing one fails the task with `ResourceInitializationError`.",
        whole=True,
    ),
    "dependsOn": honoured(
        "START, COMPLETE, SUCCESS and HEALTHY, with the ECS agent's `dependency graph` errors, and stops in "
        "reverse order (`agent/tasks/ordering.py`); any wait is bounded by the agent's dependency_wait_timeout. "
        "HEALTHY on a container without a healthCheck registers, as in ECS, and the task stops when it "
        "arrives on the agent.",
        whole=True,
    ),
    "startTimeout": honoured(
        "How long a COMPLETE, SUCCESS or HEALTHY dependency may take before its dependents give up "
        "(`agent/tasks/ordering.py`)."
    ),
    "stopTimeout": honoured(
        "Grace between SIGTERM and SIGKILL when the container is stopped (default 30 s, an agent setting; "
        "`agent/tasks/runner.py`)."
    ),
    "versionConsistency": ignored(
        "ECS pins a tag to the digest resolved at the first launch, so a deployment runs one image; minecs "
        "runs whatever the tag names on each host when it is pulled.",
        sample="disabled",
    ),
    "hostname": honoured(
        "Docker Hostname; not applied in host mode (the host's name) and refused with awsvpc, as in ECS."
    ),
    "user": honoured("Docker User."),
    "workingDirectory": honoured("Docker WorkingDir."),
    "disableNetworking": honoured("Docker NetworkDisabled."),
    "privileged": honoured(
        "Docker Privileged. Every minecs agent offers the privileged-container attribute: no host can opt out "
        "as with ECS_DISABLE_PRIVILEGED (`agent/daemon.py`)."
    ),
    "readonlyRootFilesystem": honoured("Docker ReadonlyRootfs."),
    "dnsServers": honoured(
        "Docker Dns; not applied under awsvpc, where the containers share the pause container's namespace."
    ),
    "dnsSearchDomains": honoured(
        "Docker DnsSearch; not applied under awsvpc, where the containers share the pause container's namespace."
    ),
    "extraHosts": honoured("Docker ExtraHosts (`--add-host`); refused with awsvpc, as in ECS.", whole=True),
    "dockerSecurityOptions": honoured(
        "Docker SecurityOpt, passed as written: not checked against ECS's forms (no-new-privileges, "
        "apparmor:, label:, credentialspec:)."
    ),
    "interactive": honoured("Docker OpenStdin."),
    "pseudoTerminal": honoured("Docker Tty."),
    "dockerLabels": honoured(
        "Docker labels; the five `com.amazonaws.ecs.*` labels the agent sets win over the same keys."
    ),
    "ulimits": honoured("Docker Ulimits; a name at most once, softLimit <= hardLimit.", whole=True),
    "logConfiguration": honoured(
        "Docker LogConfig, per member below (`agent/provision/containerconfig.py`)."
    ),
    "logConfiguration.logDriver": honoured(
        "json-file, syslog, journald, gelf, fluentd and splunk go to Docker (the driver must work on the "
        "host). awslogs and awsfirelens have no destination here: the container logs to json-file instead "
        "and the agent logs a warning (`agent/tasks/runner.py`)."
    ),
    "logConfiguration.options": honoured("Docker log options; dropped with awslogs and awsfirelens."),
    "logConfiguration.secretOptions": ignored(
        "Not resolved or passed to the driver, so a driver option that comes from a secret (a splunk-token) "
        "is missing. Put it in `options` instead.",
        whole=True,
        sample=[{"name": "splunk-token", "valueFrom": "arn:aws:ssm:us-east-1:000000000000:parameter/token"}],
    ),
    "healthCheck": honoured(
        "Docker Healthcheck (a command without CMD or CMD-SHELL gets CMD); container and task healthStatus "
        "as ECS computes them (`agent/tasks/taskstatus.py`), HEALTHY dependencies, and a service replaces an "
        "UNHEALTHY task (`minecs/controlplane/scheduler.py`). ECS's ranges are checked at registration.",
        whole=True,
    ),
    "systemControls": honoured(
        "Docker Sysctls; one Docker refuses fails the container with `CannotCreateContainerError`.",
        whole=True,
    ),
    "resourceRequirements": ignored(
        "No GPU or accelerator is assigned and placement does not count them: the container runs without "
        "the device. A host device can be passed with `linuxParameters.devices`.",
        whole=True,
        sample=[{"type": "GPU", "value": "1"}],
    ),
    "firelensConfiguration": ignored(
        "No Fluent Bit or Fluentd configuration is generated and awsfirelens logs go to json-file; the log "
        "router runs as an ordinary container.",
        whole=True,
        sample={"type": "fluentbit", "options": {"enable-ecs-log-metadata": "true"}},
    ),
    "credentialSpecs": ignored(
        "Active Directory gMSA credential specs need AWS's integration; none is applied.",
        sample=["credentialspecdomainless:arn:aws:s3:::bucket/spec.json"],
    ),
}
