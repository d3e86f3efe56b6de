"""`python -m minikeras ...` is the `minikeras` command."""
import sys

from .compat.runner import main

sys.exit(main())
