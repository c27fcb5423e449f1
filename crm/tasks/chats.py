"""Periodic upkeep of live chats, thin over crm.services.chat."""

from celery import shared_task

from crm.models import utcnow
from crm.services import chat


@shared_task(name="chats.mark_missed", ignore_result=True)
def mark_missed_chats() -> int:
    """End the chats nobody accepted in time (CHAT_MISSED_MINUTES)."""
    return chat.mark_missed(utcnow())
