"""The viewer's login throttle: failed logins per client address, then exponential backoff.

An address may get the password wrong ``FREE_FAILURES`` (5) times in a row; the 5th failure
locks it for ``FIRST_LOCK_SECONDS`` (1 s), and every further failure for twice as long as the
one before (2, 4, 8 s ...), up to ``MAX_LOCK_SECONDS`` (15 min, reached at the 15th failure).
While an address is locked its login attempts are answered 429 with ``Retry-After`` and the
password is not even checked, so the right password is refused too. A success forgets the
address; so does an hour without a failure (``FORGET_AFTER_SECONDS``, longer than the longest
lock, so waiting out a lock does not start the count over). Checks running at the same time
count against what is left before the next lock (5 for a fresh address, 1 after a lock), so
parallel requests cannot slip more guesses past the count: the ones over it get 429 with
``Retry-After: 1``.

What that allows: about 14 guesses in the first 15 minutes, then 4 an hour (96 a day) per
address. The backoff is per address, so many addresses guess more; what bounds them all
together is the password check itself (see identity: one check at a time, a bounded queue).

The key of an address: an IPv4 address as it is; an IPv6 address by its /64 network (what one
subscriber usually gets, so not 2^64 fresh addresses); an IPv4-mapped IPv6 address as IPv4.

The client address (:func:`client_address`) is the TCP peer, unless the peer is one of the
trusted proxies (IPYTHON_TRUSTED_PROXIES, see settings): then it is the rightmost
``X-Forwarded-For`` entry that is not itself a trusted proxy (each proxy appends the address it
saw, so everything to the left of that entry may be the client's own invention), else
``X-Real-IP`` when there is no ``X-Forwarded-For``, else the peer. A peer that is not trusted
cannot change its address with either header. The rules of Rails' trusted proxies and uvicorn's
``forwarded_allow_ips``; tornado's ``trust_xheaders`` is not used, since it believes any peer.

The state is in memory, per server process: a restart forgets it. It is bounded to
``MAX_ADDRESSES`` (10,000) records of about 200 bytes; when full, forgotten records go first,
then the least recently failing address. (An attacker with that many addresses can push an
address out; per-address throttling does not stop such an attacker anyway.)
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

FREE_FAILURES = 5
FIRST_LOCK_SECONDS = 1.0
MAX_LOCK_SECONDS = 15 * 60.0
FORGET_AFTER_SECONDS = 60 * 60.0
MAX_ADDRESSES = 10_000
#: Retry-After for an attempt refused because the address already has a check running.
BUSY_RETRY_SECONDS = 1.0


def client_key(address: str) -> str:
    """The throttle key of a client address (see the module docstring)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # not an IP address (a Unix socket's peer): throttled as it is
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: X-Forwarded-For entries read from the right, at most: a long header costs no more.
MAX_FORWARDED_HOPS = 16


def proxy_network(text: str) -> IPNetwork:
    """A trusted proxy: an IP address (a /32 or /128) or a network in CIDR notation, without host
    bits after the prefix, and not every address (/0). ValueError otherwise."""
    network = ipaddress.ip_network(text, strict=True)  # also refuses surrounding blanks
    if network.prefixlen == 0:
        raise ValueError(f"{text}: trusting every address lets every client pick its address")
    return network


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address of a header entry or peer (IPv4-mapped IPv6 as IPv4, a port some proxies add
    dropped: ``203.0.113.7:51234``, ``[2001:db8::7]:443``); None when it is not one."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1:text.index("]")]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _trusted(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, trusted: Sequence[IPNetwork]) -> bool:
    return any(ip in network for network in trusted)  # an address and a network of the other family: False


def client_address(peer: str, forwarded_for: str | None, real_ip: str | None,
                   trusted: Sequence[IPNetwork]) -> str:
    """The client's address: ``peer`` (the TCP peer) unless it is a trusted proxy (see the module
    docstring). ``forwarded_for`` is the X-Forwarded-For header, its lines joined by commas (as
    tornado joins them), ``real_ip`` X-Real-IP; None when absent."""
    peer_ip = _ip(peer) if trusted else None
    if peer_ip is None or not _trusted(peer_ip, trusted):
        return peer
    if forwarded_for and forwarded_for.strip():
        entries = forwarded_for.rsplit(",", MAX_FORWARDED_HOPS)[-MAX_FORWARDED_HOPS:]
        for entry in reversed(entries):
            ip = _ip(entry)
            if ip is None:
                # what a proxy wrote is an address: this is the client's invention, which a
                # trusted proxy forwarded without appending what it saw. The peer, then: a key
                # the client picks would escape the throttle
                return peer
            if not _trusted(ip, trusted):
                return str(ip)
        # every entry is a trusted address: the client is one of them, the leftmost read
        return str(_ip(entries[0]))
    if real_ip and real_ip.strip():
        ip = _ip(real_ip)
        return peer if ip is None else str(ip)
    return peer


