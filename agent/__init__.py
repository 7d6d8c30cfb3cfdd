"""The minecs agent: runs ECS tasks on the local Docker Engine and reports their state.

It talks to Docker only through ``agent.runtime.base.Driver`` (real: ``agent.runtime.docker``; fake:
``agent.runtime.fake``) and imports from ``minecs`` only the shared model, errors, logs and helpers.
"""
