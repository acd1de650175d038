"""The cdktf app of this repository: ``viewer-stack`` and ``cluster-stack`` (run by infra/main.py)."""