def lock_seconds(failures: int, *, free: int = FREE_FAILURES, first: float = FIRST_LOCK_SECONDS,
                 cap: float = MAX_LOCK_SECONDS) -> float:
    """How long ``failures`` failures in a row lock an address (0: not locked)."""
    if failures < free:
        return 0.0
    # min() before the power would overflow a float after ~1000 failures
    return min(cap, first * 2.0 ** min(failures - free, 64))


@dataclass
class _Record:
    failures: int = 0
    last_failure: float = 0.0
    locked_until: float = 0.0
    checking: int = 0  # password checks of this address running now


class LoginThrottle:
    """Failed-login bookkeeping; ``clock`` is injectable for tests of the arithmetic."""

    def __init__(
        self,
        *,
        free_failures: int = FREE_FAILURES,
        first_lock: float = FIRST_LOCK_SECONDS,
        max_lock: float = MAX_LOCK_SECONDS,
        forget_after: float = FORGET_AFTER_SECONDS,
        max_addresses: int = MAX_ADDRESSES,
        clock: Callable[[], float] = time.monotonic,
    ):
        if forget_after <= max_lock:
            raise ValueError("forget_after must exceed max_lock, or waiting out a lock resets the count")
        self.free_failures = free_failures
        self.first_lock = first_lock
        self.max_lock = max_lock
        self.forget_after = forget_after
        self.max_addresses = max_addresses
        self.clock = clock
        # least recently failing first; every failure moves its record to the end
        self._records: OrderedDict[str, _Record] = OrderedDict()

    def __len__(self) -> int:
        return len(self._records)

    def _forgotten(self, record: _Record, now: float) -> bool:
        return not record.checking and now >= record.locked_until and now - record.last_failure >= self.forget_after

    def _record(self, key: str) -> _Record | None:
        record = self._records.get(key)
        if record is not None and self._forgotten(record, self.clock()):
            del self._records[key]
            return None
        return record

    def begin(self, key: str) -> float:
        """Start a login attempt: 0 when the password may be checked now (then call ``end`` or
        ``cancel``), else the seconds to wait (locked, or as many checks of this address running
        as failures are left before its next lock)."""
        now = self.clock()
        record = self._record(key)
        if record is not None:
            if now < record.locked_until:
                return record.locked_until - now
            if record.checking >= max(1, self.free_failures - record.failures):
                return BUSY_RETRY_SECONDS
        else:
            record = self._insert(key, now)
        record.checking += 1
        return 0.0

    def end(self, key: str, *, success: bool) -> float:
        """Finish an attempt ``begin`` allowed; return the lock a failure starts (0: none)."""
        if success:
            self._records.pop(key, None)
            return 0.0
        now = self.clock()
        record = self._records.get(key) or self._insert(key, now)  # pushed out meanwhile
        record.checking = max(0, record.checking - 1)
        record.failures += 1
        record.last_failure = now
        lock = lock_seconds(record.failures, free=self.free_failures, first=self.first_lock, cap=self.max_lock)
        record.locked_until = now + lock
        self._records.move_to_end(key)
        return lock

    def cancel(self, key: str) -> None:
        """An attempt ``begin`` allowed ended without a verdict (the check could not run)."""
        record = self._records.get(key)
        if record is None:
            return
        record.checking = max(0, record.checking - 1)
        if record.failures == 0 and not record.checking:
            del self._records[key]

    def failures(self, key: str) -> int:
        record = self._record(key)
        return 0 if record is None else record.failures

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may try again (0: now), without starting an attempt."""
        record = self._record(key)
        return 0.0 if record is None else max(0.0, record.locked_until - self.clock())

    def _insert(self, key: str, now: float) -> _Record:
        while len(self._records) >= self.max_addresses:
            # forgotten records are at the front (least recently failing), then the least
            # recently failing address
            self._records.popitem(last=False)
        record = self._records[key] = _Record()
        return record


def retry_after_header(seconds: float) -> str:
    """A Retry-After value: whole seconds, rounded up, at least 1."""
    return str(max(1, math.ceil(seconds)))
