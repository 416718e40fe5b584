"""Which of a tenant's gateways takes the next message: by weight, away from failing ones.

A gateway that answers slowly still takes messages, but a tenth of its share for a
cool-down, so traffic moves to the others while a lone gateway keeps working. A gateway
that fails (network, 5xx, a temporary code) rests for a cool-down that doubles with each
failure in a row; when it ends, one send tries it
(half-open) and its outcome decides whether it is back. A configuration failure (wrong key,
no balance) rests it much longer, since only a person can fix it.

Health lives in the plugin instance, which the core keeps one of per process, keyed by
account (api_base and a hash of the key) so that tenants sharing an account share what is
known of it. Worker processes do not share health: each finds a dead gateway out by itself,
at the cost of one failed attempt each.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from motcua.notices.channel import FailureKind

from .settings import ProviderSettings

SLOW_SHARE = 0.1  # of its weight, while a gateway counts as slow


@dataclass
class Health:
    failures: int = 0  # in a row
    resting_until: float = 0.0  # clock time the cool-down ends
    misconfigured: bool = False  # the last failure was the settings' fault
    on_trial: bool = False  # a send is trying it after its cool-down
    slow_until: float = 0.0  # clock time it stops counting as slow


class Router:
    def __init__(
        self,
        *,
        cooldown: float,
        max_cooldown: float,
        configuration_cooldown: float,
        clock: Callable[[], float],
        rng: random.Random,
    ) -> None:
        self._cooldown = cooldown
        self._max_cooldown = max_cooldown
        self._configuration_cooldown = configuration_cooldown
        self._clock = clock
        self._rng = rng
        self._health: dict[str, Health] = {}

    def health(self, provider: ProviderSettings) -> Health:
        return self._health.setdefault(provider.health_key, Health())

    def available(self, provider: ProviderSettings) -> bool:
        health = self.health(provider)
        return health.resting_until <= self._clock() and not health.on_trial

    def order(self, providers: Sequence[ProviderSettings]) -> list[ProviderSettings]:
        """The gateways to try in turn: a weighted draw among the available ones, then the
        available standbys (weight 0) in the order the settings list them."""
        pool = [p for p in providers if p.weight > 0 and self.available(p)]
        drawn: list[ProviderSettings] = []
        while pool:
            point = self._rng.random() * sum(self._weight(p) for p in pool)
            for index, provider in enumerate(pool):
                point -= self._weight(provider)
                if point < 0 or index == len(pool) - 1:
                    drawn.append(pool.pop(index))
                    break
        return drawn + [p for p in providers if p.weight == 0 and self.available(p)]

    def _weight(self, provider: ProviderSettings) -> float:
        slow = self.health(provider).slow_until > self._clock()
        return provider.weight * (SLOW_SHARE if slow else 1.0)

    def claim(self, provider: ProviderSettings) -> bool:
        """Whether a send may try the gateway now; takes the single trial of one coming back."""
        if not self.available(provider):
            return False  # a concurrent send took the trial since the order was drawn
        health = self.health(provider)
        health.on_trial = health.failures > 0
        return True

    def answered(self, provider: ProviderSettings, *, slow: bool) -> None:
        """The gateway answered for itself: it took the message or refused the number."""
        self._health[provider.health_key] = Health(
            slow_until=self._clock() + self._cooldown if slow else 0.0
        )

    def failed(self, provider: ProviderSettings, kind: FailureKind) -> None:
        health = self.health(provider)
        health.failures += 1
        health.on_trial = False
        health.misconfigured = kind is FailureKind.CONFIGURATION
        if health.misconfigured:
            rest = self._configuration_cooldown
        else:
            doublings = min(health.failures - 1, 30)  # far past any ceiling, and no overflow
            rest = min(self._cooldown * 2**doublings, self._max_cooldown)
        health.resting_until = self._clock() + rest

    def abandoned(self, provider: ProviderSettings) -> None:
        """The send was cancelled before an answer: the gateway is neither better nor worse."""
        self.health(provider).on_trial = False
