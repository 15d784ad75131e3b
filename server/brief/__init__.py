"""`windvane brief`: every indicator tool and the assessment, read as a market commentary in five sections.

gather.py runs the tools for one point in time, sections.py turns their typed outputs into labelled rows
(document.py), compose.py adds the sources and the grouped warnings, and plain.py / rich_view.py print it.
"""
