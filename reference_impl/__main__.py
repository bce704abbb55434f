"""``python -m reference_impl serve --workers N --bind 127.0.0.1:PORT``."""

from reference_impl.serve import main

raise SystemExit(main())
