"""Who did something: a staff member, the system (a task or a rule), or a visitor's own submit."""

from dataclasses import dataclass

from crm.models.enums import ActorKind


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    user_id: int | None = None

    @classmethod
    def user(cls, user_id: int) -> "Actor":
        return cls(ActorKind.user, user_id)

    @classmethod
    def system(cls) -> "Actor":
        return cls(ActorKind.system)

    @classmethod
    def visitor(cls) -> "Actor":
        return cls(ActorKind.visitor)


SYSTEM = Actor.system()
VISITOR = Actor.visitor()
