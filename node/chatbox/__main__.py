"""``python -m chatbox`` runs the command line."""

from chatbox.cli import main

raise SystemExit(main())
