"""`python -m runner.service`: the workspace service in this process."""
import sys

from runner.service.serve import main

sys.exit(main())
