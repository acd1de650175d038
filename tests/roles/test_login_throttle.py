"""The login throttle's arithmetic (login_throttle), on a clock the test moves: the real-server
flood and backoff tests are in test_login.py."""

from __future__ import annotations

import pytest

from ipython_roles.login_throttle import (
    FIRST_LOCK_SECONDS,
    FREE_FAILURES,
    MAX_LOCK_SECONDS,
    LoginThrottle,
    client_address,
    client_key,
    lock_seconds,
    proxy_network,
    retry_after_header,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail(throttle: LoginThrottle, key: str) -> float:
    assert throttle.begin(key) == 0, "the attempt should have been allowed"
    return throttle.end(key, success=False)


def test_five_failures_are_free_then_each_doubles_the_lock_up_to_15_minutes():
    assert (FREE_FAILURES, FIRST_LOCK_SECONDS, MAX_LOCK_SECONDS) == (5, 1.0, 900.0)
    assert [lock_seconds(n) for n in range(1, 17)] == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
    assert lock_seconds(10_000) == 900  # no float overflow


def test_a_locked_address_waits_even_with_the_right_password_and_then_may_try_again():
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(4):
        assert fail(throttle, "198.51.100.7") == 0
    assert fail(throttle, "198.51.100.7") == 1.0
    assert throttle.begin("198.51.100.7") == pytest.approx(1.0)  # whatever the password
    assert throttle.begin("198.51.100.8") == 0  # another address is not affected
    clock.now += 1.0
    assert fail(throttle, "198.51.100.7") == 2.0
    clock.now += 0.5
    assert throttle.begin("198.51.100.7") == pytest.approx(1.5)
    assert retry_after_header(1.5) == "2" and retry_after_header(0.01) == "1"


def test_success_forgets_the_address():
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(4):
        fail(throttle, "a")
    assert throttle.begin("a") == 0
    assert throttle.end("a", success=True) == 0
    assert throttle.failures("a") == 0 and len(throttle) == 0
    for _ in range(4):
        assert fail(throttle, "a") == 0  # four free failures again


def test_an_hour_without_failure_starts_over_but_waiting_out_a_lock_does_not():
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(15):
        clock.now += lock_seconds(throttle.failures("a"))
        fail(throttle, "a")
    assert throttle.retry_after("a") == 900
    clock.now += 900
    assert fail(throttle, "a") == 900  # the count survived the lock
    clock.now += 3600
    assert throttle.failures("a") == 0
    assert fail(throttle, "a") == 0


def test_parallel_attempts_cannot_get_more_checks_than_failures_left():
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    assert [throttle.begin("a") for _ in range(7)] == [0, 0, 0, 0, 0, 1.0, 1.0]
    locks = [throttle.end("a", success=False) for _ in range(5)]
    assert locks == [0, 0, 0, 0, 1.0]
    clock.now += 1
    assert throttle.begin("a") == 0
    assert throttle.begin("a") == 1.0  # after a lock: one check at a time
    throttle.cancel("a")
    assert throttle.begin("a") == 0


def test_the_table_is_bounded_forgotten_and_least_recently_failing_first():
    clock = Clock()
    throttle = LoginThrottle(clock=clock, max_addresses=3)
    for key in ("old", "b", "c"):
        fail(throttle, key)
        clock.now += 1
    fail(throttle, "old")  # "old" failed most recently now
    fail(throttle, "d")
    assert len(throttle) == 3
    assert throttle.failures("b") == 0 and throttle.failures("old") == 2


def test_forget_after_must_exceed_the_longest_lock():
    with pytest.raises(ValueError):
        LoginThrottle(max_lock=600, forget_after=600)


@pytest.mark.parametrize(
    "address, key",
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("not-an-ip", "not-an-ip"),
    ],
)
def test_client_keys(address, key):
    assert client_key(address) == key


# -- the client address behind trusted proxies (IPYTHON_TRUSTED_PROXIES) -------------------------

def networks(*texts: str):
    return tuple(proxy_network(text) for text in texts)


PODS = networks("10.0.0.0/8", "fd00::/8")


