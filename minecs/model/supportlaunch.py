"""The "Launch types and capacity providers" section of ``docs/task-definition-support.md``.

A task definition says where it may run (``requiresCompatibilities``); RunTask and CreateService
say where it does. This is the mapping from what those calls ask for to what a minecs host does,
kept as text beside the member table so the one generated document carries both. The rules it
describes live in ``minecs.scheduling.launch``; a test keeps ECS's words quoted here equal to the
ones that module answers with. Pure: no I/O.
"""

from __future__ import annotations

ROWS = (
    (
        "no `launchType`, no `capacityProviderStrategy`, no cluster default",
        "EXTERNAL",
        "minecs's emulated awsvpc: no `networkConfiguration` needed; one given for an awsvpc task is kept, "
        "with its attachment (below)",
        "`launchType: EXTERNAL` (ECS would say EC2: every minecs instance is an on-premises one)",
    ),
    ("`launchType: EXTERNAL`", "EXTERNAL", "as above", "`launchType: EXTERNAL`"),
    (
        "`launchType: EC2`",
        "EC2",
        "ECS's awsvpc rule (below); `platformVersion` refused: InvalidParameterException `The platform "
        "version must be null when specifying an EC2 launch type.`",
        "`launchType: EC2`",
    ),
    (
        "`launchType: FARGATE`",
        "FARGATE",
        "Fargate's rules (below)",
        "`launchType: FARGATE`, `platformVersion: 1.4.0`, `platformFamily: Linux`",
    ),
    (
        "`capacityProviderStrategy` of `FARGATE` and/or `FARGATE_SPOT`",
        "FARGATE",
        "Fargate's rules, and ECS's strategy rules (below)",
        "as FARGATE, and `capacityProviderName`",
    ),
    (
        "neither, on a cluster with a `defaultCapacityProviderStrategy`",
        "as that strategy",
        "as that strategy",
        "as that strategy",
    ),
    (
        "`launchType: MANAGED_INSTANCES`",
        "refused",
        "UnsupportedFeatureException: ECS Managed Instances need a capacity provider minecs does not have",
        "",
    ),
    (
        "both `launchType` and `capacityProviderStrategy`",
        "refused",
        "InvalidParameterException `Specifying both a launch type and capacity provider strategy is not "
        "supported. Remove one and try again.`",
        "",
    ),
)
"""What each RunTask or CreateService launch becomes: (asked for, runs as, held to, describes)."""

_INTRO = """## Launch types and capacity providers

Every launch runs on the cluster's own instances, the ones minecs agents registered (EXTERNAL
instances in ECS's terms), and is placed as any task is: placement strategies and constraints,
the task's size and its ports. The launch type decides which of ECS's rules the task is held to and
what it describes (`minecs/scheduling/launch.py`).

| RunTask or CreateService asks for | runs as | held to | the task describes |
|---|---|---|---|
"""

_RULES = """
**Fargate's rules.** The task definition must be Fargate-compatible: its `compatibilities` has
FARGATE, which minecs computes at registration as ECS does (networkMode awsvpc and a task-level
cpu/memory pair from Fargate's table), else InvalidParameterException `Task definition does not
support launch_type FARGATE.`, from RunTask, CreateService and an UpdateService to such a revision.
RunTask's `overrides.cpu` and `overrides.memory` must stay in Fargate's table. `platformVersion` is
`LATEST` (the default) or `1.4.0`; any other is PlatformUnknownException `The specified platform
version doesn't exist.` (1.3.0 was retired in 2026). The task-level size is the task's reservation
on its instance (not its containers' sum) and the agent enforces it as the task's cgroup limits
(`agent/provision/cgroups.py`).

**ECS's awsvpc rule** (EC2 and FARGATE): an awsvpc task needs
`networkConfiguration.awsvpcConfiguration.subnets` (InvalidParameterException `Network
Configuration must be provided when networkMode 'awsvpc' is specified.`), and a task of another
network mode refuses a `networkConfiguration` (`Network Configuration is not valid for the given
networkMode of this task definition.`). The task then describes one `ElasticNetworkInterface`
attachment whose only detail is `subnetId` (the first subnet given): awsvpc is emulated by a
pause container, so there is no ENI, MAC or private IP to show, and the task has its host's
address. The attachment's status follows the task as a real one does: PRECREATED until it is
activating, ATTACHED while it runs, DELETED once it is deprovisioning or stopped.
`securityGroups` and `assignPublicIp` are accepted and echoed on the service, and applied to
nothing.

**ECS's strategy rules.** A cluster that names `capacityProviders` has those; one that names none
(the `default` cluster, say) has both FARGATE and FARGATE_SPOT. Any other name, or one the cluster
does not have, is InvalidParameterException `The specified capacity provider strategy cannot
contain a capacity provider that is not associated with the cluster. Associate the capacity
provider with the cluster or specify a valid capacity provider and try again.`, followed by the
name and the ones the cluster has. At most 20 items, each provider once, `weight` 0 to 1000,
`base` 0 to 100000 on at most one item, and with two items at least one `weight` above 0. Each
task gets its `capacityProviderName` as ECS spreads them: the `base` tasks first, then by
`weight` (a service counts its live tasks; RunTask counts the tasks of the call). FARGATE_SPOT
tasks are never interrupted: there is no spare capacity to reclaim on a minecs host.

**Services** describe the launch as asked: `launchType`, or `capacityProviderStrategy` (with
`weight` and `base` shown, 0 when not given), and for Fargate `platformVersion` as asked
(`LATEST`), `platformFamily` and `networkConfiguration`. Each deployment describes the platform
version it resolved to (`1.4.0`). The service's tasks follow its launch. A service created without
either is EXTERNAL.

**ListTasks and ListServices** filter `launchType` by what each task describes; a service with a
capacity provider strategy counts as FARGATE, one stored before minecs kept launch types as
EXTERNAL. StartTask has no `launchType` member: its tasks are EXTERNAL.

**Not (yet) done:** UpdateService does not change a service's launch (`capacityProviderStrategy`,
`platformVersion` and `networkConfiguration` there are not read); Container Insights metrics
label every task `launch_type="EXTERNAL"`; `ephemeralStorage` is not applied (see the table
above). The agent is told each task's launch type, and its task metadata (`LaunchType`) says it.
"""


def _row(cells: tuple[str, str, str, str]) -> str:
    return "| " + " | ".join(cells) + " |"


LAUNCH_SECTION = _INTRO + "\n".join(_row(r) for r in ROWS) + "\n" + _RULES
"""The section's Markdown, as the document carries it."""
