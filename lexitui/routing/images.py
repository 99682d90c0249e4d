"""Requests that carry images are refused, in words, before any provider is asked.

No model lexitui runs loads a multimodal projector yet, and the cloud adapters send text only:
answering such a request would mean answering without the images, as if they had been seen.
"""

from __future__ import annotations

from lexitui.domain.inference import InvalidRequest
from lexitui.domain.language_model import LanguageModelRequest

IMAGES_REFUSED = (
    "this request carries images, which no model here can read: lexitui loads no multimodal "
    "projector (mmproj) and sends cloud providers text only; send the request without images"
)


def refuse_images(request: LanguageModelRequest) -> None:
    if any(message.images for message in request.messages):
        raise InvalidRequest(IMAGES_REFUSED)
