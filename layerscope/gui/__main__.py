"""`python -m layerscope.gui [FILE...]`: the same as `layerscope open [FILE...]`."""

import sys

from layerscope.cli import open_main

sys.exit(open_main())