@pytest.mark.parametrize(
    "peer, forwarded_for, real_ip, trusted, address",
    [
        # no trusted proxies (the default): the TCP peer, whatever the headers say
        ("10.1.2.3", "203.0.113.7", "203.0.113.8", (), "10.1.2.3"),
        # a peer that is not a trusted proxy: its headers change nothing
        ("192.0.2.50", "203.0.113.7", "203.0.113.8", PODS, "192.0.2.50"),
        ("192.0.2.50", None, "203.0.113.8", PODS, "192.0.2.50"),
        # a trusted proxy: the client it forwards
        ("10.1.2.3", "203.0.113.7", None, PODS, "203.0.113.7"),
        # ... the rightmost entry: what the proxy itself saw, not what the client wrote before it
        ("10.1.2.3", "198.51.100.9, 203.0.113.7", None, PODS, "203.0.113.7"),
        ("10.1.2.3", "198.51.100.9,203.0.113.7", None, PODS, "203.0.113.7"),
        # ... through a chain of trusted proxies: the rightmost that is not one of them
        ("10.1.2.3", "198.51.100.9, 203.0.113.7, 10.9.9.9, 10.8.8.8", None, PODS, "203.0.113.7"),
        # ... every entry a trusted address: the client is one of them, the leftmost
        ("10.1.2.3", "10.4.4.4, 10.9.9.9", None, PODS, "10.4.4.4"),
        # ... X-Real-IP only without X-Forwarded-For
        ("10.1.2.3", None, "203.0.113.8", PODS, "203.0.113.8"),
        ("10.1.2.3", "203.0.113.7", "203.0.113.8", PODS, "203.0.113.7"),
        ("10.1.2.3", "", "203.0.113.8", PODS, "203.0.113.8"),
        # ... no header at all: the proxy's own request
        ("10.1.2.3", None, None, PODS, "10.1.2.3"),
        # ... an entry that is not an address: the peer (a proxy that forwards such a thing
        # forwards what the client wrote, and a key the client picks would escape the throttle)
        ("10.1.2.3", "198.51.100.9, unknown", None, PODS, "10.1.2.3"),
        ("10.1.2.3", "198.51.100.9, ", None, PODS, "10.1.2.3"),
        ("10.1.2.3", None, "_hidden", PODS, "10.1.2.3"),
        # ... ports some proxies add, and IPv6
        ("10.1.2.3", "203.0.113.7:51234", None, PODS, "203.0.113.7"),
        ("10.1.2.3", "[2001:db8::7]:443", None, PODS, "2001:db8::7"),
        ("fd00::5", "2001:db8::7", None, PODS, "2001:db8::7"),
        ("::ffff:10.1.2.3", "203.0.113.7", None, PODS, "203.0.113.7"),  # an IPv4 peer on a dual-stack socket
        ("10.1.2.3", "::ffff:203.0.113.7", None, PODS, "203.0.113.7"),
        # a single trusted address
        ("127.0.0.1", "203.0.113.7", None, networks("127.0.0.1"), "203.0.113.7"),
        ("127.0.0.2", "203.0.113.7", None, networks("127.0.0.1"), "127.0.0.2"),
        # a Unix socket's peer (no IP address) is never a trusted proxy
        ("", "203.0.113.7", None, PODS, ""),
    ],
)
def test_client_address(peer, forwarded_for, real_ip, trusted, address):
    assert client_address(peer, forwarded_for, real_ip, trusted) == address


def test_a_forged_chain_longer_than_the_hops_read_gives_no_other_key():
    """The entries are read from the right, at most MAX_FORWARDED_HOPS: a long header costs no more."""
    from ipython_roles.login_throttle import MAX_FORWARDED_HOPS

    chain = ", ".join(["10.0.0.1"] * 100_000 + ["203.0.113.7"])
    assert client_address("10.1.2.3", chain, None, PODS) == "203.0.113.7"
    trusted_only = ", ".join(["198.51.100.9"] + ["10.0.0.1"] * MAX_FORWARDED_HOPS)
    assert client_address("10.1.2.3", trusted_only, None, PODS) == "10.0.0.1"


@pytest.mark.parametrize("text, network", [
    ("10.0.0.0/8", "10.0.0.0/8"), ("192.0.2.7", "192.0.2.7/32"), ("fd00::/8", "fd00::/8"),
    ("2001:db8::1", "2001:db8::1/128"), ("127.0.0.0/8", "127.0.0.0/8"),
])
def test_proxy_networks(text, network):
    assert str(proxy_network(text)) == network


@pytest.mark.parametrize("text", ["10.0.0.1/8", "10.0.0.0/33", "ingress-nginx", "", " 10.0.0.0/8",
                                  "0.0.0.0/0", "::/0", "10.0.0.0/8,fd00::/8"])
def test_proxy_networks_refused(text):
    with pytest.raises(ValueError):
        proxy_network(text)
