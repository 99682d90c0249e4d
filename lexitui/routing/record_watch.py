"""The record of one routed request, for the caller that sent it.

``RoutingService.records`` tells of every request the service finishes (the gateway's, the
chat's, a benchmark's). A caller that wants its own request's record (what it cost, why it went
where it did) picks an id, sends with it, and reads ``record`` once the stream has ended.
"""

from __future__ import annotations

import uuid
from types import TracebackType

from reactivex import Observable

from lexitui.domain.routing import RoutedRequestRecord


class RecordWatch:
    def __init__(self, records: Observable[RoutedRequestRecord]) -> None:
        self.request_id = uuid.uuid4().hex
        self.record: RoutedRequestRecord | None = None
        self._subscription = records.subscribe(self._seen)

    def _seen(self, record: RoutedRequestRecord) -> None:
        if record.request_id == self.request_id:
            self.record = record

    def close(self) -> None:
        self._subscription.dispose()

    def __enter__(self) -> RecordWatch:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
