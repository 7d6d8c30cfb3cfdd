"""The type-driven codec: every structural problem reported with its path, and lossless encoding."""

from __future__ import annotations

from minecs.model.codec import Decoder, camel, encode
from minecs.model.containerdef import ContainerDefinition, HealthCheck, PortMapping, TransportProtocol
from minecs.model.service import ServiceSpec
from minecs.model.taskdef import EphemeralStorage, NetworkMode, TaskDefinitionSpec


def decode(cls: type, data: object) -> tuple[object, list[tuple[str, str]]]:
    decoder = Decoder()
    result: object = decoder.decode(cls, data)
    return result, [(p.path, p.message) for p in decoder.problems]


def test_camel_case_names_and_overrides() -> None:
    assert camel("readonly_root_filesystem") == "readonlyRootFilesystem"
    assert camel("family") == "family"
    assert encode(EphemeralStorage(size_in_gib=30)) == {"sizeInGiB": 30}
    assert encode(ServiceSpec(service_name="s", enable_ecs_managed_tags=True))["enableECSManagedTags"] is True


def test_unknown_member_is_named_with_the_allowed_ones() -> None:
    _, found = decode(HealthCheck, {"command": ["CMD", "true"], "intervall": 5})
    assert found == [
        (
            "intervall",
            'Unknown parameter in input: "intervall", must be one of: command, interval, timeout, retries, startPeriod',
        )
    ]


def test_missing_required_member() -> None:
    _, found = decode(HealthCheck, {"interval": 5})
    assert found == [("command", 'Missing required parameter in input: "command"')]


def test_wrong_types_and_bool_is_not_an_int() -> None:
    _, found = decode(PortMapping, {"containerPort": True, "hostPort": "80", "name": 3})
    assert found == [
        (
            "containerPort",
            "Invalid type for parameter containerPort, value: True, type: <class 'bool'>, valid types: <class 'int'>",
        ),
        (
            "hostPort",
            "Invalid type for parameter hostPort, value: 80, type: <class 'str'>, valid types: <class 'int'>",
        ),
        (
            "name",
            "Invalid type for parameter name, value: 3, type: <class 'int'>, valid types: <class 'str'>",
        ),
    ]


def test_enum_values_are_checked_with_the_aws_wording() -> None:
    _, found = decode(PortMapping, {"containerPort": 53, "protocol": "sctp"})
    assert found == [
        (
            "protocol",
            "Value 'sctp' at 'protocol' failed to satisfy constraint: Member must satisfy enum value set: [tcp, udp]",
        )
    ]


def test_a_narrowed_enum_takes_only_the_values_the_caller_allows() -> None:
    narrowed = Decoder(narrowed={TransportProtocol: (TransportProtocol.TCP,)})
    assert narrowed.decode(PortMapping, {"protocol": "tcp"}).protocol is TransportProtocol.TCP
    narrowed.decode(PortMapping, {"protocol": "udp"})
    assert [(p.path, p.message) for p in narrowed.problems] == [
        (
            "protocol",
            "Value 'udp' at 'protocol' failed to satisfy constraint: Member must satisfy enum value set: [tcp]",
        )
    ]


def test_nested_paths_and_every_problem_is_reported() -> None:
    _, found = decode(
        TaskDefinitionSpec,
        {
            "family": "f",
            "containerDefinitions": [
                {"name": "a", "dockerLabels": {"ok": "x", "bad": 1}},
                {"name": "b", "portMappings": [{"containerPort": "80"}]},
            ],
        },
    )
    assert [path for path, _ in found] == [
        "containerDefinitions[0].dockerLabels.bad",
        "containerDefinitions[1].portMappings[0].containerPort",
    ]


def test_null_members_count_as_absent() -> None:
    result, found = decode(ContainerDefinition, {"name": "a", "memory": None})
    assert found == []
    assert isinstance(result, ContainerDefinition)
    assert result.memory is None


def test_defaults_are_ecs_defaults_and_encoding_shows_them() -> None:
    result, found = decode(
        TaskDefinitionSpec,
        {"family": "f", "containerDefinitions": [{"name": "a", "portMappings": [{"containerPort": 80}]}]},
    )
    assert found == []
    assert isinstance(result, TaskDefinitionSpec)
    c = result.container_definitions[0]
    assert (result.network_mode, c.essential, c.cpu, c.port_mappings[0].protocol) == (
        NetworkMode.BRIDGE,
        True,
        0,
        TransportProtocol.TCP,
    )
    assert encode(result) == {
        "family": "f",
        "containerDefinitions": [
            {
                "name": "a",
                "cpu": 0,
                "essential": True,
                "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
            }
        ],
        "networkMode": "bridge",
    }


def test_task_cpu_and_memory_accept_numbers_as_yaml_users_write_them() -> None:
    result, found = decode(
        TaskDefinitionSpec, {"family": "f", "containerDefinitions": [], "cpu": 256, "memory": "1 GB"}
    )
    assert found == []
    assert isinstance(result, TaskDefinitionSpec)
    assert (result.cpu, result.memory) == ("256", "1 GB")


def test_opaque_members_are_kept_as_given() -> None:
    load_balancers = [
        {"targetGroupArn": "arn:x", "containerName": "web", "containerPort": 80, "extra": {"a": [1]}}
    ]
    result, found = decode(ServiceSpec, {"serviceName": "s", "loadBalancers": load_balancers})
    assert found == []
    assert encode(result)["loadBalancers"] == load_balancers


def test_a_non_object_where_an_object_belongs() -> None:
    _, found = decode(TaskDefinitionSpec, ["not", "an", "object"])
    assert found == [
        ("", "Invalid type for parameter input, type: <class 'list'>, valid types: <class 'dict'>")
    ]
