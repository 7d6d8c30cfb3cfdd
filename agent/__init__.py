"""The minecs agent: runs ECS tasks on the local Docker Engine and reports their state.

It talks to Docker only through ``agent.runtime.Driver`` (real: ``agent.driver``; fake:
``agent.fakedriver``) and imports from ``minecs`` only the shared model, errors, logs and helpers.
"""
