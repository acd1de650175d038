"""Fault tests: real containers of `local up` are crashed, killed and restarted, and nothing is lost.

The controller crashes (engines and a notebook's Client() come back), an engine dies during a
load-balanced map (it fails with an ipyparallel error or, with retries, completes; never hangs),
the viewer restarts (saved notebooks survive on the workspace volume) and a repository cannot
be cloned (the viewer starts anyway and says so in one line, or refuses to, when required).
"""
