"""The brief as data: titled sections of labelled rows, the sources and the grouped warnings. Renderers print it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Row:
    label: str
    value: str  # the figure with its unit, or "n/a (reason)"
    when: str = ""  # the date (or dates) the figure describes
    note: str = ""  # its source, or how to read it


@dataclass(frozen=True)
class Section:
    title: str
    rows: list[Row]


@dataclass(frozen=True)
class WarningGroup:
    heading: str
    messages: list[str]


@dataclass(frozen=True)
class BriefDoc:
    title: str
    headline: str  # the verdict in one line
    sections: list[Section]
    sources: list[str] = field(default_factory=list)
    warnings: list[WarningGroup] = field(default_factory=list)
