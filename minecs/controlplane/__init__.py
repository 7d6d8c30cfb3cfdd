"""The control plane's service layer: one implementation of each ECS operation, on the ``Store``.

Both API front ends (the native ``/v1`` API and the ECS JSON 1.1 endpoint) and the reconciler call
these classes; none of them talks to the store directly. Inputs are validated model objects, outputs
are model objects; errors are ``minecs.errors.EcsError`` with ECS codes.
"""
