"""The brief as plain text, wrapped to 100 columns: for pipes, files and logs (no terminal codes)."""

from __future__ import annotations

import textwrap

from server.brief.document import BriefDoc, Row

WIDTH = 100
LABEL = 32  # label column, indent included


def _row(row: Row) -> str:
    where = "; ".join(part for part in (row.when, row.note) if part)
    text = f"{row.value}  [{where}]" if where else row.value
    head = f"  {row.label}".ljust(LABEL - 1) + " "
    if len(head) > LABEL:  # a label longer than its column gets a line of its own
        return f"  {row.label}\n" + textwrap.fill(
            text, WIDTH, initial_indent=" " * LABEL, subsequent_indent=" " * LABEL
        )
    return textwrap.fill(text, WIDTH, initial_indent=head, subsequent_indent=" " * LABEL)


def _bullets(items: list[str], indent: str = "  ") -> list[str]:
    return [textwrap.fill(item, WIDTH, initial_indent=f"{indent}- ", subsequent_indent=f"{indent}  ") for item in items]


def render_plain(doc: BriefDoc) -> str:
    lines = [doc.title, "=" * min(len(doc.title), WIDTH), "", textwrap.fill(f"Verdict: {doc.headline}", WIDTH), ""]
    for section in doc.sections:
        lines.append(section.title)
        lines += [_row(row) for row in section.rows] or ["  (nothing reported)"]
        lines.append("")
    lines.append("Sources")
    lines += _bullets(doc.sources)
    if doc.warnings:
        lines += ["", "Warnings"]
        for group in doc.warnings:
            lines.append(f"  {group.heading}")
            lines += _bullets(group.messages, indent="    ")
    return "\n".join(lines)
