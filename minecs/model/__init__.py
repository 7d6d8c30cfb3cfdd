"""Pure ECS shapes, shared by the controller and the agent: no I/O, nothing above imported.

* the task definition, member for member: ``taskdef`` (task level), ``containerdef`` (a container
  definition and what it nests), ``efs`` (EFS volumes and the NFS mount they become),
  ``registered`` (what registration adds);
* ``placement``: the one placement constraint and strategy type, held by the task definition and
  the service and read by placement; ``expression``: the ``memberOf`` query language;
* ``service`` (CreateService, CreateCluster), ``task`` (statuses, assignments, snapshots);
* ``codec``: JSON <-> these dataclasses, every structural problem with its path; ``wire``: the
  JSON forms of assignments and snapshots; ``jsontext``: JSON text on the hot paths;
* ``units``, ``reservation``: ECS's cpu/memory arithmetic;
* ``support`` (with ``supporttable``, ``supportcontainer``, ``supportlaunch``): which task
  definition members minecs honours, the source of ``docs/task-definition-support.md``.
"""
