"""One exception tree for minecs, shared by the controller, the agent and the CLI.

Every error minecs raises on purpose is a ``MinecsError``. Foreign errors (the docker SDK, sqlite,
aiohttp) are mapped to ours in exactly one place each (``agent/runtime/docker.py`` for Docker) with
``raise Ours(...) from exc``, so callers never catch a library's exception type.

    MinecsError
    ├── SettingsError             bad configuration value; the daemon refuses to start
    ├── PortTakenError            a daemon's port is held by another process; the daemon does not start
    ├── DataDirInUseError         another daemon holds the data directory's lock; this one does not start
    ├── StoreError                the store failed (I/O, corruption); the operation did not happen
    │   └── VersionConflictError           the object changed since it was read (or exists, or is gone)
    ├── EcsError                  an error with an ECS error code; the API sends it as a 4xx
    │   ├── ClientError                     ClientException
    │   │   ├── ValidationError            every problem found in one document, with field paths
    │   │   └── MalformedRequestError      the request cannot be read: not UTF-8, not JSON, too deep,
    │   │       │                          a number out of range, a bad path or header value; the ECS
    │   │       │                          front end calls it SerializationException, as AWS does
    │   │       └── RequestTooLargeError   413: the body is over the size limit
    │   ├── InvalidParameterError           InvalidParameterException
    │   │   └── ExpressionError             a memberOf expression minecs cannot read
    │   ├── UnsupportedFeatureError         UnsupportedFeatureException
    │   ├── NotFoundError                   the *NotFoundException family (code given per instance)
    │   ├── UnauthenticatedError            401: no or unknown credentials
    │   ├── AccessDeniedError               403: AccessDeniedException (known caller, not allowed)
    │   ├── UnknownOperationError           an X-Amz-Target that names no operation at all
    │   ├── MissingAuthenticationError      403: an ECS request without a SigV4 signature
    │   ├── UnrecognizedClientError         an ECS request signed with an access key nobody issued
    │   ├── InvalidSignatureError           403: a SigV4 signature that does not verify
    │   └── AgentUnavailableError           503: the task's agent is disconnected or did not answer
    ├── DriverError               the container engine refused or failed an operation
    │   ├── EngineUnavailableError          no Docker Engine answers
    │   ├── ImageNotFoundError              the image is neither cached nor pullable
    │   ├── ContainerNotFoundError          no container with that id or name
    │   └── ContainerConflictError          the name is taken, or the container is in the wrong state
    └── AgentError                the agent's own work on the host failed (agent/)
        ├── ResourceInitError               a task resource could not be prepared (ResourceInitializationError)
        ├── SecretNotFoundError             a valueFrom names no secret the agent's store has
        ├── PortsExhaustedError             no free host port is left in the dynamic range
        ├── ControllerUnavailableError      the controller did not answer, or failed; try again later
        ├── ControllerRefusedError          the controller refused the agent's call (4xx)
        └── TokenMissingError               a never registered agent was started without a token

Design decision: an ``EcsError`` carries its wire ``code`` and HTTP ``status`` as data, so both API
front ends (native ``/v1`` and ECS JSON 1.1) render it the same way and no handler ever maps errors
by hand (``ecs_code``, when set, is the code the ECS front end uses instead). ``ValidationError``
keeps *all* problems (``FieldProblem``), because users fix a task definition faster when they see
every error at once: the native API, ``minecs validate`` and ``apply`` show them all, while the ECS
front end answers as ECS does, with the first problem's sentence alone (``minecs.api.middleware``).
"""

from __future__ import annotations

from dataclasses import dataclass


