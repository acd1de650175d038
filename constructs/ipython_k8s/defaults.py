"""Defaults shared by the constructs and the stacks, in one place so docs and code agree.

The image's contract (ports, paths, the user, the image's defaults) is written once, in the
repository's image/contract.json. The library is a separate distribution that cannot read that
file at run time, so it keeps its own constants here and tests/test_contract.py proves them equal
to the contract: change the contract first, then these.
"""

#: The role-switching image (see the image's README); override with the ``image`` prop.
DEFAULT_IMAGE = "ghcr.io/ipython-k8s/ipython-notebook:0.1.0"

#: The viewer's HTTP port inside the pod (``IPYTHON_VIEWER_PORT`` of the image).
DEFAULT_VIEWER_PORT = 8888

#: First of the controller's 16 fixed ports (``IPYTHON_CONTROLLER_PORT`` of the image).
CONTROLLER_FIRST_PORT = 10100
#: How many consecutive ports the controller listens on: 10100..10115.
CONTROLLER_PORT_COUNT = 16

#: Engines started by an ``EngineCluster``: two keep a small (2-core) node busy without
#: oversubscribing it and show load balancing at once; scale with ``engines=N``.
DEFAULT_ENGINES = 2
#: Upper bound for ``engines``: a guard against typos like 20000, not a platform limit.
MAX_ENGINES = 1000

#: Idle kernels are shut down after this many seconds (Jupyter's ``cull_idle_timeout``); 0 disables.
DEFAULT_CULL_IDLE_SECONDS = 3600
MAX_CULL_IDLE_SECONDS = 365 * 24 * 3600

#: How the controller's sockets are protected (``IPYTHON_CLUSTER_ENCRYPTION`` of the image):
#: ``curve`` encrypts with CurveZMQ, the controller's key pair derived from the cluster key;
#: ``none`` leaves plain TCP with signed messages. Controller, engines and viewers must agree.
CLUSTER_ENCRYPTIONS = ("curve", "none")
DEFAULT_CLUSTER_ENCRYPTION = "curve"

#: Size of the viewer's workspace PersistentVolumeClaim.
DEFAULT_WORKSPACE_SIZE = "1Gi"

#: Length of a generated viewer password (the seed used 8 characters, too few today).
DEFAULT_PASSWORD_LENGTH = 24
MIN_GENERATED_PASSWORD_LENGTH = 16
#: The shortest password a user may choose.
MIN_USER_PASSWORD_LENGTH = 8

#: Length of the per-cluster key that signs ipyparallel messages.
DEFAULT_CLUSTER_KEY_LENGTH = 48
MIN_CLUSTER_KEY_LENGTH = 32

#: Length of a generated user or cluster label (as in the seed: 5 lowercase letters and digits).
RANDOM_LABEL_LENGTH = 5

#: The namespace the resources go to when none is given. Not Kubernetes' ``default``: objects
#: there mix with whatever else lands in it by accident, and policies scoped by namespace
#: (quotas, NetworkPolicies, Pod Security admission labels) cannot single them out. The
#: constructs do not create it: one namespace holds the objects of several stacks (a cluster
#: and every viewer linked to it), and whichever stack created it would delete it, with the
#: others' objects and workspace volumes, on destroy. ``kubectl create namespace ipython``.
DEFAULT_NAMESPACE = "ipython"

#: Pull policy of every container: None leaves it to Kubernetes (IfNotPresent for a version tag
#: or a digest, Always for ``:latest``), which is what ``kind load`` and the local runner need.
DEFAULT_IMAGE_PULL_POLICY = None

#: The image's entrypoint, run by the engine's exec probes (see the image's healthcheck).
IMAGE_PYTHON = "/opt/venv/bin/python"
IMAGE_ENTRYPOINT = "/opt/ipython/entrypoint.py"
HEALTHCHECK_COMMAND = (IMAGE_PYTHON, IMAGE_ENTRYPOINT, "healthcheck")

#: Paths the image writes at run time (see the shared contract): all else can be read-only.
HOME_DIR = "/home/ipython"
WORKSPACE_DIR = "/home/ipython/work"
TMP_DIR = "/tmp"
#: Where a cluster's shared ReadWriteMany volume is mounted, in its engines and linked viewers.
SHARED_DIR = "/home/ipython/shared"

#: The largest message part, in MiB, the image's sockets accept (``IPYTHON_MAX_MESSAGE_MIB``):
#: the image's own default and bound; left at the default, the variable is not set.
DEFAULT_MAX_MESSAGE_MIB = 64
MAX_MESSAGE_MIB = 4096

#: What the start does when the workspace already holds a clone of the notebook repository
#: (``IPYTHON_REPOSITORY_UPDATE`` of the image): ``pull`` merges new upstream commits, the user's
#: edits winning (nbgitpuller's rules); ``never`` leaves the clone as it is. Left at the default,
#: the variable is not set.
REPOSITORY_UPDATES = ("pull", "never")
DEFAULT_REPOSITORY_UPDATE = "pull"

#: The engine group an engine reports when ``IPYTHON_ENGINE_GROUP`` is not set: the engines of a
#: cluster's default group (``engines``), whose containers do not set it.
DEFAULT_ENGINE_GROUP = "default"

#: The Ingress body size limit of a viewer (ingress-nginx's ``proxy-body-size``): Jupyter uploads
#: files in 1 MiB chunks (about 1.4 MB as base64 in JSON) and saves a notebook in one request of
#: its whole size, so ingress-nginx's own default of 1m refuses both; 64m holds a notebook with
#: large outputs. The size syntax is nginx's: a number with k, m or g; 0 disables the check.
DEFAULT_INGRESS_BODY_SIZE = "64m"
