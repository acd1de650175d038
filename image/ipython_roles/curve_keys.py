"""The controller's CurveZMQ key pair, derived from the cluster key on every side.

WHY derived: ipyparallel's CurveZMQ support (``IPController.enable_curve``) has the controller
generate a key pair at start and write its public half into the connection files, which engines
and clients must then copy. Here nothing is copied (see connection_info), so controller, engines
and viewers compute the same pair from what they already share, ``IPYTHON_CLUSTER_KEY``:

    secret = HMAC-SHA256(key=IPYTHON_CLUSTER_KEY, msg="ipython-k8s CurveZMQ controller key v1")
    public = crypto_scalarmult_base(secret)          (zmq.curve_public)

Only the controller uses the secret half; engines and clients use the public half as
``curve_serverkey`` and a fresh key pair of their own (ipyparallel makes one). What it gives:
traffic between pods is encrypted, and a client or engine that does not hold the cluster key
cannot complete the handshake (it derives another server key), so it never reaches the
controller. CurveZMQ without an authentication handler accepts any *client* key, so the message
signatures (``Session.key`` = the cluster key, kept on purpose) still authenticate the clients.
The same cluster key gives the same pair after a controller restart, so engines reconnect.

The derivation is only as strong as the cluster key: the constructs generate 48 random letters
and digits (about 285 bits).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

DERIVATION_LABEL = b"ipython-k8s CurveZMQ controller key v1"


@dataclass(frozen=True)
class CurveKeys:
    """The controller's key pair, Z85-encoded (40 ASCII characters each), as ZeroMQ takes them."""

    public: bytes
    secret: bytes = field(repr=False)


def controller_keys(cluster_key: str) -> CurveKeys:
    import zmq
    from zmq.utils import z85

    seed = hmac.new(cluster_key.encode("utf-8"), DERIVATION_LABEL, hashlib.sha256).digest()
    secret = z85.encode(seed)
    return CurveKeys(public=zmq.curve_public(secret), secret=secret)


def client_socket_options(server_public: bytes) -> dict[int, bytes]:
    """Socket options that make a connecting socket (engine watch, client) speak CurveZMQ."""
    import zmq

    public, secret = zmq.curve_keypair()
    return {zmq.CURVE_SERVERKEY: server_public, zmq.CURVE_PUBLICKEY: public, zmq.CURVE_SECRETKEY: secret}
