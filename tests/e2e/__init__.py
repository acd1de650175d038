"""Tests of the local runner (``pipenv run local``): its evaluation of the synthesized stacks,
its CLI, and end to end on the container engine (Podman here): notebooks on engines, scaling,
linked viewers, a real browser, and ``down`` leaving nothing behind."""
