"""The container runtime seam: the ``Driver`` Protocol and our own container types (``base``), the Docker
Engine behind it (``docker``, with ``dockershapes`` and ``dockerexec``: the only modules that touch the docker
SDK), its in-memory twin for tests (``fake``), and the smoke run that proves one container end to end
through it (``smoke``).
"""
