"""The controller's HTTP front ends, on aiohttp: the agent protocol (``/agent/v1``) and the native
API (``/v1``). Handlers parse and check input, call the control plane's service layer, and shape the
answer; they hold no logic of their own. Every ``MinecsError`` becomes a 4xx JSON answer with its
ECS code and message in one middleware; anything else is logged and answered 500 ``ServerException``,
and the daemon keeps serving.
"""
