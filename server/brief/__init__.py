"""`windvane brief`: every indicator tool and the assessment, read as a market commentary in five sections.

gather.py runs the tools for one point in time; markets.py (sections 1 and 3), evidence.py, liquidity.py and
outlook.py turn their typed outputs into labelled rows (document.py); compose.py adds the sources and the grouped
warnings; plain.py and rich_view.py print it.
"""
