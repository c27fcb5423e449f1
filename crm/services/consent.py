"""The exact consent disclosures shown on the forms; a changed text gets a new version."""

from dataclasses import dataclass

from crm.models.enums import ConsentChannel


@dataclass(frozen=True)
class Disclosure:
    channel: ConsentChannel
    version: str
    text: str


DISCLOSURES: dict[ConsentChannel, Disclosure] = {
    ConsentChannel.calls_texts: Disclosure(
        ConsentChannel.calls_texts,
        "calls-2026-11-01",
        "I agree that a patient advocate may call me and send me text messages at the phone "
        "number I gave, including by automated means, about mesothelioma treatment, financial "
        "assistance and VA benefits. You do not need to agree to get our free guide or a "
        "specialist match; we need it only to call you back. Message and data rates may apply. "
        "Reply STOP to stop texts.",
    ),
    ConsentChannel.email: Disclosure(
        ConsentChannel.email,
        "email-2026-11-01",
        "I agree to receive emails with information about mesothelioma treatment, financial "
        "assistance and VA benefits. I can unsubscribe at any time with the link in every email.",
    ),
}


def disclosure(channel: ConsentChannel) -> Disclosure:
    return DISCLOSURES[channel]
