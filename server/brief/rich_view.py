"""The brief for a terminal, rendered with rich: one table per section, the verdict in a panel.

rich is imported only here, and only when stdout is a terminal (server/commands/brief.py decides)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from server.brief.document import BriefDoc

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table


def print_rich(doc: BriefDoc, console: Console | None = None) -> None:
    from rich import box
    from rich.console import Console
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    console = console or Console()
    console.print(Panel(Text(doc.headline, style="bold"), title=Text(doc.title), title_align="left", expand=False))
    for section in doc.sections:
        table = Table(title=section.title, title_justify="left", title_style="bold cyan", box=box.SIMPLE_HEAD,
                      expand=True, show_edge=False, pad_edge=False)  # fmt: skip
        table.add_column("Figure", style="bold", ratio=3, overflow="fold")
        table.add_column("Value", ratio=5, overflow="fold")
        table.add_column("Date", style="dim", ratio=2, overflow="fold")
        table.add_column("Source / note", style="dim", ratio=2, overflow="fold")
        for row in section.rows:
            missing = row.value.startswith("n/a (")
            table.add_row(
                Text(row.label), Text(row.value, style="yellow" if missing else ""), Text(row.when), Text(row.note)
            )
        console.print(table)
    console.print(Text("Sources", style="bold"))
    console.print(_bullets(doc.sources, indent=2))
    if doc.warnings:
        console.print(Text("\nWarnings", style="bold"))
        for group in doc.warnings:
            console.print(Text(f"  {group.heading}", style="bold yellow"))
            console.print(_bullets(group.messages, indent=4))


def _bullets(items: list[str], indent: int) -> Table:
    """A bulleted list whose wrapped lines keep their indent (a grid: bullet column, text column)."""
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid()
    grid.add_column(width=indent + 2, no_wrap=True)
    grid.add_column(overflow="fold")
    for item in items:
        grid.add_row(" " * indent + "- ", Text(item))
    return grid
