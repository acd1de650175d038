"""The login throttle's arithmetic (login_throttle), on a clock the test moves: the real-server
flood and backoff tests are in test_login.py."""

from __future__ import annotations

import pytest

from ipython_roles.login_throttle import (
    FIRST_LOCK_SECONDS,
    FREE_FAILURES,
    MAX_LOCK_SECONDS,
    LoginThrottle,
    client_key,
    lock_seconds,
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
