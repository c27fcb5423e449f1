"""Who owns a contact's follow-up: managers assign anyone; advocates take what nobody has."""

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Contact, User
from crm.models.enums import Role, TimelineKind
from crm.services import events
from crm.services.actors import Actor

_TAKES_CALLS = (Role.advocate, Role.manager)


class AssignmentRefused(ValueError):
    """Not this user's to assign, someone nobody may assign to, or nothing would change."""


def assign(contact_id: int, assignee_id: int | None, by_user_id: int, by_role: Role) -> int | None:
    """Give the contact to `assignee_id` (None: nobody); return who had it. Caller commits."""
    contact = db.session.scalar(
        sa.select(Contact).where(Contact.id == contact_id).with_for_update()
    )
    if contact is None or contact.merged_into_id is not None:
        raise AssignmentRefused("No such contact.")
    before = contact.assigned_user_id
    if by_role != Role.manager:
        # An advocate picks up work nobody has; handing work over is a manager's call.
        if assignee_id != by_user_id:
            raise AssignmentRefused("Only a manager can assign a contact to someone else.")
        if before is not None and before != by_user_id:
            raise AssignmentRefused("Someone else has this contact; ask a manager to reassign it.")
    if assignee_id == before:
        raise AssignmentRefused("Nothing changed: the contact is assigned that way already.")
    if assignee_id is not None:
        assignee = db.session.get(User, assignee_id)
        if assignee is None or not assignee.active or assignee.role not in _TAKES_CALLS:
            raise AssignmentRefused("Choose an active advocate or manager.")
    contact.assigned_user_id = assignee_id
    db.session.flush()
    events.record(
        contact.id,
        TimelineKind.assigned,
        Actor.user(by_user_id),
        detail={"from_user_id": before, "to_user_id": assignee_id},
    )
    return before
