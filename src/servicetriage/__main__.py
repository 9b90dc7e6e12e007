"""``python -m servicetriage`` runs the command line."""

from servicetriage.cli import main

raise SystemExit(main())
