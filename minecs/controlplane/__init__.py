"""The control plane's service layer: one implementation of each ECS operation, on the ``Store``.

Both API front ends (the native ``/v1`` API and the ECS JSON 1.1 endpoint) and the reconciler call
these classes; none of them talks to the store directly. Inputs are validated model objects, outputs
are model objects; errors are ``minecs.errors.EcsError`` with ECS codes.

Rooms: ``taskdefs``, ``clusters``, ``instances``, ``efs``, ``auth``; tasks as ``tasks`` (the face)
over ``requests`` (what a run request makes), ``placing``, ``assignments`` (what an instance should
run) and ``reports`` (what its agent says); services as ``services`` over ``scheduler`` (one
reconcile pass) and ``breaker`` (the circuit breaker and launch back-off); ``plane`` wires them and
``apply`` applies manifests. Their order is an import-linter contract (docs/layout.md).
"""