class MinecsError(Exception):
    """Base of every error minecs raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SettingsError(MinecsError):
    """A setting (file or ``MINECS_*`` variable) has a bad value."""


class PortTakenError(MinecsError):
    """A daemon cannot listen on its port: another process holds it (``minecs.ports`` names it)."""

    def __init__(self, message: str, *, port: int) -> None:
        super().__init__(message)
        self.port = port


class DataDirInUseError(MinecsError):
    """Another minecs daemon runs on this data directory (``minecs.datadir.lock``)."""


class StoreError(MinecsError):
    """The store failed (I/O, corruption); the operation did not happen."""


class VersionConflictError(StoreError):
    """The object changed since it was read (or exists already, or is gone)."""


# ---------------------------------------------------------------------------- ECS-coded errors


class EcsError(MinecsError):
    """An error the API reports with an ECS error code (``__type``) and an HTTP status."""

    code: str = "ServerException"
    status: int = 400
    ecs_code: str | None = None

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class ClientError(EcsError):
    """The request is wrong in a way ECS reports as ``ClientException``."""

    code = "ClientException"


class MalformedRequestError(ClientError):
    """The request cannot be read at all (``minecs.api.bodies``, the request guard); nothing ran."""

    ecs_code: str | None = "SerializationException"


class RequestTooLargeError(MalformedRequestError):
    """The request body is over the size limit (HTTP 413)."""

    status = 413
    ecs_code = None


class InvalidParameterError(EcsError):
    """A parameter has a bad value (``InvalidParameterException``)."""

    code = "InvalidParameterException"


class ExpressionError(InvalidParameterError):
    """A cluster query language expression (``memberOf``, ``filter``) outside what minecs reads."""


class UnsupportedFeatureError(EcsError):
    """The feature exists in ECS but not on a minecs host (``UnsupportedFeatureException``)."""

    code = "UnsupportedFeatureException"


class NotFoundError(EcsError):
    """An object is missing; ``code`` says which kind (``ClusterNotFoundException``, ...)."""

    code = "ResourceNotFoundException"


class UnauthenticatedError(EcsError):
    """The caller sent no credentials, or ones nobody issued (HTTP 401)."""

    code = "UnrecognizedClientException"
    status = 401


class AccessDeniedError(EcsError):
    """The caller is known but may not do this (HTTP 403)."""

    code = "AccessDeniedException"
    status = 403


class UnknownOperationError(EcsError):
    """The ECS front end's ``X-Amz-Target`` names no operation (``UnknownOperationException``)."""

    code = "UnknownOperationException"


class MissingAuthenticationError(EcsError):
    """An ECS request carries no SigV4 signature (HTTP 403, as AWS answers)."""

    code = "MissingAuthenticationTokenException"
    status = 403


class UnrecognizedClientError(EcsError):
    """An ECS request is signed with an access key id nobody issued."""

    code = "UnrecognizedClientException"
    status = 400


class InvalidSignatureError(EcsError):
    """An ECS request's SigV4 signature is malformed, stale or does not verify (HTTP 403)."""

    code = "InvalidSignatureException"
    status = 403


class AgentUnavailableError(EcsError):
    """Only the task's agent can answer (logs), and it is disconnected or did not answer (HTTP 503)."""

    code = "ServerException"
    status = 503


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One problem in one field of one document.

    ``path`` is the ECS member path (``containerDefinitions[1].dependsOn[0].containerName``);
    ``source`` names the document (``file.yaml:doc#2``) when it came from a file.
    """

    path: str
    message: str
    code: str = "ClientException"
    source: str = ""

    def render(self) -> str:
        where = f"{self.source}: " if self.source else ""
        field = f"{self.path}: " if self.path else ""
        return f"{where}{field}{self.message} ({self.code})"


class ValidationError(ClientError):
    """A document breaks one or more ECS rules; ``problems`` lists every one found."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        if not problems:
            raise ValueError("ValidationError needs at least one problem")
        self.problems = tuple(problems)
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        field = f"{first.path}: " if first.path else ""
        super().__init__(f"{field}{first.message}{more}", code=first.code)


# ---------------------------------------------------------------------------- container engine


class DriverError(MinecsError):
    """The container engine refused or failed an operation."""


class EngineUnavailableError(DriverError):
    """No Docker Engine answers on the configured socket."""


class ImageNotFoundError(DriverError):
    """The image is not cached locally and could not be pulled."""


class ContainerNotFoundError(DriverError):
    """No container has that id or name."""


class ContainerConflictError(DriverError):
    """The container name is already in use, or the container is in a conflicting state."""


# ---------------------------------------------------------------------------- agent


class AgentError(MinecsError):
    """The agent's own work on the host failed: provisioning a task, or talking to the controller."""


class ResourceInitError(AgentError):
    """A task resource could not be prepared; the task fails to start."""


class SecretNotFoundError(AgentError):
    """A ``valueFrom`` names no secret the resolver has; the task fails with ResourceInitializationError."""


class PortsExhaustedError(AgentError):
    """No free host port is left in the dynamic range."""


class ControllerUnavailableError(AgentError):
    """The controller did not answer, or failed; try again later."""


class ControllerRefusedError(AgentError):
    """The controller refused the call (4xx)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code


class TokenMissingError(AgentError):
    """The agent has no instance identity in its data dir yet and no registration token to get one."""
