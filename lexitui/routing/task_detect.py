"""What kind of task a chat request is, read from what it asks, so per-task strategies apply.

A request that names no task arrives as ``chat`` (the OpenAI API has no task field), and every
``[routing.tasks]`` entry but ``chat`` would then never be used. The last user message is read
for the usual ways of asking: "Summarise …" / "Summarize …", "TL;DR", "Translate … into French",
"Write a Python function …", "Analyse …" / "Analyze …", "Write a poem …". The earliest phrase
in the message wins (then the shortest), so "Summarise this code" is a summary, not code.
A request that already names another task keeps it.
"""

from __future__ import annotations

import re
from dataclasses import replace

from lexitui.domain.language_model import LanguageModelRequest, TaskType

_CODE_NOUNS = (
    r"code|function|class|method|script|program|module|regex|regular expression|sql query|"
    r"query|unit tests?|tests? for|api|endpoint|cli|snippet|algorithm|implementation|"
    r"python|javascript|typescript|rust|golang|java|kotlin|swift|c\+\+|c#|bash|shell|html|css"
)
_CREATIVE_NOUNS = (
    r"poem|poetry|haiku|limerick|sonnet|story|short story|tale|fable|song|lyrics|novel|"
    r"screenplay|script for a (?:play|film|movie)|fiction|rap|ode|joke|bedtime story"
)
_LANGUAGES = (
    r"english|french|german|spanish|italian|portuguese|dutch|russian|chinese|mandarin|japanese|"
    r"korean|arabic|hindi|turkish|polish|swedish|norwegian|danish|finnish|greek|hebrew|"
    r"ukrainian|czech|vietnamese|thai|indonesian|latin"
)

# (task, pattern); every pattern is searched case-insensitively in the last user message.
_PATTERNS: tuple[tuple[TaskType, re.Pattern[str]], ...] = tuple(
    (task, re.compile(pattern, re.IGNORECASE))
    for task, pattern in (
        (
            TaskType.SUMMARIZATION,
            r"\bsummari[sz](?:e|es|ed|ing|ation)\b|\bsummary\b|\btl;?\s?dr\b"
            r"|\bsum (?:it |this |that )?up\b|\brecap\b|\bcondense\b|\bboil (?:it|this|that) down\b"
            r"|\bkey (?:points|takeaways)\b|\bgist of\b"
            r"|\bin (?:a nutshell|brief|one sentence|a few sentences)\b",
        ),
        (
            TaskType.TRANSLATION,
            r"\btranslat(?:e|es|ed|ing|ion)\b|\bhow do (?:you|i) say\b"
            rf"|\b(?:in|into|to) (?:{_LANGUAGES})\s*[:?.]?\s*$",
        ),
        (
            TaskType.CREATIVE_WRITING,
            r"\b(?:write|compose|create|make up|tell|draft)\b"
            rf"[^.?!\n]{{0,40}}?\b(?:{_CREATIVE_NOUNS})\b",
        ),
        (
            TaskType.CODE_GENERATION,
            r"```|\b(?:write|implement|generate|create|code|build|fix|refactor|debug|port)\b"
            rf"[^.?!\n]{{0,40}}?\b(?:{_CODE_NOUNS})(?!\w)",
        ),
        (
            TaskType.ANALYSIS,
            r"\banaly[sz](?:e|es|ed|ing|is)\b|\banalyses\b|\bcompare\b|\bcomparison\b"
            r"|\bevaluate\b|\bassess\b|\bcritique\b|\bpros and cons\b|\bstrengths and weaknesses\b",
        ),
    )
)


def detect_task(text: str) -> TaskType | None:
    """The task ``text`` asks for, or None when it reads as plain chat."""
    found: list[tuple[int, int, int, TaskType]] = []
    for order, (task, pattern) in enumerate(_PATTERNS):
        match = pattern.search(text)
        if match:
            found.append((match.start(), match.end() - match.start(), order, task))
    return min(found)[3] if found else None


def with_detected_task(request: LanguageModelRequest) -> LanguageModelRequest:
    """``request`` with its task read from its text when it says only ``chat``."""
    if request.task is not TaskType.CHAT:
        return request
    text = _last_user_text(request)
    task = detect_task(text) if text else None
    return request if task is None else replace(request, task=task)


def _last_user_text(request: LanguageModelRequest) -> str:
    for message in reversed(request.messages):
        if message.role == "user":
            return message.content
    return request.prompt or ""
