"""`python -m omnihub.feedback < in.jsonl > out.jsonl`: same as omnihub.feedback.cli."""

from omnihub.feedback.cli import main

raise SystemExit(main())
