"""The ECS-compatible JSON 1.1 front end: ``POST /`` with ``X-Amz-Target``, SigV4, one service layer.

boto3 and the aws CLI talk to the controller's port with ``--endpoint-url``. A request is
authenticated (``sigv4.verify`` against the controller's admin credential, the same pair the
native API and the CLI use), dispatched by ``X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Op>``
to a handler in this package, and answered as AWS answers: JSON with epoch-second timestamps and an
``x-amzn-RequestId`` header; errors as HTTP 400 (403 for signature problems, 500 only for
``ServerException``) with ``{"__type": <code>, "message": ...}``. Handlers call the same
``ControlPlane`` as ``/v1``; nothing here stores anything itself.

Choices: minecs is one world. ARNs are stored with the controller's region and account
(``MINECS_REGION``, default ``us-east-1``; ``MINECS_ACCOUNT_ID``, default ``000000000000``) and
answered in the region of the caller's SigV4 credential scope (``shaping``), the controller's own
for an unsigned call. Every answer is filtered to botocore's ECS output shape (``shaping``,
``outputs.json``), with the members ECS always returns added. Unsigned requests are refused
(``MissingAuthenticationTokenException``) unless ``controller.allow_unsigned_loopback`` is set and
the caller is on loopback. Any other ECS operation is ``UnsupportedFeatureException`` naming it
(no list to drift as ECS grows); a target outside the ECS namespace is ``UnknownOperationException``.
"""
