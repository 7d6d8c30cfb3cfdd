"""The AWS config a controller writes beside its admin credential, so no command goes to AWS by accident.

``<data-dir>/credentials`` holds the admin key pair (profile ``minecs``). The controller also writes,
on every start, once it listens:

* ``<data-dir>/aws-config``: an AWS config file whose profile ``minecs`` has the region and a
  ``services`` section with the ECS ``endpoint_url`` (botocore >= 1.31 and aws CLI v1.29 / v2.13
  read it), so ``aws ecs ...`` and ``boto3.client("ecs")`` reach this controller with no
  ``--endpoint-url``;
* ``<data-dir>/aws.env``: the shell lines that select both files and set ``AWS_ENDPOINT_URL_ECS``
  (the service-specific endpoint variable, which wins over a config file's): ``. /var/lib/minecs/aws.env``.

Other services' variables (``AWS_ENDPOINT_URL_SECRETS_MANAGER``, ...) join these files as minecs
serves them. A controller listening on every address (``0.0.0.0``) is written as 127.0.0.1: the
files are for this host's tools.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from minecs.controlplane.auth import PROFILE

CONFIG_FILE = "aws-config"
ENV_FILE = "aws.env"
_ANY = ("0.0.0.0", "::", "")


def local_endpoint(listen: str, port: int) -> str:
    """The URL this host's tools use for a controller listening on ``listen``:``port``."""
    host = "127.0.0.1" if listen in _ANY else listen
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def write_aws_profile(data_dir: Path, endpoint: str, region: str) -> None:
    """Write (replace) ``aws-config`` and ``aws.env`` in ``data_dir`` for ``endpoint``."""
    config = (
        "# Written by the minecs controller on each start: the aws CLI and boto3 with this file\n"
        "# (AWS_CONFIG_FILE) and profile minecs call this controller, never AWS.\n"
        f"[profile {PROFILE}]\n"
        f"region = {region}\n"
        f"services = {PROFILE}\n"
        "\n"
        f"[services {PROFILE}]\n"
        "ecs =\n"
        f"  endpoint_url = {endpoint}\n"
    )
    variables = {
        "AWS_CONFIG_FILE": str(data_dir / CONFIG_FILE),
        "AWS_SHARED_CREDENTIALS_FILE": str(data_dir / "credentials"),
        "AWS_PROFILE": PROFILE,
        "AWS_DEFAULT_REGION": region,
        "AWS_ENDPOINT_URL_ECS": endpoint,
        "MINECS_ENDPOINT": endpoint,
        "MINECS_DATA_DIR": str(data_dir),
    }
    lines = [f"export {name}={shlex.quote(value)}" for name, value in variables.items()]
    env = "# Written by the minecs controller on each start: . this file, then aws ecs / boto3 / minecs.\n"
    _replace(data_dir / CONFIG_FILE, config)
    _replace(data_dir / ENV_FILE, env + "\n".join(lines) + "\n")


def _replace(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(text)
    os.chmod(partial, 0o600)
    os.replace(partial, path)
