"""minecs: Amazon ECS semantics for your own boxes.

This package holds the controller, the model shared with the agent, and the ``minecs`` CLI. The
agent daemon lives in the sibling package ``agent`` and may import only the shared parts of this one
(model, validation, errors, logs, aiotasks, settings); ``make test`` enforces that with import-linter.
"""
