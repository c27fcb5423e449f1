"""The call queue: what is due, who may call it now, and Next call's atomic claim."""

from crm.services.queue.claims import Claim, claim_next_call, held_claim, next_callable_at
from crm.services.queue.overview import QueueOverview, queue_overview

__all__ = [
    "Claim",
    "QueueOverview",
    "claim_next_call",
    "held_claim",
    "next_callable_at",
    "queue_overview",
]
