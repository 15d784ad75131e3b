"""`python -m server` still works; `python -m windvane` is the documented form. Both run the launcher's checks."""

from windvane import main

raise SystemExit(main())
