"""Marketing attribution columns shared by contacts (first touch) and submissions (last touch)."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

ATTRIBUTION_FIELDS = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "gclid",
    "landing_page",
    "referrer",
)


class AttributionMixin:
    utm_source: Mapped[str | None] = mapped_column(sa.String(200))
    utm_medium: Mapped[str | None] = mapped_column(sa.String(200))
    utm_campaign: Mapped[str | None] = mapped_column(sa.String(200))
    utm_term: Mapped[str | None] = mapped_column(sa.String(200))
    utm_content: Mapped[str | None] = mapped_column(sa.String(200))
    gclid: Mapped[str | None] = mapped_column(sa.String(200))
    landing_page: Mapped[str | None] = mapped_column(sa.String(1000))
    referrer: Mapped[str | None] = mapped_column(sa.String(1000))

    def attribution(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in ATTRIBUTION_FIELDS}
